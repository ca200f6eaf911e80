"""An interpreter older than 3.11 gets one clear line, not a traceback from deep inside."""

import subprocess
import sys
from pathlib import Path

SERVER = Path(__file__).resolve().parents[2] / "server"


def test_an_old_python_is_told_the_version_it_needs():
    # the guard reads sys.version_info at import: an interpreter that reports 3.10
    code = ("import sys; sys.version_info = (3, 10, 14, 'final', 0); "
            f"sys.path.insert(0, {str(SERVER)!r}); import specloop.cli")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.startswith("specloop needs Python 3.11 or newer; this is Python "), proc.stderr
    assert "Traceback" not in proc.stderr


def test_this_python_imports_specloop():
    proc = subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(SERVER)!r}); "
                           "import specloop.cli, specloop; print(specloop.__version__)"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "0.1.0", proc.stderr
