"""Placing a finished job's result in the editor.

Decisions:

* The target is located again in the document as it is *now* (the server's
  synced copy), so edits made elsewhere meanwhile are kept and the result
  lands where the target is now.  If the user changed the target itself (its
  header or spec, or it is gone or no longer a stub) nothing is overwritten:
  the result is kept, a ``spec.stale`` diagnostic marks the function, and a
  ``window/showMessageRequest`` offers "Apply anyway" and "Show result".
* "Show result" writes the function to ``.specloop/results/<file>.<target>.py``
  in the workspace and opens it with ``window/showDocument`` where the client
  supports that; otherwise it logs the code and says where the file is.
* The edit is versioned (``documentChanges``) where the client supports it,
  plain ``changes`` otherwise.  With ``confirm_edits`` and a client that
  supports change annotations the edits carry one annotation with
  ``needsConfirmation``.
* Kept model tests go into the same workspace edit (``CreateFile`` + an
  edit) where the client supports resource operations; otherwise the server
  writes the file and says so.  Existing kept tests are appended to.
* Edits to one document are sent one at a time, each after the editor's
  ``didChange`` for the one before (or a few seconds), so two jobs finishing
  together do not place the second result in a stale copy of the text.
* A refused edit (``applied: false``) loses nothing: the result stays
  available for ``specloop.applyResult`` and the user is told.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from ..results import JobResult
from ..settings import Settings
from ..spec import find_target
from .diagnostics import def_line_in, entries_for_result, stale_entry
from .locate import restub, without_docstring
from .textedits import diff_edits, to_lsp

if TYPE_CHECKING:
    from .server import SpecloopServer

log = logging.getLogger(__name__)
SYNC_WAIT = 3.0
APPLY_ANYWAY = "Apply anyway"
SHOW_RESULT = "Show result"


@dataclass
class Pending:
    """A result that has not (yet) been placed in the document."""

    uri: str
    result: JobResult
    settings: Settings
    workspace: Path
    path: Path
    fix: bool = False

    @property
    def name(self) -> str:
        return self.result.name


def _caps(ls: SpecloopServer) -> tuple[bool, bool, bool]:
    """(documentChanges, create files, change annotations) of the client."""
    ws = ls.client_capabilities.workspace
    we = ws.workspace_edit if ws else None
    if we is None or not we.document_changes:
        return False, False, False
    create = types.ResourceOperationKind.Create in (we.resource_operations or [])
    return True, create, we.change_annotation_support is not None


def merged_tests(old: str, kept: str) -> str:
    """Kept tests appended to what the tests file already holds."""
    if not old.strip():
        return kept.rstrip("\n") + "\n"
    return old.rstrip("\n") + "\n\n\n" + kept.rstrip("\n") + "\n"


def _base(source_now: str, pending: Pending) -> str:
    """The text the engine edits apply to: for a fix of an implemented function,
    the document with that function reduced to its spec again."""
    if pending.fix and find_target(source_now, pending.name) is None:
        return restub(source_now, pending.name) or source_now
    return source_now


async def apply_pending(ls: SpecloopServer, pending: Pending, *, force: bool) -> tuple[bool, str]:
    """Send the result as a workspace edit.  Returns (applied, what happened).

    Edits to one document go out one at a time, and each waits (up to
    ``SYNC_WAIT`` seconds) for the editor's ``didChange`` of the one before:
    the next result is placed in the text the editor really holds, and its
    version is the editor's."""
    lock = ls.apply_locks.setdefault(pending.uri, asyncio.Lock())
    async with lock:
        return await _apply(ls, pending, force=force)


async def _synced(ls: SpecloopServer, uri: str, version: int | None) -> None:
    """Wait until the server's copy of ``uri`` is newer than ``version``."""
    if version is None:
        return
    deadline = time.monotonic() + SYNC_WAIT
    while time.monotonic() < deadline:
        doc = ls.workspace.text_documents.get(uri)
        if doc is None or (doc.version or 0) > version:
            return
        await asyncio.sleep(0.02)


