"""The module kind: a ``# spec:`` block asking for several new functions, planned and
implemented component by component (``targets.components``), placed as the functions below
the block (the block marked done) with their imports in the file's import block."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..results import JobResult
from ..settings import Settings
from ..source.edits import TextEdit
from ..source.locate import find_function, module_result_finding_lines
from ..source.modulespec import (ModuleTarget, block_line, find_module_target, find_module_targets,
                                 is_block_start, is_module_name, module_edits, module_line_in)
from ..source.placement import StaleTarget
from .base import Mark, Placed, function_marks


class ModuleKind:
    name = "module"
    noun = "module spec"

    def find(self, source: str) -> list[ModuleTarget]:
        return find_module_targets(source)

    def find_one(self, source: str, qualname: str) -> ModuleTarget | None:
        return find_module_target(source, qualname) if is_module_name(qualname) else None

    def title(self, target: ModuleTarget) -> str:
        return "Implement module spec"

    def header_lines(self, target: ModuleTarget) -> tuple[int, int] | None:
        if target.def_range is None:
            return None
        return target.def_range.start.line, target.def_range.start.line

    def action_lines(self, target: ModuleTarget, lines: list[str]) -> tuple[int, int] | None:
        """The block."""
        if target.def_range is None:
            return None
        return target.def_range.start.line, target.def_range.end.line

    async def implement(self, source: str, path: Path, target: ModuleTarget, settings: Settings, *,
                        workspace: Path, emit=None, feedback=None) -> JobResult:
        from .components import implement_module

        fresh = find_module_target(source, fingerprint=target.fingerprint) or target
        return await implement_module(source, path, fresh, settings, workspace=workspace, emit=emit)

    def edits(self, text: str, result: JobResult, *, anyway: bool = False) -> list[TextEdit]:
        """The functions below the block (or below the module's header), the block marked
        done, the components' imports merged into the import block
        (``modulespec.module_edits``).  Stale when the block is gone, its spec changed
        (unless ``anyway``), or the module now defines one of the functions."""
        target = find_module_target(text, result.name, None if anyway else result.fingerprint)
        if target is None:
            raise StaleTarget(f"{result.name} is gone or its spec changed while specloop worked")
        if result.function_code is None:
            raise StaleTarget(f"no code to apply for {result.name}")
        taken = [n for n in getattr(result, "functions", []) if n in target.defined]
        if taken:
            raise StaleTarget(f"the module defines {', '.join(taken)} already")
        return module_edits(text, target, result.function_code, list(result.imports), done=True)

    def place(self, text: str, result: JobResult, near: int = 0) -> Placed:
        """Each function's test failures on it (as for any function); each finding where
        :func:`locate.module_result_finding_lines` puts it, under the function it belongs to;
        what belongs to no function (the block's own examples, a finding naming none) on the
        spec block's first line."""
        components = list(getattr(result, "components", []))
        placed = Placed([result.name, *(c.name for c in components)], line=block_line(text, result.fingerprint))
        owned = {id(f) for c in components for f in c.failures}
        for c in components:
            info = find_function(text, c.name)
            if info is not None:
                placed.marks += function_marks(c, text, info.def_line, c.name, findings=False)
        block = placed.line
        if block is not None:
            own = {"owner": result.name, "name": result.name, "anchor": block}
            placed.marks += [Mark(line=block, item=o, finding={"test": o.id}, **own)
                             for o in result.failures if id(o) not in owned]
        for finding, (line, owner) in zip(result.findings, module_result_finding_lines(result, text) or []):
            info = None if is_module_name(owner) else find_function(text, owner)
            anchor = module_line_in(text, owner) if is_module_name(owner) else info.def_line if info else None
            if anchor is None:
                continue
            placed.marks.append(Mark(owner=owner, name=owner.rsplit(".", 1)[-1], anchor=anchor, line=line,
                                     item=finding, finding=replace(finding, line=None).to_dict()))
        return placed

    def line_of(self, text: str, qualname: str) -> int | None:
        return module_line_in(text, qualname) if is_module_name(qualname) else None

    def is_header(self, line_text: str, qualname: str) -> bool:
        """A spec block's first line, done or not."""
        return is_module_name(qualname) and is_block_start(line_text)

    def recorded(self, result: JobResult) -> list[str]:
        return [c.name for c in getattr(result, "components", [])] or [result.name]


KIND = ModuleKind()
