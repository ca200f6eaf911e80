"""Warm workers, and the execution of one sandbox run in a warm or a cold process.

A warm worker is one ``child/runner.py serve`` process per (Python,
workspace, isolation mode, plugin autoload, visible folders), started on first
use inside its own bubblewrap (or without, in ``process`` mode).  It has
pytest and the plugins imported; each run is a process it forks.  A request
travels over a unix socket with two descriptors attached: the write end of the
run's results pipe and the read end of its *lifeline*.  Closing the lifeline
(timeout, cancellation) makes the run's supervisor kill everything of the run.

Workers stop by themselves after :data:`IDLE_SECONDS` without work, when this
process exits (the socket closes; bubblewrap's ``--die-with-parent``), or when
more than :data:`MAX_WORKERS` exist (the least recently used one goes).  A cold
run (the verification run) starts ``child/runner.py once`` the same way but
for one run only.  Runs of one process are bounded by the number of cores.
"""

from __future__ import annotations

import array
import asyncio
import atexit
import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

from .isolation import RUNNER_IN_SANDBOX, SHARED_IN_SANDBOX, bwrap_argv

IDLE_SECONDS = 120
MAX_WORKERS = 10   # judges, candidates and in-process runs of a few workspaces (each stops when idle)
START_TIMEOUT = 60.0
MAX_LINE = 4 * 1024 * 1024
MAX_TOTAL = 16 * 1024 * 1024
EXIT_GRACE = 3.0   # seconds for a stopped run's supervisor to report that it cleaned up


@dataclass(frozen=True)
class Key:
    python: str
    workspace: str
    isolation: str        # "bwrap" | "process"
    autoload: bool        # pytest plugin autoload (only when the user's tests run)
    extra_ro: tuple[str, ...] = ()
    masks: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())   # secret files and folders hidden (bwrap)
    # "judge": pytest of runs judged by value; "candidate": their code under test; "in-process":
    # runs whose code under test executes inside pytest (never in a judge's sandbox)
    role: str = "judge"


_shared: list[str] = []


def shared_root() -> str:
    """The host folder under which each run judged by value gets the temporary folder that the
    judge and the candidate's process both see (``tmp_path`` files cross the wall this way)."""
    if not _shared:
        _shared.append(tempfile.mkdtemp(prefix="specloop-shared-"))
        atexit.register(shutil.rmtree, _shared[0], True)
    return _shared[0]


def _runner() -> str:
    return str(Path(__file__).parent / "child" / "runner.py")


def _prefix(key: Key) -> tuple[list[str], str]:
    """The command prefix (bubblewrap or nothing) and the runner's path as the child sees it."""
    if key.isolation == "bwrap":
        return [*bwrap_argv(key.python, key.workspace, _runner(), list(key.extra_ro), key.masks,
                            shared=shared_root(), candidate=key.role != "judge"), "--"], RUNNER_IN_SANDBOX
    return [], _runner()


