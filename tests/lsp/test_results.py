"""Results that are not applied by themselves: failing code is offered (a ``test.failed``
diagnostic with "Apply the best attempt anyway", "Show the best attempt", "Show the diff of
the best attempt", "Try again"), a result that cannot be placed right now is kept with
``spec.stale``, and the preview command (``specloop.previewResult``), the diff
(``specloop.showDiff``) and the ``pending`` list of ``specloop/status`` describe them.
A client that shows progress (every persona here) is offered them without a
``window/showMessage`` or ``window/showMessageRequest``: Neovim 0.11 stops the user for each."""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from lsprotocol import types

from lsp_editor import plain
from replies import fenced
from scripted_model import Response
from sources import AREA_BODY, AREA_CODE, GEOMETRY, with_area_body

pytestmark = [pytest.mark.asyncio(loop_scope="module"),
              pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning")]

WRONG_BODY = "    return w + h\n"
WRONG_CODE = AREA_CODE.replace(AREA_BODY, WRONG_BODY)
OFFERED = ["Apply the best attempt anyway", "Show the best attempt", "Show the diff of the best attempt", "Try again",
           "Discard the best attempt"]
STALE_FIXES = ["Apply specloop's result anyway", "Show specloop's result", "Show the diff of specloop's result",
               "Discard specloop's result"]


def model_that_fails_until(scripted_model, good: threading.Event) -> None:
    """Wrong code (area(2, 3) == 5) until ``good`` is set, then the right code."""
    answer = lambda *a: fenced(AREA_CODE) if good.is_set() else fenced(WRONG_CODE)  # noqa: E731
    scripted_model.respond(answer, step="generate", target="area")
    scripted_model.respond(answer, step="fix", target="area")


def diags(editor, uri, code):
    return [d for d in editor.diagnostics.get(uri, []) if d.code == code]


async def offered(editor, scripted_model, name: str):
    """Run a job whose code fails; return (uri, its end line, the test.failed diagnostic)."""
    await editor.configure(api_base=scripted_model.url, max_iterations=1)
    uri = editor.open(name, GEOMETRY)
    mark, shown, applies = editor.mark(), len(editor.messages), len(editor.apply_requests)
    logged, asked = len(editor.log_messages), len(editor.message_requests)
    await editor.command("specloop.generate", {"uri": uri, "target": "area"})
    end = (await editor.job_end("specloop: area", mark))[-1].message
    assert plain(end) == "failed 0/1 tests — not applied; see the quick fixes"
    # the client shows progress: the end is its progress end and a warning in the log, the offer is
    # the diagnostic's quick fixes; no showMessage (a "Press ENTER" prompt in Neovim), no question
    told = await editor.until("the warning in the log", lambda: [
        m for m in editor.log_messages[logged:] if m.message == f"specloop: area: {end}"])
    assert told[0].type == types.MessageType.Warning
    (failed,) = await editor.until("test.failed", lambda: diags(editor, uri, "test.failed"))
    await editor.command("specloop.status")        # answered after everything the job sent
    assert editor.shown("specloop: area", shown) == [] and editor.message_requests[asked:] == []
    assert len(editor.apply_requests) == applies and editor.docs[uri].text == GEOMETRY
    return uri, end, failed


async def test_a_failing_result_is_offered_not_applied(editor, scripted_model):
    model_that_fails_until(scripted_model, threading.Event())
    uri, end, failed = await offered(editor, scripted_model, "failing.py")
    assert editor.text_at(uri, failed.range) == "area"
    assert failed.severity == types.DiagnosticSeverity.Error
    assert "not applied" in failed.message and "expected '6', got '5'" in failed.message
    # the status bar's source: the kept result
    pending = await editor.until("pending in the status", lambda: editor.statuses and editor.statuses[-1]["pending"])
    assert pending == [{"uri": uri, "target": "area", "status": "failed", "summary": end.split(" — ")[0]}]

    fixes = await editor.actions(uri, failed.range, diagnostics=[failed], only=["quickfix"])
    assert [a.title for a in fixes] == OFFERED
    assert [a.command.command for a in fixes] == ["specloop.applyResult", "specloop.showResult", "specloop.showDiff",
                                                  "specloop.generate", "specloop.discardResult"]
    assert all(list(a.command.arguments) == [{"uri": uri, "target": "area"}] for a in fixes)

    # the preview: the document now and with the attempt placed
    preview = await editor.command("specloop.previewResult", {"uri": uri, "target": "area"})
    assert preview == {"uri": uri, "target": "area", "status": "failed", "summary": pending[0]["summary"],
                       "original": GEOMETRY, "proposed": with_area_body(GEOMETRY, WRONG_BODY)}
    assert await editor.command("specloop.previewResult", {"uri": uri, "target": "perimeter"}) is None

    # "Show the best attempt" opens it next to the code (or says where it is)
    shown = await editor.command(fixes[1].command.command, *fixes[1].command.arguments)
    path = Path(shown["path"])
    assert path == editor.root / ".specloop" / "results" / "failing.area.py"
    assert "return w + h" in path.read_text() and "failed 0/1 tests" in path.read_text()
    if editor.persona == "neovim@v0.7":                 # no window/showDocument: a message with the path
        assert editor.shown(f"specloop: the result for area is in {path}")
    else:
        assert editor.shown_documents[-1].uri == path.as_uri()
    assert editor.docs[uri].text == GEOMETRY

    # "Show the diff of the best attempt": a .diff file opened next to the code (or logged)
    await check_diff(editor, fixes[2], uri, "failing", "area", WRONG_BODY)

    # "Apply the best attempt anyway": now the failing test is about the code in the file
    answer = await editor.command(fixes[0].command.command, *fixes[0].command.arguments)
    assert answer["applied"] is True
    assert editor.docs[uri].text == with_area_body(GEOMETRY, WRONG_BODY)
    await editor.until("no pending result", lambda: editor.statuses[-1]["pending"] == [])
    (failed,) = await editor.until("the code's test.failed", lambda: [
        d for d in diags(editor, uri, "test.failed") if "not applied" not in d.message])
    fixes = await editor.actions(uri, failed.range, diagnostics=[failed], only=["quickfix"])
    assert [a.title.split(":")[0] for a in fixes] == ["Fix", "Dismiss"]
    assert fixes[0].title.startswith("Fix: test ") and len(fixes[0].title) <= 60
    # undo back to the stub: the diagnostics about the code go
    editor.replace(uri, WRONG_BODY, "")
    await editor.until("diagnostics cleared", lambda: not editor.diagnostics.get(uri))


async def check_diff(editor, action, uri: str, stem: str, target: str, body: str) -> str:
    """Run the diff quick fix ``action``; check its file (header, a diff ``git apply`` takes from the
    workspace folder, the stub's header and docstring as context) and how it was shown."""
    assert action.command.command == "specloop.showDiff"
    assert list(action.command.arguments) == [{"uri": uri, "target": target}]
    shown, logged = len(editor.messages), len(editor.log_messages)
    answer = await editor.command(action.command.command, *action.command.arguments)
    path = Path(answer["path"])
    assert path == editor.root / ".specloop" / "results" / f"{stem}.{target}.diff"
    text = path.read_text(encoding="utf-8")
    assert text == answer["diff"]
    head = [line for line in text.splitlines() if line.startswith("# ")]
    assert head[0] == f"# specloop: the best attempt for {target} in {stem}.py, not applied"
    assert f"--- a/{stem}.py\n+++ b/{stem}.py\n" in text
    assert any(line.startswith("# failing: ") and "area(2, 3)" in line for line in head), head
    added = [line[1:] for line in text.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert added == body.splitlines()
    # the whole stub is context: its def line and docstring are in the hunk
    assert f" def {target}(w: float, h: float) -> float:" in text.splitlines()
    assert '     """Area of a w×h rectangle.' in text.splitlines()
    if shutil.which("git"):         # the file as saved is the document now: git apply takes the diff
        check = subprocess.run(["git", "apply", "--check", str(path)], cwd=editor.root,
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
    if editor.persona == "neovim@v0.7":                 # no window/showDocument: logged, and a message
        assert any(text in m.message for m in editor.log_messages[logged:])
        assert editor.shown(f"specloop: the diff of the result for {target} is in {path}", shown)
    else:
        assert editor.shown_documents[-1].uri == path.as_uri()
        assert editor.messages[shown:] == []
    return text


async def test_try_again_after_a_failing_result(editor, scripted_model):
    good = threading.Event()
    model_that_fails_until(scripted_model, good)
    uri, _, failed = await offered(editor, scripted_model, "again.py")
    fixes = await editor.actions(uri, failed.range, diagnostics=[failed], only=["quickfix"])
    good.set()
    mark = editor.mark()
    assert fixes[3].title == "Try again"
    await editor.command(fixes[3].command.command, *fixes[3].command.arguments)
    await editor.until("the body", lambda: editor.docs[uri].text == with_area_body(GEOMETRY), 120)
    if editor.progress_reports:
        assert plain((await editor.job_end("specloop: area", mark))[-1].message) == "passed 1/1 tests"
    await editor.until("the offered diagnostic gone", lambda: not diags(editor, uri, "test.failed"))
    await editor.until("nothing pending", lambda: editor.statuses[-1]["pending"] == [])


async def test_edit_of_the_target_during_the_job(editor, scripted_model):
    edited = threading.Event()          # the model answers once the user's edit is sent
    scripted_model.add("generate", Response(text=fenced(AREA_CODE), release=edited))
    await editor.configure(api_base=scripted_model.url)
    uri = editor.open("target.py", GEOMETRY)
    mark, asked, shown, logged = editor.mark(), len(editor.message_requests), len(editor.messages), \
        len(editor.log_messages)
    await editor.command("specloop.generate", {"uri": uri, "target": "area"})
    await editor.until("the model request", lambda: scripted_model.requests_for("generate", "area"), 120)
    editor.replace(uri, "Area of a w×h rectangle.", "Area of a w×h rectangle, in m².")
    edited.set()
    user_text = GEOMETRY.replace("Area of a w×h rectangle.", "Area of a w×h rectangle, in m².")
    end = (await editor.job_end("specloop: area", mark))[-1]
    assert plain(end.message) == "passed 1/1 tests — not applied: the spec of area changed while specloop worked"
    # a client with progress and code actions is not asked (Neovim would stop on an inputlist):
    # the log says it and the spec.stale diagnostic carries the choices
    told = await editor.until("the warning in the log", lambda: [
        m for m in editor.log_messages[logged:] if "area was not applied" in m.message])
    assert told[0].type == types.MessageType.Warning and "spec.stale" in told[0].message
    assert editor.docs[uri].text == user_text           # the user's text was not overwritten
    (stale,) = await editor.until("spec.stale", lambda: diags(editor, uri, "spec.stale"))
    await editor.command("specloop.status")
    assert editor.message_requests[asked:] == [] and editor.shown("specloop: area", shown) == []
    assert editor.text_at(uri, stale.range) == "area"
    preview = await editor.command("specloop.previewResult", {"uri": uri, "target": "area"})
    assert preview["status"] == "passed" and "not applied: the spec of area changed" in preview["summary"]
    assert preview["original"] == user_text and preview["proposed"] == with_area_body(user_text)
    # "Show result" shows it without touching the file
    shown = await editor.command("specloop.showResult", {"uri": uri, "target": "area"})
    assert "return w * h" in Path(shown["path"]).read_text()
    if editor.persona == "neovim@v0.7":                 # no window/showDocument: logged
        assert any("return w * h" in m.message for m in editor.log_messages)
    else:
        assert editor.shown_documents[-1].uri == Path(shown["path"]).as_uri()
    # the quick fix on the stale diagnostic applies it anyway
    fixes = await editor.actions(uri, stale.range, diagnostics=[stale], only=["quickfix"])
    assert [a.title for a in fixes] == STALE_FIXES
    assert (await editor.command(fixes[0].command.command, *fixes[0].command.arguments))["applied"] is True
    assert editor.docs[uri].text == with_area_body(user_text)
    await editor.until("stale diagnostic gone", lambda: not diags(editor, uri, "spec.stale"))


async def test_a_result_that_cannot_be_placed_now_stays_pending(editor, scripted_model):
    """At the end of the job another function does not parse: the result is kept with
    ``spec.stale`` and its quick fixes, and applied once the file parses again."""
    edited = threading.Event()          # the model answers once the user's edit is sent
    scripted_model.add("generate", Response(text=fenced(AREA_CODE), release=edited))
    await editor.configure(api_base=scripted_model.url)
    uri = editor.open("unparsable.py", GEOMETRY)
    mark = editor.mark()
    await editor.command("specloop.generate", {"uri": uri, "target": "area"})
    await editor.until("the model request", lambda: scripted_model.requests_for("generate", "area"), 120)
    editor.replace(uri, "def existing(x):", "def existing(x:")
    edited.set()
    end = (await editor.job_end("specloop: area", mark))[-1]
    assert plain(end.message).startswith("passed 1/1 tests — not applied: the file does not parse right now")
    (stale,) = await editor.until("spec.stale", lambda: diags(editor, uri, "spec.stale"))
    assert editor.text_at(uri, stale.range) == "area" and "does not parse" in stale.message
    pending = await editor.until("pending", lambda: editor.statuses[-1]["pending"])
    assert [(p["target"], p["status"]) for p in pending] == [("area", "passed")]
    assert (await editor.command("specloop.previewResult", {"uri": uri, "target": "area"}))["proposed"] is None
    # its diff, while it cannot be placed: the function alone
    diff = await editor.command("specloop.showDiff", {"uri": uri, "target": "area"})
    assert "it cannot be placed in unparsable.py now" in diff["diff"] and "--- /dev/null" in diff["diff"]
    assert "+    return w * h" in diff["diff"].splitlines()
    editor.replace(uri, "def existing(x:", "def existing(x):")
    fixes = await editor.actions(uri, stale.range, diagnostics=[stale], only=["quickfix"])
    assert [a.title for a in fixes] == STALE_FIXES
    assert (await editor.command(fixes[0].command.command, *fixes[0].command.arguments))["applied"] is True
    assert editor.docs[uri].text == with_area_body(GEOMETRY)
    await editor.until("stale diagnostic gone", lambda: not diags(editor, uri, "spec.stale"))
    await editor.until("nothing pending", lambda: editor.statuses[-1]["pending"] == [])


async def test_a_client_that_reviews_pending_results_gets_no_second_pop_up(tmp_path, scripted_model):
    """The VS Code extension shows its own notification with a diff for a result not applied
    and announces it (``experimental.specloop.reviewsPending``): the server then sends no
    warning of its own; the progress end still says what happened."""
    from lsp_editor import start_editor
    client = await start_editor("visual-studio-code", tmp_path, experimental={"specloop": {"reviewsPending": True}})
    try:
        model_that_fails_until(scripted_model, threading.Event())
        await client.configure(api_base=scripted_model.url, max_iterations=1)
        uri = client.open("reviewed.py", GEOMETRY)
        mark, shown = client.mark(), len(client.messages)
        await client.command("specloop.generate", {"uri": uri, "target": "area"})
        end = (await client.job_end("specloop: area", mark))[-1].message
        assert plain(end) == "failed 0/1 tests — not applied; see the quick fixes"
        await client.until("pending in the status", lambda: client.statuses and client.statuses[-1]["pending"])
        assert not [m for m in client.messages[shown:] if "area" in m.message]
        assert client.docs[uri].text == GEOMETRY
    finally:
        await client.shutdown_session()
        await client.stop()
