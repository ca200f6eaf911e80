"""An editor for the language server tests: a pytest-lsp client that keeps its
own copy of each open document, applies the server's ``workspace/applyEdit``
to it (checking document versions as editors do) and sends ``didChange``,
answers ``window/showMessageRequest`` as told, and counts code lens refreshes.
Like eglot, it can hold back its ``didChange`` notifications (``hold_changes``)
until the test lets them go (``release_changes``): the buffer has the edit, the
server does not know yet.

The server is started as users start it (``SERVER_CMD``), once per client
persona for a test module; each test gets its own file in the workspace and
its own scripted model, and points the server at it through the editor's
settings (``configure``): pulled with ``workspace/configuration`` by clients
that support it, pushed with ``workspace/didChangeConfiguration`` otherwise.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import register_lsp_features
from pytest_lsp.protocol import LanguageClientProtocol

SERVER_CMD = [sys.executable, "-m", "specloop", "serve"]
CLIENTS = ["visual-studio-code", "neovim@v0.11", "neovim@v0.7"]
# clientInfo as each editor sends it ("eglot": Emacs 28 with Debian's eglot 1.9, which announces
# no work-done progress: the emacs persona's capabilities without it)
CLIENT_INFO = {"visual-studio-code": ("Visual Studio Code", "1.65.2"), "neovim@v0.11": ("Neovim", "0.11.0"),
               "neovim@v0.7": ("Neovim", "0.7.0"), "eglot": ("Eglot", "1.9"), "emacs": ("Emacs (eglot)", "29.1")}
FAKE_KEY = "sk-test-not-a-real-key"
BASE_SETTINGS: dict[str, Any] = {
    "model": "openai/scripted", "model_tests": False, "critic": False, "request_timeout": 10.0,
    "max_retries": 0, "test_timeout": 30.0, "keep_tests": False, "max_iterations": 3, "parallel_jobs": 2,
}


def server_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SPECLOOP_") and k not in ("OPENAI_BASE_URL", "OPENAI_API_BASE")}
    env.update(OPENAI_API_KEY=FAKE_KEY, LITELLM_LOCAL_MODEL_COST_MAP="True")
    return env


def plain(message: str) -> str:
    """A job's end line without its token count and how its tests were judged (asserted on their
    own where that is the point): ``passed 1/1 tests, judged by value, 248 tokens`` ->
    ``passed 1/1 tests``."""
    return re.sub(r", \d+ tokens?", "", re.sub(r", judged by value(?=,|$| —)", "", message))


# -- positions in the client's encoding (written here independently of the server) --------------

def units(text: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-32":
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def offset_of(text: str, pos: types.Position, encoding: str) -> int:
    lines = text.split("\n")
    if pos.line >= len(lines):
        return len(text)
    start = sum(len(line) + 1 for line in lines[: pos.line])
    count = 0
    for index, char in enumerate(lines[pos.line]):
        if count >= pos.character:
            return start + index
        count += units(char, encoding)
    return start + len(lines[pos.line])


def position_of(text: str, offset: int, encoding: str) -> types.Position:
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    return types.Position(line=line, character=units(text[start:offset], encoding))


class EditorProtocol(LanguageClientProtocol):
    """Code action results are structured by ``Editor.actions``: lsprotocol's
    converter reads every item that has a ``command`` field as a ``Command``,
    even a ``CodeAction`` whose command is an object."""

    raw = False   # send code action params as plain JSON (see Editor.raw_actions)

    def get_message_type(self, method: str) -> Any:
        if self.raw and method == types.TEXT_DOCUMENT_CODE_ACTION:
            return None
        return super().get_message_type(method)

    def get_result_type(self, method: str) -> Any:
        if method == types.TEXT_DOCUMENT_CODE_ACTION:
            return None
        return super().get_result_type(method)


def structure_action(item: dict[str, Any], converter: Any) -> types.CodeAction | types.Command:
    if isinstance(item.get("command"), str):
        return converter.structure(item, types.Command)
    return converter.structure(item, types.CodeAction)


@dataclass
class Doc:
    text: str
    version: int


class Editor(LanguageClient):
    """See the module docstring."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.docs: dict[str, Doc] = {}
        self.encoding = "utf-16"
        self.persona = ""
        self.root = Path()
        self.apply_requests: list[types.ApplyWorkspaceEditParams] = []
        self.apply_answer = True
        self.message_requests: list[types.ShowMessageRequestParams] = []
        self.message_answer: str | None = None
        self.lens_refreshes = 0
        self.refreshed_lenses: dict[str, list[tuple[int, str]]] = {}
        self.statuses: list[dict[str, Any]] = []
        self.hold_changes = False
        self.held: list[tuple[str, list[Any]]] = []

    # -- what the test does as the user -------------------------------------------------------
    def open(self, name: str, text: str) -> str:
        path = self.root / name
        text = textwrap.dedent(text)
        path.write_text(text, encoding="utf-8")
        uri = path.as_uri()
        self.docs[uri] = Doc(text, 1)
        self.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri=uri, language_id="python", version=1, text=text)))
        return uri

    def replace(self, uri: str, old: str, new: str) -> None:
        """Type over the first occurrence of ``old`` (one incremental change)."""
        doc = self.docs[uri]
        start = doc.text.index(old)
        self._change(uri, [(start, start + len(old), new)])

    def _change(self, uri: str, spans: list[tuple[int, int, str]]) -> None:
        """Apply non-overlapping (start, end, text) spans, last first, as one didChange."""
        doc = self.docs[uri]
        changes = []
        for start, end, new in sorted(spans, reverse=True):
            rng = types.Range(start=position_of(doc.text, start, self.encoding),
                              end=position_of(doc.text, end, self.encoding))
            doc.text = doc.text[:start] + new + doc.text[end:]
            changes.append(types.TextDocumentContentChangePartial(range=rng, text=new))
        doc.version += 1
        if self.hold_changes:
            self.held.append((uri, changes))
            return
        self.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=doc.version),
            content_changes=changes))

    def release_changes(self) -> None:
        """Send the held changes, one ``didChange`` per document carrying them all (as eglot does)."""
        held, self.held, self.hold_changes = self.held, [], False
        for uri in dict.fromkeys(u for u, _ in held):
            changes = [c for u, cs in held if u == uri for c in cs]
            self.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self.docs[uri].version),
                content_changes=changes))

    def range_of(self, uri: str, needle: str) -> types.Range:
        text = self.docs[uri].text
        start = text.index(needle)
        return types.Range(start=position_of(text, start, self.encoding),
                           end=position_of(text, start + len(needle), self.encoding))

    def text_at(self, uri: str, rng: types.Range) -> str:
        text = self.docs[uri].text
        return text[offset_of(text, rng.start, self.encoding): offset_of(text, rng.end, self.encoding)]

    @property
    def supports_configuration(self) -> bool:
        ws = self.capabilities.workspace if self.capabilities else None
        return bool(ws and ws.configuration)

    # -- answers to the server ----------------------------------------------------------------
    def apply_edit(self, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        self.apply_requests.append(params)
        if not self.apply_answer:
            return types.ApplyWorkspaceEditResult(applied=False, failure_reason="the user said no")
        edit = params.edit
        per_doc: list[tuple[str, int | None, list[Any]]] = []
        creates: list[types.CreateFile] = []
        if edit.document_changes:
            for change in edit.document_changes:
                if isinstance(change, types.CreateFile):
                    creates.append(change)
                elif isinstance(change, types.TextDocumentEdit):
                    per_doc.append((change.text_document.uri, change.text_document.version, list(change.edits)))
                else:
                    return types.ApplyWorkspaceEditResult(applied=False, failure_reason=f"unexpected {change!r}")
        for uri, edits in (edit.changes or {}).items():
            per_doc.append((uri, None, list(edits)))
        for uri, version, _ in per_doc:
            if uri in self.docs and version is not None and version != self.docs[uri].version:
                return types.ApplyWorkspaceEditResult(applied=False, failure_reason="document version changed")
        for create in creates:
            path = Path(create.uri.removeprefix("file://"))
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                path.write_text("", encoding="utf-8")
        for uri, _, edits in per_doc:
            if uri in self.docs:
                text = self.docs[uri].text
                self._change(uri, [(offset_of(text, e.range.start, self.encoding),
                                    offset_of(text, e.range.end, self.encoding), e.new_text) for e in edits])
            else:
                path = Path(uri.removeprefix("file://"))
                text = path.read_text(encoding="utf-8") if path.exists() else ""
                for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
                    a, b = offset_of(text, e.range.start, self.encoding), offset_of(text, e.range.end, self.encoding)
                    text = text[:a] + e.new_text + text[b:]
                path.write_text(text, encoding="utf-8")
        return types.ApplyWorkspaceEditResult(applied=True)

    def message_request(self, params: types.ShowMessageRequestParams) -> types.MessageActionItem | None:
        self.message_requests.append(params)
        return types.MessageActionItem(title=self.message_answer) if self.message_answer else None

    # -- waiting --------------------------------------------------------------------------------
    async def until(self, what: str, check: Callable[[], Any], timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            await asyncio.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}")

    def mark(self) -> set[Any]:
        """The progress tokens seen so far (pass to ``job_end`` to wait for newer ones)."""
        return set(self.progress_reports)

    def progress_since(self, title: str, mark: set[Any]) -> list[list[Any]]:
        """Progress sequences (begin, reports..., end) titled ``title`` that began after ``mark``."""
        return [values for token, values in list(self.progress_reports.items())
                if token not in mark and values and isinstance(values[0], types.WorkDoneProgressBegin)
                and values[0].title == title]

    async def job_end(self, title: str, mark: set[Any], timeout: float = 120.0) -> list[Any]:
        """Wait until the first progress titled ``title`` after ``mark`` has ended; return it."""
        def ended() -> list[Any] | None:
            seqs = self.progress_since(title, mark)
            return seqs[0] if seqs and isinstance(seqs[0][-1], types.WorkDoneProgressEnd) else None
        return await self.until(f"end of {title}", ended, timeout)

    async def lenses(self, uri: str) -> list[tuple[int, str]]:
        """The code lenses of ``uri`` as (line, title)."""
        lenses = await self.text_document_code_lens_async(types.CodeLensParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))
        return [(lens.range.start.line, lens.command.title) for lens in lenses or []]

    def shown(self, prefix: str, since: int = 0) -> list[str]:
        """The ``window/showMessage`` texts since index ``since`` that start with ``prefix``."""
        return [m.message for m in self.messages[since:] if m.message.startswith(prefix)]

    async def command(self, name: str, *args: Any) -> Any:
        return await self.workspace_execute_command_async(types.ExecuteCommandParams(
            command=name, arguments=list(args)))

    async def actions(self, uri: str, rng: types.Range, diagnostics: list[Any] | None = None,
                      only: list[str] | None = None) -> list[Any]:
        result = await self.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), range=rng,
            context=types.CodeActionContext(diagnostics=diagnostics or [], only=only)))
        return [structure_action(item, self.protocol._converter) for item in result or []]

    async def raw_actions(self, uri: str, rng: types.Range, diagnostics: list[Any],
                          only: list[str] | None = None) -> list[Any]:
        """A code action request whose diagnostics go out as given (dicts stay dicts, as a
        client that keeps only some fields of a diagnostic sends them)."""
        converter = self.protocol._converter
        params = {"textDocument": {"uri": uri}, "range": converter.unstructure(rng),
                  "context": {"diagnostics": [d if isinstance(d, dict) else converter.unstructure(d)
                                              for d in diagnostics], **({"only": only} if only else {})}}
        self.protocol.raw = True
        try:
            future = self.protocol.send_request(types.TEXT_DOCUMENT_CODE_ACTION, params)
        finally:
            self.protocol.raw = False
        result = await asyncio.wrap_future(future)
        return [structure_action(item, converter) for item in result or []]

    async def configure(self, **values: Any) -> None:
        """Send the editor settings (BASE_SETTINGS updated with ``values``) and wait
        until the server uses them."""
        settings = {**BASE_SETTINGS, **values}
        if self.supports_configuration:
            self.set_configuration(settings, section="specloop")
            self.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
        else:
            self.workspace_did_change_configuration(types.DidChangeConfigurationParams(
                settings={"specloop": settings}))

        async def current() -> dict[str, Any]:
            return (await self.command("specloop.status"))["settings"]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            now = await current()
            if all(now.get(k) == v for k, v in settings.items()):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"the server did not take the settings: {await current()}")


