"""A simulated model with known error rates, against the real search.

Does the search find a correct candidate whenever one was sampled, and how fast
does it converge when repairs work?  A real model cannot answer that (nobody
knows its error rates), so this serves a simulated one as an OpenAI-compatible
HTTP server on 127.0.0.1 (``tests/scripted_model.py``'s server, imported) and
runs the real engine (``specloop.loop.implement``, real litellm ``openai/``
provider, real sandbox) on synthetic specs.

Run::

    .venv/bin/python bench/simulated.py --out bench/results/simulated
    .venv/bin/python bench/simulated.py --specs 10 --grid 0.6:0.7 --out /tmp/sim

The simulated model:

* ``generate`` (first samples and resamples): wrong with probability ``p``.
  The choice comes from a RNG seeded by (grid cell, spec, the request's
  ``seed``; no seed counts as one value, "greedy"), so equal requests get
  equal answers and different seeds are independent draws.  A wrong answer is
  one of the spec's wrong bodies (each fails at least one docstring example;
  one of them raises ``NameError``), chosen by the same RNG.
* ``fix``: correct with probability ``q`` when the last user message quotes a
  failing test's expected/actual (contains ``expected``), else a wrong body.
  The engine sends fix requests without a seed, so each fix request of a job
  is an independent draw (keyed by cell, spec and the job's fix count) — the
  model of a sampling model at temperature > 0.  A real model at low
  temperature is more repetitive than this.
* ``tests``: two correct pytest tests on inputs outside the docstring
  (computed from the correct body).  ``critic``: approves.

What is sampled is read back from the job's trace (records of kind
``model``: a ``generate`` or ``fix`` reply equal to the spec's correct reply is
a correct sample), not from the server's memory, so the check is of what the
engine received.

Reported per grid cell (p, q):

(a) among specs where some sampled candidate was correct, the share whose job
    ended ``passed`` (the search must find it: the goal is 100%);
(b) among fixable specs — the first round sampled no correct candidate, and
    the failure was quoted with expected/actual — the share that passed within
    2 search steps after the first round (with default settings a job has no
    more; the goal at q = 0.7 is >= 90%), and which steps (repair/resample)
    the search chose;
(c) model calls, iterations and tokens per spec.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from scripted_model import ScriptedModel  # noqa: E402

from specloop.loop import implement  # noqa: E402
from specloop.settings import Settings  # noqa: E402
from specloop.source.spec import find_target  # noqa: E402

FAKE_KEY = "sk-simulated-not-a-real-key"
DEFAULT_GRID = [(p, q) for p in (0.3, 0.6, 0.9) for q in (0.3, 0.7)]


# -- the synthetic specs -----------------------------------------------------------------
# (name, parameters, one-line spec, correct expression, docstring example args, extra test args)
_SPECS: list[tuple[str, str, str, str, list[tuple], list[tuple]]] = [
    ("add", "a, b", "Return the sum of a and b.", "a + b", [(1, 2), (5, -3)], [(0, 0), (10, 7)]),
    ("sub", "a, b", "Return a minus b.", "a - b", [(5, 2), (1, 4)], [(0, 0), (9, 9)]),
    ("mul", "a, b", "Return the product of a and b.", "a * b", [(3, 4), (2, -5)], [(0, 7), (6, 6)]),
    ("square", "n", "Return n squared.", "n * n", [(3,), (-4,)], [(0,), (12,)]),
    ("cube", "n", "Return n cubed.", "n ** 3", [(2,), (-3,)], [(0,), (5,)]),
    ("double", "n", "Return twice n.", "2 * n", [(4,), (-1,)], [(0,), (50,)]),
    ("half_floor", "n", "Return n divided by two, rounded down.", "n // 2", [(7,), (10,)], [(0,), (-3,)]),
    ("remainder3", "n", "Return the remainder of n divided by 3.", "n % 3", [(7,), (9,)], [(1,), (14,)]),
    ("absolute", "n", "Return the absolute value of n.", "abs(n)", [(-5,), (3,)], [(0,), (-12,)]),
    ("max_of_two", "a, b", "Return the larger of a and b.", "max(a, b)", [(3, 8), (9, 2)], [(5, 5), (-1, -4)]),
    ("min_of_three", "a, b, c", "Return the smallest of a, b and c.", "min(a, b, c)", [(3, 1, 2), (5, 6, 7)],
     [(0, 0, 0), (-2, 4, 1)]),
    ("sum_list", "xs", "Return the sum of the numbers in xs.", "sum(xs)", [([1, 2, 3],), ([5],)], [([],), ([4, -4, 2],)]),
    ("count_positive", "xs", "Return how many numbers in xs are greater than zero.", "sum(1 for x in xs if x > 0)",
     [([2, -3, 4],), ([],)], [([0],), ([1, -2, 3],)]),
    ("count_even", "xs", "Return how many numbers in xs are even.", "sum(1 for x in xs if x % 2 == 0)",
     [([1, 2, 3, 4],), ([1, 3],)], [([],), ([0, 2, 4],)]),
    ("mean", "xs", "Return the arithmetic mean of a non-empty list xs.", "sum(xs) / len(xs)",
     [([1, 2, 3],), ([4, 4],)], [([10],), ([1, 2],)]),
    ("largest", "xs", "Return the largest number in a non-empty list xs.", "max(xs)", [([3, 9, 2],), ([-1],)],
     [([5, 5],), ([-3, -7],)]),
    ("range_span", "xs", "Return the largest minus the smallest number of a non-empty list xs.",
     "max(xs) - min(xs)", [([3, 9, 2],), ([5, 1],)], [([4],), ([-2, 2],)]),
    ("power", "a, b", "Return a to the power b (b >= 0).", "a ** b", [(2, 5), (3, 1)], [(7, 0), (-2, 3)]),
    ("triangle", "n", "Return the sum 1 + 2 + ... + n (0 for n <= 0).", "max(n, 0) * (max(n, 0) + 1) // 2",
     [(4,), (1,)], [(0,), (10,)]),
    ("digit_sum", "n", "Return the sum of the decimal digits of a non-negative n.", "sum(int(d) for d in str(n))",
     [(123,), (9,)], [(0,), (9999,)]),
    ("count_digits", "n", "Return the number of decimal digits of a non-negative n.", "len(str(n))",
     [(123,), (5,)], [(0,), (100000,)]),
    ("last_digit", "n", "Return the last decimal digit of n (of its absolute value).", "abs(n) % 10",
     [(123,), (-47,)], [(0,), (10,)]),
    ("fib", "n", "Return the n-th Fibonacci number (fib(0) == 0, fib(1) == 1).",
     "round(((1 + 5 ** 0.5) / 2) ** n / 5 ** 0.5)", [(6,), (2,)], [(0,), (10,)]),
    ("clamp", "x, lo, hi", "Return x limited to the range lo..hi.", "min(max(x, lo), hi)", [(5, 0, 3), (2, 0, 3)],
     [(-1, 0, 3), (3, 3, 3)]),
    ("is_even", "n", "Return True when n is even.", "n % 2 == 0", [(4,), (7,)], [(0,), (-3,)]),
    ("is_positive", "n", "Return True when n is greater than zero.", "n > 0", [(3,), (-2,)], [(0,), (100,)]),
    ("is_palindrome", "s", "Return True when s reads the same backwards.", "s == s[::-1]", [("abba",), ("abc",)],
     [("",), ("racecar",)]),
    ("all_positive", "xs", "Return True when every number in xs is greater than zero.", "all(x > 0 for x in xs)",
     [([1, 2],), ([1, -2],)], [([],), ([0],)]),
    ("has_duplicates", "xs", "Return True when some value occurs twice in xs.", "len(set(xs)) != len(xs)",
     [([1, 2, 1],), ([1, 2, 3],)], [([],), (["a", "a"],)]),
    ("starts_upper", "s", "Return True when s starts with an uppercase letter.", "s[:1].isupper()",
     [("Hello",), ("hello",)], [("",), ("X",)]),
    ("reverse", "s", "Return s reversed.", "s[::-1]", [("abc",), ("hello",)], [("",), ("ab",)]),
    ("shout", "s", "Return s in uppercase followed by an exclamation mark.", "s.upper() + '!'", [("hi",), ("ok",)],
     [("",), ("a b",)]),
    ("first_char", "s", "Return the first character of s, or '' for an empty string.", "s[:1]",
     [("hello",), ("",)], [("x",), ("ab",)]),
    ("initials", "name", "Return the first letters of the words of name, uppercased.",
     "''.join(w[0].upper() for w in name.split())", [("ada lovelace",), ("Alan Mathison Turing",)],
     [("",), ("x",)]),
    ("repeat_word", "word, n", "Return word repeated n times, separated by single spaces.", "' '.join([word] * n)",
     [("hi", 3), ("a", 1)], [("x", 0), ("ab", 2)]),
    ("vowel_count", "s", "Return the number of vowels (aeiou, any case) in s.",
     "sum(c in 'aeiouAEIOU' for c in s)", [("hello",), ("sky",)], [("",), ("AEIOU",)]),
    ("title_case", "s", "Return s with the first letter of every word uppercased.", "s.title()",
     [("hello world",), ("a",)], [("",), ("x y z",)]),
    ("strip_spaces", "s", "Return s without any space characters.", "s.replace(' ', '')", [("a b c",), ("  x",)],
     [("",), ("nospace",)]),
    ("swap_case", "s", "Return s with lowercase letters uppercased and uppercase letters lowercased.",
     "s.swapcase()", [("Hello",), ("aBc",)], [("",), ("123",)]),
    ("word_count", "s", "Return the number of whitespace-separated words in s.", "len(s.split())",
     [("a b c",), ("one",)], [("",), ("  x  y ",)]),
    ("longest_word", "s", "Return the longest word of s (the first one on a tie); s has at least one word.",
     "max(s.split(), key=len)", [("a bbb cc",), ("hello",)], [("x y",), ("ab abc abcd",)]),
    ("join_dash", "words", "Return the words joined by '-'.", "'-'.join(words)", [(["a", "b"],), (["x"],)],
     [([],), (["p", "q", "r"],)]),
    ("evens", "xs", "Return the even numbers of xs, in order.", "[x for x in xs if x % 2 == 0]",
     [([1, 2, 3, 4],), ([5, 7],)], [([],), ([0, -2],)]),
    ("squares", "n", "Return the list of squares of 0 .. n-1.", "[i * i for i in range(n)]", [(4,), (1,)],
     [(0,), (6,)]),
    ("sorted_desc", "xs", "Return xs sorted from largest to smallest.", "sorted(xs, reverse=True)",
     [([3, 1, 2],), ([5, 9],)], [([],), ([1, 1, 0],)]),
    ("unique", "xs", "Return the values of xs without repeats, in order of first occurrence.",
     "list(dict.fromkeys(xs))", [([1, 2, 1, 3],), ([4, 4],)], [([],), ([3, 2, 1],)]),
    ("running_sum", "xs", "Return the running sums of xs.", "[sum(xs[:i + 1]) for i in range(len(xs))]",
     [([1, 2, 3],), ([5],)], [([],), ([1, -1, 1],)]),
    ("pairwise_diff", "xs", "Return the differences between neighbouring numbers of xs.",
     "[b - a for a, b in zip(xs, xs[1:])]", [([1, 4, 9],), ([2, 2],)], [([],), ([5],)]),
    ("char_codes", "s", "Return the code points of the characters of s.", "[ord(c) for c in s]",
     [("ab",), ("A",)], [("",), ("09",)]),
    ("chunk_pairs", "xs", "Return xs split into lists of two items (the last may hold one).",
     "[xs[i:i + 2] for i in range(0, len(xs), 2)]", [([1, 2, 3, 4],), ([1, 2, 3],)], [([],), ([9],)]),
]


@dataclass
class SimSpec:
    name: str
    params: str
    summary: str
    expr: str
    examples: list[tuple]
    extra: list[tuple]
    results: list[Any] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)   # wrong return expressions

    @property
    def module(self) -> str:
        return f"sim_{self.name}"

    def call(self, expr: str, args: tuple) -> Any:
        names = [p.strip() for p in self.params.split(",")]
        return eval(expr, dict(zip(names, args)))  # noqa: S307 - our own fixed expressions

    def stub(self) -> str:
        doc = [f"    {self.summary}", ""]
        for args, result in zip(self.examples, self.results):
            doc += [f"    >>> {self.name}({', '.join(repr(a) for a in args)})", f"    {result!r}"]
        return f"def {self.name}({self.params}):\n    \"\"\"" + "\n".join(doc).lstrip() + "\n    \"\"\"\n"

    def function(self, expr: str) -> str:
        return self.stub() + f"    return {expr}\n"

    def reply(self, expr: str) -> str:
        return f"```python\n{self.function(expr)}```\n"

    def correct_reply(self) -> str:
        return self.reply(self.expr)

    def tests_reply(self) -> str:
        lines = [f"from {self.module} import {self.name}", ""]
        for k, args in enumerate(self.extra):
            value = self.call(self.expr, args)
            lines += [f"def test_extra_{k}():", f"    assert {self.name}({', '.join(map(repr, args))}) == {value!r}", ""]
        return "```python\n" + "\n".join(lines) + "```\n"


def _mutations(value: Any) -> list[str]:
    """Wrong expressions for a result like ``value``; ``E`` stands for the correct one."""
    if isinstance(value, bool):
        return ["not (E)", "True", "False"]
    if isinstance(value, (int, float)):
        return ["(E) + 1", "(E) - 1", "2 * (E)", "0"]
    if isinstance(value, str):
        return ["(E)[::-1]", "(E) + ' '", "(E).upper()", "''"]
    if isinstance(value, list):
        return ["(E)[::-1]", "(E) + [0]", "(E)[1:]", "[]"]
    return ["None"]


def build_specs(count: int | None = None) -> list[SimSpec]:
    """The synthetic specs, each with 3 wrong bodies that fail one of its examples at least
    (the last one raising NameError)."""
    specs = []
    for name, params, summary, expr, examples, extra in _SPECS[:count]:
        spec = SimSpec(name, params, summary, expr, examples, extra)
        spec.results = [spec.call(expr, args) for args in examples]
        for mutation in _mutations(spec.results[0]):
            wrong = mutation.replace("E", expr)
            try:
                if any(spec.call(wrong, args) != r or type(spec.call(wrong, args)) is not type(r)
                       for args, r in zip(examples, spec.results)):
                    spec.wrong.append(wrong)
            except Exception:
                continue
        spec.wrong = spec.wrong[:2] + [f"({expr}) if undefined_helper({params.split(',')[0]}) else None"]
        specs.append(spec)
    return specs


# -- the simulated model ----------------------------------------------------------------
class SimulatedModel:
    """Answers the engine's requests for one grid cell (see the module doc)."""

    def __init__(self, specs: list[SimSpec], p: float, q: float, cell_seed: int) -> None:
        self.specs = {s.name: s for s in specs}
        self.p, self.q, self.cell_seed = p, q, cell_seed
        self.fixes: dict[str, int] = {}
        self.server = ScriptedModel(model_name="simulated")
        self.server.respond(self.generate, step="generate")
        self.server.respond(self.fix, step="fix")
        self.server.respond(lambda step, target, body: self.specs[target].tests_reply(), step="tests")
        self.server.add("critic", '{"verdict": "approve", "findings": []}', repeat=True)

    def _wrong(self, spec: SimSpec, rng: random.Random) -> str:
        return spec.reply(rng.choice(spec.wrong))

    def generate(self, step: str, target: str, body: dict[str, Any]) -> str:
        spec = self.specs[target]
        seed = body.get("seed")
        rng = random.Random(f"{self.cell_seed}:{spec.name}:generate:{'greedy' if seed is None else seed}")
        return self._wrong(spec, rng) if rng.random() < self.p else spec.correct_reply()

    def fix(self, step: str, target: str, body: dict[str, Any]) -> str:
        spec = self.specs[target]
        n = self.fixes[target] = self.fixes.get(target, 0) + 1
        rng = random.Random(f"{self.cell_seed}:{spec.name}:fix:{n}")
        last_user = next((str(m.get("content")) for m in reversed(body.get("messages") or [])
                          if m.get("role") == "user"), "")
        if "expected" in last_user and rng.random() < self.q:
            return spec.correct_reply()
        return self._wrong(spec, rng)

    def __enter__(self) -> "SimulatedModel":
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()


