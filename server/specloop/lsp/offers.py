"""A result that passed and was not applied, a result that is the code already there, and
discarding a kept result.

* **Passed, not applied.**  A result whose tests pass is applied by itself; when that does
  not happen for a reason other than the target having changed (``spec.stale``, see
  :mod:`.apply`) — the editor refused the edit, or the result says it passed but could not be
  placed (``unplaced_reason``, :func:`not_placed`) — it is kept (``Pending``
  with its ``reason``) and marked with a ``result.not_applied`` diagnostic (warning, on the
  target's name) whose quick fixes are "Apply specloop's result", "Show the diff of
  specloop's result", "Show specloop's result" and "Discard specloop's result".  It stays
  until the user acts on it or a newer result replaces it.  Messages name those quick
  fixes, never a command id.  Who is told: a client that reviews kept results itself (the
  VS Code extension, ``experimental.specloop.reviewsPending``) gets them in
  ``specloop/status`` and says nothing more; a client with work-done progress gets a
  ``window/logMessage`` of type Warning (Neovim stops on a ``window/showMessage``); a client
  without progress, or the user's own "Apply" refused, a ``window/showMessage``.
* **Nothing to apply.**  A result whose code is what the document holds already (a "Fix"
  or "Apply anyway" that changes nothing) is never sent as an empty
  ``workspace/applyEdit``: it is reported as "nothing to apply: the code is already what
  the result says", it is not kept, and its diagnostics are about the code in the document
  (:func:`specloop.lsp.apply.settle_unchanged`).  A failing result of that kind is not
  offered either: there is no diff to show and nothing to apply.
* **Discard** (``specloop.discardResult`` ``{uri, target}``): the kept result is dropped
  with the diagnostics that offered it; the code is unchanged.  ``specloop/status`` lists
  it no more, so the VS Code status bar stops counting it at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types

from .diagnostics import stale_entry
from .jobs import wants_messages
from .pending import Pending, outcome

if TYPE_CHECKING:
    from .host import Host

NOTHING_TO_APPLY = "nothing to apply: the code is already what the result says"
NOT_APPLIED = "result.not_applied"
APPLY_TITLE, DIFF_TITLE = "Apply specloop's result", "Show the diff of specloop's result"
SHOW_TITLE, DISCARD_TITLE = "Show specloop's result", "Discard specloop's result"


def reviews_pending(ls: Host) -> bool:
    """Whether the client reviews kept results itself (``experimental.specloop.reviewsPending``)."""
    experimental = getattr(ls.client_capabilities, "experimental", None)
    specloop = experimental.get("specloop") if isinstance(experimental, dict) else None
    return isinstance(specloop, dict) and bool(specloop.get("reviewsPending"))


def note(ls: Host, kind: types.MessageType, message: str) -> None:
    """A note on an applied result (kept tests written): a log line to a client with work-done
    progress (Neovim stops on every ``window/showMessage``), a message to one without."""
    if wants_messages(ls):
        ls.show(kind, f"specloop: {message}")
    else:
        ls.log(message, kind)


def not_placed(result: Any) -> str:
    """Why a result that passed could not be placed, when the result says so itself
    (``JobResult.unplaced_reason``); empty when it says nothing (the server then places it:
    :mod:`.apply`)."""
    reason = getattr(result, "unplaced_reason", None)
    return reason if isinstance(reason, str) else ""


def keep_not_applied(ls: Host, pending: Pending, source_now: str, line: int | None, reason: str, *,
                     told: bool) -> None:
    """Keep ``pending`` (not applied because of ``reason``) with its ``result.not_applied``
    diagnostic on ``line`` (its target's in ``source_now``); say so as the module docstring has
    it (``told``: the user's own "Apply")."""
    uri, name = pending.uri, pending.name
    ls.pending.put(pending, reason=reason)
    entry = None if line is None else stale_entry(name, name.rsplit(".", 1)[-1], line, reason)
    if entry is not None:
        entry.code = NOT_APPLIED
        entry.message = f"specloop's result ({outcome(pending.result)}) was not applied: {reason}"
    ls.registry.replace_target(uri, source_now, name, [] if entry is None else [entry], kinds=("result",))
    ls.publish(uri)
    where = (f"the quick fix \"{APPLY_TITLE}\" on {name} applies it (\"{DIFF_TITLE}\", "
             f"\"{DISCARD_TITLE}\" are there too)")
    text = f"specloop: the result for {name} was not applied ({reason}); it is kept: {where}"
    if reviews_pending(ls):
        ls.log(text.removeprefix("specloop: "), types.MessageType.Warning)
    elif told or wants_messages(ls):
        ls.show(types.MessageType.Warning, text)
    else:
        ls.log(text.removeprefix("specloop: "), types.MessageType.Warning)


def discard(ls: Host, uri: str, target: str, text: str) -> bool:
    """Drop the kept result for ``target`` and the diagnostics that offer it (placed in ``text``,
    the document now); True when one was kept."""
    kept = ls.pending.pop(uri, target)
    if uri in ls.registry.docs:
        ls.registry.replace_target(uri, text, target, [], kinds=("result",))
        ls.publish(uri)
    if kept is not None:
        ls.log(f"{target}: the result was discarded; the code is unchanged")
    return kept is not None
