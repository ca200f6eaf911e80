"""The engine: one job turns one target into the best tested implementation.

Flow: context -> oracle tests (doctest examples + the user's tests that mention
the target: authoritative) and model-written tests (advisory) -> ``candidates``
first samples (each with its own seed and temperature; the same program is
tested once) -> a search step by step (``search.decide``: repair with the
failures quoted, or a new sample) until an attempt passes, ``max_iterations``
rounds or the token budget run out -> critic -> one targeted fix round for what
it flags -> a verification run of a passing result -> the best attempt, with an
honest status.  Every decision is traced (``decision`` records: step and why).

Rules the loop keeps:

* A candidate the static policy (``policy.py``) refuses is never run; its
  findings are ``critic.security`` findings and go into the fix prompt.
* Test anchors: a repair that breaks an authoritative test which passed in the
  attempt it repaired is rejected; the best attempt is kept.
* An advisory test that still fails after a repair while every authoritative
  test passes is *disputed*: reported, then ignored (not obeyed).
* ``passed`` means at least one test ran, every authoritative and undisputed
  advisory test passed in a run whose reports were trusted, and the result
  passed its verification run.  A job with no test at all ends ``failed`` with
  the reason "untested", so a green status is never a guess.
* Cancellation (the task is cancelled) kills the sandbox and re-raises
  ``asyncio.CancelledError``; front ends report ``cancelled``.

The engine imports nothing from pygls or lsprotocol; it reports through
``emit(Event)``.
"""

from __future__ import annotations

import ast
import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import policy, prompts, search
from .candidate import Candidate, parse_candidate
from .context import build_context, find_user_tests
from .edits import TextEdit, candidate_module, implementation_edits
from .model import BudgetExceeded, ModelClient, ModelError, Sample
from .results import Event, Finding, JobResult, TestOutcome, TestRun
from .sandbox import Sandbox, SandboxRequest, TestFile, doctest_text, make_doctest_file, module_name_for
from .settings import Settings
from .spec import Target, find_target
from .trace import Trace

Emit = Callable[[Event], None]

LOCAL_PREFIX = "specloop-local/"
DOCTEST_FILE = "test_specloop_doctests.py"
MODEL_TEST_FILE = "test_specloop_model.py"


class StaleTarget(Exception):
    """The target changed (or vanished) since the job started."""


@dataclass
class Attempt:
    candidate: Candidate
    run: TestRun
    iteration: int
    security: list[Finding] = field(default_factory=list)   # what the static policy refused

    def outcomes(self, ignore: set[str]) -> list[TestOutcome]:
        return [o for o in self.run.outcomes if o.id not in ignore and o.outcome != "skipped"]

    def failing(self, ignore: set[str]) -> list[TestOutcome]:
        failing = [o for o in self.outcomes(ignore) if o.outcome != "passed"]
        if self.run.error and not failing:  # a run that did not end cleanly proves nothing
            failing.append(TestOutcome("<test run>", "error", self.run.error))
        return failing

    def passing_authoritative(self) -> set[str]:
        return {o.id for o in self.run.outcomes if o.authoritative and o.outcome == "passed"}

    def trusted_pass(self, ignore: set[str]) -> bool:
        """Every test it counts passed, in a run whose reports were trusted, with no policy finding."""
        return (not self.security and self.run.error is None and self.run.tampered is None
                and bool(self.outcomes(ignore)) and not self.failing(ignore))


