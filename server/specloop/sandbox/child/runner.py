"""Child side of the specloop sandbox: a standalone script (stdlib + pytest only).

Longer than 400 lines because it must stay one file: it is bound alone into the sandbox
and run by the workspace's Python, which cannot import anything else of specloop.

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
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import json
import linecache
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import time
import traceback

MESSAGE_LIMIT = 300
REPR_LIMIT = 1000
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
TESTS_PACKAGE = "_specloop_tests"


def _make_emitter(fd, token):
    def emit(record):
        record = dict(record, token=token)
        try:
            os.write(fd, (json.dumps(record) + "\n").encode("utf-8", "replace"))
        except OSError:
            pass
    return emit


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


def _close(fd):
    try:
        os.close(fd)
    except OSError:
        pass


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
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            _close(lifeline_fd)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            _prctl(PR_SET_DUMPABLE, 0)   # no other process of the same user reads or traces the judge
            _output_to(os.path.join(run, "output.txt"))
            code = worker(req, run, tests, emit, call_fd)
        except BaseException as exc:
            emit({"kind": "fatal", "reason": "runner", "error": _short("%s: %s" % (type(exc).__name__, exc)),
                  "traceback": traceback.format_exc()[-2000:]})
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
    if call_fd is not None:
        _close(call_fd)
    status = None
    while status is None:
        ready, _, _ = select.select([lifeline_fd], [], [], 0.01)
        if ready:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            kill_descendants()
            shutil.rmtree(run, ignore_errors=True)
            emit({"kind": "exit", "terminated": True})
            return 137
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
    kill_descendants()
    tail = _tail(os.path.join(run, "output.txt"))
    head = _head(os.path.join(run, "output.txt"))
    shutil.rmtree(run, ignore_errors=True)
    if os.WIFSIGNALED(status):
        emit({"kind": "exit", "signal": os.WTERMSIG(status), "tail": tail})
        return 128 + os.WTERMSIG(status)
    code = os.WEXITSTATUS(status)
    emit({"kind": "exit", "code": code, "tail": tail, "head": head})
    return code


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
    """Serves ``module_name`` from the given text (the candidate's, or in the judge the module as
    written); ``__file__`` is the real path.  ``after``: called with the module once it ran."""

    def __init__(self, name, path, source, after=None, names=None):
        self.name, self.path, self.source, self.after = name, path, source, after
        self.names = names   # a mapping factory for the module's top-level names (the judge's proxies)
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
        if self.names is not None:
            exec(code, module.__dict__, self.names(module))
        else:
            exec(code, module.__dict__)
        if self.after is not None:
            self.after(module)

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

    def __init__(self, req, tests_dir, finder, emit, pytest):
        self.pytest, self.finder, self.emit = pytest, finder, emit
        self.module_path = req["module_path"]
        self.reverse = bool(req.get("reverse"))
        self.files = {os.path.realpath(os.path.join(tests_dir, f["name"])): (f["name"], f["authoritative"])
                      for f in req["files"]}
        self.wanted = {}  # realpath -> [(given path, rest or None)]
        for u in req["user_tests"]:
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
        """Keeps the chosen tests; a ``unittest.TestCase`` class with a chosen test runs whole
        and in its order (its tests may depend on earlier ones), but only the chosen tests
        get an id here: the others' reports are never records, so they count for nothing."""
        keep, drop, classes = [], [], set()
        for item in items:
            oid, auth = self.identify(item)
            if oid is not None:
                self.ids[item.nodeid] = (oid, auth)
                if _unittest_item(item):
                    classes.add(id(item.parent))
        for item in items:
            if item.nodeid in self.ids or (_unittest_item(item) and id(item.parent) in classes):
                keep.append(item)
            else:
                drop.append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
        if self.reverse:   # groups in reverse order; a unittest class's tests keep theirs
            groups = []
            for item in keep:
                whole = _unittest_item(item) and id(item.parent) in classes
                if whole and groups and groups[-1][0] == id(item.parent):
                    groups[-1][1].append(item)
                else:
                    groups.append((id(item.parent) if whole else None, [item]))
            keep = [item for _, group in reversed(groups) for item in group]
        items[:] = keep

    def analyze(self, excinfo):
        exc = excinfo.value
        info = {"line": find_line(exc, excinfo.tb, self.module_path) or _crossed_line(exc)}
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
            self.emit({"kind": "start", "id": self.ids[nodeid][0], "authoritative": self.ids[nodeid][1]})

    def pytest_runtest_makereport(self, item, call):
        self.finder.prime()
        outcome = yield
        rep = outcome.get_result()
        if rep.failed and call.excinfo is not None:
            rep.specloop_info = self.analyze(call.excinfo)
        if call.when == "call":
            got = getattr(getattr(item, "module", None), "SPECLOOP_GOT", {}).get(item.name)
            if got is not None:
                rep.specloop_got = got

    def pytest_runtest_logreport(self, report):
        if report.nodeid not in self.ids:
            return
        oid, auth = self.ids[report.nodeid]
        st = self.state.setdefault(report.nodeid, {"kind": "test", "id": oid, "authoritative": auth,
                                                   "outcome": "passed", "message": ""})
        if getattr(report, "specloop_got", None) is not None:
            st["got"] = report.specloop_got
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
            self.emit(self.state.pop(report.nodeid))

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
                self.emit(dict(info, kind="test", id=oid, authoritative=auth, outcome="error"))