# -- one job, one cell --------------------------------------------------------------------
def read_trace(path: str | None, spec: SimSpec) -> dict[str, Any]:
    """What the engine received and decided, from the job's trace."""
    out: dict[str, Any] = {"sampled_correct": False, "first_round_correct": False, "steps": [],
                           "fix_prompts_with_expected": 0, "samples": 0, "fixes": 0, "duplicates": 0}
    if not path or not Path(path).is_file():
        return out
    correct = spec.correct_reply()
    seen_decision = False
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        kind = rec.get("kind")
        if kind == "decision":
            seen_decision = True
            out["steps"].append(rec.get("step"))
        elif kind == "duplicate":
            out["duplicates"] += 1
        elif kind == "model" and rec.get("step") in ("generate", "fix"):
            good = rec.get("reply") == correct
            out["sampled_correct"] |= good
            if rec["step"] == "generate":
                out["samples"] += 1
                if not seen_decision:
                    out["first_round_correct"] |= good
            else:
                out["fixes"] += 1
                users = [m for m in rec.get("messages") or [] if m.get("role") == "user"]
                if users and "expected" in str(users[-1].get("content")):
                    out["fix_prompts_with_expected"] += 1
    return out


async def run_spec(spec: SimSpec, settings: Settings) -> dict[str, Any]:
    workspace = Path(tempfile.mkdtemp(prefix="specloop-sim-"))
    try:
        path = workspace / f"{spec.module}.py"
        source = spec.stub()
        path.write_text(source, encoding="utf-8")
        target = find_target(source, spec.name)
        started = time.monotonic()
        result = await implement(source, path, target, settings, workspace=workspace)
        row = {"spec": spec.name, "status": result.status, "iterations": result.iterations,
               "calls": result.usage.calls, "tokens": result.usage.total, "error": result.error,
               "seconds": round(time.monotonic() - started, 2),
               "final_correct": (result.function_code or "").rstrip() == spec.function(spec.expr).rstrip()}
        row.update(read_trace(result.trace_path, spec))
        # the first round failed and its failure was quoted with expected/actual to a fix prompt
        row["fixable"] = not row["first_round_correct"]
        return row
    finally:
        shutil.rmtree(workspace, ignore_errors=True)


