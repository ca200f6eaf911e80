"""A real Emacs 28 with Debian's eglot 1.9 (``apt-get install emacs-nox elpa-eglot``), headless,
drives ``specloop serve`` against a scripted model on 127.0.0.1.  ``eglot_e2e.el`` does what
a user's config and commands do and writes what the user saw to a JSON file.

eglot 1.9 announces no work-done progress, and sends the ``didChange`` of an applied edit
only when its idle timer runs (never, in batch mode): the script sends it late itself."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from replies import critic, fenced

HERE = Path(__file__).resolve().parent
SERVER_CMD = [sys.executable, "-m", "specloop", "serve"]
SETTINGS = {"model": "openai/scripted", "critic": True, "model_tests": False, "max_iterations": 1,
            "max_retries": 0, "request_timeout": 20.0, "test_timeout": 30.0, "keep_tests": False}
SOURCE = '''\
"""Geometry helpers."""


def area(w: float, h: float) -> float:
    """Area of a w×h rectangle.

    >>> area(2, 3)
    6
    """


def perimeter(w: float, h: float) -> float:
    """Perimeter of a w×h rectangle."""
'''
BODY = '''\
    if w < 0 or h < 0:  # 📐 sides
        raise ValueError("negative side")
    return w * h
'''
AREA_CODE = '''\
def area(w: float, h: float) -> float:
    """Area of a w×h rectangle.

    >>> area(2, 3)
    6
    """
''' + BODY
FINDING = {"category": "completeness", "severity": "warning", "line": 7, "message": "zero-sized sides are not mentioned"}
SIDES = "    if w < 0 or h < 0:  # 📐 sides"


def emacs_with_eglot() -> str | None:
    binary = shutil.which("emacs")
    if binary is None:
        return None
    probe = subprocess.run([binary, "--batch", "-q", "--eval", "(require 'eglot)"],
                           capture_output=True, text=True, timeout=60)
    return binary if probe.returncode == 0 else None


def test_eglot_code_action_message_and_a_finding_through_a_late_did_change(tmp_path, scripted_model):
    binary = emacs_with_eglot()
    if binary is None:
        pytest.skip("Emacs with eglot not found (apt-get install emacs-nox elpa-eglot)")
    scripted_model.add("generate", fenced(AREA_CODE), target="area")
    scripted_model.add("critic", critic("request_changes", FINDING), target="area")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\nversion = '0'\n", encoding="utf-8")
    source = tmp_path / "geometry.py"
    source.write_text(SOURCE, encoding="utf-8")
    out = tmp_path / "result.json"
    xdg = tmp_path / "xdg"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPECLOOP_")}
    env.update(
        E2E_FILE=str(source), E2E_OUT=str(out), E2E_CMD=json.dumps(SERVER_CMD),
        E2E_SETTINGS=json.dumps({**SETTINGS, "api_base": scripted_model.url}),
        OPENAI_API_KEY="sk-test-not-a-real-key", LITELLM_LOCAL_MODEL_COST_MAP="True",
        XDG_CONFIG_HOME=str(xdg / "config"), XDG_DATA_HOME=str(xdg / "data"),
        XDG_STATE_HOME=str(xdg / "state"), XDG_CACHE_HOME=str(xdg / "cache"), HOME=str(tmp_path),
    )
    proc = subprocess.run([binary, "--batch", "-q", "-l", str(HERE / "eglot_e2e.el")], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=170)
    assert out.exists(), f"no result from Emacs (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr[-3000:]}"
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["ok"] is True, f"{result.get('error')}\nsteps: {result.get('steps')}\n{proc.stderr[-3000:]}"

    # the code action, picked by its title, and the edit in the buffer (not on disk)
    assert "Implement area from spec" in result["titles"]
    assert source.read_text(encoding="utf-8") == SOURCE
    marker = '    6\n    """\n'
    expected = SOURCE.replace(marker, marker + BODY, 1).replace("\n\ndef area", "\n\nUNIT = 'm'\n\n\ndef area", 1)
    assert result["buffer"] == expected
    # no progress in eglot: a message when the job starts and one line when it ends
    messages = [m["message"] for m in result["messages"] if m["message"].startswith("specloop: area: ")]
    assert messages[0] == "specloop: area: started"
    assert re.fullmatch(r"specloop: area: passed 1/1 tests, 1 critic finding, \d+ tokens", messages[-1])
    # the finding was shown while eglot still held its didChange, and is still there after it
    assert result["pending_change"] is True
    assert result["notifications"].count("textDocument/didChange") == 1
    for seen in (result["before"], result["after"]):
        assert [(d["message"], d["text"]) for d in seen] == [
            ("specloop [critic.completeness]: zero-sized sides are not mentioned", SIDES)]
    assert result["cancel"] == {"cancelled": []}     # the README's cancel command reaches the server
