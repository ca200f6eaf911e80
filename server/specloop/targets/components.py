"""A class or module spec end to end: plan -> parallel generation of the components ->
review of the whole -> targeted fixes of what it flags -> one result placing it all.

Flow of :func:`implement_class` (a module spec, :func:`implement_module`, is the same
with functions for methods: its plan is function stubs below the ``# spec:`` block,
its review is ``prompts.module_critic_messages``, its result a ``ModuleResult``):

1. **Plan** (``plan.py``, step ``plan``): the class with every component as a stub,
   placed into the module text (the *planned* module).  An invalid plan gets one
   re-ask; then the job ends in ``error``.
2. **Generate**: one ``loop.implement`` job per component, on a module text where
   every other component is its current best *passing* code or still its stub
   (:meth:`_Run.module_for`).  ``__init__`` goes first (every other method needs
   the state it sets up); the rest run at once, at most ``parallel_jobs`` at a
   time (an ``asyncio.Semaphore``).  A component that failed while others were
   still stubs is tried once more against the module with the others' passing code
   (components may call each other).  Component jobs run without their own critic:
   the class is reviewed as a whole.
3. **Review** (step ``critic``, ``prompts.class_critic_messages``): findings name
   their method (a ``method`` field, else the line they point at); only flagged
   methods run again, with the findings as the ``feedback`` of their job (their
   first request is a ``generate`` that quotes them); the others are not asked
   again.  At most ``review_rounds`` rounds of review and fixes, then one last
   review of what the fixes produced (as the function loop does).
4. **Check and result**: the class docstring's own examples run against the
   assembled module; the class passes when every component passed and those
   examples pass.  The result (:class:`ClassResult`) carries the class body after
   the docstring, placed by ``placement.result_edits`` as one edit (stale rules as
   for functions).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path

from .. import loop
from ..sandbox import policy
from ..model import prompts
from ..source.classspec import ClassResult, ClassTarget, class_body_of
from ..source.modulespec import ModuleResult, ModuleTarget, functions_of
from ..source.edits import apply_edits
from ..model.client import BudgetExceeded, ModelClient, ModelError, capabilities
from ..source.placement import StaleTarget, component_tests, result_edits
from .plan import Plan, ask_plan, planned_module_source, planned_source
from ..results import Finding, JobResult, Log, Phase, Planned, Tokens
from ..sandbox.runs import Sandbox, SandboxRequest, doctest_file, module_name_for
from ..settings import Settings
from ..source.spec import find_target
from ..trace import Trace

INIT = "__init__"


class _Run:
    def __init__(self, target: ClassTarget | ModuleTarget, plan: Plan, planned: str, path: Path, settings: Settings,
                 workspace: Path, emit, parallel: bool = True, source: str = "") -> None:
        self.target, self.plan, self.planned = target, plan, planned
        self.source = source   # the module as written: what the judge imports (judged by value)
        self.path, self.workspace, self.emit = path, workspace, emit
        self.settings = settings.model_copy(update={"critic": False})   # the class is reviewed as a whole
        # a model that answers one request at a time (the local one) gets one component at a time
        self.gate = asyncio.Semaphore(settings.parallel_jobs if parallel else 1)
        self.results: dict[str, JobResult] = {}
        self.seen_by: dict[str, set[str]] = {}    # component -> the passing components its last job saw

    @property
    def is_class(self) -> bool:
        return isinstance(self.target, ClassTarget)

    def qual(self, name: str) -> str:
        return f"{self.target.name}.{name}" if self.is_class else name

    def code(self, text: str) -> str | None:
        """The whole class, or the module spec's functions, in ``text``."""
        if self.is_class:
            return class_body_of(text, self.target.name)[1]
        return functions_of(text, self.plan.names)

    def passing(self) -> set[str]:
        return {n for n, r in self.results.items() if r.status == "passed" and r.function_code}

    def module_for(self, skip: str | None = None, *, failing_too: bool = False) -> str:
        """The planned module with every other component's best passing code placed (with
        ``failing_too`` also failing attempts: the text a --write-failing result holds)."""
        text = self.planned
        for name in self.plan.names:
            r = self.results.get(name)
            if name == skip or r is None or r.function_code is None:
                continue
            if r.status != "passed" and not failing_too:
                continue
            try:
                text = apply_edits(text, result_edits(text, r))
            except (StaleTarget, ValueError):
                continue
        return text

    async def one(self, name: str, feedback: list[Finding] | None = None) -> JobResult:
        async with self.gate:
            self.seen_by[name] = self.passing() - {name}
            text = self.module_for(skip=name)
            target = find_target(text, self.qual(name))
            if target is None:
                return JobResult(name=self.qual(name), status="error", error="the planned stub was not found")
            return await loop.implement(text, self.path, target, self.settings, workspace=self.workspace,
                                        emit=self.emit, feedback=feedback, judge=self.judge())

    def judge(self) -> tuple[str, tuple[str, ...], bool]:
        """Judged by value: the module as written, every component a target (a test of one method
        calls the others), and whether tests may use other top-level names (a module spec)."""
        return self.source, tuple(self.qual(n) for n in self.plan.names), not self.is_class

    def keep(self, name: str, result: JobResult) -> None:
        """A new result replaces the old one unless the old one passed and the new one did not."""
        old = self.results.get(name)
        if old is not None and old.status == "passed" and result.status != "passed":
            return
        self.results[name] = result

    async def generate(self, names: list[str], feedback: dict[str, list[Finding]] | None = None) -> None:
        feedback = feedback or {}
        found = await asyncio.gather(*(self.one(n, feedback.get(n)) for n in names))
        for name, result in zip(names, found):
            self.keep(name, result)


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
    run = _Run(target, plan, planned, path, settings, workspace, emit, capabilities(client.model).parallel, source)

    phase("generating", f"generating {len(plan.names)} components", 10)
    first = [INIT] if INIT in plan.names else []
    if first:
        await run.generate(first)
    await run.generate([n for n in plan.names if n not in first])
    # components that failed while others were stubs: once more with the others' passing code
    again = [n for n in plan.names if run.results[n].status in ("failed", "error")
             and run.passing() - {n} - run.seen_by.get(n, set())]
    if again:
        trace.write("decision", step="regenerate", components=again,
                    why="they failed while other components were stubs; those pass now")
        await run.generate(again)

    findings: list[Finding] = []
    if settings.critic and settings.review_rounds > 0 and run.passing():
        try:
            findings = await _review(run, client, context, trace, phase)
        except ModelError as exc:
            if isinstance(exc, BudgetExceeded):
                result.error = str(exc)
            emit(Log(target.qualname, f"no review: {exc}"))
            trace.write("critic_error", error=str(exc))

    final = run.module_for(failing_too=True)
    result.components = [run.results[n] for n in plan.names]
    result.findings = findings + [f for r in result.components for f in r.findings]
    result.failures = [o for r in result.components for o in r.failures]
    result.passed = sum(r.passed for r in result.components)
    result.by_value = sum(r.by_value for r in result.components)
    result.in_process = sum(r.in_process for r in result.components)
    result.failed = sum(r.failed for r in result.components)
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
    if failing:
        worst = "error" if all(r.function_code is None for r in result.components) else "failed"
        result.status = worst
        result.error = result.error or f"{failing[0].name}: {failing[0].error or failing[0].status}"
    else:
        result.status = "passed"
    if target.examples and result.status == "passed":
        phase("testing", "testing the spec's own examples", 96)
        error = await _class_examples(final, path, target, settings, workspace, result, run.judge())
        if error:
            result.status, result.error = "failed", error
    trace.write("result", **{k: v for k, v in result.summary_dict().items() if k not in ("trace", "components", "kind")})
    return done()


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
    return findings if verdict == "request_changes" else [f for f in findings if f.severity == "info"]


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