def _crossed_line(exc):
    """The module line an exception that crossed from the candidate's process was raised at."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        line = getattr(exc, "specloop_line", None)
        if isinstance(line, int):
            return line
        exc = exc.__cause__ or exc.__context__
    return None


def _unittest_item(item):
    """A test method of a ``unittest.TestCase`` class (pytest's ``TestCaseFunction``)."""
    return any(c.__name__ == "TestCaseFunction" and c.__module__ == "_pytest.unittest" for c in type(item).__mro__)


_WRAPPERS_MARKED = []


def _mark_wrappers(pytest):
    if _WRAPPERS_MARKED:
        return
    _WRAPPERS_MARKED.append(True)
    Plugin.pytest_runtest_makereport = pytest.hookimpl(hookwrapper=True)(Plugin.pytest_runtest_makereport)
    Plugin.pytest_make_collect_report = pytest.hookimpl(hookwrapper=True)(Plugin.pytest_make_collect_report)


def pytest_args(req, run, tests_dir, plugins=()):
    """The command line of a run: the test files, the project's root, config file and the
    options of its ``addopts`` that keep their meaning here (chosen by the sandbox), and
    the plugins it asks for (``plugins``: ``-p`` arguments)."""
    user_files = []
    for u in req["user_tests"]:
        if u["path"] not in user_files:
            user_files.append(u["path"])
    ini = req.get("ini") or os.path.join(run, "pytest.ini")
    root = req.get("rootdir") or req["workspace"]
    args = [*(os.path.join(tests_dir, f["name"]) for f in req["files"]), *user_files,
            "-q", "-p", "no:cacheprovider", "--continue-on-collection-errors", "--rootdir", root,
            "--confcutdir", root, "-c", ini, "-o", "addopts=", *req.get("addopts", ()), *plugins,
            "--tb=short", "--color=no"]
    if not req.get("autoload"):
        if not req.get("own_python") and importlib.util.find_spec("pytest_asyncio") and \
                "pytest_asyncio.plugin" not in plugins and "asyncio" not in plugins:
            args += ["-p", "pytest_asyncio.plugin"]  # the project's own: async model tests keep working
    return args


def _requirement_name(text):
    name = text.strip()
    for i, ch in enumerate(name):
        if ch in " <>=!~;[":
            return name[:i]
    return name


def _entry_points(dist_name):
    """(name, module) of the pytest11 entry points of an installed distribution; None: not installed."""
    try:
        from importlib import metadata
    except ImportError:
        return None
    for name in dict.fromkeys([dist_name, dist_name.replace("-", "_"), dist_name.replace("_", "-")]):
        try:
            dist = metadata.distribution(name)
        except Exception:
            continue
        return [(ep.name, ep.value.split(":")[0]) for ep in dist.entry_points if ep.group == "pytest11"]
    return None


def _importable(name):
    try:
        from importlib import metadata
        eps = metadata.entry_points()
        group = eps.select(group="pytest11") if hasattr(eps, "select") else eps.get("pytest11", [])
        if any(ep.name == name for ep in group):
            return True
    except Exception:
        pass
    try:
        return importlib.util.find_spec(name) is not None
    except Exception:
        return False


def plugin_args(req):
    """(``-p`` arguments, [(plugin, why)] missing) for the plugins the project's config asks
    for (``req["plugins"]``: [name, why, kind]; kind ``p`` a ``-p`` of addopts, ``required`` a
    requirement of required_plugins, ``key`` the distribution of an ini key it sets).  With
    plugin autoload on they load by themselves; otherwise each is loaded by name, and no other."""
    args, missing = [], []
    for name, why, kind in req.get("plugins", ()):
        if kind == "p":
            if _importable(name):
                args += ["-p", name]
            else:
                missing.append((name, why, kind))
            continue
        eps = _entry_points(_requirement_name(name))
        if eps is None:
            missing.append((name, why, kind))
        elif not req.get("autoload"):
            for ep, module in eps:
                if ep not in args and module not in args:   # not twice: once as a -p of addopts
                    args += ["-p", ep]
    return args, missing


def load_bridge():
    """The bridge module, bound beside this script (``bridge.py`` in the sandbox); loaded once
    per process (a warm worker loads it before it forks runs)."""
    if "_specloop_bridge" in sys.modules:
        return sys.modules["_specloop_bridge"]
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "bridge.py")
    if not os.path.exists(path):
        raise ImportError("the sandbox bridge is missing beside " + __file__)
    spec = importlib.util.spec_from_file_location("_specloop_bridge", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["_specloop_bridge"] = module
    spec.loader.exec_module(module)
    return module


def _set_path(roots):
    for root in reversed(roots):
        if root in sys.path:
            sys.path.remove(root)
        sys.path.insert(0, root)


def judge_finder(req, emit, call_fd):
    """The finder that serves the module as written with its targets replaced by proxies into
    the candidate's process (whose socket is ``call_fd``)."""
    bridge = load_bridge()
    spec = req["bridge"]
    peer = bridge.JudgePeer(socket.socket(fileno=call_fd), spec["roots"], req["module_name"], spec["local_classes"])

    def after(module):
        left = bridge.install(module, spec["targets"], peer)
        if left:
            emit({"kind": "bridge", "left": left})
    return CandidateFinder(req["module_name"], req["module_path"], spec["judge_source"], after,
                           lambda module: bridge.Names(module, spec["targets"], peer))


def worker(req, run, tests_dir, emit, call_fd=None):
    _set_path(req["sys_path"])
    if req.get("bridge"):   # judged by value: the candidate's text never enters this process
        req.pop("candidate", None)
        if call_fd is None:
            emit({"kind": "fatal", "reason": "runner", "error": "no connection to the candidate's process"})
            return 70
        finder = judge_finder(req, emit, call_fd)
    else:
        finder = CandidateFinder(req["module_name"], req["module_path"], req.pop("candidate"))
    sys.modules.pop(req["module_name"], None)
    finder.first()
    try:
        import pytest
    except ImportError as exc:
        emit({"kind": "fatal", "reason": "no-pytest", "error": _short("%s: %s" % (type(exc).__name__, exc))})
        return 3
    _mark_wrappers(pytest)
    plugins, missing = plugin_args(req)
    emit({"kind": "env", "plugins": plugins[1::2], "missing": [[n, w, k] for n, w, k in missing]})
    required = [(n, w) for n, w, k in missing if k != "key"]
    if required:
        emit({"kind": "fatal", "reason": "missing-plugins",
              "error": _short(", ".join("%s (%s)" % (n, w) for n, w in required))})
        return 4
    if missing:   # a plugin's ini key without the plugin: not an error of the run itself
        req = dict(req, addopts=[*req.get("addopts", ()), "-W", "ignore:Unknown config option:pytest.PytestConfigWarning"])
    plugin = Plugin(req, tests_dir, finder, emit, pytest)
    args = pytest_args(req, run, tests_dir, plugins)
    if req.get("cwd"):
        try:
            os.chdir(req["cwd"])   # the project's tests run from its root, as its own runs do
        except OSError:
            pass
    apply_limits(req["limits"])
    code = int(pytest.main(args, plugins=[plugin]))
    emit({"kind": "done", "code": code})
    return code


# -- the candidate's process (a run judged by value) ----------------------------------------------------

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
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            _close(lifeline_fd)
            _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            _output_to(os.path.join(home, "output.txt"))
            _set_path(req["sys_path"])
            bridge = load_bridge()
            finder = CandidateFinder(req["module_name"], req["module_path"], req.pop("candidate"))
            sys.modules.pop(req["module_name"], None)
            finder.first()
            apply_limits(req["limits"])
            bridge.serve(socket.socket(fileno=call_fd), req["module_name"], req["roots"], req["local_classes"])
            code = 0
        finally:
            os._exit(code)
    _close(call_fd)
    while True:
        ready, _, _ = select.select([lifeline_fd], [], [], 0.05)
        if ready:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            break
        done, _st = os.waitpid(pid, os.WNOHANG)
        if done:
            break
    kill_descendants()
    shutil.rmtree(home, ignore_errors=True)
    return 0


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
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.abspath(sys.path[0] or os.curdir) == here:
        del sys.path[0]  # never import from the runner's own folder
    return serve(argv) if argv[1] in ("serve", "cserve") else once(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
