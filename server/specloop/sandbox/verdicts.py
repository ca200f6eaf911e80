"""What a run's records are worth: the verdicts, decided here, outside the processes that ran.

Records come through a pipe, each carrying the run's token; a line without it, a duplicate
record, or an id no test of this run has makes the whole run *tampered*: every test of it
counts as failed (:func:`untrusted`).  A run passes only if the worker reported ``done``, the
supervisor reported ``exit`` after it, and every authoritative test has exactly one record;
pytest's own error statuses are errors of the run (:func:`pytest_error`).  A skipped
authoritative test fails unless it skips with the stub too; doctest output is compared with
the examples here (:func:`doctests.check_outside`).  A test that fails judged by value may be
judged again in-process (:func:`fallback`).
"""

from __future__ import annotations

import json
import re
import signal
from dataclasses import replace
from typing import Awaitable, Callable

from .doctests import check_outside
from .projectenv import NO_PROJECT_PYTHON_HINT, ProjectPython
from .request import Plan, SandboxRequest, in_process
from ..results import TestOutcome, TestRun
from ..settings import Settings

_OUTCOMES = ("passed", "failed", "error", "skipped")
RunAll = Callable[[SandboxRequest, bool], Awaitable[TestRun]]   # Sandbox._run_all


async def fallback(run_all: RunAll, req: SandboxRequest, run: TestRun, verify: bool) -> TestRun:
    """``run`` (judged by value) with its failing authoritative tests judged again in-process,
    where the request allows it (a candidate the policy does not flag): some real tests cannot
    be judged across the wall (an object the candidate keeps and the test reads later, module
    state), or not in time (a run that timed out is made again whole, in-process).  A test
    that passes there counts as passed, ``judged="in-process"``; a run of it that errs or is
    not trusted changes nothing."""
    if not req.in_process_fallback or run.judged != "value" or run.tampered:
        return run
    if run.timed_out:   # slow across the wall (every call copies its objects): all of it once more
        again = await run_all(in_process(req), verify)
        if again.error or again.tampered:
            return run
        again.outcomes = [replace(o, judged="in-process") if o.authoritative else o for o in again.outcomes]
        again.seconds += run.seconds
        return again
    if run.error:
        return run
    failing = {o.id for o in run.outcomes if o.authoritative and o.outcome != "passed"
               and not o.message.startswith(("not run:", "test not found", "test file not found"))}
    if not failing:
        return run
    files = [t for t in req.tests if any(i == t.name or i.startswith(t.name + "::") for i in failing)]
    names = {t.name for t in files}
    user = [i for i in failing if i.split("::", 1)[0] not in names]
    again = await run_all(in_process(req, tests=files, user_tests=user), verify)
    if again.error or again.tampered:
        return run
    passed = {o.id for o in again.outcomes if o.outcome == "passed" and o.authoritative}
    run.outcomes = [replace(o, outcome="passed", message="", expected=None, actual=None, line=None,
                            judged="in-process") if o.id in failing and o.id in passed else o
                    for o in run.outcomes]
    run.seconds += again.seconds
    return run


