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

* A function's candidate is judged by value (its own process, see ``_sandbox_bridge.py``):
  what the static policy (``policy.py``) flags is advice -- ``critic.security`` warnings
  in the result and the fix prompt -- and only what the sandbox cannot contain (leaving
  the process tree without bubblewrap) is refused.  A candidate judged in-process that the
  policy flags is never run; its findings go into the fix prompt.
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
``emit(event)``, one small type per kind of event (:data:`specloop.results.Event`).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .model import prompts
from . import search
from .source.candidate import Candidate
from .context.gather import build_context, find_user_tests
from .job import Attempt, Emit, Job, kept_tests
from .model.client import BudgetExceeded, ModelClient, ModelError, Sample, capabilities
from .results import Finding, Found, JobResult, Log, Phase, Tokens
from .sandbox.runs import Sandbox, doctest_file, module_name_for
from .settings import Settings
from .source.spec import Target
from .trace import Trace


def _here(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return fn(*args, **kwargs)


# How a job's context and its user tests are computed: ``compute(fn, *args, **kwargs)`` with a
# function of context.py or usertests.py, always called from a worker thread.  Here by
# default; the language server sets it to :func:`specloop.lsp.offload.call`, which runs them
# in a process of its own, so that their parsing does not take the GIL from its event loop.
compute: Callable[..., Any] = _here


def _compute(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return compute(fn, *args, **kwargs)


def _status(job: Job) -> tuple[str, str | None]:
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
    judge: tuple[str, tuple[str, ...], bool] | None = None,
) -> JobResult:
    """Run one job on ``target`` in ``source`` (the text of ``path``; the file is never written).
    ``judge``: (the module as written, every target, a module spec?) for a class or module spec's
    component, whose ``source`` holds the other components' code (see ``Job.judge``)."""
    started = time.monotonic()
    emit = emit or (lambda event: None)
    path = Path(path).resolve()
    workspace = Path(workspace).resolve()
    trace = Trace(workspace, target.qualname, enabled=settings.trace)
    trace.write("job", target=target.qualname, path=str(path), settings=settings.model_dump())
    result = JobResult(name=target.qualname, status="error", fingerprint=target.fingerprint,
                       trace_path=str(trace.path) if trace.path else None)
    def on_usage(usage) -> None:
        emit(Tokens(target.qualname, usage.prompt_tokens, usage.completion_tokens, usage.cost_usd, client.id))

    client = None
    try:
        client = ModelClient(settings, target=target.qualname, trace=trace,
                             cache_dir=workspace / ".specloop" / "cache")
        client.on_usage = on_usage
        # the first Sandbox of a process probes bubblewrap (a subprocess): off the event loop
        sandbox = await asyncio.to_thread(Sandbox, settings, workspace)
        job = Job(source, path, target, settings, workspace, emit, trace, client,
                  sandbox, module_name_for(path)[0], judge=judge)
        await _run(job, feedback or [])
    except (ModelError, ValueError, OSError) as exc:
        # configuration problems, sandbox construction errors: nothing was produced
        result.error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        trace.write("error", error=result.error)
        if client is not None:
            result.usage = client.usage
        result.seconds = time.monotonic() - started
        emit(Phase(target.qualname, "done", f"error: {result.error}", 100))
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
    result.findings = [*(best.security if best is not None else []), *(best.advice if best is not None else []),
                       *job.findings]
    result.disputed = list(job.disputed.values())
    if best is not None:
        outs = best.outcomes(ignore)
        result.passed = sum(o.outcome == "passed" for o in outs)
        result.failed = len(outs) - result.passed
        result.failures = best.failing(ignore)
        judged = [o.judged or best.run.judged for o in outs if o.authoritative]
        result.by_value, result.in_process = judged.count("value"), len(judged) - judged.count("value")
        result.function_code = best.candidate.function_code
        result.imports = list(best.candidate.imports)
        if job.model_tests and settings.keep_tests:
            keep = {o.id for o in best.run.outcomes if o.outcome == "passed" and not o.authoritative}
            result.kept_tests = kept_tests(job.model_tests, keep)
    result.seconds = time.monotonic() - started
    trace.write("result", **{k: v for k, v in result.summary_dict().items() if k != "trace"})
    summary = f"{status}: {result.passed}/{result.passed + result.failed} tests"
    emit(Phase(target.qualname, "done", summary, 100))
    return result


LOCAL_OFF = ("model_tests", "critic")


def local_defaults(settings: Settings) -> Settings:
    """For a model whose advice is not worth asking by default (``Capabilities.advice``: the
    local 135M model's tests and reviews were unusable in most calls and never changed an
    outcome on HumanEval/0-39, bench/README.md, at twice the tokens) model tests and the
    critic are off unless a setting turns them on explicitly."""
    off = {key: False for key in LOCAL_OFF if key not in settings.model_fields_set}
    return settings.model_copy(update=off) if off else settings


async def _run(job: Job, feedback: list[Finding]) -> None:
    if not job.caps.advice:
        job.settings = local_defaults(job.settings)
    settings, target = job.settings, job.target
    job.phase("context", "reading context", 5)
    job.user_tests = await asyncio.to_thread(_compute, find_user_tests, target, job.path, job.workspace)
    job.context = await asyncio.to_thread(model_context, job.client.model, job.source, target, job.path,
                                          job.workspace, settings)   # parses the module: off the event loop
    if target.examples:
        job.tests.append(doctest_file(job.module_name, target.qualname, target.examples))
    await job.client.prepare(lambda message: job.phase("loading-model", message, 8))

    job.phase("generating", "generating", 10)
    if not await _first_round(job, feedback):
        return
    try:
        await _search(job)
        await _advise(job)
        if settings.critic and job.best is not None and job.best.trusted_pass(set(job.disputed)):
            try:
                await _review(job)
            except ModelError as exc:
                if isinstance(exc, BudgetExceeded):
                    raise
                # the review is advice on code that already passed its tests: keep the code
                job.emit(Log(target.qualname, f"no review: {exc}"))
                job.trace.write("critic_error", error=str(exc))
    except BudgetExceeded as exc:
        job.stop_reason = str(exc)
        job.emit(Log(target.qualname, str(exc)))
    if job.best is not None and job.best.trusted_pass(set(job.disputed)):
        job.phase("verifying", "verifying", 97)
        job.verify_error = await job.verify()
        if job.verify_error:
            job.emit(Log(target.qualname, job.verify_error))


async def _first_round(job: Job, feedback: list[Finding]) -> bool:
    """The first ``candidates`` samples (and the model's tests), tested.  A model that answers
    one request at a time (``caps.parallel`` false: the local model) is asked and tested one
    candidate after another and the round stops at the first that passes; others are asked
    for all at once."""
    settings, target = job.settings, job.target
    messages = prompts.generate_messages(target, job.context, feedback)
    job.iterations = 1
    errors: list[Exception] = []
    if not job.caps.parallel:
        if settings.model_tests:
            await job.write_model_tests()
        asked = 0
        while asked < settings.candidates or (job.best is None and job.iterations < settings.max_iterations):
            if asked >= settings.candidates:   # every answer so far unusable: another sample, another round
                job.iterations += 1
                job.trace.write("decision", iteration=job.iterations, step="resample",
                                why="no usable answer yet (this model's answers are not re-asked)")
            asked += 1
            reply = await _settled(job.ask_code("generate", messages, job.next_sample()))
            if isinstance(reply, Exception):
                errors.append(reply)
                if isinstance(reply, BudgetExceeded) or getattr(reply, "kind", "parse") != "parse":
                    break
                continue
            job.phase("testing", "testing", 30)
            if (await job.try_candidate(reply, job.iterations)).trusted_pass(set(job.disputed)):
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


async def _search(job: Job) -> None:
    """Repair or resample, step by step, until an attempt passes or the budget is spent."""
    settings = job.settings
    fruitless = 0
    while job.iterations < settings.max_iterations:
        ignore = set(job.disputed)
        best = job.best
        if best.trusted_pass(ignore):
            return
        step, why = search.decide(best, ignore, capable=job.caps.repairs, fruitless_repairs=fruitless)
        job.iterations += 1
        job.trace.write("decision", iteration=job.iterations, step=step, why=why, best_iteration=best.iteration)
        job.emit(Log(job.target.qualname, f"{step}: {why}"))
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
            job.emit(Log(job.target.qualname, f"{step} failed: {exc}"))
            if exc.kind != "parse":
                return  # the model is unreachable or misconfigured: more asks will not help
            fruitless += 1


async def _repair(job: Job, before: Attempt, findings: list[Finding] | None = None) -> Attempt | None:
    """One fix of ``before`` with its failures (and ``findings``) quoted; anchors hold."""
    ignore = set(job.disputed)
    security = before.security
    failing = [o for o in before.failing(ignore) if not security or o.id != "<test run>"]
    # the first repair of an attempt is plain; a later one has its own seed, so it is not the
    # very request that just failed (a deterministic model or the cache would answer it alike)
    program = search.normalized(before.candidate)
    again = job.repairs.get(program, 0)
    job.repairs[program] = again + 1
    sample = None if not again else Sample(job.settings.sample_temperature, seed=1000 + job.iterations)
    candidate = await job.ask_code("fix", prompts.fix_messages(
        job.target, job.context, before.candidate.function_code, failing,
        [*security, *before.advice, *(findings or [])]), sample)
    job.phase("testing", "testing", min(88, 35 + 55 * job.iterations // job.settings.max_iterations))
    attempt = await job.try_candidate(candidate, job.iterations, repair_of=before)
    return attempt


def model_context(model: str, source: str, target: Target, path: Path, workspace: Path,
                  settings: Settings) -> str:
    """The context the model sees besides the target's own header and spec.

    A model without ``module_context`` (the 135M local model copies whatever module text it
    sees instead of writing the target, measured on examples/specs.py) gets none.  Blocking:
    call it from a worker thread (it runs through :data:`compute`)."""
    if not capabilities(model).module_context:
        return ""
    return _compute(build_context, source, target, path=path, workspace=workspace,
                    max_tokens=settings.context_tokens)


async def _settled(ask):
    """``await ask``, returning an ``Exception`` instead of raising it (as gather does)."""
    try:
        return await ask
    except Exception as exc:
        return exc


async def _advise(job: Job) -> None:
    """A passing best attempt that the static policy flags (advice, when judged by value): one
    fix round with the findings quoted, where the model can take advice; the tests' anchors hold,
    and a passing fix without findings ranks above it.  What remains is a ``security`` warning."""
    best = job.best
    if best is None or not best.advice or not job.caps.advice or not best.trusted_pass(set(job.disputed)) \
            or job.iterations >= job.settings.max_iterations:
        return
    job.iterations += 1
    job.phase("fixing", "addressing security advice", 88)
    job.trace.write("decision", iteration=job.iterations, step="repair",
                    why="the static policy flags constructs of the passing code")
    try:
        await _repair(job, best)
    except ModelError as exc:
        if isinstance(exc, BudgetExceeded):
            raise
        job.emit(Log(job.target.qualname, f"fix failed: {exc}"))


def approved(findings: list[Finding]) -> list[Finding]:
    """The findings of a critic that approved: all kept (shown whatever the verdict), its
    errors and warnings marked ``approved`` (the editor shows them milder)."""
    return [f if f.severity == "info" else replace(f, approved=True) for f in findings]


async def _review(job: Job) -> None:
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
            job.emit(Log(job.target.qualname, f"fix failed: {exc}"))
        if job.best is not reviewed:
            job.phase("reviewing", "reviewing again", 95)
            verdict, findings = await job.client.complete(
                "critic", prompts.critic_messages(job.target, job.context, job.best.candidate.function_code),
                parse=prompts.parse_critic)
            job.trace.write("critic", verdict=verdict, findings=[f.to_dict() for f in findings])
    job.findings = findings if verdict == "request_changes" else approved(findings)
    for finding in job.findings:
        job.emit(Found(job.target.qualname, finding))
