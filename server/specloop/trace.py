"""A JSONL trace per job under ``<workspace>/.specloop/runs/``.

Each line is one record ``{"t": seconds-since-start, "kind": ..., ...}``:
prompts, replies, test results, timings, tokens.  Anything that looks like a
credential (keys named *key*, *token*, *secret*, *authorization*, *password*
with string values, and strings shaped like provider keys) is redacted before
it is written.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

_SECRET_KEY = re.compile(r"(api[_-]?key|secret|password|authorization|bearer|_token$|^token$)", re.I)
_SECRET_VALUE = re.compile(r"\b(sk-[A-Za-z0-9_\-]{8,}|(?:ghp|gho|xox[bp])_[A-Za-z0-9]{8,}|AKIA[0-9A-Z]{12,})\b")
REDACTED = "[redacted]"


def redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (REDACTED if isinstance(k, str) and _SECRET_KEY.search(k) and isinstance(v, str) else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return _SECRET_VALUE.sub(REDACTED, value)
    return value


class Trace:
    """Appends records to one file; a disabled trace accepts and drops them."""

    def __init__(self, workspace: Path | None, name: str, *, enabled: bool = True) -> None:
        self.start = time.monotonic()
        self.path: Path | None = None
        if enabled and workspace is not None:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:80]
            folder = Path(workspace) / ".specloop" / "runs"
            try:
                folder.mkdir(parents=True, exist_ok=True)
                self.path = folder / f"{stamp}-{safe}-{time.time_ns() % 1_000_000:06d}.jsonl"
            except OSError:
                self.path = None

    def write(self, kind: str, **data: Any) -> None:
        if self.path is None:
            return
        record = {"t": round(time.monotonic() - self.start, 3), "kind": kind, **redact(data)}
        try:
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(record, default=str) + "\n")
        except OSError:
            pass
