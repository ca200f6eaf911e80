"""Hostile candidates against the sandbox alone (the static policy is not in the way here).

Every candidate is wrong (``area`` should multiply) and tries to get a passing
verdict anyway, or to reach what it should not.  The run must never be a
trusted pass: some authoritative test fails, or the run is marked tampered or
in error.  Both isolation modes; bubblewrap is required where
``SPECLOOP_REQUIRE_E2E=1`` (see ``tests/conftest.py``).
"""

from __future__ import annotations

import os
import socket
import textwrap
import time
from pathlib import Path

import pytest

from specloop.sandbox import runs as sandbox, warm
from specloop.sandbox.runs import Sandbox, SandboxRequest, TestFile, doctest_text, make_doctest_file
from specloop.settings import Settings
from specloop.source.spec import find_target

from test_sandbox import MODES, alive

STUB = '''def area(w, h):
    """Area of a w-by-h rectangle.

    >>> area(2, 3)
    6
    >>> area(4, 5)
    20
    """
'''
USER_TEST = "from mypkg.mod import area\n\n\ndef test_area():\n    assert area(7, 8) == 56\n"

FORGE = {
    "fd-flood": '''
        import os, json
        for fd in range(3, 64):
            for rec in ({"kind": "test", "id": "test_specloop_doctests.py::test_doctest_0", "outcome": "passed"},
                        {"kind": "done", "code": 0}, {"kind": "exit", "code": 0}):
                try:
                    os.write(fd, (json.dumps(rec) + "\\n").encode())
                except OSError:
                    pass
        os._exit(0)
    ''',
    "exit-zero": "import os\nos._exit(0)\n",
    "sys-exit": "import sys\nsys.exit(0)\n",
    "skip": "import pytest\npytest.skip('cannot handle this input')\n",
    "xfail": "import pytest\npytest.xfail('expected to fail')\n",
    "kill-supervisor": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nreturn 0\n",
    "pytest-report-patch": '''
        import _pytest.reports as reports
        original = reports.TestReport.from_item_and_call.__func__
        def forged(cls, item, call):
            rep = original(cls, item, call)
            rep.outcome, rep.longrepr = "passed", None
            return rep
        reports.TestReport.from_item_and_call = classmethod(forged)
        return 0
    ''',
    "doctest-checker-patch": '''
        import doctest
        doctest.OutputChecker.check_output = lambda self, want, got, flags: True
        doctest.DocTestRunner.report_failure = lambda *a: None
        return 0
    ''',
    "gc-emitter": '''
        import gc
        for obj in gc.get_objects():
            if callable(obj) and getattr(obj, "__name__", "") == "emit" and obj.__closure__:
                for n in range(2):
                    obj({"kind": "test", "id": "test_specloop_doctests.py::test_doctest_%d" % n,
                         "outcome": "passed", "authoritative": True})
        return 0
    ''',
    "print-expected": "print(w * h)\nreturn None\n",
    "garbage-output": "import sys\nsys.stdout.write('\\x00' * 100000)\nreturn 0\n",
}


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "mypkg").mkdir(parents=True)
    (root / "mypkg" / "__init__.py").write_text("")
    (root / "mypkg" / "mod.py").write_text(STUB)
    (root / "tests").mkdir()
    (root / "tests" / "test_area.py").write_text(USER_TEST)
    yield root
    warm.shutdown()


def candidate(body: str) -> str:
    return STUB + textwrap.indent(textwrap.dedent(body).strip() + "\n", "    ")


async def run(mode: str, ws: Path, body: str, *, verify: bool = False, **settings):
    target = find_target(STUB, "area")
    doctests = TestFile("test_specloop_doctests.py", make_doctest_file("mypkg.mod", "area", target.examples),
                        True, doctest=doctest_text(target.examples))
    sandbox = Sandbox(Settings(sandbox=mode, test_timeout=20.0, **settings), ws)
    req = SandboxRequest(ws / "mypkg" / "mod.py", candidate(body), ws, [doctests],
                         [str(ws / "tests" / "test_area.py") + "::test_area"])
    return await sandbox.run(req, verify=verify)


def trusted_pass(result) -> bool:
    auth = [o for o in result.outcomes if o.authoritative]
    return (result.error is None and result.tampered is None and bool(auth)
            and all(o.outcome == "passed" for o in auth))


@pytest.mark.parametrize("mode", MODES)
async def test_the_right_answer_passes(mode: str, ws: Path) -> None:
    for verify in (False, True):
        result = await run(mode, ws, "return w * h", verify=verify)
        assert trusted_pass(result), (result.error, [(o.id, o.outcome, o.message) for o in result.outcomes])
        assert len(result.outcomes) == 3


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(FORGE))
async def test_a_wrong_candidate_cannot_forge_a_pass(mode: str, name: str, ws: Path) -> None:
    for verify in (False, True):
        result = await run(mode, ws, FORGE[name], verify=verify)
        assert not trusted_pass(result), (name, verify, [(o.id, o.outcome) for o in result.outcomes])


@pytest.mark.parametrize("mode", MODES)
async def test_records_written_by_the_candidate_mark_the_run_tampered(mode: str, ws: Path) -> None:
    result = await run(mode, ws, FORGE["fd-flood"])
    assert result.tampered and "did not come from the test harness" in result.tampered
    assert all(o.outcome == "failed" for o in result.outcomes)


