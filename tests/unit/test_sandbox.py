"""The sandbox with real processes (and real bubblewrap where it works here).

Every test that runs candidates runs in "process" isolation; the bwrap variants
are skipped with the reason when bubblewrap does not work on this machine.
Leftover processes are looked up in /proc by a token in their command line or
by the run's marker in their environment; zombies count as gone.
"""

from __future__ import annotations

import asyncio
import doctest
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import types
from pathlib import Path

import pytest

from environment import environment

from specloop.sandbox import warm
from specloop.sandbox.runs import (MARKER_VAR, Sandbox, SandboxRequest, TestFile, bwrap_status, make_doctest_file,
                              module_name_for, probe_bwrap, resolve_python)
from specloop.settings import Settings
from specloop.source.spec import Example

MODES = [
    pytest.param("process", id="process"),
    pytest.param("bwrap", id="bwrap", marks=[environment, pytest.mark.skipif(
        not probe_bwrap(), reason=f"bubblewrap does not work on this machine: {bwrap_status()[1]}")]),
]

MODULE_ON_DISK = '''"""Shapes."""


def area(w, h):
    """Area of a w-by-h rectangle.

    >>> area(2, 3)
    6
    """
'''

CANDIDATE = '''"""Shapes."""


def area(w, h):
    """Area of a w-by-h rectangle."""
    if w == 0:
        raise ZeroDivisionError("zero width")
    return w * h + (1 if w == 3 else 0)
'''

SPAWN = '''
import os, sys, time


def spawn_setsid_sleeper(token=None):
    """Double fork; the grandchild calls setsid and sleeps an hour (exec'd with `token` in argv if
    given): a run that waits for it instead of killing it never ends (pytest-timeout fails the test)."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            if os.fork() == 0:
                if token:
                    os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(3600)", token])
                time.sleep(3600)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
'''


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def _procs() -> list[tuple[int, bytes, bytes]]:
    """(pid, cmdline, environ) of every live (non-zombie) process."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                if fh.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                    continue
            with open(f"/proc/{name}/cmdline", "rb") as fh:
                cmdline = fh.read()
            with open(f"/proc/{name}/environ", "rb") as fh:
                environ = fh.read()
        except (OSError, IndexError):
            continue
        out.append((int(name), cmdline, environ))
    return out


def alive(token: str) -> list[int]:
    """Live processes whose command line or environment contains ``token``."""
    needle = token.encode()
    return [pid for pid, cmd, env in _procs() if pid != os.getpid() and (needle in cmd or needle in env)]


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "mypkg").mkdir(parents=True)
    (root / "mypkg" / "__init__.py").write_text('"""My package."""\n')
    (root / "mypkg" / "mod.py").write_text(MODULE_ON_DISK)
    return root


@pytest.fixture
def runs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run temp dirs (and the process-mode warm worker's) go here, so every process of a run has
    this path in its command line or environment."""
    warm.shutdown()
    runs = tmp_path / "runs"
    runs.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(runs))
    yield runs
    warm.shutdown()


def gone(check, seconds: float = 10.0) -> bool:
    """``check()`` comes true within ``seconds`` (a bound for a failing test, not a speed check):
    a killed process is gone once its parent (the run's supervisor, a subreaper) has collected
    it, which takes a moment on a busy machine."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def assert_nothing_left(token: str, runs_dir: Path) -> None:
    """No process of the run is alive, and once the warm workers stop, none of theirs either
    and the run's temp dirs are removed."""
    assert gone(lambda: alive(token) == []), f"still running after the run: {alive(token)}"
    warm.shutdown()
    assert gone(lambda: alive(str(runs_dir)) == []), f"still running after shutdown: {alive(str(runs_dir))}"
    assert gone(lambda: list(runs_dir.iterdir()) == []), f"left behind: {sorted(runs_dir.iterdir())}"


async def run(mode: str, ws: Path, tests: list[TestFile], candidate: str = CANDIDATE,
              user_tests: list[str] | None = None, **settings):
    sandbox = Sandbox(Settings(sandbox=mode, **{"test_timeout": 30.0, **settings}), ws)
    assert sandbox.isolation == mode
    req = SandboxRequest(module_path=ws / "mypkg" / "mod.py", candidate_source=candidate, workspace=ws,
                         tests=tests, user_tests=user_tests or [])
    return await sandbox.run(req)


