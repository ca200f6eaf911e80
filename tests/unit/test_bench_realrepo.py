"""bench/realrepo.py on a tiny inline project, so the benchmark cannot rot.

The analysis (which tests name a function, what its body uses, the stub) is checked
directly; then the oracle mode runs end to end with ``--repo`` on the tiny project: every
function is stubbed in a copy and ``specloop run`` gets the original function back from the
scripted model.  The assertions state what a correct engine does with correct code:
``passed``, every test that names the function run, every project definition the body
uses shown to the model, and not one byte changed outside the function.  The user's
checkout is never touched."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "realrepo.py"
sys.path.insert(0, str(ROOT / "bench"))

import realrepo  # noqa: E402

FILES = {
    "pyproject.toml": """\
        [project]
        name = "tinymeter"
        version = "0.1"
        """,
    "tinymeter/__init__.py": """\
        from .core import Meter, total
        from .scale import clamp
        """,
    "tinymeter/scale.py": """\
        LIMIT = 100


        def clamp(value, low=0, high=LIMIT):
            \"\"\"``value`` kept within [low, high].

            >>> clamp(120)
            100
            \"\"\"
            return max(low, min(high, value))
        """,
    "tinymeter/core.py": """\
        # A meter whose readings are clamped.  # keep this comment
        from .scale import clamp

        UNIT = "m"


        def label(value):
            \"\"\"The reading with its unit, e.g. ``'3 m'``.\"\"\"
            return f"{value} {UNIT}"


        class Meter:
            \"\"\"Readings, clamped to the scale.\"\"\"

            def __init__(self, readings):
                self.readings = list(readings)

            def total(self):
                \"\"\"The sum of the clamped readings.\"\"\"
                return sum(clamp(r) for r in self.readings)   # clamp comes from scale.py

            def describe(self):
                \"\"\"The total with its unit.\"\"\"
                return label(self.total())


        def total(values):
            \"\"\"Sum of ``values`` after clamping each.

            >>> total([1, 2, 300])
            103
            \"\"\"
            meter = Meter(values)
            return meter.total()
        """,
    "tests/test_core.py": """\
        import unittest

        import pytest

        from tinymeter import Meter, total
        from tinymeter.core import label


        @pytest.mark.parametrize("values,expected", [([1], 1), ([200], 100), ([], 0)])
        def test_total(values, expected):
            assert total(values) == expected


        class TestMeter:
            def test_describe(self):
                assert Meter([2, 3]).describe() == "5 m"

            def test_total_method(self):
                assert Meter([-5, 5]).total() == 5


        class MeterChecks(unittest.TestCase):          # a TestCase whatever its name
            def test_label(self):
                self.assertEqual(label(4), "4 m")
        """,
}


def make_project(root: Path) -> Path:
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def tree_hash(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_tests_that_name_a_function_are_counted_as_pytest_collects_them(tmp_path: Path) -> None:
    root = make_project(tmp_path / "tinymeter")
    tests = realrepo.project_tests(root)
    assert sorted(t.key for t in tests) == [
        "tests/test_core.py::MeterChecks::test_label", "tests/test_core.py::TestMeter::test_describe",
        "tests/test_core.py::TestMeter::test_total_method", "tests/test_core.py::test_total"]
    fns = {f.qualname: f for f in realrepo.functions("tinymeter", root)}
    assert set(fns) == {"label", "Meter.total", "Meter.describe", "total"}   # no dunders; no test names clamp
    # the parametrized test counts once; ``Meter(...).total()`` names the method, not the function
    assert fns["total"].naming_tests == ["tests/test_core.py::test_total"]
    assert fns["Meter.total"].naming_tests == ["tests/test_core.py::TestMeter::test_total_method"]
    assert fns["label"].naming_tests == ["tests/test_core.py::MeterChecks::test_label"]
    uses = {(u.name, u.where, u.kind) for u in fns["Meter.total"].uses}
    assert uses == {("clamp", "cross-file", "function")}
    assert {(u.name, u.where, u.kind) for u in fns["Meter.describe"].uses} == {
        ("label", "same-module", "function"), ("total", "same-module", "method")}
    assert {(u.name, u.where) for u in fns["label"].uses} == {("UNIT", "same-module")}
    assert {(u.name, u.where) for u in fns["total"].uses} == {("Meter", "same-module")}


def test_stub_keeps_the_docstring_and_everything_outside_the_function(tmp_path: Path) -> None:
    root = make_project(tmp_path / "tinymeter")
    source = (root / "tinymeter/core.py").read_text(encoding="utf-8")
    fn = next(f for f in realrepo.functions("tinymeter", root) if f.qualname == "Meter.total")
    stubbed = realrepo.stub(source, fn)
    assert '"""The sum of the clamped readings."""\n\n    def describe' in stubbed
    assert "clamp comes from" not in stubbed
    before, after = realrepo.outside(source, fn)
    assert realrepo.outside(stubbed, fn) == (before, after)
    assert realrepo.original_function(source, fn).startswith("    def total(self):")


def test_oracle_mode_on_a_checkout(tmp_path: Path) -> None:
    """The oracle answers every function with its original code: a correct engine passes
    each, runs every test that names it, shows the model every definition its body uses,
    and leaves the file byte-identical; the user's checkout is not touched."""
    root = make_project(tmp_path / "tinymeter")
    before = tree_hash(root)
    out = tmp_path / "out" / "oracle"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPECLOOP_")}
    done = subprocess.run([sys.executable, str(SCRIPT), "--repo", str(root), "--out", str(out), "--jobs", "2"],
                          capture_output=True, text=True, timeout=400, env=env, cwd=str(ROOT))
    assert done.returncode == 0, done.stderr[-3000:]
    assert tree_hash(root) == before                      # the checkout is never written to
    data = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    rows = {r["function"]: r for r in data["rows"]}
    assert set(rows) == {"label", "Meter.total", "Meter.describe", "total"}
    for name, row in rows.items():
        assert row["unanswered"] == 0, name                 # only generate/fix asked: tests and critic off
        assert row["outside_changed"] == 0 and not row["other_files_changed"], (name, row)
    for name, row in rows.items():
        assert row["status"] == "passed", (name, row.get("first_failure") or row.get("error"))
        assert row["identical"], name
    for name, row in rows.items():
        assert row["tests_run"] == row["naming_tests"], (name, row["missed_tests"])
    for name, row in rows.items():
        unseen = [u for u in row["uses"] if not u["shown"]]
        assert not unseen, (name, unseen)
    s = data["summary"]
    assert s["passed_share"] == 1.0 and s["cross_file_recall"] == 1.0
    table = out.with_suffix(".md").read_text(encoding="utf-8")
    assert "| **total** | 4 |" in table