def _share(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def summarize_cell(rows: list[dict[str, Any]]) -> dict[str, Any]:
    sampled = [r for r in rows if r["sampled_correct"]]
    fixable = [r for r in rows if r["fixable"]]
    converged = [r for r in fixable if r["status"] == "passed" and len(r["steps"]) <= 2]
    steps: dict[str, int] = {}
    for r in rows:
        for s in r["steps"]:
            steps[s] = steps.get(s, 0) + 1
    n = len(rows)
    return {
        "specs": n,
        "passed": sum(r["status"] == "passed" for r in rows),
        "passed_and_correct": sum(r["status"] == "passed" and r["final_correct"] for r in rows),
        "sampled_correct": len(sampled),
        "found_when_sampled": sum(r["status"] == "passed" for r in sampled),
        "a_found_share": _share(sum(r["status"] == "passed" for r in sampled), len(sampled)),
        "missed": [r["spec"] for r in sampled if r["status"] != "passed"],
        "false_passes": [r["spec"] for r in rows if r["status"] == "passed" and not r["final_correct"]],
        "fixable": len(fixable),
        "fixable_converged_2": len(converged),
        "b_converged_share": _share(len(converged), len(fixable)),
        "first_steps": {s: sum(1 for r in fixable if r["steps"][:1] == [s]) for s in ("repair", "resample")},
        "second_steps": {s: sum(1 for r in fixable if r["steps"][1:2] == [s]) for s in ("repair", "resample")},
        "steps": steps,
        "calls_per_spec": round(sum(r["calls"] for r in rows) / n, 2) if n else None,
        "iterations_per_spec": round(sum(r["iterations"] for r in rows) / n, 2) if n else None,
        "tokens_per_spec": round(sum(r["tokens"] for r in rows) / n, 1) if n else None,
        "duplicates": sum(r["duplicates"] for r in rows),
        "fix_prompts": sum(r["fixes"] for r in rows),
        "fix_prompts_with_expected": sum(r["fix_prompts_with_expected"] for r in rows),
    }


async def run_cell(specs: list[SimSpec], p: float, q: float, *, base: Settings, jobs: int = 3,
                   cell_seed: int = 0) -> dict[str, Any]:
    """Every spec once at error rates (p, q): per-spec rows and the summary."""
    gate = asyncio.Semaphore(max(1, jobs))
    with SimulatedModel(specs, p, q, cell_seed) as sim:
        settings = base.model_copy(update={"model": "openai/simulated", "api_base": sim.server.url})

        async def one(spec: SimSpec) -> dict[str, Any]:
            async with gate:
                return await run_spec(spec, settings)

        rows = await asyncio.gather(*(one(s) for s in specs))
        unmatched = len(sim.server.unmatched)
    return {"p": p, "q": q, "cell_seed": cell_seed, "rows": list(rows), "unmatched_requests": unmatched,
            "summary": summarize_cell(list(rows))}


# -- report --------------------------------------------------------------------------------
def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def markdown(data: dict[str, Any]) -> str:
    st = data["settings"]
    lines = [
        f"Simulated model, {data['specs']} synthetic specs per cell; engine settings: candidates {st['candidates']}, "
        f"max_iterations {st['max_iterations']}, model tests {'on' if st['model_tests'] else 'off'}, critic "
        f"{'on' if st['critic'] else 'off'}; sandbox {st['sandbox']}; {data['date'][:10]}.",
        "",
        "| p (first answer wrong) | q (fix right) | specs with a correct sample | (a) … ended passed "
        "| fixable | (b) passed within 2 steps | steps 1 / 2 chosen (repair, resample) | passed | calls / spec "
        "| iterations / spec | tokens / spec |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for cell in data["cells"]:
        s = cell["summary"]
        f1, f2 = s["first_steps"], s["second_steps"]
        lines.append(
            f"| {cell['p']} | {cell['q']} | {s['sampled_correct']} | {s['found_when_sampled']} "
            f"({_pct(s['a_found_share'])}) | {s['fixable']} | {s['fixable_converged_2']} "
            f"({_pct(s['b_converged_share'])}) | {f1['repair']}, {f1['resample']} / {f2['repair']}, "
            f"{f2['resample']} | {s['passed']}/{s['specs']} | {s['calls_per_spec']} "
            f"| {s['iterations_per_spec']} | {_fmt_int(s['tokens_per_spec'])} |")
    missed = [(c["p"], c["q"], c["summary"]["missed"]) for c in data["cells"] if c["summary"]["missed"]]
    false = [(c["p"], c["q"], c["summary"]["false_passes"]) for c in data["cells"] if c["summary"]["false_passes"]]
    lines.append("")
    lines.append("Missed (a correct candidate was sampled, the job did not pass): "
                 + ("; ".join(f"p={p} q={q}: {', '.join(m)}" for p, q, m in missed) if missed else "none") + ".")
    lines.append("Passed with wrong code: "
                 + ("; ".join(f"p={p} q={q}: {', '.join(m)}" for p, q, m in false) if false else "none") + ".")
    return "\n".join(lines) + "\n"


def _fmt_int(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def parse_grid(text: str) -> list[tuple[float, float]]:
    return [(float(a), float(b)) for a, b in (item.split(":") for item in text.split(",") if item)]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--specs", type=int, default=None, help=f"how many synthetic specs (default all {len(_SPECS)})")
    ap.add_argument("--grid", type=parse_grid, default=DEFAULT_GRID, help="p:q pairs, e.g. 0.3:0.7,0.9:0.3")
    ap.add_argument("--jobs", type=int, default=3, help="specs run at once")
    ap.add_argument("--seed", type=int, default=0, help="cell seed (changes every draw)")
    ap.add_argument("--candidates", type=int, default=None)
    ap.add_argument("--max-iterations", type=int, default=None)
    ap.add_argument("--model-tests", action=argparse.BooleanOptionalAction, default=None)
    ap.add_argument("--critic", action=argparse.BooleanOptionalAction, default=None)
    ap.add_argument("--sandbox", choices=("auto", "bwrap", "process"), default="auto")
    ap.add_argument("--out", default=None, help="output prefix: writes OUT.json and OUT.md")
    return ap.parse_args(argv)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    os.environ.setdefault("OPENAI_API_KEY", FAKE_KEY)
    overrides = {k: getattr(args, k) for k in ("candidates", "max_iterations", "model_tests", "critic")
                 if getattr(args, k) is not None}
    base = Settings(model="openai/simulated", sandbox=args.sandbox, max_retries=0, request_timeout=30,
                    keep_tests=False, **overrides)
    specs = build_specs(args.specs)
    started = time.monotonic()
    cells = []
    for p, q in args.grid:
        cell = await run_cell(specs, p, q, base=base, jobs=args.jobs, cell_seed=args.seed)
        s = cell["summary"]
        print(f"p={p} q={q}: (a) {s['found_when_sampled']}/{s['sampled_correct']}  "
              f"(b) {s['fixable_converged_2']}/{s['fixable']}  passed {s['passed']}/{s['specs']}", flush=True)
        cells.append(cell)
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "specs": len(specs),
        "settings": {k: v for k, v in base.model_dump().items()
                     if k in ("candidates", "max_iterations", "model_tests", "critic", "temperature",
                              "sample_temperature", "token_budget", "sandbox")},
        "seed": args.seed, "seconds": round(time.monotonic() - started, 1),
        "machine": {"arch": platform.machine(), "cores": os.cpu_count(), "python": platform.python_version()},
        "cells": cells,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data = asyncio.run(main_async(args))
    table = markdown(data)
    print(table)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.with_suffix(".json").write_text(json.dumps(data, indent=1), encoding="utf-8")
        out.with_suffix(".md").write_text(table, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
