"""The sandbox: runs a candidate's tests in a separate process, returns a ``TestRun``.

Decisions:

* One fresh process per run (cold pytest is about 0.2 s here), started with the
  *workspace's* Python (:func:`resolve_python`), so the user's own packages and
  pytest plugins are the ones that import.  The child side is the standalone
  script ``_sandbox_child.py``, copied into the run's temp dir; its docstring
  tells the process layout (a subreaper supervisor and a worker with rlimits).
* The candidate never touches the user's file: the child serves the target
  module from the candidate text through an import hook placed first on
  ``sys.meta_path`` (``__file__`` is the real path, tracebacks show the
  candidate's lines).  Everything else imports normally from the module's
  ``sys.path`` root (:func:`module_name_for`) and the workspace root.
* Each run gets a fresh temp dir that is also HOME, TMPDIR and the working
  directory.  The environment is built from an allow-list (PATH, HOME, TMPDIR,
  LANG/LC_ALL, TZ, PYTHON* and MALLOC_ARENA_MAX we set, and a per-run marker;
  bwrap adds PWD);
  nothing else of the server's environment (API keys, tokens, provider
  variables) reaches the tests.
* Where bubblewrap works (probed once per process): no network, a read-only
  filesystem except the temp dir (a private, read-only /tmp; the workspace and
  other needed paths under /tmp are bound back read-only), its own PID namespace,
  ``--die-with-parent`` and ``--new-session``.  Otherwise ("process"
  isolation) the same run without those walls.
* Nothing outlives a run: on the wall timeout or cancellation the supervisor
  gets SIGTERM (it kills every descendant, which its subreaper role collects
  even after ``setsid``), then the process group is SIGKILLed, and finally
  every process whose environment carries the run's marker is killed.  Output
  goes to files, never pipes, and every wait is bounded.
* pytest runs with the user's pytest config from the workspace root when there
  is one (so their plugins' settings apply to their tests) but with
  ``addopts`` cleared, no cache provider, rootdir and confcutdir at the
  workspace, and ``--continue-on-collection-errors`` so an import error of the
  candidate becomes ``error`` outcomes rather than an aborted run.
"""

from __future__ import annotations

import asyncio
import doctest
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from .results import TestOutcome, TestRun
from .settings import Settings
from .spec import Example