def collect(plan: Plan, lines: list[bytes], timed_out: bool, seconds: float, isolation: str, python: ProjectPython,
            settings: Settings) -> TestRun:
    """The run's outcomes and error, decided here from the records it wrote (``lines``)."""
    run = TestRun(timed_out=timed_out, seconds=seconds, isolation=isolation, python=python.path,
                  python_source=python.source, left_out=list(plan.left_out),
                  judged="value" if plan.candidate is not None else "in-process")
    outcomes: dict[str, TestOutcome] = {}
    running: dict[str, bool] = {}
    fatal = exit_rec = done = env_rec = None
    tampered: str | None = None
    for raw in lines:
        try:
            rec = json.loads(raw)
        except ValueError:
            rec = None
        if not isinstance(rec, dict) or rec.get("token") != plan.token:
            tampered = tampered or "a line on the results channel did not come from the test harness"
            continue
        kind = rec.get("kind")
        if kind == "start" and isinstance(rec.get("id"), str):
            running[rec["id"]] = True
        elif kind == "test":
            oid = rec.get("id")
            auth = authoritative(plan, oid)
            if auth is None:
                tampered = tampered or f"a result for a test this run does not have: {str(oid)[:80]}"
                continue
            if oid in outcomes:
                tampered = tampered or f"two results for one test: {oid}"
                continue
            running.pop(oid, None)
            outcomes[oid], forged = _outcome(plan, rec, oid, auth, python)
            if forged:
                tampered = tampered or f"{oid} passed in the test process but its output does not match"
        elif kind == "fatal":
            fatal = fatal or rec
        elif kind == "env":
            env_rec = env_rec or rec
        elif kind == "done":
            done = done or rec
        elif kind == "exit":
            exit_rec = rec
    found = list(outcomes.values())
    for nodeid in plan.missing:
        found.append(TestOutcome(nodeid, "error", f"test file not found: {nodeid.partition('::')[0]}"))
    interrupted = None
    tail = _last_line(str((exit_rec or {}).get("tail") or ""))
    missing = [m for m in (env_rec or {}).get("missing") or [] if isinstance(m, list) and len(m) == 3]
    if missing:
        names = ", ".join(f"{m[0]} ({m[1]})" for m in missing)
        run.hint = (f"the project's pytest config asks for {names}, which {python.path} "
                    f"({python.source}) does not have: {fix_hint(python)}")
    if timed_out:
        run.error = interrupted = f"timed out after {settings.test_timeout:g} s"
    elif fatal is not None and fatal.get("reason") == "no-pytest":
        run.error = f"{python.path} has no pytest: {fatal.get('error')} ({python.source}; {fix_hint(python)})"
    elif fatal is not None and fatal.get("reason") == "missing-plugins":
        run.error = run.hint or f"the project's pytest config asks for plugins {python.path} does not have"
    elif fatal is not None:
        run.error = f"sandbox runner failed: {fatal.get('error')}"
    elif exit_rec is None:
        run.error = f"test process ended unexpectedly: {tail or 'no output'}"
    elif "signal" in exit_rec:
        sig = int(exit_rec["signal"])
        name = signal.Signals(sig).name if sig in signal.valid_signals() else str(sig)
        reason = (f"exceeded the CPU time limit of {settings.cpu_seconds} s" if sig == signal.SIGXCPU
                  else f"was killed by {name}")
        run.error = interrupted = f"test process {reason}"
    elif exit_rec.get("terminated"):
        run.error = interrupted = "test process was stopped"
    elif done is None:
        run.error = interrupted = f"the test run did not finish (exit status {exit_rec.get('code')})"
    elif exit_rec.get("code") not in (0, 1, 5) or done.get("code") != exit_rec.get("code"):
        run.error = pytest_error(exit_rec)
        if python.own:
            run.error += f" (tests ran with specloop's own Python: {fix_hint(python)})"
    if interrupted:
        found.extend(TestOutcome(oid, "failed", interrupted, authoritative=bool(authoritative(plan, oid)))
                     for oid in running if oid not in outcomes)
    if run.error is None or interrupted:
        seen = [o.id for o in found]
        for name, tf in plan.files.items():
            if not any(i == name or i.startswith(name + "::") for i in seen):
                found.append(TestOutcome(name, "error", f"no tests collected from {name}",
                                         authoritative=tf.authoritative))
        for nodeid in plan.user_ids:
            if not any(i == nodeid or i.startswith((nodeid + "[", nodeid + "::")) for i in seen):
                found.append(TestOutcome(nodeid, "error", f"test not found: {nodeid}"))
    if run.hint:
        found = [o if o.outcome == "passed" or not o.authoritative else
                 TestOutcome(o.id, o.outcome, f"{o.message} ({run.hint})"[:600], o.expected, o.actual, o.line,
                             o.authoritative) for o in found]
    run.outcomes = found
    if tampered:
        untrusted(run, tampered)
    return run


def fix_hint(python: ProjectPython) -> str:
    """What to do about a Python that lacks the project's test dependencies."""
    if python.source == "setting":
        return f"install the project's test dependencies into {python.path}"
    if python.own:
        return NO_PROJECT_PYTHON_HINT
    return f"install the project's test dependencies into {python.path}, or set python = \"...\""


