"""The pytest plugin of a run: turns pytest's reports into ``test`` records (outcome, message,
the module line, expected and actual), keeps the chosen tests and orders them.

Part of the runner (see ``runner.py``); loaded as ``_specloop_child.plugin``.
"""

from __future__ import annotations

import os

from .records import REPR_LIMIT, _safe_repr, _short


def _same_file(a, b):
    return bool(a) and bool(b) and os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


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
