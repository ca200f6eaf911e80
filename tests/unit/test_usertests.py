"""The user's own tests of a target, collected as pytest would collect them (usertests.py).

The fake projects are shaped like the real ones where specloop missed tests: unittest
classes not named Test*, ``import pkg as p`` + ``p.f(...)``, aliases, re-exports, a
``bench/`` folder outside ``testpaths``, the project's own ``python_*`` patterns."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from specloop.sandbox import collection, targetnames, testfiles
from specloop.source.spec import find_target
from specloop.sandbox.usertests import find_user_tests, user_tests

CHUNKS = '''\
"""Chunking."""


def chunked(iterable, n):
    """Split ``iterable`` into lists of length ``n``; the last may be shorter.

    >>> chunked([1, 2, 3], 2)
    [[1, 2], [3]]
    """


class Window:
    def __init__(self, size):
        self.size = size

    def slide(self, seq):
        """Windows of ``size`` over ``seq``."""
'''


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def rest(ids: list[str], root: Path) -> list[str]:
    base = str(root.resolve()) + "/"
    return [i[len(base):] if i.startswith(base) else i for i in ids]


def target(root: Path, qualname: str):
    path = root / "pkg" / "chunks.py"
    found = find_target(path.read_text(), qualname)
    assert found is not None
    return found, path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write(tmp_path, {
        "pyproject.toml": '''\
            [project]
            name = "pkg"

            [tool.pytest.ini_options]
            testpaths = ["tests"]
            doctest_optionflags = "ALLOW_UNICODE NORMALIZE_WHITESPACE"
            filterwarnings = ["error"]
            ''',
        "pkg/__init__.py": "from .chunks import chunked, Window\nfrom .chunks import chunked as batched\n",
        "pkg/chunks.py": CHUNKS,
        "tests/__init__.py": "",
        "tests/test_unittest_style.py": '''\
            import unittest

            import pkg as p


            class ChunkedTests(unittest.TestCase):
                def test_even(self):
                    self.assertEqual(p.chunked([1, 2], 1), [[1], [2]])

                def test_other(self):
                    self.assertEqual(1, 1)


            class Base(unittest.TestCase):
                def check(self, n):
                    self.assertEqual(len(p.chunked(range(n), 1)), n)


            class Derived(Base):
                def test_via_helper(self):
                    self.check(3)
            ''',
        "tests/test_alias.py": '''\
            import pytest

            from .helpers import CASES
            from pkg.chunks import chunked as ck
            from pkg import batched


            @pytest.mark.parametrize("n", [1, 2, 3])
            def test_param(n):
                assert len(ck(range(6), n)) == 6 // n


            def test_reexport_alias():
                assert batched([1], 1) == [[1]]


            def _helper():
                return ck([], 1)


            def test_through_helper():
                assert _helper() == []


            def test_unrelated():
                chunked = lambda x, n: x
                assert chunked([1], 1) == [1]
            ''',
        "tests/helpers.py": "from pkg.chunks import chunked\nCASES = [1]\n\ndef test_not_a_test_file():\n    chunked([], 1)\n",
        "tests/test_module_attr.py": '''\
            import pkg.chunks


            class TestChunks:
                def test_attr(self):
                    assert pkg.chunks.chunked([1, 2, 3], 3) == [[1, 2, 3]]

                class TestNested:
                    def test_inner(self):
                        assert pkg.chunks.chunked([], 2) == []
            ''',
        "tests/test_window.py": '''\
            from pkg import Window


            def test_slide():
                assert list(Window(2).slide([1, 2, 3])) == [[1, 2], [2, 3]]


            def test_size_only():
                assert Window(2).size == 2
            ''',
        "tests/test_fixture.py": '''\
            def test_from_conftest(window):
                assert list(window.slide([1, 2])) == [[1, 2]]
            ''',
        "tests/conftest.py": '''\
            import pytest
            from pkg.chunks import Window


            @pytest.fixture
            def window():
                return Window(2)
            ''',
        "tests/test_other_chunked.py": '''\
            from elsewhere import chunked


            def test_elsewhere():
                assert chunked([1], 1)
            ''',
        "bench/test_bench_chunks.py": "from pkg import chunked\n\ndef test_speed():\n    chunked(range(10**6), 3)\n",
    })


def test_a_project_s_tests_are_found_as_pytest_collects_them(project: Path) -> None:
    found, path = target(project, "chunked")
    ids = rest(find_user_tests(found, path, project), project)
    assert ids == [
        "tests/test_alias.py::test_param",
        "tests/test_alias.py::test_reexport_alias",
        "tests/test_module_attr.py::TestChunks::test_attr",
        "tests/test_module_attr.py::TestChunks::TestNested::test_inner",
        "tests/test_unittest_style.py::ChunkedTests::test_even",
        # indirect ones last: through a module helper, through a helper method of the class
        "tests/test_alias.py::test_through_helper",
        "tests/test_unittest_style.py::Derived::test_via_helper",
    ]
    assert not any(i.startswith("bench/") for i in ids)          # outside testpaths
    by_id = {t.node_id.rsplit("/", 1)[1]: t for t in user_tests(found, path, project)}
    assert by_id["test_alias.py::test_param"].direct
    assert by_id["test_alias.py::test_param"].source.startswith("@pytest.mark.parametrize")
    assert not by_id["test_alias.py::test_through_helper"].direct


def test_a_method_is_reached_through_its_class_and_fixtures(project: Path) -> None:
    found, path = target(project, "Window.slide")
    ids = rest(find_user_tests(found, path, project), project)
    assert ids == ["tests/test_window.py::test_slide", "tests/test_fixture.py::test_from_conftest"]


def test_without_testpaths_the_whole_root_counts_and_python_patterns_apply(tmp_path: Path) -> None:
    write(tmp_path, {
        "setup.cfg": """\
            [tool:pytest]
            python_files = check_*.py
            python_classes = *Suite
            python_functions = check_* test_*
            """,
        "pkg/__init__.py": "",
        "pkg/chunks.py": CHUNKS,
        "checks/check_chunks.py": '''\
            from pkg.chunks import chunked


            def check_one():
                assert chunked([1], 1) == [[1]]


            class ChunkSuite:
                def check_two(self):
                    assert chunked([], 1) == []


            class TestIgnoredByPattern:
                def test_three(self):
                    assert chunked([], 1) == []
            ''',
        "checks/test_default_name.py": "from pkg.chunks import chunked\n\ndef test_x():\n    chunked([], 1)\n",
        "bench/check_bench.py": "from pkg.chunks import chunked\n\ndef check_speed():\n    chunked([], 1)\n",
    })
    found, path = target(tmp_path, "chunked")
    assert rest(find_user_tests(found, path, tmp_path), tmp_path) == [
        "bench/check_bench.py::check_speed",             # no testpaths: pytest collects it too
        "checks/check_chunks.py::check_one",
        "checks/check_chunks.py::ChunkSuite::check_two",
    ]


def test_star_imports_unittest_bases_imported_from_the_project_and_ignores(tmp_path: Path) -> None:
    write(tmp_path, {
        "tox.ini": "[pytest]\naddopts = --ignore=tests/test_skipped.py -q\n",
        "pkg/__init__.py": "",
        "pkg/chunks.py": CHUNKS,
        "tests/base.py": "import unittest\n\n\nclass Base(unittest.TestCase):\n    pass\n",
        "tests/test_star.py": '''\
            from pkg.chunks import *
            from tests.base import Base


            class Chunking(Base):
                def test_star(self):
                    self.assertEqual(chunked([1], 1), [[1]])


            class NotATest:
                def test_no(self):
                    chunked([1], 1)
            ''',
        "tests/test_skipped.py": "from pkg.chunks import chunked\n\ndef test_ignored():\n    chunked([], 1)\n",
    })
    found, path = target(tmp_path, "chunked")
    assert rest(find_user_tests(found, path, tmp_path), tmp_path) == ["tests/test_star.py::Chunking::test_star"]


def test_a_test_file_is_parsed_only_when_it_names_the_target(project: Path, monkeypatch) -> None:
    found, path = target(project, "chunked")
    parsed: list[str] = []
    real = collection._analyze
    monkeypatch.setattr(collection, "_analyze", lambda file, text, config: parsed.append(file.name) or
                        real(file, text, config))
    testfiles._files.clear()
    find_user_tests(found, path, project)
    assert "test_window.py" not in parsed and "test_fixture.py" not in parsed
    parsed.clear()
    find_user_tests(found, path, project)
    assert parsed == []                                     # unchanged files: remembered


def test_the_file_bound_counts_every_python_file(project: Path, monkeypatch) -> None:
    found, path = target(project, "chunked")
    monkeypatch.setattr(testfiles, "MAX_FILES", 2)          # tests/__init__.py, tests/conftest.py
    assert find_user_tests(found, path, project) == []


def test_tests_inherited_from_a_mixin_module_and_methods_reached_through_subclasses(tmp_path: Path) -> None:
    """cachetools' shape: the tests live in a mixin in tests/__init__.py, each test module sets
    the class under test (a subclass of the one whose method is the target)."""
    write(tmp_path, {
        "pyproject.toml": "[project]\nname = 'cachelib'\n",
        "cachelib/__init__.py": '''\
            from .base import Cache


            class LRUCache(Cache):
                def evict(self):
                    return None


            class SizedCache(Cache):
                def getsizeof(self, value):
                    return len(value)
            ''',
        "cachelib/base.py": '''\
            class Cache:
                def getsizeof(self, value):
                    """The size of ``value``: 1."""
            ''',
        "tests/__init__.py": '''\
            class CacheTestMixin:
                Cache = None

                def test_getsizeof(self):
                    self.assertEqual(self.Cache().getsizeof(3), 1)

                def test_other(self):
                    self.assertTrue(self.Cache())
            ''',
        "tests/test_lru.py": '''\
            import unittest

            from cachelib import LRUCache

            from . import CacheTestMixin


            class LRUCacheTest(unittest.TestCase, CacheTestMixin):
                Cache = LRUCache
            ''',
        "tests/test_sized.py": '''\
            import unittest

            from cachelib import SizedCache

            from . import CacheTestMixin


            class SizedCacheTest(unittest.TestCase, CacheTestMixin):   # overrides getsizeof: not the target's
                Cache = SizedCache
            ''',
        "tests/test_factory.py": '''\
            from cachelib import make_cache


            def test_made():
                assert make_cache().getsizeof(2) == 1
            ''',
    })
    path = tmp_path / "cachelib" / "base.py"
    found = find_target(path.read_text(), "Cache.getsizeof")
    tests = user_tests(found, path, tmp_path)
    assert [(rest([t.node_id], tmp_path)[0], t.direct) for t in tests] == [
        ("tests/test_lru.py::LRUCacheTest::test_getsizeof", True),
        # a method on an object of unknown class, in a file that uses the package: last
        ("tests/test_factory.py::test_made", False),
    ]
    assert "self.Cache().getsizeof(3)" in tests[0].source


def test_tests_are_found_through_chains_of_re_exports_and_wrappers(tmp_path: Path) -> None:
    """``pkg/__init__`` imports from ``pkg.mid``, which imports from ``pkg.chunks`` (two hops);
    ``pkg.old.split = deprecated(chunks.chunked, ...)`` still reaches the function (semver's
    ``createparser``); an unrelated module's ``chunked`` of its own does not."""
    write(tmp_path, {
        "pkg/__init__.py": "from .mid import chunked as pieces\nfrom .old import split\n",
        "pkg/mid.py": "from .chunks import *\n",
        "pkg/old.py": ("from . import chunks\nfrom .deco import deprecated\n\n"
                       "split = deprecated(chunks.chunked, replace='pkg.chunks.chunked')\n"),
        "pkg/deco.py": "def deprecated(f, replace=None):\n    return f\n",
        "pkg/other.py": "def chunked(x):\n    return x\n\n\nlocal = chunked\n",
        "pkg/chunks.py": CHUNKS,
        "tests/test_chain.py": '''\
            import pkg
            from pkg import pieces, split
            from pkg.other import local


            def test_two_hops():
                assert pieces([1], 1) == [[1]]


            def test_wrapper():
                assert split([1], 1) == [[1]]


            def test_attribute():
                assert pkg.pieces([], 1) == []


            def test_other():
                assert local(1) == 1
            ''',
    })
    found, path = target(tmp_path, "chunked")
    assert rest(find_user_tests(found, path, tmp_path), tmp_path) == [
        "tests/test_chain.py::test_two_hops", "tests/test_chain.py::test_wrapper",
        "tests/test_chain.py::test_attribute"]


