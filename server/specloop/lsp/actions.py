"""Code actions and code lenses.  Both only look at the text (no model, no
sandbox) and never raise on a file that does not parse: it has no targets.  The
targets come from :mod:`.documents` (a ``Known``): found off the event loop, and
while the user types, those of the last parse with their lines moved by the edits
since (a target whose header is being typed in is left out until the next parse).

* On a range touching a stub (its decorators, def, body, or the ``# spec:``
  comment block above it): "Implement NAME from spec" (kind
  ``refactor.rewrite.specloop``, command ``specloop.generate``), and, when the
  file has several specs to implement, "Implement all N specs in this file"
  (``specloop.generateAll``).  N counts the jobs ``specloop run FILE`` runs
  (``classspec.file_jobs``): a class spec is one job, its method stubs are its
  components, not jobs of their own.
* For specloop diagnostics sent back in the context (kind ``quickfix``):
  on a finding about the code, "Fix: <finding>" (``specloop.fix``: a job with
  the finding as feedback) and "Dismiss: <finding>" (``specloop.dismiss``),
  titles cut to about 60 characters so that two findings on one line can be
  told apart.  On a class result, a finding on one of its methods is that
  method's: its Fix re-implements that method alone, with the finding as
  feedback.  A finding on the class as a whole (it names no method) offers only
  Dismiss: the class job takes no feedback, and re-implementing the whole class
  would throw away every method's tested code for one finding
  (``runner.fixable``).  On the ``test.failed`` of an attempt that was not applied,
  "Apply the best attempt anyway" (``specloop.applyResult``), "Show the best
  attempt" (``specloop.showResult``), "Show the diff of the best attempt"
  (``specloop.showDiff``: a ``.diff`` file opened with ``window/showDocument``, which
  plain clients such as Neovim and eglot can show; see ``commands``), "Try
  again" (``specloop.generate``) and "Discard the best attempt" (``specloop.discardResult``); on ``spec.stale``: "Apply specloop's result
  anyway", "Show specloop's result" and "Show the diff of specloop's result";
  on ``job.error``: "Try again" and "Dismiss: ..."; on ``spec.drift``:
  "Re-check NAME against the spec" (``specloop.recheck``) and "Re-implement
  NAME from the spec" (``specloop.reimplement``).
* On the header or docstring lines of a class spec (``classspec``: a class whose
  body is its docstring, or that and method stubs): "Implement class NAME from
  spec" (same kind and command, the class's name as target), and "Implement
  all N specs" as on a stub.  A method stub of that class keeps its own action.
* Code lenses above each stub and class spec: "Implement NAME from spec" /
  "Implement class NAME from spec"; while a job runs on a target, its phase
  (``specloop.status``) and "Cancel" (``specloop.cancel``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types

from .. import targets
from ..source.spec import Pos, Range
from . import offers
from .apply import document_text
from .diagnostics import Entry
from .documents import Known
from .positions import from_lsp_range, to_lsp_range
from .runner import fixable

if TYPE_CHECKING:
    from .host import Host

KIND = "refactor.rewrite.specloop"
GENERATE, GENERATE_ALL, CANCEL = "specloop.generate", "specloop.generateAll", "specloop.cancel"
FIX, DISMISS, APPLY, SHOW, STATUS = ("specloop.fix", "specloop.dismiss", "specloop.applyResult",
                                     "specloop.showResult", "specloop.status")
PREVIEW, DIFF = "specloop.previewResult", "specloop.showDiff"
RECHECK, REIMPLEMENT = "specloop.recheck", "specloop.reimplement"
DISCARD = "specloop.discardResult"
TITLE_LIMIT = 60


def titled(verb: str, what: str, limit: int = TITLE_LIMIT) -> str:
    """``"Fix: zero-sized sides are not mentioned"``: one line, cut to ``limit`` characters."""
    text = f"{verb}: {' '.join(what.split())}"
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def implement_title(target: Any) -> str:
    return targets.of(target).title(target)


def _touches(target: Any, rng: Range, lines: list[str]) -> bool:
    """Whether ``rng`` touches the lines where the target's "Implement" is offered."""
    span = targets.of(target).action_lines(target, lines)
    return span is not None and span[0] <= rng.end.line and rng.start.line <= span[1]


def _wanted(kind: str, only: list[str] | None) -> bool:
    return not only or any(kind == o or kind.startswith(o + ".") for o in only)


