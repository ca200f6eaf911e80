"""`specloop run` as users run it: a subprocess, the scripted model over HTTP."""

from __future__ import annotations

import ast
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli_run import cli_env, specloop
from replies import fenced

STUB = '''\
def area(w: float, h: float) -> float:
    """Area of a w×h rectangle.

    >>> area(2, 3)
    6
    """
'''
GOOD = "def area(w, h):\n    return w * h\n"
BAD = "def area(w, h):\n    return w + h\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    return tmp_path


def test_run_writes_tested_body_and_json(scripted_model, project):
    path = project / "geometry.py"
    path.write_text(STUB, encoding="utf-8")
    scripted_model.add("generate", fenced(GOOD))
    proc = specloop("run", "geometry.py", "--json", env=cli_env(scripted_model.url), cwd=project)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    (target,) = report["targets"]
    assert {k: target[k] for k in ("name", "status", "iterations", "tests")} == {
        "name": "area", "status": "passed", "iterations": 1, "tests": {"passed": 1, "failed": 0}}
    assert target["judged"] == {"by_value": 1, "in_process": 0}
    assert target["tokens"]["prompt"] > 0 and target["cost_usd"] >= 0 and target["seconds"] > 0
    assert path.read_text(encoding="utf-8") == STUB + "    return w * h\n"


def test_left_failing_exits_1_and_offers_the_attempt_without_writing_it(scripted_model, project):
    path = project / "geometry.py"
    path.write_text(STUB, encoding="utf-8")
    scripted_model.add("generate", fenced(BAD))
    scripted_model.add("fix", fenced(BAD), repeat=True)
    proc = specloop("run", str(path), "--max-iterations", "2", env=cli_env(scripted_model.url), cwd=project)
    assert proc.returncode == 1, proc.stderr
    assert "✗ area   failed 0/1 tests, judged by value · 2 iterations" in proc.stdout
    assert path.read_text(encoding="utf-8") == STUB                     # failing code is offered, not written
    assert re.search(r"^    reason: .+", proc.stderr, re.M)            # the reason
    assert re.search(r"^    test \S+: .*6.*5", proc.stderr, re.M)      # the first failing test: id and message
    saved = project / ".specloop" / "results" / "geometry.area.py"
    assert f"attempt saved in {saved.relative_to(project)}" in proc.stderr
    text = saved.read_text(encoding="utf-8")
    assert text.startswith("# specloop: area in geometry.py was not written\n# status: failed (0/1 tests passed)\n")
    assert re.search(r"^# first failing test: \S+: .*6.*5", text, re.M) and "return w + h" in text
    ast.parse(text)


def test_write_failing_writes_the_attempt_anyway(scripted_model, project):
    path = project / "geometry.py"
    path.write_text(STUB, encoding="utf-8")
    scripted_model.add("generate", fenced(BAD))
    proc = specloop("run", "geometry.py", "--max-iterations", "1", "--write-failing",
                    env=cli_env(scripted_model.url), cwd=project)
    assert proc.returncode == 1, proc.stderr
    assert path.read_text(encoding="utf-8") == STUB + "    return w + h\n"
    assert "written although its tests fail" in proc.stderr


def test_diff_includes_failing_attempts_marked_on_stderr_and_writes_nothing(scripted_model, project):
    path = project / "geometry.py"
    path.write_text(STUB, encoding="utf-8")
    scripted_model.add("generate", fenced(BAD))
    proc = specloop("run", "geometry.py", "--max-iterations", "1", "--diff", env=cli_env(scripted_model.url),
                    cwd=project)
    assert proc.returncode == 1, proc.stderr
    assert "+    return w + h" in proc.stdout
    assert "# area: failing attempt (failed" in proc.stderr
    assert path.read_text(encoding="utf-8") == STUB
    assert not (project / ".specloop" / "results").exists()


