"""A job's context work in another process, so that the server's event loop is not kept
waiting for the GIL.

Why: building a job's context (:func:`specloop.context.build_context`), finding the user's
tests of its target (:func:`specloop.sandbox.usertests.find_user_tests`) and warming the project
index are pure Python and ``ast.parse`` of whole files.  In a worker thread of the server
they still shared the event loop's GIL: ``ast.parse`` holds it for its whole run (35-60 ms
for a 2,000-line module, parsed again by each job's user-test search) and a pure-Python
thread gives it back only every switch interval.  codeAction's p99 while jobs ran was 5-14x
the idle floor (``bench/context_latency.py``).  In a process of their own they compete for a
core only, which the operating system shares at a much finer grain.

* Worker processes (``python -m specloop.lsp.offload``, :data:`WORKERS` at most, each
  serving one call at a time, and one more for the open documents' targets,
  :func:`parse_call`, see :mod:`.documents`) are started on first use by the thread that
  needs one (never
  on the event loop, never before ``initialize`` is answered); they import the engine's
  context modules, not litellm.  Its caches (the project index, the user tests' file analyses, the
  module parts of the last texts) live as long as it does.
* :func:`call` is synchronous and blocks its (worker) thread until the result is back; the
  thread waits on a pipe, without the GIL.  Functions travel by reference (module and name,
  as pickle sends them) and only those of :data:`MODULES` are sent; arguments and results
  are pickled.  An exception the function raises is raised again in the caller.
* Same result as in the server's own process: the same function runs on the same files
  (the worker inherits the server's environment and working directory).  When the worker
  cannot start, dies, or an argument does not pickle, the call runs in the calling thread
  instead, as before this module existed.
* The worker exits when its stdin closes: the server exited (however it ended) or
  :func:`close` was called (at ``shutdown`` and at exit).
"""

from __future__ import annotations

import atexit
import logging
import os
import pickle
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

log = logging.getLogger(__name__)

WORKERS = 2                 # as many as jobs run in parallel by default; each has its own caches
MODULES = frozenset({"specloop.context.gather", "specloop.sandbox.usertests", "specloop.context.index",
                     "specloop.lsp.documents"})
MAX_DEATHS = 3              # workers that ended unasked before the server stops starting them
_HEADER = struct.Struct("!Q")


class Unavailable(Exception):
    """The call could not be made in a worker (it runs in the caller's thread instead)."""


class _Raised(Exception):
    """The function raised in the worker: ``args[0]`` is its exception."""


def _send(stream: BinaryIO, payload: bytes) -> None:
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def _receive(stream: BinaryIO) -> bytes | None:
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(head)
    data = stream.read(size)
    return data if len(data) == size else None


class _Worker:
    def __init__(self) -> None:
        package_parent = str(Path(__file__).resolve().parents[2])   # the folder holding specloop/
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([package_parent, *filter(None, [env.get("PYTHONPATH")])])
        self.proc = subprocess.Popen([sys.executable, "-m", "specloop.lsp.offload"], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True)
        self.busy = False

    def call(self, request: bytes) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            _send(self.proc.stdin, request)
            answer = _receive(self.proc.stdout)
        except (OSError, ValueError) as exc:
            raise Unavailable(f"context worker: {exc}") from None
        if answer is None:
            raise Unavailable(f"context worker ended (exit status {self.proc.poll()})")
        try:
            ok, value = pickle.loads(answer)
        except Exception as exc:      # an exception class that does not unpickle
            raise _Raised(RuntimeError(f"context worker: {exc}")) from None
        if not ok:
            raise _Raised(value)
        return value

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self, timeout: float = 2.0) -> None:
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(timeout)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        finally:
            if self.proc.stdout is not None:
                self.proc.stdout.close()


