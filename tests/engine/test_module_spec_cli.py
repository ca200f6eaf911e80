"""`specloop run` on a module spec (a subprocess, the scripted model over HTTP): the block is
planned, its functions written below it in one piece, the block marked done, and a second
run finds nothing left to do."""

from __future__ import annotations

import json
from pathlib import Path

from test_module_spec import CODE, PLAN, TEXTS, script_texts
from replies import critic, fenced
from cli_run import cli_env, specloop


def test_specloop_run_implements_a_module_spec(scripted_model, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    path = tmp_path / "texts.py"
    path.write_text(TEXTS, encoding="utf-8")
    script_texts(scripted_model)
    env = cli_env(scripted_model.url, SPECLOOP_CRITIC="true", SPECLOOP_PARALLEL_JOBS="3")
    proc = specloop("run", "texts.py", "--json", env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (entry,) = json.loads(proc.stdout)["targets"]
    assert entry["name"] == "module spec (line 5)" and entry["kind"] == "module"
    assert entry["status"] == "passed" and entry["written"] is True and entry["line"] == 5
    assert [(c["name"], c["status"]) for c in entry["components"]] == [
        ("count_words", "passed"), ("longest_word", "passed"), ("shout", "passed")]
    text = path.read_text(encoding="utf-8")
    assert "# spec (implemented): Word statistics" in text and "return text.upper() + '!'" in text
    assert text.endswith('def after():\n    return "untouched"\n')

    again = specloop("run", "texts.py", env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert path.read_text(encoding="utf-8") == text


def test_only_names_a_module_spec_by_its_line(scripted_model, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (tmp_path / "texts.py").write_text(TEXTS, encoding="utf-8")
    proc = specloop("run", "texts.py", "--target", "nothing", env=cli_env(scripted_model.url), cwd=tmp_path)
    assert proc.returncode != 0 and "module spec (line 5)" in proc.stderr


def test_findings_are_shown_on_the_function_they_name_or_on_the_block(scripted_model, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    path = tmp_path / "texts.py"
    path.write_text(TEXTS, encoding="utf-8")
    scripted_model.add("plan", fenced(PLAN))
    for name, code in CODE.items():
        scripted_model.add("generate", fenced(code), target=name, repeat=True)
    scripted_model.add("critic", critic(
        "approve", {"function": "longest_word", "category": "quality", "severity": "info", "message": "say what a word is"},
        {"category": "quality", "severity": "info", "message": "the module could have a docstring"}))
    proc = specloop("run", "texts.py", env=cli_env(scripted_model.url, SPECLOOP_CRITIC="true"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = path.read_text(encoding="utf-8").splitlines()
    longest = next(i for i, line in enumerate(lines) if line.startswith("def longest_word")) + 1
    assert f"line {longest} in longest_word: say what a word is" in proc.stderr, proc.stderr
    assert "line 5" in proc.stderr.split("the module could have a docstring")[0].splitlines()[-1], proc.stderr
