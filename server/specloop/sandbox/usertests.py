"""The user's own tests of a target, collected as pytest collects them.

Longer than 400 lines because pytest's collection rules (files, classes, unittest classes,
inherited tests) and the resolution of a test's names through its file's imports are one
analysis of a test file, remembered together per file; splitting them would parse twice.

**Which files and tests** follow the project's pytest config (:mod:`projectenv`): only
under its ``testpaths`` when it sets them (else under the project root), files
matching ``python_files`` (default ``test_*.py``, ``*_test.py``), not in
``norecursedirs`` (pytest's default list when unset) nor under an ``--ignore`` of
``addopts``; in them, functions matching ``python_functions`` and, in classes
matching ``python_classes`` without ``__init__``, methods matching it (nested
classes too), and every ``unittest.TestCase`` subclass whatever its name (a base
named ``*TestCase``, a base defined in the module or imported from a project
module that is one), with the ``test*`` methods it has or inherits from bases
defined in its module.  Patterns are prefixes or globs, as pytest reads them.
The walk also skips hidden folders, ``node_modules``, ``site-packages``,
``__pycache__`` and virtual environments (:mod:`specloop.folders`) and stops after
:data:`MAX_FILES` files.

**Which tests exercise the target** however they reach it: a test's names are
resolved through the imports of its file (``from pkg.mod import f as g``,
``import pkg as p`` + ``p.f``, ``import pkg.mod`` + ``pkg.mod.f``, relative
imports, ``from pkg import *``), and the target is known by every dotted name it
has: its module's and those of packages whose ``__init__`` re-exports it.  A
method is reached as ``.meth`` in a test of a file that reaches its class.  A test
whose own source (decorators included) names the target comes first (*direct*);
then tests that reach it through a helper or module constant of their file, a
helper method of their class, or a fixture of their file or of a ``conftest.py``
above it (*indirect*).

Cheap on a big workspace: a file is parsed only when its text contains the
target's name (or a fixture that provides it); its text and what was learned from
it are remembered per (path, mtime, size).  Everything here is synchronous: an
event loop calls :func:`find_user_tests_async`.
"""

from __future__ import annotations

import ast
import asyncio
import fnmatch
import glob
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..folders import skipped
from ..source.outline import top_statements
from .projectenv import PytestConfig, module_name_for, pytest_config
from ..source.spec import _parse

__all__ = ["find_user_tests", "find_user_tests_async", "user_test_snippets", "user_tests", "UserTest"]

MAX_FILES = 5000
SCAN_TTL = 0.0   # the file list is walked anew per job (in a thread): a test file written a moment ago counts
# method names too common to follow on an object of unknown class (``d.get(...)``)
COMMON_METHODS = frozenset({"get", "set", "items", "keys", "values", "append", "extend", "pop", "update", "copy",
                            "clear", "add", "remove", "discard", "insert", "index", "count", "sort", "close", "open",
                            "read", "write", "run", "start", "stop", "join", "split", "format", "send", "call",
                            "match", "search", "replace", "strip", "lower", "upper", "encode", "decode"})
NORECURSE_DEFAULT = ("*.egg", ".*", "_darcs", "build", "CVS", "dist", "node_modules", "venv", "{arch}")
_lock = threading.Lock()
_scans: dict[str, tuple[float, tuple[list[Path], list[Path], list[Path]]]] = {}   # key -> (when, files)
_files: dict[str, tuple[tuple[int, int], str, dict]] = {}             # path -> (stamp, text, {config key: info})


@dataclass(frozen=True)
class UserTest:
    node_id: str        # "ABSPATH::test_x", "ABSPATH::Cls::test_y" (a parametrized test: all its cases)
    source: str         # the test's source, decorators included
    direct: bool        # its own source names the target (else it reaches it through a helper or fixture)


@dataclass
class _Reach:
    """What a piece of code names: resolved dotted names, attribute names, bare names."""

    refs: set[str] = field(default_factory=set)
    attrs: set[str] = field(default_factory=set)
    words: set[str] = field(default_factory=set)


@dataclass
class _Test:
    rest: str
    source: str
    reach: _Reach
    params: set[str]
    helpers: dict[str, _Reach]     # the class's non-test methods and body (name -> reach; "" the body)


@dataclass
class _Info:
    tests: list[_Test]
    helpers: dict[str, _Reach]     # module-level functions, classes and constants that are not tests
    fixtures: dict[str, _Reach]
    stars: list[str]               # modules star-imported
    all_refs: set[str]
    classes: list[str] = field(default_factory=list)   # names of the module's classes


