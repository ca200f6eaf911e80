"""The server's commands (``workspace/executeCommand``; arguments: one object).

* ``specloop.generate`` ``{uri, target}``: start a job (replacing one on the
  same target); returns ``{"started", "target", "job"}`` at once.  On a
  function that is no longer a stub but has a kept result of a "Fix" job,
  that fix is tried again.
* ``specloop.generateAll`` ``{uri}``: a job for every spec in the file, as
  ``specloop run FILE`` has them (``classspec.run_targets``: a class spec is one
  job, its method stubs are its components).
* ``specloop.cancel`` ``{uri?, target?}``: cancel matching jobs (all without
  arguments); returns ``{"cancelled": [target, ...]}``.
* ``specloop.fix`` ``{uri, target, id}``: a targeted job with the diagnostic
  ``id`` as feedback (on a function; a finding on a method of a class is that
  method's; one on a class as a whole has no fix: ``runner.fixable``).
  ``specloop.dismiss`` ``{uri, id}``: drop a diagnostic.
* ``specloop.applyResult`` ``{uri, target}``: apply the kept result anyway
  (``{"applied", "detail"}``; ``"unchanged": true`` when the document already holds what
  the result says: nothing is sent, ``detail`` says "nothing to apply", :mod:`.offers`).
* ``specloop.discardResult`` ``{uri, target}``: drop the kept result and the diagnostic
  that offers it; the code is unchanged (``{"discarded"}``).
* ``specloop.showResult`` ``{uri, target}``: write the kept result to
  ``<workspace>/.specloop/results/<stem>.<qualname>.py`` and open it
  (``window/showDocument``) or say where it is (``{"path"}``).
* ``specloop.previewResult`` ``{uri, target}``: ``{"uri", "target", "status",
  "summary", "original", "proposed"}`` — the document text now and the text
  with the kept result placed as "apply anyway" would place it (``proposed``
  is ``null`` while it cannot be placed, e.g. the file does not parse) — or
  ``null`` when no result is kept for that target.
* ``specloop.showDiff`` ``{uri, target}``: the kept result as a unified diff (the quick
  fix "Show the diff of the best attempt"): from the document as the editor holds it now
  to the text with the result placed as "apply anyway" would place it, with enough
  context lines to show the whole function (header and docstring), under a header of
  ``#`` lines naming the target, its outcome and each failing test.  It is written to
  ``<workspace>/.specloop/results/<stem>.<qualname>.diff`` and opened with
  ``window/showDocument`` where the client supports that (Neovim opens it in the window
  with its ``diff`` highlighting, VS Code in an editor); elsewhere (eglot 1.9, Neovim 0.7) the diff goes to the log
  (``window/logMessage``) and a message names the file.  A file rather than a virtual
  document or a message: every client that opens files can show it, it outlives the
  message area, and ``git apply`` takes it from the workspace folder (paths ``a/FILE``,
  ``b/FILE`` relative to it; the ``#`` header is ignored).  While the result cannot be
  placed (the file does not parse) the diff adds the function alone (``/dev/null``).
  Returns ``{"path", "diff"}`` (``null`` values when nothing is kept).
* ``specloop.recheck`` ``{uri, target}``: run the authoritative tests of a function
  specloop implemented against its body as the editor holds it (the quick fix of
  ``spec.drift``); passing records its spec as it reads now.  Returns
  ``{"target", "status", "passed", "failed"}`` when done and says the outcome
  (``window/showMessage``).
* ``specloop.reimplement`` ``{uri, target}``: a job on an implemented function
  reduced to its spec again (the spec as it reads now); its result replaces the
  body under the usual rules.  Returns as ``specloop.generate`` does.
* ``specloop.status``: the jobs, kept results and settings, as JSON.

A malformed command (no object where one is expected, an argument missing or not a
string, a document that cannot be read) is answered with a JSON-RPC error "invalid
params" whose message is one line naming the command and what is wrong
(``specloop.generate: missing argument 'uri' (one object: {uri, target})``); the
server's log gets that line, never a traceback.
"""

from __future__ import annotations

import asyncio
import difflib
import functools
import inspect
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from .. import __version__
from ..source.classspec import run_targets
from ..source.locate import restub
from ..model.client import litellm_state
from ..results import Finding, failure_text
from . import actions, offers
from .offers import NOTHING_TO_APPLY
from .apply import (Unplaceable, apply_pending, document_text, place, result_path, result_text, show_result,
                    write_file)
from .jobs import ServerJob
from .pending import Pending
from .runner import fixable, job_target

if TYPE_CHECKING:
    from .host import Host

