"""One job from start to end: progress, engine, result, messages.

The engine (``specloop.loop``) is imported when the first job starts, so the
server answers ``initialize`` without loading it (and the engine loads litellm
in a worker thread on its first model call).  Every failure of a job ends as a
message to the user plus a log line naming the job's trace file; the server
keeps running.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from ..results import Event, JobResult, Usage
from ..spec import find_target
from .apply import Pending, apply_pending
from .diagnostics import Entry
from .jobs import Job, make_reporter
from .locate import restub

if TYPE_CHECKING:
    from .server import SpecloopServer

log = logging.getLogger(__name__)


def summary(result: JobResult) -> str:
    """The one-line result shown at the end of the progress."""
    total = result.passed + result.failed
    text = f"{result.status}: {result.passed}/{total} tests passed"
    if result.findings:
        text += f", {len(result.findings)} critic finding{'s' if len(result.findings) != 1 else ''}"
    if result.status != "passed" and result.error:
        text += f" ({result.error})"
    return text


class JobProgress:
    """Turns engine events into the job's progress messages and code lens text."""

    def __init__(self, ls: SpecloopServer, job: Job) -> None:
        self.ls, self.job = ls, job
        self.phase = ""

    def __call__(self, event: Event) -> None:
        job, reporter = self.job, self.job.reporter
        if event.kind == "phase":
            self.phase = str(event.data.get("phase", ""))
            if self.phase == "done":
                return
            job.message = event.message or self.phase
            if event.percent is not None:
                job.percent = max(job.percent, event.percent)
        elif event.kind == "tests":
            passed, total = event.data.get("passed", 0), event.data.get("total", 0)
            job.message = f"testing: {passed}/{total} passed"
        elif event.kind == "tokens":
            job.usage = Usage(event.data.get("prompt", 0), event.data.get("completion", 0),
                              event.data.get("cost_usd", 0.0))
            self.ls.send_status()
            return
        elif event.kind == "log":
            self.ls.log(f"{job.qualname}: {event.message}")
            return
        else:
            return
        if reporter is not None:
            reporter.report(job.message, job.percent)
        self.ls.lenses_changed()


async def run_job(ls: SpecloopServer, job: Job) -> None:
    from .. import loop as engine

    started = time.monotonic()
    title = f"specloop: {job.qualname}"
    job.reporter = await make_reporter(ls, title, lambda: ls.jobs.cancel(job.uri, job.qualname) and None)
    reporter = job.reporter
    queued = ls.jobs.limiter.full()
    reporter.begin("queued" if queued else "starting")
    ls.pending.pop(job.key, None)
    try:
        await ls.jobs.limiter.acquire()
    except asyncio.CancelledError:
        reporter.end("cancelled")
        raise
    result: JobResult | None = None
    try:
        job.state, job.message = "running", "starting"
        ls.lenses_changed()
        doc = ls.workspace.get_text_document(job.uri)
        source = doc.source
        target = find_target(source, job.qualname)
        if target is None and job.fix:
            stub = restub(source, job.qualname)
            if stub is not None:
                source, target = stub, find_target(stub, job.qualname)
        if target is None:
            reporter.end(f"no spec called {job.qualname} in this file", important=True)
            return
        path = Path(doc.path)
        workspace = ls.workspace_of(path)
        settings = ls.settings.settings_for(workspace)
        result = await engine.implement(source, path, target, settings, workspace=workspace,
                                        emit=JobProgress(ls, job), feedback=job.feedback)
    except asyncio.CancelledError:
        reporter.end("cancelled")
        ls.log(f"{job.qualname}: cancelled after {time.monotonic() - started:.1f}s; nothing applied")
        raise
    except Exception as exc:
        log.exception("job %s", job.qualname)
        reporter.end(f"error: {exc}", important=True, error=True)
        return
    finally:
        ls.jobs.limiter.release()
        ls.session.add(result.usage if result is not None else job.usage)
        job.usage = Usage()
    if result.trace_path:
        ls.log(f"{job.qualname}: {result.status}; trace: {result.trace_path}")
    if result.function_code is None:
        reporter.end(f"error: {result.error or 'no code was produced'}"
                     f"{f' (trace: {result.trace_path})' if result.trace_path else ''}", important=True, error=True)
        _error_diagnostic(ls, job.uri, job.qualname, result.error or "no code was produced")
        return
    job.state, job.message = "applying", "applying"
    reporter.report("applying", 99)
    pending = Pending(uri=job.uri, result=result, settings=settings, workspace=workspace, path=path, fix=job.fix)
    try:
        applied, what = await apply_pending(ls, pending, force=False)
    except Exception as exc:  # keep the result whatever happened while applying
        log.exception("applying %s", job.qualname)
        ls.pending[job.key] = pending
        reporter.end(f"{summary(result)}; not applied: {exc}", important=True, error=True)
        return
    # a result that was not applied has been announced by apply_pending already
    reporter.end(summary(result) + ("" if applied else f"; {what}"), important=applied and result.status != "passed")


def _error_diagnostic(ls: SpecloopServer, uri: str, qualname: str, error: str) -> None:
    """A job that produced nothing (no sandbox, no model...) leaves a ``job.error`` diagnostic on
    the function's name, so the reason stays visible where the user looks; the next result replaces it."""
    doc = ls.workspace.get_text_document(uri)
    target = find_target(doc.source, qualname)
    if target is None or target.name_range is None:
        return
    line = target.name_range.start.line
    ls.registry.replace_target(uri, doc.source, qualname, [Entry(
        qualname=qualname, name=target.name, code="job.error", severity=types.DiagnosticSeverity.Error,
        message=f"specloop could not implement {target.name}: {error}", line=line, anchor=line, on_name=True)])
    ls.publish(uri)
