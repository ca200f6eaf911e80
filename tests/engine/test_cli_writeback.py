"""`specloop run` never loses the user's text: what it writes back, and where
it refuses to (a subprocess against the scripted model, as in test_cli.py)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from replies import fenced
from cli_run import AS_A_USER
from test_cli import BAD, GOOD, STUB, cli_env, specloop

ROOT = os.geteuid() == 0
RESULTS = Path(".specloop") / "results"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    return tmp_path


def error_lines(stderr: str) -> list[str]:
    """The one-line reasons (progress lines name a target, these start with 'specloop:')."""
    assert "Traceback" not in stderr, stderr
    return [line for line in stderr.splitlines() if line.startswith("specloop:")]


def test_file_changed_meanwhile_is_not_overwritten(scripted_model, project):
    path = project / "geometry.py"
    path.write_text(STUB, encoding="utf-8")
    edited = STUB + "\n\nUSER_EDIT = 1\n"

    def user_edits_then_answer(step, target, body):
        path.write_text(edited, encoding="utf-8")
        return fenced(GOOD)

    scripted_model.respond(user_edits_then_answer, step="generate")
    proc = specloop("run", "geometry.py", env=cli_env(scripted_model.url), cwd=project)
    assert proc.returncode == 1, proc.stderr
    assert path.read_text(encoding="utf-8") == edited
    (line,) = error_lines(proc.stderr)
    assert "geometry.py changed on disk" in line and str(RESULTS) in line
    saved = (project / RESULTS / "geometry.area.py").read_text(encoding="utf-8")
    assert "# status: passed" in saved and "return w * h" in saved


def test_file_deleted_meanwhile_is_not_recreated(scripted_model, project):
    path = project / "geometry.py"
    path.write_text(STUB, encoding="utf-8")

    def user_deletes_then_answer(step, target, body):
        path.unlink()
        return fenced(GOOD)

    scripted_model.respond(user_deletes_then_answer, step="generate")
    proc = specloop("run", "geometry.py", "--json", env=cli_env(scripted_model.url), cwd=project)
    assert proc.returncode == 1, proc.stderr
    assert not path.exists()
    (line,) = error_lines(proc.stderr)
    assert "geometry.py was deleted" in line
    assert "return w * h" in (project / RESULTS / "geometry.area.py").read_text(encoding="utf-8")
    (target,) = json.loads(proc.stdout)["targets"]
    assert target["status"] == "passed" and target["written"] is False
    assert target["saved"] == str(RESULTS / "geometry.area.py")


def test_mode_is_kept(scripted_model, project):
    path = project / "geometry.py"
    path.write_text(STUB, encoding="utf-8")
    path.chmod(0o750)
    scripted_model.add("generate", fenced(GOOD))
    proc = specloop("run", "geometry.py", env=cli_env(scripted_model.url), cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(path.stat().st_mode) == 0o750
    assert path.read_text(encoding="utf-8") == STUB + "    return w * h\n"


def test_writes_through_a_symlink(scripted_model, project):
    real = project / "src" / "geometry.py"
    real.parent.mkdir()
    real.write_text(STUB, encoding="utf-8")
    link = project / "geometry.py"
    link.symlink_to(Path("src") / "geometry.py")
    scripted_model.add("generate", fenced(GOOD))
    proc = specloop("run", "geometry.py", env=cli_env(scripted_model.url), cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and os.readlink(link) == str(Path("src") / "geometry.py")
    assert real.read_text(encoding="utf-8") == STUB + "    return w * h\n"
    assert sorted(p.name for p in real.parent.iterdir()) == ["geometry.py"]     # no temporary file left


def test_read_only_file_is_refused_with_exit_2_and_the_result_saved(scripted_model, project):
    path = project / "geometry.py"
    path.write_text(STUB, encoding="utf-8")
    path.chmod(0o444)
    scripted_model.add("generate", fenced(GOOD))
    proc = specloop("run", "geometry.py", env=cli_env(scripted_model.url), cwd=project)
    assert proc.returncode == 2, proc.stderr
    (line,) = error_lines(proc.stderr)
    assert "cannot write geometry.py" in line and "read-only" in line
    assert path.read_text(encoding="utf-8") == STUB
    assert "return w * h" in (project / RESULTS / "geometry.area.py").read_text(encoding="utf-8")


def test_results_folder_that_cannot_be_made_is_exit_2_not_a_traceback(scripted_model, project):
    path = project / "geometry.py"
    path.write_text(STUB, encoding="utf-8")
    (project / ".specloop").write_text("a file where the folder should be\n")
    scripted_model.add("generate", fenced(BAD))
    proc = specloop("run", "geometry.py", "--max-iterations", "1", env=cli_env(scripted_model.url, SPECLOOP_TRACE="false"),
                    cwd=project)
    assert proc.returncode == 2, proc.stderr
    (line,) = error_lines(proc.stderr)
    assert "cannot save" in line and ".specloop" in line
    assert path.read_text(encoding="utf-8") == STUB


@pytest.mark.parametrize("make", ["dangling_link", "file_as_folder", "unreadable"])
def test_unreadable_path_is_exit_2_with_one_line(scripted_model, project, make):
    if make == "dangling_link":
        (project / "mod.py").symlink_to(project / "missing.py")
        arg = "mod.py"
    elif make == "file_as_folder":
        (project / "mod.py").write_text(STUB)
        arg = "mod.py/inner.py"
    else:
        (project / "mod.py").write_text(STUB)
        (project / "mod.py").chmod(0)
        arg = "mod.py"
        assert os.access(project / "mod.py", os.R_OK) == ROOT      # the premise: unreadable but for root
    proc = specloop("run", arg, env=cli_env(scripted_model.url), cwd=project, prefix=AS_A_USER)
    assert proc.returncode == 2
    assert len(error_lines(proc.stderr)) == 1 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not scripted_model.requests


def test_read_only_folder_is_exit_2(scripted_model, project):
    folder = project / "pkg"
    folder.mkdir()
    path = folder / "geometry.py"
    path.write_text(STUB, encoding="utf-8")
    folder.chmod(0o555)
    try:
        scripted_model.add("generate", fenced(GOOD))
        proc = specloop("run", "pkg/geometry.py", env=cli_env(scripted_model.url), cwd=project, prefix=AS_A_USER)
    finally:
        folder.chmod(0o755)
    assert proc.returncode == 2, proc.stderr
    (line,) = error_lines(proc.stderr)
    assert "cannot write pkg/geometry.py" in line
    assert path.read_text(encoding="utf-8") == STUB


STUB_B = STUB.replace("area", "volume").replace("w×h rectangle", "w×h×1 box")


def test_folder_runs_every_file_with_targets_and_skips_tool_folders(scripted_model, project):
    files = {
        "geometry.py": STUB,
        "pkg/shapes.py": STUB_B,
        "pkg/plain.py": "X = 1\n",
        ".venv/lib/site.py": STUB,
        "venv/lib/site.py": STUB,              # a virtualenv under any name (it has pyvenv.cfg)
        "node_modules/x/y.py": STUB,
        ".hidden/z.py": STUB,
        ".git/hooks/h.py": STUB,
        ".specloop/results/geometry.area.py": STUB,
        "pkg/.#shapes.py": STUB,
    }
    for name, text in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text, encoding="utf-8")
    (project / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    scripted_model.add("generate", fenced(GOOD), target="area")
    scripted_model.add("generate", fenced(GOOD.replace("area", "volume")), target="volume")
    proc = specloop("run", ".", "--json", env=cli_env(scripted_model.url), cwd=project)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)["targets"]
    assert [(t["file"], t["name"], t["status"], t["written"]) for t in report] == [
        ("geometry.py", "area", "passed", True), (str(Path("pkg/shapes.py")), "volume", "passed", True)]
    assert (project / "geometry.py").read_text(encoding="utf-8") == STUB + "    return w * h\n"
    assert (project / "pkg/shapes.py").read_text(encoding="utf-8").endswith("    return w * h\n")
    for name in (".venv/lib/site.py", "venv/lib/site.py", "node_modules/x/y.py", ".hidden/z.py"):
        assert (project / name).read_text(encoding="utf-8") == STUB
    assert sorted(r.target for r in scripted_model.requests) == ["area", "volume"]


def test_folder_with_a_broken_file_does_the_rest_and_exits_2(scripted_model, project):
    (project / "a_broken.py").write_text("def broken(:\n")
    (project / "geometry.py").write_text(STUB, encoding="utf-8")
    scripted_model.add("generate", fenced(GOOD))
    proc = specloop("run", str(project), env=cli_env(scripted_model.url), cwd=project)
    assert proc.returncode == 2, proc.stderr
    (line,) = error_lines(proc.stderr)
    assert "a_broken.py does not parse" in line and "skipped" in line
    assert (project / "geometry.py").read_text(encoding="utf-8") == STUB + "    return w * h\n"


def test_folder_target_filter_and_unknown_target(scripted_model, project):
    (project / "geometry.py").write_text(STUB, encoding="utf-8")
    (project / "box.py").write_text(STUB_B, encoding="utf-8")
    scripted_model.add("generate", fenced(GOOD.replace("area", "volume")))
    proc = specloop("run", ".", "--target", "volume", env=cli_env(scripted_model.url), cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert (project / "geometry.py").read_text(encoding="utf-8") == STUB
    assert "return w * h" in (project / "box.py").read_text(encoding="utf-8")
    proc = specloop("run", ".", "--target", "perimeter", env=cli_env(scripted_model.url), cwd=project)
    assert proc.returncode == 2 and "no spec named perimeter" in proc.stderr


def test_diff_applies_with_git_apply(scripted_model, tmp_path):
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    no_final_newline = STUB + "\n\nLAST = 1"
    (repo / "pkg" / "geometry.py").write_text(no_final_newline, encoding="utf-8")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "."], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "stub"], cwd=repo, check=True)
    scripted_model.add("generate", fenced("import math\n\n" + GOOD))
    scripted_model.add("tests", fenced("from geometry import area\n\n\ndef test_area_square():\n"
                                       "    assert area(3, 3) == 9\n"))
    env = cli_env(scripted_model.url, SPECLOOP_MODEL_TESTS="true")
    proc = specloop("run", str(repo / "pkg" / "geometry.py"), "--diff", env=env, cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("--- a/pkg/geometry.py\n+++ b/pkg/geometry.py\n")
    assert "\n\\ No newline at end of file\n" in proc.stdout
    assert "--- /dev/null\n+++ b/tests/test_geometry_specloop.py\n" in proc.stdout    # kept tests: a new file
    check = subprocess.run(["git", "apply", "--check", "-"], input=proc.stdout, text=True, cwd=repo,
                           capture_output=True)
    assert check.returncode == 0, check.stderr + proc.stdout
    subprocess.run(["git", "apply", "-"], input=proc.stdout, text=True, cwd=repo, check=True)
    body = STUB.replace('    """\n', '    """\n    return w * h\n')
    assert (repo / "pkg" / "geometry.py").read_text(encoding="utf-8") == "import math\n\n" + body + "\n\nLAST = 1"
    assert "def test_area_square" in (repo / "tests" / "test_geometry_specloop.py").read_text(encoding="utf-8")
