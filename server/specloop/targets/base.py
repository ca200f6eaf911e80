"""What every kind of target provides (:class:`Kind`), and what a placed result says where
(:class:`Mark`).

A kind of target (a function stub, a class spec, a module spec) is one module of this
package holding one :class:`Kind`; the registry (``targets/__init__.py``) picks the kind of a
target or a result by its ``kind`` attribute, so the front ends (the CLI, the language
server) never ask which kind they hold: they call the registry, which calls the kind.

A result's findings and failing tests are located by its kind, in the text with the result
placed: a :class:`Mark` per item says whose it is (the function, the method, the class, the
block), the line it sits on and what a "Fix" of it sees.  The CLI prints those lines; the
server turns each mark into a diagnostic the same way whatever the kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from ..results import Event, Finding, JobResult, TestOutcome
from ..settings import Settings
from ..source.edits import TextEdit
from ..source.locate import finding_line


@dataclass
class Mark:
    """One thing a placed result says, where it says it (0-based lines of the text)."""

    owner: str                   # the qualified name it belongs to ("Queue.push", "Queue", "module spec (line 3)")
    name: str                    # the owner's short name (a diagnostic on the name underlines it)
    anchor: int                  # the owner's def / class / block line
    line: int                    # the line it sits on
    item: TestOutcome | Finding
    disputed: bool = False       # an advisory test the job dropped (not obeyed)
    on_name: bool = False        # shown on the owner's name rather than the whole line
    finding: dict[str, Any] | None = None   # what a "Fix" of it is told (a finding's dict, or {"test": id})


@dataclass
class Placed:
    """A result's marks in one text, and the owners whose earlier marks they replace (an
    owner with no mark now has nothing left to say)."""

    owners: list[str] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    line: int | None = None      # the result's own line: its def, its class line, its spec block's first line

    def finding_line(self, finding: Finding) -> int | None:
        """The line (0-based) a finding of the result sits on, None when it has no mark."""
        return next((m.line for m in self.marks if m.item is finding), None)


class Kind(Protocol):
    """One kind of target.  ``name`` is the ``kind`` attribute of its targets and results."""

    name: str
    noun: str                    # how messages name it: "function", "class", "module spec"

    def find(self, source: str) -> list: ...
    def find_one(self, source: str, qualname: str) -> Any | None: ...
    def title(self, target: Any) -> str: ...
    def header_lines(self, target: Any) -> tuple[int, int] | None: ...
    def action_lines(self, target: Any, lines: list[str]) -> tuple[int, int] | None: ...

    async def implement(self, source: str, path: Path, target: Any, settings: Settings, *, workspace: Path,
                        emit: Callable[[Event], None] | None = None,
                        feedback: Finding | None = None) -> JobResult: ...

    def edits(self, text: str, result: JobResult, *, anyway: bool = False) -> list[TextEdit]: ...
    def place(self, text: str, result: JobResult, near: int = 0) -> Placed: ...
    def line_of(self, text: str, qualname: str) -> int | None: ...
    def is_header(self, line_text: str, qualname: str) -> bool: ...
    def recorded(self, result: JobResult) -> list[str]: ...


def function_marks(result: JobResult, text: str, def_line: int, name: str, *, findings: bool = True,
                   on_name: bool = True) -> list[Mark]:
    """The marks of one function's result whose ``def`` is at ``def_line`` of ``text``: its
    failing and disputed tests on its name, each finding on the line it names (counted from
    the def line of the code the critic saw)."""
    own = {"owner": result.name, "name": name, "anchor": def_line}
    marks = [Mark(line=def_line, item=o, on_name=on_name, finding={"test": o.id}, **own) for o in result.failures]
    marks += [Mark(line=def_line, item=o, disputed=True, on_name=on_name, finding={"test": o.id}, **own)
              for o in result.disputed]
    if findings:
        marks += [Mark(line=finding_line(f, result.function_code, text, result.name, def_line), item=f,
                       finding=f.to_dict(), **own) for f in result.findings]
    return marks
