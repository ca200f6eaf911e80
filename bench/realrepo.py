"""specloop on real code: functions of pinned real projects, stubbed to their docstring,
implemented by ``specloop run`` in a copy of the project, graded by the project's own tests.

Run::

    .venv/bin/python bench/realrepo.py                         # oracle mode, every pinned project
    .venv/bin/python bench/realrepo.py --projects inflection --limit 5
    .venv/bin/python bench/realrepo.py --model specloop-local/smollm2 --limit 6   # model mode
    .venv/bin/python bench/realrepo.py --repo ~/src/myproject  # a checkout of your own (copied first)

Decisions:

* Projects are the source distributions pinned in ``bench/realrepo_projects.txt``
  (``NAME==VER --hash=sha256:...``), fetched with ``pip download --no-deps --no-binary :all:
  --require-hashes`` into a cache folder (``bench/.cache/realrepo``, gitignored; ``--cache``)
  and checked against their hashes again before use.  Each is unpacked once; every function
  then runs in a fresh copy of it.
* A function is chosen when it has a docstring and a body beyond it, is a top-level function
  or a method of a top-level class (no dunders, no overloads, no name defined twice in its
  scope), lives in the project's package (not its tests, docs or setup), and at least one of
  the project's tests names it.  "The tests that name it" are counted here with ``ast``, as
  pytest collects them: test files by the project's ``python_files`` (default ``test_*.py``,
  ``*_test.py``) under its ``testpaths``; ``test*`` functions, ``test*`` methods of ``Test*``
  classes without ``__init__``, and ``test*`` methods of ``unittest.TestCase`` subclasses of
  any name (inherited test methods included, one per collecting class); a parametrized test
  counts once.  A test names the function when its source (decorators included) holds the
  name: a method as an attribute (``obj.name``, ``Class.name``) in a file that names its
  class or a subclass inheriting the method (one that overrides it does not count); a
  function as a bare name that is not a parameter or variable of the test, or as an
  attribute of a dotted name (``mod.name``; not ``ProjectClass.name``, not ``var.name``);
  either as a whole string constant.  A test that does not parse counts when the name is a
  word in it.  (The plain "the name is a word" rule counted ``Meter(...).total()`` as a test
  of a module-level ``total``, and a parameter named like the function as its test.)
* The function is stubbed as a user would leave it: its body replaced by only its docstring
  (the lines after the docstring to the function's last line are removed).  Then
  ``python -m specloop run FILE --target QUALNAME --json`` runs with the copy's root as the
  current folder.  The workspace is the copy's root: a project without a ``pyproject.toml``
  gets ``git init`` first (a user's checkout is a git work tree); nothing else is added.
  Model-written tests, the critic and kept tests are off (``SPECLOOP_MODEL_TESTS=false``,
  ``SPECLOOP_CRITIC=false``, ``SPECLOOP_KEEP_TESTS=false``): the project's tests and the
  docstring's examples are the only judges.
* Oracle mode (the default) answers every ``generate`` and ``fix`` request with the original
  function (one fenced python block, as it stands in the file) from a scripted
  OpenAI-compatible server on 127.0.0.1 (``tests/scripted_model.py``, imported).  Correct
  code, so every criterion has a right answer:
  (a) status ``passed``, else the first failing test and its message (from the job's trace);
  (b) the tests that name the function and the ones specloop ran on the first attempt
      (outcomes in the trace that are not skipped or uncollected), compared by
      (file, class, function) with parametrization dropped;
  (c) context recall: the project names the original body uses (``ast`` names and
      attributes resolved to definitions: module-level functions, classes and assignments,
      methods and class attributes reached through ``self``/``cls``/the class, names imported
      from other project modules, re-exports followed), split into same-module and
      cross-file, and the share whose definition or signature (``def NAME(``, ``class
      NAME``, ``NAME =``) is in the first ``generate`` request's messages;
  (d) bytes changed outside the function (the file after the run against the original,
      the function's own lines excepted), whether the file is byte-identical to the
      original, and other project files changed (``.specloop/`` excepted);
  (e) wall seconds of the ``specloop run`` process.
* Model mode (``--model``) runs the same jobs with a real model, twice per function:
  context on (the default ``context_tokens``) and off.  No setting turns context off; the
  smallest ``context_tokens`` allowed is 200, used as "off".  A failing attempt is written
  too (``--write-failing``), and pass@1 is graded by running the tests that name the
  function (``python -m pytest`` with their node ids in the copy): passed when they all
  pass and the original function passed them too (tests failing on the original are
  dropped from grading).
* ``--repo PATH`` runs the oracle mode on a checkout of your own: it is copied to a
  temporary folder first (without ``.git`` internals other than what a copy needs, without
  ``.venv``, ``node_modules``, ``.specloop``) and never written to.
* The JSON (``--out PREFIX``: ``PREFIX.json`` and ``PREFIX.md``) holds one row per function
  and the totals; it is written after every function.
"""

from __future__ import annotations

import argparse
import ast
import configparser
import fnmatch
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import tomllib
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from scripted_model import ScriptedModel  # noqa: E402

PINS = Path(__file__).resolve().parent / "realrepo_projects.txt"
CACHE = Path(__file__).resolve().parent / ".cache" / "realrepo"
FAKE_KEY = "sk-realrepo-not-a-real-key"
RUN_TIMEOUT = 600.0
GRADE_TIMEOUT = 300.0
SKIP_DIRS = {".git", ".hg", ".specloop", "__pycache__", ".tox", ".nox", ".venv", "venv", "node_modules",
             ".pytest_cache", ".mypy_cache", "build", "dist", "site-packages", ".eggs"}
NOT_PACKAGE_DIRS = {"test", "tests", "testing", "doc", "docs", "examples", "example", "benchmarks", "bench",
                    "scripts", "tools"}
NOT_PACKAGE_FILES = {"setup.py", "conftest.py", "noxfile.py", "fabfile.py", "prebuild.py", "benchmark.py"}


# -- pins and fetching ------------------------------------------------------------------------
@dataclass
class Pin:
    name: str
    version: str
    hashes: list[str]
    line: str

    @property
    def key(self) -> str:
        return f"{self.name}-{self.version}"


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def read_pins(path: Path = PINS) -> list[Pin]:
    """``NAME==VER --hash=sha256:HEX ...`` lines (backslash continuations, ``#`` comments)."""
    text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    pins = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.match(r"([A-Za-z0-9_.-]+)==(\S+)", line)
        if not m:
            raise SystemExit(f"{path}: not a pin: {line}")
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", line)
        if not hashes:
            raise SystemExit(f"{path}: {m.group(1)} has no --hash=sha256:")
        pins.append(Pin(m.group(1), m.group(2), hashes, line))
    return pins


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def cached_sdist(pin: Pin, cache: Path) -> Path | None:
    """The pinned sdist in ``cache`` whose hash matches, else None."""
    if not cache.is_dir():
        return None
    for f in cache.iterdir():
        stem = f.name.removesuffix(".tar.gz").removesuffix(".zip")
        if stem == f.name or "-" not in stem:
            continue
        name, _, version = stem.rpartition("-")
        if norm(name) == norm(pin.name) and version == pin.version and sha256(f) in pin.hashes:
            return f
    return None


