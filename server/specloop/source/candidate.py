"""Reading one model reply into a candidate implementation of a target.

The reply holds one python block with the whole function, possibly preceded
by import lines, possibly a method written without its class or wrapped in a
``class X:``.  :func:`parse_candidate` checks it against the target and keeps
what the edit needs; every rejection is a :class:`CandidateError` with a
one-line reason that can be quoted back to the model.

Decisions:

* Lenient reading: a reply that still carries its markdown fence is unwrapped,
  Windows newlines are normalised and a uniformly indented reply is dedented.
* The function is looked up at the top level first, then inside classes (the
  class named like the target's class first).  Defining it twice is rejected.
* Kept as given by the user, checked here: name, ``async``, parameter names
  and order.  Decorators: a reply may leave them out (only the body is
  written into the file, so the user's own stay), but if present they must be
  the same, compared as parsed expressions in order.  The reply's docstring is
  ignored whatever it says: the user's docstring is never replaced, and
  models often shorten or rewrite it (rejecting that cost a re-ask on about
  half of the HumanEval prompts with the small local model).
* A body that is still a stub (``...``, ``pass``, ``raise NotImplementedError``
  or nothing after the docstring) is rejected.
* Helpers: a top-level function, class or assignment in the reply that the
  function uses is rejected ("define helpers inside the function"); only the
  function's body reaches the file, so such a helper would be lost.  Other
  top-level code (examples, ``if __name__ == "__main__":``, tests) is ignored.
* ``imports`` are the reply's top-level import statements, one canonical line
  each (``ast.unparse``); ``from __future__`` imports are dropped (they can only
  sit at the very top of a module, and the module keeps its own).
* ``body`` is what follows the reply's docstring (or def line) as the reply
  has it: blank lines right below the docstring, comments, the decorators of a
  nested def it starts with, trailing blanks; only moved to column 0.  A line
  of blanks only keeps its blanks counted from the def's column (``reindent``'s
  ``blank``), so a placement shifts it with the def.  The original function as
  a reply thus places back byte for byte.
* A docstring the reply adds to a target that has none (a ``# spec:`` target)
  is not part of ``body``: the file keeps the comment as the spec.
"""

from __future__ import annotations

import ast
import io
import re
import textwrap
import tokenize
from dataclasses import dataclass, field

from .spec import Target, docstring_node, is_stub_statement, param_names

__all__ = ["Candidate", "CandidateError", "parse_candidate", "string_lines", "reindent", "indent_step"]

_FENCE = re.compile(r"^[ \t]*```[ \t]*([\w+.-]*)[^\n]*\n(.*?)(?:^[ \t]*```|\Z)", re.DOTALL | re.MULTILINE)


class CandidateError(ValueError):
    """A reply that cannot be used; the message is one line for the model."""


@dataclass
class Candidate:
    function_code: str            # decorators + def + docstring + body, dedented to column 0
    body: str                     # what follows the docstring, at column 0, ending in "\n" (see _body)
    imports: list[str] = field(default_factory=list)   # "import x" / "from x import y", one per item


# -- text helpers shared with the edits ---------------------------------------------------


def _tokens(code: str) -> list[tokenize.TokenInfo]:
    try:
        return list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError):
        return []


def string_lines(code: str) -> set[int]:
    """0-based indices of the lines that begin inside a multi-line string:
    their text is data and must never be re-indented."""
    inside: set[int] = set()
    start_kind = getattr(tokenize, "FSTRING_START", None)
    end_kind = getattr(tokenize, "FSTRING_END", None)
    opened: list[int] = []
    for tok in _tokens(code):
        if tok.type == tokenize.STRING:
            inside.update(range(tok.start[0], tok.end[0]))
        elif start_kind is not None and tok.type == start_kind:
            opened.append(tok.start[0])
        elif end_kind is not None and tok.type == end_kind and opened:
            inside.update(range(opened.pop(), tok.end[0]))
    return inside


def indent_step(code: str) -> str | None:
    """The indentation of the first nested block of column-0 ``code``, if any."""
    for tok in _tokens(code):
        if tok.type == tokenize.INDENT:
            return tok.string
    return None


