"""A JSONL trace per job under ``<workspace>/.specloop/runs/``.

Each line is one record ``{"t": seconds-since-start, "kind": ..., ...}``:
prompts, replies, test results, timings, tokens.  Every record goes through
:func:`specloop.redact.redact` before it is written: string values under keys
named like credentials, secrets inside any string (provider keys, private keys,
passwords, the values of credential environment variables...) are replaced by
``[redacted]``.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from .redact import REDACTED, known_secrets, redact

__all__ = ["Trace", "redact", "REDACTED"]


class Trace:
    """Appends records to one file; a disabled trace accepts and drops them."""

    def __init__(self, workspace: Path | None, name: str, *, enabled: bool = True) -> None:
        self.start = time.monotonic()
        self.path: Path | None = None
        known_secrets(refresh=True)   # a job starts: pick up credential variables set since the last one
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
