"""A real-world project's own tests through the real sandbox: found as pytest collects them,
run from the project's root with its config (testpaths, doctest_optionflags, filterwarnings =
error, markers, addopts), by specloop's own Python when the project has none, with none of
specloop's own pytest plugins loaded into the project's run."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from specloop.sandbox import warm
from specloop.sandbox.runs import Sandbox, SandboxRequest, doctest_file
from specloop.settings import Settings
from specloop.source.spec import find_target
from specloop.sandbox.usertests import find_user_tests

STUB = '''\
"""Chunking."""


def chunked(iterable, n):
    """Split ``iterable`` into lists of length ``n``; the last may be shorter.

    >>> chunked(['a', 'b', 'c'], 2)
    [['a', 'b'],
     ['c']]
    >>> chunked([u'x'], 1)
    [[u'x']]
    """
'''

RIGHT = STUB + '''    items = list(iterable)
    return [items[i:i + n] for i in range(0, len(items), n)]
'''

WRONG = STUB + '''    items = list(iterable)
    return [items[i:i + n] for i in range(0, len(items), n + 1)]
'''

# specloop's own pytest plugins must not be in the project's run: the project asks for none
CONFTEST = '''\
import sys

LEAKED = sorted(m for m in ("pytest_lsp", "pytest_asyncio", "pytest_timeout") if m in sys.modules)
assert not LEAKED, "plugins of specloop's environment loaded into the project's run: %s" % LEAKED
'''

TESTS = '''\
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


@pytest.mark.slow
def test_marked():
    assert ck([], 2) == []


def test_not_about_chunks():
    assert False, "never asked for"
'''


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    warm.shutdown()
    yield write(tmp_path / "proj", {
        "pyproject.toml": '''\
            [project]
            name = "pkg"

            [tool.pytest.ini_options]
            testpaths = ["tests"]
            doctest_optionflags = "ALLOW_UNICODE NORMALIZE_WHITESPACE"
            filterwarnings = ["error"]
            markers = ["slow: slow tests"]
            addopts = "--strict-markers -ra -x --maxfail=1 -p no:randomly"
            ''',
        "pkg/__init__.py": "from .chunks import chunked\n",
        "pkg/chunks.py": STUB,
        "tests/__init__.py": "",
        "tests/conftest.py": CONFTEST,
        "tests/test_chunks.py": TESTS,
        "bench/test_bench_chunks.py": "from pkg import chunked\n\n\ndef test_speed():\n    assert chunked([1], 1) == 'x'\n",
    })
    warm.shutdown()


async def run(project: Path, candidate: str, **settings):
    path = project / "pkg" / "chunks.py"
    target = find_target(STUB, "chunked")
    ids = find_user_tests(target, path, project)
    sandbox = Sandbox(Settings(sandbox="process", test_timeout=60.0, **settings), project)
    tests = [doctest_file("pkg.chunks", "chunked", target.examples)]
    req = SandboxRequest(module_path=path, candidate_source=candidate, workspace=project, tests=tests,
                         user_tests=ids)
    return ids, sandbox, await sandbox.run(req)


def names(outcomes) -> dict[str, str]:
    return {o.id.rsplit("/", 1)[-1]: o.outcome for o in outcomes}


async def test_a_right_body_passes_the_project_s_own_tests_and_a_wrong_one_fails(project: Path) -> None:
    ids, sandbox, result = await run(project, RIGHT)
    assert [i.rsplit("/", 1)[1] for i in ids] == [
        "test_chunks.py::ChunkedTests::test_pairs", "test_chunks.py::test_count", "test_chunks.py::test_marked"]
    assert sandbox.env.own and sandbox.env.source == "specloop's own"
    assert (result.python, result.python_source) == (sandbox.python, "specloop's own")
    assert result.error is None, result.error
    assert names(result.outcomes) == {
        "test_specloop_doctests.py::test_doctest_0": "passed",   # NORMALIZE_WHITESPACE, from the project
        "test_specloop_doctests.py::test_doctest_1": "passed",   # ALLOW_UNICODE
        "test_chunks.py::ChunkedTests::test_pairs": "passed",
        "test_chunks.py::test_count[1-3]": "passed", "test_chunks.py::test_count[2-2]": "passed",
        "test_chunks.py::test_count[3-1]": "passed", "test_chunks.py::test_marked": "passed"}

    _, _, wrong = await run(project, WRONG)
    assert wrong.error is None, wrong.error
    out = names(wrong.outcomes)
    assert out["test_chunks.py::ChunkedTests::test_pairs"] == "failed"
    assert out["test_chunks.py::test_count[2-2]"] == "failed"      # -x in addopts did not stop the run
    assert out["test_specloop_doctests.py::test_doctest_0"] == "failed"


async def test_the_doctest_flags_are_the_project_s(project: Path) -> None:
    (project / "pyproject.toml").write_text((project / "pyproject.toml").read_text().replace(
        'doctest_optionflags = "ALLOW_UNICODE NORMALIZE_WHITESPACE"\n', ""))
    _, _, result = await run(project, RIGHT)
    out = names(result.outcomes)
    assert out["test_specloop_doctests.py::test_doctest_0"] == "failed"   # the multi-line list needs the flag


async def test_a_plugin_the_project_asks_for_and_does_not_have_is_named_with_what_to_do(project: Path) -> None:
    config = project / "pyproject.toml"
    config.write_text(config.read_text() + 'required_plugins = ["pytest-specloop-nonexistent>=1"]\n')
    _, _, result = await run(project, RIGHT)
    assert result.error is not None and "pytest-specloop-nonexistent>=1 (required_plugins)" in result.error
    assert "create .venv" in result.error and "1 passed" not in result.error


async def test_an_ini_key_of_a_missing_plugin_does_not_crash_the_run(project: Path) -> None:
    config = project / "pyproject.toml"
    config.write_text(config.read_text() + 'DJANGO_SETTINGS_MODULE = "site.settings"\n')
    _, _, result = await run(project, RIGHT)
    assert result.error is None, result.error      # not "Unknown config option" as an error (filterwarnings)
    assert result.hint is not None and "pytest-django" in result.hint
    assert all(o.outcome == "passed" for o in result.outcomes)


async def test_a_pytest_internal_error_is_an_error_never_a_pass_count(project: Path) -> None:
    (project / "tests" / "conftest.py").write_text(CONFTEST + textwrap.dedent('''
        def pytest_collection_finish(session):
            raise RuntimeError("the project's conftest broke")
        '''))
    _, _, result = await run(project, RIGHT)
    assert result.error is not None
    assert result.error.startswith("pytest stopped with an internal error (exit status 3): "), result.error
    assert "RuntimeError: the project's conftest broke" in result.error
    assert "specloop's own Python" in result.error and "passed" not in result.error


async def test_many_tests_are_cut_to_the_direct_ones_and_the_run_says_which(project: Path, monkeypatch) -> None:
    from specloop.sandbox import runs as sandbox_module

    monkeypatch.setattr(sandbox_module, "MAX_USER_TESTS", 2)
    ids, _, result = await run(project, RIGHT)
    assert result.left_out == ids[2:] and len(ids) == 3
    left = [o for o in result.outcomes if o.id.startswith(ids[2])]   # not run: a failure, never a silent gap
    assert [o.outcome for o in left] == ["failed"] and left[0].message.startswith("not run: 2 of your 3 tests")


async def test_a_test_that_skips_whatever_the_body_is_not_counted_one_the_body_skips_fails(project: Path) -> None:
    (project / "tests" / "test_optional.py").write_text(textwrap.dedent('''\
        import unittest

        import pytest

        from pkg.chunks import chunked


        def test_with_an_optional_dependency():
            pytest.importorskip("specloop_no_such_module")
            assert chunked([1], 1) == [[1]]


        class SkipCheck(unittest.TestCase):
            def test_chunked_runs(self):
                self.assertEqual(chunked([1, 2], 2), [[1, 2]])
        '''))
    ids, _, result = await run(project, RIGHT)
    out = {o.id.rsplit("/", 1)[-1]: o for o in result.outcomes}
    optional = out["test_optional.py::test_with_an_optional_dependency"]
    assert optional.outcome == "skipped" and "whatever the body" in optional.message
    assert out["test_optional.py::SkipCheck::test_chunked_runs"].outcome == "passed"
    # a body that makes the tests skip (unittest.SkipTest) does not pass them
    skipping = RIGHT.replace("    items = list(iterable)\n", "    import unittest\n    raise unittest.SkipTest('no')\n")
    _, _, result = await run(project, skipping)
    out = {o.id.rsplit("/", 1)[-1]: o for o in result.outcomes}
    assert out["test_optional.py::SkipCheck::test_chunked_runs"].outcome == "failed"
    assert out["test_chunks.py::ChunkedTests::test_pairs"].outcome == "failed"


async def test_examples_may_name_the_top_level_package(project: Path) -> None:
    stub = STUB.replace("    >>> chunked(['a', 'b', 'c'], 2)", "    >>> pkg.chunked(['a', 'b', 'c'], 2)")
    (project / "pkg" / "chunks.py").write_text(stub)
    target = find_target(stub, "chunked")
    sandbox = Sandbox(Settings(sandbox="process", test_timeout=60.0), project)
    req = SandboxRequest(module_path=project / "pkg" / "chunks.py", candidate_source=stub + RIGHT[len(STUB):],
                         workspace=project, tests=[doctest_file("pkg.chunks", "chunked", target.examples)])
    result = await sandbox.run(req)
    assert names(result.outcomes)["test_specloop_doctests.py::test_doctest_0"] == "passed", result.outcomes


ORDERED = '''\
import unittest

from pkg.chunks import chunked


class Ordered(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.calls = []

    def test_1_setup(self):
        self.__class__.size = 2

    def test_2_chunks(self):
        self.assertEqual(chunked([1, 2, 3], self.size), [[1, 2], [3]])

    def test_3_unrelated_fails(self):
        self.fail("not the function's test")


def test_unrelated_function():
    assert False, "never run"
'''


@pytest.mark.parametrize("verify", [False, True])
async def test_a_unittest_class_with_a_chosen_test_runs_whole_and_in_order(project: Path, verify: bool) -> None:
    """The chosen test needs an earlier test of its class: the class runs whole, in its order
    (a verification run reverses the order of groups, not of a class's tests), and only the
    chosen test is a result: the class's other tests count for nothing either way."""
    (project / "tests" / "test_ordered.py").write_text(ORDERED, encoding="utf-8")
    path = project / "pkg" / "chunks.py"
    chosen = f"{project / 'tests' / 'test_ordered.py'}::Ordered::test_2_chunks"
    sandbox = Sandbox(Settings(sandbox="process", test_timeout=60.0), project)
    req = SandboxRequest(module_path=path, candidate_source=RIGHT, workspace=project,
                         user_tests=[chosen, f"{project / 'tests' / 'test_chunks.py'}::test_marked"])
    result = await sandbox.run(req, verify=verify)
    assert result.error is None, result.error
    assert names(result.outcomes) == {"test_ordered.py::Ordered::test_2_chunks": "passed",
                                      "test_chunks.py::test_marked": "passed"}
    wrong = await sandbox.run(SandboxRequest(path, WRONG, project, user_tests=[chosen]), verify=verify)
    assert names(wrong.outcomes) == {"test_ordered.py::Ordered::test_2_chunks": "failed"}


async def test_a_chosen_test_of_a_class_that_does_not_run_is_a_failure(project: Path) -> None:
    """A chosen test the class does not have is not found, whatever the class's other tests did."""
    (project / "tests" / "test_ordered.py").write_text(ORDERED, encoding="utf-8")
    path = project / "pkg" / "chunks.py"
    ghost = f"{project / 'tests' / 'test_ordered.py'}::Ordered::test_9_gone"
    sandbox = Sandbox(Settings(sandbox="process", test_timeout=60.0), project)
    result = await sandbox.run(SandboxRequest(path, RIGHT, project, user_tests=[ghost]))
    assert [(o.outcome, o.message) for o in result.outcomes] == [("error", f"test not found: {ghost}")]


SLOW = "import time\n\nfrom pkg.chunks import chunked\n\n" + "".join(
    f"\ndef test_slow_{i:02d}():\n    time.sleep(0.4)\n    assert chunked([1], 1) == [[1]]\n" for i in range(12))


async def test_a_suite_too_slow_for_the_timeout_is_cut_to_its_first_tests_and_says_so(
        project: Path, monkeypatch) -> None:
    """Every found test is asked for; a run that times out after some finished is made again
    with the first ones, cut to about what fit; ``left_out`` names the others.  A hang (no test
    finishes) is not retried."""
    from specloop.sandbox import runs as sandbox_module
    monkeypatch.setattr(sandbox_module, "MIN_CUT", 2)
    monkeypatch.setattr(sandbox_module, "_CUTS", {})
    (project / "tests" / "test_slow.py").write_text(SLOW, encoding="utf-8")
    path = project / "pkg" / "chunks.py"
    ids = [f"{project / 'tests' / 'test_slow.py'}::test_slow_{i:02d}" for i in range(12)]
    sandbox = Sandbox(Settings(sandbox="process", test_timeout=3.0), project)
    result = await sandbox.run(SandboxRequest(path, RIGHT, project, user_tests=ids))
    assert not result.timed_out and result.error is None, result.error
    ran = sorted(o.id for o in result.outcomes if o.outcome == "passed")
    assert 2 <= len(ran) < 12 and ran == ids[:len(ran)] and result.left_out == ids[len(ran):]
    # the tests cut for time fail: a slow candidate cannot push the tests it fails out of the verdict
    left = [o for o in result.outcomes if o.outcome != "passed"]
    assert sorted(o.id for o in left) == result.left_out
    assert all(o.outcome == "failed" and "raise test_timeout" in o.message for o in left)
    again = await sandbox.run(SandboxRequest(path, RIGHT, project, user_tests=ids))   # the cut is remembered
    assert sorted(o.id for o in again.outcomes if o.outcome == "passed") == ran
    assert not again.timed_out and again.left_out == result.left_out   # asked only the cut: no second timeout
    hang = RIGHT.replace("    items = list(iterable)\n", "    while True:\n        pass\n")
    monkeypatch.setattr(sandbox_module, "_CUTS", {})
    stuck = await sandbox.run(SandboxRequest(path, hang, project, user_tests=ids))
    assert stuck.timed_out and stuck.left_out == []
