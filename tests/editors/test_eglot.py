"""A real Emacs 28 with Debian's eglot 1.9 (``apt-get install emacs-nox elpa-eglot``), headless,
drives ``specloop serve`` against a scripted model on 127.0.0.1.  ``eglot_e2e.el`` does what
a user's config and commands do and writes what the user saw to a JSON file.

eglot 1.9 announces no work-done progress, and sends the ``didChange`` of an applied edit
only when its idle timer runs (never, in batch mode): the script sends it late itself."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from environment import missing

from editor_scenario import BODY, SOURCE, run_editor, script_model
from replies import critic, fenced

HERE = Path(__file__).resolve().parent
SIDES = "    if w < 0 or h < 0:  # 📐 sides"
PERIMETER_CODE = '''\
def perimeter(w: float, h: float) -> float:
    """Perimeter of a w×h rectangle."""
    return 2 * (w + h)
'''


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
        missing("Emacs with eglot not found (apt-get install emacs-nox elpa-eglot)")
    script_model(scripted_model)
    # perimeter's spec has no example and no test: its attempt ends "untested", offered, not applied
    scripted_model.add("generate", fenced(PERIMETER_CODE), target="perimeter", repeat=True)
    scripted_model.add("critic", critic("approve"), target="perimeter", repeat=True)
    result, source = run_editor([binary, "--batch", "-q", "-l", str(HERE / "eglot_e2e.el")], tmp_path,
                                scripted_model.url, "Emacs")

    # the code action, picked by its title, and the edit in the buffer (not on disk)
    assert "Implement area from spec" in result["titles"]
    assert source.read_text(encoding="utf-8") == SOURCE
    marker = '    6\n    """\n'
    expected = SOURCE.replace(marker, marker + BODY, 1).replace("\n\ndef area", "\n\nUNIT = 'm'\n\n\ndef area", 1)
    assert result["buffer"] == expected
    # no progress in eglot: a message when the job starts and one line when it ends
    messages = [m["message"] for m in result["messages"] if m["message"].startswith("specloop: area: ")]
    assert messages[0] == "specloop: area: started"
    assert re.fullmatch(r"specloop: area: passed 1/1 tests, judged by value, 1 critic finding, \d+ tokens", messages[-1])
    # the finding was shown while eglot still held its didChange, and is still there after it
    assert result["pending_change"] is True
    assert result["notifications"].count("textDocument/didChange") == 1
    for seen in (result["before"], result["after"]):
        assert [(d["message"], d["text"]) for d in seen] == [
            ("specloop [critic.completeness]: zero-sized sides are not mentioned", SIDES)]
    assert result["cancel"] == {"cancelled": []}     # the README's cancel command reaches the server

    # the attempt that was not applied: a warning, then its diff from the quick fix, in a file
    messages = [m["message"] for m in result["messages"]]
    assert any(m.startswith("specloop: perimeter: failed") and "not applied" in m for m in messages), messages
    assert "Show the diff of the best attempt" in result["fixes"]
    diff = tmp_path / ".specloop" / "results" / "geometry.perimeter.diff"
    assert f"specloop: the diff of the result for perimeter is in {diff}" in messages
    assert "+    return 2 * (w + h)" in diff.read_text(encoding="utf-8").splitlines()
