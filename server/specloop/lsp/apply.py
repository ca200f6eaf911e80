"""Placing a result in the editor.

Decisions:

* The target is located again in the text the editor holds *now* (the
  server's synced copy, or the text of an applied edit whose ``didChange`` is
  still due: :mod:`.sync`), so edits made elsewhere meanwhile are kept and the
  result lands where the target is now.  If it cannot be placed (the user
  changed its header or spec, it is gone or no longer a stub, the file does
  not parse at the moment) nothing is overwritten: the result is kept
  (:mod:`.pending`), a ``spec.stale`` diagnostic marks the function with the
  quick fixes "Apply anyway", "Show" and "Show the diff".  Where the client
  announces no work-done progress (eglot 1.9, a plain client) a
  ``window/showMessageRequest`` offers the same; a client that shows progress
  and takes code actions (VS Code, Neovim) is asked nothing: Neovim shows a
  ``showMessageRequest`` as an ``inputlist`` that stops the editor until it is
  answered, in the middle of typing.  It gets the offer through the
  diagnostic's quick fixes, the progress end (``not applied: ...``) and a
  ``window/logMessage`` of type Warning naming them (:func:`asks_in_dialog`).
* "Apply anyway" places the result over a changed docstring (the body goes
  under the user's docstring) and over a body the function has meanwhile
  (it is reduced to its spec first).
* "Show" writes the function to ``.specloop/results/<file stem>.<target>.py``
  in the workspace and opens it with ``window/showDocument`` where the client
  supports that; otherwise it says where the file is.
* The edit is versioned (``documentChanges``) where the client supports it,
  plain ``changes`` otherwise.  With ``confirm_edits`` and a client that
  supports change annotations the edits carry one annotation with
  ``needsConfirmation``.
* Kept model tests go into the same workspace edit (``CreateFile`` + an
  edit) where the client supports resource operations; otherwise the server
  writes the file and says so (a log line to a client with work-done progress).  Tests the file already has (by name) are not
  added again.
* A class result is placed the same way (``placement`` replaces the class body
  under its docstring, in one edit); its diagnostics sit on the class name or on
  the method they concern, and each of its methods is recorded for
  ``specloop check`` (a class has no ``def`` line: :func:`def_line` gives its
  ``class`` line).  A module spec's result is placed below its block (which is marked
  done) in one edit; diagnostics sit on the functions, or on the block's first line.
* Edits to one document are sent one at a time, each computed on the text the
  previous one produced.  A refused edit (``applied: false``) loses nothing:
  the result stays kept with a ``result.not_applied`` diagnostic whose quick fixes
  apply it, show its diff or discard it (:mod:`.offers`).
* A result whose placed text is the text already there (a "Fix" or "Apply anyway"
  whose code is the code in the document) is never sent as an empty edit: it is
  "nothing to apply" (:func:`settle_unchanged`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from .. import check
from ..source.locate import restub, without_docstring
from .. import targets
from ..source.placement import StaleTarget, kept_tests_path, merged_tests
from ..source.spec import find_target, find_targets
from ..source.writeback import attempt_path
from .diagnostics import Entry, entries_of, stale_entry
from . import offers
from .offers import NOTHING_TO_APPLY
from .pending import Pending
from .textedits import diff_edits, to_lsp

if TYPE_CHECKING:
    from .host import Host

log = logging.getLogger(__name__)
APPLY_ANYWAY = "Apply anyway"
SHOW_RESULT = "Show result"


class Unplaceable(Exception):
    """The result cannot be placed in the text as it is now; ``str(exc)`` says why."""


def document_text(ls: Host, uri: str) -> tuple[str, int | None]:
    """The text the editor holds and its version (``None`` while an applied edit's
    ``didChange`` is due, or for a document the editor has not opened)."""
    waiting = ls.sync.waiting(uri)
    if waiting is not None:
        return waiting.text, None
    doc = ls.workspace.get_text_document(uri)
    return doc.source, (doc.version if uri in ls.workspace.text_documents else None)


def _caps(ls: Host) -> tuple[bool, bool, bool]:
    """(documentChanges, create files, change annotations) of the client."""
    ws = ls.client_capabilities.workspace
    we = ws.workspace_edit if ws else None
    if we is None or not we.document_changes:
        return False, False, False
    create = types.ResourceOperationKind.Create in (we.resource_operations or [])
    return True, create, we.change_annotation_support is not None


def _base(source_now: str, pending: Pending, force: bool) -> str:
    """The text the engine edits apply to: for a fix of an implemented function (or an
    "apply anyway" over a body written meanwhile), the text with that function reduced
    to its spec again."""
    if (pending.fix or force) and find_target(source_now, pending.name) is None:
        return restub(source_now, pending.name) or source_now
    return source_now


def _reason(source_now: str, message: str) -> str:
    error = find_targets(source_now).error
    return f"the file does not parse right now ({error})" if error else message


def place(source_now: str, pending: Pending, *, force: bool) -> tuple[str, str, list[Any]]:
    """(base, new text, engine edits on base): ``pending`` placed in ``source_now``.
    Raises :class:`Unplaceable`."""
    from ..source.edits import apply_edits

    base = _base(source_now, pending, force)
    try:
        edits = targets.edits(base, pending.result, anyway=force)
    except StaleTarget as exc:
        raise Unplaceable(_reason(source_now, str(exc))) from exc
    except ValueError as exc:
        # applying anyway under a changed docstring: the result's own docstring no longer
        # matches, so place its body under the user's docstring instead
        code = without_docstring(pending.result.function_code or "") if force else None
        if code is None:
            raise Unplaceable(_reason(source_now, str(exc))) from exc
        try:
            edits = targets.edits(base, replace(pending.result, function_code=code), anyway=True)
        except (StaleTarget, ValueError) as again:
            raise Unplaceable(_reason(source_now, str(again))) from again
    return base, apply_edits(base, edits), edits


async def apply_pending(ls: Host, pending: Pending, *, force: bool) -> tuple[bool, str]:
    """Send the result as a workspace edit.  Returns (applied, what happened).  Edits to
    one document go out one at a time, each placed in the text the one before produced."""
    async with ls.sync.edit_lock(pending.uri):
        return await _apply(ls, pending, force=force)


async def _kept_tests(ls: Host, pending: Pending) -> tuple[Path, str, str, bool] | None:
    """(path, old text, new text, whether the file exists) of the kept tests file, or None when
    nothing is added.  The file is read in a thread, never on the event loop."""

    if not (pending.result.kept_tests and pending.settings.keep_tests):
        return None
    path = kept_tests_path(pending.workspace, pending.path, pending.settings)
    open_doc = ls.workspace.text_documents.get(path.as_uri())
    old, exists = (open_doc.source, True) if open_doc else await asyncio.to_thread(_read, path)
    new = merged_tests(old, pending.result.kept_tests)
    return None if new is None else (path, old, new, exists)


def _read(path: Path) -> tuple[str, bool]:
    """A file's text ("" when there is none) and whether it exists."""
    try:
        return path.read_text(encoding="utf-8"), True
    except FileNotFoundError:
        return "", False