log = logging.getLogger(__name__)
DIFF_FAILURES = 10      # failing tests named in a diff's header


class BadArguments(JsonRpcInvalidParams):
    """A malformed command: answered with this one line, logged without a traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(message=message)


class _OneLine(logging.Filter):
    """pygls logs a handler's exception with its traceback; a :class:`BadArguments` is
    logged as its one line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, BadArguments):
            record.msg, record.args = "%s", (exc.message,)
            record.exc_info, record.exc_text, record.stack_info = None, None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


_ONE_LINE = _OneLine()


SHAPES = {actions.GENERATE: "{uri, target}", actions.GENERATE_ALL: "{uri}", actions.CANCEL: "{uri?, target?}",
          actions.FIX: "{uri, target, id}", actions.DISMISS: "{uri, id}"}    # the others: {uri, target}


def _arg(args: tuple[Any, ...], command: str, required: tuple[str, ...] = (),
         optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """Command arguments: one object, or positional (uri, target) strings.  Raises
    :class:`BadArguments` when an argument in ``required`` is missing, or one of
    ``required`` or ``optional`` other than ``id`` is not a string."""
    shape = SHAPES.get(command) or "{" + ", ".join([*required, *(f"{name}?" for name in optional)]) + "}"
    if args and isinstance(args[0], dict):
        arg = args[0]
    elif len(args) <= 2 and all(isinstance(value, str) for value in args):
        arg = dict(zip(("uri", "target"), args))
    else:
        wrong = (f"{len(args)} arguments" if len(args) > 2 else
                 next(type(value).__name__ for value in args if not isinstance(value, str)))
        raise BadArguments(f"{command}: the argument must be one object {shape}, not {wrong}")
    for name in required:
        if arg.get(name) is None:
            raise BadArguments(f"{command}: missing argument '{name}' (one object: {shape})")
    for name in (*required, *optional):
        value = arg.get(name)
        if name != "id" and value is not None and not isinstance(value, str):
            raise BadArguments(f"{command}: argument '{name}' must be a string, not {type(value).__name__}")
    return arg


def _unreadable(command: str, exc: Exception) -> BadArguments:
    """An OSError (a document that cannot be read, a file that cannot be written) or a
    document that is not UTF-8, as one line."""
    if isinstance(exc, UnicodeDecodeError):
        return BadArguments(f"{command}: the document is not UTF-8 text ({exc.reason})")
    what = getattr(exc, "strerror", None) or str(exc)
    where = getattr(exc, "filename", None)
    return BadArguments(f"{command}: {where}: {what}" if where else f"{command}: {what}")


def _checked(command: str) -> Any:
    """A command handler whose OSError or undecodable document is a :class:`BadArguments`
    (one line)."""
    def decorate(handler: Any) -> Any:
        if inspect.iscoroutinefunction(handler):
            @functools.wraps(handler)
            async def run_async(*args: Any) -> Any:
                try:
                    return await handler(*args)
                except (OSError, UnicodeDecodeError) as exc:
                    raise _unreadable(command, exc) from None
            return run_async

        @functools.wraps(handler)
        def run(*args: Any) -> Any:
            try:
                return handler(*args)
            except (OSError, UnicodeDecodeError) as exc:
                raise _unreadable(command, exc) from None
        return run
    return decorate


def start(ls: Host, uri: str, qualname: str, *, feedback: list[Finding] | None = None,
          reimplement: bool = False) -> dict[str, Any]:
    """A job on ``qualname``.  On a function that is not a stub: with ``feedback`` (a fix) or
    ``reimplement``, the job works on the function reduced to its spec again."""
    text, _ = document_text(ls, uri)
    fix = False
    if job_target(text, qualname) is None:      # neither a function stub nor a class spec
        kept = ls.pending.get(uri, qualname)
        if feedback is None and kept is not None and kept.fix:     # "Try again" on a failed fix
            feedback, reimplement = kept.feedback, True
        fix = (feedback is not None or reimplement) and restub(text, qualname) is not None
        if not fix:
            ls.show(types.MessageType.Warning, f"specloop: no spec called {qualname} in this file")
            return {"started": False, "target": qualname}
    job = ls.jobs.start(ServerJob(uri=uri, qualname=qualname, name=qualname.rsplit(".", 1)[-1],
                            feedback=feedback, fix=fix))
    return {"started": True, "target": qualname, "job": job.id}


def preview(ls: Host, uri: str, target: str) -> dict[str, Any] | None:
    pending = ls.pending.get(uri, target)
    if pending is None:
        return None
    original, _ = document_text(ls, uri)
    try:
        _, proposed, _ = place(original, pending, force=True)
    except Unplaceable:
        proposed = None
    return {"uri": uri, "target": target, "status": pending.result.status, "summary": pending.summary,
            "original": original, "proposed": proposed}


def _unified(old: str, new: str, old_name: str, new_name: str, context: int) -> str:
    """A unified diff of two texts; a last line without a newline is marked as ``diff`` marks it."""
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 old_name, new_name, n=context)
    return "".join(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n"
                   for line in lines)