MARKER_VAR = "SPECLOOP_SANDBOX_RUN"
RUNNER_NAME = "_specloop_runner.py"
TESTS_PACKAGE = "_specloop_tests"   # model and doctest files live in this package: no name clash with user tests
FSIZE_MB = 64
NOFILE = 1024
TERM_GRACE = 1.0                    # seconds the supervisor gets to clean up after SIGTERM
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
BWRAP_FLAGS = ["--unshare-all", "--die-with-parent", "--new-session", "--ro-bind", "/", "/",
               "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
_OUTCOMES = ("passed", "failed", "error", "skipped")


class SandboxError(ValueError):
    """The sandbox cannot be set up as configured (one-line message)."""


@dataclass
class TestFile:
    __test__ = False  # not a pytest test class
    name: str            # file name written into the temp dir, e.g. "test_doctests.py"
    content: str         # a pytest test module
    authoritative: bool  # True: doctests and user's tests; False: model-written (advisory)


@dataclass
class SandboxRequest:
    module_path: Path          # the user's .py file on disk (absolute); never written
    candidate_source: str      # the whole module text with the candidate function in place
    workspace: Path            # workspace root
    tests: list[TestFile] = field(default_factory=list)
    user_tests: list[str] = field(default_factory=list)  # "ABS/test_x.py::test_name" (authoritative)


def module_name_for(path: Path) -> tuple[str, Path]:
    """Dotted module name of ``path`` and the ``sys.path`` root to import it from.

    Walks up while the folder has ``__init__.py``; a ``src/`` layout needs no
    special case (``src/`` itself has no ``__init__.py``, so it is the root)."""
    path = Path(os.path.abspath(path))
    parts = [] if path.stem == "__init__" else [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts), folder


def _doctest_text(examples: list[Example]) -> str:
    lines: list[str] = []
    for ex in examples:
        source = ex.source.rstrip("\n").split("\n")
        lines.append(">>> " + source[0])
        lines.extend("... " + s if s else "..." for s in source[1:])
        if ex.want:
            lines.extend(ex.want.rstrip("\n").split("\n"))
    return "\n".join(lines) + "\n"


_DOCTEST_TEMPLATE = '''"""Doctest examples of {qualname} in {module}: one test per example.

Test n runs examples 0..n-1 first (each reports its own mismatch in its own
test), then checks example n with the stdlib doctest runner and its rules."""

import doctest
import importlib
import traceback

MODULE = {module!r}
QUALNAME = {qualname!r}
TEXT = {text!r}


class DoctestMismatch(AssertionError):
    def __init__(self, message, source, expected, actual, short):
        AssertionError.__init__(self, message)
        self.specloop_source = source
        self.specloop_expected = expected
        self.specloop_actual = actual
        self.specloop_message = short


class _Runner(doctest.DocTestRunner):
    def __init__(self, target):
        doctest.DocTestRunner.__init__(self, verbose=False, optionflags=0)
        self.target = target
        self.got = None
        self.exc = None
        self.failed_target = False

    def report_start(self, out, test, example):
        pass

    def report_success(self, out, test, example, got):
        pass

    def report_failure(self, out, test, example, got):
        if example is self.target:
            self.failed_target, self.got = True, got

    def report_unexpected_exception(self, out, test, example, exc_info):
        if example is self.target:
            self.failed_target, self.exc = True, exc_info[1]
            self.got = "".join(traceback.format_exception_only(exc_info[0], exc_info[1]))


def _check(n):
    module = importlib.import_module(MODULE)
    examples = doctest.DocTestParser().get_examples(TEXT)
    target = examples[n]
    test = doctest.DocTest(examples[: n + 1], dict(module.__dict__), MODULE + "." + QUALNAME,
                           getattr(module, "__file__", None), None, None)
    runner = _Runner(target)
    runner.run(test, out=lambda text: None, clear_globs=False)
    if not runner.failed_target:
        return
    flags = 0
    for flag, on in target.options.items():
        flags = flags | flag if on else flags & ~flag
    got = runner.got if runner.exc is None else "Exception raised:\\n" + runner.got
    source = "".join("    " + line for line in target.source.splitlines(True))
    message = "Failed example:\\n" + source + doctest.OutputChecker().output_difference(target, got, flags)
    expected, actual = target.want.rstrip("\\n"), runner.got.rstrip("\\n")
    short = "doctest %s: expected %r, got %r" % (target.source.strip().splitlines()[0], expected, actual)
    raise DoctestMismatch(message, target.source, expected, actual, short) from runner.exc
'''


def make_doctest_file(module_name: str, qualname: str, examples: list[Example]) -> str:
    """A pytest module with one test per doctest example (``test_doctest_<n>``).

    The examples are rebuilt as doctest text and parsed back with the stdlib
    parser at test time, so directives (``# doctest: +ELLIPSIS``), expected
    exceptions and ``<BLANKLINE>`` follow doctest's own rules."""
    text = _doctest_text(examples)
    parsed = doctest.DocTestParser().get_examples(text)
    def line_end(text: str) -> str:
        return text if text == "" or text.endswith("\n") else text + "\n"

    if [(e.source, e.want) for e in parsed] != [(line_end(x.source), line_end(x.want)) for x in examples]:
        raise ValueError(f"cannot rebuild the doctest examples of {qualname}")
    body = _DOCTEST_TEMPLATE.format(module=module_name, qualname=qualname, text=text)
    tests = "".join(f"\n\ndef test_doctest_{n}():\n    _check({n})\n" for n in range(len(examples)))
    return body + tests


@functools.lru_cache(maxsize=1)
def bwrap_status() -> tuple[bool, str]:
    """Whether bubblewrap with our flags works here, and why not (probed once per process)."""
    exe = shutil.which("bwrap")
    if exe is None:
        return False, "bwrap is not installed"
    argv = [exe, *BWRAP_FLAGS, *_ro_binds([os.path.dirname(sys.executable)]), "--remount-ro", "/tmp",
            "--", sys.executable, "-c", "pass"]
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=15)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"bwrap failed: {exc}"
    if proc.returncode != 0:
        lines = proc.stderr.decode(errors="replace").strip().splitlines()
        return False, "bwrap failed: " + (lines[-1] if lines else f"exit status {proc.returncode}")
    return True, "bwrap works"