def fetch(pins: list[Pin], cache: Path) -> dict[str, Path]:
    """Every pinned sdist, from the cache or the package index (hashes required and checked)."""
    cache.mkdir(parents=True, exist_ok=True)
    missing = [p for p in pins if cached_sdist(p, cache) is None]
    if missing:
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
            fh.write("\n".join(p.line for p in missing) + "\n")
            reqs = fh.name
        try:
            done = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                                   "--require-hashes", "-r", reqs, "-d", str(cache), "-q"],
                                  capture_output=True, text=True, timeout=900)
        finally:
            os.unlink(reqs)
        if done.returncode != 0:
            raise SystemExit("pip download failed:\n" + done.stderr[-2000:])
    out = {}
    for p in pins:
        found = cached_sdist(p, cache)
        if found is None:
            raise SystemExit(f"{p.key}: no sdist with a pinned hash in {cache}")
        out[p.name] = found
    return out


def unpacked(sdist: Path, cache: Path) -> Path:
    """The sdist unpacked once under ``cache/src`` (its single top folder)."""
    dest = cache / "src" / sdist.name.removesuffix(".tar.gz").removesuffix(".zip")
    if not (dest / ".complete").exists():
        shutil.rmtree(dest, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix="unpack-", dir=cache))
        if sdist.name.endswith(".zip"):
            with zipfile.ZipFile(sdist) as zf:
                zf.extractall(tmp)
        else:
            with tarfile.open(sdist) as tf:
                tf.extractall(tmp, filter="data")
        tops = list(tmp.iterdir())
        top = tops[0] if len(tops) == 1 and tops[0].is_dir() else tmp
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(top), dest)
        shutil.rmtree(tmp, ignore_errors=True)
        (dest / ".complete").write_text("")
    return dest


# -- the project's files and tests -------------------------------------------------------------
def walk_py(root: Path) -> list[Path]:
    out = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith(".")
                         and not d.endswith(".egg-info") and not (Path(folder, d, "pyvenv.cfg").exists()))
        out += [Path(folder, f) for f in sorted(files) if f.endswith(".py")]
    return out


@dataclass
class PytestConfig:
    testpaths: list[str] = field(default_factory=list)
    python_files: list[str] = field(default_factory=lambda: ["test_*.py", "*_test.py"])
    python_classes: list[str] = field(default_factory=lambda: ["Test"])
    python_functions: list[str] = field(default_factory=lambda: ["test"])


def pytest_config(root: Path) -> PytestConfig:
    """The project's pytest settings that decide what is collected (pytest's file order)."""
    table: dict[str, Any] | None = None
    ini = root / "pytest.ini"
    if ini.is_file():
        cp = configparser.ConfigParser(interpolation=None)
        cp.read(ini, encoding="utf-8")
        table = dict(cp["pytest"]) if cp.has_section("pytest") else {}
    if table is None and (root / "pyproject.toml").is_file():
        data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
        found = data.get("tool", {}).get("pytest", {}).get("ini_options")
        if found is not None:
            table = found
    for name, section in (("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")):
        if table is None and (root / name).is_file():
            cp = configparser.ConfigParser(interpolation=None)
            try:
                cp.read(root / name, encoding="utf-8")
            except configparser.Error:
                continue
            if cp.has_section(section):
                table = dict(cp[section])
    cfg = PytestConfig()
    for key in ("testpaths", "python_files", "python_classes", "python_functions"):
        value = (table or {}).get(key)
        if value:
            setattr(cfg, key, value.split() if isinstance(value, str) else list(value))
    return cfg


def is_test_file(path: Path, cfg: PytestConfig) -> bool:
    return any(fnmatch.fnmatch(path.name, pat) for pat in cfg.python_files)


def _matches(name: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(name, p) if any(c in p for c in "*?[") else name.startswith(p) for p in patterns)


@dataclass
class ProjectTest:
    file: str        # relative to the project root
    cls: str         # "" for a module-level test
    name: str
    source: str

    @property
    def key(self) -> str:
        return f"{self.file}::{self.cls + '::' if self.cls else ''}{self.name}"

    @property
    def mentions(self) -> "Mentions | None":
        if not hasattr(self, "_mentions"):
            self._mentions = mentions(self.source)
        return self._mentions


def project_tests(root: Path, cfg: PytestConfig | None = None) -> list[ProjectTest]:
    """The project's tests as pytest collects them (see the module doc)."""
    cfg = cfg or pytest_config(root)
    bases = [root / p for p in cfg.testpaths if (root / p).exists()] or [root]
    files = sorted({f for b in bases for f in ([b] if b.is_file() else walk_py(b)) if is_test_file(f, cfg)})
    classes: dict[str, tuple[ast.ClassDef, list[str]]] = {}   # every class of every test file, by name
    local_classes: dict[Path, dict[str, tuple[ast.ClassDef, list[str]]]] = {}   # a file's own come first
    parsed = []
    for f in files:
        try:
            text = f.read_text(encoding="utf-8", errors="replace")
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            continue
        lines = text.splitlines()
        parsed.append((f, tree, lines))
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                classes.setdefault(node.name, (node, lines))
                local_classes.setdefault(f, {})[node.name] = (node, lines)
    # also classes of helper modules in the test folders (mixins: cachetools' tests/__init__.py)
    for b in bases:
        for f in (walk_py(b) if b.is_dir() else []):
            if f in files:
                continue
            try:
                text = f.read_text(encoding="utf-8", errors="replace")
                tree = ast.parse(text)
            except (SyntaxError, ValueError):
                continue
            for node in tree.body:
                if isinstance(node, ast.ClassDef):
                    classes.setdefault(node.name, (node, text.splitlines()))

    def base_names(node: ast.ClassDef) -> list[str]:
        return [ast.unparse(b).rsplit(".", 1)[-1] for b in node.bases]

    def is_testcase(node: ast.ClassDef, seen: frozenset[str] = frozenset()) -> bool:
        for b in base_names(node):
            if b in ("TestCase", "IsolatedAsyncioTestCase") or b.endswith("TestCase") and b not in classes:
                return True
            if b in classes and b not in seen and is_testcase(classes[b][0], seen | {node.name}):
                return True
        return False

    def methods(node: ast.ClassDef, lines: list[str], own: dict[str, tuple[ast.ClassDef, list[str]]],
                seen: frozenset[str] = frozenset()) -> dict[str, str]:
        out: dict[str, str] = {}
        for b in reversed(base_names(node)):           # bases first, the class's own override them
            if b in seen:
                continue
            if b in own:                                # a base of the same file (two files may share a name)
                out.update(methods(*own[b], own, seen | {node.name}))
            elif b in classes:
                out.update(methods(*classes[b], {}, seen | {node.name}))
        for m in node.body:
            if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)):
                out[m.name] = "\n".join(lines[m.lineno - 1 - len(m.decorator_list): m.end_lineno])
        return out

    tests: list[ProjectTest] = []
    for f, tree, lines in parsed:
        rel = f.relative_to(root).as_posix()
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _matches(node.name, cfg.python_functions):
                tests.append(ProjectTest(rel, "", node.name, "\n".join(lines[node.lineno - 1: node.end_lineno])))
            elif isinstance(node, ast.ClassDef):
                unit = is_testcase(node)
                own = any(isinstance(m, ast.FunctionDef) and m.name == "__init__" for m in node.body)
                if not unit and (not _matches(node.name, cfg.python_classes) or own):
                    continue
                for name, src in methods(node, lines, local_classes.get(f, {})).items():
                    if (name.startswith("test") if unit else _matches(name, cfg.python_functions)):
                        tests.append(ProjectTest(rel, node.name, name, src))
    return tests


