"""Hostile candidates through the whole engine (and `specloop run --json`): a scripted model
over HTTP answers with code that games its tests.  Nothing of it may end ``passed``.  A function
is judged by value (its candidate runs apart from the tests), so what the static policy flags is
advice: the code runs and fails its tests, and the flags come back as ``critic.security``
warnings that the fix prompt quotes."""

from __future__ import annotations

import json

import pytest

from specloop.loop import implement
from specloop.source.spec import find_target

from replies import fenced
from test_cli import cli_env, specloop
from test_loop import write

STUB = '''\
def area(w, h):
    """Area of a w-by-h rectangle.

    >>> area(2, 3)
    6
    """
'''
USER_TEST = "from geometry import area\n\n\ndef test_area():\n    assert area(7, 8) == 56\n"
GOOD = "def area(w, h):\n    return w * h\n"

GAMING = {
    "frames": '''
        def area(w, h):
            import sys
            frame = sys._getframe(1)
            while frame is not None:
                if "example" in frame.f_locals:
                    return int(frame.f_locals["example"].want)
                frame = frame.f_back
            return 0
    ''',
    "skip": '''
        def area(w, h):
            import pytest
            if (w, h) != (2, 3):
                pytest.skip("not supported")
            return 6
    ''',
    "exit": '''
        def area(w, h):
            import os
            os._exit(0)
    ''',
    "conftest": '''
        def area(w, h):
            with open("../conftest.py", "w") as fh:
                fh.write("def pytest_runtest_call(item):\\n    pass\\n")
            return 0
    ''',
    "obfuscated": '''
        def area(w, h):
            m = __import__("o" + "s")
            getattr(m, "_" + "exit")(0)
    ''',
}


async def run(path, settings, workspace):
    source = path.read_text(encoding="utf-8")
    return await implement(source, path, find_target(source, "area"), settings, workspace=workspace)


@pytest.mark.parametrize("name", sorted(GAMING))
async def test_gaming_code_fails_its_tests_and_the_model_sees_the_policys_advice(name, scripted_model, workspace,
                                                                                make_settings):
    path = write(workspace, "geometry.py", STUB)
    write(workspace, "tests/test_geometry.py", USER_TEST)
    scripted_model.add("generate", fenced(GAMING[name]))
    scripted_model.add("fix", fenced(GAMING[name]), repeat=True)
    result = await run(path, make_settings(workspace, max_iterations=2), workspace)
    assert result.status == "failed", name
    assert not (result.error or "").startswith("security: "), result.error   # it ran: its tests decided
    assert result.failed
    security = [f for f in result.findings if f.category == "security"]
    assert security and all(f.severity == "warning" for f in security)
    fix_prompt = scripted_model.requests_for("fix")[0].last_user
    assert security[0].message in fix_prompt


async def test_a_passing_candidate_the_policy_flags_gets_one_fix_with_the_advice(scripted_model, workspace,
                                                                                 make_settings):
    path = write(workspace, "geometry.py", STUB)
    flagged = "def area(w, h):\n    import inspect\n    return w * h\n"
    scripted_model.add("generate", fenced(flagged))
    scripted_model.add("fix", fenced(GOOD))
    result = await run(path, make_settings(workspace, critic=False, model_tests=False), workspace)
    assert result.status == "passed", result.error
    assert "inspect" in scripted_model.requests_for("fix")[0].last_user
    assert result.findings == [] and "import inspect" not in result.function_code


async def test_a_refused_candidate_fixed_by_the_model_passes(scripted_model, workspace, make_settings):
    path = write(workspace, "geometry.py", STUB)
    scripted_model.add("generate", fenced(GAMING["frames"]))
    scripted_model.add("fix", fenced(GOOD))
    result = await run(path, make_settings(workspace), workspace)
    assert result.status == "passed", result.error
    assert result.findings == [] and "return w * h" in result.function_code


async def test_order_dependent_code_fails_its_verification_run(scripted_model, workspace, make_settings):
    """Right only when the docstring's example runs first: passes the ordinary run, not the
    verification run, which runs the tests in reverse order in a fresh process."""
    path = write(workspace, "geometry.py", STUB)
    write(workspace, "tests/test_geometry.py", USER_TEST)
    order_dependent = '''
        def area(w, h):
            if not hasattr(area, "first"):
                area.first = (w, h)
            return w * h if area.first == (2, 3) else 0
    '''
    scripted_model.add("generate", fenced(order_dependent))
    result = await run(path, make_settings(workspace, max_iterations=1), workspace)
    assert result.status == "failed"
    assert result.error.startswith("the result did not pass its verification run: ")


@pytest.mark.parametrize("mode", ["bwrap", "process"])
async def test_cli_json_reports_gaming_code_as_failed_with_a_security_finding(mode, scripted_model, workspace):
    path = write(workspace, "geometry.py", STUB)
    write(workspace, "tests/test_geometry.py", USER_TEST)
    scripted_model.add("generate", fenced(GAMING["skip"]))
    scripted_model.add("fix", fenced(GAMING["skip"]), repeat=True)
    proc = specloop("run", "geometry.py", "--json",
                    env=cli_env(scripted_model.url, SPECLOOP_SANDBOX=mode, SPECLOOP_MAX_ITERATIONS="2"),
                    cwd=workspace)
    assert proc.returncode == 1, proc.stderr
    (target,) = json.loads(proc.stdout)["targets"]
    assert target["status"] == "failed"
    assert any(f["category"] == "security" and "pytest" in f["message"] for f in target["findings"])
    assert path.read_text(encoding="utf-8").startswith(STUB)
    assert "pytest.skip" not in path.read_text(encoding="utf-8")


def test_cli_without_bubblewrap_runs_nothing_and_says_what_to_do(scripted_model, workspace):
    path = write(workspace, "geometry.py", STUB)
    scripted_model.add("generate", fenced(GOOD))
    proc = specloop("run", "geometry.py", env=cli_env(scripted_model.url, PATH="/nonexistent"), cwd=workspace)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "specloop: tests were not run: bubblewrap does not work here (bwrap is not installed); install it (e.g. "
        "`apt-get install bubblewrap`) or set sandbox = \"process\" to run generated code with your own rights, "
        "without isolation"]
    assert not scripted_model.requests and path.read_text(encoding="utf-8") == STUB
