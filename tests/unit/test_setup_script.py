"""``scripts/ensure-bwrap.sh``, the step of ``scripts/setup.sh`` that makes the main job work
on a fresh Debian or Ubuntu: bubblewrap is installed as root with apt-get (``apt-get update``
only when the install needs it), and otherwise one line says the exact command to run.  A
fake ``apt-get`` (``SPECLOOP_APT_GET``) and a fake ``id`` on PATH stand in for the system:
no network, nothing installed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "ensure-bwrap.sh"

FAKE_APT = """#!/bin/sh
echo "$*" >> "{log}"
case "$1" in
  update) touch "{lists}"; exit 0 ;;
  install) [ -e "{lists}" ] || [ -z "{needs_update}" ] || exit 100; exit 0 ;;
esac
exit 1
"""


def run(tmp_path: Path, *, uid: int, bwrap: str = "no-such-bwrap-here", apt: bool = True,
        needs_update: bool = False) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = tmp_path / "apt.log"
    fake_id = bin_dir / "id"
    fake_id.write_text(f"#!/bin/sh\necho {uid}\n")
    fake_apt = bin_dir / "apt-get-fake"
    fake_apt.write_text(FAKE_APT.format(log=log, lists=tmp_path / "lists", needs_update="1" if needs_update else ""))
    for path in (fake_id, fake_apt):
        path.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "SPECLOOP_BWRAP": bwrap,
           "SPECLOOP_APT_GET": str(fake_apt) if apt else "no-such-apt-get"}
    proc = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30)
    return proc, log.read_text().splitlines() if log.exists() else []


def test_root_installs_bubblewrap_quietly_without_update_when_not_needed(tmp_path: Path) -> None:
    proc, calls = run(tmp_path, uid=0)
    assert proc.returncode == 0, proc.stderr
    assert calls == ["install -y -qq bubblewrap"]
    assert proc.stdout == "specloop: installed bubblewrap (the sandbox generated code runs in)\n"
    assert proc.stderr == ""


def test_root_updates_the_package_lists_only_when_the_install_needs_it(tmp_path: Path) -> None:
    proc, calls = run(tmp_path, uid=0, needs_update=True)
    assert proc.returncode == 0, proc.stderr
    assert calls == ["install -y -qq bubblewrap", "update -qq", "install -y -qq bubblewrap"]
    assert proc.stdout.splitlines() == ["specloop: installed bubblewrap (the sandbox generated code runs in)"]


def test_not_root_prints_one_line_with_the_command_and_installs_nothing(tmp_path: Path) -> None:
    proc, calls = run(tmp_path, uid=1000)
    assert proc.returncode == 0
    assert calls == []
    assert proc.stdout.splitlines() == [
        "specloop: bubblewrap is not installed and specloop runs no tests without it; "
        "run: sudo apt-get install -y bubblewrap"]


def test_without_apt_get_the_line_names_the_package(tmp_path: Path) -> None:
    proc, calls = run(tmp_path, uid=0, apt=False)
    assert proc.returncode == 0 and calls == []
    [line] = proc.stdout.splitlines()
    assert line.startswith("specloop: bubblewrap is not installed") and "install the package bubblewrap" in line


@pytest.mark.parametrize("uid", [0, 1000])
def test_nothing_is_done_or_said_when_bwrap_is_there(tmp_path: Path, uid: int) -> None:
    proc, calls = run(tmp_path, uid=uid, bwrap="sh")
    assert (proc.returncode, proc.stdout, calls) == (0, "", [])


def test_setup_runs_it_in_both_modes_as_its_last_step() -> None:
    lines = [line.strip() for line in (ROOT / "scripts" / "setup.sh").read_text().splitlines() if line.strip()]
    assert lines[-1].startswith("bash scripts/ensure-bwrap.sh")
    assert lines[-2].startswith('echo "specloop is installed')     # after the install, outside the --dev branch


def test_setup_stops_with_one_line_when_not_root_and_venv_cannot_be_made(tmp_path: Path) -> None:
    """A fresh Debian without python3-venv, not root: setup says what to run and stops before
    it creates anything (run on a copy of the script: it works in the folder above it)."""
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "setup.sh").write_text((ROOT / "scripts" / "setup.sh").read_text())
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "id").write_text("#!/bin/sh\necho 1000\n")
    (bin_dir / "id").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PYTHON": "false"}
    proc = subprocess.run(["bash", str(tmp_path / "scripts" / "setup.sh")], env=env, capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 1
    [line] = proc.stderr.splitlines()     # (with g++ too where there is no C++ compiler)
    assert line.startswith("specloop: setup needs python3-venv") and "; run: sudo apt-get install -y python3-venv" in line
    assert not (tmp_path / ".venv").exists()