def by_id(result) -> dict:
    return {o.id: o for o in result.outcomes}


# -- pure functions ------------------------------------------------------------------------------

def test_module_name_for(tmp_path: Path) -> None:
    (tmp_path / "src" / "pkg" / "sub").mkdir(parents=True)
    for init in ("src/pkg/__init__.py", "src/pkg/sub/__init__.py"):
        (tmp_path / init).write_text("")
    assert module_name_for(tmp_path / "src/pkg/sub/mod.py") == ("pkg.sub.mod", tmp_path / "src")
    assert module_name_for(tmp_path / "src/pkg/__init__.py") == ("pkg", tmp_path / "src")
    assert module_name_for(tmp_path / "tool.py") == ("tool", tmp_path)


def test_resolve_python(tmp_path: Path) -> None:
    assert resolve_python(Settings(), tmp_path) == sys.executable
    venv_python = tmp_path / ".venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    venv_python.symlink_to(sys.executable)
    assert resolve_python(Settings(), tmp_path) == str(venv_python)
    assert resolve_python(Settings(python="/opt/py/bin/python3"), tmp_path) == "/opt/py/bin/python3"


def test_doctest_file_is_a_module_with_one_test_per_example(monkeypatch: pytest.MonkeyPatch) -> None:
    examples = [Example("area(2, 3)\n", "6\n", 2), Example("area(1, 1)\n", "1\n", 4)]
    text = make_doctest_file("specloop_fake_shapes", "area", examples)
    code = compile(text, "test_doctests.py", "exec")
    assert [n for n in code.co_names if n.startswith("test_")] == ["test_doctest_0", "test_doctest_1"]
    fake = types.ModuleType("specloop_fake_shapes")
    exec("def area(w, h):\n    return w * h + 1\n", fake.__dict__)
    monkeypatch.setitem(sys.modules, "specloop_fake_shapes", fake)
    namespace: dict = {}
    exec(code, namespace)
    with pytest.raises(AssertionError) as failure:
        namespace["test_doctest_0"]()
    assert str(failure.value) == "Failed example:\n    area(2, 3)\nExpected:\n    6\nGot:\n    7\n"
    assert (failure.value.specloop_expected, failure.value.specloop_actual) == ("6", "7")


# -- running candidates --------------------------------------------------------------------------

MODEL_TESTS = '''
import inspect
import mypkg.mod
from mypkg.mod import area


def test_ok():
    assert area(2, 3) == 6


def test_wrong():
    assert area(3, 3) == 9


def test_raises():
    area(0, 1)


def test_served_from_candidate_with_real_file():
    assert mypkg.mod.__file__ == MOD_PATH
    assert "return w * h" in inspect.getsource(area)
'''


@pytest.mark.parametrize("mode", MODES)
async def test_passing_and_failing_candidate(mode: str, ws: Path) -> None:
    mod = ws / "mypkg" / "mod.py"
    before = mod.read_bytes()
    tests = [TestFile("test_model.py", MODEL_TESTS.replace("MOD_PATH", repr(str(mod))), authoritative=False)]
    result = await run(mode, ws, tests)
    assert result.error is None and not result.timed_out and result.isolation == mode
    out = by_id(result)
    assert set(out) == {f"test_model.py::{n}" for n in
                        ("test_ok", "test_wrong", "test_raises", "test_served_from_candidate_with_real_file")}
    assert out["test_model.py::test_ok"].outcome == "passed"
    assert out["test_model.py::test_served_from_candidate_with_real_file"].outcome == "passed"
    wrong = out["test_model.py::test_wrong"]
    assert (wrong.outcome, wrong.actual, wrong.expected) == ("failed", "10", "9")
    assert wrong.message.startswith("assert 10 == 9") and wrong.authoritative is False
    raised = out["test_model.py::test_raises"]
    assert raised.outcome == "failed" and "ZeroDivisionError: zero width" in raised.message
    assert raised.line == line_of(CANDIDATE, "raise ZeroDivisionError")
    assert (result.passed, result.failed) == (2, 2)
    assert mod.read_bytes() == before


