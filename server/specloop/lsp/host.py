"""What the server's features need from the server, as a narrow interface.

The features (``actions``, ``apply``, ``commands``, ``runner``) take a
:class:`Host` rather than the server class, so no feature imports the module
that assembles them (``server``), and what a feature may touch is written
down here.  Each piece of state has one owner:

* ``jobs`` (:class:`~.jobs.JobManager`): running and queued jobs, the slots
  they take turns on, the tokens and cost the session's finished jobs spent;
* ``pending`` (:class:`~.pending.PendingStore`): results kept, not applied;
* ``sync`` (:class:`~.sync.DocSync`): applied edits whose ``didChange`` is due,
  and the per-document lock that sends one edit at a time;
* ``registry`` (:class:`~.diagnostics.Registry`): the published diagnostics;
* ``settings`` (:class:`~.config.ClientSettings`): the editor's settings;
* ``drift`` (:class:`~.drift.DriftWatch`): which implemented functions' specs changed since.

:class:`~.server.SpecloopServer` is the one implementation.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from lsprotocol import types
from pygls.workspace import Workspace

from .config import ClientSettings
from .diagnostics import Registry
from .jobs import JobManager
from .pending import PendingStore
from .sync import DocSync

if TYPE_CHECKING:
    from .drift import DriftWatch      # drift takes a Host itself


class Host(Protocol):
    jobs: JobManager
    pending: PendingStore
    sync: DocSync
    registry: Registry
    settings: ClientSettings
    drift: DriftWatch

    @property
    def workspace(self) -> Workspace: ...

    @property
    def client_capabilities(self) -> types.ClientCapabilities: ...

    def show(self, kind: types.MessageType, message: str) -> None: ...

    def log(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None: ...

    def publish(self, uri: str) -> None: ...

    def spawn(self, coro: Any) -> asyncio.Task[Any]: ...

    def send_status(self) -> None: ...

    def lenses_changed(self, now: bool = False) -> None: ...

    def workspace_of(self, path: Path) -> Path: ...

    # the LSP requests the features send (pygls' generated methods)
    def workspace_apply_edit_async(self, params: types.ApplyWorkspaceEditParams) -> Any: ...

    def window_show_message_request_async(self, params: types.ShowMessageRequestParams) -> Any: ...

    def window_show_document_async(self, params: types.ShowDocumentParams) -> Any: ...

    def command(self, name: str) -> Any: ...