@dataclass
class _Job:
    source: str
    path: Path
    target: Target
    settings: Settings
    workspace: Path
    emit: Emit
    trace: Trace
    client: ModelClient
    sandbox: Sandbox
    module_name: str
    context: str = ""
    tests: list[TestFile] = field(default_factory=list)
    user_tests: list[str] = field(default_factory=list)
    disputed: dict[str, TestOutcome] = field(default_factory=dict)
    best: Attempt | None = None
    iterations: int = 0
    findings: list[Finding] = field(default_factory=list)
    model_tests: str | None = None
    stop_reason: str | None = None
    verify_error: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    seen: dict[str, asyncio.Future] = field(default_factory=dict)   # normalized program -> its test
    samples: int = 0

    @property
    def local(self) -> bool:
        return self.client.model.startswith(LOCAL_PREFIX)

    def next_sample(self) -> Sample:
        self.samples += 1
        return search.sample(self.settings, self.samples - 1)

    # -- reporting --------------------------------------------------------------
    def phase(self, name: str, message: str, percent: int) -> None:
        self.emit(Event("phase", self.target.qualname, message=message, percent=percent, data={"phase": name}))
        self.trace.write("phase", phase=name, message=message)

    def report_tests(self, attempt: Attempt) -> None:
        outs = attempt.outcomes(set(self.disputed))
        passed = sum(o.outcome == "passed" for o in outs)
        self.emit(Event("tests", self.target.qualname, message=f"{passed}/{len(outs)} passed",
                        data={"passed": passed, "failed": len(outs) - passed, "total": len(outs)}))
        self.trace.write("tests", iteration=attempt.iteration, isolation=attempt.run.isolation,
                         error=attempt.run.error, seconds=attempt.run.seconds,
                         outcomes=[o.to_dict() for o in attempt.run.outcomes])

    # -- steps ----------------------------------------------------------------
    async def ask_code(self, step: str, messages: list[dict], sample: Sample | None = None) -> Candidate:
        """A code reply.  The local model's unusable first answers are not re-asked: a re-ask
        costs a whole generation and rarely helps a 135M model; the search samples anew."""
        return await self.client.complete(step, messages, parse=lambda reply: parse_candidate(
            prompts.parse_code(reply), self.target), sample=sample, reask=not (self.local and step == "generate"))

    async def try_candidate(self, candidate: Candidate, iteration: int, repair_of: Attempt | None = None) -> Attempt:
        """Test ``candidate`` (once per distinct program) and let it compete for best."""
        key = search.normalized(candidate)
        running = self.seen.get(key)
        if running is not None:  # the same program: wait for its one test run
            earlier = await running
            attempt = replace(earlier, iteration=iteration)
            self.trace.write("duplicate", iteration=iteration, same_as=earlier.iteration)
            self.emit(Event("log", self.target.qualname,
                            message=f"the same program as attempt {earlier.iteration}: not tested again"))
        else:
            running = self.seen[key] = asyncio.ensure_future(self.test(candidate, iteration))
            attempt = await running
        self.attempts.append(attempt)
        self.consider(attempt, repair_of)
        return attempt

    def request(self, candidate: Candidate) -> SandboxRequest:
        return SandboxRequest(module_path=self.path, candidate_source=candidate_module(self.source, self.target,
                              candidate), workspace=self.workspace, tests=self.tests, user_tests=self.user_tests)

    async def test(self, candidate: Candidate, iteration: int) -> Attempt:
        security = policy.check("\n".join([*candidate.imports, candidate.function_code]))
        if security:
            # refused before it runs: code that reaches into the harness never gets a verdict
            run = TestRun(error="refused by the security policy: " + security[0].message)
            self.trace.write("policy", iteration=iteration, findings=[f.to_dict() for f in security])
            self.emit(Event("log", self.target.qualname, message=run.error))
        else:
            run = await self.sandbox.run(self.request(candidate))
            if run.tampered:
                security = [Finding("security", "error", f"the test run's reports were forged or damaged "
                                    f"({run.tampered}); do not touch the test harness or its output")]
        attempt = Attempt(candidate, run, iteration, security)
        self.report_tests(attempt)
        return attempt

    async def verify(self) -> str | None:
        """The final check of a passing best attempt: a fresh cold run, built differently
        (other process, token and descriptors, tests in reverse order).  None: it passed too."""
        best = self.best
        run = await self.sandbox.run(self.request(best.candidate), verify=True)
        self.trace.write("verify", error=run.error, tampered=run.tampered,
                         outcomes=[o.to_dict() for o in run.outcomes])
        again = Attempt(best.candidate, run, best.iteration)
        ignore = set(self.disputed)
        if again.trusted_pass(ignore):
            return None
        failing = again.failing(ignore)
        why = run.tampered or run.error or (f"{failing[0].id}: {failing[0].message}" if failing else "no test ran")
        return f"the result did not pass its verification run: {why}"

    def consider(self, attempt: Attempt, repair_of: Attempt | None = None) -> bool:
        """Keep ``attempt`` as the best one unless it ranks lower or, as a repair, breaks an
        authoritative test that passed before (test anchors)."""
        ignore = set(self.disputed)
        if self.best is None:
            self.best = attempt
            return True
        broken = repair_of.passing_authoritative() - attempt.passing_authoritative() if repair_of else set()
        if broken:
            self.trace.write("anchor", rejected_iteration=attempt.iteration, broken=sorted(broken))
            self.emit(Event("log", self.target.qualname,
                            message=f"rejected a fix that broke {len(broken)} passing test(s): {sorted(broken)[0]}"))
            return False
        if search.rank(attempt, self.attempts, ignore) >= search.rank(self.best, self.attempts, ignore):
            self.best = attempt
            return True
        return False

    def update_disputed(self, before: Attempt) -> None:
        """After a fix round: advisory tests that failed before it and still fail, while every
        authoritative test passes, are disputed."""
        ignore = set(self.disputed)
        failing = self.best.failing(ignore)
        if any(o.authoritative for o in failing):
            return
        failed_before = {o.id for o in before.failing(ignore)}
        for o in failing:
            if o.id in failed_before:
                self.disputed[o.id] = o
                self.emit(Event("log", self.target.qualname, message=f"disputed model test {o.id}: {o.message}"))

    async def write_model_tests(self) -> None:
        import_line = prompts.import_line(self.module_name, self.target)
        try:
            text = await self.client.complete(
                "tests", prompts.tests_messages(self.target, self.context, import_line),
                parse=lambda reply: _checked_test_module(prompts.parse_code(reply)))
        except BudgetExceeded:
            raise
        except ModelError as exc:
            self.emit(Event("log", self.target.qualname, message=f"no model tests: {exc}"))
            return
        self.model_tests = text
        self.tests.append(TestFile(MODEL_TEST_FILE, text, authoritative=False))


