"""Background jobs: one per (document, target), bounded in number, cancellable.

* Starting a job on a target that already has one cancels the old one and
  replaces it.
* At most ``parallel_jobs`` run at once (read from the settings each time a
  slot frees, so a settings change applies to the next job); the rest wait in
  order and are shown as "queued".
* A job is an asyncio task.  Cancelling it cancels the engine's task, which
  abandons the model request and kills the sandbox; nothing is applied.  Once
  a job has its result and is placing it in the document (``applying``) a
  cancel no longer stops it: the edit is already on its way to the editor.
* Progress goes to a :class:`Reporter`: work-done progress where the client
  supports it (``window.workDoneProgress``), ``window/logMessage`` lines, and
  only where the client announces no work-done progress (eglot 1.9, a plain
  client) a ``window/showMessage`` at the start and one line at the end.  A
  client that takes progress gets no ``window/showMessage`` for a job's start or
  end (Neovim 0.11 stops on "Press ENTER" for each one): the progress, the log
  lines, the code lens and the diagnostics say it.  Only an ``error`` end (the job
  produced nothing) is also shown there; see :meth:`Reporter.end`.
* Every change of the jobs (started, state, ended) calls ``on_change``; an end
  passes ``ended=True`` so the front end refreshes code lenses at once.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Literal

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from ..results import Finding, Usage

log = logging.getLogger(__name__)
State = Literal["queued", "running", "applying", "done"]
_job_ids = itertools.count(1)          # job ids, in specloop/status and the status command
_progress_tokens = itertools.count(1)  # work-done progress tokens


Level = Literal["info", "warning", "error"]
_KINDS = {"info": types.MessageType.Info, "warning": types.MessageType.Warning, "error": types.MessageType.Error}


def wants_messages(ls: LanguageServer) -> bool:
    """Whether a job's start and end are also told with ``window/showMessage``: only where the
    client announces no work-done progress (eglot 1.9, a plain client), which would show
    nothing else.  A client that takes progress shows it as it likes (VS Code a notification,
    Neovim ``vim.lsp.status()`` in the statusline, see the README's Neovim config) and gets
    none: Neovim 0.11 stops on "Press ENTER or type command to continue" for every
    ``window/showMessage``, so two per job were two prompts per job."""
    window = ls.client_capabilities.window
    return window is None or not window.work_done_progress


class Reporter:
    """Where a job's progress goes.  Always ``window/logMessage`` lines; with a token,
    work-done progress (cancelling it in the editor cancels the job); with ``messages``
    (a client without progress: :func:`wants_messages`), a ``window/showMessage`` when the
    job starts and one line when it ends.  Without ``messages`` only an ``error`` end is
    shown (see :meth:`end`)."""

    def __init__(self, ls: LanguageServer, title: str, *, token: str | None = None, messages: bool = True) -> None:
        self.ls = ls
        self.title = title
        self.token = token
        self.messages = messages
        self.percent = 0
        self.last = ""
        self.ended = False
        self._sent_percent: int | None = None

    def begin(self, message: str) -> None:
        """The job exists (``message``: "queued" or "started")."""
        self._log(message)
        if self.token is not None:
            self.ls.work_done_progress.begin(self.token, types.WorkDoneProgressBegin(
                title=self.title, cancellable=True, message=message, percentage=0))
        if self.messages:
            self._show(message, "info")

    def started(self) -> None:
        """A queued job got its slot."""
        self.report("started")
        if self.messages:
            self._show("started", "info")

    def report(self, message: str, percent: int | None = None) -> None:
        if percent is not None:
            self.percent = max(self.percent, min(percent, 100))
        if self.ended or (message, self.percent) == (self.last, self._sent_percent):
            return
        if message != self.last:
            self._log(message)
        self.last, self._sent_percent = message, self.percent
        if self.token is not None:
            self.ls.work_done_progress.report(self.token, types.WorkDoneProgressReport(
                message=message, percentage=self.percent, cancellable=True))

    def end(self, message: str, level: Level | None = None) -> None:
        """The job's last word.  ``level`` None: information; ``warning``: it asks for attention
        (a result offered, not applied; no spec of that name any more); ``error``: the job
        produced nothing (model unreachable, no sandbox, an exception).

        A client without progress (``messages``) is shown every end with its level.  A client
        with progress is shown only an ``error`` end: the one end that needs the user to act
        on something outside the code (a key, a sandbox), happens once rather than at every
        job, and comes without a diagnostic when the job failed with an exception (Neovim
        shows an error as one line, without the "Press ENTER" prompt of its other
        messages, when it fits on the line).  A ``warning`` end reaches it as the progress
        end, a ``window/logMessage`` of type Warning, and the ``test.failed`` /
        ``spec.stale`` diagnostic on the function whose quick fixes offer the result (apply
        anyway, show, show the diff, try again)."""
        if self.ended:
            return
        self.ended = True
        self._log(message, level)
        if self.token is not None:
            self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
            self.ls.work_done_progress.tokens.pop(self.token, None)
        if self.messages or level == "error":
            self._show(message, level or "info")

    def _show(self, message: str, level: Level) -> None:
        self.ls.window_show_message(types.ShowMessageParams(type=_KINDS[level], message=f"{self.title}: {message}"))

    def _log(self, message: str, level: Level | None = None) -> None:
        self.ls.window_log_message(types.LogMessageParams(type=_KINDS[level or "info"],
                                                          message=f"{self.title}: {message}"))


async def make_reporter(ls: LanguageServer, title: str, on_cancel: Callable[[], None]) -> Reporter:
    """A reporter with a progress token when the client supports server-created progress."""
    messages = wants_messages(ls)
    window = ls.client_capabilities.window
    if window is None or not window.work_done_progress:
        return Reporter(ls, title, messages=messages)
    token = f"specloop-{next(_progress_tokens)}"
    try:
        await ls.work_done_progress.create_async(token)
    except Exception as exc:  # a client that refuses the token still gets log lines and messages
        log.warning("window/workDoneProgress/create failed: %s", exc)
        return Reporter(ls, title, messages=True)
    future = ls.work_done_progress.tokens.get(token)
    if future is not None:
        future.add_done_callback(lambda f: on_cancel() if f.cancelled() else None)
    return Reporter(ls, title, token=token, messages=messages)


@dataclass
class ServerJob:
    """One job as the server sees it (the engine's own :class:`specloop.job.ServerJob` is the
    search state inside it)."""

    uri: str
    qualname: str
    name: str
    feedback: list[Finding] | None = None
    fix: bool = False                         # the target is implemented: start from its spec again
    state: State = "queued"
    message: str = "queued"
    percent: int = 0
    task: asyncio.Task[Any] | None = None
    reporter: Reporter | None = None
    usage: Usage = field(default_factory=Usage)   # what the job has spent so far
    id: int = field(default_factory=lambda: next(_job_ids))

    @property
    def key(self) -> tuple[str, str]:
        return (self.uri, self.qualname)

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "uri": self.uri, "target": self.qualname, "state": self.state,
                "message": self.message, "percent": self.percent, "fix": self.fix}


class Limiter:
    """A semaphore whose size is read when a slot frees (first come, first served)."""

    def __init__(self, limit: Callable[[], int]) -> None:
        self.limit = limit
        self.running = 0
        self.waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    def full(self) -> bool:
        return self.running >= max(1, self.limit())

    async def acquire(self) -> None:
        if not self.waiters and not self.full():
            self.running += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()        # the slot was handed over just now: pass it on
            else:
                self.waiters.remove(waiter)
            raise

    def release(self) -> None:
        self.running -= 1
        self._wake()

    def _wake(self) -> None:
        while self.waiters and not self.full():
            waiter = self.waiters.popleft()
            if not waiter.done():
                self.running += 1
                waiter.set_result(None)


class JobManager:
    """The jobs the server runs; ``run`` is the coroutine that does one job."""

    def __init__(self, run: Callable[[ServerJob], Coroutine[Any, Any, None]], limit: Callable[[], int],
                 on_change: Callable[..., None]) -> None:
        self._run = run
        self._limiter = Limiter(limit)
        self.jobs: dict[tuple[str, str], ServerJob] = {}
        self.on_change = on_change
        self.session = Usage()          # tokens and cost of the session's finished jobs

    # -- slots: at most ``limit()`` jobs run at once, the rest wait in order --
    def must_queue(self) -> bool:
        """Whether a job that asks for a slot now has to wait."""
        return self._limiter.full()

    async def take_slot(self) -> None:
        await self._limiter.acquire()

    def free_slot(self, spent: Usage) -> None:
        """A job left its slot; what it spent is added to the session."""
        self._limiter.release()
        self.session.add(spent)

    def counts(self) -> tuple[int, int]:
        """(jobs holding a slot, jobs waiting for one)."""
        return self._limiter.running, len(self._limiter.waiters)

    def spent(self) -> Usage:
        """The session's tokens and cost so far: finished jobs plus what running jobs spent."""
        total = Usage()
        total.add(self.session)
        for job in self.jobs.values():
            total.add(job.usage)
        return total

    def start(self, job: ServerJob) -> ServerJob:
        old = self.jobs.get(job.key)
        if old is not None and old.task is not None and old.state != "applying":
            old.task.cancel()
        self.jobs[job.key] = job
        job.task = asyncio.create_task(self._guarded(job), name=f"specloop {job.qualname}")
        self.on_change()
        return job

    async def _guarded(self, job: ServerJob) -> None:
        try:
            await self._run(job)
        except asyncio.CancelledError:
            pass
        except Exception:  # the runner reports its own errors; this is a last resort
            log.exception("job %s failed", job.qualname)
        finally:
            job.state = "done"
            if self.jobs.get(job.key) is job:
                del self.jobs[job.key]
            self.on_change(ended=True)

    def cancel(self, uri: str | None = None, qualname: str | None = None) -> list[ServerJob]:
        """Cancel the matching jobs (all when no filter); jobs already applying are left alone."""
        hit = [j for j in self.jobs.values()
               if (uri is None or j.uri == uri) and (qualname is None or j.qualname == qualname)
               and j.state != "applying"]
        for job in hit:
            if job.task is not None:
                job.task.cancel()
        return hit

    def get(self, uri: str, qualname: str) -> ServerJob | None:
        return self.jobs.get((uri, qualname))

    def for_uri(self, uri: str) -> list[ServerJob]:
        return [j for j in self.jobs.values() if j.uri == uri]
