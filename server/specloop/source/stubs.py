"""Which functions of a Python source are stubs with a spec, read from its tree chunk by
chunk and remembered per chunk text (:func:`_stubs`), and the helpers that judge a body
(:func:`is_stub_statement`, :func:`docstring_node`); :mod:`spec` turns what is found here
into :class:`~.target.Target` objects.

Decisions:

- Targets are functions at module level and methods of classes at module level (classes
  nested at any depth).  Functions inside functions, and functions under top-level
  ``if``/``try`` blocks, are not targets.
- A body qualifies when it is a docstring, one or more stub statements (``...``, ``pass``,
  ``raise NotImplementedError[(...)]``), or a docstring followed by stub statements.  It
  must carry a spec: a non-blank docstring or a ``# spec:`` comment block directly above
  the def/decorators (checked by :mod:`spec`).
- Deliberate stubs are left alone: functions decorated with ``overload`` or
  ``abstractmethod`` (any spelling ending in those names) and methods of classes that
  derive from ``Protocol``.
- Speed: the source is cut into top-level chunks at lines starting with
  ``def``/``class``/``async``/``@`` after a blank line (so a decorator and its def stay
  together), and what each chunk yields is cached by its text (4,096 chunks, least
  recently used out).  A file seen for the first time is parsed whole and its chunks
  remembered when every cut fell on a top-level statement; a file mostly seen before
  re-parses only its new chunks, so the request after a keystroke parses one function.
  A chunk that fails on its own (a cut inside a string, or a real error) sends the
  request to the whole-file parse, which gives the exact error or the right tree.  A
  chunk's text is the exact slice of the file (its own newlines, no newline added at the
  end), so a remembered chunk stands only for that same text.
"""

from __future__ import annotations

import ast
import bisect
import doctest
import gc
import re
import threading
import tokenize
from collections import OrderedDict
from dataclasses import dataclass, field

from .target import Example

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_CHUNK_START = re.compile(r"(?:def|class|async)\b|@")
_SKIP_DECORATORS = {"overload", "abstractmethod", "abstractproperty", "abstractclassmethod",
                    "abstractstaticmethod"}
_CACHE_LIMIT = 4096
_cache: OrderedDict[str, list[_Stub]] = OrderedDict()
_cache_lock = threading.Lock()

Span = tuple[int, int, int, int]   # (lineno 0-based, byte col, end lineno 0-based, end byte col)


@dataclass
class _Stub:
    """What a chunk's tree says about one stub function (lines relative to the chunk)."""

    name: str
    qualname: str
    is_async: bool
    class_name: str | None
    params: list[str]
    decorators: list[Span]
    def_line: int
    end: tuple[int, int]
    docstring: str | None
    doc_span: Span | None
    first_stub: Span | None
    name_pos: tuple[int, int] = (0, 0)   # (line, char col) of the name token
    colon: tuple[int, int] = (0, 0)      # (line, char col) just after the header's colon
    examples: list[Example] = field(default_factory=list)

    def moved(self, off: int) -> _Stub:
        def mv(s: Span | None) -> Span | None:
            return None if s is None else (s[0] + off, s[1], s[2] + off, s[3])
        return _Stub(self.name, self.qualname, self.is_async, self.class_name, self.params,
                     [mv(d) for d in self.decorators], self.def_line + off,  # type: ignore[misc]
                     (self.end[0] + off, self.end[1]), self.docstring, mv(self.doc_span),
                     mv(self.first_stub), (self.name_pos[0] + off, self.name_pos[1]),
                     (self.colon[0] + off, self.colon[1]), self.examples)


def _span(node: ast.AST) -> Span:
    return (node.lineno - 1, node.col_offset, node.end_lineno - 1, node.end_col_offset)  # type: ignore[attr-defined,operator]


def _tail_name(expr: ast.expr) -> str:
    if isinstance(expr, ast.Call):
        expr = expr.func
    if isinstance(expr, ast.Subscript):
        expr = expr.value
    if isinstance(expr, ast.Attribute):
        return expr.attr
    return expr.id if isinstance(expr, ast.Name) else ""


def is_stub_statement(stmt: ast.stmt) -> bool:
    """``...``, ``pass`` or ``raise NotImplementedError`` / ``raise NotImplementedError(...)``."""
    if isinstance(stmt, ast.Pass):
        return True
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
        return stmt.value.value is Ellipsis
    if isinstance(stmt, ast.Raise) and stmt.exc is not None and stmt.cause is None:
        exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
        return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"
    return False


def docstring_node(body: list[ast.stmt]) -> ast.Expr | None:
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
            and isinstance(first.value.value, str):
        return first
    return None


def param_names(args: ast.arguments) -> list[str]:
    names = [a.arg for a in (*args.posonlyargs, *args.args)]
    if args.vararg:
        names.append(args.vararg.arg)
    names += [a.arg for a in args.kwonlyargs]
    if args.kwarg:
        names.append(args.kwarg.arg)
    return names


def _scan(body: list[ast.stmt], quals: list[str], cls: str | None, protocol: bool,
          out: list[_Stub]) -> None:
    for node in body:
        if isinstance(node, ast.ClassDef):
            proto = any(_tail_name(b) == "Protocol" for b in node.bases)
            _scan(node.body, [*quals, node.name], node.name, proto, out)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not protocol:
            if any(_tail_name(d) in _SKIP_DECORATORS for d in node.decorator_list):
                continue
            doc = docstring_node(node.body)
            rest = node.body[1:] if doc else node.body
            if not all(is_stub_statement(s) for s in rest):
                continue
            out.append(_Stub(
                name=node.name, qualname=".".join([*quals, node.name]),
                is_async=isinstance(node, ast.AsyncFunctionDef), class_name=cls,
                params=param_names(node.args), decorators=[_span(d) for d in node.decorator_list],
                def_line=node.lineno - 1, end=(node.end_lineno - 1, node.end_col_offset),  # type: ignore[operator]
                docstring=ast.get_docstring(node) if doc else None,
                doc_span=_span(doc) if doc else None, first_stub=_span(rest[0]) if rest else None))


