"""Finding a function again in a text, implemented or not.

The spec finder only sees stubs.  After a result is applied the function is
no longer a stub, yet the server and the CLI still need its lines (to place
critic findings and failing tests) and, for "Fix this finding", a stub to start
a targeted job from.  These helpers use ``ast`` on the whole text and return
``None`` when it does not parse; callers then fall back to a plain search for
the ``def`` line.  Lines are split as LSP splits them (:func:`split_lines`), so
a line number here is a line number in the editor.  A class result has no
``def`` line: :func:`find_class` gives its ``class`` line and its methods' lines
instead.  Which of these a kind of target uses is the kind's (``specloop.targets``).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .modulespec import module_line_in

if TYPE_CHECKING:
    from ..results import Finding, JobResult

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def split_lines(text: str) -> list[str]:
    """Lines with their endings, split only at LSP's line breaks (``\\n``, ``\\r\\n``,
    ``\\r``: not at the other characters ``str.splitlines`` knows).  The text after
    the last break is the last line, possibly empty, so a position just past a final
    newline exists."""
    lines = _LINE.findall(text)
    if not lines or lines[-1].endswith(("\n", "\r")):
        lines.append("")
    return lines


@dataclass(frozen=True)
class FunctionLines:
    """0-based lines of one function in a text."""

    first: int              # first decorator, else the def line
    def_line: int           # the line holding ``def name``
    end: int                # last line of the function
    doc_end: int | None     # last line of the docstring, None when there is none
    body_start: int | None  # first statement after the docstring, None when there is none
    indent: str             # indentation of the body


def _walk(tree: ast.Module, qualname: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    parts = qualname.split(".")
    scope: list[ast.stmt] = tree.body
    node: ast.AST | None = None
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        found = None
        for child in scope:
            if isinstance(child, ast.ClassDef) and not last and child.name == part:
                found = child
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) and child.name == part:
                found = child
        if found is None:
            return None
        node = found
        scope = found.body
    return node if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else None


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def find_function(source: str, qualname: str) -> FunctionLines | None:
    """The lines of the function ``qualname`` (e.g. ``Shape.area``) in ``source``."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    node = _walk(tree, qualname)
    if node is None:
        return None
    first = min([d.lineno for d in node.decorator_list] + [node.lineno]) - 1
    body = list(node.body)
    doc_end = None
    if body and _is_docstring(body[0]):
        doc_end = (body[0].end_lineno or body[0].lineno) - 1
        body = body[1:]
    lines = split_lines(source)
    body_start = body[0].lineno - 1 if body else None
    first_stmt = node.body[0]
    stmt_line = lines[first_stmt.lineno - 1] if first_stmt.lineno - 1 < len(lines) else ""
    indent = stmt_line[: len(stmt_line) - len(stmt_line.lstrip())] or "    "
    return FunctionLines(first, node.lineno - 1, (node.end_lineno or node.lineno) - 1, doc_end, body_start, indent)


def find_def_line(source: str, name: str, near: int = 0) -> int | None:
    """The ``def name`` line closest to ``near`` (for texts that do not parse)."""
    pattern = re.compile(rf"^\s*(async\s+)?def\s+{re.escape(name)}\s*\(")
    hits = [i for i, line in enumerate(split_lines(source)) if pattern.match(line)]
    return min(hits, key=lambda i: abs(i - near)) if hits else None


def def_line_in(text: str, qualname: str, near: int) -> int | None:
    """The def line of ``qualname`` in ``text`` (ast first, then a plain search)."""
    info = find_function(text, qualname)
    if info is not None:
        return info.def_line
    return find_def_line(text, qualname.rsplit(".", 1)[-1], near)


def has_def(line_text: str, name: str) -> bool:
    return re.match(rf"^\s*(async\s+)?def\s+{re.escape(name)}\b", line_text) is not None


@dataclass(frozen=True)
class ClassLines:
    """0-based lines of one module-level class in a text."""

    first: int                               # first decorator, else the class line
    class_line: int                          # the line holding ``class Name``
    end: int                                 # last line of the class
    methods: dict[str, tuple[int, int]]      # method name -> (its def line, its last line)


