"""`specloop run` on a project shaped like the real ones of issue 18: its own tests (a
unittest class not named Test*, ``import pkg as p``, an alias, a parametrized test) are
found and run under bubblewrap from the project's root with its config (testpaths,
doctest_optionflags, filterwarnings = error), by specloop's own Python without its plugins;
``--json`` says which Python ran them."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from cli_run import cli_env, specloop
from replies import fenced

STUB = '''\
"""Chunking."""


def chunked(iterable, n):
    """Split ``iterable`` into lists of length ``n``; the last may be shorter.

    >>> chunked(['a', 'b', 'c'], 2)
    [['a', 'b'],
     ['c']]
    """
'''
RIGHT = "def chunked(iterable, n):\n    items = list(iterable)\n    return [items[i:i + n] for i in range(0, len(items), n)]\n"
WRONG = "def chunked(iterable, n):\n    items = list(iterable)\n    return [items[i:i + n] for i in range(0, len(items), n + 1)]\n"

FILES = {
    "pyproject.toml": '''\
        [project]
        name = "pkg"

        [tool.pytest.ini_options]
        testpaths = ["tests"]
        doctest_optionflags = "ALLOW_UNICODE NORMALIZE_WHITESPACE"
        filterwarnings = ["error"]
        ''',
    "pkg/__init__.py": "from .chunks import chunked\n",
    "pkg/chunks.py": STUB,
    "tests/__init__.py": "",
    "tests/conftest.py": '''\
        import sys

        assert "pytest_lsp" not in sys.modules and "pytest_asyncio" not in sys.modules
        ''',
    "tests/test_chunks.py": '''\
        import unittest

        import pytest

        import pkg as p
        from pkg.chunks import chunked as ck


        class ChunkedTests(unittest.TestCase):
            def test_pairs(self):
                self.assertEqual(p.chunked([1, 2, 3, 4], 2), [[1, 2], [3, 4]])


        @pytest.mark.parametrize("n, count", [(1, 3), (2, 2), (3, 1)])
        def test_count(n, count):
            assert len(ck([1, 2, 3], n)) == count
        ''',
    "bench/test_bench_chunks.py": "from pkg import chunked\n\n\ndef test_speed():\n    assert chunked([1], 1) == 'x'\n",
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name, text in FILES.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


def test_the_project_s_own_tests_judge_the_body_and_json_names_the_python(scripted_model, project):
    scripted_model.add("generate", fenced(RIGHT))
    env = cli_env(scripted_model.url)
    env.pop("VIRTUAL_ENV", None)
    proc = specloop("run", "pkg/chunks.py", "--json", env=env, cwd=project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (target,) = json.loads(proc.stdout)["targets"]
    assert target["status"] == "passed" and target["tests"] == {"passed": 5, "failed": 0}   # 1 doctest + 4 tests
    assert target["python"] == {"path": sys.executable, "source": "specloop's own"}
    records = [json.loads(line) for line in Path(target["trace"]).read_text().splitlines()]
    tests = [r for r in records if r["kind"] == "tests"][0]
    assert tests["python"] == {"path": sys.executable, "source": "specloop's own"}
    ran = sorted(o["id"].rsplit("/", 1)[-1] for o in tests["outcomes"])
    assert ran == ["test_chunks.py::ChunkedTests::test_pairs", "test_chunks.py::test_count[1-3]",
                   "test_chunks.py::test_count[2-2]", "test_chunks.py::test_count[3-1]",
                   "test_specloop_doctests.py::test_doctest_0"]                # nothing from bench/


def test_a_wrong_body_fails_the_project_s_own_tests(scripted_model, project):
    scripted_model.add("generate", fenced(WRONG))
    env = cli_env(scripted_model.url)
    env.pop("VIRTUAL_ENV", None)
    proc = specloop("run", "pkg/chunks.py", "--json", "--max-iterations", "1", env=env, cwd=project)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (target,) = json.loads(proc.stdout)["targets"]
    assert target["status"] == "failed" and target["tests"] == {"passed": 1, "failed": 4}   # test_count[3-1] passes
    assert (project / "pkg" / "chunks.py").read_text() == STUB