def authoritative(plan: Plan, oid: object) -> bool | None:
    """Whether test ``oid`` is authoritative (decided here, not by the record); None: unknown id."""
    if not isinstance(oid, str):
        return None
    name = oid.split("::", 1)[0]
    if name in plan.files:
        return plan.files[name].authoritative
    for nodeid in plan.user_ids:
        if oid == nodeid or oid.startswith((nodeid + "[", nodeid + "::")) or \
                ("::" not in nodeid and oid.startswith(nodeid + "::")):
            return True
    return None


def _outcome(plan: Plan, rec: dict, oid: str, auth: bool, python: ProjectPython) -> tuple[TestOutcome, bool]:
    """The test's outcome as decided here, and whether the run claimed a pass that the
    outside check of its doctest output refutes (a forgery)."""
    outcome = rec.get("outcome") if rec.get("outcome") in _OUTCOMES else "error"
    message = str(rec.get("message") or "")
    forged = False
    tf = plan.files.get(oid.split("::", 1)[0])
    if outcome == "passed" and tf is not None and tf.doctest is not None:
        why = check_outside(tf.doctest, oid, rec.get("got"), plan.optionflags)
        if why is not None:
            outcome, message, forged = "failed", f"doctest checked outside the run: {why}", True
    if outcome == "skipped" and auth and oid in plan.skipped_anyway:
        message = (f"skipped here whatever the body ({message or 'no reason'}); not counted"
                   + (f"; {fix_hint(python)}" if python.own else ""))
    elif outcome == "skipped" and auth:
        outcome = "failed"
        message = f"skipped ({message or 'no reason'}): an authoritative test that does not run is not a pass"
    line = rec.get("line")
    return TestOutcome(id=oid, outcome=outcome, message=message[:300],
                       expected=_text(rec.get("expected")), actual=_text(rec.get("actual")),
                       line=line if isinstance(line, int) else None, authoritative=auth), forged


def untrusted(run: TestRun, why: str) -> None:
    """The run's own reports are not trusted: every test of it fails, saying why."""
    run.tampered = why
    run.error = run.error or f"results not trusted: {why}"
    run.outcomes = [TestOutcome(o.id, "failed", f"not trusted: {why}", authoritative=o.authoritative)
                    for o in run.outcomes]


_EXIT_MEANING = {2: "was interrupted", 3: "stopped with an internal error", 4: "refused its command line or config"}


def pytest_error(exit_rec: dict) -> str:
    """One line for a pytest run that ended with an error status (never its pass count): what
    the status means and the first line of the error in its output."""
    code = exit_rec.get("code")
    head = str(exit_rec.get("head") or "")
    tail = str(exit_rec.get("tail") or "")
    lines = [ln.rstrip() for ln in (head + "\n" + tail).splitlines() if ln.strip()]
    line = ""
    if code == 3:
        internal = [ln[len("INTERNALERROR>"):].strip() for ln in lines if ln.startswith("INTERNALERROR>")]
        errors = [ln for ln in internal if re.match(r"^[\w.]+(Error|Exception|Warning|Exit|Interrupt)\b.*", ln)
                  or re.match(r"^E\s+\w", ln)]
        line = (errors or internal or [""])[-1]
    else:
        errors = [ln for ln in lines if ln.startswith(("ERROR:", "ImportError while", "E ", "Error"))]
        line = (errors or [_last_line(tail)])[0]
        detail = [ln[1:].strip() for ln in lines if ln.startswith("E ")]
        if line.startswith("ImportError while") and detail:
            line = f"{line} {detail[-1]}"
    meaning = _EXIT_MEANING.get(code, "ended") if isinstance(code, int) else "ended"
    return f"pytest {meaning} (exit status {code}): {line.strip()[:300]}".rstrip(": ")


def _text(value: object) -> str | None:
    return None if value is None else str(value)[:1000]


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith(("E ", "ERROR", "ImportError", "Traceback"))]
    return (errors or lines or [""])[-1][:300]
