"""Clients beyond the three personas: a plain LSP client without work-done
progress, ``documentChanges`` or ``workspace/configuration``; a client like
Emacs 28 with eglot 1.9 (no work-done progress, a late ``didChange``); and a
client that talks to ``specloop serve --tcp``.  A client without work-done
progress keeps its messages: the start and the end of a job, a failing result's
end as a warning, a question for a result that cannot be placed (clients with
progress get none of these: ``test_jobs``, ``test_results``)."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import threading
from pathlib import Path

import pytest
from lsprotocol import types

from lsp_editor import SERVER_CMD, make_editor, server_env, start_editor
from replies import critic, fenced
from scripted_model import Response, hang
from sources import AREA_BODY, AREA_CODE, GEOMETRY, with_area_body

pytestmark = pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning")


@pytest.fixture
async def plain(tmp_path):
    client = await start_editor("minimal", tmp_path)
    yield client
    await client.shutdown_session()
    await client.stop()


async def test_client_without_progress_gets_log_lines_and_a_message(plain, scripted_model):
    scripted_model.add("generate", fenced(AREA_CODE))
    await plain.configure(api_base=scripted_model.url)
    uri = plain.open("plain.py", GEOMETRY)
    actions = await plain.actions(uri, plain.range_of(uri, "def area"))
    assert [a.title for a in actions][0] == "Implement area from spec"
    await plain.command("specloop.generate", {"uri": uri, "target": "area"})
    done = await plain.until("the result message", lambda: plain.shown("specloop: area: passed"), 120)
    assert re.fullmatch(r"specloop: area: passed 1/1 tests, judged by value, \d+ tokens", done[0])
    assert plain.shown("specloop: area: ") == ["specloop: area: started", done[0]]
    logged = [m.message for m in plain.log_messages]
    assert "specloop: area: generating" in logged and "specloop: area: testing: 1/1 passed" in logged
    assert not plain.progress_reports
    assert plain.docs[uri].text == with_area_body(GEOMETRY)
    recorded = json.loads((plain.root / ".specloop" / "implemented.json").read_text())["functions"]
    assert [(f["path"], f["qualname"]) for f in recorded] == [("plain.py", "area")]  # for `specloop check`
    assert list(plain.apply_requests[-1].edit.changes) == [uri]

    # specloop.cancel without arguments cancels every job
    scripted_model.add("generate", hang(), target="perimeter")
    await plain.command("specloop.generate", {"uri": uri, "target": "perimeter"})
    await plain.until("the model request", lambda: scripted_model.requests_for("generate", "perimeter"), 60)
    assert await plain.command("specloop.cancel") == {"cancelled": ["perimeter"]}
    await plain.until("cancelled", lambda: "specloop: perimeter: cancelled" in [m.message for m in plain.messages], 5)
    assert "return 2 * (w + h)" not in plain.docs[uri].text


async def test_a_refused_edit_is_told_to_a_client_without_progress_by_its_quick_fix(plain, scripted_model):
    """No progress to end, no log the user watches: a message names the quick fix (a title, not a
    command id) and the ``result.not_applied`` diagnostic carries it."""
    scripted_model.add("generate", fenced(AREA_CODE))
    await plain.configure(api_base=scripted_model.url)
    uri = plain.open("refused_plain.py", GEOMETRY)
    plain.apply_answer = False
    try:
        await plain.command("specloop.generate", {"uri": uri, "target": "area"})
        told = await plain.until("the message", lambda: plain.shown("specloop: the result for area"), 120)
    finally:
        plain.apply_answer = True
    assert "was not applied (the editor did not apply the edit (the user said no))" in told[0]
    assert "the quick fix \"Apply specloop's result\" on area" in told[0] and "specloop.applyResult" not in told[0]
    (kept,) = await plain.until("result.not_applied", lambda: [
        d for d in plain.diagnostics.get(uri, []) if d.code == "result.not_applied"])
    fixes = await plain.actions(uri, kept.range, diagnostics=[kept], only=["quickfix"])
    assert fixes[0].title == "Apply specloop's result"
    assert (await plain.command(fixes[0].command.command, *fixes[0].command.arguments))["applied"] is True
    assert plain.docs[uri].text == with_area_body(GEOMETRY)


async def test_eglot_sees_start_and_end_and_keeps_the_finding(tmp_path, scripted_model):
    """eglot 1.9 announces no work-done progress and sends the didChange of an applied edit
    late: a message at the start and one line at the end, and the finding published on the
    text the edit produced stays through the late didChange."""
    client = await start_editor("eglot", tmp_path)
    try:
        scripted_model.add("generate", fenced(AREA_CODE))
        scripted_model.add("critic", critic("request_changes", {
            "category": "completeness", "severity": "warning", "line": 7, "message": "zero-sized sides"}))
        await client.configure(api_base=scripted_model.url, critic=True, max_iterations=1)
        uri = client.open("eglot.py", GEOMETRY)
        client.hold_changes = True
        await client.command("specloop.generate", {"uri": uri, "target": "area"})
        (end,) = await client.until("the end line", lambda: client.shown("specloop: area: passed"), 120)
        assert re.fullmatch(r"specloop: area: passed 1/1 tests, judged by value, 1 critic finding, \d+ tokens", end)
        assert client.shown("specloop: area: ") == ["specloop: area: started", end]
        assert not client.progress_reports
        assert client.docs[uri].text == with_area_body(GEOMETRY) and client.held
        (finding,) = await client.until("the finding", lambda: list(client.diagnostics.get(uri, [])))
        assert client.text_at(uri, finding.range) == "if w < 0 or h < 0:  # 📐 sides"
        await client.command("specloop.status")
        client.release_changes()
        await client.command("specloop.status")      # answered after the didChange was handled
        (finding,) = client.diagnostics[uri]
        assert client.text_at(uri, finding.range) == "if w < 0 or h < 0:  # 📐 sides"
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_eglot_is_told_a_failing_result_and_asked_about_a_stale_one(tmp_path, scripted_model):
    """Without work-done progress the messages stay: a failing result's end is a warning
    message, a result that cannot be placed is a question; the diff of the best attempt (no
    ``window/showDocument``) goes to the log and a message names its file."""
    client = await start_editor("eglot", tmp_path)
    try:
        good = threading.Event()
        wrong = AREA_CODE.replace(AREA_BODY, "    return w + h\n")
        answer = lambda *a: Response(text=fenced(AREA_CODE), delay=1.0) if good.is_set() else fenced(wrong)  # noqa: E731
        scripted_model.respond(answer, step="generate", target="area")
        scripted_model.respond(answer, step="fix", target="area")
        await client.configure(api_base=scripted_model.url, max_iterations=1)
        uri = client.open("offline.py", GEOMETRY)
        await client.command("specloop.generate", {"uri": uri, "target": "area"})
        (end,) = await client.until("the end line", lambda: client.shown("specloop: area: failed"), 120)
        assert end.endswith("— not applied; see the quick fixes")
        assert client.shown("specloop: area: ") == ["specloop: area: started", end]
        assert [m.type for m in client.messages if m.message == end] == [types.MessageType.Warning]
        assert not client.message_requests

        (failed,) = await client.until("test.failed", lambda: [d for d in client.diagnostics.get(uri, [])
                                                               if d.code == "test.failed"])
        fixes = await client.actions(uri, failed.range, diagnostics=[failed], only=["quickfix"])
        (diff,) = [a for a in fixes if a.title == "Show the diff of the best attempt"]
        logged, shown = len(client.log_messages), len(client.messages)
        answer = await client.command(diff.command.command, *diff.command.arguments)
        path = Path(answer["path"])
        assert path == tmp_path / ".specloop" / "results" / "offline.area.diff"
        assert "+    return w + h" in path.read_text(encoding="utf-8").splitlines()
        assert any(path.read_text(encoding="utf-8") in m.message for m in client.log_messages[logged:])
        assert client.shown(f"specloop: the diff of the result for area is in {path}", shown)

        # the spec changes while the next job works: the result is kept and the user is asked
        good.set()
        asked = len(client.message_requests)
        requests = len(scripted_model.requests_for("generate", "area"))
        await client.command("specloop.generate", {"uri": uri, "target": "area"})
        await client.until("the model request",
                           lambda: len(scripted_model.requests_for("generate", "area")) > requests, 120)
        client.replace(uri, "Area of a w×h rectangle.", "Area of a w×h rectangle, in m².")
        request = await client.until("the question", lambda: client.message_requests[asked:], 120)
        assert "area changed while specloop worked" in request[0].message
        assert [a.title for a in request[0].actions] == ["Apply anyway", "Show result"]
    finally:
        await client.shutdown_session()
        await client.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_serve_over_tcp(tmp_path):
    port = free_port()
    server = subprocess.Popen([*SERVER_CMD, "--tcp", f"127.0.0.1:{port}"], env=server_env(), cwd=tmp_path)
    client = make_editor()
    try:
        for _ in range(200):
            try:
                await client.start_tcp("127.0.0.1", port)
                break
            except OSError:
                await asyncio.sleep(0.05)
        else:
            pytest.fail("the server did not listen")
        client.root = tmp_path
        await client.initialize_session(types.InitializeParams(
            capabilities=types.ClientCapabilities(), root_uri=tmp_path.as_uri()))
        uri = client.open("tcp.py", GEOMETRY)
        actions = await client.actions(uri, client.range_of(uri, "def perimeter"))
        # no code action literal support: plain commands
        assert [(type(a).__name__, a.title) for a in actions] == [
            ("Command", "Implement perimeter from spec"), ("Command", "Implement all 2 specs in this file")]
        await client.shutdown_async(None)
        client.exit(None)
        assert await asyncio.to_thread(server.wait, 30) == 0     # exit ends the TCP server too
    finally:
        await client.stop()
        if server.poll() is None:
            server.kill()
            server.wait()


async def test_without_bubblewrap_nothing_runs_and_the_user_is_told(tmp_path, scripted_model):
    """No silent unsafe fallback: with bubblewrap missing, ``sandbox = "auto"`` runs no generated
    code; the job ends with a one-line message and a ``job.error`` diagnostic saying what to do."""
    client = await start_editor("neovim@v0.11", tmp_path, PATH="/nonexistent")
    try:
        scripted_model.add("generate", fenced(AREA_CODE))
        await client.configure(api_base=scripted_model.url, sandbox="auto")
        uri = client.open("nobwrap.py", GEOMETRY)
        await client.command("specloop.generate", {"uri": uri, "target": "area"})
        shown = await client.until("the error message", lambda: [m for m in client.messages
                                                               if m.message.startswith("specloop: area: error")], 60)
        assert "bubblewrap does not work here" in shown[0].message
        assert 'sandbox = "process"' in shown[0].message
        diags = await client.until("the diagnostic", lambda: [d for d in client.diagnostics.get(uri, [])
                                                              if d.code == "job.error"], 30)
        assert "apt-get install bubblewrap" in diags[0].message
        assert client.docs[uri].text == GEOMETRY       # nothing applied
        assert not scripted_model.requests_for("generate")  # and no model time spent on it
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_a_typo_in_a_specloop_variable_is_not_silently_ignored(tmp_path):
    client = await start_editor("neovim@v0.11", tmp_path, SPECLOOP_MODLE="openai/gpt-4o-mini")
    try:
        told = await client.until("the warning", lambda: [m for m in client.messages if "SPECLOOP_MODLE" in m.message])
        assert told[0].message == ("specloop: ignoring SPECLOOP_MODLE: not a specloop setting "
                                   "(did you mean 'model'?)")
        assert told[0].type == types.MessageType.Warning
    finally:
        await client.shutdown_session()
        await client.stop()
