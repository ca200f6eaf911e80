"""Child side of the specloop sandbox: a standalone script (stdlib + pytest only).

It runs under the *workspace's* Python, which may be another interpreter than
the server's, so it imports nothing from specloop and keeps to Python 3.8+.
The sandbox copies it into the run's temp dir and starts it as
``python _specloop_runner.py CONFIG.json``.

Process layout and the decisions behind it:

* This process is the *supervisor*.  It makes itself a child subreaper
  (``prctl(PR_SET_CHILD_SUBREAPER)``), so every orphaned descendant -- also one
  that called ``setsid`` and so escaped the process group -- is re-parented to
  it instead of to init.  It asks for SIGTERM when its parent dies.
* It forks the *worker*, which installs the import hook that serves the
  candidate text as the target module, imports pytest, sets the rlimits (CPU
  time on top of what the pytest import used, address space, file size, open
  files, no core files) and runs ``pytest.main`` with a small plugin that
  appends one JSON line per test to the results file.  Without user tests,
  plugin autoloading is off (the sandbox sets PYTEST_DISABLE_PLUGIN_AUTOLOAD)
  and only pytest-asyncio, when installed, is loaded explicitly.
* When the worker ends, or when the supervisor gets SIGTERM (the sandbox's
  wall timeout or cancellation), the supervisor SIGKILLs all its remaining
  children until it has none left, appends an ``exit`` record, and exits.

Results go to a file, never a pipe, so a process that keeps a descriptor open
cannot make the reader hang.  Records (one JSON object per line):
``start`` (a test began), ``test`` (its merged outcome), ``fatal`` (pytest
missing, runner crash), ``exit`` (how the worker ended).
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import json
import linecache
import os
import signal
import sys
import time
import traceback

MESSAGE_LIMIT = 300
REPR_LIMIT = 1000
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36

_results_fd = -1
_worker_pid = 0


def emit(record):
    """Append one record as a JSON line (one write call, so lines never mix)."""
    if _results_fd >= 0:
        os.write(_results_fd, (json.dumps(record) + "\n").encode("utf-8", "replace"))


def _prctl(option, value):
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except Exception:
        return False


def _same_file(a, b):
    return bool(a) and bool(b) and os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def _short(text, limit=MESSAGE_LIMIT):
    text = str(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _safe_repr(value):
    try:
        return _short(repr(value), REPR_LIMIT)
    except Exception as exc:  # a hostile or broken __repr__
        return "<repr failed: %s>" % type(exc).__name__


# -- supervisor ------------------------------------------------------------------------------------

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


def _on_term(signum, frame):
    if _worker_pid:
        try:
            os.kill(_worker_pid, signal.SIGKILL)
        except OSError:
            pass
    kill_descendants()
    emit({"kind": "exit", "terminated": True})
    os._exit(128 + signum)


def supervise(cfg):
    global _worker_pid
    parent = os.getppid()
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    signal.signal(signal.SIGTERM, _on_term)
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the sandbox died before we asked to follow it
        return 1
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            code = worker(cfg)
        except BaseException as exc:
            emit({"kind": "fatal", "reason": "runner", "error": _short("%s: %s" % (type(exc).__name__, exc)),
                  "traceback": traceback.format_exc()[-2000:]})
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
    _worker_pid = pid
    _, status = os.waitpid(pid, 0)
    _worker_pid = 0
    kill_descendants()
    if os.WIFSIGNALED(status):
        emit({"kind": "exit", "signal": os.WTERMSIG(status)})
        return 128 + os.WTERMSIG(status)
    code = os.WEXITSTATUS(status)
    emit({"kind": "exit", "code": code})
    return code


# -- worker ------------------------------------------------------------------------------------------

def apply_limits(limits):
    """Set after pytest is imported, so the CPU budget is the tests' own: RLIMIT_CPU counts
    the process's whole CPU time, so the limit is what was used so far plus the budget."""
    import resource
    mb = 1024 * 1024
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(usage.ru_utime + usage.ru_stime + 0.999) + limits["cpu_seconds"]
    wanted = [
        (resource.RLIMIT_CPU, cpu, cpu + 2),
        (resource.RLIMIT_AS, limits["memory_mb"] * mb, limits["memory_mb"] * mb),
        (resource.RLIMIT_FSIZE, limits["fsize_mb"] * mb, limits["fsize_mb"] * mb),
        (resource.RLIMIT_NOFILE, limits["nofile"], limits["nofile"]),
        (resource.RLIMIT_CORE, 0, 0),
    ]
    for which, soft, hard in wanted:
        old_soft, old_hard = resource.getrlimit(which)
        if old_hard != resource.RLIM_INFINITY:
            hard = min(hard, old_hard)
            soft = min(soft, hard)
        resource.setrlimit(which, (soft, hard))


class CandidateFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves ``module_name`` from the candidate text; ``__file__`` is the real path."""

    def __init__(self, name, path, source):
        self.name, self.path, self.source = name, path, source
        self.is_package = os.path.basename(path) == "__init__.py"
        self.prime()

    def prime(self):
        """Tracebacks and ``inspect`` read lines through linecache: make it show the candidate."""
        linecache.cache[self.path] = (len(self.source), None, self.source.splitlines(True), self.path)

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.name:
            return None
        locations = [os.path.dirname(self.path)] if self.is_package else None
        spec = importlib.util.spec_from_file_location(fullname, self.path, loader=self,
                                                      submodule_search_locations=locations)
        spec.cached = None
        return spec

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        self.prime()
        code = compile(self.source, self.path, "exec", dont_inherit=True)
        exec(code, module.__dict__)

    def get_source(self, fullname):
        return self.source

    def first(self):
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        sys.meta_path.insert(0, self)


def find_line(exc, tb, target):
    """The innermost traceback line inside ``target``, following causes and contexts."""
    seen, todo = set(), [(exc, tb)]
    while todo:
        err, walk = todo.pop(0)
        if err is None or id(err) in seen:
            continue
        seen.add(id(err))
        line = None
        while walk is not None:
            if _same_file(walk.tb_frame.f_code.co_filename, target):
                line = walk.tb_lineno
            walk = walk.tb_next
        if line is not None:
            return line
        if isinstance(err, SyntaxError) and _same_file(err.filename, target) and err.lineno:
            return err.lineno
        for nxt in (err.__cause__, err.__context__):
            if nxt is not None:
                todo.append((nxt, nxt.__traceback__))
    return None


class Plugin:
    """Turns pytest's reports into ``test`` records (see the module docstring)."""

    def __init__(self, cfg, finder):
        import pytest
        self.pytest = pytest
        self.finder = finder
        self.module_path = cfg["module_path"]
        self.files = {os.path.realpath(f["path"]): (f["name"], f["authoritative"]) for f in cfg["test_files"]}
        self.wanted = {}  # realpath -> [(given path, rest or None)]
        for u in cfg["user_tests"]:
            self.wanted.setdefault(os.path.realpath(u["path"]), []).append((u.get("given", u["path"]), u["rest"]))
        self.ids = {}     # pytest nodeid -> (our id, authoritative)
        self.state = {}   # pytest nodeid -> merged record
        self.compare = None
        self.reported = set()

    def identify(self, item):
        path = os.path.realpath(str(getattr(item, "path", None) or item.fspath))
        rest = item.nodeid.split("::", 1)[1] if "::" in item.nodeid else item.name
        if path in self.files:
            name, auth = self.files[path]
            return "%s::%s" % (name, rest), auth
        for given, want in self.wanted.get(path, ()):
            if want is None or rest == want or rest.startswith(want + "[") or rest.startswith(want + "::"):
                return "%s::%s" % (given, rest), True
        return None, True

    def pytest_configure(self, config):
        self.finder.first()  # ahead of pytest's assertion-rewriting hook

    def pytest_collection_modifyitems(self, session, config, items):
        keep, drop = [], []
        for item in items:
            oid, auth = self.identify(item)
            if oid is None:
                drop.append(item)
            else:
                self.ids[item.nodeid] = (oid, auth)
                keep.append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
        items[:] = keep

    def analyze(self, excinfo):
        exc = excinfo.value
        info = {"line": find_line(exc, excinfo.tb, self.module_path)}
        while isinstance(exc, self.pytest.Collector.CollectError) and exc.__cause__ is not None:
            exc = exc.__cause__  # the SyntaxError / ImportError behind a collection error
        if getattr(exc, "specloop_expected", None) is not None:
            info["expected"] = _short(exc.specloop_expected, REPR_LIMIT)
            info["actual"] = _short(exc.specloop_actual, REPR_LIMIT)
        elif isinstance(exc, AssertionError) and self.compare is not None and self.compare[0] == "==":
            info["actual"], info["expected"] = self.compare[1], self.compare[2]
        message = getattr(exc, "specloop_message", None)
        if message is None:
            text = str(exc).strip()
            if isinstance(exc, AssertionError):
                message = text.splitlines()[0] if text else "AssertionError"
            else:
                message = "%s: %s" % (type(exc).__name__, text.splitlines()[0] if text else "")
                message = message.rstrip(": ")
        info["message"] = _short(message)
        return info

    def pytest_assertrepr_compare(self, config, op, left, right):
        self.compare = (op, _safe_repr(left), _safe_repr(right))
        return None

    def pytest_runtest_logstart(self, nodeid, location):
        self.compare = None
        if nodeid in self.ids:
            emit({"kind": "start", "id": self.ids[nodeid][0], "authoritative": self.ids[nodeid][1]})

    def pytest_runtest_makereport(self, item, call):
        self.finder.prime()
        outcome = yield
        rep = outcome.get_result()
        if rep.failed and call.excinfo is not None:
            rep.specloop_info = self.analyze(call.excinfo)

    def pytest_runtest_logreport(self, report):
        if report.nodeid not in self.ids:
            return
        oid, auth = self.ids[report.nodeid]
        st = self.state.setdefault(report.nodeid, {"kind": "test", "id": oid, "authoritative": auth,
                                                   "outcome": "passed", "message": ""})
        info = getattr(report, "specloop_info", None)
        if report.failed and st["outcome"] in ("passed", "skipped"):
            st["outcome"] = "failed" if report.when == "call" else "error"
            if info is None:
                lines = str(report.longrepr).strip().splitlines()
                info = {"message": _short(lines[-1] if lines else report.when + " failed")}
            st.update(info)
        elif report.skipped and st["outcome"] == "passed":
            st["outcome"] = "skipped"
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr or "")
            st["message"] = _short(getattr(report, "wasxfail", "") or reason)
        if report.when == "teardown":
            emit(self.state.pop(report.nodeid))

    def pytest_make_collect_report(self, collector):
        outcome = yield
        rep = outcome.get_result()
        if not rep.failed:
            return
        call = rep.__dict__.get("call")
        if call is not None and call.excinfo is not None:
            info = self.analyze(call.excinfo)
        else:
            lines = [ln for ln in str(rep.longrepr).splitlines() if ln.strip()]
            info = {"message": _short(lines[-1] if lines else "collection failed")}
        where = os.path.realpath(str(getattr(collector, "path", None) or collector.fspath))
        hits = []
        for path, (name, auth) in self.files.items():
            if path == where or path.startswith(where + os.sep):
                hits.append((name, auth))
        for path, wants in self.wanted.items():
            if path == where or path.startswith(where + os.sep):
                hits.extend(("%s::%s" % (g, w) if w else g, True) for g, w in wants)
        if not hits:
            hits = [(rep.nodeid or "<collection>", True)]
        for oid, auth in hits:
            if oid not in self.reported:
                self.reported.add(oid)
                emit(dict(info, kind="test", id=oid, authoritative=auth, outcome="error"))