@pytest.mark.parametrize("mode", MODES)
async def test_a_skipped_authoritative_test_is_a_failure(mode: str, ws: Path) -> None:
    result = await run(mode, ws, FORGE["skip"])
    user = next(o for o in result.outcomes if o.id.endswith("test_area.py::test_area"))
    assert user.outcome == "failed" and "not a pass" in user.message


async def test_a_conftest_planted_in_process_mode_is_caught_and_removed(ws: Path) -> None:
    body = f'''
        with open({str(ws / "conftest.py")!r}, "w") as fh:
            fh.write("import pytest\\n@pytest.hookimpl(tryfirst=True)\\ndef pytest_runtest_call(item):\\n    pass\\n")
        return 0
    '''
    result = await run("process", ws, body)
    assert result.tampered and "conftest.py" in result.tampered
    assert not (ws / "conftest.py").exists()
    later = await run("process", ws, "return 0")  # a later wrong job is not helped
    assert not trusted_pass(later)


@pytest.mark.parametrize("mode", MODES)
async def test_a_daemon_does_not_outlive_the_run(mode: str, ws: Path) -> None:
    token = f"specloop-daemon-{os.getpid()}-{time.monotonic_ns()}"
    # the right answer only once the daemon is seen running: a passing test proves it started
    body = f'''
        import os, subprocess, time
        subprocess.Popen(["setsid", "sh", "-c", "sleep 60; echo {token}"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    with open(f"/proc/{{pid}}/cmdline", "rb") as fh:
                        if b"{token}" in fh.read():
                            return w * h
                except OSError:
                    pass
            time.sleep(0.05)
        return -1
    '''
    result = await run(mode, ws, body)
    started = [o for o in result.outcomes if o.id.endswith("test_area.py::test_area")]
    assert started and started[0].outcome == "passed", [(o.id, o.outcome, o.message) for o in result.outcomes]
    deadline = time.monotonic() + 5
    while alive(token) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert alive(token) == []


# -- what a run can see under bubblewrap ----------------------------------------------------------------

BWRAP_ONLY = [m for m in MODES if m.values[0] == "bwrap"]


@pytest.mark.parametrize("mode", BWRAP_ONLY)
async def test_bubblewrap_hides_secrets_sockets_and_other_homes(mode: str, ws: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    planted = {home / ".ssh" / "id_rsa": "-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n",
               home / ".netrc": "machine example.com login me password hunter22\n",
               home / ".aws" / "credentials": "[default]\naws_secret_access_key = fakefakefake\n",
               home / ".config" / "gh" / "hosts.yml": "github.com:\n  oauth_token: ghp_fake\n",
               ws / ".env": "API_TOKEN=fake-workspace-token\n",
               ws / "deploy.pem": "-----BEGIN PRIVATE KEY-----\nfake\n",
               ws / "mypkg" / ".env.local": "SECRET=fake\n",
               ws / ".ssh" / "id_ed25519": "fake\n"}
    for path, text in planted.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    monkeypatch.setenv("HOME", str(home))
    sock_dir = Path("/var/tmp") / f"specloop-test-{os.getpid()}-{time.monotonic_ns()}"
    sock_dir.mkdir()
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(sock_dir / "agent.sock"))
    listener.listen(1)
    probes = {str(p): "file" for p in planted} | {str(sock_dir / "agent.sock"): "socket"}
    body = f'''
        import os, socket
        seen = []
        for path, kind in {probes!r}.items():
            try:
                if kind == "socket":
                    s = socket.socket(socket.AF_UNIX)
                    s.connect(path)
                    seen.append(path)
                elif open(path).read().strip():
                    seen.append(path)
            except OSError:
                pass
        for folder in ("/var/tmp", "/run", {str(home)!r}):
            if os.path.isdir(folder) and os.listdir(folder):
                seen.append(folder + "/*")
        for path in ("/root/.ssh", "/root/.aws", "/root/.config", "/root/.netrc", "/root/.cache", "/home"):
            if os.path.exists(path):
                seen.append(path)
        assert not seen, seen
        return w * h
    '''
    try:
        result = await run(mode, ws, body)
    finally:
        listener.close()
        for p in sock_dir.iterdir():
            p.unlink()
        sock_dir.rmdir()
    failing = [(o.id, o.message) for o in result.outcomes if o.outcome != "passed"]
    assert trusted_pass(result), (result.error, failing)
    assert all(p.read_text() == t for p, t in planted.items())  # masked, not touched


@pytest.mark.parametrize("mode", BWRAP_ONLY)
async def test_a_secret_file_created_later_is_hidden_from_a_warm_worker_too(mode: str, ws: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    reads_env = f'''
        import os
        try:
            text = open({str(ws / ".env")!r}).read()
        except OSError:  # masked: not there, or not readable
            text = ""
        assert not text.strip(), "read the .env"
        return w * h
    '''
    first = await run(mode, ws, reads_env)      # starts the warm worker
    assert trusted_pass(first), first.error
    (ws / ".env").write_text("API_TOKEN=created-after-the-worker-started\n")
    monkeypatch.setattr(sandbox, "MASKS_TTL", 0.0)   # the next run scans the workspace again
    second = await run(mode, ws, reads_env)
    assert trusted_pass(second), [(o.id, o.message) for o in second.outcomes]