def word(name: str, text: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", text) is not None


@dataclass
class Mentions:
    """What a test's source names: bare names, attributes reached from a dotted name (``mod.f``,
    ``pkg.mod.f``), attributes reached from anything (``obj().m``), and whole string constants."""

    names: set[str] = field(default_factory=set)
    dotted: set[tuple[str, str]] = field(default_factory=set)   # (attribute, each name before it)
    attrs: set[str] = field(default_factory=set)
    strings: set[str] = field(default_factory=set)


def mentions(source: str) -> Mentions | None:
    import textwrap
    try:
        tree = ast.parse(textwrap.dedent(source))
    except SyntaxError:
        return None
    out = Mentions()
    local: set[str] = set()     # the test's parameters and variables are not the function
    for node in ast.walk(tree):
        if isinstance(node, ast.arg):
            local.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            local.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node is not tree.body[0]:
            local.add(node.name)       # a class or helper the test defines (a subclass overriding it)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in local:
            out.names.add(node.id)
        elif isinstance(node, ast.Attribute):
            out.attrs.add(node.attr)
            base, chain = node.value, []
            while isinstance(base, ast.Attribute):
                chain.append(base.attr)
                base = base.value
            if isinstance(base, ast.Name) and base.id not in ("self", "cls") and base.id not in local:
                for part in [base.id, *chain]:   # mod.f, pkg.mod.f; not obj.f of a test's variable
                    out.dotted.add((node.attr, part))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value not in local:
            out.strings.add(node.value)      # (a parametrize argument name is a parameter)
    return out


def names_function(test: "ProjectTest", name: str, method: bool, classes: frozenset[str] = frozenset()) -> bool:
    """Whether the test's source names the function: a method as an attribute (``x.name``), a
    function as a bare name or an attribute of a dotted name (``mod.name``); either as a whole
    string (``getattr(obj, "name")``, parametrized names).  Without a parse: the name as a word."""
    if not word(name, test.source):
        return False
    m = test.mentions
    if m is None:
        return True
    if name in m.strings:
        return True
    if method:
        return name in m.attrs
    return name in m.names or any(a == name for a, _ in m.dotted) and not any(
        a == name and part in classes for a, part in m.dotted)      # not pkg.mod.ProjectClass.name


# -- the project's package: modules, definitions, functions to stub -----------------------------
def package_files(root: Path, cfg: PytestConfig) -> list[Path]:
    out = []
    for f in walk_py(root):
        rel = f.relative_to(root)
        if any(p in NOT_PACKAGE_DIRS for p in rel.parts[:-1]) or f.name in NOT_PACKAGE_FILES:
            continue
        if is_test_file(f, cfg) or f.name.startswith("_version") or f.name == "version.py" and f.stat().st_size < 400:
            continue
        out.append(f)
    return out


def module_name(root: Path, path: Path) -> str:
    """Dotted name of a package file: the parts below the first folder without ``__init__.py``."""
    parts = [path.stem] if path.stem != "__init__" else []
    folder = path.parent
    while folder != root and (folder / "__init__.py").exists():
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts) or path.stem


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    source: str
    defs: dict[str, ast.AST] = field(default_factory=dict)          # top-level name -> node
    imports: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # local -> (module, name|None)