async def _class_examples(module: str, path: Path, target: ClassTarget | ModuleTarget, settings: Settings,
                          workspace: Path, result: ClassResult | ModuleResult,
                          judge: tuple[str, tuple[str, ...], bool]) -> str | None:
    """Run the class docstring's (module spec's) examples on the assembled module; None when they pass."""
    from ..source.spec import Example

    examples = [Example(e.source, e.want, e.lineno) for e in target.examples]
    try:
        sandbox = await asyncio.to_thread(Sandbox, settings, workspace)
        tests = [doctest_file(module_name_for(path)[0], target.qualname, examples)]
        run = await sandbox.run(SandboxRequest(module_path=path, candidate_source=module, workspace=workspace,
                                               tests=tests, judge_source=judge[0], targets=judge[1],
                                               module_names=judge[2], in_process_fallback=not policy.check(module)))
    except (ValueError, OSError) as exc:
        return f"the spec's examples could not run: {exc}"
    passed = sum(o.outcome == "passed" for o in run.outcomes)
    result.passed += passed
    judged = [o.judged or run.judged for o in run.outcomes]
    result.by_value += judged.count("value")
    result.in_process += len(judged) - judged.count("value")
    result.failed += len(run.outcomes) - passed
    bad = [o for o in run.outcomes if o.outcome != "passed"]
    if run.error or bad or not run.outcomes:
        why = run.error or (f"{bad[0].id}: {bad[0].message}" if bad else "no example ran")
        result.failures += bad
        return f"the spec's own examples fail on the assembled {'class' if isinstance(target, ClassTarget) else 'module'}: {why}"
    return None


async def implement_any(source: str, path: Path, target, settings: Settings, *, workspace: Path, emit=None):
    """``specloop run``'s entry: a class or module target (found again in ``source``, which
    may hold results placed since) or a function target."""
    if isinstance(target, ModuleTarget):
        from ..source.modulespec import find_module_target

        fresh_module = find_module_target(source, fingerprint=target.fingerprint) or target
        return await implement_module(source, path, fresh_module, settings, workspace=workspace, emit=emit)
    if isinstance(target, ClassTarget):
        from ..source.classspec import find_class_target

        fresh = find_class_target(source, target.qualname) or target
        return await implement_class(source, path, fresh, settings, workspace=workspace, emit=emit)
    fresh = find_target(source, target.qualname) or target
    return await loop.implement(source, path, fresh, settings, workspace=workspace, emit=emit)


def component_lines(result: JobResult) -> list[str]:
    """One line per component of a class result (the terminal output lists them)."""
    lines = []
    for c in getattr(result, "components", []):
        lines.append(f"    {c.name}: {c.status} {c.passed}/{c.passed + c.failed} tests · "
                     f"{c.iterations} iteration{'s' if c.iterations != 1 else ''}")
    return lines
