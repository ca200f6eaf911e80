"""Minimal text edits that put a candidate into the user's file.

Two edits at most: the body under the user's docstring (replacing
``target.body_range``) and new imports merged into the module's leading
import block.  Everything else stays byte for byte: the encoding line, CRLF
newlines, tabs, a missing final newline, other functions.

Decisions:

* The body is re-indented to ``target.body_indent`` and joined with the
  newline of the lines around the target (``target.newline``; new import
  lines take the newline of the import block), so CRLF, CR-only and mixed
  files keep their style; lines inside multi-line strings are left as they are.  When
  the file's indentation step (body indent minus def indent) differs from the
  candidate's, block levels are rewritten in the file's step, so tab files
  stay tabs.
* The reply's own layout below the docstring is kept (``Candidate.body``): blank
  lines, comments, trailing blanks, lines of blanks only (shifted with the def,
  so they keep their width from the def's column).  Blanks after the user's
  docstring's closing quotes stay.  A stub statement on its own line is replaced
  from the start of its line when the body begins with blank lines (so they stay
  empty); those blank lines are left out when the file has a blank line above
  the stub already, and for a target without a docstring.  So the original function placed into a file where it was
  stubbed gives the original file back byte for byte (tests/unit/test_edits.py
  checks every documented function of a few stdlib modules, in CRLF, tab,
  trailing-blank and indented-blank-line variants).  Not kept: a line of blanks
  narrower than the def's column, and in a tab-indented file a continuation
  line indented with spaces only (its width is counted in characters).
* A one-line def (a docstring on the def line) gets its docstring written
  back on its own line, exactly as it was, with the body below it.  A
  trailing comment on that line stays: after the docstring, or after the
  def's colon when there is no docstring.  A backslash continuation after the
  docstring is dropped (it would join the body to the docstring's line).
* Imports: each name a reply imports is skipped when the module already binds
  that name at top level (by any import form, or by a def, class or
  assignment: a module never imports from itself).  ``import a.b`` is skipped
  when ``a.b`` is already imported.  What is left is added as new lines (a
  ``from x import a, b`` whose ``a`` is present becomes ``from x import b``);
  existing import lines are never rewritten.  New lines go after the last
  import of the leading import block; without one, after the module
  docstring; without that, after a shebang/encoding line and a leading comment
  block that a blank line separates from the code.
"""

from __future__ import annotations

import ast
import bisect
import re
import tokenize
from dataclasses import dataclass

from .candidate import Candidate, reindent
from .spec import Pos, Range, Target, docstring_node

__all__ = ["TextEdit", "implementation_edits", "apply_edits", "candidate_module", "import_edit", "missing_imports"]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_CODING = re.compile(r"^[ \t\f]*#.*?coding[:=]")


@dataclass(frozen=True)
class TextEdit:
    range: Range
    new_text: str


def _lines(source: str) -> list[str]:
    return _LINE_BREAK.split(source)


def _line_starts(source: str) -> list[int]:
    return [0, *(m.end() for m in _LINE_BREAK.finditer(source))]


def _offset(source: str, starts: list[int], lines: list[str], pos: Pos) -> int:
    if not 0 <= pos.line < len(lines) or not 0 <= pos.col <= len(lines[pos.line]):
        raise ValueError(f"position {pos.line}:{pos.col} is outside the text")
    return starts[pos.line] + pos.col


def apply_edits(source: str, edits: list[TextEdit]) -> str:
    """``source`` with ``edits`` applied; raises ValueError on overlapping or
    out-of-range edits.  Ranges are of the text before any edit."""
    lines, starts = _lines(source), _line_starts(source)
    spans = sorted(((_offset(source, starts, lines, e.range.start), _offset(source, starts, lines, e.range.end),
                     e.new_text) for e in edits), key=lambda s: (s[0], s[1]))
    for (a0, a1, _), (b0, _, _) in zip(spans, spans[1:]):
        if b0 < a1:
            raise ValueError("edits overlap")
    out, last = [], 0
    for start, end, text in spans:
        if end < start:
            raise ValueError("an edit ends before it starts")
        out += [source[last:start], text]
        last = end
    out.append(source[last:])
    return "".join(out)


