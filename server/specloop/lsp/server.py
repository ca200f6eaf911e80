"""The specloop language server (pygls 2): ``serve()`` runs it on stdio or TCP.

Features: code actions and code lenses on stubs (``actions``), background
jobs with progress and cancellation (``jobs``, ``runner``), results applied as
versioned workspace edits (``apply``), diagnostics with quick fixes that follow
the user's edits (``diagnostics``), ``spec.drift`` warnings on implemented
functions whose spec changed (``drift``: computed on didOpen and after a
short quiet time following didChange), and settings from the editor (``config``).

Commands: see ``commands``.  Notifications to the client besides LSP's own:
``specloop/status`` ``{running, queued, prompt_tokens, completion_tokens,
cost_usd, pending: [{uri, target, status, summary}]}`` whenever a job starts,
changes state or ends, tokens are spent, or the kept results change.

Nothing here runs model or sandbox work on the event loop: the engine is
async and loads litellm in a worker thread.  ``initialize`` never loads it;
the first ``didOpen`` of a document that has a spec starts loading it in the
background so that the first job does not wait for it.  A job's context and its user tests
are built in a process of their own (:mod:`.offload`), so that their parsing does not take
the GIL from the event loop; every ``didOpen`` of a Python file indexes what it imports from
the workspace (``projectindex.warm``) there, which starts that process.  The open documents'
targets are found in a process of their own too, debounced while the user types, and code
actions and lenses are answered from the last parse, its lines moved by the edits since
(:mod:`.documents`): a ``didChange`` only records where the change fell.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import to_fs_path

from .. import __version__
from ..context import index as projectindex
from ..source.spec import forget_document
from ..settings import unknown_env
from ..workspace import workspace_of
from . import actions, commands, offload
from .apply import document_text
from .config import ClientSettings, normalize
from .diagnostics import Registry
from .documents import Documents, Parsed
from .drift import DriftWatch
from .jobs import JobManager
from .pending import PendingStore
from .runner import run_job
from .sync import DocSync

log = logging.getLogger(__name__)

SWITCH_INTERVAL = 0.001
SETTINGS_TTL = 2.0


class SpecloopProtocol(LanguageServerProtocol):
    """Accepts the partial diagnostics some clients send back with a code action
    request (Neovim 0.7 may send only ``code`` and ``data``): missing fields are
    filled in and the diagnostic is marked, instead of failing the request."""

    def structure_message(self, data: dict[str, Any]):
        if isinstance(data, dict) and data.get("method") == types.TEXT_DOCUMENT_CODE_ACTION:
            params = data.get("params") or {}
            context = params.get("context") if isinstance(params, dict) else None
            if isinstance(context, dict) and isinstance(context.get("diagnostics"), list):
                fixed = []
                for diag in context["diagnostics"]:
                    if not isinstance(diag, dict):
                        continue
                    if "range" not in diag:
                        extra = diag.get("data") if isinstance(diag.get("data"), dict) else {}
                        diag = {**diag, "range": params.get("range"), "data": {**extra, "_specloop_no_range": True}}
                    diag.setdefault("message", "")
                    fixed.append(diag)
                context["diagnostics"] = fixed
        return super().structure_message(data)


class SpecloopServer(LanguageServer):
    """The server: pygls plus the state its features share (see :mod:`.host`)."""

    def __init__(self) -> None:
        super().__init__("specloop", __version__, protocol_cls=SpecloopProtocol,
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.settings = ClientSettings(lambda message: self.show(types.MessageType.Warning, message))
        self.registry = Registry()
        self.jobs = JobManager(lambda job: run_job(self, job), self._parallel_jobs, self.jobs_changed)
        self.pending = PendingStore(self.send_status)
        self.sync = DocSync()
        self.drift = DriftWatch(self)
        self.documents = Documents(self._synced, self._parsed)
        self.client_info: types.ClientInfo | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._lens_timer: asyncio.TimerHandle | None = None
        self._lens_task: asyncio.Task[Any] | None = None
        self._lens_dirty = False
        self.warming = False
        self._parallel: tuple[float, int] | None = None     # (when read, parallel_jobs)

    # -- helpers used by the other modules ---------------------------------
    def show(self, kind: types.MessageType, message: str) -> None:
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    def log(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        self.window_log_message(types.LogMessageParams(type=kind, message=f"specloop: {message}"))

    def publish(self, uri: str) -> None:
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, diagnostics=self.registry.to_lsp(uri, self.workspace.position_codec)))

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def jobs_changed(self, ended: bool = False) -> None:
        self.lenses_changed(now=ended)
        self.send_status()

    def send_status(self) -> None:
        """``specloop/status``: running and queued jobs, the session's tokens and cost so far
        (finished jobs plus what running jobs have spent), and the kept results."""
        jobs = list(self.jobs.jobs.values())
        spent = self.jobs.spent()
        try:
            self.protocol.notify("specloop/status", {
                "running": sum(j.state != "queued" for j in jobs),
                "queued": sum(j.state == "queued" for j in jobs),
                "prompt_tokens": spent.prompt_tokens, "completion_tokens": spent.completion_tokens,
                "cost_usd": round(spent.cost_usd, 6),
                "pending": self.pending.describe()})
        except Exception:  # not connected (yet or any more)
            log.debug("status not sent", exc_info=True)

    def lenses_changed(self, now: bool = False) -> None:
        """Ask the client to re-fetch code lenses where it supports that: at most every 0.3 s
        while jobs report, at once when a job ended (``now``).  A change while a refresh is on
        its way is followed by another refresh, so the last lenses fetched show the last state."""
        try:
            ws = self.client_capabilities.workspace
        except AttributeError:     # not initialized yet
            return
        if ws is None or ws.code_lens is None or not ws.code_lens.refresh_support:
            return
        self._lens_dirty = True
        if self._lens_task is not None:            # the running refresh loop sends another one
            return
        if self._lens_timer is not None:
            if not now:
                return
            self._lens_timer.cancel()
        self._lens_timer = asyncio.get_running_loop().call_later(0 if now else 0.3, self._fire_lenses)

    def _fire_lenses(self) -> None:
        self._lens_timer = None
        self._lens_task = self.spawn(self._refresh_lenses())

    async def _refresh_lenses(self) -> None:
        try:
            while self._lens_dirty:
                self._lens_dirty = False
                try:
                    await self.workspace_code_lens_refresh_async(None)
                except Exception as exc:
                    log.info("codeLens/refresh failed: %s", exc)
                    return
        finally:
            self._lens_task = None

    def _synced(self, uri: str) -> tuple[str, int | None]:
        doc = self.workspace.get_text_document(uri)
        return doc.source, doc.version

    def _parsed(self, uri: str, parsed: Parsed, changed: bool) -> None:
        """After a parse of the synced text (:mod:`.documents`): the diagnostics move to the
        text as it is now (the parse's stubs decide which ``code`` entries vanish), the
        client re-fetches its lenses when the targets they show changed, and the first
        document with a spec starts litellm's import."""
        if not self.warming and parsed.targets:
            self.warm_up()
        if self.registry.entries(uri) and self.sync.waiting(uri) is None:
            stubs = {t.qualname for t in parsed.targets}
            if self.registry.remap(uri, self._synced(uri)[0], stubs if parsed.error is None else set()):
                self.publish(uri)
        if changed:
            self.lenses_changed()

    def warm_up(self) -> None:
        """Import litellm (seconds of imports) in a daemon thread once a document with a
        spec is open, so the first job does not wait for it.  A daemon thread, unlike the
        default executor, does not hold up the process when the editor exits meanwhile."""
        self.warming = True

        from ..model.client import start_loading
        start_loading()   # litellm imported and frozen in a thread; its client warmed too

    def warm_index(self, uri: str, text: str) -> None:
        """Index what an opened document imports from the workspace
        (:func:`specloop.context.index.warm`: its import lines, not the whole text, are parsed),
        so that a job's context finds those files parsed: in the context worker process
        (:mod:`.offload`, where jobs build their context; this starts it), waited for by a
        worker thread.  Nothing of it runs on the event loop."""
        path = to_fs_path(uri)
        if not path or not path.endswith(".py"):
            return
        roots = [to_fs_path(f.uri) for f in self.workspace.folders.values()] + [self.workspace.root_path]

        def work() -> None:
            try:
                offload.call(projectindex.warm, Path(path), workspace_of(Path(path), roots), text)
            except Exception:   # warming is an optimization: a job indexes what it needs anyway
                log.debug("index of %s not warmed", path, exc_info=True)
        self.spawn(asyncio.to_thread(work))

    def workspace_of(self, path: Path) -> Path:
        """The workspace of ``path`` (:func:`specloop.workspace.workspace_of`, with the editor's
        workspace folders and root first)."""
        roots = [to_fs_path(f.uri) for f in self.workspace.folders.values()]
        return workspace_of(path, [*roots, self.workspace.root_path])

    def _parallel_jobs(self) -> int:
        """``parallel_jobs`` of the workspace root.  The job manager asks each time a job takes or
        leaves a slot; the answer is kept for :data:`SETTINGS_TTL` seconds (and forgotten when
        the editor's settings change), so a burst of jobs does not read and validate the
        settings files on the event loop again and again."""
        now = time.monotonic()
        if self._parallel is None or now - self._parallel[0] > SETTINGS_TTL:
            root = self.workspace.root_path
            self._parallel = (now, self.settings.settings_for(Path(root) if root else None).parallel_jobs)
        return self._parallel[1]

    async def pull_configuration(self) -> None:
        ws = self.client_capabilities.workspace
        if ws is None or not ws.configuration:
            return
        folders = list(self.workspace.folders.values())
        items = [types.ConfigurationItem(scope_uri=f.uri, section="specloop") for f in folders]
        items.append(types.ConfigurationItem(section="specloop"))
        try:
            values = await self.workspace_configuration_async(types.ConfigurationParams(items=items))
        except Exception as exc:
            log.info("workspace/configuration failed: %s", exc)
            return
        values = list(values or [])
        self.settings.global_pulled = normalize(values[-1]) if values else {}
        for folder, value in zip(folders, values):
            path = to_fs_path(folder.uri)
            if path:
                self.settings.folders[str(Path(path).resolve())] = normalize(value)
        self.check_settings()

    def check_settings(self) -> None:
        """Tell the user about bad settings now rather than at the first job."""
        self._parallel = None
        folders = [to_fs_path(f.uri) for f in self.workspace.folders.values()] or [self.workspace.root_path]
        for folder in folders:
            self.settings.settings_for(Path(folder).resolve() if folder else None)


def build_server() -> SpecloopServer:
    ls = SpecloopServer()

    @ls.feature(types.INITIALIZE)
    def initialize(ls: SpecloopServer, params: types.InitializeParams) -> None:
        ls.settings.init_options = normalize(params.initialization_options)
        ls.client_info = params.client_info

    @ls.feature(types.INITIALIZED)
    def initialized(ls: SpecloopServer, params: types.InitializedParams) -> None:
        for warning in unknown_env():   # a typo in a SPECLOOP_* variable is not silently ignored
            ls.show(types.MessageType.Warning, f"specloop: {warning}")
        ws = ls.client_capabilities.workspace
        if ws is not None and ws.configuration:
            ls.spawn(ls.pull_configuration())
        else:
            ls.check_settings()

    @ls.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: SpecloopServer, params: types.DidChangeConfigurationParams) -> None:
        ls.settings.forget_messages()
        ws = ls.client_capabilities.workspace
        if ws is not None and ws.configuration:
            ls.spawn(ls.pull_configuration())
        else:
            ls.settings.pushed = normalize(params.settings)
            ls.check_settings()

    @ls.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: SpecloopServer, params: types.DidOpenTextDocumentParams) -> None:
        doc = params.text_document
        ls.documents.opened(doc.uri, doc.version)     # its parse starts litellm's import if it has a spec
        ls.warm_index(doc.uri, doc.text)
        ls.drift.opened(doc.uri)

    @ls.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: SpecloopServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        doc = ls.workspace.get_text_document(uri)
        ls.sync.changed(uri, params.text_document.version, doc.source)
        # where the change fell; the parse after it (off the loop) moves the diagnostics
        ls.documents.changed(uri, doc.version, list(params.content_changes))
        ls.drift.changed(uri)

    @ls.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: SpecloopServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.sync.closed(uri)
        ls.drift.closed(uri)
        ls.documents.closed(uri)
        forget_document(uri)
        if ls.registry.entries(uri):
            ls.registry.drop_document(uri)
            ls.publish(uri)

    @ls.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[actions.KIND, types.CodeActionKind.QuickFix], resolve_provider=False))
    async def code_action(ls: SpecloopServer, params: types.CodeActionParams):
        uri = params.text_document.uri
        known = await ls.documents.known(uri, *document_text(ls, uri))
        return actions.code_actions(ls, params, known) or None

    @ls.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
    async def code_lens(ls: SpecloopServer, params: types.CodeLensParams):
        uri = params.text_document.uri
        known = await ls.documents.known(uri, *document_text(ls, uri))
        return actions.code_lenses(ls, uri, known)

    @ls.feature(types.EXIT)
    def exit_(ls: SpecloopServer, *args: Any) -> None:
        if ls._server is not None:      # TCP: stop listening, so that serve() returns
            ls._server.close()

    @ls.feature(types.SHUTDOWN)
    async def shutdown(ls: SpecloopServer, params: None) -> None:
        tasks = [j.task for j in ls.jobs.cancel() if j.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        await asyncio.to_thread(offload.close)

    commands.register(ls)
    return ls


def serve(tcp: str | None = None) -> int:
    """Run the server on stdio, or on TCP when ``tcp`` is ``"HOST:PORT"``."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    level = os.environ.get("SPECLOOP_LOG_LEVEL", "WARNING").upper()
    logging.basicConfig(stream=sys.stderr, level=getattr(logging, level, logging.WARNING),
                        format="specloop %(levelname)s %(name)s: %(message)s")
    # a worker thread (sandbox set-up, litellm's import) hands the GIL back to the event loop
    # after 1 ms instead of Python's default 5 ms (bench/context_latency.py)
    sys.setswitchinterval(SWITCH_INTERVAL)
    ls = build_server()
    if tcp:
        host, _, port = tcp.rpartition(":")
        ls.start_tcp(host or "127.0.0.1", int(port))
    else:
        ls.start_io()
    return 0
