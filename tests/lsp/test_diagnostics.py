"""Diagnostics that stay true: critic findings follow the text; quick fixes name their finding
(two on one line can be told apart); "Fix" replaces the findings and does not add the kept tests
a second time; an undo back to the stub or deleting the function clears them; and a
``didChange`` the editor sends late (as eglot does) does not lose them."""

from __future__ import annotations

import pytest
from lsprotocol import types

from lsp_editor import plain
from replies import critic, fenced
from sources import AREA_BODY, AREA_CODE, GEOMETRY, PERIMETER_CODE, with_area_body

pytestmark = [pytest.mark.asyncio(loop_scope="module"),
              pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning")]

KEPT = '''
    from critic import area


    def test_area_zero():
        assert area(0, 5) == 0
'''
ZERO = {"category": "completeness", "severity": "warning", "line": 7, "message": "zero-sized sides are not mentioned"}
LONG = {"category": "accuracy", "severity": "warning", "line": 7,
        "message": "the docstring does not say what happens for negative sides, which this code rejects"}
SIDES = "if w < 0 or h < 0:  # 📐 sides"


def codes(editor, uri):
    return sorted(d.code for d in editor.diagnostics.get(uri, []))


async def test_critic_findings_become_diagnostics_then_fix(editor, scripted_model):
    scripted_model.add("generate", fenced(AREA_CODE), target="area")
    scripted_model.add("tests", fenced(KEPT), repeat=True)
    scripted_model.add("critic", critic(
        "request_changes",
        {"category": "completeness", "severity": "warning", "line": 7, "message": "zero-sized sides are not mentioned"},
        {"category": "quality", "severity": "info", "line": 9, "message": "name the product"}), target="area")
    await editor.configure(api_base=scripted_model.url, critic=True, max_iterations=1, model_tests=True,
                           keep_tests=True)
    uri = editor.open("critic.py", GEOMETRY)
    kept = editor.root / "tests" / "test_critic_specloop.py"
    mark = editor.mark()
    await editor.command("specloop.generate", {"uri": uri, "target": "area"})
    end = (await editor.job_end("specloop: area", mark))[-1]
    assert plain(end.message) == "passed 2/2 tests, 2 critic findings"
    assert editor.docs[uri].text == with_area_body(GEOMETRY)
    await editor.until("kept tests", lambda: kept.exists() and "def test_area_zero" in kept.read_text())
    kept_text = kept.read_text()
    # the kept tests came in the edit, or the server wrote them and said so in the log: never a
    # window/showMessage (every persona here shows progress; Neovim would stop on it)
    await editor.command("specloop.status")
    assert editor.shown("specloop: kept model tests") == []
    in_edit = any(isinstance(c, types.TextDocumentEdit) and c.text_document.uri == kept.as_uri()
                  for r in editor.apply_requests for c in (r.edit.document_changes or []))
    assert in_edit or [m for m in editor.log_messages if f"kept model tests for area in {kept}" in m.message]
    diags = await editor.until("diagnostics", lambda: list(editor.diagnostics.get(uri, [])))
    by_code = {d.code: d for d in diags}
    assert set(by_code) == {"critic.completeness", "critic.quality"}
    assert {d.source for d in diags} == {"specloop"}
    assert by_code["critic.completeness"].severity == types.DiagnosticSeverity.Warning
    assert by_code["critic.quality"].severity == types.DiagnosticSeverity.Information
    assert editor.text_at(uri, by_code["critic.completeness"].range) == "if w < 0 or h < 0:  # 📐 sides"
    assert editor.text_at(uri, by_code["critic.quality"].range) == "return w * h"

    # they follow the text: two lines typed above the function
    editor.replace(uri, "\n\ndef area", "\n\nUNIT = 'm'\n\n\ndef area")
    await editor.until("moved diagnostics", lambda: [d for d in editor.diagnostics.get(uri, [])
                                                     if d.code == "critic.completeness"
                                                     and d.range.start.line == 12])
    diags = {d.code: d for d in editor.diagnostics[uri]}
    assert editor.text_at(uri, diags["critic.completeness"].range) == "if w < 0 or h < 0:  # 📐 sides"

    # quick fixes: the client sends the diagnostic back (Neovim 0.7 may send only code and data)
    quality = diags["critic.quality"]
    sent: list = [quality]
    if editor.persona == "neovim@v0.7":
        sent = [{"code": quality.code, "data": quality.data}]
    actions = await editor.raw_actions(uri, quality.range, sent, only=["quickfix"])
    assert [a.title for a in actions] == ["Fix: name the product", "Dismiss: name the product"]
    await editor.command(actions[1].command.command, *actions[1].command.arguments)
    await editor.until("dismissed", lambda: {d.code for d in editor.diagnostics[uri]} == {"critic.completeness"})

    # "Fix this finding": a targeted job with the finding as feedback replaces the body
    scripted_model.add("generate", fenced(AREA_CODE.replace("return w * h", "return w * h  # 0 for zero-sized sides")), target="area")
    scripted_model.add("critic", critic("request_changes", {
        "category": "security", "severity": "error", "line": 9, "message": "trusts its input"}), target="area")
    completeness = next(d for d in editor.diagnostics[uri] if d.code == "critic.completeness")
    actions = await editor.raw_actions(uri, completeness.range, [completeness], only=["quickfix"])
    assert actions[0].title == "Fix: zero-sized sides are not mentioned"
    mark, edits = editor.mark(), len(editor.apply_requests)
    await editor.command(actions[0].command.command, *actions[0].command.arguments)
    end = (await editor.job_end("specloop: area", mark))[-1]
    assert plain(end.message) == "passed 3/3 tests, 1 critic finding"    # the kept test is the user's now
    # the same kept tests again: the tests file is not touched
    assert len(scripted_model.requests_for("tests")) == 2
    assert kept.read_text() == kept_text and kept_text.count("def test_area_zero") == 1
    sent = editor.apply_requests[edits].edit       # documentChanges, or changes for clients without them
    assert ([c.text_document.uri for c in sent.document_changes if isinstance(c, types.TextDocumentEdit)]
            if sent.document_changes is not None else list(sent.changes or {})) == [uri]
    asked = scripted_model.requests_for("generate", "area")[-1].last_user
    assert "zero-sized sides are not mentioned" in asked
    fixed_body = AREA_BODY.replace("return w * h", "return w * h  # 0 for zero-sized sides")
    assert editor.docs[uri].text == with_area_body(GEOMETRY.replace("\n\ndef area", "\n\nUNIT = 'm'\n\n\ndef area"),
                                                   fixed_body)
    # the new result's findings replace the old ones
    (security,) = await editor.until("new diagnostics", lambda: [
        d for d in editor.diagnostics[uri]] if {d.code for d in editor.diagnostics[uri]} == {"critic.security"} else None)
    assert security.severity == types.DiagnosticSeverity.Error
    assert editor.text_at(uri, security.range) == "return w * h  # 0 for zero-sized sides"
    # deleting the function deletes its diagnostics
    text = editor.docs[uri].text
    editor.replace(uri, text[text.index("def area"):text.index("def perimeter")], "")
    await editor.until("diagnostics cleared", lambda: not editor.diagnostics[uri])


async def test_two_findings_on_one_line_then_undo_to_the_stub(editor, scripted_model):
    scripted_model.add("generate", fenced(AREA_CODE), target="area")
    scripted_model.add("critic", critic("request_changes", ZERO, LONG), target="area")
    await editor.configure(api_base=scripted_model.url, critic=True, max_iterations=1)
    uri = editor.open("twofindings.py", GEOMETRY)
    mark = editor.mark()
    await editor.command("specloop.generate", {"uri": uri, "target": "area"})
    await editor.job_end("specloop: area", mark)
    both = await editor.until("two findings", lambda: len(editor.diagnostics.get(uri, [])) == 2
                              and list(editor.diagnostics[uri]))
    assert {editor.text_at(uri, d.range) for d in both} == {SIDES}
    actions = await editor.actions(uri, both[0].range, diagnostics=both, only=["quickfix"])
    titles = [a.title for a in actions]
    assert titles[:2] == ["Fix: zero-sized sides are not mentioned", "Dismiss: zero-sized sides are not mentioned"]
    assert titles[2].startswith("Fix: the docstring does not say what") and titles[2].endswith("…")
    assert titles[3].startswith("Dismiss: the docstring does not say") and titles[3].endswith("…")
    assert len(set(titles)) == 4 and max(map(len, titles)) <= 60
    # the user undoes the edit: the function is a stub again, and the findings about its code go
    editor.replace(uri, AREA_BODY, "")
    assert editor.docs[uri].text == GEOMETRY
    await editor.until("diagnostics cleared", lambda: not editor.diagnostics.get(uri))


async def test_findings_survive_a_late_did_change(editor, scripted_model):
    """The editor applies the edits but sends its didChange only when the test lets it (after
    the jobs ended and the findings were published): no wait in the server decides."""
    scripted_model.add("generate", fenced(AREA_CODE), target="area")
    scripted_model.add("generate", fenced(PERIMETER_CODE), target="perimeter")
    scripted_model.add("critic", critic("request_changes", ZERO), target="area")
    scripted_model.add("critic", critic("approve"), target="perimeter")
    await editor.configure(api_base=scripted_model.url, critic=True, max_iterations=1, parallel_jobs=2)
    uri = editor.open("late.py", GEOMETRY)
    mark = editor.mark()
    editor.hold_changes = True
    try:
        await editor.command("specloop.generateAll", {"uri": uri})
        for name in ("area", "perimeter"):
            assert plain((await editor.job_end(f"specloop: {name}", mark))[-1].message).startswith("passed 1/1 tests")
        # both results landed, the second placed in the text the first produced
        expected = with_area_body(GEOMETRY).replace('''    10
    """
''', '''    10
    """
    return 2 * (w + h)
''')
        assert editor.docs[uri].text == expected
        assert editor.held, "the editor held its didChange"
        (zero,) = await editor.until("the finding", lambda: list(editor.diagnostics.get(uri, [])))
        assert editor.text_at(uri, zero.range) == SIDES
        status = await editor.command("specloop.status")        # the server is idle, still waiting
        assert status["jobs"] == []
    finally:
        editor.release_changes()
    # the late didChange changes nothing the user sees; the next edit moves the finding along
    editor.replace(uri, "\n\ndef area", "\n\nUNIT = 'm'\n\n\ndef area")
    moved = await editor.until("the moved finding", lambda: [d for d in editor.diagnostics.get(uri, [])
                                                             if d.range.start.line == zero.range.start.line + 3])
    assert editor.text_at(uri, moved[0].range) == SIDES
    assert codes(editor, uri) == ["critic.completeness"]