def code_actions(ls: Host, params: types.CodeActionParams, known: Known) -> list[types.CodeAction | types.Command]:
    """The code actions on ``params.range`` of the text ``known`` is for (see
    :mod:`.documents`: its targets may be moved from an older parse)."""
    uri = params.text_document.uri
    doc = ls.workspace.get_text_document(uri)
    lines = known.lines
    rng = from_lsp_range(lines, params.range, doc.position_codec)
    only = [str(k.value if hasattr(k, "value") else k) for k in (params.context.only or [])]
    actions: list[types.CodeAction] = []

    if _wanted(KIND, only):
        offered = [t for t in known.targets if _touches(t, rng, lines)]
        for target in offered:
            arg = {"uri": uri, "target": target.qualname}
            actions.append(types.CodeAction(title=implement_title(target), kind=KIND, command=types.Command(
                title=implement_title(target), command=GENERATE, arguments=[arg])))
        jobs = targets.jobs(targets.by_kind(known.targets))
        if offered and len(jobs) > 1:
            title = f"Implement all {len(jobs)} specs in this file"
            actions.append(types.CodeAction(title=title, kind=KIND, command=types.Command(
                title=title, command=GENERATE_ALL, arguments=[{"uri": uri}])))

    if _wanted(types.CodeActionKind.QuickFix.value, only):
        sent = list(params.context.diagnostics or [])
        for entry in ls.registry.match(uri, sent, (rng.start.line, rng.end.line)):
            actions += _quick_fixes(ls, uri, entry)

    literal = ls.client_capabilities.text_document
    literal_ok = bool(literal and literal.code_action and literal.code_action.code_action_literal_support)
    if not literal_ok:
        return [a.command for a in actions if a.command is not None]
    return actions


def _quick_fixes(ls: Host, uri: str, entry: Entry) -> list[types.CodeAction]:
    diags = [d for d in ls.registry.to_lsp(uri, ls.workspace.position_codec) if (d.data or {}).get("id") == entry.id]
    arg: dict[str, Any] = {"uri": uri, "target": entry.qualname, "id": entry.id}
    result_arg: dict[str, Any] = {"uri": uri, "target": entry.qualname}
    quick = types.CodeActionKind.QuickFix

    def action(title: str, command: str, argument: dict[str, Any] = arg) -> types.CodeAction:
        return types.CodeAction(title=title, kind=quick, diagnostics=diags,
                                command=types.Command(title=title, command=command, arguments=[argument]))

    if entry.code == "spec.stale":
        return [action("Apply specloop's result anyway", APPLY, result_arg),
                action("Show specloop's result", SHOW, result_arg),
                action("Show the diff of specloop's result", DIFF, result_arg),
                action(offers.DISCARD_TITLE, DISCARD, result_arg)]
    if entry.code == offers.NOT_APPLIED:
        return [action(offers.APPLY_TITLE, APPLY, result_arg), action(offers.DIFF_TITLE, DIFF, result_arg),
                action(offers.SHOW_TITLE, SHOW, result_arg), action(offers.DISCARD_TITLE, DISCARD, result_arg)]
    if entry.kind == "result" and entry.code == "test.failed":
        return [action("Apply the best attempt anyway", APPLY, result_arg),
                action("Show the best attempt", SHOW, result_arg),
                action("Show the diff of the best attempt", DIFF, result_arg), action("Try again", GENERATE, result_arg),
                action("Discard the best attempt", DISCARD, result_arg)]
    if entry.code == "spec.drift":
        return [action(f"Re-check {entry.name} against the spec", RECHECK, result_arg),
                action(f"Re-implement {entry.name} from the spec", REIMPLEMENT, result_arg)]
    if entry.code == "job.error":
        return [action("Try again", GENERATE, result_arg), action(titled("Dismiss", entry.message), DISMISS)]
    dismiss = action(titled("Dismiss", entry.message), DISMISS)
    if not fixable(document_text(ls, uri)[0], entry.qualname):     # a class as a whole: see the module doc
        return [dismiss]
    return [action(titled("Fix", entry.message), FIX), dismiss]


def code_lenses(ls: Host, uri: str, known: Known) -> list[types.CodeLens]:
    """The code lenses of the text ``known`` is for (see :mod:`.documents`)."""
    doc = ls.workspace.get_text_document(uri)
    text, lines = known.text, known.lines
    codec = doc.position_codec
    lenses: list[types.CodeLens] = []
    seen: set[str] = set()

    def at(line: int) -> types.Range:
        return to_lsp_range(lines, Range(Pos(line, 0), Pos(line, 0)), codec)

    def job_lenses(line: int, qualname: str, message: str) -> None:
        arg = {"uri": uri, "target": qualname}
        lenses.append(types.CodeLens(range=at(line), command=types.Command(
            title=f"specloop: {qualname}: {message}", command=STATUS, arguments=[arg])))
        lenses.append(types.CodeLens(range=at(line), command=types.Command(
            title="Cancel", command=CANCEL, arguments=[arg])))

    for target in sorted(known.targets, key=lambda t: t.def_range.start.line if t.def_range else 0):
        line = target.def_range.start.line if target.def_range else 0
        seen.add(target.qualname)
        job = ls.jobs.get(uri, target.qualname)
        if job is not None:
            job_lenses(line, target.qualname, job.message)
        else:
            title = implement_title(target)
            lenses.append(types.CodeLens(range=at(line), command=types.Command(
                title=title, command=GENERATE, arguments=[{"uri": uri, "target": target.qualname}])))
    for job in ls.jobs.for_uri(uri):
        if job.qualname not in seen:
            line = targets.line_of(text, job.qualname)
            if line is not None:
                job_lenses(line, job.qualname, job.message)
    return lenses