def write_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, its folder made (run in a thread: file I/O never blocks the loop)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


async def _apply(ls: Host, pending: Pending, *, force: bool) -> tuple[bool, str]:
    uri, name = pending.uri, pending.name
    kept = await _kept_tests(ls, pending)     # first: from here to the edit's send the document is read once
    codec = ls.workspace.get_text_document(uri).position_codec
    source_now, version = document_text(ls, uri)
    try:
        base, new_text, edits = place(source_now, pending, force=force)
    except Unplaceable as exc:
        return await _stale(ls, pending, source_now, str(exc), ask=not force)
    if new_text == source_now:      # never an empty edit: the editor would refuse it, or undo nothing
        settle_unchanged(ls, pending, base, source_now, told=force)
        return False, NOTHING_TO_APPLY
    lsp_edits = to_lsp(source_now, edits, codec) if base is source_now else diff_edits(source_now, new_text, codec)
    doc_changes, can_create, annotate = _caps(ls)
    annotate = annotate and pending.settings.confirm_edits
    note = "specloop"
    if annotate:
        lsp_edits = [types.AnnotatedTextEdit(range=e.range, new_text=e.new_text, annotation_id=note)
                     for e in lsp_edits]

    if doc_changes:
        changes: list[Any] = [types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version), edits=lsp_edits)]
        if kept is not None and can_create:
            kept_path, old, kept_text, exists = kept
            kept_uri = kept_path.as_uri()
            open_doc = ls.workspace.text_documents.get(kept_uri)
            if open_doc is None and not exists:
                changes.append(types.CreateFile(uri=kept_uri, options=types.CreateFileOptions(ignore_if_exists=True),
                                                annotation_id=note if annotate else None))
            test_edits: list[Any] = diff_edits(old, kept_text, ls.workspace.position_codec)
            if annotate:
                test_edits = [types.AnnotatedTextEdit(range=e.range, new_text=e.new_text, annotation_id=note)
                              for e in test_edits]
            changes.append(types.TextDocumentEdit(text_document=types.OptionalVersionedTextDocumentIdentifier(
                uri=kept_uri, version=open_doc.version if open_doc else None), edits=test_edits))
            kept = None  # delivered in the edit
        edit = types.WorkspaceEdit(document_changes=changes, change_annotations={note: types.ChangeAnnotation(
            label=f"specloop: implement {name}", needs_confirmation=True,
            description="code written and tested by specloop")} if annotate else None)
    else:
        edit = types.WorkspaceEdit(changes={uri: lsp_edits})

    waiting = ls.sync.sent(uri, version, new_text)
    try:
        answer = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(
            edit=edit, label=f"specloop: implement {name}"))
        applied, reason = bool(answer and answer.applied), (answer.failure_reason if answer else None)
    except Exception as exc:  # an error answer is a refusal too
        applied, reason = False, str(exc) or type(exc).__name__
    if not applied:
        ls.sync.refused(uri, waiting)
        why = f"the editor did not apply the edit{f' ({reason})' if reason else ''}"
        offers.keep_not_applied(ls, pending, source_now, def_line(source_now, name), why, told=force)
        return False, "not applied by the editor"

    ls.pending.pop(uri, name)
    if pending.result.status == "passed":  # `specloop check` re-tests it and watches for drift
        # a class is recorded as its methods: they are the functions with tests and a spec
        check.record_result(pending.workspace, pending.path, new_text, pending.result)
    doc = ls.workspace.text_documents.get(uri)
    landed = ls.sync.answered(uri, waiting, doc.version if doc else None, doc.source if doc else None)
    if kept is not None:
        kept_path, _, kept_text, _ = kept
        try:
            await asyncio.to_thread(write_file, kept_path, kept_text)
            offers.note(ls, types.MessageType.Info, f"kept model tests for {name} in {kept_path}")
        except OSError as exc:
            offers.note(ls, types.MessageType.Warning, f"could not write kept tests to {kept_path}: {exc}")
    # the diagnostics are placed in the text the edit produced: the text the editor shows now
    for qualname, entries in _result_entries(pending, base, new_text).items():
        ls.registry.replace_target(uri, new_text, qualname, entries)
    if landed and doc is not None:      # the user may have typed on meanwhile
        ls.registry.remap(uri, doc.source)
    ls.publish(uri)
    return True, "applied"