class _Worker:
    def __init__(self, key: Key, env: dict[str, str]) -> None:
        self.key = key
        self.lock = threading.Lock()
        self.used = time.monotonic()
        self.busy = 0   # runs in flight: a busy worker is never the one stopped to make room
        self.tmp_root = "/tmp" if key.isolation == "bwrap" else tempfile.mkdtemp(prefix="specloop-sandbox-")
        env = dict(env, TMPDIR=self.tmp_root, HOME=self.tmp_root)
        prefix, runner = _prefix(key)
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.proc = subprocess.Popen(
                [*prefix, key.python, runner, "cserve" if key.role == "candidate" else "serve", str(IDLE_SECONDS),
                 "autoload" if key.autoload else "plain"],
                stdin=child, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                cwd=self.tmp_root, start_new_session=True)
        finally:
            child.close()
        self.sock = parent

    def wait_ready(self) -> bool:
        self.sock.settimeout(START_TIMEOUT)
        try:
            return self.sock.recv(16).startswith(b"ready")
        except OSError:
            return False
        finally:
            self.sock.settimeout(10)

    def alive(self) -> bool:
        return self.proc.poll() is None and time.monotonic() - self.used < IDLE_SECONDS - 5

    def send(self, payload: bytes, fds: tuple[int, ...]) -> None:
        with self.lock:
            self.used = time.monotonic()
            sent = self.sock.sendmsg([payload], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
            if sent < len(payload):
                self.sock.sendall(payload[sent:])

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(2)
        if self.key.isolation == "process":
            shutil.rmtree(self.tmp_root, ignore_errors=True)


_workers: dict[Key, _Worker] = {}
_workers_lock = threading.Lock()
_slots: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _slot_for(loop: asyncio.AbstractEventLoop) -> asyncio.Semaphore:
    sem = _slots.get(loop)
    if sem is None:
        sem = _slots[loop] = asyncio.Semaphore(max(1, os.cpu_count() or 1))
    return sem


@contextlib.asynccontextmanager
async def slot():
    """At most one run per core at a time in this process."""
    async with _slot_for(asyncio.get_running_loop()):
        yield


async def start(*keys: Key, env: dict[str, str]) -> None:
    """Start the warm workers of ``keys`` now (a run that uses them later finds them ready)."""
    await asyncio.gather(*(_worker(key, env) for key in keys))


async def _worker(key: Key, env: dict[str, str]) -> _Worker:
    """The warm worker for ``key``, started if needed.  Starting one (``Popen``, the bubblewrap
    command line, which asks the test Python for its paths once) and waiting until it is
    ready happen in a thread: the event loop keeps serving the editor meanwhile."""
    return await asyncio.to_thread(_worker_blocking, key, env)


def _worker_blocking(key: Key, env: dict[str, str]) -> _Worker:
    with _workers_lock:
        worker = _workers.get(key)
        if worker is not None and worker.alive():
            return worker
        if worker is not None:
            _workers.pop(key).close()
        while len(_workers) >= MAX_WORKERS:
            idle = [w for w in _workers.values() if not w.busy]
            if not idle:
                break   # every worker has a run in flight: one more for now
            oldest = min(idle, key=lambda w: w.used)
            _workers.pop(oldest.key).close()
        worker = _workers[key] = _Worker(key, env)
    if not worker.wait_ready():
        with _workers_lock:
            if _workers.get(key) is worker:
                _workers.pop(key)
        worker.close()
        raise OSError("the sandbox worker did not start")
    return worker


def shutdown() -> None:
    """Stop every warm worker (at exit, and for tests)."""
    with _workers_lock:
        workers = list(_workers.values())
        _workers.clear()
    for worker in workers:
        worker.close()


atexit.register(shutdown)


def _payload(request: dict, tmp_root: str) -> bytes:
    return (json.dumps(dict(request, tmp_root=tmp_root)) + "\n").encode("utf-8", "replace")


async def _submit_warm(key: Key, env: dict[str, str], request: dict, fds: tuple[int, ...]) -> _Worker:
    """Send ``request`` to the warm worker of ``key``; the worker is marked busy (the caller
    marks it free again when the run is over)."""
    for attempt in (1, 2):
        worker = await _worker(key, env)
        try:
            with _workers_lock:
                worker.busy += 1
            worker.send(_payload(request, worker.tmp_root), fds)
            return worker
        except OSError:
            with _workers_lock:
                worker.busy -= 1
                if _workers.get(key) is worker:
                    _workers.pop(key)
            worker.close()
            if attempt == 2:
                raise
    raise OSError("the sandbox worker did not start")


async def _start_cold(key: Key, env: dict[str, str], payload: bytes, fds: tuple[int, ...],
                      tmp_root: str) -> asyncio.subprocess.Process:
    prefix, runner = _prefix(key)
    proc = await asyncio.create_subprocess_exec(
        *prefix, key.python, runner, "once", *(str(fd) for fd in fds),
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=dict(env, TMPDIR=tmp_root, HOME=tmp_root), cwd=tmp_root, pass_fds=fds, start_new_session=True)
    assert proc.stdin is not None
    proc.stdin.write(payload)
    with contextlib.suppress(OSError):
        await proc.stdin.drain()
    proc.stdin.close()
    return proc


class _Channel:
    """The read end of a run's results pipe."""

    def __init__(self, fd: int, token: str) -> None:
        self.fd, self.token = fd, token
        self.lines: list[bytes] = []
        self.total = 0
        self.ended = False        # the supervisor's exit record, or EOF, was read
        self.reader: asyncio.StreamReader | None = None
        self.transport: asyncio.BaseTransport | None = None

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        self.reader = asyncio.StreamReader(limit=MAX_LINE)
        fh = os.fdopen(self.fd, "rb", buffering=0)
        self.fd = -1
        self.transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(self.reader), fh)

    async def read(self, timeout: float) -> bool:
        """Read until the ``exit`` record or EOF; False when ``timeout`` ran out first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.ended:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                line = await asyncio.wait_for(self.reader.readline(), remaining)
            except asyncio.TimeoutError:
                return False
            except (ValueError, asyncio.LimitOverrunError):
                self.lines.append(b"<overlong line>")
                self.ended = True
                break
            if not line:
                self.ended = True
                break
            self.lines.append(line)
            self.total += len(line)
            if self.total > MAX_TOTAL:
                self.lines.append(b"<too much output on the results channel>")
                self.ended = True
            elif b'"exit"' in line and self.token.encode() in line:
                with contextlib.suppress(ValueError):
                    rec = json.loads(line)
                    self.ended = rec.get("kind") == "exit" and rec.get("token") == self.token
        return True

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        elif self.fd >= 0:
            os.close(self.fd)


async def execute(key: Key, env: dict[str, str], request: dict, token: str, *, cold: bool,
                  timeout: float, candidate: tuple[Key, dict] | None = None) -> tuple[list[bytes], bool]:
    """Run ``request`` in a warm worker (or a cold process); its record lines and whether it timed out.

    ``candidate``: (key, request) of the candidate's side of a run judged by value: it goes to a
    warm worker of its own sandbox, connected to the judge by a socket pair; both sides watch
    the same lifeline and share a temporary folder of the run."""
    results_r, results_w = os.pipe()
    life_r, life_w = os.pipe()
    channel = _Channel(results_r, token)
    proc = None
    tmp_root = None
    shared = None
    busy: list[_Worker] = []
    try:
        try:
            extra: tuple[int, ...] = ()
            if candidate is not None:
                shared = await asyncio.to_thread(_run_folder, key.isolation)
                request = dict(request, shared_tmp=shared[1])
                judge_end, candidate_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    busy.append(await _submit_warm(candidate[0], env, dict(candidate[1], shared_tmp=shared[1]),
                                                   (life_r, candidate_end.fileno())))
                finally:
                    candidate_end.close()
                extra = (judge_end.detach(),)
            try:
                if cold:
                    tmp_root = "/tmp" if key.isolation == "bwrap" else tempfile.mkdtemp(prefix="specloop-run-")
                    proc = await _start_cold(key, env, _payload(request, tmp_root), (results_w, life_r, *extra),
                                             tmp_root)
                else:
                    busy.append(await _submit_warm(key, env, request, (results_w, life_r, *extra)))
            finally:
                for fd in extra:
                    os.close(fd)
        finally:
            os.close(results_w)
            os.close(life_r)
        await channel.open()
        timed_out = not await channel.read(timeout)
        return channel.lines, timed_out
    finally:
        os.close(life_w)  # the run's supervisor stops everything still running
        await asyncio.shield(_finish(channel, proc, tmp_root))
        with _workers_lock:
            for worker in busy:
                worker.busy -= 1
        if shared is not None:
            await asyncio.to_thread(shutil.rmtree, shared[0], True)


def _run_folder(isolation: str) -> tuple[str, str]:
    """A run's shared temporary folder: (its host path, its path as the sandboxes see it)."""
    host = tempfile.mkdtemp(prefix="run-", dir=shared_root())
    os.mkdir(os.path.join(host, "tmp"))
    inside = host if isolation != "bwrap" else os.path.join(SHARED_IN_SANDBOX, os.path.basename(host))
    return host, os.path.join(inside, "tmp")


async def _finish(channel: _Channel, proc: asyncio.subprocess.Process | None, tmp_root: str | None) -> None:
    """After a timeout or cancellation: wait (bounded) until the supervisor says everything is gone."""
    try:
        if channel.reader is not None and not channel.ended:
            await channel.read(EXIT_GRACE)
    finally:
        channel.close()
        if proc is not None:
            await _reap(proc)
        if tmp_root and tmp_root != "/tmp":
            shutil.rmtree(tmp_root, ignore_errors=True)


async def _reap(proc: asyncio.subprocess.Process) -> None:
    try:
        await asyncio.wait_for(proc.wait(), 5)
    except asyncio.TimeoutError:
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, 9)
        with contextlib.suppress(OSError):
            proc.kill()
        await proc.wait()
