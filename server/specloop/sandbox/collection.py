"""What a test file holds, collected as pytest collects it: its tests, helpers and fixtures,
and what each of them names.

**Which tests**, in a file :mod:`testfiles` lists: functions matching ``python_functions``
and, in classes matching ``python_classes`` without ``__init__``, methods matching it
(nested classes too), and every ``unittest.TestCase`` subclass whatever its name (a base
named ``*TestCase``, a base defined in the module or imported from a project module that
is one), with the ``test*`` methods it has or inherits from bases defined in its module.
Patterns are prefixes or globs, as pytest reads them.  A class with ``__test__ = False``
is not collected.

**What a test names**: its names are resolved through the imports of its file
(``from pkg.mod import f as g``, ``import pkg as p`` + ``p.f``, ``import pkg.mod`` +
``pkg.mod.f``, relative imports, ``from pkg import *``) into a :class:`_Reach`; the same
for the file's helpers (module-level functions, classes and constants), the helper
methods of a test's class, and its fixtures.

One analysis of a test file, remembered with its text (:func:`_info`); the classes of a
project module (:func:`_classes_of`) likewise.
"""

from __future__ import annotations

import ast
import fnmatch
from dataclasses import dataclass, field
from pathlib import Path

from ..source.spec import _parse
from .projectenv import PytestConfig, module_name_for
from .testfiles import _files, _lock, _module_file, _read


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


def _matches(name: str, patterns: list[str]) -> bool:
    """pytest's rule for python_classes / python_functions: a prefix, or a glob."""
    return any(name.startswith(p) or (any(c in p for c in "*?[") and fnmatch.fnmatch(name, p)) for p in patterns)


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

