"""A target and where it sits: the data the spec finder (:mod:`spec`) gives for each
function it can implement -- positions and ranges in the file, the spec text, the doctest
examples, and the fingerprint that tells when the user edited the header or the spec.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

@dataclass(frozen=True, order=True)
class Pos:
    line: int   # 0-based
    col: int    # 0-based, in Python str characters (front ends convert to UTF-16)


@dataclass(frozen=True)
class Range:
    start: Pos
    end: Pos


@dataclass(frozen=True)
class Example:
    source: str   # the doctest source, e.g. "area(2, 3)\n"
    want: str     # expected output, e.g. "6\n" ("" when none)
    lineno: int   # 0-based line within the docstring


@dataclass
class Target:
    name: str                   # "area"
    qualname: str               # "Shape.area" for a method
    is_async: bool
    class_name: str | None      # enclosing class for methods (innermost), else None
    params: list[str]           # parameter names in order, incl. self/cls, *args, **kw
    decorators: list[str]       # decorator source text without '@'
    header: str                 # source text of decorators + "def ...:" line(s), as in the file
    docstring: str | None       # cleaned docstring (inspect.cleandoc), None if none
    comment_spec: str | None    # text of a '# spec:' block above the def, '#' stripped
    examples: list[Example] = field(default_factory=list)
    def_range: Range | None = None     # first decorator (or def) .. end of the function
    name_range: Range | None = None    # the function's name on its def line
    body_range: Range | None = None    # text to replace: after the docstring .. end of function
    body_indent: str = "    "          # indentation of the body statements
    newline: str = "\n"                # the newline of the function's last line (mixed files: per target)
    kind: str = "function"             # its kind of target (``specloop.targets``)
    placeholder = "the function to implement"   # what stands in its place in the model's context

    @property
    def spec(self) -> str:
        """The text that specifies the target: docstring, else the comment block."""
        return self.docstring or self.comment_spec or ""

    @property
    def fingerprint(self) -> str:
        """Changes when the user edits the header or the spec (used for staleness)."""
        return hashlib.sha256((self.header + "\0" + self.spec).encode()).hexdigest()[:16]


@dataclass
class FindResult:
    targets: list[Target]
    error: str | None = None    # e.g. "line 3: invalid syntax" when the file does not parse
