"""``spec.drift``: the spec of a function specloop implemented changed, its body did not.

specloop records each function it implemented (``.specloop/implemented.json``,
:mod:`specloop.check`) with fingerprints of its spec and of the body it wrote.
When the spec of such a function changes and its body does not, the code may
no longer do what the docstring asks: a ``spec.drift`` warning sits on the
function's name.  A function whose body changed too (the user is changing
both), that is a stub again, or that is gone gets none.

When it is computed: on ``didOpen`` at once, and after a ``didChange`` once the
document has been quiet for :data:`DEBOUNCE` seconds (a timer on the event
loop, restarted by each change; typing does nothing but restart it).  The work
is one ``ast`` parse of that one document plus the records file, which is read
again only when it changed (:func:`specloop.check.records_for`); no sandbox,
no model.  While the text does not parse the warnings stay as they were
(moved with the text).  While an applied edit's ``didChange`` is due it waits
for that change.  A records file written by ``specloop run`` in a terminal is
seen at the document's next open or change.

Quick fixes (:mod:`.actions`): "Re-check NAME against the spec"
(``specloop.recheck``: the function's authoritative tests run on the body the
editor holds; passing records the new spec and the warning goes; failing keeps
it and its message says so) and "Re-implement NAME from the spec"
(``specloop.reimplement``: a job on the function reduced to its spec again; the
usual rules apply its result).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from .. import check
from ..results import tests_count
from .apply import document_text
from .diagnostics import Entry

if TYPE_CHECKING:
    from .host import Host

log = logging.getLogger(__name__)
CODE = "spec.drift"
DEBOUNCE = 0.4


def drift_message(name: str) -> str:
    return f"the spec of {name} changed after specloop implemented it; its code may no longer match"


def failing_message(name: str, result: check.CheckResult) -> str:
    return (f"the spec of {name} changed after specloop implemented it, and its code fails it: "
            f"{_fails(result)}")


def _fails(result: check.CheckResult) -> str:
    text = tests_count("failed", result.passed, result.failed)
    if result.first_failure:
        text += f" ({' '.join(result.first_failure.split())})"
    return text


class DriftWatch:
    """The ``spec.drift`` diagnostics of the open documents (see the module docstring)."""

    def __init__(self, ls: Host) -> None:
        self.ls = ls
        self._timers: dict[str, asyncio.TimerHandle] = {}
        # a re-check that failed, per (uri, target): the fingerprints it ran on and its result;
        # the warning says the code fails while the function reads the same
        self._failed: dict[tuple[str, str], tuple[tuple[str, str], check.CheckResult]] = {}

    # -- when ---------------------------------------------------------------------------------
    def opened(self, uri: str) -> None:
        self._schedule(uri, 0.0)

    def changed(self, uri: str) -> None:
        self._schedule(uri, DEBOUNCE)

    def closed(self, uri: str) -> None:
        timer = self._timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        for key in [k for k in self._failed if k[0] == uri]:
            del self._failed[key]

    def _schedule(self, uri: str, delay: float) -> None:
        timer = self._timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        self._timers[uri] = asyncio.get_running_loop().call_later(delay, self._fire, uri)

    def _fire(self, uri: str) -> None:
        self._timers.pop(uri, None)
        self.ls.spawn(self._refresh_logged(uri))

    async def _refresh_logged(self, uri: str) -> None:
        try:
            await self.refresh(uri)
        except Exception:   # a diagnostic is never worth a crashed notification handler
            log.exception("spec drift of %s", uri)

    # -- what ---------------------------------------------------------------------------------
    def _where(self, uri: str) -> tuple[Path, Path] | None:
        doc = self.ls.workspace.get_text_document(uri)
        if not doc.path or not doc.path.endswith(".py"):
            return None
        path = Path(doc.path)
        return path, self.ls.workspace_of(path)

    async def refresh(self, uri: str) -> None:
        """Look at the document now and publish its ``spec.drift`` warnings if they changed.
        The records file is read and the text parsed in a thread, never on the event loop."""
        if uri not in self.ls.workspace.text_documents or self.ls.sync.waiting(uri) is not None:
            return      # closed, or an applied edit's didChange is due: that change comes back here
        where = self._where(uri)
        if where is None:
            return
        path, workspace = where
        text, _ = document_text(self.ls, uri)
        shown = any(e.code == CODE for e in self.ls.registry.entries(uri))
        drifted = await asyncio.to_thread(_drifted, workspace, path, text, shown)
        if drifted is None:     # nothing recorded and nothing shown, or it does not parse right now
            return
        if uri not in self.ls.workspace.text_documents or self.ls.sync.waiting(uri) is not None:
            return      # closed meanwhile, or an applied edit's didChange is due: it comes back here
        entries = []
        for drift in drifted:
            name = drift.qualname.rsplit(".", 1)[-1]
            failed = self._failed.get((uri, drift.qualname))
            message = (failing_message(name, failed[1]) if failed is not None and failed[0] == (drift.spec, drift.code)
                       else drift_message(name))
            entries.append(Entry(qualname=drift.qualname, name=name, code=CODE,
                                 severity=types.DiagnosticSeverity.Warning, message=message,
                                 line=drift.def_line, anchor=drift.def_line, on_name=True, kind="code"))
        if self.ls.registry.replace_code(uri, text, CODE, entries):
            self.ls.publish(uri)

    async def recheck(self, uri: str, qualname: str) -> dict[str, Any]:
        """``specloop.recheck``: the function's authoritative tests on the body the editor holds,
        in the sandbox.  Passing: the function is recorded with its spec as it reads now and
        the warning goes.  Failing: the warning stays and says so."""
        from ..sandbox.runs import SandboxError

        name = qualname.rsplit(".", 1)[-1]
        where = self._where(uri)
        text, _ = document_text(self.ls, uri)
        prints = check.fingerprints(text, qualname)
        if where is None or prints is None:
            self.ls.show(types.MessageType.Warning, f"specloop: no function called {qualname} in this file"
                         + (" (it does not parse right now)" if where is not None else ""))
            return {"target": qualname, "status": "error", "passed": 0, "failed": 0}
        path, workspace = where
        settings = self.ls.settings.settings_for(workspace)
        try:
            result = await check.recheck(path, workspace, settings, qualname, text)
        except SandboxError as exc:
            result = check.CheckResult(qualname, str(path), "error", error=str(exc))
        except Exception as exc:
            log.exception("re-check of %s", qualname)
            result = check.CheckResult(qualname, str(path), "error", error=str(exc) or type(exc).__name__)
        answer = {"target": qualname, "status": result.status, "passed": result.passed, "failed": result.failed}
        if result.status == "passed":
            self._failed.pop((uri, qualname), None)
            self.ls.show(types.MessageType.Info, f"specloop: {name} passes its spec: fingerprint updated")
        elif result.failed:
            self._failed[(uri, qualname)] = (prints, result)
            self.ls.show(types.MessageType.Warning, f"specloop: {name} fails its spec: {_fails(result)}")
        else:
            why = result.error or "; ".join(result.drift) or result.status
            self.ls.show(types.MessageType.Warning, f"specloop: could not re-check {name}: {why}")
        await self.refresh(uri)
        return answer


def _drifted(workspace: Path, path: Path, text: str, shown: bool) -> list[check.Drift] | None:
    """The functions of ``text`` whose spec drifted (file I/O and a parse: run in a thread);
    None when nothing is recorded for ``path`` and nothing is shown, or ``text`` does not parse."""
    records = check.records_for(workspace, path)
    if not records and not shown:
        return None
    return check.spec_drift(text, records)