# -- which files -------------------------------------------------------------------------------


def _matches(name: str, patterns: list[str]) -> bool:
    """pytest's rule for python_classes / python_functions: a prefix, or a glob."""
    return any(name.startswith(p) or (any(c in p for c in "*?[") and fnmatch.fnmatch(name, p)) for p in patterns)


def _file_matches(path: str, patterns: list[str]) -> bool:
    name = os.path.basename(path)
    return any(fnmatch.fnmatch(path if os.sep in p else name, p) for p in patterns)


def _ignored(config: PytestConfig) -> tuple[set[str], list[str]]:
    paths: set[str] = set()
    globs: list[str] = []
    opts = config.addopts
    for i, arg in enumerate(opts):
        for flag, into in (("--ignore", "path"), ("--ignore-glob", "glob")):
            value = None
            if arg == flag and i + 1 < len(opts):
                value = opts[i + 1]
            elif arg.startswith(flag + "="):
                value = arg[len(flag) + 1:]
            if value:
                full = os.path.abspath(os.path.join(config.root, value))
                (paths.add(full) if into == "path" else globs.append(full))
    return paths, globs


def _walk(config: PytestConfig) -> tuple[list[Path], list[Path], list[Path]]:
    """(test files, conftest files, other Python files) pytest would see under the test roots
    (the others: helpers and mixins tests import), bounded by MAX_FILES."""
    roots: list[str] = []
    for entry in config.testpaths:
        full = os.path.join(config.root, entry)
        roots += sorted(glob.glob(full)) if any(c in entry for c in "*?[") else [full]
    if not config.testpaths:
        roots = [str(config.root)]
    norecurse = config.args("norecursedirs")
    norecurse = [p.rstrip("/") for p in (NORECURSE_DEFAULT if norecurse is None else norecurse)]
    ignore_paths, ignore_globs = _ignored(config)
    patterns = config.python_files
    tests: list[Path] = []
    conftests: list[Path] = []
    others: list[Path] = []
    seen = 0
    for top in dict.fromkeys(os.path.abspath(r) for r in roots):
        if os.path.isfile(top):
            tests.append(Path(top))
            continue
        for folder, dirs, names in os.walk(top):
            dirs[:] = sorted(d for d in dirs if not skipped(folder, d)
                             and not any(fnmatch.fnmatch(d, p) for p in norecurse)
                             and os.path.join(folder, d) not in ignore_paths)
            for name in sorted(names):
                if not name.endswith(".py") or name.startswith("."):
                    continue
                seen += 1
                if seen > MAX_FILES:
                    return tests, conftests, others
                full = os.path.join(folder, name)
                if full in ignore_paths or any(fnmatch.fnmatch(full, g) for g in ignore_globs):
                    continue
                if name == "conftest.py":
                    conftests.append(Path(full))
                elif _file_matches(full, patterns):
                    tests.append(Path(full))
                elif config.testpaths or any(part.startswith("test") for part in
                                             os.path.relpath(folder, config.root).split(os.sep)):
                    others.append(Path(full))   # without testpaths: only in test folders, not the package
    return tests, conftests, others


def _config_key(config: PytestConfig) -> tuple:
    return (str(config.root), tuple(config.testpaths), tuple(config.python_files), tuple(config.python_classes),
            tuple(config.python_functions), tuple(config.args("norecursedirs") or ()), tuple(config.addopts))


def _scan(config: PytestConfig) -> tuple[list[Path], list[Path], list[Path]]:
    key = f"{_config_key(config)}\0{MAX_FILES}"
    now = time.monotonic()
    with _lock:
        hit = _scans.get(key)
    if hit is not None and now - hit[0] <= SCAN_TTL:
        return hit[1]
    found = _walk(config)
    with _lock:
        _scans[key] = (now, found)
        for old in [k for k, (t, _) in _scans.items() if now - t > SCAN_TTL]:
            del _scans[old]
    return found


def _read(file: Path) -> str | None:
    try:
        st = file.stat()
        stamp = (st.st_mtime_ns, st.st_size)
        with _lock:
            hit = _files.get(str(file))
        if hit is not None and hit[0] == stamp:
            return hit[1]
        text = file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    with _lock:
        _files[str(file)] = (stamp, text, {})
        if len(_files) > MAX_FILES:
            _files.pop(next(iter(_files)))
    return text


