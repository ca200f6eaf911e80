"""One ``specloop run``: its state (:class:`Run`), each file's job (:class:`FileJob`), each
target's entry (:class:`Entry`), the totals and the exit statuses."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..model import errors as model_errors
from ..results import Event, JobResult, Log, plural
from ..source.spec import Target
from ..source.writeback import SourceFile, display_path


if TYPE_CHECKING:
    from .app import Reporter


EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_CANCELLED = 0, 1, 2, 130


class BadInput(Exception):
    """Reported as one line on stderr with exit status 2."""


@dataclass
class Entry:
    """One target's result and what became of it."""

    result: JobResult
    file: str
    placed: bool = False          # in the text to write (passed, or --write-failing)
    written: bool = False
    saved: Path | None = None
    line: int | None = None       # 1-based line of its def in the file as the run leaves it
    finding_lines: list[int] | None = None   # the file line (1-based) of each finding, where known

    def as_dict(self) -> dict:
        data = {**self.result.summary_dict(), "file": self.file, "line": self.line, "written": self.written,
                "saved": display_path(self.saved) if self.saved else None}
        lines = self.finding_lines or []
        data["findings"] = [f.to_dict(in_file=True, file_line=lines[i] if i < len(lines) else None)
                            for i, f in enumerate(self.result.findings)]
        for component, result in zip(data.get("components") or [], getattr(self.result, "components", None) or []):
            component["findings"] = [f.to_dict(in_file=True) for f in result.findings]
        return data


def summary(entries: list[Entry], seconds: float) -> dict:
    """The totals of a run (the ``summary`` object of ``--json``, the table's last line)."""
    results = [e.result for e in entries]
    return {
        "targets": len(results),
        **{status: sum(r.status == status for r in results) for status in ("passed", "failed", "error", "cancelled")},
        "tests": {"passed": sum(r.passed for r in results), "failed": sum(r.failed for r in results)},
        "tokens": {"prompt": sum(r.usage.prompt_tokens for r in results),
                   "completion": sum(r.usage.completion_tokens for r in results)},
        "cost_usd": round(sum(r.usage.cost_usd for r in results), 6),
        "seconds": round(seconds, 3),
    }


@dataclass
class FileJob:
    """One file to work on."""

    source: SourceFile
    targets: list[Target]
    workspace: Path
    entries: list[Entry] = field(default_factory=list)
    current: str = ""             # the text to write: placed results only
    shown: str = ""               # what --diff shows: every result with code


@dataclass
class Run:
    args: argparse.Namespace
    reporter: Reporter
    code: int = EXIT_OK
    entries: list[Entry] = field(default_factory=list)
    kept: dict[Path, list[str]] = field(default_factory=dict)   # kept model tests per tests file
    written: list[str] = field(default_factory=list)            # files written so far
    unreachable: str | None = None    # the model could not be reached: its line (said once); nothing more is tried
    untried: list[str] = field(default_factory=list)            # the specs not tried because of it

    def problem(self, message: str) -> None:
        """A one-line reason on stderr; exit status 2."""
        self.reporter.note(f"specloop: {message}")
        self.code = max(self.code, EXIT_BAD_INPUT)

    def emit(self, event: Event) -> None:
        """The engine's events to the reporter, but a step's line that says the model cannot be
        reached (``no model tests: cannot reach ...``): the target's result says it, once."""
        if isinstance(event, Log) and model_errors.unreachable(event.message):
            return
        self.reporter.event(event)

    def stop_if_unreachable(self, result: JobResult) -> bool:
        """After ``result``: whether it ended because the model cannot be reached (then no
        further spec is tried, and the exit status is 2).  Returns True when an earlier
        result said so already (the caller does not repeat the hint)."""
        if result.status != "error" or not model_errors.unreachable(result.error):
            return False
        self.code = max(self.code, EXIT_BAD_INPUT)
        if self.unreachable is None:
            self.unreachable = result.error
            return False
        return True

    def report_untried(self) -> None:
        if self.untried:
            names = ", ".join(self.untried[:8]) + (f" and {len(self.untried) - 8} more" if len(self.untried) > 8 else "")
            self.reporter.note(f"specloop: the model cannot be reached: {plural(len(self.untried), 'spec')} "
                               f"not tried: {names}")
