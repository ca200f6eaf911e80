"""The worker of a run: serves the target module through an import hook (the candidate's text,
or in the judge the module as written with proxies into the candidate's process), sets
rlimits and runs ``pytest.main`` with the run's plugin.

Part of the runner (see ``runner.py``); loaded as ``_specloop_child.worker``.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import linecache
import os
import socket
import sys

from .plugin import Plugin, _mark_wrappers
from .pytestargs import plugin_args, pytest_args
from .records import _short


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


def load_bridge():
    """The bridge (``bridge.py`` and its parts, in this package); loaded once per process (a
    warm worker loads it before it forks runs)."""
    from . import bridge
    return bridge


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