def _complete(stubs: list[_Stub], lines: list[str]) -> list[_Stub]:
    """Add header positions and doctest examples; drop what cannot be tokenized."""
    done = []
    for s in stubs:
        found = _header_tokens(lines, s.def_line)
        if found is None:
            continue
        s.name_pos, s.colon = found
        if s.docstring:
            try:
                s.examples = [Example(e.source, e.want, e.lineno)
                              for e in doctest.DocTestParser().get_examples(s.docstring)]
            except ValueError:
                s.examples = []
        done.append(s)
    return done


def _chunks(source: str, lines: list[str], offsets: list[int]) -> list[tuple[int, str]]:
    """(first line, text) of each chunk.  The text is the exact slice of the
    source, newlines and all: a chunk is parsed on its own only to stand for
    the same text inside the file, and a chunk that gained a newline the file
    lacks (a backslash at the end of the file) parsed where the file did not."""
    starts = [0] + [i for i, line in enumerate(lines)
                    if line[:1] in "dca@" and i and not lines[i - 1].strip() and _CHUNK_START.match(line)]
    ends = [offsets[i] for i in starts[1:]] + [len(source)]
    return [(a, source[offsets[a]:end]) for a, end in zip(starts, ends)]


def _parse(text: str) -> ast.Module:
    """``ast.parse`` with the cyclic collector paused: the tree is many small
    objects and no cycles, and collections during the build cost about 20%."""
    paused = gc.isenabled()
    gc.disable()
    try:
        return ast.parse(text)
    finally:
        if paused:
            gc.enable()


def _parse_error(exc: BaseException, source: str) -> str:
    if isinstance(exc, SyntaxError):
        line = exc.lineno or (source.count("\n", 0, source.find("\0")) + 1 if "\0" in source else 1)
        return f"line {line}: {exc.msg}"
    return f"line 1: {type(exc).__name__}: {exc}"


def _remember(text: str, stubs: list[_Stub]) -> None:
    with _cache_lock:
        _cache[text] = stubs
        while len(_cache) > _CACHE_LIMIT:
            _cache.popitem(last=False)


def _whole(source: str, lines: list[str], chunks: list[tuple[int, str]]) -> list[_Stub]:
    """Parse the whole file once; when every chunk cut falls on a top-level
    statement, remember each chunk's stubs too.  Raises _Unparsable."""
    try:
        tree = _parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        raise _Unparsable(_parse_error(exc, source)) from None
    offs = [off for off, _ in chunks]
    per_chunk: list[list[_Stub]] = [[] for _ in chunks]
    starts = set()
    found: list[_Stub] = []
    for node in tree.body:
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))]) - 1
        starts.add(first)
        mine: list[_Stub] = []
        _scan([node], [], None, False, mine)
        mine = _complete(mine, lines)
        found += mine
        k = bisect.bisect_right(offs, first) - 1
        per_chunk[k] += [s.moved(-offs[k]) for s in mine]
    if set(offs[1:]) <= starts and "barry_as_FLUFL" not in source:
        for (_, text), stubs in zip(chunks, per_chunk):
            _remember(text, stubs)
    return found


def _stubs(source: str, lines: list[str], offsets: list[int]) -> list[_Stub]:
    """All stub functions of the file with absolute lines; raises _Unparsable.
    Mostly-unknown files are parsed whole; known ones chunk by chunk."""
    chunks = _chunks(source, lines, offsets)
    with _cache_lock:
        known = [_cache.get(text) for _, text in chunks]
    missing = sum(k is None for k in known)
    if missing * 2 > len(chunks) or "barry_as_FLUFL" in source:   # that future changes the tokenizer
        return _whole(source, lines, chunks)
    found: list[_Stub] = []
    for (off, text), cached in zip(chunks, known):
        if cached is None:
            try:
                cached = []
                _scan(_parse(text).body, [], None, False, cached)
            except (SyntaxError, ValueError, MemoryError, RecursionError):
                return _whole(source, lines, chunks)
            cached = _complete(cached, _LINE_BREAK.split(text))
            _remember(text, cached)
        else:
            with _cache_lock:
                if text in _cache:
                    _cache.move_to_end(text)
        found += [s.moved(off) for s in cached]
    return found


class _Unparsable(Exception):
    pass


def _header_tokens(lines: list[str], def_line: int) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """The function's name token and the position just after the header's colon."""
    rows = iter(lines[def_line:])
    name: tuple[int, int] | None = None
    depth = 0
    seen_def = False
    try:
        for tok in tokenize.generate_tokens(lambda: next(rows, "") + "\n"):
            line = def_line + tok.start[0] - 1
            if tok.type == tokenize.NAME and not seen_def:
                seen_def = tok.string == "def"
            elif tok.type == tokenize.NAME and name is None:
                name = (line, tok.start[1])
            elif tok.type == tokenize.OP and tok.string in "([{":
                depth += 1
            elif tok.type == tokenize.OP and tok.string in ")]}":
                depth -= 1
            elif tok.type == tokenize.OP and tok.string == ":" and depth == 0 and name:
                return name, (line, tok.end[1])
    except (tokenize.TokenError, SyntaxError):
        pass
    return None
