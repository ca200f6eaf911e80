"""The search's decisions: how candidates sample, which are the same program, which
attempt ranks first, and whether the next step repairs or resamples.

Why it is shaped this way (measured with the local 135M model on HumanEval/0-39:
best-of-5 with distinct seeds beat greedy single-shot, while repair from an
assertion message rarely helped; Olausson et al., ICLR 2024, find the same for
small models at equal budget):

* Every candidate is its own sample: the first exactly as a single ask would be
  (``model.first_sample``: no seed, at ``temperature``; greedy, temperature 0,
  for the local model unless the user set ``temperature``, so the loop never
  loses a problem its greedy single ask solves), each later one at
  ``sample_temperature`` with its own seed.  The response cache keys on the
  sample, so ``cache = true`` replays N different candidates.
* Candidates that are the same program (same AST once the docstring is
  dropped) are tested once.
* Ranking: a candidate the policy refused ranks last; then authoritative tests
  passed; then agreement on the model's tests (candidates that pass the same
  model tests support each other: cluster size x tests passed, as in CodeT);
  then all tests passed.
* Next step: *repair* (a capable, remote model: up to two repairs in a row that
  do not raise the score, the second with its own seed) when a fix prompt can
  address the failure — an error, a refused construct, a run that did not finish,
  a clear expected/actual; *resample* for the small local model (except for a
  refused construct) and after two fruitless steps.
"""

from __future__ import annotations

import ast
from collections import Counter
from typing import TYPE_CHECKING

from .model.client import Sample, first_sample
from .settings import Settings

if TYPE_CHECKING:
    from .source.candidate import Candidate
    from .model.client import Capabilities
    from .job import Attempt

REPAIRABLE = ("SyntaxError", "IndentationError", "TabError", "NameError", "UnboundLocalError", "ImportError",
              "ModuleNotFoundError", "TypeError", "AttributeError", "RecursionError", "not trusted",
              "did not finish", "refused by the security policy", "no tests collected")


def sample(settings: Settings, index: int, caps: Capabilities | None = None) -> Sample:
    """The sampling of candidate ``index`` (0-based over the whole job): the first is what a
    request naming no sample gets (``model.first_sample``; ``caps``: the model's capabilities,
    by default those of the settings' model)."""
    if index == 0:
        return first_sample(settings, caps)
    return Sample(settings.sample_temperature, seed=index)


def normalized(candidate: Candidate) -> str:
    """The program without its docstring and formatting: equal strings, same program."""
    try:
        tree = ast.parse(candidate.function_code)
    except SyntaxError:
        return candidate.function_code
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant) \
                    and isinstance(first.value.value, str):
                node.body = node.body[1:] or [ast.Pass()]
    return "\n".join(sorted(candidate.imports)) + "\n" + ast.dump(tree, annotate_fields=False)


def agreement(attempt: Attempt, attempts: list[Attempt], ignore: set[str]) -> int:
    """CodeT's dual agreement: the number of attempts passing exactly the same model tests
    as ``attempt`` times how many those are (0 when it passes none)."""
    def passed(a: Attempt) -> frozenset[str]:
        return frozenset(o.id for o in a.outcomes(ignore) if not o.authoritative and o.outcome == "passed")
    mine = passed(attempt)
    if not mine:
        return 0
    clusters = Counter(passed(a) for a in {id(a): a for a in attempts}.values())
    return clusters[mine] * len(mine)


def rank(attempt: Attempt, attempts: list[Attempt], ignore: set[str]) -> tuple[int, ...]:
    outs = attempt.outcomes(ignore)
    auth = sum(o.authoritative and o.outcome == "passed" for o in outs)
    total = sum(o.outcome == "passed" for o in outs)
    return (not attempt.security, attempt.run.error is None, auth, not attempt.advice,
            agreement(attempt, attempts, ignore), total, total - len(outs))


def decide(best: Attempt, ignore: set[str], *, capable: bool, fruitless_repairs: int) -> tuple[str, str]:
    """``("repair" | "resample", why)`` for the step after ``best`` failed.

    Measured (bench/README.md): the local 135M model's repairs almost never helped, error
    class or not (20 of 26 returned the very program it was asked to fix), so it resamples
    except for a refused construct; a capable model gets two repairs before a resample (with
    a simulated model that fixes 70 % of quoted failures, one repair then a resample capped
    convergence near 0.7 + 0.3 (1 - p))."""
    failing = best.failing(ignore)
    if best.security:
        return "repair", "the security policy refused a construct: the fix prompt names it"
    if not capable:
        return "resample", "a small model: a new sample is likelier to pass than a repair"
    if fruitless_repairs >= 2:
        return "resample", f"{fruitless_repairs} step(s) in a row did not raise the score"
    texts = [o.message for o in failing] + ([best.run.error] if best.run.error else [])
    repairable = next((k for t in texts if t for k in REPAIRABLE if k in t), None)
    if repairable is not None:
        return "repair", f"{repairable} is an error a fix prompt can address"
    if any(o.expected is not None and o.actual is not None for o in failing):
        return "repair", "a clear expected/actual for a capable model"
    return "repair", "the failing tests are quoted for the model"
