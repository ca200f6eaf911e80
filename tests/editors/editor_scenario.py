"""The scenario the real-editor tests share (Neovim, eglot): a geometry module with two
specs, the scripted model's answers for ``area``, and a run of the editor against
``specloop serve`` that writes what the user saw to a JSON file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from replies import critic, fenced

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


def script_model(scripted_model) -> None:
    """``area``: the code above, then a critic that asks for a change (:data:`FINDING`)."""
    scripted_model.add("generate", fenced(AREA_CODE), target="area")
    scripted_model.add("critic", critic("request_changes", FINDING), target="area")


def run_editor(argv: list[str], tmp_path: Path, model_url: str, editor: str) -> tuple[dict, Path]:
    """Run the editor (``argv``) on ``geometry.py`` holding :data:`SOURCE` in a fresh project,
    with a private config and home; returns what its script wrote and the file's path.
    Fails unless the script ran to its end (``ok``)."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\nversion = '0'\n", encoding="utf-8")
    source = tmp_path / "geometry.py"
    source.write_text(SOURCE, encoding="utf-8")
    out = tmp_path / "result.json"
    xdg = tmp_path / "xdg"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPECLOOP_")}
    env.update(
        E2E_FILE=str(source), E2E_OUT=str(out), E2E_CMD=json.dumps(SERVER_CMD),
        E2E_SETTINGS=json.dumps({**SETTINGS, "api_base": model_url}),
        OPENAI_API_KEY="sk-test-not-a-real-key", LITELLM_LOCAL_MODEL_COST_MAP="True",
        XDG_CONFIG_HOME=str(xdg / "config"), XDG_DATA_HOME=str(xdg / "data"),
        XDG_STATE_HOME=str(xdg / "state"), XDG_CACHE_HOME=str(xdg / "cache"), HOME=str(tmp_path),
    )
    proc = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=170)
    assert out.exists(), f"no result from {editor} (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr[-3000:]}"
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["ok"] is True, f"{result.get('error')}\nsteps: {result.get('steps')}\n{proc.stderr[-3000:]}"
    return result, source
