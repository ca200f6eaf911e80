"""Writing results back without losing the user's text, and diffs git applies."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from specloop.results import JobResult
from specloop.results import TestOutcome as Outcome
from specloop.cli.runfiles import python_files
from specloop.source.writeback import (CHANGED, DELETED, WRITTEN, SourceFile, Undecodable, read_source, save_attempt,
                                unified_diff, write_back)


def test_unchanged_file_is_written_keeping_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("x = 1\n")
    path.chmod(0o741)
    source = read_source(path)
    assert write_back(source, "x = 2\n") == WRITTEN
    assert path.read_text() == "x = 2\n" and stat.S_IMODE(path.stat().st_mode) == 0o741
    assert os.listdir(tmp_path) == ["m.py"]


def test_changed_or_deleted_file_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("x = 1\n")
    source = read_source(path)
    path.write_text("x = 1  # edited\n")
    assert write_back(source, "x = 2\n") == CHANGED
    assert path.read_text() == "x = 1  # edited\n"
    path.unlink()
    assert write_back(source, "x = 2\n") == DELETED
    assert not path.exists()


def test_symlinks_are_written_through(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    real = tmp_path / "real" / "m.py"
    real.write_text("x = 1\n")
    middle = tmp_path / "middle.py"
    middle.symlink_to(real)
    link = tmp_path / "link.py"
    link.symlink_to("middle.py")
    assert write_back(read_source(link), "x = 2\n") == WRITTEN
    assert link.is_symlink() and os.readlink(link) == "middle.py" and middle.is_symlink()
    assert real.read_text() == "x = 2\n"
    assert sorted(os.listdir(tmp_path / "real")) == ["m.py"]


def test_hard_links_all_see_the_new_text(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("x = 1\n")
    other = tmp_path / "same.py"
    os.link(path, other)
    assert write_back(read_source(path), "x = 22\n") == WRITTEN
    assert other.read_text() == "x = 22\n" and path.stat().st_ino == other.stat().st_ino


def test_read_only_file_is_refused_even_for_root(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("x = 1\n")
    path.chmod(0o444)
    with pytest.raises(PermissionError):
        write_back(read_source(path), "x = 2\n")
    assert path.read_text() == "x = 1\n"


def test_encodings_and_bom_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_bytes(b"\xef\xbb\xbfx = '\xc3\xa9'\r\n")
    source = read_source(path)
    assert source.encoding == "utf-8-sig" and source.text == "x = 'é'\r\n"
    write_back(source, "x = 'è'\r\n")
    assert path.read_bytes() == b"\xef\xbb\xbfx = '\xc3\xa8'\r\n"
    latin = tmp_path / "l.py"
    latin.write_bytes(b"# -*- coding: latin-1 -*-\nx = '\xe9'\n")
    write_back(read_source(latin), "# -*- coding: latin-1 -*-\nx = '\xe8'\n")
    assert latin.read_bytes() == b"# -*- coding: latin-1 -*-\nx = '\xe8'\n"
    bad = tmp_path / "b.py"
    bad.write_bytes(b"x = '\xff'\n")
    with pytest.raises(Undecodable):
        read_source(bad)


def test_new_file_follows_the_umask(tmp_path: Path) -> None:
    path = tmp_path / "tests" / "test_m.py"
    old = os.umask(0o027)
    try:
        assert write_back(SourceFile(path, "", "utf-8", None), "def test(): pass\n") == WRITTEN
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert write_back(SourceFile(path, "", "utf-8", None), "x\n") == CHANGED   # it exists now


def test_diff_paths_are_relative_and_git_applies_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    files = {"pkg/a.py": "a = 1\nb = 2", "pkg/crlf.py": "x = 1\r\ny = 2\r\n", "pkg/cr.py": "x = 1\ry = 2\r"}
    for name, text in files.items():
        (repo / name).write_bytes(text.encode())
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    monkeypatch.chdir(repo)
    patch = "".join(unified_diff(Path(name), text, text.replace("2", "3")) for name, text in files.items())
    patch += unified_diff(repo / "pkg" / "new.py", None, "n = 1\n")
    assert patch.startswith("--- a/pkg/a.py\n+++ b/pkg/a.py\n")
    assert "+b = 3\n\\ No newline at end of file\n" in patch
    assert "--- /dev/null\n+++ b/pkg/new.py\n" in patch
    subprocess.run(["git", "apply", "-"], input=patch.encode(), cwd=repo, check=True)
    for name, text in files.items():
        assert (repo / name).read_bytes() == text.replace("2", "3").encode()
    assert (repo / "pkg" / "new.py").read_text() == "n = 1\n"


def test_saved_attempt_says_why_it_was_not_written(tmp_path: Path) -> None:
    result = JobResult(name="Shape.area", status="failed", passed=1, failed=1, error="fix budget spent",
                       failures=[Outcome("test_x.py::test_neg", "failed", "assert -1 == 0\nmore")],
                       function_code="def area(self):\n    return -1\n", imports=["import math"])
    path = save_attempt(tmp_path, tmp_path / "pkg" / "shapes.py", result, "its tests fail")
    assert path == tmp_path / ".specloop" / "results" / "shapes.Shape.area.py"
    assert path.read_text() == (
        "# specloop: Shape.area in pkg/shapes.py was not written\n"
        "# status: failed (1/2 tests passed)\n"
        "# reason: fix budget spent\n"
        "# first failing test: test_x.py::test_neg: assert -1 == 0 more\n"
        "# why it was not written: its tests fail\n"
        "import math\n\n\ndef area(self):\n    return -1\n")


def test_saved_attempt_of_a_module_spec_has_a_safe_file_name(tmp_path: Path) -> None:
    """A module spec is named "module spec (line 5)": its saved attempt's file name has no
    spaces or parentheses; the reason counts tests as every front end does."""
    from specloop.source.writeback import attempt_path, reason_of, safe_name

    result = JobResult(name="module spec (line 5)", status="failed", passed=1, failed=2,
                       function_code="def f(x):\n    return x\n")
    path = save_attempt(tmp_path, tmp_path / "my words.py", result, "its tests fail")
    assert path == tmp_path / ".specloop" / "results" / "my_words.module_spec_line_5_.py"
    assert path == attempt_path(tmp_path, tmp_path / "my words.py", "module spec (line 5)")
    assert "# reason: failed 1/3 tests\n" in path.read_text()
    assert reason_of(result) == "failed 1/3 tests"
    assert safe_name("Stack.__init__") == "Stack.__init__" and safe_name("a/b\\c d") == "a_b_c_d"


def test_folder_walk_skips_tool_and_hidden_folders(tmp_path: Path) -> None:
    for name in ("a.py", "pkg/b.py", "pkg/notes.txt", ".venv/c.py", "env/d.py", "node_modules/e.py",
                 ".git/f.py", "pkg/__pycache__/g.py", ".specloop/results/h.py", "pkg/.hidden.py", "z/site-packages/i.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    (tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    problems: list[str] = []
    found = python_files(tmp_path, problems)
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a.py", "pkg/b.py"]
    assert problems == []