class Pool:
    """Up to ``size`` workers, each serving one call at a time; a call takes the first idle
    worker (so that with one job at a time one worker, with warm caches, does the work),
    starts a new one when all are busy and there is room, else waits for one."""

    def __init__(self, size: int = WORKERS) -> None:
        self.size = size
        self.workers: list[_Worker] = []
        self.failed = False           # workers cannot start or keep dying: everything runs in-process
        self.deaths = 0
        self.closed = False
        self._cond = threading.Condition()

    def _take(self) -> _Worker:
        with self._cond:
            while True:
                if self.failed or self.closed:
                    raise Unavailable("no context worker")
                self.workers = [w for w in self.workers if w.busy or w.alive]
                idle = next((w for w in self.workers if not w.busy), None)
                if idle is None and len(self.workers) < self.size:
                    try:
                        idle = _Worker()
                    except OSError as exc:
                        self.failed = True
                        log.warning("context worker not started (%s): context work runs in the server", exc)
                        raise Unavailable(str(exc)) from None
                    self.workers.append(idle)
                if idle is not None:
                    idle.busy = True
                    return idle
                self._cond.wait()

    def _give_back(self, worker: _Worker) -> None:
        with self._cond:
            worker.busy = False
            self._cond.notify()

    def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` in a worker; raises :class:`Unavailable` when it cannot."""
        if getattr(fn, "__module__", None) not in MODULES:
            raise Unavailable(f"{fn!r} is not context work")
        try:
            request = pickle.dumps((fn, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:       # a monkeypatched function, an argument that does not pickle
            raise Unavailable(f"not sent to the context worker: {exc}") from None
        worker = self._take()
        try:
            return worker.call(request)
        except _Raised as raised:
            raise raised.args[0] from None
        except Unavailable:
            worker.close(timeout=0.5)
            with self._cond:
                self.deaths += 1
                self.failed = self.deaths >= MAX_DEATHS
            raise
        finally:
            self._give_back(worker)

    def close(self) -> None:
        with self._cond:
            self.closed = True
            workers, self.workers = self.workers, []
            self._cond.notify_all()
        for worker in workers:
            worker.close()


_pool = Pool()
_parser = Pool(1)       # the open documents' targets (:mod:`.documents`): never behind a job's context
atexit.register(_pool.close)
atexit.register(_parser.close)


def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, in a context worker process when possible, else here.
    Blocking: call it from a worker thread."""
    try:
        return _pool.run(fn, *args, **kwargs)
    except Unavailable as exc:
        log.debug("%s runs in the server: %s", getattr(fn, "__qualname__", fn), exc)
        return fn(*args, **kwargs)


def parse_call(fn: Callable[..., Any], *args: Any) -> Any:
    """:func:`call` in the parse worker: one process of its own, so that finding a document's
    targets never waits behind a job's context work (and keeps its own chunk cache)."""
    try:
        return _parser.run(fn, *args)
    except Unavailable as exc:
        log.debug("%s runs in the server: %s", getattr(fn, "__qualname__", fn), exc)
        return fn(*args)


def close() -> None:
    """Stop the workers (the server's ``shutdown``); later calls run in the server's process."""
    _pool.close()
    _parser.close()


def _serve() -> int:
    """The worker: answers requests on stdin until it closes.  Its stdout is the answers'
    channel only; anything printed goes to stderr."""
    requests = os.fdopen(os.dup(0), "rb")
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    import specloop.context.gather  # noqa: F401  (its modules are what the requests call)

    while True:
        request = _receive(requests)
        if request is None:
            return 0
        try:
            fn, args, kwargs = pickle.loads(request)
            if getattr(fn, "__module__", None) not in MODULES:
                raise ValueError(f"{fn!r} is not context work")
            answer = (True, fn(*args, **kwargs))
        except Exception as exc:
            answer = (False, exc)
        try:
            payload = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            payload = pickle.dumps((False, RuntimeError(f"{answer[1]!r} (its value did not pickle)")))
        _send(answers, payload)


if __name__ == "__main__":
    sys.exit(_serve())