def _info(file: Path, text: str, config: PytestConfig) -> _Info:
    """What ``file`` holds (its tests, helpers, fixtures), remembered with its text."""
    key = (tuple(config.python_classes), tuple(config.python_functions), str(config.root))
    with _lock:
        hit = _files.get(str(file))
    if hit is not None and hit[1] is text and key in hit[2]:
        return hit[2][key]
    info = _analyze(file, text, config)
    with _lock:
        hit = _files.get(str(file))
        if hit is not None and hit[1] is text:
            hit[2][key] = info
    return info


# -- what a file holds -----------------------------------------------------------------------------


def _from_base(module: str | None, level: int, modname: str, is_package: bool) -> str | None:
    if not level:
        return module
    package = modname if is_package else modname.rpartition(".")[0]
    parts = package.split(".") if package else []
    if level - 1 > len(parts):
        return module
    parts = parts[: len(parts) - (level - 1)]
    if module:
        parts.append(module)
    return ".".join(parts) or None


def _bindings(tree: ast.AST, file: Path) -> tuple[dict[str, set[str]], list[str]]:
    """Local name -> the dotted names it may stand for, from every import in the file; and
    the modules it star-imports."""
    modname, _root = module_name_for(file)
    is_package = file.name == "__init__.py"
    bound: dict[str, set[str]] = {}
    stars: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    bound.setdefault(alias.asname, set()).add(alias.name)
                else:
                    top = alias.name.split(".")[0]
                    bound.setdefault(top, set()).add(top)
        elif isinstance(node, ast.ImportFrom):
            base = _from_base(node.module, node.level, modname, is_package)
            if base is None:
                continue
            for alias in node.names:
                if alias.name == "*":
                    stars.append(base)
                else:
                    bound.setdefault(alias.asname or alias.name, set()).add(f"{base}.{alias.name}")
    return bound, stars


def _chain(node: ast.AST) -> list[str] | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def _reach(nodes: list[ast.AST], bound: dict[str, set[str]]) -> _Reach:
    out = _Reach()
    for top in nodes:
        for node in ast.walk(top):
            if isinstance(node, ast.Attribute):
                out.attrs.add(node.attr)
                parts = _chain(node)
                if parts:
                    for base in bound.get(parts[0], ()):
                        out.refs.add(".".join([base, *parts[1:]]))
            elif isinstance(node, ast.Name):
                out.words.add(node.id)
                out.refs.update(bound.get(node.id, ()))
    return out


def _is_fixture(node: ast.AST) -> bool:
    for dec in getattr(node, "decorator_list", []):
        target = dec.func if isinstance(dec, ast.Call) else dec
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name in ("fixture", "yield_fixture"):
            return True
    return False


def _not_a_test(cls: ast.ClassDef) -> bool:
    """``__test__ = False`` in the class body."""
    for stmt in cls.body:
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__test__" for t in stmt.targets):
            return isinstance(stmt.value, ast.Constant) and not stmt.value.value
    return False


def _base_name(expr: ast.AST) -> str:
    if isinstance(expr, ast.Attribute):
        return expr.attr
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Subscript):   # Generic[T]-style bases
        return _base_name(expr.value)
    return ""


