"""The supervisors of a run: each forks the process that does the work, watches the lifeline
descriptor and, when the sandbox closes its end (wall timeout, cancellation, sandbox gone),
kills that process and every descendant (it is their subreaper).

* :func:`supervise`: the judge's side (or a run judged in-process): a fresh run folder, the
  worker that runs pytest (``worker.py``), ``exit`` with what it printed;
* :func:`supervise_candidate`: the candidate's process of a run judged by value, which answers
  the judge's calls (``bridge.py``) and gets no results channel and no token.

Part of the runner (see ``runner.py``); loaded as ``_specloop_child.supervisor``.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import time
import traceback

from .records import _make_emitter, _short
from .worker import CandidateFinder, _set_path, apply_limits, load_bridge, worker

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
TESTS_PACKAGE = "_specloop_tests"


def _prctl(option, value):
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except Exception:
        return False


def _close(fd):
    try:
        os.close(fd)
    except OSError:
        pass


def _live_children(me):
    kids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 1 and fields[0] != b"Z" and int(fields[1]) == me:
            kids.append(int(name))
    return kids


def kill_descendants(limit=5.0):
    """SIGKILL every child (orphans come to us as subreaper) until none is left."""
    me, end = os.getpid(), time.monotonic() + limit
    while True:
        for pid in _live_children(me):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            return
        if time.monotonic() > end:
            return
        time.sleep(0.002)


def _prepare_folder(req):
    run = tempfile.mkdtemp(prefix="run-", dir=req["tmp_root"])
    tests = os.path.join(run, "tests", TESTS_PACKAGE)
    os.makedirs(tests)
    os.mkdir(os.path.join(run, "tmp"))
    with open(os.path.join(tests, "__init__.py"), "w") as fh:
        fh.write("")
    for f in req["files"]:
        with open(os.path.join(tests, f["name"]), "w", encoding="utf-8") as fh:
            fh.write(f["content"])
    if not req.get("ini"):
        with open(os.path.join(run, "pytest.ini"), "w") as fh:
            fh.write("[pytest]\n")
    return run, tests


def fork_watched(lifeline_fd, output, child, close_fd=None, judge=False, on_error=None, poll=0.01):
    """Fork a process that runs ``child()`` (its return value is the exit status) with
    descriptors 1 and 2 on the file ``output``; this process closes ``close_fd`` (the child's
    end of a socket) and waits for it.  When the lifeline closes first, the child is killed.
    Either way every descendant is killed after.  ``judge``: the judge's worker (SIGTERM as by
    default; not dumpable: no other process of the same user reads or traces it; what it
    printed flushed before it exits);
    ``on_error``: called with what ``child`` raised.  Returns the wait status, or None when
    the lifeline closed."""
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            _close(lifeline_fd)
            if judge:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
            _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            if judge:
                _prctl(PR_SET_DUMPABLE, 0)
            _output_to(output)
            code = child()
        except BaseException as exc:
            if on_error is not None:
                on_error(exc)
        finally:
            try:
                if judge:
                    sys.stdout.flush()
                    sys.stderr.flush()
            finally:
                os._exit(code)
    if close_fd is not None:
        _close(close_fd)
    status = None
    while status is None:
        ready, _, _ = select.select([lifeline_fd], [], [], poll)
        if ready:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            break
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
    kill_descendants()
    return status


def supervise(req, results_fd, lifeline_fd, call_fd=None):
    """Run one request; returns the exit status for ``once``.  ``call_fd``: the socket to the
    candidate's process (a run judged by value, see ``bridge.py``)."""
    emit = _make_emitter(results_fd, req.pop("token"))
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    try:
        run, tests = _prepare_folder(req)
    except OSError as exc:
        emit({"kind": "fatal", "reason": "runner", "error": _short("cannot prepare the run: %s" % exc)})
        emit({"kind": "exit", "code": 70})
        return 70
    os.environ.update({"HOME": run, "TMPDIR": req.get("shared_tmp") or os.path.join(run, "tmp"),
                       req["marker_var"]: req["marker"]})
    tempfile.tempdir = None   # asked again: the warm worker's priming run cached its own
    os.chdir(run)

    def failed(exc):
        emit({"kind": "fatal", "reason": "runner", "error": _short("%s: %s" % (type(exc).__name__, exc)),
              "traceback": traceback.format_exc()[-2000:]})
    status = fork_watched(lifeline_fd, os.path.join(run, "output.txt"), lambda: worker(req, run, tests, emit, call_fd),
                          close_fd=call_fd, judge=True, on_error=failed)
    if status is None:
        shutil.rmtree(run, ignore_errors=True)
        emit({"kind": "exit", "terminated": True})
        return 137
    tail = _tail(os.path.join(run, "output.txt"))
    head = _head(os.path.join(run, "output.txt"))
    shutil.rmtree(run, ignore_errors=True)
    if os.WIFSIGNALED(status):
        emit({"kind": "exit", "signal": os.WTERMSIG(status), "tail": tail})
        return 128 + os.WTERMSIG(status)
    code = os.WEXITSTATUS(status)
    emit({"kind": "exit", "code": code, "tail": tail, "head": head})
    return code


def supervise_candidate(req, lifeline_fd, call_fd):
    """One run's candidate side: a process that imports the module with the candidate's text
    and answers the judge's calls on ``call_fd`` (``bridge.serve``) until the judge is done;
    stopped with everything it started when the lifeline closes.  It gets no results channel
    and no token: nothing it does reaches the verdict but its answers, read by the judge."""
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    home = tempfile.mkdtemp(prefix="cand-", dir=req["tmp_root"])
    os.environ.update({"HOME": home, "TMPDIR": req.get("shared_tmp") or home, req["marker_var"]: req["marker"]})
    tempfile.tempdir = None
    try:
        os.chdir(req.get("cwd") or home)
    except OSError:
        os.chdir(home)

    def answer():
        _set_path(req["sys_path"])
        bridge = load_bridge()
        finder = CandidateFinder(req["module_name"], req["module_path"], req.pop("candidate"))
        sys.modules.pop(req["module_name"], None)
        finder.first()
        apply_limits(req["limits"])
        bridge.serve(socket.socket(fileno=call_fd), req["module_name"], req["roots"], req["local_classes"])
        return 0
    fork_watched(lifeline_fd, os.path.join(home, "output.txt"), answer, close_fd=call_fd, poll=0.05)
    shutil.rmtree(home, ignore_errors=True)
    return 0


def _output_to(path):
    """Descriptors 1 and 2 of this process write to ``path`` (what a run printed, for its ``exit``)."""
    out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(out, 1)
    os.dup2(out, 2)
    _close(out)


def _head(path, limit=4000):
    try:
        with open(path, "rb") as fh:
            return fh.read(limit).decode("utf-8", "replace")
    except OSError:
        return ""


def _tail(path, limit=4000):
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            fh.seek(max(0, fh.tell() - limit))
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
