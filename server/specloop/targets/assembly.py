"""A class or module spec's components judged together, on the *assembled* code.

``components.py`` plans the components; this module generates them and judges them as
one piece of code (the real classes' methods are tested through each other: ``enqueue``'s
example calls ``dequeue``, an ``__init__`` is tested by every example that builds an
object):

1. **Generate** every component (one ``generate`` request each, at most ``parallel_jobs``
   at a time; ``__init__`` first, so the others see the state it sets up).  Nothing is
   tested alone: a method tested against its siblings' stubs proves nothing.
2. **Judge the assembled code** (:meth:`Assembly.judge`): the planned module with every
   component's current code in place, in one sandbox run, against every authoritative
   test -- each component's examples (a test file per component), the class docstring's
   (module spec block's) examples, the user's tests that mention the class or the
   functions -- and the components' model tests (advisory, as for a function).  Judged
   by value as a function is (:meth:`Assembly.judge_args`: the module as written, every
   component a target).
3. **Status per component**: the tests that exercise it pass -- its own examples (and
   model tests) and the failing tests that blame it (a class example that a wrong ``pop``
   fails is reported on ``pop``); for a component without examples of its own, every
   test that reaches it (:mod:`blame`: the examples that call it, the class's examples,
   the user's tests), less the failing ones that blame other components only (a wrong
   ``pop`` fails ``pop``, not the untested ``__init__`` its examples also call).  A
   component no test reaches is ``untested``, and so failed.
4. **Repair rounds** (:meth:`Assembly.repair`).  Attribution, when a test of ``A``
   fails but the cause may be in ``B``: each failing test blames components
   (:func:`blame.suspects`) -- an ``AttributeError`` for an attribute that ``__init__``
   does not set blames ``__init__`` alone (it sets up the state; the method the error
   surfaced in is not changed to match a wrong ``__init__``); otherwise the methods the
   test calls, less those cleared by their own passing examples and less the untested
   ones (falling back to those when nothing else is left); a test that outlives a repair
   of its suspects also blames what their code reaches whose own examples fail.  A
   model test blames its own component.  Only blamed components are asked again, in
   parallel: a ``fix`` quoting the failures they are blamed for, with the assembled class
   (every component's current code) shown above the context, so a method can be fixed
   to what ``__init__`` really sets.  The new code is judged assembled and kept when no
   authoritative test that passed breaks and no fewer pass (else each changed component
   alone is tried).  A component asks at most ``max_iterations`` times; one that no
   failing test blames is never asked (no repair without a failing test to quote).
   The first round asks one sample per component (``candidates`` samples of each would
   multiply into combinations of the whole).
5. **Verification** of an assembled result that passes: one cold run, as for a function.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from .. import loop
from ..model import prompts
from ..sandbox import byvalue, policy
from ..source.candidate import Candidate
from ..source.classspec import ClassTarget, class_body_of
from ..source.edits import candidate_module
from ..job import Job
from ..model.client import BudgetExceeded, ModelClient, ModelError, Sample
from ..source.modulespec import functions_of
from ..results import Finding, Log, Phase, TestOutcome, TestRun, Tokens
from ..sandbox.runs import Sandbox, SandboxRequest, TestFile, doctest_text, make_doctest_file, module_name_for
from ..settings import Settings
from ..source.spec import find_target
from ..trace import Trace
from ..sandbox.usertests import find_user_tests
from .verdicts import INIT, OWN, Judged, Part, Verdicts, _apart, user_test_sources  # noqa: F401 (OWN re-exported)


class Assembly(Verdicts):
    def __init__(self, target, plan, planned: str, path: Path, settings: Settings, workspace: Path, emit,
                 trace: Trace, *, parallel: bool = True, source: str = "") -> None:
        self.target, self.plan, self.planned = target, plan, planned
        self.source = source   # the module as written: what the judge imports (judged by value)
        self.path, self.workspace, self.emit, self.trace = path, workspace, emit, trace
        self.settings = settings.model_copy(update={"critic": False})   # the whole is reviewed by components
        self.gate = asyncio.Semaphore(settings.parallel_jobs if parallel else 1)
        self.module = module_name_for(path)[0]
        self.parts: dict[str, Part] = {}
        for name in plan.names:
            stub = find_target(planned, self.qual(name))
            self.parts[name] = Part(name, self.qual(name), list(stub.examples) if stub is not None else [])
        self.best: Judged | None = None
        self.disputed: dict[str, TestOutcome] = {}
        self.owner: dict[str, str] = {}          # test file -> component (or OWN)
        self.examples: dict[str, list] = {}      # test file -> its doctest examples
        self.files: list[TestFile] = []
        self.user_tests: list[str] = []
        self.user_sources: dict[str, str] = {}   # a user test's node id -> its source
        self.sandbox: Sandbox | None = None
        self.stop: str | None = None             # the budget ran out
        self.verify_error: str | None = None

    # -- naming ---------------------------------------------------------------
    @property
    def is_class(self) -> bool:
        return isinstance(self.target, ClassTarget)

    def qual(self, name: str) -> str:
        return f"{self.target.name}.{name}" if self.is_class else name

    def code(self, text: str) -> str | None:
        """The whole class, or the module spec's functions, in ``text``."""
        return class_body_of(text, self.target.name)[1] if self.is_class else functions_of(text, self.plan.names)

    def judge_args(self) -> tuple[str, tuple[str, ...], bool]:
        """Judged by value: the module as written, every component a target (a test of one method
        calls the others), and whether tests may use other top-level names (a module spec)."""
        return self.source, tuple(self.qual(n) for n in self.plan.names), not self.is_class

    # -- set up -----------------------------------------------------------------
    async def setup(self) -> None:
        self.sandbox = await asyncio.to_thread(Sandbox, self.settings, self.workspace)
        for name, part in self.parts.items():
            if part.examples:
                self._add_file(f"test_specloop_doctests_{name}.py", name, part.qual, part.examples)
        if self.target.examples:
            self._add_file("test_specloop_doctests_spec.py", OWN, self.target.qualname, self.target.examples)
        found: list[str] = []
        for t in [self.target, *(find_target(self.planned, p.qual) for p in self.parts.values())]:
            if t is None:
                continue
            try:
                found += await asyncio.to_thread(loop._compute, find_user_tests, t, self.path, self.workspace)
            except (OSError, ValueError, AttributeError):
                continue
        self.user_tests = list(dict.fromkeys(found))
        self.user_sources = await asyncio.to_thread(user_test_sources, self.user_tests)

    def _add_file(self, name: str, owner: str, qualname: str, examples: list) -> None:
        """One doctest file per component.  Its tests sit in a class of their own: the run's
        test ids come from pytest's node ids, which for files outside the project's root are
        the same for every file's ``test_doctest_0``; a class name keeps them apart."""
        content = make_doctest_file(self.module, qualname, examples)
        head = content.split("\n\ndef test_doctest_0():", 1)[0]
        klass = "TestDoctests" + "".join(c if c.isalnum() else "_" for c in owner.title())
        tests = "".join(f"\n    def test_doctest_{n}(self):\n        _check({n})\n" for n in range(len(examples)))
        self.files.append(TestFile(name, f"{head}\n\nclass {klass}:{tests}", True, doctest=doctest_text(examples)))
        self.owner[name], self.examples[name] = owner, list(examples)

    async def _job(self, part: Part, text: str) -> Job:
        client = ModelClient(self.settings, target=part.qual, trace=self.trace,
                             cache_dir=self.workspace / ".specloop" / "cache")
        client.on_usage = lambda usage, q=part.qual, c=client: self.emit(
            Tokens(q, usage.prompt_tokens, usage.completion_tokens, usage.cost_usd, c.id))
        target = find_target(text, part.qual)
        if target is None:
            raise ValueError("the planned stub was not found")
        job = Job(text, self.path, target, self.settings, self.workspace, self.emit, self.trace, client,
                  self.sandbox, self.module, judge=self.judge_args())
        if not job.caps.advice:
            job.settings = loop.local_defaults(job.settings)
        await client.prepare()
        job.context = await asyncio.to_thread(loop.model_context, client.model, text, target, self.path,
                                              self.workspace, job.settings)
        return job

    # -- asking -------------------------------------------------------------------
    async def ask(self, name: str, feedback: list[Finding] | None = None, failures: list[TestOutcome] | None = None,
                  findings: list[Finding] | None = None) -> Candidate | None:
        """One request for component ``name``: a ``generate`` (first, or quoting review
        ``feedback``), else a ``fix`` of its current code quoting ``failures`` with the
        assembled code shown; None when the model gave nothing usable."""
        part = self.parts[name]
        async with self.gate:
            try:
                if part.job is None:
                    part.job = await self._job(part, self.assembled_text(skip=name))
                    if part.job.settings.model_tests:
                        await part.job.write_model_tests()
                        if part.job.model_tests:
                            file = f"test_specloop_model_{name}.py"
                            self.files.append(TestFile(file, _apart(part.job.model_tests, name), False))
                            self.owner[file] = name
                job = part.job
                part.iterations += 1
                self.emit(Phase(part.qual, "generating" if failures is None else "fixing",
                                "generating" if failures is None else f"fixing {part.iterations}", 20))
                if failures is None or part.candidate is None or not job.caps.repairs:
                    sample = job.next_sample() if part.iterations > 1 or feedback else None
                    messages = prompts.generate_messages(job.target, job.context, feedback)
                    return await job.ask_code("generate", messages, sample)
                code = part.candidate.function_code
                again = part.asked.get(code, 0)
                part.asked[code] = again + 1
                sample = Sample(self.settings.sample_temperature, seed=1000 + part.iterations) if again else None
                context = self._assembled_context(job.context)
                return await job.ask_code("fix", prompts.fix_messages(job.target, context, code, failures,
                                                                      findings or []), sample)
            except BudgetExceeded as exc:
                self.stop = part.error = str(exc)
            except (ModelError, ValueError, OSError) as exc:
                part.error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                self.emit(Log(part.qual, f"no usable answer: {part.error}"))
            return None

    def _assembled_context(self, context: str) -> str:
        whole = self.code(self.best.text) if self.best is not None else None
        what = "class" if self.is_class else "module spec's functions"
        if not whole:
            return context
        return (f"# The {what} as assembled now (every component's current code; the tests run on this):\n"
                f"{whole.rstrip()}\n\n{context}").strip()

    # -- the assembled code -------------------------------------------------------
    def current(self) -> dict[str, Candidate]:
        return {n: p.candidate for n, p in self.parts.items() if p.candidate is not None}

    def assembled_text(self, codes: dict[str, Candidate] | None = None, skip: str | None = None) -> str:
        """The planned module with ``codes`` (default: every current candidate) in place."""
        codes = self.current() if codes is None else codes
        text = self.planned
        for name in self.plan.names:
            if name == skip or name not in codes:
                continue
            stub = find_target(text, self.qual(name))
            if stub is None:
                continue
            try:
                text = candidate_module(text, stub, codes[name])
            except ValueError:
                continue
        return text

    async def judge(self, codes: dict[str, Candidate], verify: bool = False) -> Judged:
        """One sandbox run of the assembled code against every test."""
        text = self.assembled_text(codes)
        judge_source, targets, module_names = self.judge_args()
        flagged = {n: policy.check("\n".join([*c.imports, c.function_code])) for n, c in codes.items()}
        by_value = byvalue.plan(judge_source, text, targets, module_names) is not None
        split = {n: policy.split(f, self.sandbox.isolation, by_value=by_value) for n, f in flagged.items()}
        security = {n: s for n, (s, _) in split.items() if s}
        advice = {n: a for n, (_, a) in split.items() if a}
        if security:
            name, found = next(iter(security.items()))
            run = TestRun(error=f"refused by the security policy ({self.qual(name)}): {found[0].message}")
        else:
            request = SandboxRequest(module_path=self.path, candidate_source=text, workspace=self.workspace,
                                     tests=list(self.files), user_tests=self.user_tests, judge_source=judge_source,
                                     targets=targets, module_names=module_names,
                                     in_process_fallback=not any(flagged.values()))
            run = await self.sandbox.run(request, verify=verify)
        judged = Judged(dict(codes), text, run, security, advice)
        self.trace.write("verify" if verify else "tests", assembled=sorted(codes), error=run.error,
                         outcomes=[o.to_dict() for o in run.outcomes])
        return judged

    # -- the search ---------------------------------------------------------------
    def _passing(self, judged: Judged) -> set[str]:
        return {o.id for o in judged.run.outcomes if o.authoritative and o.outcome == "passed"}

    def _score(self, judged: Judged) -> tuple[int, int]:
        return (not judged.security and judged.run.tampered is None,
                sum(o.outcome == "passed" for o in self.outcomes(judged)))

    def better(self, new: Judged, old: Judged | None) -> bool:
        """``new`` replaces ``old``: it breaks no authoritative test that passed (anchors) and
        passes no fewer."""
        if old is None:
            return True
        broken = self._passing(old) - self._passing(new)
        if broken:
            self.trace.write("anchor", broken=sorted(broken))
            self.emit(Log(self.target.qualname, f"rejected a change that broke {len(broken)} passing "
                                                f"test(s): {sorted(broken)[0]}"))
            return False
        return self._score(new) >= self._score(old)

    async def _consider(self, asked: dict[str, Candidate | None]) -> set[str]:
        """Judge the current code with the new answers in place; keep what does not make it
        worse (all together, else the best one alone).  Returns the components changed."""
        new = {n: c for n, c in asked.items() if c is not None}
        if not new:
            return set()
        base = self.current()
        tries = [new] + ([{n: c} for n, c in new.items()] if len(new) > 1 and self.best is not None else [])
        for change in tries:
            judged = await self.judge({**base, **change})
            if self.better(judged, self.best):
                for n, c in change.items():
                    self.parts[n].candidate = c
                self.best = judged
                self.report(judged)
                return set(change)
        return set()

    async def generate(self, names: list[str], feedback: dict[str, list[Finding]] | None = None) -> None:
        """Ask ``names`` (with review ``feedback``) anew, judge the assembled code, then repair."""
        feedback = feedback or {}
        found = await asyncio.gather(*(self.ask(n, feedback.get(n)) for n in names))
        if self.best is None:      # the first generation: keep every usable answer
            for name, candidate in zip(names, found):
                if candidate is not None:
                    self.parts[name].candidate = candidate
            if self.current():
                self.best = await self.judge(self.current())
                self.report(self.best)
        else:
            await self._consider(dict(zip(names, found)))
        await self.repair()

    async def first(self) -> None:
        """The first generation: ``__init__`` first (the others see its state), then the rest."""
        if INIT in self.parts:
            candidate = await self.ask(INIT)
            if candidate is not None:
                self.parts[INIT].candidate = candidate
        rest = [n for n in self.plan.names if n != INIT]
        found = await asyncio.gather(*(self.ask(n) for n in rest))
        for name, candidate in zip(rest, found):
            if candidate is not None:
                self.parts[name].candidate = candidate
        if self.current():
            self.best = await self.judge(self.current())
            self.report(self.best)
        await self.repair()

    async def repair(self) -> None:
        """Repair rounds until the assembled code passes, nothing blamed can be asked again,
        or a round changes nothing (the module docstring, 4)."""
        widened: set[str] = set()
        cap = self.settings.max_iterations
        while self.best is not None and not self.trusted(self.best) and self.stop is None:
            blamed = {n: f for n, f in self.blamed(self.best, widened).items() if self.parts[n].iterations < cap}
            if not blamed:
                return
            before = {o.id for o in self.failing(self.best)}
            self.trace.write("decision", step="repair", components=sorted(blamed),
                             why={n: sorted(o.id for o in f) for n, f in blamed.items()})
            self.emit(Log(self.target.qualname, f"repair: {', '.join(sorted(blamed))}"))
            names = sorted(blamed)
            best = self.best
            found = await asyncio.gather(*(self.ask(n, failures=blamed[n] or self.failing(best)[:1],
                                                    findings=[*best.security.get(n, []), *best.advice.get(n, [])])
                                           for n in names))
            changed = await self._consider(dict(zip(names, found)))
            still = {o.id for o in self.failing(self.best)} & before
            widened |= still
            self._dispute(best)
            if not changed and not any(found):
                return

    def _dispute(self, before: Judged) -> None:
        """Advisory tests that failed before a round and still fail while every authoritative
        test passes are disputed: reported, then ignored (as for a function)."""
        failing = self.failing(self.best)
        if any(o.authoritative for o in failing):
            return
        earlier = {o.id for o in self.failing(before)}
        for o in failing:
            if o.id in earlier and o.id != "<test run>":
                self.disputed[o.id] = o
                self.emit(Log(self.target.qualname, f"disputed model test {o.id}: {o.message}"))

    async def verify(self) -> None:
        """A cold run of an assembled result that passes (as for a function)."""
        if self.best is None or not self.trusted(self.best):
            return
        again = await self.judge(self.best.codes, verify=True)
        if not self.trusted(again):
            bad = self.failing(again)
            why = again.run.tampered or again.run.error or (f"{bad[0].id}: {bad[0].message}" if bad else "no test ran")
            self.verify_error = f"the result did not pass its verification run: {why}"
            self.emit(Log(self.target.qualname, self.verify_error))
