"""Smoke test of bench/context_latency.py on a small generated workspace: the script starts
`specloop serve`, runs generate jobs (their context built, their model request refused by the
scripted model) while it times code actions, and prints and writes its ratios.  No timing is
asserted: only that it ran and measured what it says."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_context_latency_bench_runs(tmp_path: Path) -> None:
    out = tmp_path / "latency.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPECLOOP_")}
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "context_latency.py"), "--files", "30", "--lines", "300",
                           "--requests", "8", "--rounds", "2", "--model-delay", "0.1", "--json", str(out)],
                          capture_output=True, text=True, timeout=240, env=env, cwd=str(ROOT))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "p99/floor" in done.stdout and "codeAction" in done.stdout
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["files"] == 30 and data["jobs_ended"] == data["jobs_started"] >= 1
    assert len(data["idle"]["codeAction"]) == len(data["jobs"]["nothing"]) == 8
    assert set(data["ratios"]) == {"idle.codeAction", "idle.nothing", "jobs.codeAction", "jobs.nothing"}
    assert [v["label"] for v in data["variants"]] == ["this tree"] and len(data["load_average"]) == 2
    assert "p95/floor" in done.stdout and "load average" in done.stdout
