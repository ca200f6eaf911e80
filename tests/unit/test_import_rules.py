"""The import rules in ``.importlinter`` hold: only ``specloop.lsp`` imports pygls or
lsprotocol, the CLI sits above the language server and the server above the engine,
and the modules of a package import each other without cycles (beyond the ones the
file lists).  Checked with import-linter, a dev dependency: a missing one fails."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / ".importlinter"


def lint_imports() -> str:
    beside = Path(sys.executable).parent / "lint-imports"
    found = str(beside) if beside.exists() else shutil.which("lint-imports")
    if found is None:
        pytest.fail("lint-imports is not installed (import-linter, a dev dependency: "
                    "pip install -r requirements/dev.txt, or pip install import-linter)")
    return found


def test_the_import_contracts_are_kept() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO / "server"), *filter(None, [os.environ.get("PYTHONPATH")])])}
    out = subprocess.run([lint_imports(), "--no-cache", "--no-logo", str(CONFIG)], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=120)
    report = out.stdout + out.stderr
    assert out.returncode == 0, report
    assert "0 broken" in report and " BROKEN" not in report, report
