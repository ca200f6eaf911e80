"""Smoke test of bench/overhead.py's typing condition: the script starts `specloop serve`, types
into the open document (a change every 30 ms, some moving every stub a line down) while it
times code actions and lenses, and checks that each code action offered the stub aimed at.
No timing is asserted: only that it ran, measured what it says, and the answers were right."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_typing_condition_runs_and_answers_right(tmp_path: Path) -> None:
    out = tmp_path / "overhead.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPECLOOP_")}
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "overhead.py"), "--only", "lsp", "--sizes", "400",
                           "--conditions", "typing", "--requests", "20", "--json", str(out)],
                          capture_output=True, text=True, timeout=240, env=env, cwd=str(ROOT))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "typing" in done.stdout and "p50 / idle nothing p50" in done.stdout
    data = json.loads(out.read_text(encoding="utf-8"))["lsp"]["400"]
    typing = data["typing"]
    assert typing["changes"] >= 10
    assert len(typing["codeAction"]) == len(typing["codeLens"]) == len(typing["nothing"]) == 20
    assert typing["right"] == [1.0] * 20          # every answer offered the stub at its moved line
    assert data["idle"]["right"] == [1.0] * 20
