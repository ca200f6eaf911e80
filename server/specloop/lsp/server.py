"""The specloop language server (pygls 2): ``serve()`` runs it on stdio or TCP.

Features: code actions and code lenses on stubs (``actions``), background
jobs with progress and cancellation (``jobs``, ``runner``), results applied as
versioned workspace edits (``apply``), diagnostics with quick fixes that follow
the user's edits (``diagnostics``), and settings from the editor (``config``).

Commands (arguments: one object):

* ``specloop.generate`` ``{uri, target}``: start a job (replacing one on the
  same target); returns at once.
* ``specloop.generateAll`` ``{uri}``: a job for every stub in the file.
* ``specloop.cancel`` ``{uri?, target?}``: cancel matching jobs (all without
  arguments).
* ``specloop.fix`` ``{uri, target, id}``: a targeted job with the diagnostic
  ``id`` as feedback.  ``specloop.dismiss`` ``{uri, id}``: drop a diagnostic.
* ``specloop.applyResult`` / ``specloop.showResult`` ``{uri, target}``: apply
  a kept result despite a changed spec / show it.
* ``specloop.status``: the jobs and kept results, as JSON.

Nothing here runs model or sandbox work on the event loop: the engine is
async and loads litellm in a worker thread.  ``initialize`` never loads it;
the first ``didOpen`` of a document that has a spec starts loading it in the
background so that the first job does not wait for it.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import to_fs_path

from .. import __version__
from ..results import Finding, Usage
from ..spec import find_target, find_targets
from . import actions
from .apply import Pending, apply_pending, show_result
from .config import ClientSettings, normalize
from .diagnostics import Registry
from .jobs import Job, JobManager
from .runner import run_job

log = logging.getLogger(__name__)


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
    def __init__(self) -> None:
        super().__init__("specloop", __version__, protocol_cls=SpecloopProtocol,
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.settings = ClientSettings(lambda message: self.show(types.MessageType.Warning, message))
        self.registry = Registry()
        self.jobs = JobManager(lambda job: run_job(self, job), self._parallel_jobs, self.jobs_changed)
        self.session = Usage()          # tokens and cost of the finished jobs of this session
        self.pending: dict[tuple[str, str], Pending] = {}
        self.apply_locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._lens_refresh: asyncio.TimerHandle | None = None
        self.warming = False

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

    def jobs_changed(self) -> None:
        self.lenses_changed()
        self.send_status()

    def send_status(self) -> None:
        """``specloop/status``: running and queued jobs, and the session's tokens and cost so far
        (finished jobs plus what running jobs have spent)."""
        jobs = list(self.jobs.jobs.values())
        prompt = self.session.prompt_tokens + sum(j.usage.prompt_tokens for j in jobs)
        completion = self.session.completion_tokens + sum(j.usage.completion_tokens for j in jobs)
        cost = self.session.cost_usd + sum(j.usage.cost_usd for j in jobs)
        try:
            self.protocol.notify("specloop/status", {
                "running": sum(j.state != "queued" for j in jobs),
                "queued": sum(j.state == "queued" for j in jobs),
                "prompt_tokens": prompt, "completion_tokens": completion, "cost_usd": round(cost, 6)})
        except Exception:  # not connected (yet or any more)
            log.debug("status not sent", exc_info=True)

    def lenses_changed(self) -> None:
        """Ask the client to re-fetch code lenses (at most every 0.3 s) where it supports that."""
        try:
            ws = self.client_capabilities.workspace
        except AttributeError:     # not initialized yet
            return
        if ws is None or ws.code_lens is None or not ws.code_lens.refresh_support or self._lens_refresh:
            return

        def fire() -> None:
            self._lens_refresh = None
            self.spawn(self._refresh_lenses())
        self._lens_refresh = asyncio.get_running_loop().call_later(0.3, fire)

    async def _refresh_lenses(self) -> None:
        try:
            await self.workspace_code_lens_refresh_async(None)
        except Exception as exc:
            log.info("codeLens/refresh failed: %s", exc)

    def warm_up(self) -> None:
        """Import litellm (seconds of imports) in a daemon thread once a document with a
        spec is open, so the first job does not wait for it.  A daemon thread, unlike the
        default executor, does not hold up the process when the editor exits meanwhile."""
        self.warming = True

        def load() -> None:
            try:
                importlib.import_module("litellm")
            except Exception as exc:  # the job reports it properly if it matters
                log.info("warming up the model layer failed: %s", exc)
        threading.Thread(target=load, name="specloop-warm-up", daemon=True).start()

    def workspace_of(self, path: Path) -> Path:
        """The workspace folder holding ``path`` (the innermost), else the root, else the
        folder of the nearest pyproject.toml or .git, else the file's folder."""
        path = path.resolve()
        roots = [to_fs_path(f.uri) for f in self.workspace.folders.values()]
        roots.append(self.workspace.root_path)
        inside = [Path(r).resolve() for r in roots if r and path.is_relative_to(Path(r).resolve())]
        if inside:
            return max(inside, key=lambda p: len(p.parts))
        for folder in path.parents:
            if (folder / "pyproject.toml").is_file() or (folder / ".git").exists():
                return folder
        return path.parent

    def _parallel_jobs(self) -> int:
        root = self.workspace.root_path
        return self.settings.settings_for(Path(root) if root else None).parallel_jobs

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
        folders = [to_fs_path(f.uri) for f in self.workspace.folders.values()] or [self.workspace.root_path]
        for folder in folders:
            self.settings.settings_for(Path(folder).resolve() if folder else None)