def result_diff(ls: Host, pending: Pending) -> str:
    """The text of ``specloop.showDiff``'s file (see the module docstring)."""
    result = pending.result
    try:
        rel = pending.path.resolve().relative_to(pending.workspace.resolve()).as_posix()
    except ValueError:
        rel = pending.path.name
    original, _ = document_text(ls, pending.uri)
    head = [f"specloop: the best attempt for {pending.name} in {rel}, not applied",
            pending.summary]
    for outcome in result.failures[:DIFF_FAILURES]:
        head.append(f"failing: {outcome.id}: {failure_text(outcome)}")
    if len(result.failures) > DIFF_FAILURES:
        head.append(f"... and {len(result.failures) - DIFF_FAILURES} more failing tests")
    if result.error:
        head.append(f"error: {' '.join(result.error.split())}")
    try:
        _, proposed, _ = place(original, pending, force=True)
    except Unplaceable as exc:
        head.append(f"it cannot be placed in {rel} now ({exc}): the diff adds the function alone")
        body = _unified("", result_text(result), "/dev/null", f"b/{rel}", 3)
    else:
        target = job_target(original, pending.name)
        span = target.def_range if target is not None else None
        context = max(3, span.end.line - span.start.line + 1) if span is not None else 3
        head.append(f"apply it: the quick fix \"Apply ... anyway\" on {pending.name}, "
                    f"or `git apply` this file in the workspace folder once {rel} is saved")
        body = _unified(original, proposed, f"a/{rel}", f"b/{rel}", context)
    return "".join(f"# {line}\n" for line in head) + body


async def show_diff(ls: Host, pending: Pending) -> dict[str, Any]:
    """Write the diff of ``pending`` next to its ``.py`` result and open it (or log it and say
    where it is)."""
    text = result_diff(ls, pending)
    path = result_path(pending).with_suffix(".diff")
    try:
        await asyncio.to_thread(write_file, path, text)
    except OSError as exc:
        ls.log(f"could not write {path}: {exc}\n{text}")
        return {"path": None, "diff": text}
    window = ls.client_capabilities.window
    if window is not None and window.show_document is not None and window.show_document.support:
        try:
            shown = await ls.window_show_document_async(types.ShowDocumentParams(uri=path.as_uri(), take_focus=True))
            if shown is None or shown.success:
                return {"path": str(path), "diff": text}
        except Exception as exc:
            log.info("showDocument failed: %s", exc)
    ls.log(f"the diff of the result for {pending.name}:\n{text}")
    ls.show(types.MessageType.Info, f"specloop: the diff of the result for {pending.name} is in {path}")
    return {"path": str(path), "diff": text}