def _resolve_relative(module: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.name.split(".")
    if module.path.name != "__init__.py":
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
    return ".".join([*base, *([node.module] if node.module else [])])


def load_modules(root: Path, files: list[Path]) -> dict[str, Module]:
    mods: dict[str, Module] = {}
    for f in files:
        try:
            source = f.read_text(encoding="utf-8")
            tree = ast.parse(source)
        except (SyntaxError, ValueError, UnicodeDecodeError):
            continue
        m = Module(module_name(root, f), f, tree, source)
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                m.defs.setdefault(node.name, node)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                for t in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                    for n in ast.walk(t):
                        if isinstance(n, ast.Name):
                            m.defs.setdefault(n.id, node)
        for node in ast.walk(tree):   # imports anywhere (some modules import inside functions)
            if isinstance(node, ast.ImportFrom):
                src = _resolve_relative(m, node)
                for a in node.names:
                    m.imports.setdefault(a.asname or a.name, (src, a.name))
            elif isinstance(node, ast.Import):
                for a in node.names:
                    m.imports.setdefault(a.asname or a.name.split(".")[0], (a.name if a.asname else a.name.split(".")[0], None))
        mods[m.name] = m
    return mods


@dataclass
class Use:
    name: str          # the definition's name
    module: str        # where it is defined
    kind: str          # function, class, method, attribute, variable
    where: str         # same-module or cross-file


def resolve(mods: dict[str, Module], module: str, name: str, depth: int = 0) -> tuple[str, ast.AST] | None:
    """(defining module, node) of ``module.name``, following re-exports."""
    m = mods.get(module)
    if m is None or depth > 4:
        return None
    if name in m.defs:
        return module, m.defs[name]
    if name in m.imports:
        src, orig = m.imports[name]
        if orig is None:
            return None
        return resolve(mods, src, orig, depth + 1)
    return None


def _kind(node: ast.AST, method: bool = False) -> str:
    if isinstance(node, ast.ClassDef):
        return "class"
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return "method" if method else "function"
    return "attribute" if method else "variable"


def class_members(mods: dict[str, Module], module: str, cls: ast.ClassDef, depth: int = 0) -> dict[str, tuple[str, ast.AST]]:
    """name -> (defining module, node) of a class's methods and class attributes, bases (in the
    project) included."""
    out: dict[str, tuple[str, ast.AST]] = {}
    if depth > 5:
        return out
    for b in reversed(cls.bases):
        name = ast.unparse(b)
        found = resolve(mods, module, name) if "." not in name else None
        if found and isinstance(found[1], ast.ClassDef):
            out.update(class_members(mods, found[0], found[1], depth + 1))
    for item in cls.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out[item.name] = (module, item)
        elif isinstance(item, (ast.Assign, ast.AnnAssign)):
            for t in (item.targets if isinstance(item, ast.Assign) else [item.target]):
                if isinstance(t, ast.Name):
                    out[t.id] = (module, item)
    return out


def local_names(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    a = fn.args
    names = {x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs]}
    names |= {x.arg for x in (a.vararg, a.kwarg) if x is not None}
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node is not fn:
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {x.asname or x.name.split(".")[0] for x in node.names}
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def uses(mods: dict[str, Module], module: str, fn: ast.FunctionDef | ast.AsyncFunctionDef,
         cls: ast.ClassDef | None) -> list[Use]:
    """The project definitions the body of ``fn`` uses (see the module doc, (c))."""
    m = mods[module]
    local = local_names(fn)
    members = class_members(mods, module, cls) if cls is not None else {}
    found: dict[tuple[str, str], Use] = {}

    def add(name: str, where_mod: str, node: ast.AST, method: bool = False) -> None:
        if node is fn:
            return
        key = (where_mod, name)
        if key not in found:
            found[key] = Use(name, where_mod, _kind(node, method), "same-module" if where_mod == module else "cross-file")

    body = fn.body[1:] if fn.body and isinstance(fn.body[0], ast.Expr) and isinstance(
        getattr(fn.body[0], "value", None), ast.Constant) else fn.body
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in local:
                if node.id in m.defs:
                    add(node.id, module, m.defs[node.id])
                elif node.id in m.imports:
                    src, orig = m.imports[node.id]
                    if orig is not None:
                        hit = resolve(mods, src, orig)
                        if hit:
                            add(orig, hit[0], hit[1])
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                base = node.value.id
                if base in ("self", "cls") or (cls is not None and base == cls.name):
                    if cls is not None and node.attr in members:
                        where, item = members[node.attr]
                        if item is not fn:
                            add(node.attr, where, item, method=True)
                elif base not in local and base in m.imports and m.imports[base][1] is None:
                    target = m.imports[base][0]       # import pkg.mod as alias: alias.NAME
                    hit = resolve(mods, target, node.attr)
                    if hit:
                        add(node.attr, hit[0], hit[1])
                elif base not in local and base in m.imports:
                    src, orig = m.imports[base]        # from pkg import mod: mod.NAME
                    sub = f"{src}.{orig}" if src else orig
                    if sub in mods:
                        hit = resolve(mods, sub, node.attr)
                        if hit:
                            add(node.attr, hit[0], hit[1])
    return list(found.values())


def in_prompt(use: Use, prompt: str) -> bool:
    """Whether the definition (or its signature) of ``use`` is shown in ``prompt``."""
    n = re.escape(use.name)
    if use.kind in ("function", "method"):
        return re.search(rf"\bdef {n}\(", prompt) is not None
    if use.kind == "class":
        return re.search(rf"\bclass {n}\b", prompt) is not None
    return re.search(rf"(?m)^\s*{n}\s*(:[^=\n]*)?=(?!=)", prompt) is not None


@dataclass
class Function:
    project: str
    file: str            # relative to the project root
    qualname: str
    name: str
    lineno: int
    start: int           # first line (decorators included), 1-based
    end: int             # last line
    doc_end: int         # last line of the docstring
    cls: str
    naming_tests: list[str]
    uses: list[Use]


def class_family(mods: dict[str, Module]) -> dict[str, list[ast.ClassDef]]:
    """Class name -> its direct subclasses in the project."""
    children: dict[str, list[ast.ClassDef]] = {}
    for m in mods.values():
        for node in m.tree.body:
            if isinstance(node, ast.ClassDef):
                children.setdefault(node.name, [])
                for b in node.bases:
                    children.setdefault(ast.unparse(b).rsplit(".", 1)[-1], []).append(node)
    return children


def reaching(children: dict[str, list[ast.ClassDef]], cls: str, method: str) -> set[str]:
    """The class and its subclasses that inherit ``method`` from it (no override on the way):
    a method's test must be in a file that names one of them."""
    out, todo = {cls}, [cls]
    while todo:
        for child in children.get(todo.pop(), []):
            overrides = any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == method
                            for n in child.body)
            if not overrides and child.name not in out:
                out.add(child.name)
                todo.append(child.name)
    return out


def _is_stub(stmts: list[ast.stmt]) -> bool:
    return all(isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
               or (isinstance(s, ast.Raise) and s.exc is not None and "NotImplementedError" in ast.unparse(s.exc))
               for s in stmts)


def functions(project: str, root: Path) -> list[Function]:
    """The functions of the project to stub, each with the tests that name it (module doc)."""
    cfg = pytest_config(root)
    tests = project_tests(root, cfg)
    mods = load_modules(root, package_files(root, cfg))
    texts = {f: (root / f).read_text(encoding="utf-8", errors="replace") for f in {t.file for t in tests}}
    family = class_family(mods)
    class_names = frozenset(family)
    out: list[Function] = []
    for mname, m in sorted(mods.items(), key=lambda kv: str(kv[1].path)):
        scopes: list[tuple[ast.ClassDef | None, list[ast.stmt]]] = [(None, m.tree.body)]
        scopes += [(n, n.body) for n in m.tree.body if isinstance(n, ast.ClassDef)]
        for cls, body in scopes:
            counts: dict[str, int] = {}
            for n in body:
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    counts[n.name] = counts.get(n.name, 0) + 1
            for fn in body:
                if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or counts[fn.name] > 1:
                    continue
                if fn.name.startswith("__") and fn.name.endswith("__"):
                    continue
                if any("overload" in ast.unparse(d) or "abstract" in ast.unparse(d) for d in fn.decorator_list):
                    continue
                if ast.get_docstring(fn) is None or len(fn.body) < 2 or _is_stub(fn.body[1:]):
                    continue
                doc = fn.body[0]
                if fn.body[1].lineno <= doc.end_lineno:   # a statement on the docstring's line
                    continue
                naming = [t.key for t in tests if names_function(t, fn.name, cls is not None, class_names)
                          and (cls is None or any(word(c, texts[t.file]) for c in reaching(family, cls.name, fn.name)))]
                if not naming:
                    continue
                start = min([fn.lineno, *(d.lineno for d in fn.decorator_list)])
                out.append(Function(project, m.path.relative_to(root).as_posix(),
                                    f"{cls.name}.{fn.name}" if cls else fn.name, fn.name, fn.lineno, start,
                                    fn.end_lineno, doc.end_lineno, cls.name if cls else "", naming,
                                    uses(mods, mname, fn, cls)))
    return out


