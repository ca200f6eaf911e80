"""The user's own tests of a target, collected as pytest collects them: which of them
exercise it.

The reading is done by three modules: :mod:`testfiles` lists the files pytest would see
under the project's config and remembers their texts, :mod:`collection` says which tests
a file holds and what each of them names, :mod:`targetnames` gives every dotted name the
target goes by (its module's and those of packages whose ``__init__`` re-exports it).

**Which tests exercise the target** however they reach it: a method is reached as
``.meth`` in a test of a file that reaches its class (or a subclass of the project that
inherits the method).  A test whose own source (decorators included) names the target
comes first (*direct*); then tests that reach it through a helper or module constant of
their file, a helper method of their class, a helper of another test module, or a fixture
of their file or of a ``conftest.py`` above it (*indirect*); last, for a method whose name
is not too common (:data:`COMMON_METHODS`), tests that call it on an object of unknown
class in a file that uses the target's package.

Cheap on a big workspace: a file is parsed only when its text contains the target's name
(or a fixture or helper that provides it); its text and what was learned from it are
remembered per (path, mtime, size).  Everything here is synchronous: an event loop calls
:func:`find_user_tests_async`.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

from .collection import _classes_of, _Info, _info, _Reach
from .projectenv import module_name_for, pytest_config
from .targetnames import _aliases, _same
from .testfiles import _module_file, _read, _scan

__all__ = ["find_user_tests", "find_user_tests_async", "user_test_snippets", "user_tests", "UserTest"]

# method names too common to follow on an object of unknown class (``d.get(...)``)
COMMON_METHODS = frozenset({"get", "set", "items", "keys", "values", "append", "extend", "pop", "update", "copy",
                            "clear", "add", "remove", "discard", "insert", "index", "count", "sort", "close", "open",
                            "read", "write", "run", "start", "stop", "join", "split", "format", "send", "call",
                            "match", "search", "replace", "strip", "lower", "upper", "encode", "decode"})


@dataclass(frozen=True)
class UserTest:
    node_id: str        # "ABSPATH::test_x", "ABSPATH::Cls::test_y" (a parametrized test: all its cases)
    source: str         # the test's source, decorators included
    direct: bool        # its own source names the target (else it reaches it through a helper or fixture)



class _Want:
    """What reaching the target means, for one target."""

    def __init__(self, target, path: Path) -> None:
        self.method = target.class_name
        self.name = target.name
        symbol = self.method or self.name
        self.aliases = _aliases(path, symbol) if symbol else set()
        self.locals = {a.rpartition(".")[2] for a in self.aliases}
        self.roots = list(dict.fromkeys([module_name_for(path)[1], path.parent]))
        self.package = module_name_for(path)[0].split(".")[0]
        self.subclasses: dict[str, bool] = {}

    def names(self, refs: set[str]) -> bool:
        return any(_same(r, a) for r in refs for a in self.aliases)

    def inherits(self, dotted: str, depth: int = 0) -> bool:
        """Whether the class ``dotted`` of the project inherits the target method from its class
        (a subclass that does not define the method again), through re-exports too."""
        if dotted in self.subclasses:
            return self.subclasses[dotted]
        self.subclasses[dotted] = False
        module, _, name = dotted.rpartition(".")
        file = _module_file(module, self.roots) if module and depth < 6 else None
        entry = _classes_of(file).get(name) if file is not None else None
        answer = False
        if isinstance(entry, str) and entry and entry != dotted:      # imported there: follow it
            answer = self.names({entry}) or self.inherits(entry, depth + 1)
        elif isinstance(entry, tuple) and self.name not in entry[1]:
            answer = any(self.names({b}) or self.inherits(b, depth + 1) for b in entry[0])
        self.subclasses[dotted] = answer
        return answer

    def overridden(self, info: _Info) -> bool:
        """The file reaches a class of the project that defines the method itself (and is not the
        target's class): a ``.meth`` there is likely that class's."""
        for ref in info.all_refs:
            if not ref.rpartition(".")[2][:1].isupper() or self.names({ref}):
                continue
            seen = 0
            while seen < 6:
                module, _, name = ref.rpartition(".")
                file = _module_file(module, self.roots) if module else None
                entry = _classes_of(file).get(name) if file is not None else None
                if isinstance(entry, str) and entry and entry != ref and not self.names({entry}):
                    ref, seen = entry, seen + 1
                    continue
                if isinstance(entry, tuple) and self.name in entry[1]:
                    return True
                break
        return False

    def package_named(self, info: _Info) -> bool:
        """The file uses something of the target's top-level package (an object made by one of
        its factories may be of the method's class: ``v = parse(...); v.meth()``)."""
        return any(r == self.package or r.startswith(self.package + ".") for r in info.all_refs)

    def has_class(self, info: _Info) -> bool:
        """The file reaches the method's class, or a subclass of it that inherits the method."""
        if self.names(info.all_refs) or self.starred(set(self.locals), info.stars):
            return True
        return any(self.inherits(r) for r in info.all_refs if r.rpartition(".")[2][:1].isupper())

    def starred(self, words: set[str], stars: list[str]) -> bool:
        return any(w in self.locals and any(_same(f"{s}.{w}", a) for s in stars for a in self.aliases)
                   for w in words)

    def reaches(self, reach: _Reach, info: _Info) -> bool:
        """Whether code with ``reach`` in a file with ``info`` names the target."""
        if self.method:
            return self.name in reach.attrs and self.has_class(info)
        return self.names(reach.refs) or self.starred(reach.words, info.stars)

    def provides(self, reach: _Reach, info: _Info) -> bool:
        """Whether a fixture or helper with ``reach`` gives the target (a method: its class)."""
        if self.method:
            return self.names(reach.refs) or self.starred(reach.words, info.stars) or \
                any(self.inherits(r) for r in reach.refs if r.rpartition(".")[2][:1].isupper())
        return self.reaches(reach, info)


def user_tests(target, path: Path, workspace: Path) -> list[UserTest]:
    """The user's tests that exercise ``target`` (of the module at ``path``): the direct ones
    first, each group in file order."""
    path = Path(os.path.abspath(path))
    config = pytest_config(Path(workspace), path)
    if not getattr(target, "name", None) or " " in target.name:
        return []
    want = _Want(target, path)
    files, conftests, others = _scan(config)
    provided: dict[Path, set[str]] = {}   # conftest folder -> fixture names that give the target
    words = {want.name} | (set() if want.method else want.locals)   # a test file naming none is not parsed
    helpers: set[str] = set()             # dotted names of helpers of other test modules that reach the target
    for other in others:
        text = _read(other)
        if text is None or not any(w in text for w in want.locals | {want.name}):
            continue
        info = _info(other, text, config)
        module = module_name_for(other)[0]
        words |= set(info.classes)        # a mixin whose tests a test class inherits
        for name, reach in info.helpers.items():
            if want.provides(reach, info):
                words.add(name)
                helpers.add(f"{module}.{name}")
    for conftest in conftests:
        text = _read(conftest)
        if text is None or not any(w in text for w in want.locals | {want.name}):
            continue
        info = _info(conftest, text, config)
        names = {n for n, r in info.fixtures.items() if want.provides(r, info)}
        if names:
            provided[conftest.parent] = names
    direct: list[UserTest] = []
    indirect: list[UserTest] = []
    loose: list[UserTest] = []     # a method called on an object of unknown class, in a file using its package
    for file in files:
        file = Path(os.path.abspath(file))
        if file == path:
            continue
        fixtures = set().union(*(v for k, v in provided.items() if k == file.parent or k in file.parents)) \
            if provided else set()
        text = _read(file)
        if text is None or not any(w in text for w in words | fixtures):
            continue
        info = _info(file, text, config)
        if not info.tests:
            continue
        local = {n for n, r in info.helpers.items() if want.provides(r, info)} | \
            {n for n, r in info.fixtures.items() if want.provides(r, info)}
        for test in info.tests:
            node_id = f"{file}::{test.rest}"
            if want.reaches(test.reach, info):
                direct.append(UserTest(node_id, test.source, True))
                continue
            if want.method and want.name not in test.reach.attrs:
                continue
            via_class = any(want.provides(r, info) and (not name or name in test.reach.attrs)
                            for name, r in test.helpers.items())
            if via_class or (test.reach.words | test.params) & (local | fixtures) or \
                    (helpers and any(_same(r, h) for r in test.reach.refs for h in helpers)):
                indirect.append(UserTest(node_id, test.source, False))
            elif want.method and want.name not in COMMON_METHODS and want.package_named(info) and \
                    not want.overridden(info):
                loose.append(UserTest(node_id, test.source, False))
    return direct + indirect + loose


def user_test_snippets(target, path: Path, workspace: Path) -> list[tuple[str, str]]:
    """(pytest node id, source of the test) for each user test that exercises the target."""
    return [(t.node_id, t.source) for t in user_tests(target, path, workspace)]


def find_user_tests(target, path: Path, workspace: Path) -> list[str]:
    """Pytest node ids ("ABSPATH::test_x", "ABSPATH::TestX::test_y") of the user's tests that
    exercise the target, those whose source names it first."""
    return [t.node_id for t in user_tests(target, path, workspace)]


async def find_user_tests_async(target, path: Path, workspace: Path) -> list[str]:
    """:func:`find_user_tests` in a worker thread (a workspace walk and file reads: keep
    them off an event loop)."""
    return await asyncio.to_thread(find_user_tests, target, path, workspace)
