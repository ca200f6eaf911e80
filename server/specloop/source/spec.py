"""Spec finder: the targets in a Python source that specloop can implement.

Longer than 400 lines because a target's data (its ranges, spec text, examples and
fingerprint) is filled in by the same walk that decides what counts as a stub; the
finder's rules are easier to check next to the fields they fill.

The data types come first; the finder (``find_targets``, ``find_target``) and
the decisions it makes are below them.
"""

from __future__ import annotations

import ast
import asyncio
import bisect
import doctest
import gc
import hashlib
import re
import threading
import tokenize
from collections import OrderedDict
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


# ---------------------------------------------------------------------------
# The finder
# ---------------------------------------------------------------------------
#
# Decisions:
# - Targets are functions at module level and methods of classes at module
#   level (classes nested at any depth).  Functions inside functions, and
#   functions under top-level ``if``/``try`` blocks, are not targets.
# - A body qualifies when it is a docstring, one or more stub statements
#   (``...``, ``pass``, ``raise NotImplementedError[(...)]``), or a docstring
#   followed by stub statements.  It must carry a spec: a non-blank docstring
#   or a ``# spec:`` comment block directly above the def/decorators.  The
#   comment block is recorded even when a docstring exists; ``Target.spec``
#   prefers the docstring.
# - Deliberate stubs are left alone: functions decorated with ``overload`` or
#   ``abstractmethod`` (any spelling ending in those names) and methods of
#   classes that derive from ``Protocol``.
# - ``body_range`` (see ``Target``): docstring only -> from the end of the
#   docstring statement to the end of its line (a trailing comment there is
#   kept: the range then starts after it; a backslash continuation there is
#   inside the range, so the edit drops it); stub statements on their own lines
#   -> from the first stub statement to the end of the function's last line
#   (a comment on the stub line goes with the stub); a body on the def line
#   (``def f(): ...``, ``def f(): """doc"""``) -> from just after the colon to
#   the end of the function's last line, so the docstring, if any, is inside
#   the range and the edit must write it back on its own line.
# - Speed: the source is cut into top-level chunks at lines starting with
#   ``def``/``class``/``async``/``@`` after a blank line (so a decorator and
#   its def stay together), and what each chunk yields is cached by its text
#   (4,096 chunks, least recently used out).  A file seen for the first time is
#   parsed whole and its chunks remembered when every cut fell on a top-level
#   statement; a file mostly seen before re-parses only its new chunks, so the
#   request after a keystroke parses one function.  A chunk that fails on its
#   own (a cut inside a string, or a real error) sends the request to the
#   whole-file parse, which gives the exact error or the right tree.  A chunk's
#   text is the exact slice of the file (its own newlines, no newline added at
#   the end), so a remembered chunk stands only for that same text.
# - ``Target.newline`` is the newline ending the function's last line (or the
#   line before it), so in a file with mixed or CR-only newlines the inserted
#   body matches the lines around it.

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_CHUNK_START = re.compile(r"(?:def|class|async)\b|@")
_SPEC_TAG = re.compile(r"#\s*spec:\s?", re.IGNORECASE)
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


class _File:
    """Lines of the source split the way Python's tokenizer splits them."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines = _LINE_BREAK.split(source)
        breaks = list(_LINE_BREAK.finditer(source))
        self.breaks = [m.group() for m in breaks]          # the newline that ends each line
        self.offsets = [0, *(m.end() for m in breaks)]     # where each line starts
        self._unit: str | None = None

    def newline_at(self, line: int) -> str:
        """The newline around ``line``: the one ending it, else the one before it, else "\\n"."""
        for i in (line, line - 1):
            if 0 <= i < len(self.breaks):
                return self.breaks[i]
        return "\n"

    def col(self, line: int, byte_col: int) -> int:
        text = self.lines[line]
        if text.isascii():
            return byte_col
        return len(text.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))

    def text(self, start: Pos, end: Pos) -> str:
        """The source between two positions, exactly (its own newlines)."""
        return self.source[self.offsets[start.line] + start.col: self.offsets[end.line] + end.col]

    @property
    def indent_unit(self) -> str:
        """The file's indentation step: the first indented block after a ``:`` line."""
        if self._unit is None:
            self._unit = "    "
            prev = ""
            for line in self.lines:
                stripped = line.lstrip()
                if not stripped or stripped.startswith("#"):
                    continue
                indent = line[: len(line) - len(stripped)]
                outer = prev[: len(prev) - len(prev.lstrip())]
                if prev.rstrip().endswith(":") and indent.startswith(outer) and len(indent) > len(outer):
                    self._unit = indent[len(outer):]
                    break
                prev = line
        return self._unit


def _comment_spec(f: _File, first_line: int) -> str | None:
    i = first_line - 1
    while i >= 0 and f.lines[i].lstrip().startswith("#"):
        if _SPEC_TAG.match(f.lines[i].lstrip()):
            break
        i -= 1
    else:
        return None
    texts = []
    for n, line in enumerate(f.lines[i:first_line]):
        body = line.lstrip()
        body = body[_SPEC_TAG.match(body).end():] if n == 0 else body[1:]  # type: ignore[union-attr]
        texts.append((body[1:] if body.startswith(" ") and n else body).rstrip())
    text = "\n".join(texts).strip("\n").strip()
    return text or None


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


def _is_blank_tail(text: str) -> bool:
    """Nothing but blanks, semicolons and a backslash continuation: text the body may replace."""
    return not text.strip().removesuffix("\\").strip().strip(";").strip()


