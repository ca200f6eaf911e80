"""Plain data shared by the parts: test outcomes, critic findings, engine events
and the result of one job.  Nothing here knows about LSP or the terminal."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["passed", "failed", "error", "cancelled"]
Outcome = Literal["passed", "failed", "error", "skipped"]


@dataclass
class TestOutcome:
    """One test's result as the sandbox reports it."""

    __test__ = False  # not a pytest test class

    id: str                       # e.g. "test_oracle.py::test_area_negative" or "doctest[1]"
    outcome: Outcome
    message: str = ""             # assertion message / exception line, short
    expected: str | None = None   # where known (doctest want, `assert a == b` right side)
    actual: str | None = None
    line: int | None = None       # 1-based line in the candidate module where it failed
    authoritative: bool = True    # doctests and the user's tests; model tests are advisory
    judged: str | None = None     # "in-process" where a test failing by value was judged again in-process

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TestRun:
    """All outcomes of one sandbox run, plus what went wrong with the run itself."""

    __test__ = False  # not a pytest test class

    outcomes: list[TestOutcome] = field(default_factory=list)
    error: str | None = None      # collection error, timeout, killed, missing pytest...
    timed_out: bool = False
    seconds: float = 0.0
    isolation: str = "process"    # "bwrap" or "process"
    tampered: str | None = None   # why the run's own reports were not trusted (then every test failed)
    python: str | None = None     # the Python that ran the tests
    python_source: str | None = None   # where it was found: "workspace .venv", "setting", "specloop's own"...
    left_out: list[str] = field(default_factory=list)   # user tests found but not run (the run's bound)
    hint: str | None = None       # what to do about the project's environment (a plugin it asks for is missing)
    judged: str = "in-process"    # "value": the code under test ran apart from the judge (README, "How code is run safely")

    @property
    def passed(self) -> int:
        return sum(o.outcome == "passed" for o in self.outcomes)

    @property
    def failed(self) -> int:
        return sum(o.outcome in ("failed", "error") for o in self.outcomes)


def tests_count(status: str, passed: int, failed: int) -> str:
    """A status and its tests, as every front end shows them (the CLI's lines and table,
    ``specloop check``, the editor's end messages, diagnostics and drift warnings):
    ``passed 3/3 tests``, ``failed 1/3 tests`` -- always the tests that *passed* of all the
    tests counted, whatever the status (``failed 1/3`` is 1 passing of 3, never 1 failing)."""
    return f"{status} {passed}/{passed + failed} tests"


def unplaced_text(result: "JobResult", *, named: bool = True) -> str:
    """What became of a result that was to be written but could not be placed (its
    ``unplaced_reason``), as the CLI says it: ``NAME: passed 3/3 tests but could not be
    placed: REASON`` (without ``named``, from ``passed`` on)."""
    text = f"{tests_count(result.status, result.passed, result.failed)} but could not be placed: " \
           f"{result.unplaced_reason}"
    return f"{result.name}: {text}" if named else text


def judged_text(by_value: int, in_process: int) -> str:
    """How the authoritative tests were judged (README, "How code is run safely"): ``judged by
    value``, ``judged in-process``, ``2 judged by value, 1 in-process``; "" when none ran."""
    if not in_process:
        return "judged by value" if by_value else ""
    if not by_value:
        return "judged in-process"
    return f"{by_value} judged by value, {in_process} in-process"


