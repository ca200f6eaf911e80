"""Spec finder: the targets in a Python source that specloop can implement
(:func:`find_targets`, :func:`find_target`), and their results remembered per document
version for the language server (:func:`find_targets_for`).

The target's data types are :mod:`target`'s; which functions are stubs, read chunk by
chunk and cached, is :mod:`stubs`'.  This module decides what of a stub becomes a target:
whether it carries a spec (its docstring, or the ``# spec:`` block above it), and the
ranges an edit replaces.  Both modules' names are imported here too, where the rest of
the engine has always found them.
"""

from __future__ import annotations

import asyncio
import re
from collections import OrderedDict

from .stubs import _LINE_BREAK, _cache_lock, _Stub, _stubs, _Unparsable
from .stubs import _parse, _tail_name, docstring_node, is_stub_statement, param_names  # noqa: F401
from .target import Example, FindResult, Pos, Range, Target  # noqa: F401

# ---------------------------------------------------------------------------
# The finder
# ---------------------------------------------------------------------------
#
# Decisions (which functions are stubs: :mod:`stubs`):
# - A stub must carry a spec: a non-blank docstring or a ``# spec:`` comment
#   block directly above the def/decorators.  The comment block is recorded
#   even when a docstring exists; ``Target.spec`` prefers the docstring.
# - ``body_range`` (see ``Target``): docstring only -> from the end of the
#   docstring statement to the end of its line (a trailing comment there is
#   kept: the range then starts after it; a backslash continuation there is
#   inside the range, so the edit drops it); stub statements on their own lines
#   -> from the first stub statement to the end of the function's last line
#   (a comment on the stub line goes with the stub); a body on the def line
#   (``def f(): ...``, ``def f(): """doc"""``) -> from just after the colon to
#   the end of the function's last line, so the docstring, if any, is inside
#   the range and the edit must write it back on its own line.
# - ``Target.newline`` is the newline ending the function's last line (or the
#   line before it), so in a file with mixed or CR-only newlines the inserted
#   body matches the lines around it.

_SPEC_TAG = re.compile(r"#\s*spec:\s?", re.IGNORECASE)


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
#   version again and again (every cursor move); the chunk cache (stubs) still
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
