"""The sandbox: runs a candidate's tests in other processes, decides the verdicts itself.

How a run is made (the child side is ``child/runner.py``; what a run may see is
``isolation.py``; the warm workers are ``warm.py``; the request and a run's plan are
``request.py``):

* Tests run under the *project's* Python (:func:`projectenv.find_python`) so the
  user's packages and pytest plugins are the ones that import; with specloop's own
  Python none of specloop's plugins load, only those the project's config names.  The
  user's tests run from the project root with its config (:mod:`projectenv`), every one
  found (a sanity cap of :data:`MAX_USER_TESTS` node ids) within the wall timeout; a suite
  too slow for it is cut to the first node ids (the finder puts those naming the target
  first) and the result's ``left_out`` says which did not run (:meth:`Sandbox.run`).
  The candidate never touches the user's file: the child serves the target module from
  the candidate text through an import hook (``__file__`` is the real path).
* Ordinary runs go to a warm worker (pytest imported once, a fresh forked
  process per run); the final check of a job's result is a *verification run*:
  a cold process, tests in reverse order, a new token and new descriptors.
* Each run gets its own folder (HOME, TMPDIR, working directory), an
  environment built from an allow-list (no API keys), rlimits, and a wall
  timeout after which the run's whole process tree is killed.

How a verdict is decided (the candidate runs inside the test process, so
nothing that process says is taken on trust; the rules are ``verdicts.py``):

* Records come through a pipe, never a path, each carrying the run's token; a
  line without it, a duplicate record, or an id no test of this run has makes
  the whole run *tampered*: every test of it counts as failed.
* A run passes only if the worker reported ``done``, the supervisor reported
  ``exit`` after it, and every authoritative test has exactly one record.
* A skipped, xfailed, deselected or uncollected authoritative test is failed, unless it
  also skips with the module as it is on disk (the stub; one run per module text, before
  the first candidate's): then it skips here whatever the body (an optional dependency
  this Python lacks) and is not counted.
* Doctest examples: the run reports what each example printed; this process
  compares it with the example's expected output (:mod:`doctests`).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from dataclasses import replace
from pathlib import Path

from . import byvalue, guard, verdicts, warm
from .doctests import doctest_text, make_doctest_file  # noqa: F401 (re-exported)
from .doctests import with_optionflags
from .projectenv import (NO_PROJECT_PYTHON_HINT, ProjectPython, find_python, module_name_for,  # noqa: F401
                         needed_plugins, pytest_config, run_options)
from .isolation import (MARKER_VAR, NO_BWRAP_HINT, bwrap_status, kill_marked, probe_bwrap,  # noqa: F401
                        secret_paths, site_dirs)
from .request import Plan, SandboxRequest, TestFile, in_process
from ..results import TestOutcome, TestRun
from ..settings import Settings

TESTS_PACKAGE = "_specloop_tests"
DOCTEST_FILE = "test_specloop_doctests.py"
FSIZE_MB = 64
NOFILE = 1024
MAX_RECORD_BYTES = 8 * 1024 * 1024
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
MAX_USER_TESTS = 1000   # a sanity cap on node ids of the user's tests per run (the bound is the wall timeout)
MIN_CUT = 40            # a run cut for time keeps at least this many node ids (those naming the target first)


class SandboxError(ValueError):
    """The sandbox cannot be set up as configured (one-line message)."""


def doctest_file(module_name: str, qualname: str, examples: list) -> TestFile:
    """The target's doctest examples as an authoritative test file whose outputs are
    checked outside the run."""
    return TestFile(DOCTEST_FILE, make_doctest_file(module_name, qualname, examples), True,
                    doctest=doctest_text(examples))


def resolve_python(settings: Settings, workspace: Path) -> str:
    """The path of the Python that runs the workspace's tests (:func:`projectenv.find_python`)."""
    return find_python(settings.python, workspace).path


def runner_path() -> str:
    return str(Path(__file__).parent / "child" / "runner.py")