def stub(source: str, fn: Function) -> str:
    """``source`` with the function's body replaced by only its docstring."""
    lines = source.splitlines(keepends=True)
    return "".join(lines[: fn.doc_end] + lines[fn.end:])


def original_function(source: str, fn: Function) -> str:
    return "".join(source.splitlines(keepends=True)[fn.start - 1: fn.end])


def outside(text: str, fn: Function) -> tuple[str, str] | None:
    """(text before the function, text after it) in ``text`` as it is now, by qualname."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    body = tree.body
    if fn.cls:
        cls = next((n for n in body if isinstance(n, ast.ClassDef) and n.name == fn.cls), None)
        if cls is None:
            return None
        body = cls.body
    node = next((n for n in body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == fn.name), None)
    if node is None:
        return None
    start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    lines = text.splitlines(keepends=True)
    return "".join(lines[: start - 1]), "".join(lines[node.end_lineno:])


def changed_bytes(a: str, b: str) -> int:
    if a == b:
        return 0
    import difflib
    ab, bb = a.encode(), b.encode()
    sm = difflib.SequenceMatcher(None, ab, bb, autojunk=False)
    return sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in sm.get_opcodes() if tag != "equal")


def snapshot(root: Path) -> dict[str, str]:
    out = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in (".specloop", "__pycache__", ".pytest_cache", ".git")]
        for f in files:
            p = Path(folder, f)
            out[p.relative_to(root).as_posix()] = sha256(p)
    return out


# -- one job -----------------------------------------------------------------------------------
def fenced(code: str) -> str:
    return f"```python\n{code.rstrip()}\n```\n"


def prepare_copy(pristine: Path, work: Path, ignore_git: bool = False) -> Path:
    ignore = shutil.ignore_patterns(".specloop", "__pycache__", ".pytest_cache", ".venv", "node_modules", ".tox",
                                    *([".git"] if ignore_git else []))
    shutil.copytree(pristine, work, ignore=ignore, symlinks=True)
    (work / ".complete").unlink(missing_ok=True)
    if not (work / "pyproject.toml").exists() and not (work / ".git").exists():
        subprocess.run(["git", "init", "-q", str(work)], check=True, capture_output=True)
    return work


def run_env(model_settings: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPECLOOP_")
           and k not in ("OPENAI_BASE_URL", "OPENAI_API_BASE", "PYTHONPATH")}
    env.update({"LITELLM_LOCAL_MODEL_COST_MAP": "True", "SPECLOOP_MODEL_TESTS": "false", "SPECLOOP_CRITIC": "false",
                "SPECLOOP_KEEP_TESTS": "false"})
    env.setdefault("OPENAI_API_KEY", FAKE_KEY)
    env.update(model_settings)
    return env


def specloop_run(work: Path, fn: Function, model: str, api_base: str | None, env: dict[str, str],
                 extra: list[str] = ()) -> tuple[dict[str, Any] | None, str, float, int]:
    argv = [sys.executable, "-m", "specloop", "run", fn.file, "--target", fn.qualname, "--json", "--model", model,
            *(["--api-base", api_base] if api_base else []), *extra]
    started = time.monotonic()
    try:
        done = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT)
        out, err, rc = done.stdout, done.stderr, done.returncode
    except subprocess.TimeoutExpired as exc:
        out, err, rc = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or ""), \
            f"timeout after {RUN_TIMEOUT:g} s", -1
    seconds = time.monotonic() - started
    data = None
    try:
        data = json.loads(out[out.index("{"):]) if "{" in out else None
    except ValueError:
        data = None
    return data, err, seconds, rc


def read_traces(work: Path) -> list[dict[str, Any]]:
    recs = []
    for f in sorted((work / ".specloop" / "runs").glob("*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            try:
                recs.append(json.loads(line))
            except ValueError:
                pass
    return recs


def test_key(test_id: str, work: Path) -> str | None:
    """(file::class::name) of a user test id from a trace, parametrization dropped; None for doctests."""
    tid = test_id.split("[", 1)[0]
    file, sep, rest = tid.partition("::")
    if not sep or Path(file).name.startswith("test_specloop"):
        return None
    p = Path(file)
    if p.is_absolute():
        for base in (work, work.resolve()):
            try:
                p = p.relative_to(base)
                break
            except ValueError:
                continue
    return f"{p.as_posix()}::{rest}"


RAN = ("passed", "failed", "error")


def one_line(text: str | None, limit: int = 300) -> str:
    return " ".join(str(text or "").split())[:limit]


def oracle_job(fn: Function, pristine: Path, scratch: Path, keep: bool = False) -> dict[str, Any]:
    """Run one function in oracle mode; the row of the table."""
    work = prepare_copy(pristine, scratch / f"{fn.project}-{fn.qualname}-{os.getpid()}-{threading.get_ident()}")
    row: dict[str, Any] = {"project": fn.project, "file": fn.file, "function": fn.qualname,
                           "naming_tests": len(fn.naming_tests)}
    try:
        path = work / fn.file
        original_bytes = path.read_bytes()
        original = original_bytes.decode("utf-8")
        answer = fenced(original_function(original, fn))
        path.write_bytes(stub(original, fn).encode("utf-8"))
        before = snapshot(work)
        before.pop(fn.file)
        with ScriptedModel(model_name="oracle") as server:
            server.respond(lambda step, target, body: answer, step="generate")
            server.respond(lambda step, target, body: answer, step="fix")
            data, err, seconds, rc = specloop_run(work, fn, "openai/oracle", server.url, run_env({}))
            gens = server.requests_for("generate")
            prompt = "\n".join(str(m.get("content")) for m in gens[0].messages) if gens else ""
            row["requests"] = {s: len(server.requests_for(s)) for s in sorted({r.step or "?" for r in server.requests})}
            row["unanswered"] = len(server.unmatched)
        row["seconds"] = round(seconds, 2)
        row["exit"] = rc
        target = (data or {}).get("targets", [{}])[0] if (data or {}).get("targets") else {}
        row["status"] = target.get("status") or "no result"
        row["error"] = one_line(target.get("error") or (err.strip().splitlines() or [""])[-1] if row["status"] != "passed" else None)
        row["tests_json"] = target.get("tests")
        row["judged"] = target.get("judged")
        # (b) tests found and run, from the trace's first test run
        recs = read_traces(work)
        first = next((r for r in recs if r.get("kind") == "tests"), None)
        outcomes = (first or {}).get("outcomes") or []
        ran = {test_key(o["id"], work) for o in outcomes if o.get("outcome") in RAN} - {None}
        found = {test_key(o["id"], work) for o in outcomes} - {None}
        naming = set(fn.naming_tests)
        row["tests_run"] = len(ran & naming)
        row["tests_found"] = len(found & naming)
        row["tests_other"] = len(ran - naming)
        row["missed_tests"] = sorted(naming - ran)[:5]
        row["doctests_run"] = sum(1 for o in outcomes if test_key(o["id"], work) is None and o.get("outcome") in RAN)
        left = {test_key(i, work) for i in (first or {}).get("left_out") or []} - {None}
        row["left_out_by_bound"] = len(left & naming)        # found, not run: the engine's per-run bound
        row["test_runs"] = [round(float(r.get("seconds") or 0), 2) for r in recs if r.get("kind") == "tests"]
        row["verified"] = any(r.get("kind") == "verify" for r in recs)
        row["python"] = ((first or {}).get("python") or {}).get("source")
        failing = [o for o in outcomes if o.get("outcome") not in ("passed", "skipped")]
        if row["status"] != "passed":
            row["error"] = row["error"].replace(f"{work}/", "")
            if failing:
                row["first_failure"] = f"{test_key(failing[0]['id'], work) or failing[0]['id']}: " \
                    f"{one_line(failing[0].get('message'), 240)}"
            elif first and first.get("error"):
                row["first_failure"] = one_line(first["error"], 300)
        # (c) context recall
        row["uses"] = [{**asdict(u), "shown": in_prompt(u, prompt)} for u in fn.uses]
        row["prompt_chars"] = len(prompt)
        # (d) bytes outside the function
        after_bytes = path.read_bytes()
        after = after_bytes.decode("utf-8", errors="replace")
        row["identical"] = after_bytes == original_bytes
        row["written"] = bool(target.get("written"))
        o_parts, a_parts = outside(original, fn), outside(after, fn)
        if o_parts is None or a_parts is None:
            row["outside_changed"] = None if a_parts is None and o_parts is not None else 0
            if a_parts is None:
                row["outside_changed"] = changed_bytes(original, after)
        else:
            row["outside_changed"] = changed_bytes(o_parts[0], a_parts[0]) + changed_bytes(o_parts[1], a_parts[1])
        now = snapshot(work)
        now.pop(fn.file, None)
        row["other_files_changed"] = sorted(k for k in set(before) | set(now) if before.get(k) != now.get(k))
    except Exception as exc:  # one broken job must not stop the run
        row.setdefault("status", "bench error")
        row["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    return row


# -- model mode --------------------------------------------------------------------------------
def pytest_nodes(work: Path, keys: list[str]) -> list[str]:
    return sorted({k.split("[", 1)[0] for k in keys})


def run_pytest(work: Path, nodes: list[str]) -> dict[str, str]:
    """Outcome per node id of the tests (``-rA`` report lines)."""
    if not nodes:
        return {}
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(work / "src") if (work / "src").is_dir() else str(work)   # the project, not installed
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", "--tb=no",
                               "-o", "addopts=", *nodes], cwd=work, env=env, capture_output=True, text=True,
                              timeout=GRADE_TIMEOUT)
    except subprocess.TimeoutExpired:
        return {n: "timeout" for n in nodes}
    out: dict[str, str] = {}
    for line in done.stdout.splitlines():
        m = re.match(r"(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS) (\S+)", line)
        if m:
            key = m.group(2).split("[", 1)[0]
            state = m.group(1).lower()
            if out.get(key, "passed") == "passed" or state != "passed":
                out[key] = state if out.get(key) in (None, "passed") else out[key]
    return out


def model_job(fn: Function, pristine: Path, scratch: Path, model: str, api_base: str | None,
              baseline: dict[str, str], context: bool) -> dict[str, Any]:
    work = prepare_copy(pristine, scratch / f"{fn.project}-{fn.qualname}-{'ctx' if context else 'noctx'}-{os.getpid()}")
    row: dict[str, Any] = {"project": fn.project, "function": fn.qualname, "context": context}
    try:
        path = work / fn.file
        original = path.read_text(encoding="utf-8")
        path.write_text(stub(original, fn), encoding="utf-8")
        settings = {} if context else {"SPECLOOP_CONTEXT_TOKENS": "200"}
        data, err, seconds, rc = specloop_run(work, fn, model, api_base, run_env(settings), ["--write-failing"])
        target = (data or {}).get("targets", [{}])[0] if (data or {}).get("targets") else {}
        row.update(status=target.get("status") or "no result", seconds=round(seconds, 2),
                   tokens=target.get("tokens"), error=one_line(target.get("error") or (None if data else err[-300:])))
        graded = [n for n, s in baseline.items() if s == "passed"]
        results = run_pytest(work, graded)
        row["graded_tests"] = len(graded)
        row["graded_passed"] = sum(results.get(n) == "passed" for n in graded)
        row["pass"] = bool(graded) and row["graded_passed"] == len(graded)
    except Exception as exc:
        row.setdefault("status", "bench error")
        row["error"] = f"{type(exc).__name__}: {exc}"
        row["pass"] = False
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return row


# -- summary and report ----------------------------------------------------------------------------
def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    same = [u for r in rows for u in r.get("uses", []) if u["where"] == "same-module"]
    cross = [u for r in rows for u in r.get("uses", []) if u["where"] == "cross-file"]
    naming = sum(r.get("naming_tests", 0) for r in rows)
    ran = sum(r.get("tests_run", 0) for r in rows)
    judged = [r.get("judged") or {} for r in rows]
    by_value, in_process = sum(j.get("by_value", 0) for j in judged), sum(j.get("in_process", 0) for j in judged)
    return {
        "functions": len(rows),
        "passed": sum(r.get("status") == "passed" for r in rows),
        "passed_share": _ratio(sum(r.get("status") == "passed" for r in rows), len(rows)),
        "naming_tests": naming, "tests_run": ran, "tests_run_share": _ratio(ran, naming),
        "functions_all_tests_run": sum(r.get("tests_run", 0) == r.get("naming_tests", 0) for r in rows),
        "same_module_uses": len(same), "same_module_shown": sum(u["shown"] for u in same),
        "same_module_recall": _ratio(sum(u["shown"] for u in same), len(same)),
        "cross_file_uses": len(cross), "cross_file_shown": sum(u["shown"] for u in cross),
        "cross_file_recall": _ratio(sum(u["shown"] for u in cross), len(cross)),
        "identical_files": sum(bool(r.get("identical")) for r in rows),
        "outside_changed_functions": sum(bool(r.get("outside_changed")) for r in rows),
        "outside_changed_bytes": sum(r.get("outside_changed") or 0 for r in rows),
        "other_files_changed": sum(bool(r.get("other_files_changed")) for r in rows),
        "judged_by_value": by_value, "judged_in_process": in_process,
        "judged_by_value_share": _ratio(by_value, by_value + in_process),
        "seconds_total": round(sum(r.get("seconds", 0) for r in rows), 1),
        "seconds_median": sorted(r.get("seconds", 0) for r in rows)[len(rows) // 2] if rows else None,
    }


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


CAUSES = (
    (r"untested", "no test found (untested)"),
    (r"doctest.*NameError", "a doctest example's names are missing (the project's conftest doctest_namespace)"),
    (r"security policy", "the security policy refused the original code"),
    (r"does not parse|unusable", "the reply parser rejected the original function"),
    (r"ModuleNotFoundError|No module named|ImportError", "the project did not import in the test run"),
    (r"test_specloop_doctests|doctest", "a doctest example failed"),
    (r"verification", "the verification run failed"),
    (r"timeout|timed out", "timeout"),
    (r"::", "a project test failed on the original code"),
)


def failure_cause(row: dict[str, Any]) -> str:
    if row.get("status") == "passed":
        return ""
    text = f"{row.get('error') or ''} {row.get('first_failure') or ''}"
    return next((cause for pattern, cause in CAUSES if re.search(pattern, text)), "other: " + text[:80])


def markdown(data: dict[str, Any]) -> str:
    rows = data["rows"]
    projects = sorted({r["project"] for r in rows})
    lines = [f"{data['title']}; engine {data['engine']['commit']}{'+dirty' if data['engine']['server_dirty'] else ''}; "
             f"{data['date'][:10]}; {data['machine']['cores']} cores; {data['seconds']:.0f} s in all.", ""]
    if data["mode"] == "oracle":
        lines += ["| project | functions | (a) passed | (b) naming tests run | functions with all run "
                  "| (c) same-module recall | (c) cross-file recall | (d) files identical | (d) bytes changed outside "
                  "| other files changed | (e) s median | s total |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for p in [*projects, None]:
            s = summarize([r for r in rows if p is None or r["project"] == p])
            name = f"**total**" if p is None else f"{p} {data['versions'].get(p, '')}".strip()
            lines.append(
                f"| {name} | {s['functions']} | {s['passed']} ({_pct(s['passed_share'])}) | {s['tests_run']}/{s['naming_tests']} "
                f"({_pct(s['tests_run_share'])}) | {s['functions_all_tests_run']} | {s['same_module_shown']}/{s['same_module_uses']} "
                f"({_pct(s['same_module_recall'])}) | {s['cross_file_shown']}/{s['cross_file_uses']} "
                f"({_pct(s['cross_file_recall'])}) | {s['identical_files']}/{s['functions']} | {s['outside_changed_bytes']} "
                f"| {s['other_files_changed']} | {s['seconds_median']} | {s['seconds_total']} |")
        total = summarize(rows)
        lines += ["", f"Authoritative tests of the results judged by value: {total['judged_by_value']} of "
                  f"{total['judged_by_value'] + total['judged_in_process']} ({_pct(total['judged_by_value_share'])})."]
        fails = [r for r in rows if r.get("status") != "passed"]
        causes: dict[str, list[dict[str, Any]]] = {}
        for r in fails:
            causes.setdefault(failure_cause(r), []).append(r)
        lines += ["", f"Not passed: {len(fails)}."]
        for cause, rs in sorted(causes.items(), key=lambda kv: -len(kv[1])):
            lines.append(f"* {cause}: {len(rs)} — " + "; ".join(
                f"`{r['file']}` `{r['function']}`: {r.get('first_failure') or r.get('error') or r.get('status')}"[:260]
                for r in rs[:3]))
        missed = [r for r in rows if r.get("tests_run", 0) < r.get("naming_tests", 0)]
        lines += ["", f"Functions with a naming test not run: {len(missed)}."]
        for r in missed[:12]:
            bound = f" ({r['left_out_by_bound']} found but left out by the per-run bound)" \
                if r.get("left_out_by_bound") else ""
            lines.append(f"* `{r['file']}` `{r['function']}`: {r.get('tests_run')}/{r.get('naming_tests')} run{bound}, "
                         f"e.g. not run: {', '.join(r.get('missed_tests', [])[:2])}")
        unseen = [(r, u) for r in rows for u in r.get("uses", []) if not u["shown"]]
        lines += ["", f"Definitions used but not in the prompt: {len(unseen)}."]
        for r, u in unseen[:15]:
            lines.append(f"* `{r['function']}` ({r['file']}) uses {u['kind']} `{u['name']}` of `{u['module']}` "
                         f"({u['where']}); prompt {r.get('prompt_chars')} chars")
        changed = [r for r in rows if r.get("outside_changed") or r.get("other_files_changed")
                   or (r.get("written") and not r.get("identical"))]
        lines += ["", f"Files changed other than the function's body: {len(changed)}."]
        for r in changed[:10]:
            lines.append(f"* `{r['file']}` `{r['function']}`: {r.get('outside_changed')} bytes outside; "
                         f"other files {r.get('other_files_changed')}")
    else:
        lines += ["| project | functions | context | pass@1 | status passed | tokens / function | s / function |",
                  "| --- | ---: | --- | ---: | ---: | ---: | ---: |"]
        for p in [*projects, None]:
            for ctx in (True, False):
                rs = [r for r in rows if (p is None or r["project"] == p) and r["context"] == ctx]
                if not rs:
                    continue
                tok = [sum((r.get("tokens") or {}).values()) for r in rs]
                off = "off (200 tokens)" if data.get("sees_context", True) else "none (the model is shown none)"
                lines.append(f"| {'**total**' if p is None else p} | {len(rs)} | {'on' if ctx else off} "
                             f"| {sum(r['pass'] for r in rs)}/{len(rs)} ({_pct(_ratio(sum(r['pass'] for r in rs), len(rs)))}) "
                             f"| {sum(r.get('status') == 'passed' for r in rs)} | {sum(tok) / len(rs):,.0f} "
                             f"| {sum(r.get('seconds', 0) for r in rs) / len(rs):.1f} |")
    return "\n".join(lines) + "\n"


def engine_version() -> dict[str, Any]:
    def git(*argv: str) -> str:
        try:
            return subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    return {"commit": git("rev-parse", "--short", "HEAD") or None,
            "server_dirty": bool(git("status", "--porcelain", "--", "server/specloop", ":!server/specloop/lsp"))}


# -- the run -----------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pins", type=Path, default=PINS, help="requirements file with hashes (NAME==VER --hash=...)")
    ap.add_argument("--cache", type=Path, default=CACHE, help="where sdists are kept and unpacked")
    ap.add_argument("--projects", default=None, help="comma-separated project names (default: every pin)")
    ap.add_argument("--functions", default=None, help="comma-separated qualnames to run (default: all chosen)")
    ap.add_argument("--repo", type=Path, default=None, help="a checkout of your own instead of the pins (copied first)")
    ap.add_argument("--limit", type=int, default=None, help="at most N functions per project")
    ap.add_argument("--jobs", type=int, default=2, help="functions run at once")
    ap.add_argument("--model", default=None, help="model mode with this litellm model (default: oracle mode); "
                    "'local' is specloop-local/smollm2")
    ap.add_argument("--api-base", default=None)
    ap.add_argument("--keep", action="store_true", help="keep each function's project copy (oracle mode)")
    ap.add_argument("--list", action="store_true", help="list the chosen functions and exit")
    ap.add_argument("--out", default=None, help="output prefix (default bench/results/realrepo-oracle or -model)")
    return ap.parse_args(argv)


def choose(args: argparse.Namespace) -> tuple[list[tuple[Function, Path]], dict[str, str]]:
    """(function, pristine project folder) to run, and the projects' versions."""
    args.repo_copy = None
    if args.repo is not None:
        repo = args.repo.resolve()
        args.repo_copy = Path(tempfile.mkdtemp(prefix="realrepo-repo-"))
        pristine = args.repo_copy / repo.name
        shutil.copytree(repo, pristine, symlinks=True, ignore=shutil.ignore_patterns(
            ".specloop", "__pycache__", ".pytest_cache", ".venv", "venv", "node_modules", ".tox", ".mypy_cache"))
        projects = {repo.name: pristine}
        versions = {repo.name: "(checkout)"}
    else:
        pins = read_pins(args.pins)
        if args.projects:
            wanted = {norm(p) for p in args.projects.split(",")}
            pins = [p for p in pins if norm(p.name) in wanted]
        sdists = fetch(pins, args.cache)
        projects = {p.name: unpacked(sdists[p.name], args.cache) for p in pins}
        versions = {p.name: p.version for p in pins}
    chosen: list[tuple[Function, Path]] = []
    only = set(args.functions.split(",")) if args.functions else None
    for name, root in projects.items():
        fns = [f for f in functions(name, root) if only is None or f.qualname in only]
        chosen += [(f, root) for f in fns[: args.limit]]
    return chosen, versions


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.model == "local":
        args.model = "specloop-local/smollm2"
    mode = "oracle" if args.model is None else "model"
    chosen, versions = choose(args)
    if args.list:
        for f, _ in chosen:
            cross = sum(u.where == "cross-file" for u in f.uses)
            print(f"{f.project:18} {f.file:40} {f.qualname:40} tests {len(f.naming_tests):3}  uses {len(f.uses)} "
                  f"({cross} cross-file)")
        print(f"{len(chosen)} functions")
        if args.repo_copy is not None:
            shutil.rmtree(args.repo_copy, ignore_errors=True)
        return 0
    out = Path(args.out or ROOT / "bench" / "results" / f"realrepo-{mode}")
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="realrepo-"))
    data: dict[str, Any] = {
        "title": ("Oracle mode (the model answers the original function)" if mode == "oracle"
                  else f"Model mode, {args.model}"),
        "mode": mode, "model": args.model, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "engine": engine_version(), "versions": versions, "repo": str(args.repo) if args.repo else None,
        "machine": {"arch": platform.machine(), "cores": os.cpu_count(), "python": platform.python_version()},
        "settings": {"model_tests": False, "critic": False, "keep_tests": False}, "rows": [], "seconds": 0.0,
    }
    lock = threading.Lock()
    started = time.monotonic()

    def record(row: dict[str, Any]) -> None:
        with lock:
            data["rows"].append(row)
            data["seconds"] = round(time.monotonic() - started, 1)
            tmp = out.with_suffix(".json.tmp")
            tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
            os.replace(tmp, out.with_suffix(".json"))
            extra = "" if row.get("status") == "passed" else f"  {row.get('first_failure') or row.get('error') or ''}"[:200]
            tests = f" tests {row.get('tests_run')}/{row.get('naming_tests')}" if mode == "oracle" else \
                f" pass={row.get('pass')} ctx={row.get('context')}"
            print(f"[{len(data['rows'])}] {row['project']} {row['function']}: {row.get('status')}{tests} "
                  f"{row.get('seconds', 0):.1f}s{extra}", flush=True)

    try:
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            if mode == "oracle":
                futures = [pool.submit(oracle_job, f, root, scratch, args.keep) for f, root in chosen]
                for fut in futures:
                    record(fut.result())
            else:
                os.environ.setdefault("OPENAI_API_KEY", FAKE_KEY)
                from specloop.model.client import capabilities
                sees_context = capabilities(args.model).module_context
                data["sees_context"] = sees_context
                if not sees_context:   # e.g. the embedded 135M model: no context whatever the setting
                    print(f"{args.model} is never shown context (module_context off): one run per function",
                          flush=True)
                futures = []
                for f, root in chosen:
                    base = run_pytest(root, pytest_nodes(root, f.naming_tests))
                    for ctx in ((True, False) if sees_context else (False,)):
                        futures.append(pool.submit(model_job, f, root, scratch, args.model, args.api_base, base, ctx))
                for fut in futures:
                    record(fut.result())
    finally:
        if args.keep:
            print(f"project copies kept in {scratch}", flush=True)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
        if args.repo_copy is not None:
            shutil.rmtree(args.repo_copy, ignore_errors=True)
    data["rows"].sort(key=lambda r: (r["project"], r.get("file", ""), r["function"], not r.get("context", True)))
    data["summary"] = summarize(data["rows"]) if mode == "oracle" else None
    data["seconds"] = round(time.monotonic() - started, 1)
    out.with_suffix(".json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    table = markdown(data)
    out.with_suffix(".md").write_text(table, encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