class _Classes:
    """The classes of a test module: whether one is a ``unittest.TestCase`` and which methods
    it has, following bases defined in the module and, a few files deep, in project modules
    it imports them from (a mixin of tests in ``tests/__init__.py``)."""

    def __init__(self, tree: ast.Module, file: Path, bound: dict[str, set[str]], config: PytestConfig,
                 lines: list[str], depth: int = 0) -> None:
        self.local = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
        self.file, self.bound, self.config, self.lines, self.depth = file, bound, config, lines, depth
        self.memo: dict[str, bool] = {}
        self.others: dict[str, tuple[_Classes, ast.ClassDef] | None] = {}

    def imported(self, cls: ast.ClassDef, base: ast.AST) -> list[tuple["_Classes", ast.ClassDef]]:
        """The class(es) a base of ``cls`` imported from a project module stands for."""
        name = _base_name(base)
        if not isinstance(base, ast.Name) or name in self.local or name not in self.bound or self.depth >= 3:
            return []
        return [hit for dotted in self.bound[name] if (hit := self._other(dotted)) is not None]

    def _other(self, dotted: str) -> tuple["_Classes", ast.ClassDef] | None:
        if dotted in self.others:
            return self.others[dotted]
        self.others[dotted] = None
        module, _, name = dotted.rpartition(".")
        roots = [self.config.root, self.config.root / "src", self.file.parent, module_name_for(self.file)[1]]
        candidate = _module_file(module, list(dict.fromkeys(roots))) if module else None
        text = _read(candidate) if candidate is not None else None
        if text is None or name not in text:
            return None
        try:
            tree = _parse(text)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return None
        bound, _ = _bindings(tree, candidate)
        other = _Classes(tree, candidate, bound, self.config, text.splitlines(), self.depth + 1)
        cls = other.local.get(name)
        self.others[dotted] = (other, cls) if cls is not None else None
        return self.others[dotted]

    def is_testcase(self, cls: ast.ClassDef, seen: frozenset = frozenset()) -> bool:
        if cls.name in self.memo:
            return self.memo[cls.name]
        answer = False
        for base in cls.bases:
            name = _base_name(base)
            if name.endswith("TestCase"):
                answer = True
            elif isinstance(base, ast.Name) and name in self.local and name not in seen:
                answer = self.is_testcase(self.local[name], seen | {cls.name})
            else:
                answer = any(other.is_testcase(c) for other, c in self.imported(cls, base))
            if answer:
                break
        self.memo[cls.name] = answer
        return answer

    def methods(self, cls: ast.ClassDef, seen: frozenset = frozenset()
                ) -> list[tuple[ast.AST, list[str], dict[str, set[str]]]]:
        """(function, its file's lines, its file's imports) for the class's own functions,
        then those it inherits from its bases (of this module, or imported from the project)."""
        own = [(n, self.lines, self.bound) for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        names = {n.name for n, _, _ in own}
        out = list(own)
        for base in cls.bases:
            name = _base_name(base)
            inherited: list = []
            if isinstance(base, ast.Name) and name in self.local and name not in seen and name != cls.name:
                inherited = self.methods(self.local[name], seen | {cls.name})
            else:
                for other, c in self.imported(cls, base):
                    inherited += other.methods(c)
            for m in inherited:
                if m[0].name not in names:
                    names.add(m[0].name)
                    out.append(m)
        return out


def _source(lines: list[str], node: ast.AST) -> str:
    start = min([d.lineno for d in getattr(node, "decorator_list", [])] + [node.lineno])
    return "\n".join(lines[start - 1: node.end_lineno])


def _params(node: ast.AST) -> set[str]:
    args = node.args
    return {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}


def _analyze(file: Path, text: str, config: PytestConfig) -> _Info:
    try:
        tree = _parse(text)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return _Info([], {}, {}, [], set(), [])
    lines = text.splitlines()
    bound, stars = _bindings(tree, file)
    classes = _Classes(tree, file, bound, config, lines)
    funcs = config.python_functions
    tests: list[_Test] = []
    helpers: dict[str, _Reach] = {}
    fixtures: dict[str, _Reach] = {}
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef)

    def add_class(cls: ast.ClassDef, prefix: str, unittest: bool) -> None:
        members = classes.methods(cls)
        is_test = (lambda n: n.startswith("test")) if unittest else (lambda n: _matches(n, funcs))
        body = [s for s in cls.body if not isinstance(s, (*kinds, ast.ClassDef))]
        class_helpers = {m.name: _reach([m], b) for m, _, b in members if not is_test(m.name)}
        class_helpers[""] = _reach([*body, *cls.decorator_list], bound)
        for m, m_lines, m_bound in members:
            if is_test(m.name) and not _is_fixture(m):
                tests.append(_Test(f"{prefix}{cls.name}::{m.name}", _source(m_lines, m),
                                   _reach([*m.decorator_list, m], m_bound), _params(m), class_helpers))
        if not unittest:
            for inner in cls.body:
                if isinstance(inner, ast.ClassDef) and _collected(inner, unittest=False):
                    add_class(inner, f"{prefix}{cls.name}::", False)

    def _collected(cls: ast.ClassDef, unittest: bool) -> bool:
        if _not_a_test(cls):
            return False
        if unittest:
            return True
        if not _matches(cls.name, config.python_classes):
            return False
        return not any(isinstance(n, kinds) and n.name in ("__init__", "__new__") for n in cls.body)

    for node in tree.body:
        if isinstance(node, kinds):
            if _is_fixture(node):
                fixtures[node.name] = _reach([node], bound)
            elif _matches(node.name, funcs):
                tests.append(_Test(node.name, _source(lines, node), _reach([*node.decorator_list, node], bound),
                                   _params(node), {}))
            else:
                helpers[node.name] = _reach([node], bound)
        elif isinstance(node, ast.ClassDef):
            unittest = classes.is_testcase(node)
            if _collected(node, unittest):
                add_class(node, "", unittest)
            else:
                helpers[node.name] = _reach([node], bound)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            value = node.value
            if value is not None:
                reach = _reach([value], bound)
                for t in targets:
                    for n in ast.walk(t):
                        if isinstance(n, ast.Name):
                            helpers[n.id] = reach
    all_refs = _reach([tree], bound).refs
    return _Info(tests, helpers, fixtures, stars, all_refs, list(classes.local))