def as_json(value: Any) -> Any:
    """A custom notification's params as plain JSON values (pygls hands over named tuples)."""
    if hasattr(value, "_asdict"):
        value = value._asdict()
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_json(v) for v in value]
    return value


def make_editor() -> Editor:
    client = Editor(converter_factory=default_converter, protocol_cls=EditorProtocol)
    register_lsp_features(client)
    client.feature(types.WORKSPACE_APPLY_EDIT)(lambda ls, params: ls.apply_edit(params))
    client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)(lambda ls, params: ls.message_request(params))

    async def refetch(ls: Editor) -> None:
        for uri in list(ls.docs):
            ls.refreshed_lenses[uri] = await ls.lenses(uri)

    def refresh(ls: Editor, params: None) -> None:
        # as VS Code does: answer, then fetch the lenses of the open documents again
        ls.lens_refreshes += 1
        asyncio.ensure_future(refetch(ls))
    client.feature(types.WORKSPACE_CODE_LENS_REFRESH)(refresh)

    def status(ls: Editor, params: Any) -> None:
        ls.statuses.append(as_json(params))
    client.feature("specloop/status")(status)
    return client


def minimal_capabilities() -> types.ClientCapabilities:
    """A plain LSP client: no progress, no documentChanges, no configuration request."""
    return types.ClientCapabilities(
        workspace=types.WorkspaceClientCapabilities(apply_edit=True),
        text_document=types.TextDocumentClientCapabilities(
            code_action=types.CodeActionClientCapabilities(code_action_literal_support=types.ClientCodeActionLiteralOptions(
                code_action_kind=types.ClientCodeActionKindOptions(value_set=["", "quickfix", "refactor"])))))


async def start_editor(persona: str, root: Path, experimental: dict | None = None, **env: str) -> Editor:
    client = make_editor()
    await client.start_io(*SERVER_CMD, env={**server_env(), **env}, cwd=str(root))
    if persona == "minimal":
        caps = minimal_capabilities()
    elif persona == "eglot":
        caps = client_capabilities("emacs")
        caps.window.work_done_progress = False
    else:
        caps = client_capabilities(persona)
    if experimental is not None:
        caps.experimental = experimental
    info = CLIENT_INFO.get(persona)
    (root / "pyproject.toml").write_text("[project]\nname = 'demo'\nversion = '0'\n", encoding="utf-8")
    result = await client.initialize_session(types.InitializeParams(
        capabilities=caps, root_uri=root.as_uri(),
        client_info=types.ClientInfo(name=info[0], version=info[1]) if info else None,
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
        initialization_options={"specloop": BASE_SETTINGS}))
    client.encoding = str(getattr(result.capabilities.position_encoding, "value",
                                  result.capabilities.position_encoding or "utf-16"))
    client.persona = persona
    client.root = root
    return client