class Sandbox:
    """Runs tests against candidates; see the module docstring for the walls it keeps."""

    def __init__(self, settings: Settings, workspace: Path) -> None:
        self.settings = settings
        self.workspace = Path(os.path.abspath(workspace))
        self.env: ProjectPython = find_python(settings.python, self.workspace)
        self.python = self.env.path
        if settings.sandbox == "process":
            self.isolation = "process"
        else:
            works, reason = bwrap_status()
            if not works and settings.sandbox == "bwrap":
                raise SandboxError(f"sandbox is set to 'bwrap' but bubblewrap does not work here: {reason}")
            if not works:
                raise SandboxError(NO_BWRAP_HINT.format(reason=reason))
            self.isolation = "bwrap"

    async def run(self, req: SandboxRequest, *, verify: bool = False) -> TestRun:
        """One run; ``verify``: the verification run (cold process, reverse order).

        A run judged by value with model-written (advisory) tests is two runs at once: the
        authoritative tests by value, the advisory ones in-process -- the model's tests are
        generated code too, and never run in the judge that decides ``passed``.  Their
        outcomes are merged; what the advisory run says (even forged) only ranks attempts.
        """
        advisory = [t for t in req.tests if not t.authoritative]
        if req.judge_source is None or not advisory:
            return await verdicts.fallback(self._run_all, req, await self._run_all(req, verify), verify)
        authoritative = replace(req, tests=[t for t in req.tests if t.authoritative])
        model = in_process(req, tests=advisory, user_tests=[])
        main, extra = await asyncio.gather(self._run_all(authoritative, verify), self._run_all(model, verify))
        main = await verdicts.fallback(self._run_all, authoritative, main, verify)
        ids = {o.id for o in main.outcomes}
        main.outcomes += [replace(o, authoritative=False) for o in extra.outcomes if o.id not in ids]
        main.seconds = max(main.seconds, extra.seconds)
        return main

    async def _run_all(self, req: SandboxRequest, verify: bool) -> TestRun:
        """One run of ``req`` as it is (see :meth:`run`).

        Every user test found runs (up to :data:`MAX_USER_TESTS` node ids) within the wall
        timeout.  A run that times out after some user tests finished is a suite too slow
        for it: the run is made again with the first node ids (those naming the target come
        first) cut to about what finished in time, down to :data:`MIN_CUT`; the cut is
        remembered for these tests, and the result's ``left_out`` names what did not run.  A
        run in which no test finished is a hang, not a slow suite: it is not retried.

        A test left out is a failed authoritative test ("not run: ..."), never a silent gap: a
        status is a promise that every authoritative test ran, and a candidate that is slow on
        purpose must not push the tests it fails out of the run.  The cut run still tells the
        model which of the tests that ran fail."""
        key = (self.python, str(os.path.abspath(req.module_path)), tuple(req.user_tests), self.isolation)
        cut = min(_CUTS.get(key, MAX_USER_TESTS), MAX_USER_TESTS)
        while True:
            asked = SandboxRequest(req.module_path, req.candidate_source, req.workspace, req.tests,
                                   req.user_tests[:cut], req.judge_source, req.targets, req.module_names)
            skipped_anyway = await self._skipped_anyway(asked) if asked.user_tests else frozenset()
            run = await self._run(asked, verify, skipped_anyway)
            run.left_out = list(req.user_tests[cut:]) + run.left_out
            fits = _finished(run, asked.user_tests)
            if not run.timed_out or len(asked.user_tests) <= MIN_CUT or not fits:
                return _not_run(run, len(req.user_tests), self.settings.test_timeout)
            cut = max(MIN_CUT, min(len(asked.user_tests) // 2, fits * 4 // 5))
            _CUTS[key] = cut
            while len(_CUTS) > 64:
                _CUTS.pop(next(iter(_CUTS)))

    async def _skipped_anyway(self, req: SandboxRequest) -> frozenset[str]:
        """The user's tests that skip here whatever the body: skipped in a run of the module as it
        is on disk (the stub), e.g. for an optional dependency this Python lacks.  One such run
        per module text and tests, remembered; the candidate has no part in it."""
        path = Path(os.path.abspath(req.module_path))
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return frozenset()
        key = (self.python, str(path), source, tuple(req.user_tests[:MAX_USER_TESTS]), self.isolation)
        hit = _SKIPPED.get(key)
        if hit is None:
            base = await self._run(SandboxRequest(path, source, req.workspace, [], list(req.user_tests)), False,
                                   frozenset())
            hit = frozenset(o.id for o in base.outcomes if o.outcome == "failed" and o.message.startswith("skipped ("))
            if base.tampered or base.error:
                hit = frozenset()
            _SKIPPED[key] = hit
            while len(_SKIPPED) > 64:
                _SKIPPED.pop(next(iter(_SKIPPED)))
        return hit

    async def _keys(self, plan, *, by_value: bool) -> tuple[warm.Key, warm.Key]:
        """The warm workers a run of ``plan`` uses: its judge's (or, not judged by value, its
        in-process run's) and its candidate's.  A new secret file: a new worker hides it.  A
        judge never shares its sandbox with a run whose candidate executes in its test process."""
        masks = await asyncio.to_thread(_masks, str(self.workspace)) if self.isolation == "bwrap" else ((), ())
        where = (self.python, str(self.workspace), self.isolation)
        extra_ro = tuple(plan.request["extra_ro"])
        return (warm.Key(*where, bool(plan.request["autoload"]), extra_ro, masks,
                         role="judge" if by_value else "in-process"),
                warm.Key(*where, False, extra_ro, masks, role="candidate"))

    async def prewarm(self, req: SandboxRequest) -> None:
        """Start the warm workers (the judge's and the candidate's) a run of ``req`` judged by
        value will use, while the model is still answering: the same keys as :meth:`run`'s."""
        keys = await self._keys(self._plan(req, False), by_value=True)
        await warm.start(*keys, env=self._env(req))

    async def _run(self, req: SandboxRequest, verify: bool, skipped_anyway: frozenset[str]) -> TestRun:
        started = time.monotonic()
        plan = self._plan(req, verify)
        plan.skipped_anyway = skipped_anyway
        env = self._env(req)
        key, candidate_key = await self._keys(plan, by_value=plan.candidate is not None)
        candidate = (candidate_key, plan.candidate) if plan.candidate is not None else None
        # process mode: where a run could plant files later runs load (asks the test Python
        # for its site-packages the first time: a subprocess, so off the event loop)
        watched = await asyncio.to_thread(self._watched, plan) if self.isolation == "process" else []
        before = _listing(watched)
        files = await asyncio.to_thread(guard.snapshot, str(self.workspace), str(self.workspace / Path(
            self.settings.tests_path.replace("{module}", "*")))) if self.isolation == "process" else None
        async with warm.slot():
            try:
                lines, timed_out = await warm.execute(key, env, plan.request, plan.token, cold=verify,
                                                      timeout=self.settings.test_timeout, candidate=candidate)
            finally:
                if self.isolation == "process":
                    await asyncio.to_thread(kill_marked, plan.marker)
        run = verdicts.collect(plan, lines, timed_out, time.monotonic() - started, self.isolation, self.env,
                               self.settings)
        planted = _planted(before, _listing(watched))
        if planted:  # process mode only: the run wrote where later runs would load it
            verdicts.untrusted(run, f"the run created {', '.join(planted[:3])}")
        changed = await asyncio.to_thread(guard.restore, files) if files is not None else []
        if changed:  # process mode only: put back as they were (what the run left is kept aside)
            verdicts.untrusted(run, f"the run changed {', '.join(changed[:3])} (put back; the run's version "
                                    f"is under {guard.ASIDE})")
        return run

    def _watched(self, plan: Plan) -> list[str]:
        """Folders where a file created by a run would be loaded by later runs (process mode):
        the workspace, the folders between it and the module and user tests, site-packages."""
        folders = {str(self.workspace), *plan.request["extra_ro"]}
        for folder in list(folders):
            path = Path(folder)
            while path != self.workspace and self.workspace in path.parents:
                folders.add(str(path))
                path = path.parent
        folders.update(site_dirs(self.python))
        return sorted(f for f in folders if os.path.isdir(f))

    def _env(self, req: SandboxRequest) -> dict[str, str]:
        module_root = str(module_name_for(Path(os.path.abspath(req.module_path)))[1])
        project_root = str(pytest_config(self.workspace, Path(os.path.abspath(req.module_path))).root)
        env = {"PATH": os.environ.get("PATH") or DEFAULT_PATH, "HOME": "/tmp", "TMPDIR": "/tmp",
               "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
               "PYTHONNOUSERSITE": "1", "PYTHONIOENCODING": "utf-8",
               "PYTHONPATH": os.pathsep.join(dict.fromkeys([module_root, project_root, str(self.workspace)])),
               "MALLOC_ARENA_MAX": "2"}  # few malloc arenas: threads fit under RLIMIT_AS
        if os.environ.get("TZ"):
            env["TZ"] = os.environ["TZ"]
        return env

    def _plan(self, req: SandboxRequest, reverse: bool) -> Plan:
        workspace = Path(os.path.abspath(req.workspace))
        module_path = os.path.abspath(req.module_path)
        module_name, root = module_name_for(Path(module_path))
        config = pytest_config(workspace, Path(module_path))
        asked, left_out = req.user_tests[:MAX_USER_TESTS], req.user_tests[MAX_USER_TESTS:]
        user_tests, missing, user_files = [], [], []
        for nodeid in asked:
            given, _, rest = nodeid.partition("::")
            path = given if os.path.isabs(given) else str(workspace / given)
            if not os.path.isfile(path):
                missing.append(nodeid)
                continue
            user_tests.append({"path": path, "given": given, "rest": rest or None})
            user_files.append(path)
        flags = config.doctest_optionflags
        files = [{"name": Path(tf.name).name, "authoritative": tf.authoritative,
                  "content": with_optionflags(tf.content, flags) if tf.doctest is not None and flags else tf.content}
                 for tf in req.tests]
        addopts = run_options(config)[0]
        if req.tests:   # the generated tests' names must be collected under the project's patterns too
            for key, default in (("python_functions", "test"), ("python_classes", "Test")):
                patterns = config.args(key)
                if patterns is not None and default not in patterns:
                    addopts += ["-o", f"{key}={' '.join([*patterns, default])}"]
        token, marker = uuid.uuid4().hex + uuid.uuid4().hex, uuid.uuid4().hex
        ini = config.path
        request = {
            "token": token, "marker": marker, "marker_var": MARKER_VAR,
            "module_name": module_name, "module_path": module_path, "candidate": req.candidate_source,
            "files": files, "user_tests": user_tests, "workspace": str(workspace), "ini": str(ini) if ini else None,
            "rootdir": str(config.root), "cwd": str(config.root) if user_tests else None,
            "addopts": addopts, "plugins": [list(p) for p in needed_plugins(config)],
            "own_python": self.env.own,
            "sys_path": list(dict.fromkeys([str(root), str(config.root), str(workspace)])), "reverse": reverse,
            # generated tests need no third-party plugins (a faster start); specloop's own Python
            # loads none of its own into a project's run, only those the project's config names
            "autoload": bool(user_tests) and not self.env.own,
            "limits": {"cpu_seconds": self.settings.cpu_seconds, "memory_mb": self.settings.memory_mb,
                       "fsize_mb": FSIZE_MB, "nofile": NOFILE},
            "extra_ro": sorted({str(root), str(config.root), os.path.dirname(module_path),
                                *(os.path.dirname(f) for f in user_files)}),
        }
        candidate = None
        proxies = byvalue.plan(req.judge_source, req.candidate_source, req.targets, req.module_names)
        if proxies is not None:
            roots = sorted({str(root), str(config.root), str(workspace)})
            request["bridge"] = {"judge_source": req.judge_source, "targets": proxies, "roots": roots,
                                 "local_classes": byvalue.local_classes(req.judge_source)}
            candidate = {key: request[key] for key in ("marker", "marker_var", "module_name", "module_path",
                                                       "candidate", "sys_path", "limits", "cwd")}
            candidate.update(roots=roots, local_classes=request["bridge"]["local_classes"])
        return Plan(request, token, marker, {Path(tf.name).name: tf for tf in req.tests},
                    [u for u in asked if u not in missing], missing, left_out, flags, candidate=candidate)


def _finished(run: TestRun, asked: list[str]) -> int:
    """How many of the node ids ``asked`` had every result in before the run stopped."""
    done = {o.id for o in run.outcomes if not o.message.startswith(("timed out", "test not found"))}
    return sum(1 for n in asked if any(i == n or i.startswith((n + "[", n + "::")) for i in done))


_CUTS: dict[tuple, int] = {}   # (python, module, user tests, isolation) -> node ids that fit a run
_SKIPPED: dict[tuple, frozenset[str]] = {}   # (python, module, its text, tests, isolation) -> skipped anyway
_MASKS: dict[str, tuple[float, tuple[tuple[str, ...], tuple[str, ...]]]] = {}
MASKS_TTL = 2.0   # seconds a workspace scan for secret files is reused


def _masks(workspace: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    now = time.monotonic()
    cached = _MASKS.get(workspace)
    if cached is None or now - cached[0] > MASKS_TTL:
        files, dirs = secret_paths(workspace)
        cached = _MASKS[workspace] = (now, (tuple(sorted(files)), tuple(sorted(dirs))))
    return cached[1]


_LOADED_LATER = ("conftest.py", "pytest.ini", "sitecustomize.py", "usercustomize.py", ".pth")


def _listing(folders: list[str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for folder in folders:
        try:
            out[folder] = {n for n in os.listdir(folder) if n.endswith(_LOADED_LATER)}
        except OSError:
            continue
    return out


def _planted(before: dict[str, set[str]], after: dict[str, set[str]]) -> list[str]:
    """Files that later Python or pytest starts would load, created during a run; they are removed."""
    found = []
    for folder, names in after.items():
        for name in sorted(names - before.get(folder, set())):
            path = os.path.join(folder, name)
            found.append(path)
            try:
                os.remove(path)
            except OSError:
                pass
    return found





def _not_run(run: TestRun, found: int, timeout: float) -> TestRun:
    """``run`` with a failed outcome for each user test it left out."""
    ran = found - len(run.left_out)
    why = (f"not run: {ran} of your {found} tests that exercise the target fit in one run "
           f"(test_timeout {timeout:g} s, at most {MAX_USER_TESTS} tests); raise test_timeout to run them all")
    run.outcomes.extend(TestOutcome(nodeid, "failed", message=why) for nodeid in run.left_out)
    return run


__all__ = ["Sandbox", "SandboxError", "SandboxRequest", "TestFile", "module_name_for", "resolve_python",
           "make_doctest_file", "doctest_text", "bwrap_status", "probe_bwrap", "MARKER_VAR", "runner_path",
           "kill_marked"]