def settle_unchanged(ls: Host, pending: Pending, base: str, text: str, *, told: bool) -> None:
    """The document already holds what ``pending`` says (a "Fix" or "Apply anyway" whose code
    is the code there): no edit is sent, the result is no longer kept, and its diagnostics are
    about the code in the document, as for an applied result.  ``told``: the user asked for it
    (say so; a job's end says it in its progress end)."""
    uri, name = pending.uri, pending.name
    ls.pending.pop(uri, name)
    if pending.result.status == "passed":
        check.record_result(pending.workspace, pending.path, text, pending.result)
    for qualname, entries in _result_entries(pending, base, text).items():
        ls.registry.replace_target(uri, text, qualname, entries)
    ls.publish(uri)
    ls.log(f"{name}: {NOTHING_TO_APPLY}")
    if told and not offers.reviews_pending(ls):      # the VS Code extension says it from the answer
        ls.show(types.MessageType.Info, f"specloop: {name}: {NOTHING_TO_APPLY}")


def _result_entries(pending: Pending, base: str, new_text: str) -> dict[str, list[Entry]]:
    """The diagnostics of an applied result by the qualified name they replace, where its
    kind places them (``targets``: the target's own, and for a class or module spec also
    each component's; one with nothing to say gets an empty list: what an older result said
    about it is gone)."""
    result = pending.result
    return entries_of(targets.of(result).place(new_text, result, targets.line_of(base, pending.name) or 0))


