"""Module targets: a ``# spec:`` comment block at module level describing functions to add.

A module target is implemented by ``components.implement_module`` (plan the functions,
generate them in parallel, review the whole, fix what is flagged); its result inserts
the functions below the block and their imports into the module's import block
(:func:`module_edits`).

Decisions:

* The block starts with a ``# spec:`` comment at column 0, runs over the ``#`` lines
  at column 0 that follow it, and must be followed by a blank line or the end of the
  file: a block directly above a ``def`` is that function's spec (``spec.py``), not a
  module spec.  It must lie outside every top-level statement (a comment inside a
  function or class body is not a module spec) and the file must parse.
* A target is named by its line, ``module spec (line N)`` (1-based): that is the
  name the code action, ``specloop run --only`` and the results use.  Placing a
  result finds the block again by its fingerprint (the spec text), so a block that
  moved still takes its result and a block whose text changed is stale.
* Placing a result keeps the user's block and marks it done: ``# spec:`` becomes
  ``# spec (implemented):`` (no longer a target; put ``spec:`` back to plan again),
  and the functions follow the block after two blank lines, or follow the module's
  header (docstring, ``__future__`` imports, leading import block) when the block
  stands above its end: a docstring stays the docstring, ``__future__`` imports stay
  first, the imports stay on top.  The functions' imports join the leading import
  block (a new one at the top when there is none), never below the functions; the
  planned stubs the components are generated in stand where the result will.  A
  function name that the module defines meanwhile makes the result stale rather than
  a second definition.
* Doctest examples written in the block (``#   >>> f(1)``) run against the
  assembled module, like a class docstring's examples.
"""

from __future__ import annotations

import ast
import doctest
import hashlib
import re
import textwrap
from dataclasses import dataclass, field

from .edits import TextEdit, missing_imports
from ..results import JobResult
from .spec import Pos, Range, _File, docstring_node

_TAG = re.compile(r"#\s*(spec):", re.IGNORECASE)
_ANY_TAG = re.compile(r"#\s*(spec(?: \(implemented\))?):", re.IGNORECASE)
_ANY_LINE = re.compile(r"(?:\A|[\r\n])#\s*spec", re.IGNORECASE)
DONE_TAG = "spec (implemented):"
_DEF_START = re.compile(r"\s*(?:def|class|async\s+def)\b|\s*@")
_CODING = re.compile(r"^[ \t\f]*#.*?coding[:=]")


@dataclass
class ModuleTarget:
    name: str                     # "module spec"
    qualname: str                 # "module spec (line 3)"
    spec: str                     # the block's text, '#' and the tag stripped
    text: str                     # the block as written
    defined: list[str] = field(default_factory=list)   # names the module defines at top level
    def_range: Range | None = None    # the block: its first line .. end of its last line
    tag_range: Range | None = None    # "spec:" on the first line (marked done on placement)
    newline: str = "\n"
    examples: list = field(default_factory=list)
    kind: str = "module"
    placeholder = "the functions it asks for go here"   # what stands in its place in the model's context
    # what the context module asks of any target: a block has no header and no class
    header: str = ""
    class_name: str | None = None
    comment_spec: str | None = None

    @property
    def docstring(self) -> str:
        return self.spec

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(("module\0" + self.spec).encode()).hexdigest()[:16]


def module_name(line: int) -> str:
    """The name of the module spec whose block starts on 0-based ``line``."""
    return f"module spec (line {line + 1})"


def defined_names(tree: ast.Module) -> list[str]:
    """Names bound at the top level of a module: functions, classes, assignments, imports."""
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names += [(a.asname or a.name).split(".")[0] for a in node.names if a.name != "*"]
    return list(dict.fromkeys(names))