async def test_doctest_examples_run_cumulatively_with_doctest_rules(ws: Path) -> None:
    parsed = doctest.DocTestParser().get_examples(textwrap.dedent('''\
        >>> x = 3
        >>> area(x, 2)
        7
        >>> area(2, 2)
        5
        >>> print(list(range(20)))  # doctest: +ELLIPSIS
        [0, 1, ..., 19]
        >>> print("a   b")  # doctest: +NORMALIZE_WHITESPACE
        a b
        >>> area(0, 2)
        Traceback (most recent call last):
          ...
        ZeroDivisionError: zero width
        >>> area(0, 1)
        0
        '''))
    examples = [Example(e.source, e.want, e.lineno) for e in parsed]
    tests = [TestFile("test_doctests.py", make_doctest_file("mypkg.mod", "area", examples), authoritative=True)]
    result = await run("process", ws, tests)
    out = by_id(result)
    assert [out[f"test_doctests.py::test_doctest_{n}"].outcome for n in range(7)] == [
        "passed", "passed", "failed", "passed", "passed", "passed", "failed"]
    mismatch = out["test_doctests.py::test_doctest_2"]
    assert (mismatch.expected, mismatch.actual, mismatch.authoritative) == ("5", "4", True)
    assert "area(2, 2)" in mismatch.message
    crash = out["test_doctests.py::test_doctest_6"]
    assert (crash.expected, crash.actual) == ("0", "ZeroDivisionError: zero width")
    assert crash.line == line_of(CANDIDATE, "raise ZeroDivisionError")


async def test_users_own_tests_are_the_oracle(ws: Path) -> None:
    tests_dir = ws / "tests"
    tests_dir.mkdir()
    (tests_dir / "conftest.py").write_text("import pytest\n\n\n@pytest.fixture\ndef two():\n    return 2\n")
    user_file = tests_dir / "test_user.py"
    user_file.write_text(textwrap.dedent('''\
        import pytest
        from mypkg.mod import area


        def test_a(two):
            assert area(two, 3) == 6


        class TestC:
            def test_b(self):
                assert area(3, 1) == 3


        @pytest.mark.parametrize("w", [1, 2])
        def test_param(w):
            assert area(w, 1) == w


        def test_not_asked():
            assert False
        '''))
    f = str(user_file)
    asked = [f"{f}::test_a", f"{f}::TestC::test_b", f"{f}::test_param", f"{f}::test_missing",
             f"{tests_dir}/test_gone.py::test_x"]
    result = await run("process", ws, [], user_tests=asked)
    assert result.error is None
    out = by_id(result)
    assert set(out) == {f"{f}::test_a", f"{f}::TestC::test_b", f"{f}::test_param[1]", f"{f}::test_param[2]",
                        f"{f}::test_missing", f"{tests_dir}/test_gone.py::test_x"}
    assert all(o.authoritative for o in result.outcomes)
    assert out[f"{f}::test_a"].outcome == "passed"
    assert out[f"{f}::test_param[1]"].outcome == out[f"{f}::test_param[2]"].outcome == "passed"
    b = out[f"{f}::TestC::test_b"]
    assert (b.outcome, b.actual, b.expected) == ("failed", "4", "3")
    assert out[f"{f}::test_missing"].outcome == "error"
    assert "not found" in out[f"{tests_dir}/test_gone.py::test_x"].message


async def test_candidate_that_does_not_import_gives_error_outcomes(ws: Path) -> None:
    broken = CANDIDATE.replace("return w * h", "return w * * h")
    tests = [TestFile("test_model.py", "from mypkg.mod import area\n\n\ndef test_ok():\n    assert area(2, 3) == 6\n",
                      authoritative=False),
             TestFile("test_doctests.py", make_doctest_file("mypkg.mod", "area", [Example("area(2, 3)\n", "6\n", 2)]),
                      authoritative=True)]
    result = await run("process", ws, tests, candidate=broken)
    assert result.error is None
    out = by_id(result)
    collect = out["test_model.py"]
    assert collect.outcome == "error" and "SyntaxError" in collect.message and collect.authoritative is False
    assert collect.line == line_of(broken, "return w * * h")
    doc = out["test_doctests.py::test_doctest_0"]
    assert doc.outcome == "failed" and "SyntaxError" in doc.message and doc.line == collect.line