# -- the target's names ------------------------------------------------------------------------------


def _same(ref: str, alias: str) -> bool:
    """``ref`` names ``alias``: equal, or one a dotted tail of the other of at least two parts
    (a test that imports the module under another root, e.g. with ``src.`` or without its package)."""
    if ref == alias:
        return True
    short, long = (ref, alias) if len(ref) < len(alias) else (alias, ref)
    return "." in short and long.endswith("." + short)


MAX_PACKAGE_FILES = 400   # modules of the target's package read to follow its re-exports
REEXPORT_ROUNDS = 4        # re-exports of re-exports, this deep


def _package_files(path: Path) -> list[Path]:
    """The modules of the top-level package of ``path``: the ``__init__`` files above it first,
    then the others, bounded by :data:`MAX_PACKAGE_FILES`; none for a module outside a package."""
    modname, root = module_name_for(path)
    parts = modname.split(".")
    if len(parts) < 2 and path.name != "__init__.py":
        return []
    inits = [Path(root, *parts[:i], "__init__.py") for i in range(len(parts), 0, -1)]
    out = [p for p in dict.fromkeys(inits) if p.is_file()]
    seen = set(out)
    for folder, dirs, names in os.walk(Path(root, parts[0])):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        for name in sorted(names):
            file = Path(folder, name)
            if name.endswith(".py") and file not in seen:
                out.append(file)
                seen.add(file)
        if len(out) >= MAX_PACKAGE_FILES:
            break
    return out[:MAX_PACKAGE_FILES]


def _aliases(path: Path, name: str) -> set[str]:
    """Every dotted name of ``name`` defined in the module at ``path``: its own module's, and
    those of the modules of its package that re-export it, through chains of re-exports
    (:data:`REEXPORT_ROUNDS` deep): ``from .mod import name [as other]``, ``from .mod import *``,
    ``other = mod.name`` and ``other = wrapper(mod.name, ...)`` (a call with it as an argument:
    a deprecation wrapper still reaches it) and ``def other(...): return mod.name(...)`` (a
    function that only passes its call on), ``mod`` imported relatively or by absolute name
    (``import pkg`` + ``pkg.name`` in a module of ``pkg``).  A file is parsed once per stamp:
    what it can re-export (:func:`_exports`) is remembered with its text, not its tree."""
    modname = module_name_for(path)[0]
    found = {f"{modname}.{name}" if modname else name}
    files = _package_files(path)
    for _ in range(REEXPORT_ROUNDS):
        before = len(found)
        locals_ = {f.rpartition(".")[2] for f in found}
        for file in files:
            text = _read(file)
            if not text or not (any(n in text for n in locals_) or "import *" in text):
                continue
            _reexports(_exports(file, text), found)
        if len(found) == before:
            break
    return found


_Export = tuple[str, str, tuple[str, ...], tuple[str, ...]]   # (module, star base or "", refs, names)


def _exports(file: Path, text: str) -> tuple[_Export, ...]:
    """What the module ``file`` can re-export, in statement order, remembered with its text:
    ``(module, base, (), ())`` for ``from base import *``, and ``(module, "", refs, names)``
    for a statement that binds ``names`` of the module to one of the dotted names ``refs``
    (an import from, an assignment, a call with them as arguments, a ``def`` that only
    passes its call on to one)."""
    modname = module_name_for(file)[0]
    key = ("exports", modname)
    with _lock:
        hit = _files.get(str(file))
    if hit is not None and hit[1] is text and key in hit[2]:
        return hit[2][key]
    try:
        out = _export_facts(modname, file.name == "__init__.py", _parse(text))
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        out = ()
    with _lock:
        hit = _files.get(str(file))
        if hit is not None and hit[1] is text:
            hit[2][key] = out
    return out


