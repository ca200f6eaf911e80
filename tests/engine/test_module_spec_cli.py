"""`specloop run` on a module spec (a subprocess, the scripted model over HTTP): the block is
planned, its functions written below it in one piece, the block marked done, and a second
run finds nothing left to do."""

from __future__ import annotations

import ast
import importlib.util
import json
from pathlib import Path

import pytest

from test_module_spec import CODE, PLAN, TEXTS, script_texts
from replies import critic, fenced
from cli_run import cli_env, specloop
from test_cli import BAD, GOOD, STUB


def test_specloop_run_implements_a_module_spec(scripted_model, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    path = tmp_path / "texts.py"
    path.write_text(TEXTS, encoding="utf-8")
    script_texts(scripted_model)
    env = cli_env(scripted_model.url, SPECLOOP_CRITIC="true", SPECLOOP_PARALLEL_JOBS="3")
    proc = specloop("run", "texts.py", "--json", env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (entry,) = json.loads(proc.stdout)["targets"]
    assert entry["name"] == "module spec (line 5)" and entry["kind"] == "module"
    assert entry["status"] == "passed" and entry["written"] is True and entry["line"] == 5
    assert [(c["name"], c["status"]) for c in entry["components"]] == [
        ("count_words", "passed"), ("longest_word", "passed"), ("shout", "passed")]
    text = path.read_text(encoding="utf-8")
    assert "# spec (implemented): Word statistics" in text and "return text.upper() + '!'" in text
    assert text.endswith('def after():\n    return "untouched"\n')

    again = specloop("run", "texts.py", env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert path.read_text(encoding="utf-8") == text


def test_only_names_a_module_spec_by_its_line(scripted_model, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (tmp_path / "texts.py").write_text(TEXTS, encoding="utf-8")
    proc = specloop("run", "texts.py", "--target", "nothing", env=cli_env(scripted_model.url), cwd=tmp_path)
    assert proc.returncode != 0 and "module spec (line 5)" in proc.stderr


def test_findings_are_shown_on_the_function_they_name_or_on_the_block(scripted_model, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    path = tmp_path / "texts.py"
    path.write_text(TEXTS, encoding="utf-8")
    scripted_model.add("plan", fenced(PLAN))
    for name, code in CODE.items():
        scripted_model.add("generate", fenced(code), target=name, repeat=True)
    scripted_model.add("critic", critic(
        "approve", {"function": "longest_word", "category": "quality", "severity": "info", "message": "say what a word is"},
        {"category": "quality", "severity": "info", "message": "the module could have a docstring"}))
    proc = specloop("run", "texts.py", env=cli_env(scripted_model.url, SPECLOOP_CRITIC="true"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = path.read_text(encoding="utf-8").splitlines()
    longest = next(i for i, line in enumerate(lines) if line.startswith("def longest_word")) + 1
    assert f"line {longest} in longest_word: say what a word is" in proc.stderr, proc.stderr
    assert "line 5" in proc.stderr.split("the module could have a docstring")[0].splitlines()[-1], proc.stderr


# -- a module spec anywhere in a file: it lands, its imports go into the import block ---------

BLOCK = '''\
# spec: Word statistics for plain text.
#   count_words(text) is the number of words (runs of letters);
#   most_common_word(text) the most common word, the first one on ties, "" when none;
#   shout(text) the text upper-cased with "!" appended.
#
#   >>> count_words("x y")
#   2
'''

WORDS_PLAN = '''\
def count_words(text: str) -> int:
    """The number of words (runs of letters) in ``text``.

    >>> count_words("a bb a")
    3
    """


def most_common_word(text: str) -> str:
    """The most common word in ``text``, the first one on ties; "" when there is none.

    >>> most_common_word("a bb a")
    'a'
    """


def shout(text: str) -> str:
    """``text`` upper-cased with "!" appended.

    >>> shout("hi")
    'HI!'
    """
'''

# correct answers; the first two need `import re`, the second `from collections import Counter` too
WORDS_CODE = {
    "count_words": "import re\n\n\ndef count_words(text: str) -> int:\n"
                   "    return len(re.findall(r'[A-Za-z]+', text))\n",
    "most_common_word": "import re\nfrom collections import Counter\n\n\n"
                        "def most_common_word(text: str) -> str:\n"
                        "    words = re.findall(r'[A-Za-z]+', text)\n"
                        "    return Counter(words).most_common(1)[0][0] if words else ''\n",
    "shout": "def shout(text: str) -> str:\n    return text.upper() + '!'\n",
}

DOC = '"""Text helpers."""\n'
BEFORE = 'def before():\n    return "before"\n'
AFTER = 'def after():\n    return "untouched"\n'

# (name, the file, the line the block starts on): every place a block may stand
POSITIONS = [
    ("top, code below", BLOCK + "\n\n" + AFTER, 1),
    ("top, imports below", BLOCK + "\nimport os\n\n\n" + AFTER, 1),
    ("top, the import block has Counter", BLOCK + "\nimport os\nfrom collections import Counter\n\n\n" + AFTER, 1),
    ("before the docstring", BLOCK + "\n" + DOC + "\n\n" + AFTER, 1),
    ("after the docstring and __future__", DOC + "\nfrom __future__ import annotations\n\n" + BLOCK + "\n\n" + AFTER, 5),
    ("between the docstring and __future__", DOC + "\n" + BLOCK + "\nfrom __future__ import annotations\n\n\n" + AFTER, 3),
    ("after the imports", DOC + "\nimport os\nimport re\n\n" + BLOCK + "\n\n" + AFTER, 6),
    ("between the imports", "import os\n\n" + BLOCK + "\nimport sys\n\n\n" + AFTER, 3),
    ("between two functions", "import os\n\n\n" + BEFORE + "\n\n" + BLOCK + "\n\n" + AFTER, 8),
    ("between two functions, no imports", BEFORE + "\n\n" + BLOCK + "\n\n" + AFTER, 5),
    ("at the end", DOC + "\nimport os\n\n\n" + BEFORE + "\n\n" + BLOCK, 10),
    ("at the end, no imports", BEFORE + "\n\n" + BLOCK, 5),
    ("the whole file", BLOCK, 1),
    ("the whole file, no final newline", BLOCK.rstrip("\n"), 1),
]


def script_words(model) -> None:
    model.add("plan", fenced(WORDS_PLAN), repeat=True)
    for name, code in WORDS_CODE.items():
        model.add("generate", fenced(code), target=name, repeat=True)


def top_level_imports(tree: ast.Module) -> tuple[list[str], bool]:
    """Every top-level import as written, and whether they all stand in the leading import
    block (after the docstring, before any other statement)."""
    body = tree.body[1:] if ast.get_docstring(tree, clean=False) is not None else tree.body
    leading = 0
    while leading < len(body) and isinstance(body[leading], (ast.Import, ast.ImportFrom)):
        leading += 1
    found = [ast.unparse(n) for n in body if isinstance(n, (ast.Import, ast.ImportFrom))]
    return found, all(not isinstance(n, (ast.Import, ast.ImportFrom)) for n in body[leading:])


def load(path: Path):
    spec = importlib.util.spec_from_file_location(f"written_{abs(hash(str(path)))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("source, line", [p[1:] for p in POSITIONS], ids=[p[0] for p in POSITIONS])
def test_a_module_spec_lands_wherever_it_stands(scripted_model, tmp_path: Path, source: str, line: int):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    path = tmp_path / "words.py"
    path.write_text(source, encoding="utf-8")
    script_words(scripted_model)
    env = cli_env(scripted_model.url)

    diff = specloop("run", "words.py", "--diff", env=env, cwd=tmp_path)
    assert diff.returncode == 0, diff.stderr
    assert path.read_text(encoding="utf-8") == source                    # --diff writes nothing
    assert "+def most_common_word(text: str) -> str:" in diff.stdout, diff.stderr

    proc = specloop("run", "words.py", "--json", env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (entry,) = json.loads(proc.stdout)["targets"]
    assert entry["name"] == f"module spec (line {line})", entry
    assert (entry["status"], entry["written"], entry["unplaced_reason"]) == ("passed", True, None), proc.stderr
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    imports, in_block = top_level_imports(tree)
    assert in_block, text
    assert imports.count("import re") == 1 and imports.count("from collections import Counter") == 1, text
    assert "# spec (implemented): Word statistics" in text and "# spec: Word" not in text
    module = load(path)
    assert module.count_words("a bb a") == 3 and module.most_common_word("b a b a") == "b"
    assert module.most_common_word("") == "" and module.shout("hi") == "HI!"
    if "def after" in source:
        assert module.after() == "untouched" and text.endswith(AFTER)
    if source.startswith(DOC) or "\n" + DOC in source:
        assert module.__doc__ == "Text helpers."
    # what --diff showed is what was written
    assert all(line[1:] in text.splitlines() for line in diff.stdout.splitlines()
               if line.startswith("+") and not line.startswith("+++")), (diff.stdout, text)


# -- a result that passed but cannot be placed is never silent ---------------------------------

# a module spec in a latin-1 file whose correct answer holds "…", which latin-1 cannot hold
LATIN = '''\
# -*- coding: latin-1 -*-
"""Short texts for a narrow column (café menus)."""

# spec: Shortening text.
#   ellipsize(text, n) is text cut to n characters, the last one an ellipsis when it is cut.
'''
ELLIPSIZE_PLAN = '''\
def ellipsize(text: str, n: int) -> str:
    """``text`` cut to ``n`` characters, the last one an ellipsis (U+2026) when it is cut.

    >>> ellipsize("abcdef", 4) == "abc\\\\u2026"
    True
    >>> ellipsize("abc", 4)
    'abc'
    """
'''
ELLIPSIZE = 'def ellipsize(text: str, n: int) -> str:\n    return text if len(text) <= n else text[:n - 1] + "…"\n'


def write_cases(folder: Path) -> None:
    """Three files: one whose spec passes and lands, one whose spec fails, one whose spec
    passes but cannot be placed."""
    (folder / "ok.py").write_text(STUB, encoding="utf-8")
    (folder / "bad.py").write_text(STUB.replace("def area", "def volume").replace("area(2, 3)", "volume(2, 3)"),
                                   encoding="utf-8")
    (folder / "latin.py").write_text(LATIN, encoding="latin-1")


def script_cases(model) -> None:
    model.add("generate", fenced(GOOD), target="area", repeat=True)
    model.add("generate", fenced(BAD.replace("area", "volume")), target="volume", repeat=True)
    model.add("fix", fenced(BAD.replace("area", "volume")), target="volume", repeat=True)
    model.add("plan", fenced(ELLIPSIZE_PLAN), repeat=True)
    model.add("generate", fenced(ELLIPSIZE), target="ellipsize", repeat=True)


def agree(proc) -> list[dict]:
    """The targets of a --json run, after checking that `written` and the exit status agree."""
    assert "Traceback" not in proc.stderr, proc.stderr
    report = json.loads(proc.stdout)
    targets = report["targets"]
    assert report["summary"]["exit"] == proc.returncode
    assert (proc.returncode == 0) == all(t["written"] for t in targets), (proc.returncode, targets)
    for t in targets:
        assert (t["unplaced_reason"] is not None) == (t["status"] == "passed" and not t["written"]), t
    return targets


@pytest.mark.parametrize("what", ["ok.py", "bad.py", "latin.py", "."])
def test_written_and_the_exit_status_agree(scripted_model, tmp_path: Path, what: str):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    write_cases(tmp_path)
    script_cases(scripted_model)
    env = cli_env(scripted_model.url)
    proc = specloop("run", what, "--json", "--max-iterations", "2", env=env, cwd=tmp_path)
    targets = {t["name"]: t for t in agree(proc)}
    expected = {"ok.py": {"area"}, "bad.py": {"volume"}, "latin.py": {"module spec (line 4)"}}
    assert set(targets) == (set().union(*expected.values()) if what == "." else expected[what])
    assert proc.returncode == (0 if what == "ok.py" else 1)
    if "area" in targets:
        assert targets["area"]["written"] and "return w * h" in (tmp_path / "ok.py").read_text(encoding="utf-8")
    if "volume" in targets:
        assert targets["volume"]["status"] == "failed" and targets["volume"]["unplaced_reason"] is None
    if "module spec (line 4)" in targets:
        latin = targets["module spec (line 4)"]
        assert latin["status"] == "passed" and latin["written"] is False
        assert "'…'" in latin["unplaced_reason"] and "iso-8859-1" in latin["unplaced_reason"]
        assert (tmp_path / "latin.py").read_text(encoding="latin-1") == LATIN        # untouched
        saved = tmp_path / latin["saved"]
        # said once, as what happened: it passed, it was not placed, why, where it is
        (line,) = [s for s in proc.stderr.splitlines() if "module spec (line 4)" in s and "placed" in s]
        assert line.strip() == (f"module spec (line 4): passed 2/2 tests but could not be placed: "
                                f"{latin['unplaced_reason']}; saved to {latin['saved']}")
        assert not [s for s in proc.stderr.splitlines() if "its tests fail" in s and "volume" not in s], proc.stderr
        header = saved.read_text(encoding="utf-8")
        assert "# status: passed (2/2 tests passed)" in header and "could not be placed" in header
        assert 'text[:n - 1] + "…"' in header


def test_diff_of_a_result_that_cannot_be_placed_says_so_and_fails(scripted_model, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    write_cases(tmp_path)
    script_cases(scripted_model)
    proc = specloop("run", "latin.py", "--diff", env=cli_env(scripted_model.url), cwd=tmp_path)
    assert proc.returncode == 1 and proc.stdout == "", proc.stderr
    assert "# module spec (line 4): passed 2/2 tests but could not be placed: its code holds '…'" in proc.stderr
    assert "not in the diff" in proc.stderr and "its tests fail" not in proc.stderr
    assert not (tmp_path / ".specloop" / "results").exists()
