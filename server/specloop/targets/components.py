"""A class or module spec end to end: plan -> parallel generation of the components ->
review of the whole -> targeted fixes of what it flags -> one result placing it all.

Flow of :func:`implement_class` (a module spec, :func:`implement_module`, is the same
with functions for methods: its plan is function stubs below the ``# spec:`` block,
its review is ``prompts.module_critic_messages``, its result a ``ModuleResult``):

1. **Plan** (``plan.py``, step ``plan``): the class with every component as a stub,
   placed into the module text (the *planned* module).  An invalid plan gets one
   re-ask; then the job ends in ``error``.
2. **Generate and judge the assembled code** (``assembly.py``): one ``generate``
   request per component, ``__init__`` first (the others see the state it sets up),
   the rest at once, at most ``parallel_jobs`` at a time (an ``asyncio.Semaphore``);
   nothing is tested alone.  The planned module with every component in place is run
   against every test at once: each component's examples, the class docstring's (the
   block's) examples, the user's tests of the class or functions, the components'
   model tests.  Examples that use other methods are expected.  Failing tests blame
   components (``blame.py``); only the blamed are asked again (a ``fix`` that shows the
   assembled class), judged again on the assembled code.
3. **Review** (step ``critic``, ``prompts.class_critic_messages``): findings name
   their method (a ``method`` field, else the line they point at); only flagged
   methods run again, with the findings as the ``feedback`` of their job (their
   first request is a ``generate`` that quotes them); the others are not asked
   again.  At most ``review_rounds`` rounds of review and fixes, then one last
   review of what the fixes produced (as the function loop does).
4. **Result**: a verification run of an assembled result that passes; the class
   passes when the assembled code passed every test and every component passed
   (its own examples; one without examples: every test that reaches it).  The
   counts are the assembled run's distinct tests.  The result (:class:`ClassResult`)
   carries the class body after the docstring, placed by ``placement.result_edits``
   as one edit (stale rules as for functions).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path

from .. import loop
from ..model import prompts
from .assembly import OWN, Assembly
from ..source.classspec import ClassResult, ClassTarget, class_body_of
from ..source.modulespec import ModuleResult, ModuleTarget, functions_of
from ..model.client import BudgetExceeded, ModelClient, ModelError, capabilities
from ..source.placement import component_tests
from .plan import ask_plan, planned_module_source, planned_source
from ..results import Finding, JobResult, Log, Phase, Planned, Tokens
from ..settings import Settings
from ..trace import Trace


class _Run(Assembly):
    """The components of one class or module-spec job (:class:`assembly.Assembly`), as the
    review (:func:`_review`) sees them."""

    def passing(self) -> set[str]:
        return {n for n in self.plan.names if self.best is not None and n in self.best.codes
                and self.exercising(n, self.best) and all(o.outcome == "passed" for o in self.exercising(n, self.best))}

    def module_for(self, *, failing_too: bool = False) -> str:
        """The planned module with every component's current code in place."""
        return self.assembled_text()


async def implement_class(source: str, path: Path, target: ClassTarget, settings: Settings, *,
                          workspace: Path, emit=None) -> ClassResult:
    """Run a class job on ``target`` in ``source`` (the text of ``path``; nothing is written)."""
    return await _implement(source, path, target, settings, workspace=workspace, emit=emit)


async def implement_module(source: str, path: Path, target: ModuleTarget, settings: Settings, *,
                           workspace: Path, emit=None) -> ModuleResult:
    """Run a module-spec job on ``target`` in ``source`` (nothing is written)."""
    return await _implement(source, path, target, settings, workspace=workspace, emit=emit)