def test_the_target_s_package_is_parsed_once_per_file_stamp(tmp_path: Path, monkeypatch) -> None:
    """The modules read to follow re-exports are parsed on the first call only; a changed
    module is parsed again, and what it now re-exports counts."""
    write(tmp_path, {
        "pkg/__init__.py": "from .mid import chunked as pieces\n",
        "pkg/mid.py": "from .chunks import *\n",
        "pkg/chunks.py": CHUNKS,
        "tests/test_chain.py": "from pkg import pieces, again\n\n\ndef test_again():\n    assert again([1], 1)\n",
    })
    parsed: list[str] = []
    real = targetnames._parse
    monkeypatch.setattr(targetnames, "_parse", lambda text: parsed.append(text) or real(text))
    testfiles._files.clear()
    path = tmp_path / "pkg" / "chunks.py"
    first = targetnames._aliases(path, "chunked")
    assert first == {"pkg.chunks.chunked", "pkg.mid.chunked", "pkg.pieces"}
    assert len(parsed) == 3
    parsed.clear()
    assert targetnames._aliases(path, "chunked") == first
    assert parsed == []                                     # unchanged files: remembered
    init = tmp_path / "pkg" / "__init__.py"
    init.write_text("from .mid import chunked as pieces\nagain = pieces\n")
    assert targetnames._aliases(path, "chunked") == first | {"pkg.again"}
    assert parsed == [init.read_text()]                     # only the changed file again


