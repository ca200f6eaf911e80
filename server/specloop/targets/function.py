"""The function kind: a stub whose body is its docstring or a ``# spec:`` comment block
(a method stub too), implemented by one job (``loop.implement``)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .. import loop
from ..results import JobResult
from ..settings import Settings
from ..source.candidate import parse_candidate
from ..source.edits import TextEdit, implementation_edits
from ..source.locate import def_line_in, find_def_line, find_function, has_def
from ..source.placement import StaleTarget
from ..source.spec import Target, find_target, find_targets
from .base import Placed, function_marks


class FunctionKind:
    name = "function"
    noun = "function"

    def find(self, source: str) -> list[Target]:
        return find_targets(source).targets

    def find_one(self, source: str, qualname: str) -> Target | None:
        return find_target(source, qualname)

    def title(self, target: Target) -> str:
        return f"Implement {target.qualname} from spec"

    def header_lines(self, target: Target) -> tuple[int, int] | None:
        if target.def_range is None:
            return None
        first = target.def_range.start.line
        return first, target.name_range.start.line if target.name_range else first

    def action_lines(self, target: Target, lines: list[str]) -> tuple[int, int] | None:
        """Its decorators, def, body, and a ``# spec:`` comment block right above it."""
        if target.def_range is None:
            return None
        first = target.def_range.start.line
        if target.comment_spec:
            while first > 0 and lines[first - 1].lstrip().startswith("#"):
                first -= 1
        return first, target.def_range.end.line

    async def implement(self, source: str, path: Path, target: Target, settings: Settings, *, workspace: Path,
                        emit=None, feedback=None) -> JobResult:
        fresh = find_target(source, target.qualname) or target     # results placed since move it
        return await loop.implement(source, path, fresh, settings, workspace=workspace, emit=emit,
                                    feedback=feedback)

    def edits(self, text: str, result: JobResult, *, anyway: bool = False) -> list[TextEdit]:
        """The body under the docstring replaced, the imports merged.  Stale when the stub is
        gone, is no longer a stub, or (unless ``anyway``) its header or spec changed."""
        target = find_target(text, result.name)
        if target is None:
            raise StaleTarget(f"{result.name} is gone or no longer a stub")
        if not anyway and target.fingerprint != result.fingerprint:
            raise StaleTarget(f"the spec of {result.name} changed while specloop worked")
        if result.function_code is None:
            raise StaleTarget(f"no code to apply for {result.name}")
        candidate = replace(parse_candidate(result.function_code, target), imports=list(result.imports))
        return implementation_edits(text, target, candidate)

    def place(self, text: str, result: JobResult, near: int = 0) -> Placed:
        line = def_line_in(text, result.name, near)
        if line is None:
            return Placed([result.name])
        return Placed([result.name], function_marks(result, text, line, result.name.rsplit(".", 1)[-1]), line)

    def line_of(self, text: str, qualname: str) -> int | None:
        """The def line (the name's line under decorators), also when the text does not parse."""
        target = find_target(text, qualname)
        if target is not None and target.name_range is not None:
            return target.name_range.start.line
        info = find_function(text, qualname)
        if info is not None:
            return info.def_line
        return find_def_line(text, qualname.rsplit(".", 1)[-1])

    def is_header(self, line_text: str, qualname: str) -> bool:
        return has_def(line_text, qualname.rsplit(".", 1)[-1])

    def recorded(self, result: JobResult) -> list[str]:
        return [result.name]


KIND = FunctionKind()