def _export_facts(module: str, is_package: bool, tree: ast.Module) -> tuple[_Export, ...]:
    out: list[_Export] = []
    bound: dict[str, str] = {}
    for node in top_statements(tree):
        if isinstance(node, ast.ImportFrom):
            base = _from_base(node.module, node.level, module, is_package)
            if not base:
                continue
            for alias in node.names:
                if alias.name == "*":
                    out.append((module, base, (), ()))
                    continue
                dotted = f"{base}.{alias.name}"
                bound[alias.asname or alias.name] = dotted
                out.append((module, "", (dotted,), (alias.asname or alias.name,)))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                bound[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            call = _delegates(node)
            parts = _chain(call.func) if call is not None else None
            if parts:
                dotted = ".".join([bound.get(parts[0], f"{module}.{parts[0]}"), *parts[1:]])
                out.append((module, "", (dotted,), (node.name,)))
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = tuple(t.id for t in targets if isinstance(t, ast.Name))
            value = node.value
            refs = [value]
            if isinstance(value, ast.Call):
                refs = [*value.args, *(k.value for k in value.keywords)]
            dotted = []
            for ref in refs:
                parts = _chain(ref)
                if parts:
                    dotted.append(".".join([bound.get(parts[0], f"{module}.{parts[0]}"), *parts[1:]]))
            if dotted and names:
                out.append((module, "", tuple(dotted), names))
    return tuple(out)


def _delegates(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.Call | None:
    """The call a function only passes on to: its body (a docstring aside) is one
    ``return f(...)``, ``return await f(...)`` or ``f(...)`` (a wrapper such as
    ``def merge(*a, **k): return toolz.merge(*a, **k)``); else None."""
    body = fn.body[1:] if fn.body and isinstance(fn.body[0], ast.Expr) and \
        isinstance(fn.body[0].value, ast.Constant) and isinstance(fn.body[0].value.value, str) else fn.body
    if len(body) != 1 or not isinstance(body[0], (ast.Return, ast.Expr)):
        return None
    value = body[0].value
    if isinstance(value, ast.Await):
        value = value.value
    return value if isinstance(value, ast.Call) else None


def _reexports(exports: tuple[_Export, ...], found: set[str]) -> None:
    """Adds to ``found`` the names under which a module re-exports one of ``found``."""
    for module, base, refs, names in exports:
        if base:
            found.update(f"{module}.{f.rpartition('.')[2]}" for f in list(found) if f.rpartition(".")[0] == base)
        elif any(r in found for r in refs):
            found.update(f"{module}.{n}" for n in names)


def _module_file(module: str, roots: list[Path]) -> Path | None:
    for root in roots:
        for candidate in (Path(root, *module.split(".")).with_suffix(".py"), Path(root, *module.split("."), "__init__.py")):
            if candidate.is_file():
                return candidate
    return None


def _classes_of(file: Path) -> dict[str, tuple[list[str], set[str]] | str]:
    """The module's classes (name -> (resolved bases, method names)) and the names it imports
    (name -> the dotted name it stands for), remembered with the file's text."""
    text = _read(file)
    if text is None:
        return {}
    with _lock:
        hit = _files.get(str(file))
    if hit is not None and hit[1] is text and "classes" in hit[2]:
        return hit[2]["classes"]
    out: dict[str, tuple[list[str], set[str]] | str] = {}
    try:
        tree = _parse(text)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        tree = None
    if tree is not None:
        bound, _ = _bindings(tree, file)
        modname = module_name_for(file)[0]
        local = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
        for name, values in bound.items():
            out[name] = next(iter(values)) if len(values) == 1 else ""
        for node in tree.body:
            if not isinstance(node, ast.ClassDef):
                continue
            bases: list[str] = []
            for base in node.bases:
                parts = _chain(base.value if isinstance(base, ast.Subscript) else base)
                if not parts:
                    continue
                if parts[0] in local and len(parts) == 1:
                    bases.append(f"{modname}.{parts[0]}")
                for head in bound.get(parts[0], ()):
                    bases.append(".".join([head, *parts[1:]]))
            out[node.name] = (bases, {m.name for m in node.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))})
    with _lock:
        hit = _files.get(str(file))
        if hit is not None and hit[1] is text:
            hit[2]["classes"] = out
    return out


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