async def test_limits_cpu_and_memory(ws: Path) -> None:
    hungry = TestFile("test_hungry.py", "def test_memory():\n    block = bytearray(900 * 1024 * 1024)\n",
                      authoritative=False)
    result = await run("process", ws, [hungry], memory_mb=300)
    assert by_id(result)["test_hungry.py::test_memory"].message.startswith("MemoryError")
    spin = TestFile("test_spin.py", "def test_spin():\n    while True:\n        pass\n", authoritative=False)
    result = await run("process", ws, [spin], cpu_seconds=1, test_timeout=20.0)
    assert not result.timed_out and "CPU time limit of 1 s" in (result.error or "")
    assert by_id(result)["test_spin.py::test_spin"].outcome == "failed"


# -- walls -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
async def test_endless_loop_is_killed_at_the_timeout(mode: str, ws: Path, runs_dir: Path) -> None:
    token = f"specloop-loop-{os.getpid()}-{time.monotonic_ns()}"
    looping = CANDIDATE.replace('    if w == 0:', '    import os, sys\n    if os.fork() == 0:\n'
                                f'        os.execv(sys.executable, [sys.executable, "-c", "import time; '
                                f'time.sleep(3600)", "{token}"])\n    while True:\n        pass\n    if w == 0:')
    tests = [TestFile("test_model.py", "from mypkg.mod import area\n\n\ndef test_hangs():\n    area(2, 3)\n", False)]
    # the forked sleeper lives an hour: a run that waited for it would never return
    result = await run(mode, ws, tests, candidate=looping, test_timeout=3.0)
    assert result.timed_out and result.error == "timed out after 3 s"
    hung = by_id(result)["test_model.py::test_hangs"]
    assert hung.outcome == "failed" and "timed out" in hung.message
    assert_nothing_left(token, runs_dir)


@pytest.mark.parametrize("mode", MODES)
async def test_setsid_grandchildren_do_not_outlive_the_run(mode: str, ws: Path, runs_dir: Path) -> None:
    token = f"specloop-setsid-{os.getpid()}-{time.monotonic_ns()}"
    body = SPAWN + textwrap.dedent(f'''

        def test_spawns():
            spawn_setsid_sleeper("{token}")
            spawn_setsid_sleeper()
            assert False, os.environ["{MARKER_VAR}"]
        ''')
    # the sleepers live an hour and hold no pipe of the run: the run returns because it killed them
    result = await run(mode, ws, [TestFile("test_spawn.py", body, False)])
    marker = by_id(result)["test_spawn.py::test_spawns"].message
    assert len(marker) == 32  # the run's marker, read by the test inside the sandbox
    assert alive(marker) == [], f"the run's processes outlived it: {alive(marker)}"
    assert_nothing_left(token, runs_dir)


@pytest.mark.parametrize("mode", MODES)
async def test_cancel_mid_run_kills_the_tree(mode: str, ws: Path, runs_dir: Path) -> None:
    token = f"specloop-cancel-{os.getpid()}-{time.monotonic_ns()}"
    body = SPAWN + f'\n\ndef test_slow():\n    spawn_setsid_sleeper("{token}")\n    time.sleep(60)\n'
    task = asyncio.ensure_future(run(mode, ws, [TestFile("test_slow.py", body, False)]))
    deadline = time.monotonic() + 30
    while not alive(token) and not task.done() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert alive(token), f"the sleeper never started (run ended: {task.done()})"
    task.cancel()
    await asyncio.wait({task}, timeout=30)
    assert task.done(), "the run still runs after the cancel"
    assert task.cancelled(), f"the run ended without being cancelled: {task.exception()!r}"
    assert_nothing_left(token, runs_dir)


