"""What the editor holds after an applied edit, until its ``didChange`` arrives.

An editor applies a ``workspace/applyEdit`` to its buffer at once, but may
send the matching ``didChange`` much later (eglot sends it when its command
loop runs, seconds later).  Until then the server's synced copy is older than
the text on the user's screen.  Nothing here waits for a fixed time; the
events decide:

* The edit's own text (``Awaiting.text``) is what the editor holds once it
  answered ``applied: true``.  The result's diagnostics are placed in that text
  and published at once; the registry is not mapped back to the older copy.
* The change that carries the edit: for a versioned edit (made against
  version ``v``) any ``didChange`` with a version above ``v`` (an editor only
  applies a versioned edit on top of ``v``, so the next version holds it); for
  an unversioned edit, a copy equal to the edit's text, or the first
  ``didChange`` received after the editor's answer (an editor's messages
  arrive in order, so a change sent after applying comes after the answer).
* Work that reads the document meanwhile (the next edit to the same file, a
  preview, a new job) reads the edit's text, and an edit computed on it goes
  out without a version: the editor's version number is not known yet.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass
class Awaiting:
    version: int | None          # the version the edit was made against (None: unversioned)
    text: str                    # the text the edit produces
    answered: bool = False       # the editor answered applyEdit with applied: true
    landed: asyncio.Event = field(default_factory=asyncio.Event)


class DocSync:
    """Per document: the applied edit whose ``didChange`` has not arrived yet, and the lock
    that sends one edit at a time."""

    def __init__(self) -> None:
        self._awaiting: dict[str, Awaiting] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def edit_lock(self, uri: str) -> asyncio.Lock:
        """Held while an edit to ``uri`` is computed and sent: one edit at a time per document,
        each computed on the text the one before produced."""
        return self._locks.setdefault(uri, asyncio.Lock())

    def sent(self, uri: str, version: int | None, text: str) -> Awaiting:
        """An edit is on its way to the editor."""
        waiting = Awaiting(version, text)
        old = self._awaiting.get(uri)
        if old is not None:
            old.landed.set()
        self._awaiting[uri] = waiting
        return waiting

    def refused(self, uri: str, waiting: Awaiting) -> None:
        if self._awaiting.get(uri) is waiting:
            del self._awaiting[uri]
        waiting.landed.set()

    def answered(self, uri: str, waiting: Awaiting, version: int | None, text: str | None) -> bool:
        """The editor applied the edit; ``version`` and ``text`` are the server's copy now.
        True when that copy already holds the edit (its didChange came first)."""
        waiting.answered = True
        landed = text is None or text == waiting.text or (
            waiting.version is not None and version is not None and version > waiting.version)
        if landed:
            self.refused(uri, waiting)      # nothing to wait for
        return landed

    def changed(self, uri: str, version: int | None, text: str) -> None:
        """A ``didChange`` arrived (the server's copy is updated already)."""
        waiting = self._awaiting.get(uri)
        if waiting is None:
            return
        if waiting.answered or text == waiting.text or (
                waiting.version is not None and version is not None and version > waiting.version):
            del self._awaiting[uri]
            waiting.landed.set()

    def waiting(self, uri: str) -> Awaiting | None:
        """The applied edit the server's copy does not hold yet (None: the copy is current)."""
        waiting = self._awaiting.get(uri)
        return waiting if waiting is not None and waiting.answered else None

    def closed(self, uri: str) -> None:
        waiting = self._awaiting.pop(uri, None)
        if waiting is not None:
            waiting.landed.set()