def _block_levels(code: str) -> dict[int, int]:
    """Block depth of each line that starts a logical line (0-based line -> depth)."""
    depth, levels, fresh = 0, {}, True
    for tok in _tokens(code):
        if tok.type == tokenize.INDENT:
            depth += 1
        elif tok.type == tokenize.DEDENT:
            depth -= 1
        elif tok.type == tokenize.NEWLINE:
            fresh = True
        elif tok.type not in (tokenize.NL, tokenize.COMMENT, tokenize.ENDMARKER) and fresh:
            levels[tok.start[0] - 1] = depth
            fresh = False
    return levels


def reindent(code: str, indent: str, unit: str | None = None, blank: str | None = None) -> list[str]:
    """The lines of column-0 ``code`` placed under ``indent`` (empty lines stay
    empty, lines inside multi-line strings stay as they are).  When ``unit``
    differs from the code's own indentation step, each block level is rewritten
    with ``unit`` (a tab-indented file gets tabs); continuation lines keep
    their offset from the line they continue.  A line of whitespace only
    becomes ``blank`` + its whitespace when ``blank`` is given and no level is
    rewritten (``Candidate.body`` counts that whitespace from the def's
    column, so ``blank`` is the def's indentation in the file), else empty."""
    lines = code.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    keep = string_lines(code)
    own = indent_step(code)
    levels = _block_levels(code) if unit and own and own != unit else None
    out: list[str] = []
    old_ws = new_ws = ""
    for i, line in enumerate(lines):
        if i in keep:
            out.append(line)
            continue
        if not line.strip():
            out.append(blank + line if line and blank is not None and levels is None else "")
            continue
        if levels is None:
            out.append(indent + line)
            continue
        ws = line[: len(line) - len(line.lstrip())]
        if i in levels:
            old_ws, new_ws = ws, unit * levels[i]  # type: ignore[operator]
            out.append(indent + new_ws + line[len(ws):])
        elif line.lstrip().startswith("#") or not ws.startswith(old_ws):
            steps, rest = divmod(len(ws.expandtabs(len(own))), len(own))  # type: ignore[arg-type]
            out.append(indent + unit * steps + " " * rest + line.lstrip())  # type: ignore[operator]
        else:
            out.append(indent + new_ws + line[len(old_ws):])
    return out


def _dedent(lines: list[str], first: int, width: int, keep: set[int]) -> list[str]:
    """Remove up to ``width`` leading whitespace characters from each line
    (``first`` is the index of lines[0] in the text ``keep`` refers to)."""
    out = []
    for i, line in enumerate(lines, start=first):
        if i in keep:
            out.append(line)
        else:
            ws = len(line) - len(line.lstrip())
            out.append(line[min(ws, width):])
    return out


# -- reading the reply --------------------------------------------------------------------


def _unwrap(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "```" not in text:
        return text
    try:
        if not text.lstrip().startswith("```"):
            ast.parse(textwrap.dedent(text))
            return text
    except SyntaxError:
        pass
    blocks = _FENCE.findall(text)
    if not blocks:
        return text
    python = [code for lang, code in blocks if lang.lower() in ("python", "py", "python3")]
    return (python or [blocks[0][1]])[0]


def _find_function(tree: ast.Module, target: Target) -> ast.FunctionDef | ast.AsyncFunctionDef:
    """The target's function in the reply: top level first, then in classes."""
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef)
    top = [n for n in tree.body if isinstance(n, kinds) and n.name == target.name]
    if len(top) > 1:
        raise CandidateError(f"the reply defines '{target.name}' more than once; give one definition")
    if top:
        return top[0]
    found: list[tuple[bool, ast.FunctionDef | ast.AsyncFunctionDef]] = []

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                for inner in node.body:
                    if isinstance(inner, kinds) and inner.name == target.name:
                        found.append((node.name == target.class_name, inner))
                visit(node.body)

    visit(tree.body)
    if not found:
        raise CandidateError(f"the reply does not define a function named '{target.name}'")
    found.sort(key=lambda pair: not pair[0])
    return found[0][1]


def _imports(tree: ast.Module) -> list[str]:
    lines: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            line = ast.unparse(node)
            if line not in lines:
                lines.append(line)
    return lines


def _outside_names(tree: ast.Module, fn: ast.AST, target: Target) -> set[str]:
    """Names the reply binds at top level with code other than imports (the
    function itself and a class wrapping it excluded)."""
    names: set[str] = set()
    for node in tree.body:
        if node is fn:
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            if not any(inner is fn for inner in ast.walk(node)):
                names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            for tgt in node.targets if isinstance(node, ast.Assign) else [node.target]:
                names.update(n.id for n in ast.walk(tgt) if isinstance(n, ast.Name))
    names.discard(target.name)
    if target.class_name:
        names.discard(target.class_name)
    return names


