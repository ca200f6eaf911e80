"""Child side of the specloop sandbox: the script every run starts (stdlib + pytest only).

It runs under the *workspace's* Python, which may be another interpreter than
the server's, so it imports nothing from specloop and keeps to Python 3.8+.

Two ways to start it:

* ``python runner.py once RESULTS_FD LIFELINE_FD`` -- a cold run: one request
  (a JSON line) on stdin; this process is the run's supervisor.
* ``python runner.py serve`` -- a warm worker: stdin is a unix socket; it
  imports pytest (and, when asked, the workspace's plugins) once, primes them
  with one throw-away run, then for every request it receives (a JSON line with
  two file descriptors attached) forks a fresh supervisor.  It exits when the
  socket closes or after ``idle`` seconds without work.

One run, whichever way it started:

* The *supervisor* makes itself a child subreaper, makes a fresh run folder
  (HOME, TMPDIR and working directory of the run), writes the test files sent
  in the request, and forks the *worker*.  It watches the lifeline descriptor:
  when the sandbox closes its end (wall timeout, cancellation, sandbox gone)
  it kills the worker and every descendant; otherwise it waits for the worker.
  Then it kills whatever is left, removes the run folder and writes ``exit``.
* The *worker* serves the candidate text as the target module through an
  import hook, sets rlimits, runs ``pytest.main`` with a plugin that writes one
  ``test`` record per test, then a ``done`` record.

Records go to the results descriptor (a pipe the sandbox reads), never to a
file path.  Every record carries the run's token, which this script receives
on its input and keeps in a closure: a line without it is a forgery and the
sandbox refuses the whole run.  Verdicts are decided by the sandbox outside
this process (doctest output is compared there); these records are evidence.

The script's folder (bound into the sandbox at ``/.specloop/child``; in process mode the
package folder ``specloop/sandbox/child``) is registered as the package ``_specloop_child``,
never put on ``sys.path``: the supervisors (``supervisor.py``), the worker
(``worker.py``), its pytest plugin (``plugin.py``) and command line (``pytestargs.py``), the
records (``records.py``) and the bridge (``bridge.py`` and its parts) are its modules.
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if __name__ == "__main__" and sys.path and os.path.abspath(sys.path[0] or os.curdir) == _HERE:
    del sys.path[0]  # never import from the runner's own folder

import importlib.util  # noqa: E402
import json  # noqa: E402
import select  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

PACKAGE = "_specloop_child"


def _register_package():
    """This folder as the package ``_specloop_child``, whose modules import each other
    relatively; a name starting with ``_specloop`` (the bridge's decoder refuses what its own
    modules define)."""
    if PACKAGE not in sys.modules:
        spec = importlib.util.spec_from_file_location(PACKAGE, os.path.join(_HERE, "__init__.py"),
                                                      submodule_search_locations=[_HERE])
        package = importlib.util.module_from_spec(spec)
        sys.modules[PACKAGE] = package
        spec.loader.exec_module(package)


_register_package()

from _specloop_child.supervisor import (PR_SET_CHILD_SUBREAPER, PR_SET_PDEATHSIG, _close,  # noqa: E402
                                        _live_children, _prctl, supervise, supervise_candidate)
from _specloop_child.worker import load_bridge  # noqa: E402


# -- the two ways to start ------------------------------------------------------------------------------

def _set_autoload(on):
    if on:
        os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
    else:
        os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"


def once(argv):
    results_fd, lifeline_fd = int(argv[2]), int(argv[3])
    call_fd = int(argv[4]) if len(argv) > 4 else None
    req = json.loads(sys.stdin.readline())
    _set_autoload(req.get("autoload"))
    return supervise(req, results_fd, lifeline_fd, call_fd)


def _recv(sock):
    """One request: a JSON line with two descriptors attached, or None when the socket closed."""
    data, fds = b"", []
    while not data.endswith(b"\n"):
        msg, anc, _flags, _addr = sock.recvmsg(1 << 20, socket.CMSG_SPACE(16))
        if not msg:
            return None, []
        data += msg
        for level, kind, raw in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.extend(int.from_bytes(raw[i:i + 4], sys.byteorder) for i in range(0, len(raw) - 3, 4))
    return json.loads(data), fds


def _prime(autoload):
    """One throw-away pytest run in this process, so forked runs find everything imported."""
    import pytest
    folder = tempfile.mkdtemp(prefix="prime-")
    try:
        path = os.path.join(folder, "test_prime.py")
        with open(path, "w") as fh:
            fh.write("def test_prime():\n    assert 1 + 1 == 2\n")
        with open(os.path.join(folder, "pytest.ini"), "w") as fh:
            fh.write("[pytest]\n")
        args = [path, "-q", "-p", "no:cacheprovider", "-c", os.path.join(folder, "pytest.ini"),
                "--rootdir", folder, "--tb=no", "--color=no"]
        if not autoload:
            args += ["-o", "required_plugins="]
        devnull = os.open(os.devnull, os.O_WRONLY)
        saved = os.dup(1)
        os.dup2(devnull, 1)
        try:
            pytest.main(args)
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(devnull)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        for name in [m for m in sys.modules if m == "test_prime"]:
            del sys.modules[name]


def _cache_distributions():
    """Installed distributions do not change under a warm worker (it is keyed by its Python and
    restarts when idle): scan them once instead of at every pytest start (plugin autoload)."""
    import importlib.metadata as metadata
    scan = metadata.distributions
    cached = list(scan())

    def distributions(**kwargs):
        return iter(cached) if not kwargs else scan(**kwargs)
    metadata.distributions = distributions


def serve(argv):
    """A warm worker: ``serve`` runs the judge's side of each request (pytest imported and primed
    once), ``cserve`` the candidate's side (nothing to prime)."""
    candidate = argv[1] == "cserve"
    idle = float(argv[2]) if len(argv) > 2 else 120.0
    autoload = len(argv) > 3 and argv[3] == "autoload"
    _set_autoload(autoload)
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    sock = socket.socket(fileno=os.dup(0))
    os.close(0)
    os.open(os.devnull, os.O_RDONLY)  # fd 0 again, but not the socket
    try:
        load_bridge()
        if not candidate:
            _cache_distributions()
            _prime(autoload)
    except Exception:
        pass  # a broken pytest (or bridge) shows in the first real run, with its error
    sock.sendall(b"ready\n")
    runs = {}  # supervisor pid -> process group
    last = time.monotonic()
    while True:
        ready, _, _ = select.select([sock], [], [], 0.5)
        for pid in _live_children(os.getpid()):  # orphans of a run whose supervisor died
            if pid not in runs:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        try:
            while True:
                pid, _st = os.waitpid(-1, os.WNOHANG)
                if not pid:
                    break
                pgid = runs.pop(pid, None)
                if pgid is not None:
                    try:
                        os.killpg(pgid, signal.SIGKILL)
                    except OSError:
                        pass
                last = time.monotonic()
        except ChildProcessError:
            pass
        if not ready:
            if not runs and time.monotonic() - last > idle:
                return 0
            continue
        req, fds = _recv(sock)
        if req is None:
            return 0
        if len(fds) != (2 if candidate else len(fds)) or len(fds) not in (2, 3):
            for fd in fds:
                _close(fd)
            continue
        pid = os.fork()
        if pid == 0:
            code = 70
            try:
                os.setsid()
                sock.close()
                _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
                if candidate:
                    code = supervise_candidate(req, fds[0], fds[1])
                else:
                    code = supervise(req, fds[0], fds[1], fds[2] if len(fds) == 3 else None)
            finally:
                os._exit(code)
        runs[pid] = pid
        for fd in fds:
            _close(fd)
        last = time.monotonic()


def main(argv):
    return serve(argv) if argv[1] in ("serve", "cserve") else once(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