def _checked_test_module(text: str) -> str:
    tree = ast.parse(text)
    if not any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test")
               for n in ast.walk(tree)):
        raise ValueError("the test module defines no test_ function")
    return text


def _kept_tests(text: str, keep_ids: set[str]) -> str | None:
    """The model test module without the tests that did not pass on the final code."""
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    drop: list[tuple[int, int]] = []
    kept = 0
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            if f"{MODEL_TEST_FILE}::{node.name}" in keep_ids:
                kept += 1
            else:
                start = min([d.lineno for d in node.decorator_list] + [node.lineno]) - 1
                drop.append((start, node.end_lineno))
    if not kept:
        return None
    for start, end in reversed(drop):
        del lines[start:end]
    return "".join(lines)


def _status(job: _Job) -> tuple[str, str | None]:
    best = job.best
    if best is None:
        return "error", job.stop_reason or "no usable candidate"
    ignore = set(job.disputed)
    outs = best.outcomes(ignore)
    if best.security:
        return "failed", f"security: {best.security[0].message}"
    if best.run.error:
        return "failed", best.run.error
    if not outs:
        return "failed", "untested: no doctest examples, user tests or model tests to check it against"
    if best.failing(ignore):
        return "failed", job.stop_reason
    if job.verify_error:
        return "failed", job.verify_error
    return "passed", None