def test_diff_leaves_file_untouched(scripted_model, project):
    path = project / "geometry.py"
    path.write_text(STUB, encoding="utf-8")
    scripted_model.add("generate", fenced(GOOD))
    proc = specloop("run", str(path), "--diff", env=cli_env(scripted_model.url), cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert "+    return w * h" in proc.stdout
    assert proc.stdout.startswith("--- a/geometry.py\n+++ b/geometry.py\n")   # relative to the current folder
    assert path.read_text(encoding="utf-8") == STUB


def test_crlf_file_stays_byte_identical_but_for_the_body(scripted_model, project):
    path = project / "crlf.py"
    original = ("# -*- coding: utf-8 -*-\r\nimport os\r\n\r\n" + STUB.replace("\n", "\r\n") +
                "\r\n\r\nX = 1  # trailing text without newline")
    path.write_bytes(original.encode())
    scripted_model.add("generate", fenced("import math\n\n" + GOOD))
    proc = specloop("run", str(path), env=cli_env(scripted_model.url), cwd=project)
    assert proc.returncode == 0, proc.stderr
    data = path.read_bytes().decode()
    assert data == original.replace("import os\r\n", "import os\r\nimport math\r\n").replace(
        '    """\r\n\r\n\r\nX', '    """\r\n    return w * h\r\n\r\n\r\nX')


@pytest.mark.parametrize("content,setting,needle", [
    ("def broken(:\n", None, "does not parse"),
    (STUB, "[tool.specloop]\nmax_iterations = 'many'\n", "max_iterations"),
    (STUB, "[tool.specloop]\nmodle = 'x'\n", "unknown setting 'modle'"),
])
def test_bad_input_exits_2_with_one_line(scripted_model, project, content, setting, needle):
    (project / "mod.py").write_text(content)
    if setting:
        (project / "pyproject.toml").write_text(setting)
    proc = specloop("run", "mod.py", env=cli_env(scripted_model.url), cwd=project)
    assert proc.returncode == 2
    assert needle in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert (project / "mod.py").read_text() == content
    assert not scripted_model.requests


def test_a_file_that_is_not_python_is_said_to_be_so(scripted_model, project):
    (project / "README.md").write_text("# demo\n\nSome `prose`: not Python.\n")
    proc = specloop("run", "README.md", env=cli_env(scripted_model.url), cwd=project)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == ["specloop: README.md: not a Python file (specloop runs the specs of .py files)"]
    assert not scripted_model.requests


def test_unknown_target_exits_2(scripted_model, project):
    (project / "geometry.py").write_text(STUB)
    proc = specloop("run", "geometry.py", "--target", "volume", env=cli_env(scripted_model.url), cwd=project)
    assert proc.returncode == 2 and "no spec named volume" in proc.stderr and "area" in proc.stderr


def _sleepers(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def test_sigterm_cancels_cleanly(scripted_model, project):
    path = project / "geometry.py"
    path.write_text(STUB, encoding="utf-8")
    marker = "4242.123"
    slow = f'''
    def area(w, h):
        import subprocess, time
        subprocess.Popen(["setsid", "sleep", "{marker}"])
        time.sleep(60)
        return w * h
    '''
    scripted_model.add("generate", fenced(slow))
    proc = subprocess.Popen([sys.executable, "-m", "specloop", "run", str(path)], cwd=project,
                            env=cli_env(scripted_model.url, SPECLOOP_TEST_TIMEOUT="60"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not _sleepers(marker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _sleepers(marker), "the candidate never started"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "cancelled" in err
    assert path.read_text(encoding="utf-8") == STUB
    deadline = time.monotonic() + 10      # a killed process is gone once it has been reaped
    while _sleepers(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _sleepers(marker) == [], "the candidate outlived the cancelled run"


def test_a_findings_line_is_the_files_line(scripted_model, project):
    from replies import critic
    path = project / "geometry.py"
    path.write_text("import math\n\n\n" + STUB, encoding="utf-8")
    scripted_model.add("generate", fenced(GOOD))
    scripted_model.add("critic", critic("approve", {"category": "quality", "severity": "info", "line": 2,
                                                    "message": "say why w * h"}))
    proc = specloop("run", "geometry.py", env=cli_env(scripted_model.url, SPECLOOP_CRITIC="true"), cwd=project)
    assert proc.returncode == 0, proc.stderr
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[9] == "    return w * h"                       # file line 10
    assert "    quality (info) line 10: say why w * h" in proc.stderr.splitlines()
    # --json: the same file line, and the critic's own (within the function) as function_line
    path.write_text("import math\n\n\n" + STUB, encoding="utf-8")
    scripted_model.add("generate", fenced(GOOD))
    scripted_model.add("critic", critic("approve", {"category": "quality", "severity": "info", "line": 2,
                                                    "message": "say why w * h"}))
    proc = specloop("run", "geometry.py", "--json", env=cli_env(scripted_model.url, SPECLOOP_CRITIC="true"),
                    cwd=project)
    assert proc.returncode == 0, proc.stderr
    [finding] = json.loads(proc.stdout)["targets"][0]["findings"]
    assert finding == {"category": "quality", "severity": "info", "message": "say why w * h",
                       "line": 10, "function_line": 2}


def test_an_approving_critics_warning_is_shown(scripted_model, project):
    """A critic that approves with a warning: the finding is kept (marked approved), in the
    terminal and in --json, and the code is written."""
    from replies import critic
    path = project / "geometry.py"
    path.write_text("import math\n\n\n" + STUB, encoding="utf-8")
    scripted_model.add("generate", fenced(GOOD))
    scripted_model.add("critic", critic("approve", {"category": "completeness", "severity": "warning", "line": 2,
                                                    "message": "negative sides are not mentioned"}))
    proc = specloop("run", "geometry.py", "--json", env=cli_env(scripted_model.url, SPECLOOP_CRITIC="true"),
                    cwd=project)
    assert proc.returncode == 0, proc.stderr
    [target] = json.loads(proc.stdout)["targets"]
    assert target["status"] == "passed"
    assert target["findings"] == [{"category": "completeness", "severity": "warning", "approved": True,
                                   "message": "negative sides are not mentioned", "line": 10, "function_line": 2}]
    assert "    return w * h" in path.read_text(encoding="utf-8").splitlines()
    path.write_text("import math\n\n\n" + STUB, encoding="utf-8")
    scripted_model.add("generate", fenced(GOOD))
    scripted_model.add("critic", critic("approve", {"category": "completeness", "severity": "warning", "line": 2,
                                                    "message": "negative sides are not mentioned"}))
    proc = specloop("run", "geometry.py", env=cli_env(scripted_model.url, SPECLOOP_CRITIC="true"), cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert "    completeness (warning, approved) line 10: negative sides are not mentioned" in proc.stderr.splitlines()


async def test_the_progress_bar_never_goes_back(scripted_model, workspace, make_settings):
    """The events of a real run whose critic asks for a change ("addressing review" at 90 %,
    then the repair's "testing" at a lower percent), fed to the terminal reporter."""
    import io

    from rich.console import Console

    from replies import critic
    from specloop.cli.app import Reporter
    from specloop.loop import implement
    from specloop.results import Phase
    from specloop.source.spec import find_target

    path = workspace / "geometry.py"
    path.write_text(STUB, encoding="utf-8")
    scripted_model.add("generate", fenced(GOOD))
    scripted_model.add("critic", critic("request_changes", {"category": "quality", "severity": "warning",
                                                            "line": 2, "message": "name the product"}))
    scripted_model.add("fix", fenced("def area(w, h):\n    product = w * h\n    return product\n"))
    scripted_model.add("critic", critic("approve"))
    events = []
    result = await implement(STUB, path, find_target(STUB, "area"), make_settings(workspace, critic=True),
                             workspace=workspace, emit=events.append)
    assert result.status == "passed" and scripted_model.steps == ["generate", "critic", "fix", "critic"]
    percents = [e.percent for e in events if isinstance(e, Phase)]
    assert any(b < a for a, b in zip(percents, percents[1:])), percents   # the engine's phases do go back

    reporter = Reporter(quiet=False, console=Console(file=io.StringIO(), force_terminal=True, width=100))
    shown = []
    try:
        for event in events:
            reporter.event(event)
            shown.append(reporter.live.tasks[0].completed)
    finally:
        reporter.close()
    assert shown == sorted(shown) and shown[-1] == 100, shown
    last_phase = [e for e in events if isinstance(e, Phase)][-1]
    assert reporter.live.tasks[0].fields["detail"] == last_phase.message     # the text still names the phase


def test_a_local_server_needs_no_api_key(scripted_model, project):
    path = project / "geometry.py"
    path.write_text(STUB, encoding="utf-8")
    scripted_model.add("generate", fenced(GOOD))
    env = cli_env(scripted_model.url)
    for name in ("OPENAI_API_KEY", "SPECLOOP_MODEL", "SPECLOOP_API_BASE"):
        env.pop(name)
    proc = specloop("run", "geometry.py", "--model", "openai/local", "--api-base", scripted_model.url,
                    env=env, cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert path.read_text(encoding="utf-8") == STUB + "    return w * h\n"
    assert scripted_model.requests[0].headers["authorization"] == "Bearer no-key"


@pytest.mark.parametrize("model,hint", [
    ("gpt4", "reason: litellm cannot tell the provider of model 'gpt4'; give the provider: --model openai/gpt4"),
    (None, "reason: cannot reach the model at {dead}: connection refused; is the server at {dead} running?"),
])
def test_a_model_error_is_one_line_with_a_hint(scripted_model, project, model, hint):
    from scripted_model import ScriptedModel

    dead = ScriptedModel()
    url = dead.url
    dead.stop()
    (project / "geometry.py").write_text(STUB, encoding="utf-8")
    args = ["--model", model] if model else ["--api-base", url]
    proc = specloop("run", "geometry.py", *args, env=cli_env(scripted_model.url), cwd=project)
    assert proc.returncode == (1 if model else 2), proc.stderr    # no model to reach: nothing could run
    assert "    " + hint.format(dead=url) in proc.stderr.splitlines(), proc.stderr
    assert "litellm." not in proc.stderr + proc.stdout and "docs.litellm.ai" not in proc.stderr + proc.stdout
    assert (project / "geometry.py").read_text(encoding="utf-8") == STUB


def test_one_count_and_one_clause_everywhere():
    from specloop.results import TestOutcome, failure_text, plural, tests_count
    # K is the passing tests of N, whatever the status (the editor said "failed 1/1" for 0 of 1 passing)
    assert tests_count("failed", 0, 1) == "failed 0/1 tests"
    assert tests_count("passed", 3, 0) == "passed 3/3 tests"
    doctest = TestOutcome("doctest[0]", "failed", "doctest add(1): expected '42', got '1'", expected="42", actual="1")
    assert failure_text(doctest) == "doctest add(1): expected '42', got '1'"          # said once
    assert failure_text(TestOutcome("t", "failed", "assert 1 == 2", expected="2", actual="1")) == \
        "assert 1 == 2 (expected 2, got 1)"
    assert [plural(n, "spec") for n in (0, 1, 2)] == ["0 specs", "1 spec", "2 specs"]
