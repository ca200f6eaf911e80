"""`specloop check` at the engine level: recorded functions re-tested, and spec drift."""

from __future__ import annotations

import json
import os

from specloop import check
from specloop.settings import Settings

from test_loop import write

WRITTEN = '''\
class Shape:
    def area(self, w, h):
        """Area of a w-by-h rectangle.

        >>> Shape().area(2, 3)
        6
        """
        return w * h


def double(x):
    """Twice x.

    >>> double(4)
    8
    """
    return 2 * x
'''


async def test_recorded_functions_pass_until_their_spec_or_code_drifts(workspace):
    path = write(workspace, "geometry.py", WRITTEN)
    write(workspace, "tests/test_geometry.py", "from geometry import double\n\n\ndef test_double():\n"
                                               "    assert double(5) == 10\n")
    for name in ("Shape.area", "double"):
        check.record(workspace, path, WRITTEN, name)
    settings = Settings(sandbox="bwrap")
    results = {r.name: r for r in await check.check_file(path, workspace, settings)}
    assert {n: (r.status, r.drift, r.passed) for n, r in results.items()} == {
        "Shape.area": ("passed", [], 1), "double": ("passed", [], 2)}
    assert {r.judged for r in results.values()} == {"value"}

    path.write_text(WRITTEN.replace(">>> double(4)\n    8", ">>> double(4)\n    9"))   # the spec changed
    (area, dbl) = await check.check_file(path, workspace, settings)
    assert area.status == "passed" and area.drift == []
    assert dbl.status == "failed" and dbl.drift[0].startswith("the spec changed")
    assert "test_doctest_0" in dbl.first_failure

    path.write_text(WRITTEN.replace("return 2 * x", "return x + x"))                   # edited by hand
    (_, dbl) = await check.check_file(path, workspace, settings)
    assert dbl.status == "passed" and dbl.drift == ["the code was edited after specloop wrote it"]

    path.write_text(WRITTEN.split("\n\n\ndef double")[0] + "\n")                        # gone
    (_, dbl) = await check.check_file(path, workspace, settings)
    assert dbl.status == "gone"


async def test_a_file_without_records_has_nothing_to_check(workspace):
    path = write(workspace, "plain.py", "def f():\n    return 1\n")
    assert await check.check_file(path, workspace, Settings(sandbox="bwrap")) == []


def test_cli_run_records_and_check_reports_drift(scripted_model, tmp_path):
    from test_cli import GOOD, STUB, cli_env, specloop
    from replies import fenced
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    path = tmp_path / "geometry.py"
    path.write_text(STUB, encoding="utf-8")
    scripted_model.add("generate", fenced(GOOD))
    env = cli_env(scripted_model.url)
    assert specloop("run", "geometry.py", env=env, cwd=tmp_path).returncode == 0
    done = specloop("check", ".", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["✓ geometry.py::area   passed 1/1 tests"]

    path.write_text(path.read_text().replace(">>> area(2, 3)\n    6", ">>> area(2, 3)\n    7"))
    drifted = specloop("check", "geometry.py", "--json", env=env, cwd=tmp_path)
    assert drifted.returncode == 1
    (fn,) = json.loads(drifted.stdout)["functions"]
    assert fn["name"] == "area" and fn["status"] == "failed" and fn["drift"][0].startswith("the spec changed")
    assert not scripted_model.requests_for("fix")   # check asks no model


def test_cli_version_and_check_of_a_missing_path(tmp_path):
    from test_cli import specloop
    from specloop import __version__
    version = specloop("--version", env={**os.environ}, cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.strip() == f"specloop {__version__}"
    missing = specloop("check", "nope.py", env={**os.environ}, cwd=tmp_path)
    assert missing.returncode == 2 and missing.stderr.strip() == "specloop: no such file or folder: nope.py"


async def test_accept_records_drifted_functions_whose_tests_pass(workspace):
    path = write(workspace, "geometry.py", WRITTEN)
    for name in ("Shape.area", "double"):
        check.record(workspace, path, WRITTEN, name)
    settings = Settings(sandbox="bwrap")
    prose = WRITTEN.replace("Twice x.", "Twice x, for any number.")                    # prose only: passes
    broken = prose.replace(">>> Shape().area(2, 3)\n        6", ">>> Shape().area(2, 3)\n        7")
    path.write_text(broken)
    before = {r.qualname: r for r in check.load(workspace)}

    area, dbl = await check.check_file(path, workspace, settings, accept=True)
    assert (dbl.status, dbl.drift, dbl.passed) == ("passed", [], 1)
    assert dbl.accepted and dbl.accepted[0].startswith("the spec changed")
    assert area.status == "failed" and area.drift[0].startswith("the spec changed") and area.accepted == []
    after = {r.qualname: r for r in check.load(workspace)}
    assert after["Shape.area"] == before["Shape.area"]                                # a failing one: not recorded
    assert after["double"].spec != before["double"].spec and after["double"].code == before["double"].code

    area, dbl = await check.check_file(path, workspace, settings)                     # a plain check now
    assert (dbl.status, dbl.drift, dbl.accepted) == ("passed", [], [])
    assert area.status == "failed" and area.drift


def test_cli_check_accept_then_check_exits_0(tmp_path):
    from cli_run import cli_env, specloop
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    path = tmp_path / "geometry.py"
    path.write_text(WRITTEN, encoding="utf-8")
    for name in ("Shape.area", "double"):
        check.record(tmp_path, path, WRITTEN, name)
    env = cli_env("http://127.0.0.1:9/v1")            # check asks no model
    prose = WRITTEN.replace("Twice x.", "Twice x, for any number.")
    path.write_text(prose.replace(">>> Shape().area(2, 3)\n        6", ">>> Shape().area(2, 3)\n        7"))

    drifted = specloop("check", ".", env=env, cwd=tmp_path)
    assert drifted.returncode == 1 and drifted.stdout.count("    drift: the spec changed") == 2, drifted.stdout

    accepted = specloop("check", "--accept", ".", env=env, cwd=tmp_path)
    assert accepted.returncode == 1, accepted.stderr        # the failing one is still reported
    assert accepted.stdout.splitlines() == [
        "✗ geometry.py::Shape.area   failed 0/1 tests",
        "    drift: the spec changed after specloop implemented it: the code may not do what it now says",
        "    test test_specloop_doctests.py::test_doctest_0: doctest Shape().area(2, 3): expected '7', got '6'",
        "    not accepted: its tests fail",
        "✓ geometry.py::double   passed 1/1 tests",
        "    accepted: its spec as it reads now (its tests pass), recorded in .specloop/implemented.json",
    ], accepted.stdout
    assert "accepted 1 function as it reads now; 1 function still failing or drifted" in accepted.stderr

    again = specloop("check", ".", env=env, cwd=tmp_path)
    assert again.returncode == 1 and "double" not in again.stdout.replace("✓ geometry.py::double", "")
    assert "✓ geometry.py::double   passed 1/1 tests" in again.stdout.splitlines()

    path.write_text(prose.replace("Area of a w-by-h", "The area of a w-by-h"))        # area: prose only now
    assert specloop("check", "--accept", "geometry.py", env=env, cwd=tmp_path).returncode == 0
    done = specloop("check", ".", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == ["✓ geometry.py::Shape.area   passed 1/1 tests",
                                        "✓ geometry.py::double   passed 1/1 tests"]