def _arg(args: tuple[Any, ...]) -> dict[str, Any]:
    """Command arguments: one object, or positional (uri, target)."""
    if args and isinstance(args[0], dict):
        return args[0]
    return dict(zip(("uri", "target"), args))


def build_server() -> SpecloopServer:
    ls = SpecloopServer()

    @ls.feature(types.INITIALIZE)
    def initialize(ls: SpecloopServer, params: types.InitializeParams) -> None:
        ls.settings.init_options = normalize(params.initialization_options)

    @ls.feature(types.INITIALIZED)
    def initialized(ls: SpecloopServer, params: types.InitializedParams) -> None:
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
        if not ls.warming and find_targets(params.text_document.text).targets:
            ls.warm_up()

    @ls.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: SpecloopServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        if ls.registry.remap(uri, ls.workspace.get_text_document(uri).source):
            ls.publish(uri)

    @ls.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: SpecloopServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        if ls.registry.entries(uri):
            ls.registry.drop_document(uri)
            ls.publish(uri)

    @ls.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[actions.KIND, types.CodeActionKind.QuickFix], resolve_provider=False))
    def code_action(ls: SpecloopServer, params: types.CodeActionParams):
        return actions.code_actions(ls, params) or None

    @ls.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
    def code_lens(ls: SpecloopServer, params: types.CodeLensParams):
        return actions.code_lenses(ls, params.text_document.uri)

    @ls.feature(types.EXIT)
    def exit_(ls: SpecloopServer, *args: Any) -> None:
        if ls._server is not None:      # TCP: stop listening, so that serve() returns
            ls._server.close()

    @ls.feature(types.SHUTDOWN)
    async def shutdown(ls: SpecloopServer, params: None) -> None:
        tasks = [j.task for j in ls.jobs.cancel() if j.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=5)

    def start(ls: SpecloopServer, uri: str, qualname: str, *, feedback: list[Finding] | None = None) -> dict[str, Any]:
        text = ls.workspace.get_text_document(uri).source
        fix = False
        if find_target(text, qualname) is None:
            from .locate import restub
            fix = feedback is not None and restub(text, qualname) is not None
            if not fix:
                ls.show(types.MessageType.Warning, f"specloop: no spec called {qualname} in this file")
                return {"started": False, "target": qualname}
        job = ls.jobs.start(Job(uri=uri, qualname=qualname, name=qualname.rsplit(".", 1)[-1],
                                feedback=feedback, fix=fix))
        return {"started": True, "target": qualname, "job": job.id}

    @ls.command(actions.GENERATE)
    def generate(ls: SpecloopServer, *args: Any) -> dict[str, Any]:
        arg = _arg(args)
        return start(ls, arg["uri"], arg["target"])

    @ls.command(actions.GENERATE_ALL)
    def generate_all(ls: SpecloopServer, *args: Any) -> dict[str, Any]:
        uri = _arg(args)["uri"]
        names = [t.qualname for t in find_targets(ls.workspace.get_text_document(uri).source).targets]
        return {"started": [start(ls, uri, name)["target"] for name in names]}

    @ls.command(actions.CANCEL)
    def cancel(ls: SpecloopServer, *args: Any) -> dict[str, Any]:
        arg = _arg(args)
        hit = ls.jobs.cancel(arg.get("uri"), arg.get("target"))
        return {"cancelled": [j.qualname for j in hit]}

    @ls.command(actions.FIX)
    def fix(ls: SpecloopServer, *args: Any) -> dict[str, Any]:
        arg = _arg(args)
        entry = ls.registry.find(arg["uri"], str(arg.get("id")))
        if entry is None:
            ls.show(types.MessageType.Warning, "specloop: that finding is gone (the code changed)")
            return {"started": False}
        data = entry.finding or {}
        if "category" in data:
            finding = Finding(**{k: data.get(k) for k in ("category", "severity", "message", "line")})
        else:
            finding = Finding(category="accuracy", severity="error", message=entry.message)
        return start(ls, arg["uri"], entry.qualname, feedback=[finding])

    @ls.command(actions.DISMISS)
    def dismiss(ls: SpecloopServer, *args: Any) -> dict[str, Any]:
        arg = _arg(args)
        removed = ls.registry.remove(arg["uri"], str(arg.get("id")))
        if removed:
            ls.publish(arg["uri"])
        return {"dismissed": removed}

    async def kept(ls: SpecloopServer, arg: dict[str, Any]) -> Pending | None:
        pending = ls.pending.get((arg.get("uri", ""), arg.get("target", "")))
        if pending is None:
            ls.show(types.MessageType.Warning, f"specloop: no kept result for {arg.get('target')}")
        return pending

    @ls.command(actions.APPLY)
    async def apply_result(ls: SpecloopServer, *args: Any) -> dict[str, Any]:
        pending = await kept(ls, _arg(args))
        if pending is None:
            return {"applied": False}
        applied, what = await apply_pending(ls, pending, force=True)
        return {"applied": applied, "detail": what}

    @ls.command(actions.SHOW)
    async def show_result_cmd(ls: SpecloopServer, *args: Any) -> dict[str, Any]:
        pending = await kept(ls, _arg(args))
        return {"path": await show_result(ls, pending) if pending else None}

    @ls.command(actions.STATUS)
    def status(ls: SpecloopServer, *args: Any) -> dict[str, Any]:
        root = ls.workspace.root_path
        settings = ls.settings.settings_for(Path(root).resolve() if root else None)
        return {"version": __version__, "settings": settings.model_dump(), "jobs": [j.describe() for j in ls.jobs.jobs.values()],
                "kept_results": [{"uri": u, "target": t} for (u, t) in ls.pending],
                "running": ls.jobs.limiter.running, "queued": len(ls.jobs.limiter.waiters),
                "model_layer_loaded": "litellm" in sys.modules}

    return ls


def serve(tcp: str | None = None) -> int:
    """Run the server on stdio, or on TCP when ``tcp`` is ``"HOST:PORT"``."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    level = os.environ.get("SPECLOOP_LOG_LEVEL", "WARNING").upper()
    logging.basicConfig(stream=sys.stderr, level=getattr(logging, level, logging.WARNING),
                        format="specloop %(levelname)s %(name)s: %(message)s")
    ls = build_server()
    if tcp:
        host, _, port = tcp.rpartition(":")
        ls.start_tcp(host or "127.0.0.1", int(port))
    else:
        ls.start_io()
    return 0
