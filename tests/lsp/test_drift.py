"""``spec.drift``: the spec of a function specloop implemented changes while its body does not.
The function is implemented through the server (the record is written when the result lands),
then its docstring is edited: a warning on its name, with "Re-check" (its tests on the body as
it is: passing records the new spec, failing keeps the warning and says so) and "Re-implement"
(a job from the spec as it reads now).  Editing the body as well is no drift."""

from __future__ import annotations

import json

import pytest
from lsprotocol import types

from lsp_editor import plain
from replies import fenced
from sources import AREA_BODY, AREA_CODE, GEOMETRY, PERIMETER_CODE, with_area_body

pytestmark = [pytest.mark.asyncio(loop_scope="module"),
              pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning")]

WARNING = "the spec of area changed after specloop implemented it; its code may no longer match"
CLAMPED = '''\
    >>> area(2, 3)
    6
    >>> area(-1, 2)
    0
    """
'''
CLAMPED_CODE = AREA_CODE.replace('''    >>> area(2, 3)
    6
    """
''', CLAMPED).replace(AREA_BODY, "    return max(w, 0) * max(h, 0)\n")


def records(editor) -> dict[str, dict]:
    data = json.loads((editor.root / ".specloop" / "implemented.json").read_text(encoding="utf-8"))
    return {f"{item['path']}::{item['qualname']}": item for item in data["functions"]}


def drifts(editor, uri) -> list[types.Diagnostic]:
    return [d for d in editor.diagnostics.get(uri, []) if d.code == "spec.drift"]


async def implement(editor, scripted_model, name: str, *targets: str) -> str:
    await editor.configure(api_base=scripted_model.url)
    uri = editor.open(name, GEOMETRY)
    for target in targets:
        mark = editor.mark()
        await editor.command("specloop.generate", {"uri": uri, "target": target})
        assert plain((await editor.job_end(f"specloop: {target}", mark))[-1].message) == "passed 1/1 tests"
    return uri


async def quick_fixes(editor, uri, diag) -> list:
    sent: list = [diag]
    if editor.persona == "neovim@v0.7":     # it may send back only code and data
        sent = [{"code": diag.code, "data": diag.data}]
    return await editor.raw_actions(uri, diag.range, sent, only=["quickfix"])


async def test_a_spec_edit_warns_and_a_passing_recheck_records_the_new_spec(editor, scripted_model):
    scripted_model.add("generate", fenced(AREA_CODE), target="area")
    uri = await implement(editor, scripted_model, "recheck.py", "area")
    assert editor.docs[uri].text == with_area_body(GEOMETRY)
    written = records(editor)["recheck.py::area"]
    assert not drifts(editor, uri)

    editor.replace(uri, "Area of a w×h rectangle.", "Area of a w×h rectangle, in square units.")
    (drift,) = await editor.until("the drift warning", lambda: drifts(editor, uri))
    assert drift.message == WARNING and drift.source == "specloop"
    assert drift.severity == types.DiagnosticSeverity.Warning
    assert editor.text_at(uri, drift.range) == "area"

    actions = await quick_fixes(editor, uri, drift)
    assert [a.title for a in actions] == ["Re-check area against the spec", "Re-implement area from the spec"]
    seen = len(editor.messages)
    done = await editor.command(actions[0].command.command, *actions[0].command.arguments)
    assert done == {"target": "area", "status": "passed", "passed": 1, "failed": 0}
    assert editor.shown("specloop: area", seen) == ["specloop: area passes its spec: fingerprint updated"]
    await editor.until("the warning gone", lambda: not drifts(editor, uri))
    now = records(editor)["recheck.py::area"]
    assert now["spec"] != written["spec"] and now["code"] == written["code"]
    assert not scripted_model.requests_for("fix") and len(scripted_model.requests_for("generate")) == 1

    # the record holds the new spec: changing it again warns, changing it back to that spec does not
    editor.replace(uri, "in square units.", "in square metres.")
    await editor.until("the warning again", lambda: drifts(editor, uri))
    editor.replace(uri, "in square metres.", "in square units.")
    await editor.until("the warning gone again", lambda: not drifts(editor, uri))


async def test_a_failing_recheck_keeps_the_warning_then_reimplement_replaces_the_body(editor, scripted_model):
    scripted_model.add("generate", fenced(AREA_CODE), target="area")
    uri = await implement(editor, scripted_model, "reimplement.py", "area")
    written = records(editor)["reimplement.py::area"]

    # the spec now asks for something the body does not do
    editor.replace(uri, '''    >>> area(2, 3)
    6
    """
''', CLAMPED)
    (drift,) = await editor.until("the drift warning", lambda: drifts(editor, uri))
    assert drift.message == WARNING
    recheck, again = await quick_fixes(editor, uri, drift)
    seen = len(editor.messages)
    done = await editor.command(recheck.command.command, *recheck.command.arguments)
    assert done == {"target": "area", "status": "failed", "passed": 1, "failed": 1}
    (shown,) = editor.shown("specloop: area", seen)
    assert shown.startswith("specloop: area fails its spec: failed 1/2 tests")
    (failing,) = await editor.until("the warning saying the tests fail", lambda: [
        d for d in drifts(editor, uri) if "fails it" in d.message])
    assert failing.message.startswith("the spec of area changed after specloop implemented it, and its code "
                                      "fails it: failed 1/2 tests")
    assert editor.text_at(uri, failing.range) == "area"
    assert records(editor)["reimplement.py::area"] == written     # nothing recorded for a failure

    # "Re-implement": a job from the spec as it reads now; its passing result replaces the body
    scripted_model.add("generate", fenced(CLAMPED_CODE), target="area")
    (recheck, again) = await quick_fixes(editor, uri, failing)
    assert again.title == "Re-implement area from the spec"
    mark = editor.mark()
    started = await editor.command(again.command.command, *again.command.arguments)
    assert started["started"] is True and started["target"] == "area"
    assert plain((await editor.job_end("specloop: area", mark))[-1].message) == "passed 2/2 tests"
    asked = scripted_model.requests_for("generate", "area")[-1].last_user
    assert ">>> area(-1, 2)" in asked and "raise ValueError" not in asked
    await editor.until("the new body", lambda: "return max(w, 0) * max(h, 0)" in editor.docs[uri].text)
    assert editor.docs[uri].text == GEOMETRY.replace('''    >>> area(2, 3)
    6
    """
''', CLAMPED + "    return max(w, 0) * max(h, 0)\n", 1)
    await editor.until("the warning gone", lambda: not drifts(editor, uri))
    now = records(editor)["reimplement.py::area"]
    assert now["spec"] != written["spec"] and now["code"] != written["code"]


async def test_editing_the_body_with_the_spec_is_no_drift(editor, scripted_model):
    scripted_model.add("generate", fenced(AREA_CODE), target="area")
    scripted_model.add("generate", fenced(PERIMETER_CODE), target="perimeter")
    uri = await implement(editor, scripted_model, "both.py", "area", "perimeter")
    assert set(records(editor)) >= {"both.py::area", "both.py::perimeter"}
    # one didChange: area's spec and body change together, perimeter's spec alone
    text = editor.docs[uri].text
    spans = [(text.index(old), text.index(old) + len(old), new) for old, new in (
        ("Area of a w×h rectangle.", "Area of a w×h rectangle; negative sides count as 0."),
        (AREA_BODY, "    return max(w, 0) * max(h, 0)\n"),
        ("Perimeter of a w×h rectangle.", "Perimeter of a w×h rectangle, in metres."))]
    editor._change(uri, spans)
    (drift,) = await editor.until("perimeter's warning", lambda: drifts(editor, uri))
    assert drift.message == ("the spec of perimeter changed after specloop implemented it; "
                             "its code may no longer match")
    assert editor.text_at(uri, drift.range) == "perimeter"
    # back to the stub: a function that is a stub again is not drift
    editor.replace(uri, "    return 2 * (w + h)\n", "")
    await editor.until("the warning gone", lambda: not drifts(editor, uri))