def find_class(source: str, name: str) -> ClassLines | None:
    """The lines of the module-level class ``name`` in ``source`` (None when it is not
    there or the text does not parse)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    node = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name), None)
    if node is None:
        return None
    first = min([d.lineno for d in node.decorator_list] + [node.lineno]) - 1
    methods = {m.name: (m.lineno - 1, (m.end_lineno or m.lineno) - 1) for m in node.body
               if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))}
    return ClassLines(first, node.lineno - 1, (node.end_lineno or node.lineno) - 1, methods)


def find_class_line(source: str, name: str, near: int = 0) -> int | None:
    """The ``class name`` line closest to ``near`` (for texts that do not parse)."""
    pattern = re.compile(rf"^\s*class\s+{re.escape(name)}\s*[(:]")
    hits = [i for i, line in enumerate(split_lines(source)) if pattern.match(line)]
    return min(hits, key=lambda i: abs(i - near)) if hits else None


def class_line_in(text: str, name: str, near: int = 0) -> int | None:
    """The class line of module-level class ``name`` in ``text`` (ast first, then a plain search)."""
    info = find_class(text, name)
    if info is not None:
        return info.class_line
    return find_class_line(text, name, near)


def class_finding_line(finding: Finding, lines: ClassLines) -> tuple[int, str | None]:
    """(file line, method name or None) of a critic finding on a whole class: the critic
    numbers the reviewed class from its ``class`` line (1).  The method is the one the
    finding names (``finding.method``), else the one holding its line.  A finding lands on
    its line when that is in the class (and in its named method), else on its method's
    ``def`` line, else on the class line."""
    line = None if finding.line is None else lines.class_line + finding.line - 1
    if line is not None and not lines.class_line <= line <= lines.end:
        line = None
    holder = None if line is None else next((m for m, (a, b) in lines.methods.items() if a <= line <= b), None)
    method = finding.method if finding.method in lines.methods else holder
    if method is None:
        return (lines.class_line if line is None else line), None
    return (line if line is not None and holder == method else lines.methods[method][0]), method


def module_result_finding_lines(result: JobResult, text: str) -> list[tuple[int, str]] | None:
    """(file line, 0-based; the qualified name it belongs to) of each of a module spec
    result's findings, the functions placed in ``text``: a finding of a function's own job
    as that function's (:func:`finding_line`); a review finding on the line it names (the
    review numbers the functions from their first line) when that is inside the function it
    names, else on that function's ``def`` line; a finding naming no function on the spec
    block's first line.  None when neither the functions nor the block are in ``text``."""
    components = getattr(result, "components", [])
    spans = {c.name: find_function(text, c.name) for c in components}
    block = module_line_in(text, result.name)
    found = [i for i in spans.values() if i is not None]
    if not found and block is None:
        return None
    start = min(i.first for i in found) if found else None
    owner = {id(f): c for c in components for f in c.findings}
    out = []
    for finding in result.findings:
        component = owner.get(id(finding))
        info = spans.get(component.name if component is not None else finding.method or "")
        if component is not None and info is not None:
            out.append((finding_line(finding, component.function_code, text, component.name, info.def_line),
                        component.name))
        elif info is not None:
            line = None if finding.line is None or start is None else start + finding.line - 1
            inside = line is not None and info.first <= line <= info.end
            out.append((line if inside else info.def_line, finding.method or ""))   # type: ignore[arg-type]
        else:
            out.append((block if block is not None else (start or 0), result.name))
    return out


def restub(source: str, qualname: str) -> str | None:
    """``source`` with the function's body reduced to its spec again: the statements
    after its docstring removed (or, without a docstring, replaced by ``...``).
    ``None`` when the function is not found or already has nothing to remove."""
    info = find_function(source, qualname)
    if info is None or info.body_start is None or info.body_start <= info.def_line:
        return None
    lines = split_lines(source)
    newline = "\r\n" if lines[info.def_line].endswith("\r\n") else "\n"
    end = info.end + 1
    keep_tail = lines[end:]
    if info.doc_end is not None:
        head = lines[: info.doc_end + 1]
        return "".join(head + keep_tail)
    head = lines[: info.body_start]
    return "".join(head + [f"{info.indent}...{newline}"] + keep_tail)


def code_body_offset(function_code: str) -> tuple[int, int | None]:
    """For a function as the model wrote it: (index of its def line, index of its first
    statement after the docstring), 0-based; the second is None when it cannot tell."""
    lines = function_code.splitlines()
    def_idx = next((i for i, line in enumerate(lines) if line.lstrip().startswith(("def ", "async def "))), 0)
    try:
        tree = ast.parse(function_code)
    except (SyntaxError, ValueError):
        return def_idx, None
    funcs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if not funcs:
        return def_idx, None
    body = list(funcs[0].body)
    if body and _is_docstring(body[0]):
        body = body[1:]
    return funcs[0].lineno - 1, (body[0].lineno - 1 if body else None)


def without_docstring(function_code: str) -> str | None:
    """``function_code`` (one function as the model wrote it) without its docstring;
    None when it has none or does not parse.  Used to apply a result under a spec
    the user changed meanwhile: the user's docstring stays, the body goes below it."""
    try:
        tree = ast.parse(function_code)
    except (SyntaxError, ValueError):
        return None
    funcs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if not funcs or not funcs[0].body or not _is_docstring(funcs[0].body[0]):
        return None
    doc = funcs[0].body[0]
    if len(funcs[0].body) == 1 or doc.lineno == funcs[0].lineno:
        return None
    lines = function_code.splitlines(keepends=True)
    return "".join(lines[: doc.lineno - 1] + lines[(doc.end_lineno or doc.lineno):])


def finding_line(finding: Finding, function_code: str | None, text: str, qualname: str, def_line: int) -> int:
    """The file line (0-based) a critic finding names.  ``finding.line`` counts from the
    def line (1) of the code the critic saw; the body lines are matched up statement by
    statement, lines in the header or docstring land on the def line."""
    if finding.line is None or function_code is None:
        return def_line
    code_def, code_body = code_body_offset(function_code)
    index = code_def + finding.line - 1
    info = find_function(text, qualname)
    if code_body is None or info is None or info.body_start is None or index < code_body:
        return def_line
    return min(info.body_start + (index - code_body), info.end)
