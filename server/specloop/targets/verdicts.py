"""The verdicts of a class or module spec's assembled run: which tests exercise each
component, which components a failing test blames (:mod:`blame`), and each component's
result.  :class:`assembly.Assembly` is a :class:`Verdicts`; the rules are in its module
docstring (3 and 4)."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from . import blame
from ..source.candidate import Candidate
from ..job import MODEL_TEST_FILE, Job, kept_tests
from ..results import Finding, JobResult, Phase, Tested, TestOutcome, TestRun
from ..source.spec import find_target

INIT = blame.INIT
OWN = "the spec"      # the owner of the class docstring's (module block's) examples and the user's tests


@dataclass
class Part:
    """One component: its job (model client, context, samples, model tests) and its current code."""
    name: str
    qual: str
    examples: list
    job: Job | None = None
    candidate: Candidate | None = None
    iterations: int = 0
    error: str | None = None
    asked: dict[str, int] = field(default_factory=dict)   # code -> repairs asked of it


@dataclass
class Judged:
    """One run of the assembled code."""
    codes: dict[str, Candidate]
    text: str
    run: TestRun
    security: dict[str, list[Finding]]
    advice: dict[str, list[Finding]]


class Verdicts:
    """The attribution half of :class:`assembly.Assembly` (its state: ``parts``, ``plan``,
    ``owner``, ``examples``, ``disputed``, ``best``)."""

    # -- attribution --------------------------------------------------------------
    def outcomes(self, judged: Judged) -> list[TestOutcome]:
        return [o for o in judged.run.outcomes if o.id not in self.disputed and o.outcome != "skipped"]

    def failing(self, judged: Judged) -> list[TestOutcome]:
        bad = [o for o in self.outcomes(judged) if o.outcome != "passed"]
        if judged.run.error and not bad:
            bad.append(TestOutcome("<test run>", "error", judged.run.error))
        return bad

    def trusted(self, judged: Judged) -> bool:
        run = judged.run
        return (not judged.security and run.error is None and run.tampered is None
                and bool(self.outcomes(judged)) and not self.failing(judged))

    def _file(self, oid: str) -> str:
        return oid.split("::", 1)[0]

    def _class_name(self) -> str | None:
        return self.target.name if self.is_class else None

    def direct(self, oid: str) -> set[str]:
        """The components test ``oid`` calls (its owner among them)."""
        names = set(self.plan.names)
        file = self._file(oid)
        owner = self.owner.get(file)
        if owner is None or oid == "<test run>":
            # the user's tests: what their source calls, where it is known and calls any
            calls = blame.uses(self.user_sources.get(_node(oid), ""), names, self._class_name())
            return calls or names
        if file not in self.examples:
            return {owner}                       # a component's model tests
        try:
            upto = int(oid.rsplit("_", 1)[1]) + 1
        except (IndexError, ValueError):
            upto = len(self.examples[file])
        calls = set()
        for example in self.examples[file][:upto]:
            calls |= blame.uses(example.source, names, self._class_name())
        return calls | ({owner} if owner in names else set())

    def code_calls(self, codes: dict[str, Candidate]) -> dict[str, set[str]]:
        names = set(self.plan.names)
        return {n: blame.uses(c.function_code, names - {n}, self._class_name())
                for n, c in codes.items()}

    def exercising(self, name: str, judged: Judged) -> list[TestOutcome]:
        """The tests whose verdict a component's status follows (the module docstring, 3)."""
        own = [o for o in self.outcomes(judged) if self.owner.get(self._file(o.id)) == name]
        blamed = [o for o in self.blamed(judged, set()).get(name, []) if o.id != "<test run>"]
        if not self.parts[name].examples:
            calls = self.code_calls(judged.codes)
            own = [o for o in self.outcomes(judged) if any(o is x for x in own) or (
                name in blame.closure(self.direct(o.id), calls)
                and (o.outcome == "passed" or any(o is f for f in blamed)))]
        return own + [o for o in blamed if not any(o is x for x in own)]

    def blamed(self, judged: Judged, widened: set[str]) -> dict[str, list[TestOutcome]]:
        """component -> the failing tests that blame it (:func:`blame.suspects`)."""
        out: dict[str, list[TestOutcome]] = {}
        for name in judged.security:
            out.setdefault(name, [])
        tested = {n for n, p in self.parts.items() if p.examples}
        cleared = {n for n in tested if (own := [o for o in self.outcomes(judged)
                                                 if self.owner.get(self._file(o.id)) == n])
                   and all(o.outcome == "passed" for o in own)}
        calls = self.code_calls(judged.codes)
        init = judged.codes.get(INIT)
        for o in self.failing(judged):
            direct = self.direct(o.id)
            found = blame.suspects(o.message, direct, blame.closure(direct, calls), cleared=cleared, tested=tested,
                                   init_code=init.function_code if init else None, has_init=INIT in self.parts,
                                   widened=o.id in widened)
            for name in found:
                out.setdefault(name, []).append(o)
        return out

    def report(self, judged: Judged) -> None:
        for name, part in self.parts.items():
            outs = self.exercising(name, judged)
            passed = sum(o.outcome == "passed" for o in outs)
            self.emit(Tested(part.qual, passed, len(outs) - passed, len(outs)))

    # -- results ------------------------------------------------------------------
    def result(self, name: str) -> JobResult:
        part = self.parts[name]
        stub = find_target(self.planned, part.qual)
        result = JobResult(name=part.qual, status="error", fingerprint=stub.fingerprint if stub else "",
                           iterations=part.iterations)
        if part.job is not None:
            result.usage = part.job.client.usage
        best = self.best
        if part.candidate is None or best is None or name not in best.codes:
            result.error = part.error or "no usable candidate"
            self.emit(Phase(part.qual, "done", f"error: {result.error}", 100))
            return result
        result.function_code, result.imports = part.candidate.function_code, list(part.candidate.imports)
        outs = self.exercising(name, best)
        result.passed = sum(o.outcome == "passed" for o in outs)
        result.failed = len(outs) - result.passed
        result.failures = [o for o in outs if o.outcome != "passed"]
        judged = [o.judged or best.run.judged for o in outs if o.authoritative]
        result.by_value, result.in_process = judged.count("value"), len(judged) - judged.count("value")
        result.findings = [*best.security.get(name, []), *best.advice.get(name, [])]
        result.disputed = [o for o in self.disputed.values() if self.owner.get(self._file(o.id)) == name]
        if part.job is not None and part.job.model_tests and self.settings.keep_tests:
            file = f"test_specloop_model_{name}.py"
            keep = {f"{MODEL_TEST_FILE}::{o.id.split('::', 1)[1].replace(_suffix(name), '')}"
                    for o in best.run.outcomes if self._file(o.id) == file and o.outcome == "passed"}
            result.kept_tests = kept_tests(part.job.model_tests, keep)
        if best.security.get(name):
            result.status, result.error = "failed", f"security: {best.security[name][0].message}"
        elif best.run.error:
            result.status, result.error = "failed", best.run.error
        elif not outs:
            result.status, result.error = "failed", ("untested: no example, test of the whole or user test "
                                                     "reaches it")
        elif result.failures:
            first = result.failures[0]
            result.status, result.error = "failed", f"{first.id}: {first.message.splitlines()[0] if first.message else first.outcome}"
        elif self.verify_error:
            result.status, result.error = "failed", self.verify_error
        else:
            result.status = "passed"
        self.emit(Phase(part.qual, "done", f"{result.status}: {result.passed}/{result.passed + result.failed} tests",
                        100))
        return result