def _mark_wrappers(pytest):
    Plugin.pytest_runtest_makereport = pytest.hookimpl(hookwrapper=True)(Plugin.pytest_runtest_makereport)
    Plugin.pytest_make_collect_report = pytest.hookimpl(hookwrapper=True)(Plugin.pytest_make_collect_report)


def worker(cfg):
    with open(cfg["candidate_file"], encoding="utf-8") as fh:
        source = fh.read()
    finder = CandidateFinder(cfg["module_name"], cfg["module_path"], source)
    sys.modules.pop(cfg["module_name"], None)
    finder.first()
    try:
        import pytest
    except ImportError as exc:
        emit({"kind": "fatal", "reason": "no-pytest", "error": _short("%s: %s" % (type(exc).__name__, exc))})
        return 3
    apply_limits(cfg["limits"])
    _mark_wrappers(pytest)
    plugin = Plugin(cfg, finder)
    args = list(cfg["pytest_args"])
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD") and importlib.util.find_spec("pytest_asyncio"):
        args += ["-p", "pytest_asyncio.plugin"]  # async tests keep working without the other plugins
    return int(pytest.main(args, plugins=[plugin]))


def main(argv):
    global _results_fd
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.abspath(sys.path[0] or os.curdir) == here:
        del sys.path[0]  # never import from the runner's own folder
    with open(argv[1], encoding="utf-8") as fh:
        cfg = json.load(fh)
    _results_fd = os.open(cfg["results_file"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    return supervise(cfg)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