def probe_bwrap() -> bool:
    return bwrap_status()[0]


def resolve_python(settings: Settings, workspace: Path) -> str:
    """settings.python (a name on PATH, or a path relative to the workspace), else the
    workspace's ``.venv/bin/python`` if it exists, else the server's own Python.
    Symlinks are kept: a venv's python must be started through its own path."""
    if settings.python:
        chosen = os.path.expanduser(settings.python)
        if os.sep not in chosen:
            return shutil.which(chosen) or chosen
        return chosen if os.path.isabs(chosen) else str(Path(workspace, chosen))
    venv = Path(workspace) / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def _ro_binds(paths: list[str]) -> list[str]:
    """bwrap arguments that make the needed paths under /tmp visible again (read-only)
    after ``--tmpfs /tmp`` hid them."""
    chosen: list[str] = []
    for p in sorted({os.path.abspath(p) for p in paths if p}, key=len):
        if (p == "/tmp" or p.startswith("/tmp/")) and os.path.exists(p) \
                and not any(p == q or p.startswith(q + "/") for q in chosen):
            chosen.append(p)
    return [arg for p in chosen for arg in ("--ro-bind", p, p)]


def _pytest_config(workspace: Path) -> Path | None:
    """The workspace root's pytest config file, in pytest's own order of preference."""
    for name, section in (("pytest.ini", ""), (".pytest.ini", ""), ("pyproject.toml", "[tool.pytest"),
                          ("tox.ini", "[pytest]"), ("setup.cfg", "[tool:pytest]")):
        path = workspace / name
        try:
            text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None
        except OSError:
            text = None
        if text is not None and (not section or section in text):
            return path
    return None


def kill_marked(marker: str, rounds: int = 50) -> int:
    """SIGKILL every process whose environment carries ``MARKER_VAR=marker``; repeat until none."""
    needle = f"{MARKER_VAR}={marker}".encode()
    killed = 0
    for _ in range(rounds):
        found = []
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    with open(f"/proc/{name}/environ", "rb") as fh:
                        if needle in fh.read().split(b"\0"):
                            found.append(int(name))
                except OSError:
                    continue
        if not found:
            break
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except OSError:
                pass
        time.sleep(0.01)
    return killed


def _signal(pid: int, sig: int, group: bool = False) -> None:
    try:
        (os.killpg if group else os.kill)(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


async def _stop(proc: asyncio.subprocess.Process, marker: str) -> None:
    """Leave no process of the run: supervisor cleanup, then group kill, then marker sweep."""
    if proc.returncode is None:
        _signal(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), TERM_GRACE)
        except asyncio.TimeoutError:
            pass
    _signal(proc.pid, signal.SIGKILL, group=True)
    if proc.returncode is None:
        _signal(proc.pid, signal.SIGKILL)
        await proc.wait()
    await asyncio.to_thread(kill_marked, marker)


@functools.lru_cache(maxsize=1)
def _runner_text() -> str:
    return Path(__file__).with_name("_sandbox_child.py").read_text(encoding="utf-8")


def _tail(path: Path) -> str:
    try:
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8", errors="replace")[-4000:].splitlines()]
    except OSError:
        return ""
    lines = [ln for ln in lines if ln]
    errors = [ln for ln in lines if ln.startswith(("E ", "ERROR", "ImportError", "Traceback"))]
    return (errors or lines or [""])[-1][:300]


@dataclass
class _Plan:
    argv: list[str]
    env: dict[str, str]
    marker: str
    results: Path
    output: Path
    files: list[tuple[str, bool]]   # (name, authoritative) of each test file
    user_ids: list[str]
    missing: list[str]


