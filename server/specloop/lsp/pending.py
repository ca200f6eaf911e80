"""Results that are kept but not (yet) placed in the document, and the one-line
outcome every front end of the server shows for a result.

A result is kept (*pending*) when it is not a clean pass (failing code is
offered, never applied by itself), when it cannot be placed right now (the
spec changed, the function is gone or no longer a stub, the file does not
parse at the moment), or when the editor refused the edit.  It stays until
it is applied, or a newer result for the same function replaces it.  Every
change of the store is announced in ``specloop/status`` (``pending``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..results import Finding, JobResult, judged_text, tests_count
from ..settings import Settings

NOT_APPLIED = "not applied; see the quick fixes"


def outcome(result: JobResult) -> str:
    """One line: status, tests, how they were judged, critic findings, tokens — e.g. ``passed 3/3
    tests, judged by value, 1 critic finding, 812 tokens`` or ``failed 1/3 tests, 812 tokens`` (1 of 3 tests passes:
    :func:`~specloop.results.tests_count`)."""
    total = result.passed + result.failed
    if result.status in ("passed", "failed"):
        text = tests_count(result.status, result.passed, result.failed)
    else:
        text = tests_count(result.status, result.passed, result.failed) if total else result.status
        if result.error:
            text += f" ({result.error})"
    judged = judged_text(getattr(result, "by_value", 0), getattr(result, "in_process", 0))
    if judged:
        text += f", {judged}"
    if result.findings:
        text += f", {len(result.findings)} critic finding{'s' if len(result.findings) != 1 else ''}"
    tokens = result.usage.total
    return text + f", {tokens} token{'s' if tokens != 1 else ''}"


@dataclass
class Pending:
    """A result that has not (yet) been placed in the document."""

    uri: str
    result: JobResult
    settings: Settings
    workspace: Path
    path: Path
    fix: bool = False                          # from a targeted job on an implemented function
    feedback: list[Finding] | None = None      # what that job was asked to fix ("Try again" reuses it)
    reason: str = ""                           # why it is not applied, when not its status

    @property
    def name(self) -> str:
        return self.result.name

    @property
    def key(self) -> tuple[str, str]:
        return (self.uri, self.name)

    @property
    def summary(self) -> str:
        text = outcome(self.result)
        if self.result.status == "passed" and self.reason:
            text += f"; not applied: {self.reason}"
        return text

    def describe(self) -> dict[str, Any]:
        return {"uri": self.uri, "target": self.name, "status": self.result.status, "summary": self.summary}


class PendingStore:
    """The kept results by (uri, qualified name); ``on_change`` runs after every change."""

    def __init__(self, on_change: Callable[[], None]) -> None:
        self._items: dict[tuple[str, str], Pending] = {}
        self.on_change = on_change

    def get(self, uri: str, target: str) -> Pending | None:
        return self._items.get((uri, target))

    def put(self, pending: Pending, reason: str | None = None) -> None:
        if reason is not None:
            pending.reason = reason
        self._items[pending.key] = pending
        self.on_change()

    def pop(self, uri: str, target: str) -> Pending | None:
        item = self._items.pop((uri, target), None)
        if item is not None:
            self.on_change()
        return item

    def __iter__(self) -> Iterator[Pending]:
        return iter(list(self._items.values()))

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def describe(self) -> list[dict[str, Any]]:
        return [p.describe() for p in self]
