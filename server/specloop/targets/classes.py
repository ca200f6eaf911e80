"""The class kind: a class whose body is its docstring (and method stubs), planned and
implemented component by component, judged as a class (``targets.components``), placed as
one edit holding the class body."""

from __future__ import annotations

import re
from pathlib import Path

from ..results import JobResult
from ..settings import Settings
from ..source.classspec import ClassTarget, find_class_target, find_class_targets
from ..source.edits import TextEdit, import_edit
from ..source.locate import class_finding_line, class_line_in, find_class
from ..source.placement import StaleTarget
from .base import Mark, Placed, function_marks


class ClassKind:
    name = "class"
    noun = "class"

    def find(self, source: str) -> list[ClassTarget]:
        return find_class_targets(source) if "class" in source else []

    def find_one(self, source: str, qualname: str) -> ClassTarget | None:
        return find_class_target(source, qualname)

    def title(self, target: ClassTarget) -> str:
        return f"Implement class {target.qualname} from spec"

    def header_lines(self, target: ClassTarget) -> tuple[int, int] | None:
        if target.def_range is None:
            return None
        first = target.def_range.start.line
        return first, first + target.header.count("\n")

    def action_lines(self, target: ClassTarget, lines: list[str]) -> tuple[int, int] | None:
        """Its header and docstring lines (a method stub keeps its own action)."""
        if target.def_range is None or target.body_range is None:
            return None
        return target.def_range.start.line, target.body_range.start.line

    async def implement(self, source: str, path: Path, target: ClassTarget, settings: Settings, *,
                        workspace: Path, emit=None, feedback=None) -> JobResult:
        from .components import implement_class     # the class job takes no feedback (see lsp/runner.fixable)

        fresh = find_class_target(source, target.qualname) or target
        return await implement_class(source, path, fresh, settings, workspace=workspace, emit=emit)

    def edits(self, text: str, result: JobResult, *, anyway: bool = False) -> list[TextEdit]:
        """The class body after its docstring replaced, the components' imports merged.  The
        same rules as for a function: still a class spec, and unless ``anyway`` its header,
        docstring and method stubs unchanged; its body indentation the result's."""
        target = find_class_target(text, result.name)
        if target is None:
            raise StaleTarget(f"{result.name} is gone or no longer a class spec")
        if not anyway and target.fingerprint != result.fingerprint:
            raise StaleTarget(f"the spec of {result.name} changed while specloop worked")
        body = getattr(result, "class_body", None)
        if body is None:
            raise StaleTarget(f"no code to apply for {result.name}")
        if target.body_indent != getattr(result, "body_indent", target.body_indent):
            raise StaleTarget(f"the indentation of {result.name} changed while specloop worked")
        body = body.replace("\r\n", "\n").replace("\r", "\n").replace("\n", target.newline)
        edits = [TextEdit(target.body_range, body)]
        extra = import_edit(text, list(result.imports))
        if extra is not None:
            edits.append(extra)
        return sorted(edits, key=lambda e: (e.range.start, e.range.end))

    def place(self, text: str, result: JobResult, near: int = 0) -> Placed:
        """What a component's own job found sits on that method, as for a function; a review
        finding on the line it names (the critic numbers the class from its ``class`` line),
        under the method holding that line, else on the class line; a failure of the class's
        own examples on the class name.  A finding placed on a method keeps its line counted
        from that method's ``def`` line (1), as a job on the method reads it ("Fix")."""
        lines = find_class(text, result.name)
        components = list(getattr(result, "components", []))
        owners = [result.name, *(c.name for c in components)]
        if lines is None:
            return Placed(owners)
        marks: list[Mark] = []
        seen: set[int] = set()
        for component in components:
            method = component.name.rsplit(".", 1)[-1]
            seen.update(id(x) for x in [*component.failures, *component.findings])
            if method in lines.methods:
                marks += function_marks(component, text, lines.methods[method][0], method)
        name = result.name.rsplit(".", 1)[-1]
        own = {"owner": result.name, "name": name, "anchor": lines.class_line}
        marks += [Mark(line=lines.class_line, item=o, on_name=True, finding={"test": o.id}, **own)
                  for o in result.failures if id(o) not in seen]
        for finding in result.findings:
            if id(finding) in seen:
                continue
            line, method = class_finding_line(finding, lines)
            where, kept = own, finding.to_dict()
            if method is not None:      # the method's own finding now: its line counts from the method's def
                def_line = lines.methods[method][0]
                where = {"owner": f"{result.name}.{method}", "name": method, "anchor": def_line}
                own_line = finding.line is not None and lines.class_line + finding.line - 1 == line
                kept = {**kept, "method": method, "line": line - def_line + 1 if own_line else None}
            marks.append(Mark(line=line, item=finding, finding=kept, **where))
        return Placed(owners, marks, lines.class_line)

    def line_of(self, text: str, qualname: str) -> int | None:
        return class_line_in(text, qualname) if "." not in qualname else None

    def is_header(self, line_text: str, qualname: str) -> bool:
        return re.match(rf"^\s*class\s+{re.escape(qualname)}\b", line_text) is not None

    def recorded(self, result: JobResult) -> list[str]:
        return [c.name for c in getattr(result, "components", [])] or [result.name]


KIND = ClassKind()