async def _apply(ls: SpecloopServer, pending: Pending, *, force: bool) -> tuple[bool, str]:
    from ..edits import apply_edits
    from ..loop import StaleTarget, kept_tests_path, result_edits, result_edits_anyway

    uri, name = pending.uri, pending.name
    doc = ls.workspace.get_text_document(uri)
    codec = doc.position_codec
    source_now = doc.source
    base = _base(source_now, pending)
    try:
        edits = (result_edits_anyway if force else result_edits)(base, pending.result)
    except StaleTarget as exc:
        return await _stale(ls, pending, source_now, str(exc), force)
    except ValueError as exc:
        # applying anyway under a changed docstring: the result's own docstring no longer
        # matches, so place its body under the user's docstring instead
        code = without_docstring(pending.result.function_code or "") if force else None
        if code is None:
            return await _stale(ls, pending, source_now, str(exc), True)
        try:
            edits = result_edits_anyway(base, replace(pending.result, function_code=code))
        except ValueError as again:
            return await _stale(ls, pending, source_now, str(again), True)
    new_text = apply_edits(base, edits)
    lsp_edits = to_lsp(source_now, edits, codec) if base is source_now else diff_edits(source_now, new_text, codec)
    doc_changes, can_create, annotate = _caps(ls)
    annotate = annotate and pending.settings.confirm_edits
    note = "specloop"
    if annotate:
        lsp_edits = [types.AnnotatedTextEdit(range=e.range, new_text=e.new_text, annotation_id=note)
                     for e in lsp_edits]

    kept_path: Path | None = None
    kept_text: str | None = None
    if pending.result.kept_tests and pending.settings.keep_tests:
        kept_path = kept_tests_path(pending.workspace, pending.path, pending.settings)
        open_doc = ls.workspace.text_documents.get(kept_path.as_uri())
        old = open_doc.source if open_doc else (kept_path.read_text(encoding="utf-8") if kept_path.exists() else "")
        kept_text = merged_tests(old, pending.result.kept_tests)

    version = doc.version if uri in ls.workspace.text_documents else None
    if doc_changes:
        changes: list[Any] = [types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version), edits=lsp_edits)]
        if kept_path is not None and kept_text is not None and can_create:
            kept_uri = kept_path.as_uri()
            open_doc = ls.workspace.text_documents.get(kept_uri)
            if open_doc is None and not kept_path.exists():
                changes.append(types.CreateFile(uri=kept_uri, options=types.CreateFileOptions(ignore_if_exists=True),
                                                annotation_id=note if annotate else None))
            test_edits: list[Any] = diff_edits(old, kept_text, ls.workspace.position_codec)
            if annotate:
                test_edits = [types.AnnotatedTextEdit(range=e.range, new_text=e.new_text, annotation_id=note)
                              for e in test_edits]
            changes.append(types.TextDocumentEdit(text_document=types.OptionalVersionedTextDocumentIdentifier(
                uri=kept_uri, version=open_doc.version if open_doc else None), edits=test_edits))
            kept_path = None  # delivered in the edit
        edit = types.WorkspaceEdit(document_changes=changes, change_annotations={note: types.ChangeAnnotation(
            label=f"specloop: implement {name}", needs_confirmation=True,
            description="code written and tested by specloop")} if annotate else None)
    else:
        edit = types.WorkspaceEdit(changes={uri: lsp_edits})

    try:
        answer = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(
            edit=edit, label=f"specloop: implement {name}"))
        applied, reason = bool(answer and answer.applied), (answer.failure_reason if answer else None)
    except Exception as exc:  # an error answer is a refusal too
        applied, reason = False, str(exc) or type(exc).__name__
    if not applied:
        ls.pending[(uri, name)] = pending
        ls.show(types.MessageType.Warning,
                f"specloop: the editor did not apply the result for {name}"
                f"{f' ({reason})' if reason else ''}; it is kept: run the command specloop.applyResult to retry")
        return False, "not applied by the editor"

    ls.pending.pop((uri, name), None)
    await _synced(ls, uri, version)
    if kept_path is not None and kept_text is not None:
        try:
            kept_path.parent.mkdir(parents=True, exist_ok=True)
            kept_path.write_text(kept_text, encoding="utf-8")
            ls.show(types.MessageType.Info, f"specloop: kept model tests for {name} in {kept_path}")
        except OSError as exc:
            ls.show(types.MessageType.Warning, f"specloop: could not write kept tests to {kept_path}: {exc}")
    near = _name_line(base, name)
    def_line = def_line_in(new_text, name, near)
    entries = [] if def_line is None else entries_for_result(pending.result, new_text, def_line, name.split(".")[-1])
    ls.registry.replace_target(uri, new_text, name, entries)
    if uri in ls.workspace.text_documents:     # the user may have typed on meanwhile
        ls.registry.remap(uri, ls.workspace.get_text_document(uri).source)
    ls.publish(uri)
    return True, "applied"