def _def_line_body(old: str, has_doc: bool) -> tuple[str | None, str]:
    """For a body on the def line (``old`` runs from just after the colon to
    the end of the function): the docstring as written, up to its closing
    quotes (None when there is none), and a trailing comment with the blanks
    before it ("" when none).  Read with the tokenizer, so a ``#`` inside a
    string is no comment and a dangling backslash is no part of either."""
    text = old.lstrip()
    rows = _lines(text)
    starts = _line_starts(text)
    feed = iter(rows)

    def at(row_col: tuple[int, int]) -> int:
        row = min(row_col[0] - 1, len(rows) - 1)
        return starts[row] + min(row_col[1], len(rows[row]))

    doc_end: int | None = None
    prev_end, in_doc, comment = 0, has_doc, ""

    def readline() -> str:
        line = next(feed, None)
        return "" if line is None else line + "\n"

    try:
        for tok in tokenize.generate_tokens(readline):
            if tok.type in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER):
                continue
            start, end = at(tok.start), at(tok.end)
            if tok.type == tokenize.STRING and in_doc:
                doc_end = prev_end = end
                continue
            in_doc = False
            if tok.type == tokenize.COMMENT:
                gap = text[prev_end:start]
                comment = (gap if gap and not gap.strip(" \t\f") else "  ") + tok.string
                break
            prev_end = end
    except (tokenize.TokenError, SyntaxError):
        pass
    return (text[:doc_end] if doc_end is not None else None), comment


def _body_edit(source: str, lines: list[str], target: Target, candidate: Candidate) -> TextEdit:
    rng = target.body_range
    if rng is None or target.def_range is None:
        raise ValueError(f"target {target.qualname} has no ranges")
    nl, indent = target.newline, target.body_indent
    def_line = lines[target.def_range.start.line]
    def_indent = def_line[: len(def_line) - len(def_line.lstrip())]
    unit = indent[len(def_indent):] if indent.startswith(def_indent) and len(indent) > len(def_indent) else None
    body = reindent(candidate.body, indent, unit, def_indent)
    while target.docstring is None and len(body) > 1 and not body[0].strip():
        body.pop(0)                       # blank lines below a docstring only (a `# spec:` target has none)
    if not lines[rng.start.line][: rng.start.col].strip():     # the range starts where a statement starts
        lead = 0
        while lead < len(body) - 1 and not body[lead].strip():
            lead += 1
        if lead and rng.start.line > 0 and not lines[rng.start.line - 1].strip():
            body = body[lead:]            # the file has its own blank line(s) above the stub already
        if body[0].strip():
            body[0] = body[0][len(indent):] if body[0].startswith(indent) else body[0].lstrip()
            return TextEdit(rng, nl.join(body))
        # blank lines first: the edit starts at the stub line's start, so they stay empty
        return TextEdit(Range(Pos(rng.start.line, 0), rng.end), nl.join(body))
    starts = _line_starts(source)
    old = source[_offset(source, starts, lines, rng.start): _offset(source, starts, lines, rng.end)]
    if not old.strip(" \t\f"):
        return TextEdit(rng, old + nl + nl.join(body))    # blanks after the docstring stay
    doc, comment = _def_line_body(old, target.docstring is not None)
    # a one-line def: its docstring goes back on its own line, a trailing comment stays on
    # the docstring's line (or on the def line when there is no docstring)
    lead = nl + indent + doc + comment if doc is not None else comment
    return TextEdit(rng, lead + nl + nl.join(body))


def _bound_names(body: list[ast.stmt]) -> tuple[set[str], set[str], set[str]]:
    """Names bound at top level, names bound by plain ``import a.b``, and the
    dotted modules imported plainly (with their prefixes)."""
    names: set[str] = set()
    plain: set[str] = set()
    modules: set[str] = set()
    for node in body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names.add(alias.asname)
                else:
                    parts = alias.name.split(".")
                    plain.add(parts[0])
                    modules.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
        elif isinstance(node, ast.ImportFrom):
            names.update(a.asname or a.name for a in node.names if a.name != "*")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            for tgt in node.targets if isinstance(node, ast.Assign) else [node.target]:
                names.update(n.id for n in ast.walk(tgt) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.If, ast.Try, ast.With)):
            blocks = [node.body, getattr(node, "orelse", []), getattr(node, "finalbody", []),
                      *(h.body for h in getattr(node, "handlers", []))]
            for block in blocks:
                n, p, m = _bound_names(block)
                names |= n
                plain |= p
                modules |= m
    return names, plain, modules