@pytest.mark.parametrize("mode", MODES)
async def test_no_secret_reaches_the_tests(mode: str, ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    planted = {"SPECLOOP_TEST_FAKE_API_KEY": "fake-key-123", "OPENAI_API_KEY": "sk-fakefakefake",
               "AWS_SECRET_ACCESS_KEY": "fake-aws", "GITHUB_TOKEN": "ghp_fakefake"}
    for key, value in planted.items():
        monkeypatch.setenv(key, value)
    body = textwrap.dedent(f'''
        import os

        PLANTED = {planted!r}
        ALLOWED = {{"PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "TZ", "PYTHONHASHSEED", "PYTHONDONTWRITEBYTECODE",
                    "PYTHONNOUSERSITE", "PYTHONIOENCODING", "PYTHONPATH", "PYTEST_DISABLE_PLUGIN_AUTOLOAD", "MALLOC_ARENA_MAX",
                    "{MARKER_VAR}", "PYTEST_CURRENT_TEST", "PYTEST_VERSION", "PWD"}}  # bwrap --chdir sets PWD


        def test_environment_is_an_allow_list():
            assert set(os.environ) <= ALLOWED, sorted(set(os.environ) - ALLOWED)
            raw = open("/proc/self/environ", "rb").read()
            for key, value in PLANTED.items():
                assert key not in os.environ
                assert value.encode() not in raw
            assert os.environ["HOME"] == os.getcwd()
        ''')
    result = await run(mode, ws, [TestFile("test_env.py", body, False)])
    out = by_id(result)["test_env.py::test_environment_is_an_allow_list"]
    assert out.outcome == "passed", out.message


@pytest.mark.parametrize("mode", MODES)
async def test_network_to_loopback(mode: str, ws: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    port = listener.getsockname()[1]
    body = f'import socket\n\n\ndef test_connect():\n    socket.create_connection(("127.0.0.1", {port}), timeout=3).close()\n'
    try:
        result = await run(mode, ws, [TestFile("test_net.py", body, False)])
    finally:
        listener.close()
    out = by_id(result)["test_net.py::test_connect"]
    # without bwrap there is no network wall (documented); with it the listener is unreachable
    assert out.outcome == ("failed" if mode == "bwrap" else "passed"), out.message


@pytest.mark.parametrize("mode", MODES)
async def test_writes_stay_in_the_temp_dir(mode: str, ws: Path, tmp_path: Path) -> None:
    outside = [ws / "escape.txt", tmp_path / "escape.txt"]
    body = textwrap.dedent(f'''
        import os
        import pytest

        WORKSPACE, HOST_TMP = {[str(p) for p in outside]!r}
        BWRAP = {mode == "bwrap"!r}


        def test_writes():
            with open("relative.txt", "w") as fh:
                fh.write("stays in the temp dir")
            with open(os.path.join(os.environ["HOME"], "home.txt"), "w") as fh:
                fh.write("ok")
            if BWRAP:
                with pytest.raises(OSError):        # the workspace is read-only
                    with open(WORKSPACE, "w") as fh:
                        fh.write("escaped")
                try:                                 # the host's /tmp is not the run's: it lands there, if anywhere
                    with open(HOST_TMP, "w") as fh:
                        fh.write("escaped")
                except OSError:
                    pass
        ''')
    result = await run(mode, ws, [TestFile("test_write.py", body, False)])
    out = by_id(result)["test_write.py::test_writes"]
    assert out.outcome == "passed", out.message
    assert not (ws / "relative.txt").exists()
    if mode == "bwrap":
        assert not any(p.exists() for p in outside)


async def test_python_without_pytest_gives_a_clear_error(ws: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(ws / ".venv")], check=True)
    python = str(ws / ".venv" / "bin" / "python")
    assert subprocess.run([python, "-c", "import pytest"], capture_output=True).returncode != 0
    result = await run("process", ws, [TestFile("test_model.py", "def test_ok():\n    pass\n", False)])
    assert result.error is not None and result.error.startswith(f"{python} has no pytest: ")
    assert "No module named 'pytest'" in result.error and result.outcomes == []


def test_bwrap_setting_without_bubblewrap_is_a_clear_error(ws: Path) -> None:
    script = textwrap.dedent(f'''
        from pathlib import Path
        from specloop.sandbox.runs import Sandbox, SandboxError
        from specloop.settings import Settings
        assert Sandbox(Settings(sandbox="process"), Path({str(ws)!r})).isolation == "process"
        for mode in ("bwrap", "auto"):
            try:
                Sandbox(Settings(sandbox=mode), Path({str(ws)!r}))
            except SandboxError as exc:
                print(exc)
        ''')
    env = {"PATH": "/nonexistent", "HOME": str(ws), "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines() == [
        "sandbox is set to 'bwrap' but bubblewrap does not work here: bwrap is not installed",
        "tests were not run: bubblewrap does not work here (bwrap is not installed); install it "
        "(e.g. `apt-get install bubblewrap`) or set sandbox = \"process\" to run generated code "
        "with your own rights, without isolation"]