def _target(f: _File, s: _Stub) -> Target | None:
    first_line = min([s.def_line, *(d[0] for d in s.decorators)])
    comment = _comment_spec(f, first_line)
    if not (s.docstring and s.docstring.strip()) and not comment:
        return None
    name_pos, colon = Pos(*s.name_pos), Pos(*s.colon)
    end_line = s.end[0]
    end = Pos(end_line, f.col(end_line, s.end[1]))
    line_end = Pos(end_line, len(f.lines[end_line]))
    body_first = s.doc_span or s.first_stub
    assert body_first is not None
    if body_first[0] == colon.line:                       # body on the def line
        body_start = colon
        def_indent = f.lines[s.def_line][: len(f.lines[s.def_line]) - len(f.lines[s.def_line].lstrip())]
        body_indent = def_indent + ("\t" if "\t" in def_indent else f.indent_unit)
    else:
        body_indent = f.lines[body_first[0]][: f.col(body_first[0], body_first[1])]
        if s.first_stub is None or (s.doc_span and s.first_stub[0] == s.doc_span[2]):
            doc_end = Pos(s.doc_span[2], f.col(s.doc_span[2], s.doc_span[3]))  # type: ignore[index]
            tail = f.lines[doc_end.line][doc_end.col:]
            body_start = doc_end if _is_blank_tail(tail) or s.first_stub else \
                Pos(doc_end.line, len(f.lines[doc_end.line]))
        else:
            body_start = Pos(s.first_stub[0], f.col(s.first_stub[0], s.first_stub[1]))
    start = Pos(first_line, 0)
    return Target(
        name=s.name, qualname=s.qualname, is_async=s.is_async, class_name=s.class_name,
        params=list(s.params),
        decorators=[f.text(Pos(d[0], f.col(d[0], d[1])), Pos(d[2], f.col(d[2], d[3])))
                    for d in s.decorators],
        header=f.text(start, colon), docstring=s.docstring, comment_spec=comment,
        examples=list(s.examples), def_range=Range(start, end),
        name_range=Range(name_pos, Pos(name_pos.line, name_pos.col + len(s.name))),
        body_range=Range(body_start, line_end), body_indent=body_indent,
        newline=f.newline_at(end_line))


def find_targets(source: str) -> FindResult:
    """Every target in ``source``, in file order; a file that does not parse
    gives no targets and ``error="line N: message"`` (never an exception)."""
    f = _File(source)
    try:
        stubs = _stubs(source, f.lines, f.offsets)
    except _Unparsable as exc:
        return FindResult([], error=str(exc))
    targets = [t for t in (_target(f, s) for s in stubs) if t is not None]
    return FindResult(targets)


def find_target(source: str, qualname: str) -> Target | None:
    """The target called ``qualname`` ("f", "Class.method"), or None."""
    return next((t for t in find_targets(source).targets if t.qualname == qualname), None)


# ---------------------------------------------------------------------------
# Per document version (the language server)
# ---------------------------------------------------------------------------
#
# Decisions:
# - An editor asks for code actions and code lenses of the same document
#   version again and again (every cursor move); the chunk cache above still
#   splits and slices the whole text each time (8 ms at 20,000 lines).  So
#   the result of the last version of each document is remembered by its key
#   (the URI) and version, and stands only for the very same text (compared,
#   so a client that reuses a version number gets no stale answer).  At most
#   DOC_CACHE_LIMIT documents, least recently used out.
# - ``find_targets_async`` answers a hit at once and runs a miss on a large
#   text (OFFLOOP_CHARS and up) in a worker thread, so an event loop does not
#   parse 20,000 lines while requests wait.
# - A FindResult handed out is a fresh object with its own list; the Target
#   objects in it are shared and must be treated as read-only.

DOC_CACHE_LIMIT = 64
OFFLOOP_CHARS = 20_000
_docs: OrderedDict[str, tuple[int | None, str, FindResult]] = OrderedDict()


def _copy(result: FindResult) -> FindResult:
    return FindResult(list(result.targets), result.error)


def cached_targets(key: str, version: int | None, source: str) -> FindResult | None:
    """The remembered targets of document ``key`` at ``version`` with exactly this text, or None."""
    with _cache_lock:
        hit = _docs.get(key)
        if hit is None or hit[0] != version or hit[1] != source:
            return None
        _docs.move_to_end(key)
    return _copy(hit[2])


def find_targets_for(key: str, version: int | None, source: str) -> FindResult:
    """:func:`find_targets` for version ``version`` of document ``key`` (e.g. its URI),
    remembered until the document's next version."""
    hit = cached_targets(key, version, source)
    if hit is not None:
        return hit
    result = find_targets(source)
    with _cache_lock:
        _docs[key] = (version, source, result)
        _docs.move_to_end(key)
        while len(_docs) > DOC_CACHE_LIMIT:
            _docs.popitem(last=False)
    return _copy(result)


def forget_document(key: str) -> None:
    """Drop what is remembered for document ``key`` (closed)."""
    with _cache_lock:
        _docs.pop(key, None)


async def find_targets_async(key: str, version: int | None, source: str) -> FindResult:
    """:func:`find_targets_for` that keeps a large miss off the event loop."""
    hit = cached_targets(key, version, source)
    if hit is not None:
        return hit
    if len(source) < OFFLOOP_CHARS:
        return find_targets_for(key, version, source)
    return await asyncio.to_thread(find_targets_for, key, version, source)
