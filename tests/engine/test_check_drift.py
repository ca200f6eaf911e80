"""The editor's half of spec drift at the engine level: which recorded functions drifted in a
text (spec changed, body not), read from the records file, and a re-check of a text that is
not on disk."""

from __future__ import annotations

from specloop import check
from specloop.settings import Settings

from test_check import WRITTEN
from test_loop import write


def test_only_a_changed_spec_over_the_same_body_is_drift(workspace):
    path = write(workspace, "geometry.py", WRITTEN)
    for name in ("Shape.area", "double"):
        check.record(workspace, path, WRITTEN, name)
    recs = check.records_for(workspace, path)
    assert {r.qualname for r in recs} == {"Shape.area", "double"}
    assert check.spec_drift(WRITTEN, recs) == []

    spec = WRITTEN.replace("Twice x.", "Twice x, for any number.").replace("Area of", "The area of")
    assert [(d.qualname, d.def_line) for d in check.spec_drift(spec, recs)] == [("Shape.area", 1), ("double", 10)]
    both = spec.replace("return 2 * x", "return x + x")              # body edited as well
    assert [d.qualname for d in check.spec_drift(both, recs)] == ["Shape.area"]
    stub = spec.replace("        return w * h\n", "")                 # a stub again
    assert [d.qualname for d in check.spec_drift(stub, recs)] == ["double"]
    assert check.spec_drift(spec.split("\n\n\ndef double")[0] + "\n", recs) == [
        d for d in check.spec_drift(spec, recs) if d.qualname == "Shape.area"]   # gone
    assert check.spec_drift(spec + "\ndef broken(:\n", recs) is None            # does not parse
    assert check.spec_drift(spec, []) == []


def test_records_are_read_again_when_the_file_changes(workspace):
    path = write(workspace, "geometry.py", WRITTEN)
    assert check.records_for(workspace, path) == []
    check.record(workspace, path, WRITTEN, "double")
    assert [r.qualname for r in check.records_for(workspace, path)] == ["double"]
    check.record(workspace, path, WRITTEN, "Shape.area")
    assert [r.qualname for r in check.records_for(workspace, path)] == ["double", "Shape.area"]
    assert check.records_for(workspace, workspace / "other.py") == []


async def test_recheck_runs_the_text_given_and_records_it_when_it_passes(workspace):
    path = write(workspace, "geometry.py", WRITTEN)
    check.record(workspace, path, WRITTEN, "double")
    before = check.records_for(workspace, path)[0]
    settings = Settings(sandbox="bwrap")

    wrong = WRITTEN.replace(">>> double(4)\n    8", ">>> double(4)\n    8\n    >>> double(0.5)\n    2")
    failed = await check.recheck(path, workspace, settings, "double", wrong)   # the file on disk is not it
    assert (failed.status, failed.passed, failed.failed) == ("failed", 1, 1)
    assert check.records_for(workspace, path) == [before]

    right = wrong.replace("    2\n", "    1.0\n")
    passed = await check.recheck(path, workspace, settings, "double", right)
    assert (passed.status, passed.passed, passed.failed) == ("passed", 2, 0)
    (after,) = check.records_for(workspace, path)
    assert after.spec != before.spec and after.code == before.code
    assert check.spec_drift(right, [after]) == []
    assert (await check.recheck(path, workspace, settings, "Shape.area", right)).status == "error"  # no record