async def implement(
    source: str,
    path: Path,
    target: Target,
    settings: Settings,
    *,
    workspace: Path,
    emit: Emit | None = None,
    feedback: list[Finding] | None = None,
) -> JobResult:
    """Run one job on ``target`` in ``source`` (the text of ``path``; the file is never written)."""
    started = time.monotonic()
    emit = emit or (lambda event: None)
    path = Path(path).resolve()
    workspace = Path(workspace).resolve()
    trace = Trace(workspace, target.qualname, enabled=settings.trace)
    trace.write("job", target=target.qualname, path=str(path), settings=settings.model_dump())
    result = JobResult(name=target.qualname, status="error", fingerprint=target.fingerprint,
                       trace_path=str(trace.path) if trace.path else None)
    def on_usage(usage) -> None:
        emit(Event("tokens", target.qualname, data={
            "prompt": usage.prompt_tokens, "completion": usage.completion_tokens, "cost_usd": usage.cost_usd}))

    client = None
    try:
        client = ModelClient(settings, target=target.qualname, trace=trace,
                             cache_dir=workspace / ".specloop" / "cache")
        client.on_usage = on_usage
        job = _Job(source, path, target, settings, workspace, emit, trace, client,
                   Sandbox(settings, workspace), module_name_for(path)[0])
        await _run(job, feedback or [])
    except (ModelError, ValueError, OSError) as exc:
        # configuration problems, sandbox construction errors: nothing was produced
        result.error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        trace.write("error", error=result.error)
        if client is not None:
            result.usage = client.usage
        result.seconds = time.monotonic() - started
        emit(Event("phase", target.qualname, message=f"error: {result.error}", percent=100, data={"phase": "done"}))
        return result
    except asyncio.CancelledError:
        trace.write("cancelled", seconds=round(time.monotonic() - started, 3))
        raise

    status, reason = _status(job)
    best = job.best
    ignore = set(job.disputed)
    result.status = status
    result.error = reason
    result.iterations = job.iterations
    result.usage = client.usage
    result.findings = [*(best.security if best is not None else []), *job.findings]
    result.disputed = list(job.disputed.values())
    if best is not None:
        outs = best.outcomes(ignore)
        result.passed = sum(o.outcome == "passed" for o in outs)
        result.failed = len(outs) - result.passed
        result.failures = best.failing(ignore)
        result.function_code = best.candidate.function_code
        result.imports = list(best.candidate.imports)
        if job.model_tests and settings.keep_tests:
            keep = {o.id for o in best.run.outcomes if o.outcome == "passed" and not o.authoritative}
            result.kept_tests = _kept_tests(job.model_tests, keep)
    result.seconds = time.monotonic() - started
    trace.write("result", **{k: v for k, v in result.summary_dict().items() if k != "trace"})
    summary = f"{status}: {result.passed}/{result.passed + result.failed} tests"
    emit(Event("phase", target.qualname, message=summary, percent=100, data={"phase": "done"}))
    return result


async def _run(job: _Job, feedback: list[Finding]) -> None:
    settings, target = job.settings, job.target
    job.phase("context", "reading context", 5)
    job.context = model_context(job.client.model, job.source, target, job.path, job.workspace, settings)
    job.user_tests = find_user_tests(target, job.path, job.workspace)
    if target.examples:
        job.tests.append(TestFile(DOCTEST_FILE, make_doctest_file(job.module_name, target.qualname, target.examples),
                                  authoritative=True, doctest=doctest_text(target.examples)))
    await job.client.prepare(lambda message: job.phase("loading-model", message, 8))

    job.phase("generating", "generating", 10)
    if not await _first_round(job, feedback):
        return
    try:
        await _search(job)
        if settings.critic and job.best is not None and job.best.trusted_pass(set(job.disputed)):
            try:
                await _review(job)
            except ModelError as exc:
                if isinstance(exc, BudgetExceeded):
                    raise
                # the review is advice on code that already passed its tests: keep the code
                job.emit(Event("log", target.qualname, message=f"no review: {exc}"))
                job.trace.write("critic_error", error=str(exc))
    except BudgetExceeded as exc:
        job.stop_reason = str(exc)
        job.emit(Event("log", target.qualname, message=str(exc)))
    if job.best is not None and job.best.trusted_pass(set(job.disputed)):
        job.phase("verifying", "verifying", 97)
        job.verify_error = await job.verify()
        if job.verify_error:
            job.emit(Event("log", target.qualname, message=job.verify_error))


