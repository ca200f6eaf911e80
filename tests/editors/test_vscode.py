"""The VS Code extension in a real VS Code (code-server 4.100.3 = VS Code 1.100.3) in headless Chromium.

The packaged ``.vsix`` is installed into a throwaway profile; the workspace has
stubs and a ``[tool.specloop]`` table pointing at the scripted model (real
HTTP on 127.0.0.1).  code-server runs *without* ``OPENAI_API_KEY``: the key is
typed into "specloop: Set API key", so the model seeing it proves the path
SecretStorage -> server environment -> litellm.  Then: a job whose model never
answers is cancelled from its progress notification; a job whose code fails its
doctest is not applied, its diff is opened from the notification and applied
from the diff's title bar; a Python without specloop gets an install command
that names the bundled wheel; and, with the setting cleared, the private
environment is offered in a modal and refused.  In a code-server of its own, a class
spec is implemented with "Implement class Stack from spec" and taken back with one
Ctrl+Z.  The browser part is ``client-vscode/e2e/vscode-e2e.js``; screenshots land in
``test-output/vscode/`` and ``test-output/vscode-class/``.

Needs ``client-vscode/e2e/setup.sh`` (code-server), Debian's chromium,
``npm ci`` (playwright-core) and ``npm run package`` (the .vsix).  Without them
the test is skipped, unless ``SPECLOOP_REQUIRE_E2E=1`` makes that a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from environment import missing as environment_missing

from editor_scenario import STACK, STACK_IMPLEMENTED, script_class_model
from replies import critic, fenced
from scripted_model import ScriptedModel, hang

REPO = Path(__file__).resolve().parents[2]
TOOLS = Path(os.environ.get("SPECLOOP_E2E_TOOLS", Path.home() / ".cache" / "specloop-vscode-e2e"))
CODE_SERVER = TOOLS / "cs" / "node_modules" / ".bin" / "code-server"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
VSIX = REPO / "client-vscode" / "dist" / "specloop.vsix"
DRIVER = REPO / "client-vscode" / "e2e" / "vscode-e2e.js"
NODE_MODULES = REPO / "node_modules"
OUT = REPO / "test-output" / "vscode"
OUT_CLASS = REPO / "test-output" / "vscode-class"

API_KEY = "sk-e2e-typed-into-vscode-4242"
FINDING = "add() accepts strings too and then concatenates them"
STUB = '''\
def add(a: int, b: int) -> int:
    """Return the sum of a and b.

    >>> add(2, 3)
    5
    """
'''
BODY = "    return a + b"
SLOW = '''\
def slow(n: int) -> int:
    """Return n doubled.

    >>> slow(2)
    4
    """
'''
GEO = '''\
def area(w: float, h: float) -> float:
    """Area of a w by h rectangle.

    >>> area(2, 3)
    6
    """
'''
FAILING_BODY = "    return w + h"     # what the scripted model answers for area: fails the doctest (5 != 6)

pytestmark = pytest.mark.timeout(780)


def _missing() -> list[str]:
    needs = {"code-server (client-vscode/e2e/setup.sh)": CODE_SERVER, "chromium": CHROMIUM,
             "the .vsix (npm run package)": VSIX, "playwright-core (npm ci)": NODE_MODULES / "playwright-core"}
    missing = [name for name, path in needs.items() if not path.exists()]
    if shutil.which("node") is None:
        missing.append("node")
    return missing


def _require_tools() -> None:
    """Skips the test when something it needs is not installed (a failure under SPECLOOP_REQUIRE_E2E=1)."""
    missing = _missing()
    if missing:
        environment_missing("VS Code end-to-end needs: " + ", ".join(missing))


def _environment(tmp_path: Path) -> dict[str, str]:
    """code-server's environment: no API keys and no specloop settings of the developer's, private XDG folders."""
    env = {k: v for k, v in os.environ.items()
           if not k.endswith("_API_KEY") and not k.startswith(("SPECLOOP_", "OPENAI_"))}
    xdg = tmp_path / "xdg"
    env.update(XDG_CONFIG_HOME=str(xdg), XDG_DATA_HOME=str(xdg), XDG_CACHE_HOME=str(xdg), XDG_STATE_HOME=str(xdg),
               LITELLM_LOCAL_MODEL_COST_MAP="True")
    return env


def _python_without_specloop() -> str | None:
    """A Python on this machine that lacks specloop (for the "not installed" scenario), if any."""
    for name in ("python3", "python"):
        for folder in ("/usr/bin", "/usr/local/bin"):
            exe = Path(folder) / name
            if exe.exists() and subprocess.run([str(exe), "-I", "-c", "import specloop"],
                                               capture_output=True).returncode != 0:
                return str(exe)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.25)
    raise AssertionError(f"code-server did not answer at {url} within {seconds} s")


def _script(model: ScriptedModel) -> None:
    code = fenced('''
        def add(a: int, b: int) -> int:
            """Return the sum of a and b.

            >>> add(2, 3)
            5
            """
            return a + b
    ''')
    model.add("generate", code, target="add", repeat=True)
    model.add("fix", code, target="add", repeat=True)
    model.add("tests", fenced("from stub import add\n\ndef test_add():\n    assert add(1, 2) == 3\n"), repeat=True)
    model.add("critic", critic("request_changes", {"category": "quality", "severity": "warning", "line": 7,
                                                   "message": FINDING}), target="add", repeat=True)
    model.add(None, hang(), target="slow", repeat=True)          # cancelled from the notification
    wrong = fenced(GEO.rstrip("\n") + "\n" + FAILING_BODY + "\n")
    for step in ("generate", "fix", "plan"):
        model.add(step, wrong, target="area", repeat=True)
    model.add("critic", critic("approve"), target="area", repeat=True)


def _workspace(root: Path, api_base: str) -> Path:
    ws = root / "ws"
    ws.mkdir()
    (ws / "stub.py").write_text(STUB, encoding="utf-8")
    (ws / "slow.py").write_text(SLOW, encoding="utf-8")
    (ws / "geo.py").write_text(GEO, encoding="utf-8")
    (ws / "geo2.py").write_text(GEO, encoding="utf-8")
    (ws / "pyproject.toml").write_text(
        "[project]\nname = 'e2e'\nversion = '0'\n\n[tool.specloop]\n"
        f"model = 'openai/scripted'\napi_base = '{api_base}'\nmodel_tests = false\nkeep_tests = false\n"
        "request_timeout = 20\nmax_retries = 0\ntest_timeout = 20\ncontext_tokens = 1200\n",
        encoding="utf-8")
    return ws


def _profile(root: Path, user_settings: dict[str, object]) -> Path:
    data = root / "data"
    (data / "User").mkdir(parents=True)
    settings = {
        "workbench.startupEditor": "none", "workbench.tips.enabled": False, "telemetry.telemetryLevel": "off",
        "update.mode": "none", "extensions.autoCheckUpdates": False, "extensions.autoUpdate": False,
        "workbench.enableExperiments": False, "security.workspace.trust.enabled": False,
        "specloop.server.python": sys.executable,   # this venv has specloop installed
        "specloop.maxIterations": 2,                 # a user setting, sent to the server as max_iterations
        **user_settings,
    }
    (data / "User" / "settings.json").write_text(json.dumps(settings, indent=2), encoding="utf-8")
    return data


@contextmanager
def _code_server(tmp_path: Path, env: dict[str, str], ws: Path, **user_settings: object) -> Iterator[str]:
    """The .vsix installed into a throwaway profile (with ``user_settings`` too), code-server serving ``ws``:
    yields its URL; on the way out, code-server is stopped with its extension hosts and language servers."""
    data, extensions = _profile(tmp_path, user_settings), tmp_path / "ext"
    common = ["--user-data-dir", str(data), "--extensions-dir", str(extensions)]
    subprocess.run([str(CODE_SERVER), *common, "--install-extension", str(VSIX)], env=env, check=True,
                   capture_output=True, timeout=120)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "code-server.log", "wb")
    server = subprocess.Popen(
        [str(CODE_SERVER), "--auth", "none", "--bind-addr", f"127.0.0.1:{port}", "--disable-telemetry",
         "--disable-update-check", "--disable-workspace-trust", *common, str(ws)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_healthy(url, 60)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)   # extension hosts and language servers with it
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()


def test_implement_from_spec_in_vscode(tmp_path: Path) -> None:
    _require_tools()
    env = _environment(tmp_path)
    bare = _python_without_specloop()
    if bare and env.get("PYTHONPATH"):
        # PYTHONPATH (a checkout's server/) would give that Python specloop, without its dependencies: the
        # Python without specloop is that one with PYTHONPATH unset, as a user's would be
        wrapper = tmp_path / "bare" / "python3"
        wrapper.parent.mkdir()
        wrapper.write_text(f'#!/bin/sh\nunset PYTHONPATH\nexec {bare} "$@"\n', encoding="utf-8")
        wrapper.chmod(0o755)
        bare = str(wrapper)
    if bare:
        # The default `python3` (what a cleared specloop.server.python falls back to) is one without specloop.
        (tmp_path / "bin").mkdir()
        (tmp_path / "bin" / "python3").symlink_to(bare)
        env["PATH"] = f"{tmp_path / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VSCODE_CLI"] = "1"    # the extension host keeps this environment (no PATH from the user's login shell)
    data = tmp_path / "data"

    with ScriptedModel() as model:
        _script(model)
        ws = _workspace(tmp_path, model.url)
        with _code_server(tmp_path, env, ws) as url:
            if OUT.exists():
                shutil.rmtree(OUT)
            driver_env = {**env, "NODE_PATH": str(NODE_MODULES), "E2E_URL": url, "E2E_WORKSPACE": str(ws),
                          "OUT_DIR": str(OUT), "E2E_API_KEY": API_KEY, "E2E_BODY": BODY.strip(),
                          "E2E_FINDING": FINDING, "E2E_FAILING_BODY": FAILING_BODY.strip(), "CHROMIUM": str(CHROMIUM),
                          "E2E_TIMEOUT_MS": "540000"}
            if bare:
                driver_env["E2E_MISSING_PYTHON"] = bare
            run = subprocess.run(["node", str(DRIVER)], env=driver_env, capture_output=True, text=True, timeout=600)
        requests = list(model.requests)

    result = json.loads((OUT / "result.json").read_text()) if (OUT / "result.json").exists() else {}
    assert run.returncode == 0, f"driver failed: {result.get('error')}\n{run.stdout[-4000:]}\n{run.stderr[-2000:]}"

    # The body is in the editor, under the untouched docstring.
    lines = result["editorLines"]
    assert BODY in lines, lines
    assert lines.index(BODY) > lines.index("    >>> add(2, 3)")
    assert FINDING in result["problems"]

    # The model was reached through the server with the key typed into VS Code, and the user's setting arrived.
    steps = [r.step for r in requests]
    assert "generate" in steps and "critic" in steps, steps
    assert all(r.headers.get("authorization") == f"Bearer {API_KEY}" for r in requests), \
        {r.headers.get("authorization") for r in requests}
    assert {r.headers.get("x-specloop-target") for r in requests} <= {"add", "slow", "area"}

    # The job's settings (first trace line): VS Code's explicit maxIterations reached the server as max_iterations;
    # context_tokens, unset in VS Code, kept the pyproject value instead of being overridden by a default.
    traces = sorted((ws / ".specloop" / "runs").glob("*"), key=lambda p: p.stat().st_mtime)
    job = json.loads(traces[-1].read_text().splitlines()[0])
    assert job["settings"]["max_iterations"] == 2
    assert job["settings"]["context_tokens"] == 1200
    assert job["settings"]["model"] == "openai/scripted"

    # The key is in no settings file and no log.
    for path in [*data.rglob("*.json"), *data.rglob("*.log"), tmp_path / "code-server.log"]:
        assert API_KEY not in path.read_text(errors="replace"), f"the API key leaked into {path}"
    assert API_KEY not in result.get("outputVisible", "")
    # Cancel from the progress notification: the job stopped, nothing changed, the status bar is idle again.
    assert "specloop: slow" in result["progressText"] and "Cancel" in result["progressText"], result["progressText"]
    assert "1 job" in result["statusWhileRunning"] or "1 queued" in result["statusWhileRunning"], result["statusWhileRunning"]
    assert result["slowUnchanged"] is True
    assert "job" not in result["statusAfterCancel"], result["statusAfterCancel"]
    assert (ws / "slow.py").read_text() == SLOW

    # The failing result was offered, not applied, until "Apply this result" in the diff view.
    assert "specloop: area failed 0/1 tests" in result["pendingText"], result["pendingText"]
    for button in ("Show diff", "Apply anyway", "Discard"):
        assert button in result["pendingText"]
    assert FAILING_BODY not in result["geoWhilePending"]
    assert "specloop's area" in result["diffTab"], result["diffTab"]
    assert FAILING_BODY in result["diffModified"], result["diffModified"]
    assert any("Discard this result" in a for a in result["diffActions"]), result["diffActions"]
    assert FAILING_BODY in result["geoLines"]
    assert str(result["geoLines"]).count("return w + h") == 1, result["geoLines"]     # applied once
    assert (ws / "geo.py").read_text().count("return w + h") <= 1                    # saved or not

    # "Fix" with the code already there: nothing to apply; no refusal, no offer, nothing to review.
    assert any(row.startswith("Fix: test") for row in result["fixMenu"]), result["fixMenu"]
    assert result["fixJobSeen"] is True
    assert not [t for t in result["toastsAfterSameFix"] if "did not apply" in t or "area failed" in t], \
        result["toastsAfterSameFix"]
    assert "to review" not in result["statusAfterSameFix"], result["statusAfterSameFix"]
    assert result["geoAfterSameFix"] == result["geoLines"]
    # The offer of a result not applied outlives its notification: the status bar counts it and offers it
    # again; after Discard nothing is left to review and the file is as it was.
    assert result["toastsHidden"] == [], result["toastsHidden"]
    assert "1 to review" in result["statusToReview"], result["statusToReview"]
    for button in ("Show diff", "Apply anyway", "Discard"):
        assert button in result["reofferText"], result["reofferText"]
    assert "to review" not in result["statusAfterDiscard"], result["statusAfterDiscard"]
    assert FAILING_BODY not in "\n".join(result["geo2Lines"]) and (ws / "geo2.py").read_text() == GEO

    # Install hints name the wheel the .vsix carries (specloop is not on PyPI); the private environment is offered.
    if bare:
        message = result["missingMessage"]
        assert f"specloop is not installed for {bare}" in message, message
        assert "pip install specloop " not in message + " " and "specloop-0.1.0-py3-none-any.whl" in message, message
        assert f"{bare} -m " in message, message
        assert "Install specloop's server into a private environment?" in result["consentText"], result["consentText"]
        assert "PyPI" in result["consentText"]
        refused = result["refusedMessage"]
        assert "specloop is not installed for python3 (the default)" in refused and "Install privately" in refused, refused
    shots = ["1-stub-opened.png", "2-code-action-menu.png", "3-body-applied.png", "4-problems.png", "5-trace.png",
             "progress-notification.png", "progress-cancelled.png", "pending-notification.png", "diff-view.png",
             "diff-applied.png", "fix-menu.png", "same-fix.png", "offered-again.png", "discarded.png"]
    if bare:
        shots += ["9-first-run-consent.png", "10-first-run-refused.png"]
    for shot in shots:
        assert (OUT / shot).stat().st_size > 10_000, shot


def test_implement_class_from_spec_in_vscode(tmp_path: Path) -> None:
    """"Implement class Stack from spec" from the Ctrl+. menu: the whole class arrives in the editor as one
    edit, so one Ctrl+Z gives back the stub class, and the file is unmodified again."""
    _require_tools()
    env = {**_environment(tmp_path), "OPENAI_API_KEY": "sk-test-not-a-real-key", "VSCODE_CLI": "1"}
    with ScriptedModel() as model:
        script_class_model(model)
        ws = tmp_path / "ws"
        ws.mkdir()
        (ws / "stack.py").write_text(STACK, encoding="utf-8")
        (ws / "pyproject.toml").write_text(
            "[project]\nname = 'e2e'\nversion = '0'\n\n[tool.specloop]\n"
            f"model = 'openai/scripted'\napi_base = '{model.url}'\nmodel_tests = false\nkeep_tests = false\n"
            "critic = true\nrequest_timeout = 20\nmax_retries = 0\ntest_timeout = 20\n", encoding="utf-8")
        # VS Code for the web saves a second after each change (files.autoSave "afterDelay"): off, as on the
        # desktop, so the file shows the unsaved edit and an undo back to the saved text
        with _code_server(tmp_path, env, ws, **{"files.autoSave": "off"}) as url:
            if OUT_CLASS.exists():
                shutil.rmtree(OUT_CLASS)
            driver_env = {**env, "NODE_PATH": str(NODE_MODULES), "E2E_URL": url, "E2E_WORKSPACE": str(ws),
                          "OUT_DIR": str(OUT_CLASS), "CHROMIUM": str(CHROMIUM), "E2E_SCENARIO": "class",
                          "E2E_CLASS_DONE": "return self.items.pop()", "E2E_TIMEOUT_MS": "240000"}
            run = subprocess.run(["node", str(DRIVER)], env=driver_env, capture_output=True, text=True, timeout=300)
        steps = sorted(model.steps)
        unmatched = model.unmatched

    result = json.loads((OUT_CLASS / "result.json").read_text()) if (OUT_CLASS / "result.json").exists() else {}
    assert run.returncode == 0, f"driver failed: {result.get('error')}\n{run.stdout[-4000:]}\n{run.stderr[-2000:]}"
    assert "Implement class Stack from spec" in result["menu"], result["menu"]
    # the editor shows every line of the file, the empty one after its last newline too
    assert "\n".join(result["stubLines"]) == STACK
    # the class job as scripted: the plan, one generate per method, the class's review
    assert steps == ["critic", "generate", "generate", "generate", "plan"] and not unmatched, steps

    # the whole class in the editor, the rest of the file as it was; nothing saved
    assert "\n".join(result["classLines"]) == STACK_IMPLEMENTED
    assert result["dirtyAfterEdit"] is True
    assert (ws / "stack.py").read_text(encoding="utf-8") == STACK
    # one edit: one Ctrl+Z gives back the stub class, and the file is the saved one again
    assert "\n".join(result["undoneLines"]) == STACK
    assert result["dirtyAfterUndo"] is False
    for shot in ("class-1-code-action-menu.png", "class-2-implemented.png", "class-3-undone.png"):
        assert (OUT_CLASS / shot).stat().st_size > 10_000, shot