class Sandbox:
    """Runs tests against candidates; see the module docstring for the walls it keeps."""

    def __init__(self, settings: Settings, workspace: Path) -> None:
        self.settings = settings
        self.workspace = Path(os.path.abspath(workspace))
        self.python = resolve_python(settings, self.workspace)
        if settings.sandbox == "process":
            self.isolation = "process"
        else:
            works, reason = bwrap_status()
            if not works and settings.sandbox == "bwrap":
                raise SandboxError(f"sandbox is set to 'bwrap' but bubblewrap does not work here: {reason}")
            self.isolation = "bwrap" if works else "process"

    async def run(self, req: SandboxRequest) -> TestRun:
        started = time.monotonic()
        tmp = Path(tempfile.mkdtemp(prefix="specloop-run-"))
        try:
            return await self._run_in(req, tmp, started)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    async def _run_in(self, req: SandboxRequest, tmp: Path, started: float) -> TestRun:
        plan = self._prepare(req, tmp)
        with open(plan.output, "wb") as out:
            try:
                proc = await asyncio.create_subprocess_exec(
                    *plan.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                    env=plan.env, cwd=str(tmp), start_new_session=True)
            except OSError as exc:
                return TestRun(error=f"cannot start {plan.argv[0]}: {exc}", isolation=self.isolation,
                               seconds=time.monotonic() - started)
        timed_out = False
        try:
            await asyncio.wait_for(proc.wait(), self.settings.test_timeout)
        except asyncio.TimeoutError:
            timed_out = True
        finally:
            await asyncio.shield(asyncio.ensure_future(_stop(proc, plan.marker)))
        return self._collect(plan, timed_out, time.monotonic() - started)

    def _prepare(self, req: SandboxRequest, tmp: Path) -> _Plan:
        workspace = Path(os.path.abspath(req.workspace))
        base, tests_dir = tmp / "_specloop", tmp / "tests" / TESTS_PACKAGE
        base.mkdir()
        tests_dir.mkdir(parents=True)
        (tmp / "tmp").mkdir()
        (tests_dir / "__init__.py").write_text("", encoding="utf-8")
        test_files, files = [], []
        for tf in req.tests:
            path = tests_dir / Path(tf.name).name
            path.write_text(tf.content, encoding="utf-8")
            test_files.append({"path": str(path), "name": tf.name, "authoritative": tf.authoritative})
            files.append((tf.name, tf.authoritative))
        module_path = os.path.abspath(req.module_path)
        module_name, root = module_name_for(Path(module_path))
        (base / "candidate.txt").write_text(req.candidate_source, encoding="utf-8")
        user_tests, user_files, missing = [], [], []
        for nodeid in req.user_tests:
            given, _, rest = nodeid.partition("::")
            path = given if os.path.isabs(given) else str(workspace / given)
            if not os.path.isfile(path):
                missing.append(nodeid)
                continue
            user_tests.append({"path": path, "given": given, "rest": rest or None})
            if path not in user_files:
                user_files.append(path)
        ini = _pytest_config(workspace)
        if ini is None:
            ini = base / "pytest.ini"
            ini.write_text("[pytest]\n", encoding="utf-8")
        results, output = base / "results.jsonl", base / "output.txt"
        cfg = {
            "module_name": module_name, "module_path": module_path, "candidate_file": str(base / "candidate.txt"),
            "results_file": str(results), "test_files": test_files, "user_tests": user_tests,
            "limits": {"cpu_seconds": self.settings.cpu_seconds, "memory_mb": self.settings.memory_mb,
                       "fsize_mb": FSIZE_MB, "nofile": NOFILE},
            "pytest_args": [*(t["path"] for t in test_files), *user_files, "-q", "-p", "no:cacheprovider",
                            "--continue-on-collection-errors", "--rootdir", str(workspace),
                            "--confcutdir", str(workspace), "-c", str(ini), "-o", "addopts=",
                            "--tb=short", "--color=no"],
        }
        marker = uuid.uuid4().hex
        pythonpath = list(dict.fromkeys([str(root), str(workspace)]))
        env = {"PATH": os.environ.get("PATH") or DEFAULT_PATH, "HOME": str(tmp), "TMPDIR": str(tmp / "tmp"),
               "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
               "PYTHONNOUSERSITE": "1", "PYTHONIOENCODING": "utf-8", "PYTHONPATH": os.pathsep.join(pythonpath),
               "MALLOC_ARENA_MAX": "2", MARKER_VAR: marker}  # few malloc arenas: threads fit under RLIMIT_AS
        if not user_tests:  # generated tests need no third-party plugins: faster start
            env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
            cfg["pytest_args"] += ["-o", "required_plugins="]
        if os.environ.get("TZ"):
            env["TZ"] = os.environ["TZ"]
        (base / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
        (base / RUNNER_NAME).write_text(_runner_text(), encoding="utf-8")
        argv = [self.python, str(base / RUNNER_NAME), str(base / "config.json")]
        if self.isolation == "bwrap":
            visible = [str(workspace), str(root), os.path.dirname(module_path), str(ini.parent),
                       *(os.path.dirname(f) for f in user_files),
                       str(Path(self.python).parent.parent), str(Path(os.path.realpath(self.python)).parent.parent)]
            argv = [shutil.which("bwrap") or "bwrap", *BWRAP_FLAGS, *_ro_binds(visible),
                    "--bind", str(tmp), str(tmp), "--remount-ro", "/tmp", "--chdir", str(tmp), "--", *argv]
        return _Plan(argv, env, marker, results, output, files,
                     [u for u in req.user_tests if u not in missing], missing)

    def _collect(self, plan: _Plan, timed_out: bool, seconds: float) -> TestRun:
        outcomes: list[TestOutcome] = []
        running: dict[str, bool] = {}
        fatal = exit_rec = None
        try:
            lines = plan.results.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            lines = []
        for line in lines:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            kind = rec.get("kind")
            if kind == "start":
                running[rec["id"]] = bool(rec.get("authoritative", True))
            elif kind == "test":
                running.pop(rec["id"], None)
                outcome = rec.get("outcome") if rec.get("outcome") in _OUTCOMES else "error"
                outcomes.append(TestOutcome(
                    id=rec["id"], outcome=outcome, message=rec.get("message") or "",
                    expected=rec.get("expected"), actual=rec.get("actual"), line=rec.get("line"),
                    authoritative=bool(rec.get("authoritative", True))))
            elif kind == "fatal":
                fatal = fatal or rec
            elif kind == "exit":
                exit_rec = rec
        for nodeid in plan.missing:
            outcomes.append(TestOutcome(nodeid, "error", f"test file not found: {nodeid.partition('::')[0]}"))
        run = TestRun(outcomes=outcomes, timed_out=timed_out, seconds=seconds, isolation=self.isolation)
        interrupted = None
        if timed_out:
            run.error = interrupted = f"timed out after {self.settings.test_timeout:g} s"
        elif fatal is not None and fatal.get("reason") == "no-pytest":
            run.error = f"{self.python} has no pytest: {fatal.get('error')}"
        elif fatal is not None:
            run.error = f"sandbox runner failed: {fatal.get('error')}"
        elif exit_rec is None:
            run.error = f"test process ended unexpectedly: {_tail(plan.output) or 'no output'}"
        elif "signal" in exit_rec:
            sig = int(exit_rec["signal"])
            name = signal.Signals(sig).name if sig in signal.valid_signals() else str(sig)
            reason = (f"exceeded the CPU time limit of {self.settings.cpu_seconds} s" if sig == signal.SIGXCPU
                      else f"was killed by {name}")
            run.error = interrupted = f"test process {reason}"
        elif exit_rec.get("code") not in (0, 1, 5):
            run.error = f"pytest exited with status {exit_rec.get('code')}: {_tail(plan.output)}"
        if interrupted:
            outcomes.extend(TestOutcome(oid, "failed", interrupted, authoritative=auth)
                            for oid, auth in running.items())
        if run.error is None:
            seen = [o.id for o in outcomes]
            for name, auth in plan.files:
                if not any(i == name or i.startswith(name + "::") for i in seen):
                    outcomes.append(TestOutcome(name, "error", f"no tests collected from {name}", authoritative=auth))
            for nodeid in plan.user_ids:
                if not any(i == nodeid or i.startswith((nodeid + "[", nodeid + "::")) for i in seen):
                    outcomes.append(TestOutcome(nodeid, "error", f"test not found: {nodeid}"))
        return run