async def _first_round(job: _Job, feedback: list[Finding]) -> bool:
    """The first ``candidates`` samples (and the model's tests), tested.  A local model answers
    one request at a time, so its candidates are asked and tested one by one and the round
    stops at the first that passes; a remote model is asked for all at once."""
    settings, target = job.settings, job.target
    messages = prompts.generate_messages(target, job.context, feedback)
    job.iterations = 1
    errors: list[Exception] = []
    if job.local:
        if settings.model_tests:
            await job.write_model_tests()
        for _ in range(settings.candidates):
            reply = await _settled(job.ask_code("generate", messages, job.next_sample()))
            if isinstance(reply, Exception):
                errors.append(reply)
                if isinstance(reply, BudgetExceeded):
                    break
                continue
            job.phase("testing", "testing", 30)
            if (await job.try_candidate(reply, 1)).trusted_pass(set(job.disputed)):
                break
    else:
        asks = [job.ask_code("generate", messages, job.next_sample()) for _ in range(settings.candidates)]
        if settings.model_tests:
            asks.append(job.write_model_tests())
        replies = await asyncio.gather(*asks, return_exceptions=True)
        for reply in replies:
            if isinstance(reply, BaseException) and not isinstance(reply, Exception):
                raise reply  # cancellation of one ask cancels the job
        errors = [r for r in replies if isinstance(r, Exception)]
        candidates = [r for r in replies[:settings.candidates] if isinstance(r, Candidate)]
        if candidates:
            job.phase("testing", "testing", 30)
            await asyncio.gather(*(job.try_candidate(c, 1) for c in candidates))
    if job.best is None:
        budget = next((e for e in errors if isinstance(e, BudgetExceeded)), None)
        job.stop_reason = str(budget or (errors[0] if errors else "no candidate"))
        return False
    return True


async def _search(job: _Job) -> None:
    """Repair or resample, step by step, until an attempt passes or the budget is spent."""
    settings = job.settings
    fruitless = 0
    while job.iterations < settings.max_iterations:
        ignore = set(job.disputed)
        best = job.best
        if best.trusted_pass(ignore):
            return
        step, why = search.decide(best, ignore, capable=not job.local, fruitless_repairs=fruitless)
        job.iterations += 1
        job.trace.write("decision", iteration=job.iterations, step=step, why=why, best_iteration=best.iteration)
        job.emit(Event("log", job.target.qualname, message=f"{step}: {why}"))
        percent = 30 + 55 * job.iterations // settings.max_iterations
        try:
            if step == "repair":
                job.phase("fixing", f"fixing {job.iterations}/{settings.max_iterations}", percent)
                attempt = await _repair(job, best)
                improved = attempt is not None and job.best is attempt and \
                    search.rank(attempt, job.attempts, ignore) > search.rank(best, job.attempts, ignore)
                fruitless = 0 if improved else fruitless + 1
                job.update_disputed(best)
            else:
                job.phase("resampling", f"new sample {job.iterations}/{settings.max_iterations}", percent)
                candidate = await job.ask_code("generate", prompts.generate_messages(job.target, job.context),
                                               job.next_sample())
                await job.try_candidate(candidate, job.iterations)
                fruitless = 0
        except ModelError as exc:
            if isinstance(exc, BudgetExceeded):
                raise
            job.stop_reason = str(exc)
            job.emit(Event("log", job.target.qualname, message=f"{step} failed: {exc}"))
            if exc.kind != "parse":
                return  # the model is unreachable or misconfigured: more asks will not help
            fruitless += 1


