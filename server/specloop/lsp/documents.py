"""The targets of each open document, found off the event loop, and what code actions and
code lenses are answered from while the user types.

An editor asks for code actions and code lenses on every cursor move and after every
keystroke.  Finding the targets means parsing the text (``targets.find_all``: each kind's
finder; tens of milliseconds at 2,000 lines, hundreds at 20,000), and in the server's process that parse
holds the GIL, so every request waits for it.  So:

* **Parsed off the loop.**  Each open document is parsed in a process of its own
  (:func:`.offload.parse_call`: one worker, with its own chunk cache, kept apart from the
  job's context workers so a job never delays it; a thread when it cannot start).  On the
  event loop a change only records where it fell (its range and how many lines it holds).
* **Debounced.**  A parse starts :data:`DEBOUNCE` seconds after the last change, and at
  most :data:`MAX_DELAY` seconds after the first change it has not seen yet, so a target
  typed while typing goes on appears within about half a second; one parse per document
  runs at a time, the next takes the text as it is then.  ``didOpen`` parses at once.
* **Answered from the last parse, moved by the edits since.**  A request on a version not
  parsed yet is answered from the last text that parsed, each target's lines moved through
  the edits made since (the ranges ``didChange`` sent, in order): a target below an edit
  moves by the lines it added or removed, an edit inside a function keeps the function
  and moves its end.  A target whose header an edit touched (a function's lines from its
  first decorator to its name, a class's header, a module spec's ``# spec:`` line) is
  left out until the next parse: its name, or whether it is a target at all, may have
  changed.  A target typed since the last parse is not known yet and appears after it;
  the client is asked to re-fetch its lenses when a parse changes what they show
  (``on_parsed``).  Only line numbers are moved (actions and lenses use lines only); the
  columns of a moved target are those of the parse.  So a request never waits for a
  parse while the user types.  It waits (the handler awaits the parse; the loop goes on)
  for a document with no parse yet (just opened); after a change that is not a keystroke:
  one that sent the whole text (no range to move lines by) or replaced or inserted more
  than one line (a paste, a deleted block, an applied result: it makes and unmakes
  targets, so an action or lens after it is exact), until that version is parsed (at
  once, not debounced); and for a text that is not the synced document's (an applied
  edit whose ``didChange`` is due), parsed as it is.
* **While the text does not parse** (the user is halfway through a line), the last text
  that parsed, moved as above, answers; a document that never parsed has no targets.

The same parse gives the server what it needs after a change (``on_parsed``): the
diagnostics moved to the new text (without parsing it again on the loop) and the first
``didOpen`` with a spec starting litellm's import.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import targets
from ..source.locate import split_lines
from ..source.spec import Pos, Range
from . import offload

log = logging.getLogger(__name__)

DEBOUNCE = 0.1          # seconds of quiet after a change before the document is parsed again
MAX_DELAY = 0.5         # ... but at most this long after the first change not parsed yet
MAX_EDITS = 5000        # edits kept to move lines by; beyond that, requests wait for the parse


# -- the parse (runs in the parse worker process) ------------------------------------------------

def parse(text: str) -> tuple[list[Any], str | None]:
    """Every target of ``text`` of every kind (``targets.ordered``), and the parse error."""
    found, error = targets.find_all(text)
    return targets.ordered(found), error


@dataclass
class Parsed:
    version: int | None
    text: str
    targets: list[Any]          # of every kind (``specloop.targets``), the broader first
    error: str | None


@dataclass
class Known:
    """What a code action or lens request is answered from: the targets of ``text`` (the text
    the request is for), exact (``parsed_version == version``) or moved from an older parse."""
    text: str
    version: int | None
    targets: list[Any]          # of every kind (``specloop.targets``), the broader first
    parsed_version: int | None
    error: str | None = None
    _lines: list[str] | None = field(default=None, repr=False)

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = split_lines(self.text)
        return self._lines

    def signature(self) -> tuple[tuple[str, int], ...]:
        """What the lenses show of the targets: (name, line) in file order."""
        return tuple(sorted((t.qualname, t.def_range.start.line if t.def_range else 0) for t in self.targets))


# -- moving lines through edits ------------------------------------------------------------------

@dataclass(frozen=True)
class Edit:
    """One change as ``didChange`` sent it: lines ``first..last`` (of the text before it)
    replaced by a text of ``added + 1`` lines.  ``keeps_last``: line ``last`` survives whole
    (the change ends at its column 0 and what it inserts ends with a line break, or it
    deletes up to there from a column 0), now as line ``first + added``."""
    version: int | None
    first: int
    last: int
    added: int
    keeps_last: bool

    @classmethod
    def of(cls, version: int | None, change: Any) -> Edit | None:
        """The edit of an LSP content change; None for a change that sends the whole text."""
        rng = getattr(change, "range", None)
        if rng is None:
            return None
        text = change.text
        added = len(split_lines(text)) - 1
        start, end = rng.start, rng.end
        if (end.line, end.character) < (start.line, start.character):
            start, end = end, start
        keeps = end.character == 0 and (text.endswith(("\n", "\r")) if text else start.character == 0)
        return cls(version, start.line, end.line, added, keeps)

    @property
    def large(self) -> bool:
        """More than one line replaced or inserted: not a keystroke (a paste, a block deleted,
        an applied result), and likely to make or unmake targets."""
        return self.last - self.first + self.added > 1

    def line(self, line: int, side: str) -> int | None:
        """``line`` after this edit.  ``side``: ``"anchor"`` (None when the edit touched it),
        ``"start"`` or ``"end"`` of a range (a touched line goes to the start or the end of
        what the edit inserted)."""
        if line < self.first:
            return line
        if line > self.last:
            return line + self.added - (self.last - self.first)
        if line == self.last and self.keeps_last:
            return self.first + self.added
        if side == "anchor":
            return None
        return self.first if side == "start" else self.first + self.added


def move_line(line: int, edits: list[Edit], side: str) -> int | None:
    for edit in edits:
        moved = edit.line(line, side)
        if moved is None:
            return None
        line = moved
    return line


def _moved_range(rng: Range | None, edits: list[Edit]) -> Range | None:
    if rng is None:
        return None
    start = move_line(rng.start.line, edits, "start")
    end = move_line(rng.end.line, edits, "end")
    assert start is not None and end is not None
    return Range(Pos(start, rng.start.col), Pos(max(start, end), rng.end.col))


def move_target(target: Any, edits: list[Edit]) -> Any | None:
    """``target`` in the text after ``edits``, or None when an edit touched its header."""
    lines = targets.of(target).header_lines(target)
    if lines is None:
        return target
    if any(move_line(line, edits, "anchor") is None for line in range(lines[0], lines[1] + 1)):
        return None
    changes: dict[str, Any] = {"def_range": _moved_range(target.def_range, edits)}
    for name in ("name_range", "body_range", "tag_range"):
        if hasattr(target, name):
            changes[name] = _moved_range(getattr(target, name), edits)
    return dataclasses.replace(target, **changes)


# -- per document ---------------------------------------------------------------------------------

@dataclass
class _Doc:
    version: int | None = None                       # the synced document's version
    good: Parsed | None = None                       # the newest parse that found no error
    newest: Parsed | None = None                     # the newest parse of the synced text
    edits: list[Edit] | None = field(default_factory=list)   # since ``good`` (None: unknown)
    timer: asyncio.TimerHandle | None = None
    waiting_since: float | None = None               # the first change not parsed yet (debounce)
    running: asyncio.Task[Parsed] | None = None
    again: bool = False                              # changed while ``running``
    view: Known | None = None                        # the answer for ``version``, once computed
    asked: bool = False                              # a request was answered (lenses shown)
    extra: Parsed | None = None                      # a parse of another text (an applied edit's)
    need: int | None = None                          # a version requests wait to see parsed


class Documents:
    """The parse state of the open documents (see the module docstring).

    ``current(uri)`` gives the synced document's text and version; ``on_parsed(uri, parsed,
    changed)`` is called on the event loop after each parse of the synced text (``changed``:
    the parse shows targets that moving the lines of the one before did not: one typed,
    renamed or gone; only once a request was answered)."""

    def __init__(self, current: Callable[[str], tuple[str, int | None]],
                 on_parsed: Callable[[str, Parsed, bool], None]) -> None:
        self._current = current
        self._on_parsed = on_parsed
        self._docs: dict[str, _Doc] = {}

    # -- events (on the event loop; cheap) --------------------------------------------------
    def opened(self, uri: str, version: int | None) -> None:
        self.closed(uri)
        doc = self._docs[uri] = _Doc(version=version)
        self._start(uri, doc)

    def changed(self, uri: str, version: int | None, changes: list[Any]) -> None:
        doc = self._docs.get(uri)
        if doc is None:
            return
        doc.version, doc.view = version, None
        for change in changes:
            edit = Edit.of(version, change)
            if edit is None or edit.large:
                doc.need = version
            if edit is None or doc.edits is None or len(doc.edits) >= MAX_EDITS:
                doc.edits = None
            else:
                doc.edits.append(edit)
        now = time.monotonic()
        if doc.waiting_since is None:
            doc.waiting_since = now
        if doc.timer is not None:
            doc.timer.cancel()
        delay = min(DEBOUNCE, max(0.0, doc.waiting_since + MAX_DELAY - now))
        if doc.need == version:
            delay = 0.0                      # requests wait for this parse: start it now
        doc.timer = asyncio.get_running_loop().call_later(delay, self._fire, uri)

    def closed(self, uri: str) -> None:
        doc = self._docs.pop(uri, None)
        if doc is not None and doc.timer is not None:
            doc.timer.cancel()

    # -- parsing --------------------------------------------------------------------------
    def _fire(self, uri: str) -> None:
        doc = self._docs.get(uri)
        if doc is not None:
            doc.timer = None
            self._start(uri, doc)

    def _start(self, uri: str, doc: _Doc) -> asyncio.Task[Parsed]:
        """Parse the synced text now, or once the parse running ends."""
        if doc.timer is not None:
            doc.timer.cancel()
            doc.timer = None
        if doc.running is not None:
            doc.again = True
            return doc.running
        text, version = self._current(uri)
        doc.waiting_since = None
        task = doc.running = asyncio.ensure_future(self._parse(text, version))
        task.add_done_callback(lambda task: self._parsed(uri, doc, task))
        return task

    @staticmethod
    async def _parse(text: str, version: int | None) -> Parsed:
        found, error = await asyncio.to_thread(offload.parse_call, parse, text)
        return Parsed(version, text, found, error)

    def _parsed(self, uri: str, doc: _Doc, task: asyncio.Task[Parsed]) -> None:
        doc.running = None
        if self._docs.get(uri) is not doc:
            return                                        # closed (or opened again) meanwhile
        if task.cancelled() or task.exception() is not None:
            if not task.cancelled():
                log.warning("targets of %s not found: %s", uri, task.exception())
        else:
            parsed = task.result()
            text, version = self._current(uri)
            known = doc.edits is not None and doc.newest is not None
            before = self._view(doc, text, version).signature() if known else None
            doc.newest, doc.view = parsed, None
            current = parsed.version is not None and parsed.version == doc.version
            if parsed.error is None:
                doc.good = parsed
                doc.edits = [] if current else (None if doc.edits is None else
                                                [e for e in doc.edits if not _covered(e.version, parsed.version)])
            elif doc.edits is None and current:
                doc.good, doc.edits = None, []            # nothing to move: the text does not parse
            if doc.edits is not None:
                try:
                    # the lenses change when the parse shows what moving lines could not (a
                    # target typed, renamed or gone), once the client has asked for them
                    changed = doc.asked and before != self._view(doc, text, version).signature()
                    self._on_parsed(uri, parsed, changed)
                except Exception:
                    log.exception("after the parse of %s", uri)
        if doc.again:
            doc.again = False
            self._start(uri, doc)

    # -- answers --------------------------------------------------------------------------
    def _view(self, doc: _Doc, text: str, version: int | None) -> Known:
        """The targets of the synced ``text`` at ``version`` (``doc.edits`` known)."""
        if doc.view is not None and doc.view.version == version and doc.view.text is text:
            return doc.view
        good, edits = doc.good, doc.edits or []
        if good is None:
            error = doc.newest.error if doc.newest is not None else None
            known = Known(text, version, [], None, error)
        elif not edits:
            known = Known(text, version, list(good.targets), good.version)
        else:
            moved = [m for m in (move_target(t, edits) for t in good.targets) if m is not None]
            known = Known(text, version, moved, good.version)
        doc.view = known
        return known

    def _ready(self, doc: _Doc | None, version: int | None) -> bool:
        return doc is not None and version is not None and version == doc.version \
            and doc.edits is not None and doc.newest is not None \
            and (doc.need is None or _covered(doc.need, doc.newest.version))

    async def known(self, uri: str, text: str, version: int | None) -> Known:
        """What a request on ``text`` (version ``version`` of document ``uri``; None: not the
        synced text) is answered from; waits only where the module docstring says."""
        doc = self._docs.get(uri)
        if doc is not None and version is not None and version == doc.version:
            while not self._ready(doc, version) and self._docs.get(uri) is doc and doc.version == version:
                task = doc.running if doc.running is not None and doc.timer is None else self._start(uri, doc)
                await asyncio.shield(task)
            if self._ready(doc, version) and self._docs.get(uri) is doc:
                doc.asked = True
                return self._view(doc, text, version)
        if doc is not None and doc.extra is not None and doc.extra.text == text:
            parsed = doc.extra
        else:
            parsed = await self._parse(text, version)
            if doc is not None:
                doc.extra = parsed
        return Known(text, version, list(parsed.targets), parsed.version, parsed.error)


def _covered(edit_version: int | None, parsed_version: int | None) -> bool:
    """Whether a parse of ``parsed_version`` saw an edit made at ``edit_version``."""
    if edit_version is None or parsed_version is None:
        return False
    return edit_version <= parsed_version
