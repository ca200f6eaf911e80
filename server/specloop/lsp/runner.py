"""One job from start to end: progress, engine, result, messages.

The engine (``specloop.loop``) is imported when the first job starts, so the
server answers ``initialize`` without loading it (and the engine loads litellm
in a worker thread on its first model call).  Every failure of a job ends as a
message to the user plus a log line naming the job's trace file; the server
keeps running.

A job on a class spec (``Stack``) runs the engine's class job (plan, the methods
in parallel, review) and reports it in the one progress of the job, each
method's events named by the method; its result is one edit holding the whole
class, applied or offered like a function's.

The end of a job: a clean pass is applied (:mod:`.apply`); anything else that
has code (tests still failing) is offered, not applied: it is kept, and a
``test.failed`` diagnostic on the stub carries "Apply the best attempt
anyway", "Show the best attempt" and "Try again".  The end line is
:func:`~.pending.outcome` (status, tests, findings, tokens), plus
"— not applied; see the quick fixes" for an offered result.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from lsprotocol import types

from .. import targets
from ..source.locate import restub
from ..results import Event, JobResult, Log, Phase, Planned, Tested, Tokens, Usage
from ..source.spec import find_target
from .apply import Unplaceable, apply_pending, def_line, document_text, place, settle_unchanged
from .diagnostics import Entry, offered_entry
from . import offload
from .jobs import ServerJob, make_reporter
from .offers import NOTHING_TO_APPLY, keep_not_applied, not_placed, reviews_pending
from .pending import NOT_APPLIED, Pending, outcome

if TYPE_CHECKING:
    from .host import Host

log = logging.getLogger(__name__)
T = TypeVar("T")


# a class job's components report inside this band of the job's one progress
COMPONENTS_FROM, COMPONENTS_TO = 10, 88


class JobProgress:
    """Turns engine events into the job's progress messages and code lens text.

    In a class job the events of its components carry the component's qualified name
    (``Stack.push``), in a module spec's job the function's name: their messages are
    prefixed with the method (``push: testing: 2/3 passed``), their percentages become the share of the components' work done (between
    the class's own "generating" and "reviewing"), and the tokens of every model client
    of the job are added up.  The percentage never goes back."""

    def __init__(self, ls: Host, job: ServerJob) -> None:
        self.ls, self.job = ls, job
        self.phase = ""
        self.components: dict[str, int] = {}     # component -> the highest percent it reported
        self.names: set[str] = set()             # the components the plan has
        self.spent: dict[int, Usage] = {}        # model client -> its running totals

    def _component(self, target: str) -> str | None:
        """The method (function) name of a component event of this job, else None."""
        prefix = self.job.qualname + "."
        if target.startswith(prefix):
            return target[len(prefix):]
        return target if target in self.names else None     # a module spec's functions

    def _components_percent(self) -> int:
        count = max(len(self.names), len(self.components), 1)
        share = sum(self.components.values()) / (100 * count)
        return COMPONENTS_FROM + int((COMPONENTS_TO - COMPONENTS_FROM) * share)

    def _tokens(self, event: Tokens) -> Usage:
        self.spent[event.client] = Usage(event.prompt, event.completion, event.cost_usd)
        total = Usage()
        for spent in self.spent.values():
            total.add(spent)
        return total

    def __call__(self, event: Event) -> None:
        job, reporter = self.job, self.job.reporter
        method = None if isinstance(event, (Tokens, Planned, Log)) else self._component(event.target)
        if isinstance(event, Phase) and method is not None:
            self.components[method] = max(self.components.get(method, 0), min(event.percent, 100))
            job.message = f"{method}: {event.message or event.phase}"
            job.percent = max(job.percent, self._components_percent())
        elif isinstance(event, Phase):
            self.phase = event.phase
            if self.phase == "done":
                return
            job.message = event.message or self.phase
            job.percent = max(job.percent, event.percent)
        elif isinstance(event, Tested):
            job.message = f"{method + ': ' if method else ''}testing: {event.passed}/{event.total} passed"
        elif isinstance(event, Tokens):
            job.usage = self._tokens(event)
            self.ls.send_status()
            return
        elif isinstance(event, Planned):   # the plan is shown: in the progress, the lens and the log
            self.names = set(event.components)
            self.ls.log(f"{event.target}: {event.message}")
            job.message = event.message
        elif isinstance(event, Log):
            self.ls.log(f"{event.target or job.qualname}: {event.message}")
            return
        else:
            return
        if reporter is not None:
            reporter.report(job.message, job.percent)
        self.ls.lenses_changed()


class _EngineThread:
    """One daemon thread running an event loop of its own, where every job's engine runs
    (model calls through litellm, sandbox runs, the job's bookkeeping).  Their Python work
    then takes the GIL from the server's event loop for a switch interval at most
    (``server.SWITCH_INTERVAL``) instead of running between its callbacks: codeAction's p99
    while jobs ran was 4-5x the idle floor with the engine on the server's loop
    (bench/context_latency.py).  Started by the first job."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="specloop-engine", daemon=True).start()
                self._loop = loop
            return self._loop


_engine_thread = _EngineThread()


async def in_engine_thread(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``await make()`` on the engine's event loop (:class:`_EngineThread`).  Cancelling the
    caller cancels the engine's task and waits for it to end (its sandbox killed), then
    raises ``CancelledError``."""
    loop = _engine_thread.loop()
    done: concurrent.futures.Future[T] = concurrent.futures.Future()
    tasks: list[asyncio.Task[T]] = []

    def finished(task: asyncio.Task[T]) -> None:
        if task.cancelled():
            done.cancel()
        elif task.exception() is not None:
            done.set_exception(task.exception())
        else:
            done.set_result(task.result())

    def begin() -> None:
        task = loop.create_task(make())
        tasks.append(task)
        task.add_done_callback(finished)

    loop.call_soon_threadsafe(begin)
    try:
        return await asyncio.shield(asyncio.wrap_future(done))
    except asyncio.CancelledError:
        loop.call_soon_threadsafe(lambda: [t.cancel() for t in tasks])
        with contextlib.suppress(BaseException):
            await asyncio.wrap_future(done)
        raise


def in_loop(emit: Callable[[Event], None]) -> Callable[[Event], None]:
    """``emit`` called on the server's event loop, whichever thread reports (in order)."""
    loop = asyncio.get_running_loop()
    return lambda event: loop.call_soon_threadsafe(emit, event)


def job_target(source: str, qualname: str) -> Any | None:
    """What a job on ``qualname`` implements in ``source`` (``targets.find``: the function stub
    of that name, else the class spec of that name, else the module spec ``module spec (line N)``)."""
    return targets.find(source, qualname)


def fixable(source: str, qualname: str) -> bool:
    """Whether a "Fix" job (a job with a finding as feedback) can run on ``qualname`` in
    ``source``: a function stub, or a function (a method too) that can be reduced to its
    spec again.  A class as a whole cannot: its job takes no feedback, and re-implementing
    it would throw away the tested code of every method for one finding; a finding on one
    of its methods is fixed on that method."""
    return find_target(source, qualname) is not None or restub(source, qualname) is not None


async def run_job(ls: Host, job: ServerJob) -> None:
    from .. import loop as engine
    engine.compute = offload.call      # context and user tests: in the context worker process

    started = time.monotonic()
    title = f"specloop: {job.qualname}"
    job.reporter = await make_reporter(ls, title, lambda: ls.jobs.cancel(job.uri, job.qualname) and None)
    reporter = job.reporter
    queued = ls.jobs.must_queue()
    reporter.begin("queued" if queued else "started")
    try:
        await ls.jobs.take_slot()
    except asyncio.CancelledError:
        reporter.end("cancelled")
        raise
    if queued:
        reporter.started()
    result: JobResult | None = None
    try:
        job.state, job.message = "running", "starting"
        ls.lenses_changed()
        ls.send_status()
        source, _ = document_text(ls, job.uri)
        target = await asyncio.to_thread(job_target, source, job.qualname)   # may parse the file
        if target is None and job.fix:
            stub = await asyncio.to_thread(restub, source, job.qualname)
            if stub is not None:
                source, target = stub, find_target(stub, job.qualname)
        if target is None:
            reporter.end(f"no spec called {job.qualname} in this file", "warning")
            return
        path = Path(ls.workspace.get_text_document(job.uri).path)
        workspace = ls.workspace_of(path)
        settings = ls.settings.settings_for(workspace)
        emit = in_loop(JobProgress(ls, job))
        kind = targets.of(target)
        result = await in_engine_thread(lambda: kind.implement(
            source, path, target, settings, workspace=workspace, emit=emit, feedback=job.feedback))
    except asyncio.CancelledError:
        reporter.end("cancelled")
        ls.log(f"{job.qualname}: cancelled after {time.monotonic() - started:.1f}s; nothing applied")
        raise
    except Exception as exc:
        log.exception("job %s", job.qualname)
        reporter.end(f"error: {exc}", "error")
        return
    finally:
        # what the progress counted is never taken back: the session's total does not go down
        spent = result.usage if result is not None and result.usage.total >= job.usage.total else job.usage
        ls.jobs.free_slot(spent)
        job.usage = Usage()
    if result.trace_path:
        ls.log(f"{job.qualname}: {result.status}; trace: {result.trace_path}")
    if result.function_code is None:
        reporter.end(f"error: {result.error or 'no code was produced'}"
                     f"{f' (trace: {result.trace_path})' if result.trace_path else ''}", "error")
        _error_diagnostic(ls, job.uri, job.qualname, result.error or "no code was produced")
        return
    pending = Pending(uri=job.uri, result=result, settings=settings, workspace=workspace, path=path,
                      fix=job.fix, feedback=job.feedback)
    if result.status != "passed":
        if not offer(ls, pending):
            reporter.end(f"{outcome(result)} — {NOTHING_TO_APPLY}")
            return
        # a client that reviews pending results itself (the VS Code extension) announces it
        # (``experimental.specloop.reviewsPending``) and gets no second pop-up for the same result
        reporter.end(f"{outcome(result)} — {NOT_APPLIED}", None if reviews_pending(ls) else "warning")
        return
    if not_placed(result):     # the engine passed it but could not place it: offered, as a refused edit is
        source, _ = document_text(ls, job.uri)
        keep_not_applied(ls, pending, source, def_line(source, job.qualname), not_placed(result), told=False)
        reporter.end(f"{outcome(result)} — not applied: {not_placed(result)}",
                     None if reviews_pending(ls) else "warning")
        return
    job.state, job.message = "applying", "applying"
    reporter.report("applying", 99)
    try:
        applied, what = await apply_pending(ls, pending, force=False)
    except Exception as exc:  # keep the result whatever happened while applying
        log.exception("applying %s", job.qualname)
        ls.pending.put(pending, reason=str(exc))
        reporter.end(f"{outcome(result)} — not applied: {exc}", "error")
        return
    # a result that was not applied has been announced by apply_pending already
    reporter.end(outcome(result) + ("" if applied else f" — {what}"))


def offer(ls: Host, pending: Pending) -> bool:
    """A result that is not a clean pass is kept, not applied: a ``test.failed`` diagnostic on
    the function's name names the first failure and carries the quick fixes.  One whose code
    is the code already there (a "Fix" that changed nothing) is not offered: its diagnostics
    are about that code (:func:`.apply.settle_unchanged`); returns False then."""
    source, _ = document_text(ls, pending.uri)
    try:
        base, placed, _ = place(source, pending, force=True)
    except Unplaceable:
        placed = None
    if placed == source:
        settle_unchanged(ls, pending, base, source, told=False)
        return False
    ls.pending.put(pending, reason="its tests fail")
    line = def_line(source, pending.name)
    short = pending.name.rsplit(".", 1)[-1]
    entries = [] if line is None else [offered_entry(pending.result, short, line)]
    ls.registry.replace_target(pending.uri, source, pending.name, entries, kinds=("result",))
    ls.publish(pending.uri)
    return True


def _error_diagnostic(ls: Host, uri: str, qualname: str, error: str) -> None:
    """A job that produced nothing (no sandbox, no model...) leaves a ``job.error`` diagnostic on
    the function's name, so the reason stays visible where the user looks; the next result
    replaces it (and it replaces an older kept result)."""
    ls.pending.pop(uri, qualname)
    source, _ = document_text(ls, uri)
    line = def_line(source, qualname)
    name = qualname.rsplit(".", 1)[-1]
    entries = [] if line is None else [Entry(
        qualname=qualname, name=name, code="job.error", severity=types.DiagnosticSeverity.Error,
        message=f"specloop could not implement {name}: {error}", line=line, anchor=line, on_name=True,
        kind="result")]
    ls.registry.replace_target(uri, source, qualname, entries, kinds=("result",))
    ls.publish(uri)