def failure_text(outcome: TestOutcome) -> str:
    """What a failing test said, with its expected and actual values said once: the message,
    then ``(expected X, got Y)`` only where the message does not already say it (a doctest's
    message reads ``expected '42', got '1'`` already)."""
    text = " ".join(outcome.message.split())
    if (outcome.expected is not None or outcome.actual is not None) and not (
            "expected" in text.lower() and "got" in text.lower()):
        text = f"{text} (expected {outcome.expected}, got {outcome.actual})".lstrip()
    return text


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``1 spec``, ``3 specs``, ``0 specs`` (``many``: an irregular plural)."""
    return f"{count:,} {noun if count == 1 else (many or noun + 's')}"


@dataclass
class Finding:
    """One critic objection.  ``line`` is 1-based within the target function
    as the critic saw it (the function's ``def`` line is 1); front ends map it
    to file lines.  A review of a whole class numbers the class (its ``class``
    line is 1) and names the ``method`` a finding concerns, where it names one of
    the class's methods; front ends place a finding without a line on that
    method's ``def`` line.  ``approved``: the critic said it and approved the code all the
    same (a warning it did not ask to fix); it is kept and shown, at a lower severity in
    the editor, with ``"approved": true`` in ``--json``."""

    category: str                 # accuracy | completeness | quality | security
    severity: str                 # error | warning | info
    message: str
    line: int | None = None
    method: str | None = None     # a class review's finding: the method it names (a module spec's: the function)
    approved: bool = False        # an error or warning of a critic that approved all the same (shown, milder)

    def to_dict(self, *, in_file: bool = False, file_line: int | None = None) -> dict[str, Any]:
        """The finding as traces show it (``method`` only where it is set).  ``in_file``: as
        ``specloop run --json`` shows it, ``line`` the file line (1-based; ``file_line``,
        ``None`` where it is not known) and ``function_line`` the line the critic named
        (within the function, or the class)."""
        data = asdict(self)
        if data["method"] is None:
            del data["method"]
        if not data["approved"]:
            del data["approved"]
        if in_file:
            data["function_line"] = data["line"]
            data["line"] = file_line
        return data


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0

    def add(self, other: "Usage") -> None:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cost_usd += other.cost_usd
        self.calls += other.calls

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.completion_tokens


# -- what the engine tells its front end while a job runs: one small type per kind --------
@dataclass(frozen=True)
class Phase:
    """The job entered a phase: context, loading-model, generating, testing, fixing,
    reviewing, verifying, done (a class spec adds planning)."""

    target: str
    phase: str
    message: str
    percent: int


@dataclass(frozen=True)
class Tested:
    """A sandbox run ended: how many of the attempt's tests passed."""

    target: str
    passed: int
    failed: int
    total: int

    @property
    def message(self) -> str:
        return f"{self.passed}/{self.total} passed"


@dataclass(frozen=True)
class Tokens:
    """What one model client of the job has spent so far (running totals of that client;
    a class job has several: its plan's and each component's)."""

    target: str
    prompt: int
    completion: int
    cost_usd: float
    client: int = 0        # :attr:`specloop.model.ModelClient.id`


@dataclass(frozen=True)
class Planned:
    """A class or module spec's plan was accepted: the components that will be generated."""

    target: str
    components: tuple[str, ...]

    @property
    def message(self) -> str:
        return f"plan: {', '.join(self.components)}"


@dataclass(frozen=True)
class Found:
    """The critic found something in the code that passed."""

    target: str
    finding: Finding

    @property
    def message(self) -> str:
        return self.finding.message


@dataclass(frozen=True)
class Log:
    """A line for the log: a decision, a step that failed, a test set aside."""

    target: str
    message: str


Event = Phase | Tested | Tokens | Planned | Found | Log


@dataclass
class JobResult:
    """The best attempt for one target, with an honest status."""

    name: str                            # the target's qualified name
    status: Status
    fingerprint: str = ""                # Target.fingerprint when the job started (staleness check)
    iterations: int = 0
    passed: int = 0
    failed: int = 0
    findings: list[Finding] = field(default_factory=list)
    failures: list[TestOutcome] = field(default_factory=list)   # tests still failing
    disputed: list[TestOutcome] = field(default_factory=list)   # advisory tests dropped
    usage: Usage = field(default_factory=Usage)
    seconds: float = 0.0
    function_code: str | None = None     # the whole function as the model wrote it
    imports: list[str] = field(default_factory=list)  # top-level import lines it needs
    kept_tests: str | None = None        # a test module with the kept model tests
    error: str | None = None
    trace_path: str | None = None
    python: dict[str, str] | None = None   # {"path", "source"}: the Python that ran the tests
    by_value: int = 0      # authoritative tests judged by value (the code under test in a process of its own)
    in_process: int = 0    # authoritative tests judged in the process of the code under test
    kind: str = "function"  # the kind of target it is the result of (``specloop.targets``)
    unplaced_reason: str | None = None   # why a result meant to be placed (passed) could not be, else None

    def summary_dict(self) -> dict[str, Any]:
        """The per-target object of `specloop run --json` (DESIGN.md contract 1)."""
        return {
            "name": self.name,
            "status": self.status,
            "iterations": self.iterations,
            "tests": {"passed": self.passed, "failed": self.failed},
            "judged": {"by_value": self.by_value, "in_process": self.in_process},
            "findings": [f.to_dict() for f in self.findings],
            "tokens": {"prompt": self.usage.prompt_tokens, "completion": self.usage.completion_tokens},
            "cost_usd": round(self.usage.cost_usd, 6),
            "seconds": round(self.seconds, 3),
            "error": self.error,
            "trace": self.trace_path,
            "python": self.python,
            "unplaced_reason": self.unplaced_reason,
        }