def _name_line(text: str, qualname: str) -> int:
    target = find_target(text, qualname)
    return target.name_range.start.line if target and target.name_range else 0


async def _stale(ls: SpecloopServer, pending: Pending, source_now: str, reason: str,
                 force: bool) -> tuple[bool, str]:
    uri, name = pending.uri, pending.name
    ls.pending[(uri, name)] = pending
    target = find_target(source_now, name)
    entries = []
    if target is not None and target.name_range is not None:
        entries = [stale_entry(name, target.name, target.name_range.start.line, reason)]
    ls.registry.replace_target(uri, source_now, name, entries)
    ls.publish(uri)
    if force:
        ls.show(types.MessageType.Warning, f"specloop: cannot apply the result for {name}: {reason}")
        return False, reason
    ls.spawn(_ask(ls, pending, reason))
    return False, f"not applied: {reason}"


async def _ask(ls: SpecloopServer, pending: Pending, reason: str) -> None:
    message = f"specloop: {pending.name} changed while specloop worked ({reason}); the result was not applied."
    try:
        choice = await ls.window_show_message_request_async(types.ShowMessageRequestParams(
            type=types.MessageType.Warning, message=message,
            actions=[types.MessageActionItem(title=APPLY_ANYWAY), types.MessageActionItem(title=SHOW_RESULT)]))
    except Exception as exc:
        log.info("showMessageRequest failed: %s", exc)
        return
    if choice is None:
        return
    if choice.title == APPLY_ANYWAY:
        await apply_pending(ls, pending, force=True)
    elif choice.title == SHOW_RESULT:
        await show_result(ls, pending)


def result_text(result: JobResult) -> str:
    head = "\n".join(result.imports)
    return (head + "\n\n\n" if head else "") + (result.function_code or "").rstrip("\n") + "\n"


async def show_result(ls: SpecloopServer, pending: Pending) -> str:
    """Open (or log) the result; returns where it was written."""
    result = pending.result
    folder = pending.workspace / ".specloop" / "results"
    path = folder / f"{pending.path.stem}.{pending.name}.py"
    text = f"# specloop result for {pending.name} in {pending.path} (status: {result.status})\n" + result_text(result)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        ls.log(f"could not write {path}: {exc}\n{text}")
        return ""
    window = ls.client_capabilities.window
    if window is not None and window.show_document is not None and window.show_document.support:
        try:
            await ls.window_show_document_async(types.ShowDocumentParams(uri=path.as_uri(), take_focus=True))
            return str(path)
        except Exception as exc:
            log.info("showDocument failed: %s", exc)
    ls.log(f"result for {pending.name}:\n{text}")
    ls.show(types.MessageType.Info, f"specloop: the result for {pending.name} is in {path}")
    return str(path)