def missing_imports(tree: ast.Module, imports: list[str]) -> list[str]:
    """The lines of ``imports`` (import statements) that ``tree`` does not bind yet, one name
    per ``import`` line, ``from x import`` lines without the names it has."""
    names, plain, modules = _bound_names(tree.body)
    out: list[str] = []
    for line in imports:
        try:
            nodes = ast.parse(line).body
        except SyntaxError:
            continue
        for node in nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        keep = alias.asname not in names and alias.asname not in plain
                    else:
                        top = alias.name.split(".")[0]
                        keep = alias.name not in modules and top not in names
                    text = ast.unparse(ast.Import(names=[alias]))
                    if keep and text not in out:
                        out.append(text)
                        if alias.asname:
                            names.add(alias.asname)
                        else:
                            modules.add(alias.name)
            elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
                new = [a for a in node.names if a.name != "*" and (a.asname or a.name) not in names | plain]
                if new:
                    out.append(ast.unparse(ast.ImportFrom(module=node.module, names=new, level=node.level)))
                    names.update(a.asname or a.name for a in new)
    return out


def _newline_at(source: str, row: int) -> str:
    """The newline ending line ``row``, else the one before it, else the file's first, else "\\n"."""
    breaks = [m.group() for m in _LINE_BREAK.finditer(source)]
    for i in (row, row - 1, 0):
        if 0 <= i < len(breaks):
            return breaks[i]
    return "\n"


def import_edit(source: str, imports: list[str], newline: str | None = None) -> TextEdit | None:
    """The edit adding the imports that ``source`` lacks, or None.  Without
    ``newline`` the new lines take the newline of the lines they join."""
    if not imports:
        return None
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    new = missing_imports(tree, imports)
    if not new:
        return None
    lines = _lines(source)
    body = tree.body
    doc = docstring_node(body)  # type: ignore[arg-type]
    i = 1 if doc else 0
    last = None
    while i < len(body) and isinstance(body[i], (ast.Import, ast.ImportFrom)):
        last, i = body[i], i + 1
    anchor = last or doc
    if anchor is not None:
        row = anchor.end_lineno - 1  # type: ignore[operator]
        newline = newline or _newline_at(source, row)
        block = newline.join(new)
        if last is not None and row + 1 < len(lines):
            return TextEdit(Range(Pos(row + 1, 0), Pos(row + 1, 0)), block + newline)
        end = Pos(row, len(lines[row]))
        return TextEdit(Range(end, end), newline + (newline if last is None else "") + block)
    row = 0
    if lines and lines[0].startswith("#!"):
        row = 1
    if row < len(lines) and row < 2 and _CODING.match(lines[row]):
        row += 1
    comments = row
    while comments < len(lines) and lines[comments].lstrip().startswith("#"):
        comments += 1
    if comments > row and comments < len(lines) and not lines[comments].strip():
        row = comments + 1
    newline = newline or _newline_at(source, row)
    block = newline.join(new)
    if row >= len(lines) or (row == len(lines) - 1 and not lines[row]):
        end = Pos(len(lines) - 1, len(lines[-1]))
        return TextEdit(Range(end, end), (newline if lines[-1] else "") + block + newline)
    gap = "" if not lines[row].strip() else newline
    return TextEdit(Range(Pos(row, 0), Pos(row, 0)), block + newline + gap)


def implementation_edits(source: str, target: Target, candidate: Candidate) -> list[TextEdit]:
    """The edits that replace the target's stub body with the candidate's
    body and add its missing imports, sorted by position."""
    lines = _lines(source)
    edits = [_body_edit(source, lines, target, candidate)]
    extra = import_edit(source, candidate.imports)
    if extra is not None:
        edits.append(extra)
    return sorted(edits, key=lambda e: (e.range.start, e.range.end))


def candidate_module(source: str, target: Target, candidate: Candidate) -> str:
    """The whole module as it would read with the candidate in place."""
    return apply_edits(source, implementation_edits(source, target, candidate))
