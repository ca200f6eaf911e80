"""Smoke test of bench/overhead.py: run as a user runs it, with tiny counts, it prints its
table.  No timing is asserted (numbers on a shared machine mean nothing here)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from environment import missing

from specloop.sandbox.isolation import probe_bwrap

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(600)
def test_overhead_bench_prints_its_table(tmp_path: Path) -> None:
    if not probe_bwrap():
        missing("bubblewrap does not work here: specloop run runs no tests without it")
    out = tmp_path / "overhead.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPECLOOP_")}
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "overhead.py"), "--runs", "1", "--requests", "3",
                           "--starts", "1", "--memory-runs", "0", "--sizes", "300", "--json", str(out)],
                          capture_output=True, text=True, timeout=580, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = proc.stdout
    for line in ("specloop run, 5 stubs", "wall time", "model calls + test rounds", "first progress line",
                 "LSP request latency", "codeAction", "codeLens", "server start-up and memory", "specloop"):
        assert line in text, text
    assert out.is_file()
