"""One job's state and its steps: attempts, testing (policy first, then the sandbox),
the verification run, ranking against the best so far, disputed model tests, and the
model's tests.  ``loop.py`` orchestrates these steps."""

from __future__ import annotations

import ast
import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from .sandbox import byvalue, policy
from .model import prompts
from . import search
from .source.candidate import Candidate, parse_candidate
from .source.edits import candidate_module
from .model.client import BudgetExceeded, Capabilities, ModelClient, ModelError, Sample
from .results import Event, Finding, Log, Phase, Tested, TestOutcome, TestRun
from .sandbox.runs import DOCTEST_FILE, Sandbox, SandboxRequest, TestFile  # noqa: F401 (re-exported)
from .settings import Settings
from .source.spec import Target
from .trace import Trace

Emit = Callable[[Event], None]

MODEL_TEST_FILE = "test_specloop_model.py"


@dataclass
class Attempt:
    candidate: Candidate
    run: TestRun
    iteration: int
    security: list[Finding] = field(default_factory=list)   # what the static policy refused
    advice: list[Finding] = field(default_factory=list)     # what it would flag, as warnings (judged by value)

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
class Job:
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
    repairs: dict[str, int] = field(default_factory=dict)   # normalized program -> repairs asked of it
    # judged by value against (the module as written, the targets whose calls go to the candidate);
    # None: this module's text and the target alone (a component's job gets its spec's and all components)
    judge: tuple[str, tuple[str, ...], bool] | None = None

    @property
    def caps(self) -> Capabilities:
        """What the model may be asked (the model layer decides)."""
        return self.client.capabilities

    def next_sample(self) -> Sample:
        self.samples += 1
        return search.sample(self.settings, self.samples - 1)

    # -- reporting --------------------------------------------------------------
    def phase(self, name: str, message: str, percent: int) -> None:
        self.emit(Phase(self.target.qualname, name, message, percent))
        self.trace.write("phase", phase=name, message=message)

    def report_tests(self, attempt: Attempt) -> None:
        outs = attempt.outcomes(set(self.disputed))
        passed = sum(o.outcome == "passed" for o in outs)
        self.emit(Tested(self.target.qualname, passed, len(outs) - passed, len(outs)))
        run = attempt.run
        extra = {"left_out": run.left_out} if run.left_out else {}
        if run.hint:
            extra["hint"] = run.hint
        self.trace.write("tests", iteration=attempt.iteration, isolation=run.isolation, error=run.error,
                         seconds=run.seconds, python={"path": run.python, "source": run.python_source},
                         outcomes=[o.to_dict() for o in run.outcomes], **extra)

    # -- steps ----------------------------------------------------------------
    async def ask_code(self, step: str, messages: list[dict], sample: Sample | None = None) -> Candidate:
        """A code reply.  A first answer that is unusable is re-asked only where that helps
        (``caps.reasks``; for the local model a re-ask costs a whole generation and rarely
        helped a 135M model): otherwise the search samples anew."""
        return await self.client.complete(step, messages, parse=lambda reply: parse_candidate(
            prompts.parse_code(reply), self.target), sample=sample, reask=self.caps.reasks or step != "generate")

    async def try_candidate(self, candidate: Candidate, iteration: int, repair_of: Attempt | None = None) -> Attempt:
        """Test ``candidate`` (once per distinct program) and let it compete for best."""
        key = search.normalized(candidate)
        running = self.seen.get(key)
        if running is not None:  # the same program: wait for its one test run
            earlier = await running
            attempt = replace(earlier, iteration=iteration)
            self.trace.write("duplicate", iteration=iteration, same_as=earlier.iteration)
            self.emit(Log(self.target.qualname, f"the same program as attempt {earlier.iteration}: not tested again"))
        else:
            running = self.seen[key] = asyncio.ensure_future(self.test(candidate, iteration))
            attempt = await running
        self.attempts.append(attempt)
        self.consider(attempt, repair_of)
        return attempt

    def request(self, candidate: Candidate, flagged: list[Finding] | None = None) -> SandboxRequest:
        """The sandbox request for ``candidate``; ``flagged``: what the static policy says of it,
        where the caller has it already (it decides the in-process second run)."""
        judge_source, targets, module_names = self.judge or (self.source, (self.target.qualname,), False)
        if flagged is None:
            flagged = policy.check("\n".join([*candidate.imports, candidate.function_code]))
        return SandboxRequest(module_path=self.path, candidate_source=candidate_module(self.source, self.target,
                              candidate), workspace=self.workspace, tests=self.tests, user_tests=self.user_tests,
                              judge_source=judge_source, targets=targets, module_names=module_names,
                              in_process_fallback=not flagged)

    async def test(self, candidate: Candidate, iteration: int) -> Attempt:
        flagged = policy.check("\n".join([*candidate.imports, candidate.function_code]))
        request = self.request(candidate, flagged)
        security, advice = policy.split(flagged, self.sandbox.isolation, by_value=byvalue.plan(
            request.judge_source, request.candidate_source, request.targets, request.module_names) is not None)
        if security:
            # refused before it runs: code that reaches into the harness never gets a verdict
            run = TestRun(error="refused by the security policy: " + security[0].message)
            self.trace.write("policy", iteration=iteration, findings=[f.to_dict() for f in security])
            self.emit(Log(self.target.qualname, run.error))
        else:
            run = await self.sandbox.run(request)
            if run.tampered:
                security = [Finding("security", "error", f"the test run's reports were forged or damaged "
                                    f"({run.tampered}); do not touch the test harness or its output")]
        attempt = Attempt(candidate, run, iteration, security, advice)
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
            self.emit(Log(self.target.qualname, f"rejected a fix that broke {len(broken)} passing test(s): {sorted(broken)[0]}"))
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
                self.emit(Log(self.target.qualname, f"disputed model test {o.id}: {o.message}"))

    async def write_model_tests(self) -> None:
        import_line = prompts.import_line(self.module_name, self.target)
        try:
            text = await self.client.complete(
                "tests", prompts.tests_messages(self.target, self.context, import_line),
                parse=lambda reply: checked_test_module(prompts.parse_code(reply)))
        except BudgetExceeded:
            raise
        except ModelError as exc:
            self.emit(Log(self.target.qualname, f"no model tests: {exc}"))
            return
        self.model_tests = text
        self.tests.append(TestFile(MODEL_TEST_FILE, text, authoritative=False))


def checked_test_module(text: str) -> str:
    tree = ast.parse(text)
    if not any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test")
               for n in ast.walk(tree)):
        raise ValueError("the test module defines no test_ function")
    return text


def kept_tests(text: str, keep_ids: set[str]) -> str | None:
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