def _free_names(fn: ast.AST) -> set[str]:
    """Names ``fn`` reads but does not bind itself (nested scopes lumped in)."""
    loads, bound = set(), set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Name):
            (loads if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node is not fn:
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            bound.add(node.name)
    return loads - bound


def _normal_decorator(text: str) -> str:
    try:
        return ast.unparse(ast.parse(text.strip(), mode="eval").body)
    except SyntaxError:
        return " ".join(text.split())


def _check(fn: ast.FunctionDef | ast.AsyncFunctionDef, tree: ast.Module, target: Target) -> None:
    is_async = isinstance(fn, ast.AsyncFunctionDef)
    if is_async != target.is_async:
        raise CandidateError(f"'{target.name}' must {'' if target.is_async else 'not '}be 'async def' "
                             "as in the spec")
    params = param_names(fn.args)
    if params != target.params:
        raise CandidateError(f"the parameters changed: expected ({', '.join(target.params)}), "
                             f"got ({', '.join(params)})")
    decorators = [ast.unparse(d) for d in fn.decorator_list]
    expected = [_normal_decorator(d) for d in target.decorators]
    if decorators and decorators != expected:
        shown = ", ".join("@" + d for d in expected) or "none"
        raise CandidateError(f"the decorators changed: keep {shown}")
    helpers = sorted(_free_names(fn) & _outside_names(tree, fn, target))
    if helpers:
        raise CandidateError(f"'{target.name}' uses {', '.join(repr(h) for h in helpers)} defined outside it; "
                             "define helpers inside the function body")


def _body(fn: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str], keep: set[int], def_col: int) -> str:
    doc = docstring_node(fn.body)
    stmts = fn.body[1:] if doc else fn.body
    if not stmts or all(is_stub_statement(s) for s in stmts):
        raise CandidateError(f"the body of '{fn.name}' is still a stub: write the implementation")
    first, last = stmts[0], stmts[-1]
    row = min([first.lineno, *(d.lineno for d in getattr(first, "decorator_list", []))]) - 1
    col = len(lines[first.lineno - 1].encode("utf-8")[: first.col_offset].decode("utf-8", errors="ignore"))
    end = last.end_lineno - 1  # type: ignore[operator]
    if lines[row][:col].strip():          # the body shares a line with the header or docstring
        return "\n".join([lines[row][col:], *lines[row + 1:end + 1]]) + "\n"
    above = doc.end_lineno if doc else fn.lineno   # first line after the docstring / def line
    top = row
    while top - 1 >= above and (not lines[top - 1].strip() or lines[top - 1].lstrip().startswith("#")) \
            and top - 1 not in keep:
        top -= 1
    body = _dedent(lines[top:end + 1], top, col, keep)
    # a line of whitespace only keeps its whitespace counted from the def's column, so that the
    # edit can shift it with the def (a blank line indented like the code around it stays so)
    for i, line in enumerate(lines[top:end + 1]):
        if line and not line.strip() and i + top not in keep:
            body[i] = line[min(len(line), def_col):]
    return "\n".join(body) + "\n"


def parse_candidate(code: str, target: Target) -> Candidate:
    """Check a reply's code against ``target`` and cut out what the edit needs."""
    text = _unwrap(code).strip("\n") + "\n"
    if not text.strip():
        raise CandidateError("the reply holds no code")
    if text[0] in " \t":                 # a method written without its class, still indented
        raw = text.split("\n")
        first = next(line for line in raw if line.strip())
        text = "\n".join(_dedent(raw, 0, len(first) - len(first.lstrip()), string_lines(text)))
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise CandidateError(f"the code does not parse: line {exc.lineno}: {exc.msg}") from None
    except ValueError as exc:
        raise CandidateError(f"the code does not parse: {exc}") from None
    fn = _find_function(tree, target)
    _check(fn, tree, target)
    lines = text.split("\n")
    keep = string_lines(text)
    start = min([fn.lineno, *(d.lineno for d in fn.decorator_list)]) - 1
    indent = len(lines[start]) - len(lines[start].lstrip())
    body = _body(fn, lines, keep, indent)
    own = _dedent(lines[start:fn.end_lineno], start, indent, keep)  # type: ignore[misc]
    return Candidate(function_code="\n".join(own).rstrip("\n") + "\n", body=body, imports=_imports(tree))
