"""`specloop run DIR`: what .gitignore ignores does not run, files run --jobs at a time,
and the run ends with a summary table (or, with --json, a summary object)."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest

from cli_run import cli_env, specloop
from replies import fenced

FIRST = '''\
def first(x: int) -> int:
    """Twice x.

    >>> first(2)
    4
    """
'''
SECOND = '''\
import os


def second(x: int) -> int:
    """x plus one.

    >>> second(2)
    3
    """
'''
FIRST_CODE = "def first(x):\n    return 2 * x\n"
SECOND_CODE = "def second(x):\n    return x + 1\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text(FIRST, encoding="utf-8")
    (tmp_path / "b.py").write_text(SECOND, encoding="utf-8")
    return tmp_path


def test_what_gitignore_ignores_is_not_touched(scripted_model, project):
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    (project / ".gitignore").write_text("generated/\nscratch_*.py\n")
    for ignored in ("generated/c.py", "scratch_b.py"):
        (project / ignored).parent.mkdir(exist_ok=True)
        (project / ignored).write_text(SECOND, encoding="utf-8")
    subprocess.run(["git", "add", "pkg/a.py"], cwd=project, check=True)          # tracked and untracked both run
    scripted_model.add("generate", fenced(FIRST_CODE), target="first")
    scripted_model.add("generate", fenced(SECOND_CODE), target="second")
    proc = specloop("run", ".", "--json", env=cli_env(scripted_model.url), cwd=project)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert [(t["file"], t["name"], t["status"]) for t in report["targets"]] == [
        ("b.py", "second", "passed"), ("pkg/a.py", "first", "passed")]
    assert [r.target for r in scripted_model.requests] in (["first", "second"], ["second", "first"])
    for ignored in ("generated/c.py", "scratch_b.py"):
        assert (project / ignored).read_text(encoding="utf-8") == SECOND
    assert (project / "b.py").read_text(encoding="utf-8") == SECOND + "    return x + 1\n"


def test_two_files_at_once_then_a_summary_table(scripted_model, project):
    # neither file is answered before both have asked: run one after the other, the first
    # would wait for the second in vain and both would end in error
    scripted_model.together("generate", {"first": fenced(FIRST_CODE), "second": fenced(SECOND_CODE)})
    proc = specloop("run", ".", "--jobs", "2", env=cli_env(scripted_model.url), cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert sorted(r.target for r in scripted_model.requests) == ["first", "second"]
    rows = proc.stdout.splitlines()
    assert [line.split() for line in rows if line.lstrip().startswith(("b.py", "pkg/a.py"))] == [
        ["b.py:4", "second", "passed", "1/1", _tokens(proc, "second")],
        ["pkg/a.py:1", "first", "passed", "1/1", _tokens(proc, "first")],
    ]
    header = next(line for line in rows if "file:line" in line)
    assert header.split() == ["file:line", "function", "status", "tests", "tokens"]
    assert any(line.startswith("2 targets: 2 passed · tests 2/2 · ") for line in rows), proc.stdout
    assert (project / "pkg" / "a.py").read_text(encoding="utf-8") == FIRST + "    return 2 * x\n"


def _tokens(proc: subprocess.CompletedProcess, name: str) -> str:
    """The tokens of ``name`` as its result line gives them."""
    line = next(line for line in proc.stdout.splitlines() if line.startswith(f"✓ {name} "))
    return next(part for part in line.split(" · ") if part.endswith(" tokens")).split()[0]


def test_json_has_a_summary_and_each_targets_line(scripted_model, project):
    scripted_model.add("generate", fenced(FIRST_CODE), target="first")
    scripted_model.add("generate", fenced("def second(x):\n    return x\n"), target="second")
    proc = specloop("run", ".", "--json", "--jobs", "2", "--max-iterations", "1",
                    env=cli_env(scripted_model.url), cwd=project)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert [(t["file"], t["line"], t["status"]) for t in report["targets"]] == [
        ("b.py", 4, "failed"), ("pkg/a.py", 1, "passed")]
    summary = report["summary"]
    assert {k: summary[k] for k in ("targets", "passed", "failed", "error", "cancelled", "tests", "exit")} == {
        "targets": 2, "passed": 1, "failed": 1, "error": 0, "cancelled": 0,
        "tests": {"passed": 1, "failed": 1}, "exit": 1}
    assert summary["tokens"]["prompt"] == sum(t["tokens"]["prompt"] for t in report["targets"]) > 0
    assert summary["seconds"] > 0


def test_an_unreachable_model_is_said_once_and_the_other_specs_are_not_tried(project):
    (project / "c.py").write_text(FIRST.replace("first", "third"), encoding="utf-8")
    with socket.socket() as sock:               # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    env = cli_env(dead, SPECLOOP_MODEL_TESTS="true")     # model tests too: their step meets it first
    proc = specloop("run", ".", env=env, cwd=project)
    assert proc.returncode == 2, proc.stderr            # nothing could run
    hint = f"cannot reach the model at {dead}: connection refused; is the server at {dead} running?"
    output = proc.stdout + proc.stderr
    assert output.count("is the server at") == 1 and f"    reason: {hint}" in proc.stderr.splitlines(), output
    assert "no model tests" not in output
    # the folder's files in path order: b.py (second), c.py (third), pkg/a.py (first); only the first ran
    assert proc.stderr.splitlines()[-1] == "specloop: the model cannot be reached: 2 specs not tried: third, first"
    assert [line.split()[:2] for line in proc.stdout.splitlines() if line.lstrip().startswith(("b.py", "c.py", "pkg"))] \
        == [["b.py:4", "second"]]
    records = [json.loads(line) for trace in (project / ".specloop" / "runs").glob("*.jsonl")
               for line in trace.read_text(encoding="utf-8").splitlines()]
    assert [r["target"] for r in records if r["kind"] == "job"] == ["second"]
    # one request per step (no retries here): its code and its model tests, nothing for the other specs
    assert sorted(r["step"] for r in records if r["kind"] == "model_error") == ["generate", "tests"]
    assert (project / "c.py").read_text(encoding="utf-8") == FIRST.replace("first", "third")


@pytest.mark.parametrize("value", ["0", "two"])
def test_bad_jobs_is_bad_input(scripted_model, project, value):
    proc = specloop("run", ".", "--jobs", value, env=cli_env(scripted_model.url), cwd=project)
    assert proc.returncode == 2 and "--jobs" in proc.stderr
    assert not scripted_model.requests
