"""The language server end to end: a real server process, pytest-lsp clients with
the capabilities of VS Code, Neovim 0.11 and Neovim 0.7, and a scripted model
over HTTP on 127.0.0.1."""

from __future__ import annotations

import re
import socket
import threading
from pathlib import Path

import pytest
from lsprotocol import types

from replies import critic, fenced
from lsp_editor import BASE_SETTINGS, plain, start_editor
from sources import AREA_BODY, AREA_CODE, GEOMETRY, PERIMETER_CODE, with_area_body
from scripted_model import Response, hang

pytestmark = [pytest.mark.asyncio(loop_scope="module"),
              pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning")]

async def test_initialize_does_not_load_the_model_layer(tmp_path):
    # a server of its own: the module's shared server has loaded litellm once any test ran a job
    editor = await start_editor("visual-studio-code", tmp_path)
    try:
        status = await editor.command("specloop.status")
        assert status["model_layer"] == {"state": "not-loaded", "error": None}
        assert status["model_layer_loaded"] is False
    finally:
        await editor.shutdown_session()
        await editor.stop()


async def test_actions_only_on_stubs(editor):
    uri = editor.open("actions.py", GEOMETRY)
    on_area = await editor.actions(uri, editor.range_of(uri, "def area"))
    assert [a.title for a in on_area] == ["Implement area from spec", "Implement all 2 specs in this file"]
    assert on_area[0].kind == "refactor.rewrite.specloop"
    assert on_area[0].command.command == "specloop.generate"
    assert list(on_area[0].command.arguments) == [{"uri": uri, "target": "area"}]
    in_doc = await editor.actions(uri, editor.range_of(uri, ">>> perimeter(2, 3)"))
    assert [a.title for a in in_doc][0] == "Implement perimeter from spec"
    assert await editor.actions(uri, editor.range_of(uri, "return x + 1")) == []
    assert await editor.actions(uri, editor.range_of(uri, "Geometry helpers")) == []
    assert await editor.actions(uri, editor.range_of(uri, "def area"), only=["quickfix"]) == []
    lenses = await editor.text_document_code_lens_async(types.CodeLensParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    assert [(lens.range.start.line, lens.command.command) for lens in lenses] == [
        (3, "specloop.generate"), (11, "specloop.generate")]


async def test_file_that_does_not_parse(editor):
    uri = editor.open("broken.py", GEOMETRY.replace("def existing(x):", "def existing(x:"))
    assert await editor.actions(uri, editor.range_of(uri, "def area")) == []
    lenses = await editor.text_document_code_lens_async(types.CodeLensParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    assert not lenses
    answer = await editor.command("specloop.generate", {"uri": uri, "target": "area"})
    assert answer["started"] is False
    assert any("no spec called area" in m.message for m in editor.messages)


async def test_job_progress_and_applied_edit(editor, scripted_model):
    scripted_model.add("generate", fenced(AREA_CODE))
    await editor.configure(api_base=scripted_model.url)
    uri = editor.open("job.py", GEOMETRY)
    before, mark, statuses = len(editor.apply_requests), editor.mark(), len(editor.statuses)
    shown, logged = len(editor.messages), len(editor.log_messages)
    answer = await editor.command("specloop.generate", {"uri": uri, "target": "area"})
    assert answer["started"] is True
    progress = await editor.job_end("specloop: area", mark)
    begin, *reports, end = progress
    assert begin.cancellable is True
    messages = [r.message for r in reports]
    assert "generating" in messages and "testing: 1/1 passed" in messages
    percents = [r.percentage for r in reports if r.percentage is not None]
    assert percents == sorted(percents)
    assert re.fullmatch(r"passed 1/1 tests, judged by value, \d+ tokens", end.message)
    # every persona here takes work-done progress: no window/showMessage for the start or the end
    # (Neovim 0.11 stops on "Press ENTER" for each one); the progress and the log lines say them
    await editor.command("specloop.status")          # answered after everything the job sent
    assert editor.shown("specloop: area: ", shown) == []
    logged = [m.message for m in editor.log_messages[logged:]]
    assert "specloop: area: started" in logged and f"specloop: area: {end.message}" in logged
    expected = GEOMETRY.replace('''    6
    """
''', '''    6
    """
''' + AREA_BODY, 1)
    assert editor.docs[uri].text == expected
    request = editor.apply_requests[before]
    if editor.persona == "visual-studio-code":
        (doc_edit,) = request.edit.document_changes
        assert doc_edit.text_document.version == 1
    else:
        assert request.edit.document_changes is None and list(request.edit.changes) == [uri]
    assert any("trace:" in m.message for m in editor.log_messages)
    # the session's status: a running job, then none, with the tokens it spent
    seen = editor.statuses[statuses:]
    assert any(s["running"] == 1 for s in seen)
    last = await editor.until("final status", lambda: editor.statuses[-1]["running"] == 0 and editor.statuses[-1])
    assert last["prompt_tokens"] > 0 and last["completion_tokens"] > 0

def descendants(pid: int) -> list[int]:
    """Processes below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


async def test_kept_tests_and_trace(editor, scripted_model):
    scripted_model.add("generate", fenced(AREA_CODE))
    scripted_model.add("tests", fenced('''
        from kept import area


        def test_area_zero():
            assert area(0, 5) == 0
    '''))
    await editor.configure(api_base=scripted_model.url, model_tests=True, keep_tests=True)
    uri = editor.open("kept.py", GEOMETRY)
    mark = editor.mark()
    await editor.command("specloop.generate", {"uri": uri, "target": "area"})
    end = (await editor.job_end("specloop: area", mark))[-1]
    assert plain(end.message) == "passed 2/2 tests"
    kept = editor.root / "tests" / "test_kept_specloop.py"
    await editor.until("kept tests file", lambda: kept.exists() and "test_area_zero" in kept.read_text())
    request = editor.apply_requests[-1]
    if editor.persona == "visual-studio-code":   # resource operations: the file is part of the edit
        kinds = [type(c).__name__ for c in request.edit.document_changes]
        assert kinds == ["TextDocumentEdit", "CreateFile", "TextDocumentEdit"]
    else:       # no documentChanges: the server wrote it and said so in the log (a message would stop Neovim)
        await editor.until("the log line", lambda: [m for m in editor.log_messages if "kept model tests" in m.message])
        assert not [m for m in editor.messages if "kept model tests" in m.message]
    assert editor.docs[uri].text == with_area_body(GEOMETRY)


async def test_cancel_while_the_model_hangs(editor, scripted_model):
    scripted_model.add("generate", hang())
    await editor.configure(api_base=scripted_model.url)
    uri = editor.open("hang.py", GEOMETRY)
    before, mark = len(editor.apply_requests), editor.mark()
    await editor.command("specloop.generate", {"uri": uri, "target": "area"})
    await editor.until("the model request", lambda: scripted_model.requests_for("generate", "area"), 120)
    # while it runs, the code lens shows the phase and offers to cancel
    lenses = await editor.text_document_code_lens_async(types.CodeLensParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    assert [(lens.range.start.line, lens.command.title, lens.command.command) for lens in lenses] == [
        (3, "specloop: area: generating", "specloop.status"), (3, "Cancel", "specloop.cancel"),
        (11, "Implement perimeter from spec", "specloop.generate")]
    if editor.persona == "visual-studio-code":     # the only persona with codeLens refreshSupport
        await editor.until("a code lens refresh", lambda: editor.lens_refreshes > 0)
    (token,) = [t for t, v in editor.progress_reports.items() if t not in mark]
    editor.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    end = (await editor.job_end("specloop: area", mark))[-1]   # the model never answers: only the cancel ends it
    assert end.message == "cancelled"
    assert len(editor.apply_requests) == before and editor.docs[uri].text == GEOMETRY
    assert (await editor.command("specloop.status"))["jobs"] == []
    # the lens tells the truth again: VS Code is asked to re-fetch it once the job ended
    stubs = [(3, "Implement area from spec"), (11, "Implement perimeter from spec")]
    if editor.persona == "visual-studio-code":
        await editor.until("lenses re-fetched after the end", lambda: editor.refreshed_lenses.get(uri) == stubs)
    assert await editor.lenses(uri) == stubs


async def test_cancel_while_testing_kills_the_sandbox(editor, scripted_model):
    token = f"120.{editor.persona.count('v')}{id(editor) % 10000}"  # sleep's argument, unique to this run
    scripted_model.add("generate", fenced(AREA_CODE.replace(
        "    return w * h\n", f"    import subprocess\n    subprocess.run(['sleep', '{token}'])\n    return w * h\n")))
    await editor.configure(api_base=scripted_model.url)
    uri = editor.open("slow.py", GEOMETRY)
    before, mark = len(editor.apply_requests), editor.mark()
    await editor.command("specloop.generate", {"uri": uri, "target": "area"})
    server = editor._server.pid

    def runs() -> list[int]:  # the run's processes (the warm worker that forked it stays)
        return [p for p in descendants(server) if token in _cmdline(p)]
    await editor.until("a sandbox process", runs, 120)
    answer = await editor.command("specloop.cancel", {"uri": uri, "target": "area"})
    assert answer == {"cancelled": ["area"]}
    end = (await editor.job_end("specloop: area", mark))[-1]   # the test sleeps 120 s: only the cancel ends it
    assert end.message == "cancelled"
    await editor.until("the sandbox gone", lambda: not runs())
    assert len(editor.apply_requests) == before and editor.docs[uri].text == GEOMETRY


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


async def test_edit_elsewhere_during_the_job(editor, scripted_model):
    edited = threading.Event()
    # the model answers only once the user's edits have reached the server
    scripted_model.respond(lambda *a: fenced(AREA_CODE) if edited.wait(60) else Response(
        status=500, body="the test never made its edits"), step="generate", target="area")
    await editor.configure(api_base=scripted_model.url, confirm_edits=True)
    uri = editor.open("elsewhere.py", GEOMETRY)
    mark = editor.mark()
    await editor.command("specloop.generate", {"uri": uri, "target": "area"})
    await editor.until("the model request", lambda: scripted_model.requests_for("generate", "area"), 120)
    editor.replace(uri, '"""Geometry helpers."""\n', '"""Geometry helpers."""\n\nimport math  # ünïcode 🙂\n')
    editor.replace(uri, "    return x + 1\n", "    return x + 2\n")
    await editor.command("specloop.status")    # answered after the didChange notifications sent before it
    edited.set()
    end = (await editor.job_end("specloop: area", mark))[-1]
    assert plain(end.message) == "passed 1/1 tests"
    user_text = GEOMETRY.replace('"""Geometry helpers."""\n', '"""Geometry helpers."""\n\nimport math  # ünïcode 🙂\n')
    assert editor.docs[uri].text == with_area_body(user_text.replace("x + 1", "x + 2"))
    edit = editor.apply_requests[-1].edit
    if editor.persona == "visual-studio-code":   # change annotations: the editor asks before applying
        assert edit.change_annotations["specloop"].needs_confirmation is True
        assert all(isinstance(e, types.AnnotatedTextEdit) for e in edit.document_changes[0].edits)
        assert edit.document_changes[0].text_document.version == 3
    else:
        assert edit.change_annotations is None


async def test_dead_model_then_a_working_one(editor, scripted_model):
    with socket.socket() as sock:      # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    await editor.configure(api_base=dead)
    uri = editor.open("dead.py", GEOMETRY)
    mark, shown = editor.mark(), len(editor.messages)
    await editor.command("specloop.generate", {"uri": uri, "target": "area"})
    end = (await editor.job_end("specloop: area", mark))[-1]
    assert end.message.startswith("error:") and "trace:" in end.message
    errors = await editor.until("the error message", lambda: [
        m for m in editor.messages[shown:] if m.type == types.MessageType.Error])
    assert "specloop: area: error: cannot reach the model" in errors[0].message
    assert editor.docs[uri].text == GEOMETRY
    if editor.persona == "visual-studio-code":    # the lens no longer shows the job
        await editor.until("lenses re-fetched after the error", lambda: editor.refreshed_lenses.get(uri) == [
            (3, "Implement area from spec"), (11, "Implement perimeter from spec")])
    scripted_model.add("generate", fenced(AREA_CODE))
    await editor.configure(api_base=scripted_model.url)
    mark = editor.mark()
    await editor.command("specloop.generate", {"uri": uri, "target": "area"})
    assert plain((await editor.job_end("specloop: area", mark))[-1].message) == "passed 1/1 tests"
    assert editor.docs[uri].text == with_area_body(GEOMETRY)


async def test_two_jobs_at_once(editor, scripted_model):
    both = threading.Event()

    def area_waits_for_perimeter(step, target, body):
        # answers only once the perimeter job has asked too: the jobs must run side by side
        return fenced(AREA_CODE) if both.wait(60) else Response(status=500, body="jobs did not overlap")

    scripted_model.respond(area_waits_for_perimeter, step="generate", target="area")
    scripted_model.respond(lambda *a: both.set() or fenced(PERIMETER_CODE), step="generate", target="perimeter")
    await editor.configure(api_base=scripted_model.url, parallel_jobs=2)
    uri = editor.open("both.py", GEOMETRY)
    mark = editor.mark()
    answer = await editor.command("specloop.generateAll", {"uri": uri})
    assert answer == {"started": ["area", "perimeter"]}
    assert plain((await editor.job_end("specloop: area", mark))[-1].message) == "passed 1/1 tests"
    assert plain((await editor.job_end("specloop: perimeter", mark))[-1].message) == "passed 1/1 tests"
    await editor.until("both bodies", lambda: "return 2 * (w + h)" in editor.docs[uri].text)
    expected = with_area_body(GEOMETRY).replace('''    10
    """
''', '''    10
    """
    return 2 * (w + h)
''')
    assert editor.docs[uri].text == expected


async def test_jobs_beyond_the_limit_wait_in_a_queue(editor, scripted_model):
    release_area = threading.Event()
    perimeter_saw_area_released: list[bool] = []
    scripted_model.respond(lambda *a: fenced(AREA_CODE) if release_area.wait(60) else Response(
        status=500, body="area was never released"), step="generate", target="area")
    scripted_model.respond(lambda *a: perimeter_saw_area_released.append(release_area.is_set()) or fenced(
        PERIMETER_CODE), step="generate", target="perimeter")
    await editor.configure(api_base=scripted_model.url, parallel_jobs=1)
    uri = editor.open("queue.py", GEOMETRY)
    mark = editor.mark()
    await editor.command("specloop.generate", {"uri": uri, "target": "area"})
    await editor.until("area running", lambda: scripted_model.requests_for("generate", "area"), 120)
    await editor.command("specloop.generate", {"uri": uri, "target": "perimeter"})
    # area's model call is held: the perimeter job waits in the queue
    await editor.until("perimeter queued", lambda: [p for p in editor.progress_since("specloop: perimeter", mark)
                                                    if p and p[0].message == "queued"])
    status = await editor.command("specloop.status")
    assert (status["running"], status["queued"]) == (1, 1)
    assert scripted_model.requests_for("generate", "perimeter") == []
    release_area.set()
    area = await editor.job_end("specloop: area", mark)
    perimeter = await editor.job_end("specloop: perimeter", mark)
    assert perimeter[0].message == "queued"
    assert perimeter_saw_area_released == [True]     # perimeter asked the model only after area was answered
    assert plain(area[-1].message) == plain(perimeter[-1].message) == "passed 1/1 tests"


async def test_starting_again_replaces_the_running_job(editor, scripted_model):
    scripted_model.add("generate", hang(), fenced(AREA_CODE))
    await editor.configure(api_base=scripted_model.url)
    uri = editor.open("again.py", GEOMETRY)
    mark = editor.mark()
    await editor.command("specloop.generate", {"uri": uri, "target": "area"})
    await editor.until("the model request", lambda: scripted_model.requests_for("generate", "area"), 120)
    await editor.command("specloop.generate", {"uri": uri, "target": "area"})
    first, second = await editor.until("two ended jobs", lambda: (lambda seqs: seqs if len(seqs) == 2 and all(
        isinstance(s[-1], types.WorkDoneProgressEnd) for s in seqs) else None)(
        editor.progress_since("specloop: area", mark)))
    assert first[-1].message == "cancelled" and plain(second[-1].message) == "passed 1/1 tests"
    assert editor.docs[uri].text == with_area_body(GEOMETRY)


async def test_a_refused_edit_is_kept_for_later(editor, scripted_model):
    """A passing result the editor refused is kept with a ``result.not_applied`` diagnostic on
    the function, whose quick fixes apply it, show its diff or discard it; the log names
    them (no command id, no ``window/showMessage``: every persona here shows progress)."""
    scripted_model.add("generate", fenced(AREA_CODE))
    await editor.configure(api_base=scripted_model.url)
    uri = editor.open("refused.py", GEOMETRY)
    mark, shown, logged = editor.mark(), len(editor.messages), len(editor.log_messages)
    editor.apply_answer = False
    try:
        await editor.command("specloop.generate", {"uri": uri, "target": "area"})
        end = (await editor.job_end("specloop: area", mark))[-1]
    finally:
        editor.apply_answer = True
    assert plain(end.message) == "passed 1/1 tests — not applied by the editor"
    (kept,) = await editor.until("result.not_applied", lambda: [
        d for d in editor.diagnostics.get(uri, []) if d.code == "result.not_applied"])
    assert kept.source == "specloop" and editor.text_at(uri, kept.range) == "area"
    assert "not applied: the editor did not apply the edit (the user said no)" in kept.message
    told = await editor.until("the log line", lambda: [m for m in editor.log_messages[logged:]
                                                       if "was not applied" in m.message])
    assert told[0].type == types.MessageType.Warning and "\"Apply specloop's result\"" in told[0].message
    assert "specloop.applyResult" not in told[0].message
    assert editor.shown("specloop", shown) == []
    assert editor.docs[uri].text == GEOMETRY
    fixes = await editor.actions(uri, kept.range, diagnostics=[kept], only=["quickfix"])
    assert [a.title for a in fixes] == ["Apply specloop's result", "Show the diff of specloop's result",
                                        "Show specloop's result", "Discard specloop's result"]
    # the offer stays: another change elsewhere, a status request, and it is still there
    editor.replace(uri, "def existing(x):", "def existing(x, y=0):")
    await editor.command("specloop.status")
    assert [p["target"] for p in editor.statuses[-1]["pending"]] == ["area"]
    assert [d.code for d in editor.diagnostics[uri]] == ["result.not_applied"]
    # "Discard": nothing pending, no diagnostic, the code unchanged
    assert (await editor.command(fixes[3].command.command, *fixes[3].command.arguments)) == {"discarded": True}
    await editor.until("nothing pending", lambda: editor.statuses[-1]["pending"] == [])
    await editor.until("no diagnostic", lambda: not editor.diagnostics.get(uri))
    assert "return w * h" not in editor.docs[uri].text

    # once more, refused again; this time "Apply specloop's result" places it
    scripted_model.add("generate", fenced(AREA_CODE))
    mark = editor.mark()
    editor.apply_answer = False
    try:
        await editor.command("specloop.generate", {"uri": uri, "target": "area"})
        await editor.job_end("specloop: area", mark)
    finally:
        editor.apply_answer = True
    (kept,) = await editor.until("result.not_applied", lambda: [
        d for d in editor.diagnostics.get(uri, []) if d.code == "result.not_applied"])
    fixes = await editor.actions(uri, kept.range, diagnostics=[kept], only=["quickfix"])
    assert (await editor.command(fixes[0].command.command, *fixes[0].command.arguments))["applied"] is True
    assert "    return w * h\n" in editor.docs[uri].text
    await editor.until("nothing pending", lambda: editor.statuses[-1]["pending"] == [])
    await editor.until("no diagnostic", lambda: not editor.diagnostics.get(uri))


async def test_bad_settings_are_named_once_and_defaults_used(editor, scripted_model):
    await editor.configure(api_base=scripted_model.url, parallel_jobs=3)      # not the default (2)
    assert (await editor.command("specloop.status"))["settings"]["parallel_jobs"] == 3
    shown = len(editor.messages)
    bad = {**BASE_SETTINGS, "api_base": scripted_model.url, "parallel_jobs": 0, "colour": "blue"}
    if editor.supports_configuration:
        editor.set_configuration(bad, section="specloop")
        editor.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    else:
        editor.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"specloop": bad}))
    told = await editor.until("the settings message", lambda: [m for m in editor.messages[shown:]
                                                               if "parallel_jobs" in m.message])
    assert told[0].type == types.MessageType.Warning
    assert "bad value for setting 'parallel_jobs' in editor settings" in told[0].message
    assert "unknown setting 'colour'" in told[0].message
    status = await editor.command("specloop.status")
    assert status["settings"]["parallel_jobs"] == 2 and status["settings"]["api_base"] == scripted_model.url
    await editor.command("specloop.status")
    assert len([m for m in editor.messages[shown:] if "parallel_jobs" in m.message]) == 1
    await editor.configure(api_base=scripted_model.url)
