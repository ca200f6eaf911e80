"""A result whose code is the code already in the document is "nothing to apply": never an
empty ``workspace/applyEdit``, never "the editor did not apply the result", never offered
with a diff that shows nothing (a "Fix" that passes or fails with the same code, an "Apply
anyway" of what the user typed in).  And a critic that approves with a warning: its finding
is shown, milder (Information)."""

from __future__ import annotations

import threading

import pytest
from lsprotocol import types

from lsp_editor import plain
from replies import critic, fenced
from sources import AREA_CODE, GEOMETRY, with_area_body
from test_results import WRONG_BODY, model_that_fails_until, offered

pytestmark = [pytest.mark.asyncio(loop_scope="module"),
              pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning")]

NOTHING = "nothing to apply: the code is already what the result says"
WARNING = {"category": "completeness", "severity": "warning", "line": 7, "message": "zero-sized sides are not mentioned"}


def diags(editor, uri, code=None):
    return [d for d in editor.diagnostics.get(uri, []) if code is None or d.code == code]


def refusals(editor, since: int) -> list[str]:
    return [m.message for m in [*editor.messages[since:], *editor.log_messages] if "did not apply" in m.message]


async def test_an_approving_critics_warning_is_shown_and_a_fix_that_changes_nothing_sends_no_edit(
        editor, scripted_model):
    scripted_model.add("generate", fenced(AREA_CODE), target="area")
    scripted_model.add("critic", critic("approve", WARNING), target="area")
    await editor.configure(api_base=scripted_model.url, critic=True, max_iterations=1)
    uri = editor.open("same_fix.py", GEOMETRY)
    mark = editor.mark()
    await editor.command("specloop.generate", {"uri": uri, "target": "area"})
    end = (await editor.job_end("specloop: area", mark))[-1]
    assert plain(end.message) == "passed 1/1 tests, 1 critic finding"
    (finding,) = await editor.until("the approved finding", lambda: diags(editor, uri, "critic.completeness"))
    assert finding.severity == types.DiagnosticSeverity.Information and finding.source == "specloop"
    assert finding.message == WARNING["message"]
    assert editor.text_at(uri, finding.range) == "if w < 0 or h < 0:  # 📐 sides"

    # "Fix" it; the model answers with the very code that is there: nothing is sent
    scripted_model.add("generate", fenced(AREA_CODE), target="area")
    scripted_model.add("critic", critic("approve"), target="area")
    fixes = await editor.actions(uri, finding.range, diagnostics=[finding], only=["quickfix"])
    assert fixes[0].title == f"Fix: {WARNING['message']}"
    mark, edits, shown, text = editor.mark(), len(editor.apply_requests), len(editor.messages), editor.docs[uri].text
    await editor.command(fixes[0].command.command, *fixes[0].command.arguments)
    end = (await editor.job_end("specloop: area", mark))[-1]
    assert plain(end.message) == f"passed 1/1 tests — {NOTHING}"
    await editor.command("specloop.status")
    assert len(editor.apply_requests) == edits and editor.docs[uri].text == text
    assert refusals(editor, shown) == [] and editor.statuses[-1]["pending"] == []
    await editor.until("the new result's (no) findings", lambda: not diags(editor, uri))


async def test_a_failing_fix_with_the_code_already_there_is_not_offered(editor, scripted_model):
    model_that_fails_until(scripted_model, threading.Event())
    uri, _, failed = await offered(editor, scripted_model, "same_failing.py")
    fixes = await editor.actions(uri, failed.range, diagnostics=[failed], only=["quickfix"])
    assert (await editor.command(fixes[0].command.command, *fixes[0].command.arguments))["applied"] is True
    assert editor.docs[uri].text == with_area_body(GEOMETRY, WRONG_BODY)
    (on_code,) = await editor.until("the code's test.failed", lambda: [
        d for d in diags(editor, uri, "test.failed") if "not applied" not in d.message])
    fixes = await editor.actions(uri, on_code.range, diagnostics=[on_code], only=["quickfix"])
    assert fixes[0].title.startswith("Fix: test ")
    mark, edits, shown = editor.mark(), len(editor.apply_requests), len(editor.messages)
    await editor.command(fixes[0].command.command, *fixes[0].command.arguments)       # the same wrong code again
    end = (await editor.job_end("specloop: area", mark))[-1]
    assert plain(end.message) == f"failed 0/1 tests — {NOTHING}"
    await editor.command("specloop.status")
    # not kept, not offered: no diff to show, nothing to apply; the failure is about the code there
    assert editor.statuses[-1]["pending"] == [] and len(editor.apply_requests) == edits
    assert refusals(editor, shown) == [] and editor.docs[uri].text == with_area_body(GEOMETRY, WRONG_BODY)
    (still,) = await editor.until("the code's test.failed", lambda: diags(editor, uri, "test.failed"))
    assert "not applied" not in still.message
    titles = [a.title for a in await editor.actions(uri, still.range, diagnostics=[still], only=["quickfix"])]
    assert [t.split(":")[0] for t in titles] == ["Fix", "Dismiss"]


async def test_apply_anyway_of_what_the_user_typed_in_is_nothing_to_apply(editor, scripted_model):
    model_that_fails_until(scripted_model, threading.Event())
    uri, _, _ = await offered(editor, scripted_model, "typed_in.py")
    editor.replace(uri, '    6\n    """\n', '    6\n    """\n' + WRONG_BODY)      # the user writes the same body
    typed = editor.docs[uri].text
    assert typed == with_area_body(GEOMETRY, WRONG_BODY)
    edits, shown = len(editor.apply_requests), len(editor.messages)
    answer = await editor.command("specloop.applyResult", {"uri": uri, "target": "area"})
    assert answer == {"applied": False, "unchanged": True, "detail": NOTHING}
    assert len(editor.apply_requests) == edits and editor.docs[uri].text == typed
    assert editor.shown("specloop: area: nothing to apply", shown)       # the user asked: told once
    assert refusals(editor, shown) == []
    await editor.until("nothing pending", lambda: editor.statuses[-1]["pending"] == [])
    (on_code,) = await editor.until("the code's test.failed", lambda: diags(editor, uri, "test.failed"))
    assert "not applied" not in on_code.message
    assert editor.text_at(uri, on_code.range) == "area"


async def test_discard_of_a_failing_result_leaves_the_code_and_nothing_to_review(editor, scripted_model):
    model_that_fails_until(scripted_model, threading.Event())
    uri, _, failed = await offered(editor, scripted_model, "discarded.py")
    fixes = await editor.actions(uri, failed.range, diagnostics=[failed], only=["quickfix"])
    assert fixes[-1].title == "Discard the best attempt"
    assert await editor.command(fixes[-1].command.command, *fixes[-1].command.arguments) == {"discarded": True}
    await editor.until("nothing pending", lambda: editor.statuses[-1]["pending"] == [])
    await editor.until("no diagnostic", lambda: not diags(editor, uri))
    assert editor.docs[uri].text == GEOMETRY
    assert await editor.command("specloop.previewResult", {"uri": uri, "target": "area"}) is None