def register(ls: Host) -> None:
    json_rpc = logging.getLogger("pygls.protocol.json_rpc")
    if _ONE_LINE not in json_rpc.filters:
        json_rpc.addFilter(_ONE_LINE)
    # handlers take ``ls: Any``: pygls evaluates their annotations at run time
    @ls.command(actions.GENERATE)
    @_checked(actions.GENERATE)
    def generate(ls: Any, *args: Any) -> dict[str, Any]:
        arg = _arg(args, actions.GENERATE, ("uri", "target"))
        return start(ls, arg["uri"], arg["target"])

    @ls.command(actions.GENERATE_ALL)
    @_checked(actions.GENERATE_ALL)
    def generate_all(ls: Any, *args: Any) -> dict[str, Any]:
        uri = _arg(args, actions.GENERATE_ALL, ("uri",))["uri"]
        names = [t.qualname for t in run_targets(document_text(ls, uri)[0])]   # a class is one job
        return {"started": [start(ls, uri, name)["target"] for name in names]}

    @ls.command(actions.CANCEL)
    def cancel(ls: Any, *args: Any) -> dict[str, Any]:
        arg = _arg(args, actions.CANCEL, optional=("uri", "target"))
        hit = ls.jobs.cancel(arg.get("uri"), arg.get("target"))
        return {"cancelled": [j.qualname for j in hit]}

    @ls.command(actions.FIX)
    @_checked(actions.FIX)
    def fix(ls: Any, *args: Any) -> dict[str, Any]:
        arg = _arg(args, actions.FIX, ("uri", "id"), ("target",))
        entry = ls.registry.find(arg["uri"], str(arg.get("id")))
        if entry is None:
            ls.show(types.MessageType.Warning, "specloop: that finding is gone (the code changed)")
            return {"started": False}
        if not fixable(document_text(ls, arg["uri"])[0], entry.qualname):
            ls.show(types.MessageType.Warning, f"specloop: a finding on {entry.qualname} as a whole has no fix: "
                                               "fix the method it concerns, or dismiss it")
            return {"started": False, "target": entry.qualname}
        data = entry.finding or {}
        if "category" in data:
            finding = Finding(**{k: data.get(k) for k in ("category", "severity", "message", "line")})
        else:
            finding = Finding(category="accuracy", severity="error", message=entry.message)
        return start(ls, arg["uri"], entry.qualname, feedback=[finding])

    @ls.command(actions.DISMISS)
    def dismiss(ls: Any, *args: Any) -> dict[str, Any]:
        arg = _arg(args, actions.DISMISS, ("uri", "id"))
        removed = ls.registry.remove(arg["uri"], str(arg.get("id")))
        if removed:
            ls.publish(arg["uri"])
        return {"dismissed": removed}

    def kept(ls: Any, arg: dict[str, Any]) -> Pending | None:
        pending = ls.pending.get(arg.get("uri", ""), arg.get("target", ""))
        if pending is None:
            ls.show(types.MessageType.Warning, f"specloop: no kept result for {arg.get('target')}")
        return pending

    @ls.command(actions.APPLY)
    @_checked(actions.APPLY)
    async def apply_result(ls: Any, *args: Any) -> dict[str, Any]:
        pending = kept(ls, _arg(args, actions.APPLY, ("uri", "target")))
        if pending is None:
            return {"applied": False}
        applied, what = await apply_pending(ls, pending, force=True)
        return {"applied": applied, "detail": what, **({"unchanged": True} if what == NOTHING_TO_APPLY else {})}

    @ls.command(actions.DISCARD)
    def discard_result(ls: Any, *args: Any) -> dict[str, Any]:
        arg = _arg(args, actions.DISCARD, ("uri", "target"))
        return {"discarded": offers.discard(ls, arg["uri"], arg["target"], document_text(ls, arg["uri"])[0])}

    @ls.command(actions.SHOW)
    @_checked(actions.SHOW)
    async def show_result_cmd(ls: Any, *args: Any) -> dict[str, Any]:
        pending = kept(ls, _arg(args, actions.SHOW, ("uri", "target")))
        return {"path": await show_result(ls, pending) if pending else None}

    @ls.command(actions.DIFF)
    @_checked(actions.DIFF)
    async def show_diff_cmd(ls: Any, *args: Any) -> dict[str, Any]:
        pending = kept(ls, _arg(args, actions.DIFF, ("uri", "target")))
        return await show_diff(ls, pending) if pending else {"path": None, "diff": None}

    @ls.command(actions.PREVIEW)
    @_checked(actions.PREVIEW)
    def preview_result(ls: Any, *args: Any) -> dict[str, Any] | None:
        arg = _arg(args, actions.PREVIEW, ("uri", "target"))
        return preview(ls, arg.get("uri", ""), arg.get("target", ""))

    @ls.command(actions.RECHECK)
    @_checked(actions.RECHECK)
    async def recheck(ls: Any, *args: Any) -> dict[str, Any]:
        arg = _arg(args, actions.RECHECK, ("uri", "target"))
        return await ls.drift.recheck(arg["uri"], arg["target"])

    @ls.command(actions.REIMPLEMENT)
    @_checked(actions.REIMPLEMENT)
    def reimplement(ls: Any, *args: Any) -> dict[str, Any]:
        arg = _arg(args, actions.REIMPLEMENT, ("uri", "target"))
        return start(ls, arg["uri"], arg["target"], reimplement=True)

    @ls.command(actions.STATUS)
    def status(ls: Any, *args: Any) -> dict[str, Any]:
        root = ls.workspace.root_path
        settings = ls.settings.settings_for(Path(root).resolve() if root else None)
        return {"version": __version__, "settings": settings.model_dump(),
                "jobs": [j.describe() for j in ls.jobs.jobs.values()],
                "kept_results": [{"uri": p.uri, "target": p.name} for p in ls.pending],
                "pending": ls.pending.describe(),
                "running": ls.jobs.counts()[0], "queued": ls.jobs.counts()[1],
                "model_layer": litellm_state(),
                "model_layer_loaded": litellm_state()["state"] == "loaded"}