async def _repair(job: _Job, before: Attempt, findings: list[Finding] | None = None) -> Attempt | None:
    """One fix of ``before`` with its failures (and ``findings``) quoted; anchors hold."""
    ignore = set(job.disputed)
    security = before.security
    failing = [o for o in before.failing(ignore) if not security or o.id != "<test run>"]
    candidate = await job.ask_code("fix", prompts.fix_messages(
        job.target, job.context, before.candidate.function_code, failing, [*security, *(findings or [])]))
    job.phase("testing", "testing", min(88, 35 + 55 * job.iterations // job.settings.max_iterations))
    attempt = await job.try_candidate(candidate, job.iterations, repair_of=before)
    return attempt


def model_context(model: str, source: str, target: Target, path: Path, workspace: Path,
                  settings: Settings) -> str:
    """The context the model sees besides the target's own header and spec.

    The 135M local model copies whatever module text it sees instead of writing
    the target (measured on examples/specs.py), so it gets none."""
    if model.startswith(LOCAL_PREFIX):
        return ""
    return build_context(source, target, path=path, workspace=workspace, max_tokens=settings.context_tokens)


async def _settled(ask):
    """``await ask``, returning an ``Exception`` instead of raising it (as gather does)."""
    try:
        return await ask
    except Exception as exc:
        return exc


async def _review(job: _Job) -> None:
    job.phase("reviewing", "reviewing", 88)
    verdict, findings = await job.client.complete(
        "critic", prompts.critic_messages(job.target, job.context, job.best.candidate.function_code),
        parse=prompts.parse_critic)
    job.trace.write("critic", verdict=verdict, findings=[f.to_dict() for f in findings])
    if verdict == "request_changes" and findings and job.iterations < job.settings.max_iterations:
        reviewed = job.best
        job.iterations += 1
        job.phase("fixing", "addressing review", 90)
        job.trace.write("decision", iteration=job.iterations, step="repair", why="the critic requested changes")
        try:
            await _repair(job, reviewed, findings)
        except ModelError as exc:
            if isinstance(exc, BudgetExceeded):
                raise
            job.emit(Event("log", job.target.qualname, message=f"fix failed: {exc}"))
        if job.best is not reviewed:
            job.phase("reviewing", "reviewing again", 95)
            verdict, findings = await job.client.complete(
                "critic", prompts.critic_messages(job.target, job.context, job.best.candidate.function_code),
                parse=prompts.parse_critic)
            job.trace.write("critic", verdict=verdict, findings=[f.to_dict() for f in findings])
    job.findings = findings if verdict == "request_changes" else [f for f in findings if f.severity == "info"]
    for finding in job.findings:
        job.emit(Event("finding", job.target.qualname, message=finding.message, data=finding.to_dict()))


# -- results back into text -------------------------------------------------------------

def result_edits(source_now: str, result: JobResult) -> list[TextEdit]:
    """Edits placing ``result`` into the document as it is now.

    Raises :class:`StaleTarget` when the target is gone, is no longer a stub,
    or its header/spec changed since the job started."""
    target = find_target(source_now, result.name)
    if target is None:
        raise StaleTarget(f"{result.name} is gone or no longer a stub")
    if target.fingerprint != result.fingerprint:
        raise StaleTarget(f"the spec of {result.name} changed while specloop worked")
    return result_edits_anyway(source_now, result)


def result_edits_anyway(source_now: str, result: JobResult) -> list[TextEdit]:
    """Like :func:`result_edits` but applies over a changed spec (the target must still be a stub)."""
    if result.function_code is None:
        raise StaleTarget(f"no code to apply for {result.name}")
    target = find_target(source_now, result.name)
    if target is None:
        raise StaleTarget(f"{result.name} is gone or no longer a stub")
    candidate = replace(parse_candidate(result.function_code, target), imports=list(result.imports))
    return implementation_edits(source_now, target, candidate)


def kept_tests_path(workspace: Path, path: Path, settings: Settings) -> Path:
    """Where a job's kept model tests go (``settings.tests_path``, relative to the workspace)."""
    return Path(workspace) / settings.tests_path.format(module=Path(path).stem)