def test_tests_are_found_through_a_namespace_subpackage_that_imports_its_package(tmp_path: Path) -> None:
    """toolz's shape: ``pkg/__init__`` star-imports the module; ``pkg/curried`` does ``import pkg``
    and binds ``split = pkg.curry(pkg.chunked)`` and, from ``pkg/curried/exceptions``, a
    ``def chunked`` that only passes its call on to ``pkg.chunked``.  A ``def`` that calls
    something else does not count."""
    write(tmp_path, {
        "pkg/__init__.py": "from .chunks import *\n\n\ndef curry(f):\n    return f\n",
        "pkg/curried/__init__.py": ("import pkg\nfrom .exceptions import chunked, size\n\n"
                                    "split = pkg.curry(pkg.chunked)\n"),
        "pkg/curried/exceptions.py": '''\
            import pkg


            @pkg.curry
            def chunked(iterable, n):
                """Curried."""
                return pkg.chunked(iterable, n)


            def size(chunked):
                return len(chunked)
            ''',
        "pkg/chunks.py": CHUNKS,
        "tests/test_curried.py": '''\
            import pkg.curried
            from pkg.curried import chunked, split, size


            def test_wrapped_def():
                assert chunked([1], 1) == [[1]]


            def test_curried_assignment():
                assert split([1], 1) == [[1]]


            def test_through_the_subpackage():
                assert pkg.curried.chunked([], 1) == []


            def test_other_def():
                assert size([1]) == 1
            ''',
    })
    found, path = target(tmp_path, "chunked")
    assert targetnames._aliases(path, "chunked") >= {"pkg.chunked", "pkg.curried.exceptions.chunked",
                                                   "pkg.curried.chunked", "pkg.curried.split"}
    assert rest(find_user_tests(found, path, tmp_path), tmp_path) == [
        "tests/test_curried.py::test_wrapped_def", "tests/test_curried.py::test_curried_assignment",
        "tests/test_curried.py::test_through_the_subpackage"]


def test_a_target_passed_as_a_value_counts_and_a_local_function_of_its_name_does_not(tmp_path: Path) -> None:
    """``map(chunked, ...)`` with ``chunked`` imported from the project exercises it (a direct
    test, ahead of one that reaches it through a helper); a test file's own ``def chunked``
    passed the same way does not (toolz's ``test_itertoolz`` defines its own ``identity``)."""
    write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/chunks.py": CHUNKS,
        "tests/test_value.py": '''\
            from pkg import chunks
            from pkg.chunks import chunked as cut


            def helper():
                return chunks.chunked([1], 1)


            def test_through_helper():
                assert helper() == [[1]]


            def test_passed():
                assert list(map(cut, [[1]], [1])) == [[[1]]]
            ''',
        "tests/test_own.py": '''\
            def chunked(x, n):
                return [x]


            def test_own_function():
                assert list(map(chunked, [1], [1])) == [[1]]
            ''',
    })
    found, path = target(tmp_path, "chunked")
    assert rest(find_user_tests(found, path, tmp_path), tmp_path) == [
        "tests/test_value.py::test_passed", "tests/test_value.py::test_through_helper"]