def find_module_targets(source: str, *, done_too: bool = False) -> list[ModuleTarget]:
    """Every module spec block of ``source`` in file order (none when it does not parse);
    with ``done_too`` also the blocks marked ``# spec (implemented):`` (same fingerprint)."""
    tag_re = _ANY_TAG if done_too else _TAG
    if not _ANY_LINE.search(source):       # most files: no block, and no parse of the whole file
        return []
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return []
    f = _File(source)
    inside: set[int] = set()
    for node in tree.body:
        inside.update(range(node.lineno - 1, node.end_lineno or node.lineno))
    names = defined_names(tree)
    found = []
    i = 0
    while i < len(f.lines):
        tag = tag_re.match(f.lines[i])
        if tag is None or i in inside:
            i += 1
            continue
        end = i
        while end + 1 < len(f.lines) and f.lines[end + 1].startswith("#") and not tag_re.match(f.lines[end + 1]):
            end += 1
        after = f.lines[end + 1] if end + 1 < len(f.lines) else ""
        if after.strip() or _DEF_START.match(after):
            i = end + 1
            continue
        rest = textwrap.dedent("\n".join(line[1:].rstrip() for line in f.lines[i + 1:end + 1]))
        spec = (f.lines[i][tag.end():].strip() + "\n" + rest).strip()
        if spec:
            try:
                examples = doctest.DocTestParser().get_examples(spec)
            except ValueError:
                examples = []
            found.append(ModuleTarget(
                name="module spec", qualname=module_name(i), spec=spec,
                text="\n".join(f.lines[i:end + 1]) + "\n", defined=names,
                def_range=Range(Pos(i, 0), Pos(end, len(f.lines[end]))),
                tag_range=Range(Pos(i, tag.start(1)), Pos(i, tag.end())),
                newline=f.newline_at(end), examples=examples))
        i = end + 1
    return found


def find_module_target(source: str, qualname: str | None = None, fingerprint: str | None = None) -> ModuleTarget | None:
    """The module spec named ``qualname``, else (or with only a fingerprint) the first whose
    spec has ``fingerprint``."""
    targets = find_module_targets(source)
    by_name = next((t for t in targets if qualname and t.qualname == qualname), None)
    if by_name is not None and (fingerprint is None or by_name.fingerprint == fingerprint):
        return by_name
    if fingerprint is not None:
        return next((t for t in targets if t.fingerprint == fingerprint), None)
    return by_name


@dataclass
class ModuleResult(JobResult):
    """The result of a module job: the planned functions as one result, with their
    components' results.  ``function_code`` is every function, in plan order, at column 0
    with "\\n" newlines (what ``.specloop/results/`` saves and an edit inserts)."""

    components: list[JobResult] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)   # the planned function names
    kind: str = "module"

    def summary_dict(self) -> dict:
        return {**super().summary_dict(), "kind": "module",
                "components": [c.summary_dict() for c in self.components]}


