"""What a run reports: records on the results descriptor, each with the run's token (kept in a
closure), and the limits on the text they carry.

Part of the runner (see ``runner.py``); loaded as ``_specloop_child.records``.
"""

from __future__ import annotations

import json
import os

MESSAGE_LIMIT = 300
REPR_LIMIT = 1000


def _make_emitter(fd, token):
    def emit(record):
        record = dict(record, token=token)
        try:
            os.write(fd, (json.dumps(record) + "\n").encode("utf-8", "replace"))
        except OSError:
            pass
    return emit


def _short(text, limit=MESSAGE_LIMIT):
    text = str(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _safe_repr(value):
    try:
        return _short(repr(value), REPR_LIMIT)
    except Exception as exc:  # a hostile or broken __repr__
        return "<repr failed: %s>" % type(exc).__name__