def _suffix(name: str) -> str:
    return "__of_" + name.strip("_")


def _apart(text: str, name: str) -> str:
    """A component's model tests with their top-level test functions and classes renamed
    apart (``test_x`` -> ``test_x__of_push``): two components' ``test_empty`` would have one
    node id in the run (see :meth:`Assembly._add_file`)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return text
    tests = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
             and n.name.lower().startswith("test")}
    if not tests:
        return text
    pattern = re.compile(r"^((?:async\s+)?def|class)\s+(" + "|".join(map(re.escape, sorted(tests))) + r")\b", re.M)
    return pattern.sub(lambda m: f"{m.group(1)} {m.group(2)}{_suffix(name)}", text)


def _node(oid: str) -> str:
    """A user test's node id without its parameters (``path::test_x[1]`` -> ``path::test_x``)."""
    return oid.split("[", 1)[0]


def user_test_sources(node_ids: list[str]) -> dict[str, str]:
    """node id -> the source of the user's test (a function, or a method of a test class);
    those that cannot be read are left out.  Blocking (file reads): call it off the event loop."""
    texts: dict[str, ast.Module | None] = {}
    raw: dict[str, str] = {}
    out: dict[str, str] = {}
    for oid in node_ids:
        path, _, rest = _node(oid).partition("::")
        if path not in texts:
            try:
                raw[path] = open(path, encoding="utf-8").read()
                texts[path] = ast.parse(raw[path])
            except (OSError, ValueError, SyntaxError):
                texts[path] = None
        node: ast.AST | None = texts[path]
        for name in rest.split("::") if rest else []:
            node = next((n for n in getattr(node, "body", []) if isinstance(
                n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.name == name), None)
        if node is not None and node is not texts[path]:
            out[_node(oid)] = ast.get_source_segment(raw[path], node) or ""
    return out