async def _implement(source: str, path: Path, target, settings: Settings, *, workspace: Path, emit=None):
    started = time.monotonic()
    emit = emit or (lambda event: None)
    path, workspace = Path(path).resolve(), Path(workspace).resolve()
    trace = Trace(workspace, target.qualname, enabled=settings.trace)
    trace.write("class_job", target=target.qualname, path=str(path), settings=settings.model_dump())
    is_class = isinstance(target, ClassTarget)
    trace_path = str(trace.path) if trace.path else None
    result: ClassResult | ModuleResult = (
        ClassResult(name=target.qualname, status="error", fingerprint=target.fingerprint,
                    body_indent=target.body_indent, trace_path=trace_path) if is_class else
        ModuleResult(name=target.qualname, status="error", fingerprint=target.fingerprint, trace_path=trace_path))

    def phase(name: str, message: str, percent: int) -> None:
        emit(Phase(target.qualname, name, message, percent))
        trace.write("phase", phase=name, message=message)

    def done(error: str | None = None):
        if error:
            result.error = error
            trace.write("error", error=error)
        result.seconds = time.monotonic() - started
        phase("done", error or f"{result.status}: {len(result.components)} components", 100)
        return result

    client = None
    try:
        client = ModelClient(settings, target=target.qualname, trace=trace, cache_dir=workspace / ".specloop" / "cache")
        client.on_usage = lambda usage: emit(Tokens(target.qualname, usage.prompt_tokens, usage.completion_tokens,
                                                     usage.cost_usd, client.id))
        # the context module's rule, as for a function: the module's names, your tests that mention
        # the class, the code around the spec; bounded in tokens, none for the local model
        context = await asyncio.to_thread(loop.model_context, client.model, source, target, path, workspace, settings)
        await client.prepare(lambda message: phase("loading-model", message, 3))
        phase("planning", "planning the components", 5)
        plan = await ask_plan(client, target, context)
    except (ModelError, ValueError, OSError) as exc:
        if client is not None:
            result.usage.add(client.usage)
        return done(f"plan: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    planned = planned_source(source, target, plan) if is_class else planned_module_source(source, target, plan)
    trace.write("plan", components=plan.names)
    emit(Planned(target.qualname, tuple(plan.names)))
    run = _Run(target, plan, planned, path, settings, workspace, emit, trace,
               parallel=capabilities(client.model).parallel, source=source)
    try:
        await run.setup()
    except (ValueError, OSError) as exc:
        result.usage.add(client.usage)
        return done(f"the tests could not be set up: {exc}")

    phase("generating", f"generating {len(plan.names)} components", 10)
    await run.first()
    findings: list[Finding] = []
    if settings.critic and settings.review_rounds > 0 and run.passing() and run.stop is None:
        try:
            findings = await _review(run, client, context, trace, phase)
        except ModelError as exc:
            if isinstance(exc, BudgetExceeded):
                result.error = str(exc)
            emit(Log(target.qualname, f"no review: {exc}"))
            trace.write("critic_error", error=str(exc))
    phase("verifying", "verifying the assembled code", 96)
    await run.verify()
    _fill(result, run, findings, client)
    trace.write("result", **{k: v for k, v in result.summary_dict().items() if k not in ("trace", "components", "kind")})
    return done()


def _fill(result: ClassResult | ModuleResult, run: _Run, findings: list[Finding], client: ModelClient) -> None:
    """The class (module spec) result from the assembled run: the counts are those of its
    distinct tests; it passes when the assembled code passed them all and every component
    passed (the module docstring of ``assembly``)."""
    target, plan = run.target, run.plan
    final = run.module_for(failing_too=True)
    result.components = [run.result(n) for n in plan.names]
    result.findings = findings + [f for r in result.components for f in r.findings]
    best = run.best
    outs = run.outcomes(best) if best is not None else []
    result.passed = sum(o.outcome == "passed" for o in outs)
    result.failed = len(outs) - result.passed
    result.failures = run.failing(best) if best is not None else []
    judged = [o.judged or best.run.judged for o in outs if o.authoritative] if best is not None else []
    result.by_value, result.in_process = judged.count("value"), len(judged) - judged.count("value")
    result.disputed = list(run.disputed.values())
    result.iterations = sum(r.iterations for r in result.components)
    result.usage.add(client.usage)
    for r in result.components:
        result.usage.add(r.usage)
    result.imports = list(dict.fromkeys(i for r in result.components if r.function_code for i in r.imports))
    # the components' kept model tests, as a function job keeps its own: one module for the tests file
    result.kept_tests = component_tests([(r.name, r.kept_tests) for r in result.components if r.kept_tests])
    if isinstance(result, ClassResult):
        result.class_body, result.function_code = class_body_of(final, target.name)
    else:
        result.functions, result.function_code = plan.names, functions_of(final, plan.names)
    failing = [r for r in result.components if r.status != "passed"]
    own = [o for o in result.failures if run.owner.get(o.id.split("::", 1)[0]) == OWN]
    what = "class" if isinstance(target, ClassTarget) else "module"
    if best is not None and best.run.error is None and own:
        result.status = "failed"
        result.error = result.error or (f"the spec's own examples fail on the assembled {what}: "
                                        f"{own[0].id}: {own[0].message}")
    elif failing or best is None or not run.trusted(best) or run.verify_error:
        worst = "error" if all(r.function_code is None for r in result.components) else "failed"
        result.status = worst
        why = (f"{failing[0].name}: {failing[0].error or failing[0].status}" if failing
               else run.verify_error or (result.failures[0].message if result.failures else "no test ran"))
        result.error = result.error or run.stop or why
    else:
        result.status = "passed"


async def _review(run: _Run, client: ModelClient, context: str, trace: Trace, phase) -> list[Finding]:
    """Review rounds; returns the findings still standing (info only when approved)."""
    names = set(run.plan.names)

    messages = prompts.class_critic_messages if run.is_class else prompts.module_critic_messages

    async def review() -> tuple[str, dict[str, list[Finding]], list[Finding]]:
        code = run.code(run.module_for())
        verdict, items = await client.complete("critic", messages(run.target, context, code or ""),
                                               parse=prompts.parse_class_critic)
        flagged = _flagged(items, code or "", names, in_class=run.is_class)
        trace.write("critic", verdict=verdict, findings=[{"method": m, **f.to_dict()} for m, f in items],
                    flagged=sorted(flagged))
        return verdict, flagged, [replace(f, method=m) if m in names else f for m, f in items]

    what = "the class" if run.is_class else "the functions"
    phase("reviewing", f"reviewing {what}", 88)
    verdict, flagged, findings = await review()
    for round_ in range(run.settings.review_rounds):
        if verdict != "request_changes" or not flagged:
            break
        phase("fixing", f"fixing {', '.join(sorted(flagged))} (review {round_ + 1})", 90)
        trace.write("decision", step="fix_flagged", components=sorted(flagged), why="the critic flagged them")
        await run.generate(sorted(flagged), flagged)
        phase("reviewing", f"reviewing {what} again", 94)
        verdict, flagged, findings = await review()
    return findings if verdict == "request_changes" else loop.approved(findings)


def _flagged(items: list[tuple[str | None, Finding]], code: str, names: set[str], *,
             in_class: bool = True) -> dict[str, list[Finding]]:
    """Findings per component: by the method (function) they name, else by the line they
    point at (a class is numbered from its class line, a module spec's functions from
    their first line); a finding's line is made relative to its component's def line (as
    the fix prompt reads it)."""
    import ast

    spans: dict[str, tuple[int, int]] = {}
    try:
        tree = ast.parse(code)
        base, body = 0, tree.body
        if in_class:
            cls = next(n for n in tree.body if isinstance(n, ast.ClassDef))
            base, body = cls.lineno - 1, cls.body
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                spans[node.name] = (node.lineno - base, node.end_lineno - base)  # type: ignore[operator]
    except (SyntaxError, ValueError, StopIteration):
        pass
    out: dict[str, list[Finding]] = {}
    for method, finding in items:
        if method not in names and finding.line is not None:
            method = next((n for n, (a, b) in spans.items() if a <= finding.line <= b), None)
        if method not in names:
            continue
        line = finding.line - spans[method][0] + 1 if finding.line is not None and method in spans \
            and spans[method][0] <= finding.line <= spans[method][1] else None
        out.setdefault(method, []).append(Finding(finding.category, finding.severity, finding.message, line))
    return out


def component_lines(result: JobResult) -> list[str]:
    """One line per component of a class result (the terminal output lists them)."""
    lines = []
    for c in getattr(result, "components", []):
        lines.append(f"    {c.name}: {c.status} {c.passed}/{c.passed + c.failed} tests · "
                     f"{c.iterations} iteration{'s' if c.iterations != 1 else ''}")
    return lines