def functions_of(text: str, names: list[str]) -> str | None:
    """The text from the first to the last of the module-level functions ``names`` in
    ``text`` ("\\n" newlines, ending in one); None when one of them is missing."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    nodes = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    if not names or any(n not in nodes for n in names):
        return None
    first = min(min([nodes[n].lineno, *(d.lineno for d in nodes[n].decorator_list)]) for n in names) - 1
    last = max(nodes[n].end_lineno or nodes[n].lineno for n in names)
    lines = _File(text).lines
    return "\n".join(lines[first:last]) + "\n"


def module_edits(source: str, target: ModuleTarget, code: str, imports: list[str] = (), *,
                 done: bool) -> list[TextEdit]:
    """Edits putting ``code`` (functions at column 0, "\\n" newlines) into ``source`` for the block
    ``target``, with the ``imports`` the module lacks (``import`` lines); with ``done`` the
    block's tag is marked.  Never overlapping: the import lines and the functions are one edit
    where they go to the same place.

    * The functions go two blank lines below the block, with two blank lines before what
      follows; a block that stands above the end of the module's header (its docstring,
      ``__future__`` imports and leading import block) has them below the header instead,
      so the docstring stays the docstring and the imports stay on top.
    * The imports go below the last import of the leading import block (a blank line first
      when that is a ``__future__`` import); without one, a blank line below the module
      docstring; without that, a blank line below a leading comment block that a blank
      line ends (a block at the top of the file is one: the imports follow it), else below
      a shebang or encoding line, else at the top.  Above the functions when both go
      below the same line."""
    assert target.def_range is not None and target.tag_range is not None
    nl = target.newline
    lines = _File(source).lines
    tree = ast.parse(source)
    header_end, anchor, blank_before, after_import = _header(tree, lines)
    block = target.def_range
    below = header_end if header_end is not None and block.start.line < header_end else block.end.line
    body = code.rstrip("\n").replace("\r\n", "\n").replace("\r", "\n").replace("\n", nl)
    nxt = next((i for i in range(below + 1, len(lines)) if lines[i].strip()), None)
    start = Pos(below, len(lines[below]))
    if nxt is None:
        last = len(lines) - 1
        region, tail = Range(start, Pos(last, len(lines[last]))), nl
    else:
        region, tail = Range(start, Pos(nxt, 0)), nl * 3
    new = nl.join(missing_imports(tree, list(imports)))
    lead, edits = "", []
    if new and anchor == below:
        lead = (nl * 2 if blank_before else nl) + new
    elif new and anchor < 0:
        gap = "" if not lines[0].strip() else nl * 2 if _DEF_START.match(lines[0]) else nl
        edits.append(TextEdit(Range(Pos(0, 0), Pos(0, 0)), new + nl + gap))
    elif new:
        follows = anchor + 1 < len(lines) and lines[anchor + 1].strip() and not after_import
        at = Pos(anchor, len(lines[anchor]))
        edits.append(TextEdit(Range(at, at), (nl * 2 if blank_before else nl) + new + (nl if follows else "")))
    edits.append(TextEdit(region, lead + nl * 3 + body + tail))
    if done:
        edits.append(TextEdit(target.tag_range, DONE_TAG))
    return sorted(edits, key=lambda e: (e.range.start, e.range.end))


def _header(tree: ast.Module, lines: list[str]) -> tuple[int | None, int, bool, bool]:
    """Where a module's header ends and where new imports go: the last line (0-based) of its
    docstring and leading import block (None without either); the line new imports go below
    (-1: above the first line); whether a blank line goes before them; whether that line
    ends an import."""
    body = tree.body
    doc = docstring_node(body)  # type: ignore[arg-type]
    i, last = (1 if doc else 0), None
    while i < len(body) and isinstance(body[i], (ast.Import, ast.ImportFrom)):
        last, i = body[i], i + 1
    if last is not None:
        end = last.end_lineno - 1  # type: ignore[operator]
        future = isinstance(last, ast.ImportFrom) and last.module == "__future__"
        return end, end, future, True
    if doc is not None:
        end = doc.end_lineno - 1  # type: ignore[operator]
        return end, end, True, False
    row = 1 if lines and lines[0].startswith("#!") else 0
    if row < len(lines) and _CODING.match(lines[row]):
        row += 1
    comments = row
    while comments < len(lines) and lines[comments].startswith("#"):
        comments += 1
    if comments > row and (comments == len(lines) or not lines[comments].strip()):
        return None, comments - 1, True, False
    return None, row - 1, False, False


def block_line(text: str, fingerprint: str) -> int | None:
    """The 0-based first line of the block with ``fingerprint`` in ``text``, done or not."""
    found = next((t for t in find_module_targets(text, done_too=True) if t.fingerprint == fingerprint), None)
    return None if found is None or found.def_range is None else found.def_range.start.line


_NAME = re.compile(r"module spec \(line (\d+)\)")


def is_module_name(qualname: str) -> bool:
    return _NAME.fullmatch(qualname) is not None


def module_line_in(text: str, qualname: str) -> int | None:
    """The 0-based first line of the block nearest the line ``qualname`` names (the block
    may have moved, and may be marked done), None when ``text`` has no block."""
    match = _NAME.fullmatch(qualname)
    blocks = [t.def_range.start.line for t in find_module_targets(text, done_too=True) if t.def_range]
    if match is None or not blocks:
        return None
    return min(blocks, key=lambda line: abs(line - (int(match.group(1)) - 1)))


def is_block_start(line_text: str) -> bool:
    """Whether ``line_text`` opens a spec block, done or not (``# spec:``, ``# spec (implemented):``)."""
    return _ANY_TAG.match(line_text) is not None