def def_line(text: str, qualname: str) -> int | None:
    """Where ``qualname`` is in ``text`` (``targets.line_of``: a def line, a class line, a
    module spec's block), also when the text does not parse."""
    return targets.line_of(text, qualname)


async def _stale(ls: Host, pending: Pending, source_now: str, reason: str,
                 *, ask: bool) -> tuple[bool, str]:
    """Keep a result that cannot be placed now, with a ``spec.stale`` diagnostic on its function."""
    uri, name = pending.uri, pending.name
    ls.pending.put(pending, reason=reason)
    line = def_line(source_now, name)
    entries = [] if line is None else [stale_entry(name, name.rsplit(".", 1)[-1], line, reason)]
    ls.registry.replace_target(uri, source_now, name, entries, kinds=("result",))
    ls.publish(uri)
    if not ask:     # the answer to the user's own "apply anyway"
        ls.show(types.MessageType.Warning, f"specloop: cannot apply the result for {name}: {reason}")
        return False, reason
    if asks_in_dialog(ls):
        ls.spawn(_ask(ls, pending, reason))
    else:
        ls.log(f"{name} was not applied ({reason}); the result is kept: the quick fixes of its "
               f"spec.stale diagnostic apply it anyway, show it or show the diff", types.MessageType.Warning)
    return False, f"not applied: {reason}"


def asks_in_dialog(ls: Host) -> bool:
    """Whether a result that cannot be placed is offered with ``window/showMessageRequest``:
    only to a client that announces no work-done progress or no code actions; the others
    have the ``spec.stale`` diagnostic's quick fixes (see the module docstring)."""
    window = ls.client_capabilities.window
    text_document = ls.client_capabilities.text_document
    progress = window is not None and bool(window.work_done_progress)
    actions = text_document is not None and text_document.code_action is not None
    return not (progress and actions)


async def _ask(ls: Host, pending: Pending, reason: str) -> None:
    message = f"specloop: {pending.name} could not be placed ({reason}); the result is kept."
    if "changed while specloop worked" in reason:
        message = f"specloop: {pending.name} changed while specloop worked ({reason}); the result was not applied."
    try:
        choice = await ls.window_show_message_request_async(types.ShowMessageRequestParams(
            type=types.MessageType.Warning, message=message,
            actions=[types.MessageActionItem(title=APPLY_ANYWAY), types.MessageActionItem(title=SHOW_RESULT)]))
    except Exception as exc:
        log.info("showMessageRequest failed: %s", exc)
        return
    if choice is None or ls.pending.get(pending.uri, pending.name) is not pending:
        return
    if choice.title == APPLY_ANYWAY:
        await apply_pending(ls, pending, force=True)
    elif choice.title == SHOW_RESULT:
        await show_result(ls, pending)


def result_text(result: Any) -> str:
    head = "\n".join(result.imports)
    return (head + "\n\n\n" if head else "") + (result.function_code or "").rstrip("\n") + "\n"


def result_path(pending: Pending) -> Path:
    """Where "Show the best attempt" writes a kept result: the file ``specloop run`` saves it
    in (``writeback.attempt_path``: a safe file name, ``module spec (line 5)`` as
    ``module_spec_line_5_``)."""
    return attempt_path(pending.workspace, pending.path, pending.name)


async def show_result(ls: Host, pending: Pending) -> str:
    """Write the result to its file and open it (or say where it is); returns the path."""
    result = pending.result
    path = result_path(pending)
    text = (f"# specloop: the best attempt for {pending.name} in {pending.path}\n"
            f"# {pending.summary}\n" + result_text(result))
    try:
        await asyncio.to_thread(write_file, path, text)
    except OSError as exc:
        ls.log(f"could not write {path}: {exc}\n{text}")
        return ""
    window = ls.client_capabilities.window
    if window is not None and window.show_document is not None and window.show_document.support:
        try:
            shown = await ls.window_show_document_async(types.ShowDocumentParams(uri=path.as_uri(), take_focus=True))
            if shown is None or shown.success:
                return str(path)
        except Exception as exc:
            log.info("showDocument failed: %s", exc)
    ls.log(f"result for {pending.name}:\n{text}")
    ls.show(types.MessageType.Info, f"specloop: the result for {pending.name} is in {path}")
    return str(path)
