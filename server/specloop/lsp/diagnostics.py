"""The diagnostics specloop publishes, kept in a registry per document.

Each entry remembers the function it belongs to (qualified name and the line
of its ``def``) and the line it names, in the text the registry last saw.  On
every change the registry maps those lines to the new text
(:func:`~specloop.lsp.positions.map_lines`): entries below an edit shift by its
line delta, an entry whose own line was replaced by a block of another size
is dropped, and all entries of a function whose ``def`` line is gone are
dropped.  A job's new result replaces the entries of its function.  A class
job's entries sit on the class name (its ``class`` line is their anchor), or on
its methods when they name one (where each kind of target places them: :func:`entries_of`).

Codes (source ``specloop``): ``test.failed`` (error, on the function's name),
``test.disputed`` (information: an advisory model test the code does not
obey), ``critic.<category>`` (the critic's severity, on the line it names; Information when
the critic approved the code all the same),
``spec.stale`` (warning: a result is kept because it cannot be placed right
now), ``job.error`` (error: the job produced nothing), ``spec.drift``
(warning, on the function's name: the spec of a function specloop implemented
changed while its body did not; see :mod:`.drift`).

Two kinds of entries: ``code`` entries are about the code in the document (a
critic finding, a test the applied code fails); they vanish when the function
is a stub again (the user undid the result) or is deleted.  ``result`` entries
are about a kept result or a failed job and sit on the stub's name (a
``test.failed`` of an attempt that was not applied, ``spec.stale``,
``job.error``); they stay until a newer result replaces them or the function
is deleted.  ``spec.drift`` entries are ``code`` entries (a stub again or
deleted: no drift), replaced as a set per document by :meth:`Registry.replace_code`
each time :mod:`.drift` looks at the text.

Clients send the diagnostics back with a code action request; Neovim 0.7 may
send only the fields it keeps (``code``, ``data``), so an entry is matched by
its id in ``data`` first, then by code and line.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from lsprotocol import types

from .. import targets
from ..results import Finding, JobResult, TestOutcome, failure_text, tests_count
from ..targets import Placed
from ..source.spec import Pos, Range
from .positions import PositionCodec, line_range, map_lines, split_lines, to_lsp_range

SOURCE = "specloop"
SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
    "information": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}
_ids = itertools.count(1)
Kind = Literal["code", "result"]


@dataclass
class Entry:
    qualname: str
    name: str
    code: str
    severity: types.DiagnosticSeverity
    message: str
    line: int                      # 0-based, in the registry's text
    anchor: int                    # the function's def line, same text
    on_name: bool = False          # range is the function's name rather than the whole line
    finding: dict[str, Any] | None = None
    kind: Kind = "code"
    id: str = field(default_factory=lambda: f"d{next(_ids)}")


@dataclass
class DocDiagnostics:
    text: str
    entries: list[Entry] = field(default_factory=list)


def severity_of(finding: Finding) -> types.DiagnosticSeverity:
    """The critic's severity; Information for a finding of a critic that approved the code
    (``Finding.approved``: shown, not flagged as a problem to fix)."""
    if finding.approved:
        return types.DiagnosticSeverity.Information
    return SEVERITY.get(finding.severity.lower(), types.DiagnosticSeverity.Warning)


def _test_message(outcome: TestOutcome) -> str:
    said = failure_text(outcome)
    return f"test {outcome.id} failed" + (f": {said}" if said else "")


def entries_of(placed: Placed) -> dict[str, list[Entry]]:
    """The diagnostics of a placed result (its kind's marks, :class:`~specloop.targets.Mark`), by
    the qualified name they belong to; every owner the result speaks for is a key, with an
    empty list when it has nothing to say."""
    out: dict[str, list[Entry]] = {owner: [] for owner in placed.owners}
    for mark in placed.marks:
        common = {"qualname": mark.owner, "name": mark.name, "anchor": mark.anchor, "line": mark.line,
                  "on_name": mark.on_name, "finding": mark.finding}
        item = mark.item
        if isinstance(item, Finding):
            entry = Entry(code=f"critic.{(item.category or 'quality').lower()}", severity=severity_of(item),
                          message=item.message, **common)
        elif mark.disputed:
            entry = Entry(code="test.disputed", severity=types.DiagnosticSeverity.Information,
                          message=f"disputed model test {item.id}: {item.message or 'fails'} (advisory; not obeyed)",
                          **common)
        else:
            entry = Entry(code="test.failed", severity=types.DiagnosticSeverity.Error, message=_test_message(item),
                          **common)
        out.setdefault(mark.owner, []).append(entry)
    return out


def stale_entry(qualname: str, name: str, def_line: int, reason: str) -> Entry:
    return Entry(qualname=qualname, name=name, code="spec.stale", severity=types.DiagnosticSeverity.Warning,
                 message=f"specloop's result was not applied: {reason}", line=def_line, anchor=def_line,
                 on_name=True, kind="result")


def offered_entry(result: JobResult, name: str, def_line: int) -> Entry:
    """The ``test.failed`` diagnostic of an attempt that was not applied: it names the first
    failure (or the error) and carries the quick fixes apply / show / try again."""
    total = result.passed + result.failed
    first = result.failures[0] if result.failures else None
    what = _test_message(first) if first is not None else (result.error or f"status {result.status}")
    tests = tests_count(result.status, result.passed, result.failed) if total else f"ended with {result.status}"
    message = f"specloop's best attempt for {name} {tests} and was not applied: {what}"
    return Entry(qualname=result.name, name=name, code="test.failed", severity=types.DiagnosticSeverity.Error,
                 message=message, line=def_line, anchor=def_line, on_name=True, kind="result",
                 finding={"test": first.id if first else None, "pending": True})


class Registry:
    """Published diagnostics per document URI."""

    def __init__(self) -> None:
        self.docs: dict[str, DocDiagnostics] = {}

    def entries(self, uri: str) -> list[Entry]:
        doc = self.docs.get(uri)
        return list(doc.entries) if doc else []

    def remap(self, uri: str, new_text: str, stubs: set[str] | None = None) -> bool:
        """Move the entries of ``uri`` to ``new_text``; True when anything moved or vanished.
        ``code`` entries of a function that is a stub again in ``new_text`` vanish; ``stubs``:
        the names of the stubs and class specs of ``new_text`` when the caller knows them (the
        server's parse off the event loop), else they are found here."""
        doc = self.docs.get(uri)
        if doc is None or doc.text == new_text:
            if doc is not None:
                doc.text = new_text
            return False
        mapping = map_lines(doc.text, new_text)
        lines = split_lines(new_text)
        if stubs is None and any(e.kind == "code" for e in doc.entries):
            stubs = {t.qualname for t in targets.ordered(targets.find_all(new_text)[0])}
        kept: list[Entry] = []
        changed = False
        for entry in doc.entries:
            anchor, line = mapping.get(entry.anchor), mapping.get(entry.line)
            alive = anchor is not None and anchor < len(lines) and targets.is_header(lines[anchor], entry.name)
            if not alive or line is None or (entry.kind == "code" and entry.qualname in (stubs or ())):
                changed = True
                continue
            if (anchor, line) != (entry.anchor, entry.line):
                changed = True
                entry.anchor, entry.line = anchor, line
            kept.append(entry)
        doc.text, doc.entries = new_text, kept
        return changed

    def replace_target(self, uri: str, text: str, qualname: str, entries: Iterable[Entry],
                       kinds: tuple[Kind, ...] = ("code", "result")) -> None:
        """The entries of ``qualname`` of the given kinds become ``entries`` (placed in ``text``)."""
        self.remap(uri, text)
        doc = self.docs.setdefault(uri, DocDiagnostics(text))
        doc.text = text
        doc.entries = [e for e in doc.entries if e.qualname != qualname or e.kind not in kinds] + list(entries)

    def replace_code(self, uri: str, text: str, code: str, entries: Iterable[Entry]) -> bool:
        """The entries with diagnostic code ``code`` in ``uri`` become ``entries`` (placed in
        ``text``); the other entries stay.  True when what is published changed."""
        changed = self.remap(uri, text)
        entries = list(entries)
        doc = self.docs.get(uri)
        if doc is None:
            if not entries:
                return changed
            doc = self.docs.setdefault(uri, DocDiagnostics(text))
        old = [e for e in doc.entries if e.code == code]
        key = lambda e: (e.qualname, e.message, e.line, e.severity)  # noqa: E731
        if sorted(map(key, old)) == sorted(map(key, entries)):
            return changed
        doc.entries = [e for e in doc.entries if e.code != code] + entries
        return True

    def remove(self, uri: str, entry_id: str) -> bool:
        doc = self.docs.get(uri)
        if doc is None:
            return False
        before = len(doc.entries)
        doc.entries = [e for e in doc.entries if e.id != entry_id]
        return len(doc.entries) != before

    def find(self, uri: str, entry_id: str) -> Entry | None:
        return next((e for e in self.entries(uri) if e.id == entry_id), None)

    def drop_document(self, uri: str) -> None:
        self.docs.pop(uri, None)

    def to_lsp(self, uri: str, codec: PositionCodec) -> list[types.Diagnostic]:
        doc = self.docs.get(uri)
        if doc is None:
            return []
        lines = split_lines(doc.text)
        out = []
        for entry in doc.entries:
            rng = line_range(lines, entry.line, codec)
            if entry.on_name and entry.line < len(lines):
                keyword = re.search(r"\b(def|class)\b", lines[entry.line])
                col = lines[entry.line].find(entry.name, keyword.end() if keyword else 0)
                if col >= 0:
                    rng = to_lsp_range(lines, Range(Pos(entry.line, col), Pos(entry.line, col + len(entry.name))),
                                       codec)
            out.append(types.Diagnostic(range=rng, message=entry.message, severity=entry.severity, source=SOURCE,
                                        code=entry.code, data={"id": entry.id, "target": entry.qualname}))
        return out

    def match(self, uri: str, sent: Iterable[types.Diagnostic], lines: tuple[int, int]) -> list[Entry]:
        """The registry entries a client sent back with a code action request."""
        found: list[Entry] = []
        entries = self.entries(uri)
        for diag in sent:
            if diag.source not in (None, SOURCE):
                continue
            data = diag.data if isinstance(diag.data, dict) else {}
            hit = next((e for e in entries if e.id == data.get("id")), None)
            if hit is None and diag.code is not None:
                start, end = diag.range.start.line, diag.range.end.line
                if data.get("_specloop_no_range"):
                    start, end = lines
                hit = next((e for e in entries if e.code == str(diag.code) and start <= e.line <= end), None)
            if hit is not None and hit not in found:
                found.append(hit)
        return found
