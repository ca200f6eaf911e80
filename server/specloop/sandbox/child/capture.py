"""What the candidate prints and logs during a call, carried back to the judge, which prints
and logs it in turn (doctests, ``capsys`` and ``caplog`` see it).

Part of the bridge (see ``bridge.py``); loaded as ``_specloop_child.capture``.
"""

from __future__ import annotations

import io
import sys


class _NoCapture:
    def __enter__(self):
        self.out = {"out": "", "err": ""}
        return self.out

    def __exit__(self, *exc):
        return False



class _Capture:
    """What the candidate prints during one operation, sent with its answer (and before each
    call back, so the judge sees output in order)."""

    def __init__(self, peer):
        self.peer = peer

    def __enter__(self):
        self.saved = sys.stdout, sys.stderr
        self.out_buf, self.err_buf = io.StringIO(), io.StringIO()
        sys.stdout, sys.stderr = self.out_buf, self.err_buf
        self.records = []
        self.handler = None
        if "logging" in sys.modules:   # log records go back too (the judge's caplog sees them)
            import logging
            self.handler = _collector(self.records)
            logging.getLogger().addHandler(self.handler)
        self.peer.captures.append(self)
        return self

    def pop(self, which):
        """``out``: printed text; ``err``: (text on stderr, log records) since the last pop."""
        buf = self.out_buf if which == "out" else self.err_buf
        text = buf.getvalue()
        buf.seek(0)
        buf.truncate()
        if which == "out":
            return text
        records, self.records[:] = list(self.records), []
        return (text, records)

    def __exit__(self, *exc):
        sys.stdout, sys.stderr = self.saved
        if self.handler is not None:
            import logging
            logging.getLogger().removeHandler(self.handler)
        if self.peer.captures and self.peer.captures[-1] is self:
            self.peer.captures.pop()
        return False


def _collector(records):
    """A logging handler that keeps every record's (logger name, level, message) in ``records``."""
    import logging

    class Collector(logging.Handler):
        def __init__(self, records):
            logging.Handler.__init__(self, 0)
            self.records = records

        def emit(self, record):
            try:
                self.records.append((str(record.name), int(record.levelno), str(record.getMessage())))
            except Exception:   # noqa: BLE001 - a record whose message does not format
                pass
    return Collector(records)


def _levels():
    """The judge's logger levels that are set (root as ""), for the candidate to follow."""
    logging = sys.modules.get("logging")
    if logging is None:
        return None
    levels = {"": logging.getLogger().level}
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and logger.level:
            levels[name] = logger.level
    return levels


def _log(records):
    """Log records that came from the candidate, through the judge's loggers."""
    if not records or not isinstance(records, list):
        return
    import logging
    for record in records[:1000]:
        try:
            name, level, message = record
            logging.getLogger(str(name) or None).log(int(level), str(message))
        except Exception:   # noqa: BLE001 - not a record
            continue
