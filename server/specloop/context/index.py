"""An index of the workspace's Python definitions, so that the context of a job can show
what the target's module imports from other files of the project (issue 18).

* A module's summary (:class:`ModuleInfo`) is made with ``ast``: its top-level functions
  and classes (:mod:`specloop.source.outline`'s signature or class outline), module-level names
  (``NAME = value`` as written, cut where long; aliases ``foo = bar`` too; ``__version__``
  and other dunder names as well, so that an import of one finds its value, but the list of
  a module's names leaves them out), and the names its imports bind.  Statements inside top-level ``if``/``try``/``with`` blocks count.
* Lazy: nothing is parsed before it is needed.  A query resolves the imports of one
  module to files of the workspace and parses those (and, for a re-export such as
  ``from .core import f`` in a package's ``__init__.py``, the files it leads to, at most
  :data:`MAX_HOPS` deep).  A 5,000-file workspace costs one query the few files it
  imports, not 5,000 parses.
* Kept current: a summary is remembered per file with the file's (mtime_ns, size) and
  checked with one ``stat`` at each query; :func:`forget` drops a file (the server calls it
  when a document changes or is saved) and :func:`update` summarizes a text in its place.
  At most :data:`MAX_KEPT` summaries are kept (least recently used dropped).
* Where a module is: ``from .mod import f`` and ``from . import x`` from the importing
  file's folder; ``from pkg.mod import f`` / ``import pkg.mod as m`` in the folder holding
  the importing file's top package, then the workspace root, then ``src/``, then the
  importing file's own folder, then every folder of the workspace that holds a top-level
  package (found by one walk of :func:`specloop.folders.python_files`, at most
  :data:`MAX_FILES` files, remembered for :data:`ROOTS_TTL` seconds; made only when the
  first places miss).  Where a module was found is remembered per (importing folder,
  module): a file found is checked with one ``stat``, a miss is looked for again after
  :data:`ROOTS_TTL` seconds (a module created meanwhile is seen by then).  Standard
  library names are not looked for.  Files outside the
  workspace (installed packages) are not indexed: their names stay import lines.
* Everything here is synchronous (file reads, parses, a walk) and thread-safe: an event
  loop calls the ``*_async`` wrappers, which run in a worker thread.
"""

from __future__ import annotations

import ast
import asyncio
import os
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..folders import python_files
from ..source.outline import FUNCTIONS, assigned_names, describe, top_statements
from ..source.spec import _parse

__all__ = ["Definition", "Import", "ModuleInfo", "ProjectIndex", "index_for", "summarize", "forget", "update",
           "warm", "warm_async", "imported_definitions", "imported_definitions_async"]

MAX_FILES = 5000
MAX_HOPS = 6
MAX_KEPT = 4000
ROOTS_TTL = 30.0
STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | {"__future__"}

parses = 0              # summaries made from a file's text (tests count them)
_lock = threading.Lock()
_infos: OrderedDict[str, tuple[tuple[int, int], ModuleInfo]] = OrderedDict()
_indexes: dict[str, ProjectIndex] = {}


@dataclass(frozen=True)
class Definition:
    kind: str        # "function", "class", "name" (a module-level assignment), "module"
    name: str
    file: Path
    line: int        # 1-based
    text: str        # signature / class outline / the statement / the names a module defines


@dataclass(frozen=True)
class Import:
    local: str              # the name the import binds in the module
    module: str             # as written, without the leading dots ("" for "from . import x")
    name: str | None        # the imported name; None for "import a.b [as m]"
    level: int = 0          # leading dots
    line: int = 0


@dataclass
class ModuleInfo:
    path: Path
    defs: dict[str, Definition] = field(default_factory=dict)
    imports: dict[str, Import] = field(default_factory=dict)
    stars: list[Import] = field(default_factory=list)
    nodes: dict[str, ast.stmt] = field(default_factory=dict)     # lazy summaries only

    def names(self, limit: int = 300) -> str:
        """The names the module defines, comma-separated, cut after ``limit`` characters."""
        names = ", ".join(n for n in self.defs if not _dunder(n))
        return names[:limit] + (" ..." if len(names) > limit else "")


def _dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def summarize(source: str, path: Path, tree: ast.Module | None = None, lazy: bool = False) -> ModuleInfo:
    """The definitions and imports of a module's text (an empty summary if it does not parse).
    ``lazy``: the definitions' texts are left empty and their nodes kept in ``nodes`` (for a
    caller that describes only the few it shows)."""
    info = ModuleInfo(Path(path))
    if tree is None:
        try:
            tree = _parse(source)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return info
    lines = source.splitlines()

    def add(kind: str, name: str, node: ast.stmt) -> None:
        info.defs[name] = Definition(kind, name, info.path, node.lineno, "" if lazy else describe(node, lines))
        if lazy:
            info.nodes[name] = node

    for node in top_statements(tree):
        if isinstance(node, (*FUNCTIONS, ast.ClassDef)):     # a def over a plain name; else the first
            if getattr(info.defs.get(node.name), "kind", "name") == "name":
                add("class" if isinstance(node, ast.ClassDef) else "function", node.name, node)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                module = alias.name if alias.asname else alias.name.split(".")[0]
                info.imports.setdefault(local, Import(local, module, None, 0, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                imp = Import(alias.asname or alias.name, node.module or "", alias.name, node.level, node.lineno)
                if alias.name == "*":
                    info.stars.append(imp)
                else:
                    info.imports.setdefault(imp.local, imp)
        else:
            for name in assigned_names(node):      # dunders too: `from .__about__ import __version__`
                if name not in info.defs:
                    add("name", name, node)
    return info


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def module_info(path: Path) -> ModuleInfo | None:
    """The summary of the file at ``path``, parsed again only when its (mtime, size) changed."""
    global parses
    key = str(path)
    stamp = _stamp(path)
    if stamp is None:
        forget(path)
        return None
    with _lock:
        hit = _infos.get(key)
        if hit is not None and hit[0] == stamp:
            _infos.move_to_end(key)
            return hit[1]
    try:
        source = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    info = summarize(source, path)
    with _lock:
        parses += 1
        _remember(key, stamp, info)
    return info


def _remember(key: str, stamp: tuple[int, int], info: ModuleInfo) -> None:
    _infos[key] = (stamp, info)
    _infos.move_to_end(key)
    while len(_infos) > MAX_KEPT:
        _infos.popitem(last=False)


def forget(path: str | os.PathLike[str]) -> None:
    """Drop what is remembered of ``path`` (it changed or went away)."""
    with _lock:
        _infos.pop(str(Path(path).resolve()), None)
        _infos.pop(str(path), None)


def update(path: str | os.PathLike[str], text: str) -> None:
    """Remember ``text`` as the content of ``path`` (e.g. an editor's unsaved buffer) until the
    file on disk changes."""
    global parses
    path = Path(path).resolve()
    stamp = _stamp(path)
    if stamp is None:
        return
    info = summarize(text, path)
    with _lock:
        parses += 1
        _remember(str(path), stamp, info)


class ProjectIndex:
    """The definitions of one workspace, found through the imports of its modules."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self._roots: tuple[float, list[Path]] | None = None
        self._roots_lock = threading.Lock()
        self._found: dict[tuple[str, str, int], tuple[float, Path | None]] = {}

    # -- where modules are ------------------------------------------------------------------

    def inside(self, path: Path) -> bool:
        return path == self.root or self.root in path.parents

    def rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.name

    def source_roots(self) -> list[Path]:
        """Folders of the workspace that hold a top-level package (one walk, remembered)."""
        now = time.monotonic()
        with self._roots_lock:
            if self._roots is not None and now - self._roots[0] <= ROOTS_TTL:
                return self._roots[1]
            found: dict[Path, None] = {}
            for seen, (folder, name) in enumerate(python_files(self.root), 1):
                if seen > MAX_FILES:
                    break
                if name == "__init__.py" and not os.path.exists(os.path.join(os.path.dirname(folder), "__init__.py")):
                    found[Path(folder).parent] = None
            self._roots = (now, list(found))
            return self._roots[1]

    @staticmethod
    def _package_root(path: Path) -> Path:
        folder = path.parent
        while (folder / "__init__.py").exists() and folder.parent != folder:
            folder = folder.parent
        return folder

    @staticmethod
    def _module_in(base: Path, parts: list[str]) -> Path | None:
        if not parts:
            init = base / "__init__.py"
            return init if init.is_file() else None
        stem = base.joinpath(*parts)
        for candidate in (stem.with_name(stem.name + ".py"), stem / "__init__.py"):
            if candidate.is_file():
                return candidate
        return None

    def module_file(self, module: str, importer: Path | None = None, level: int = 0) -> Path | None:
        """The workspace file of ``module`` as imported from ``importer`` (None: not in the
        workspace).  Remembered per (importer's folder, module, level): a file found is checked
        to still be there; a miss is looked for again after ROOTS_TTL seconds."""
        key = (str(importer.parent) if importer is not None else "", module, level)
        now = time.monotonic()
        with self._roots_lock:
            hit = self._found.get(key)
        if hit is not None and (os.path.isfile(hit[1]) if hit[1] is not None else now - hit[0] <= ROOTS_TTL):
            return hit[1]
        found = self._find_module(module, importer, level)
        with self._roots_lock:
            self._found[key] = (now, found)
        return found

    def _find_module(self, module: str, importer: Path | None, level: int) -> Path | None:
        parts = [p for p in module.split(".") if p]
        if level:
            if importer is None:
                return None
            base = importer.parent
            for _ in range(level - 1):
                base = base.parent
            found = self._module_in(base, parts)
            return found.resolve() if found is not None and self.inside(found.resolve()) else None
        if not parts or parts[0] in STDLIB:
            return None
        first = [self.root, self.root / "src"]
        if importer is not None:
            first = [self._package_root(importer), *first, importer.parent]
        tried: set[Path] = set()
        for bases in (first, None):
            for base in bases if bases is not None else self.source_roots():
                if base in tried:
                    continue
                tried.add(base)
                found = self._module_in(base, parts)
                if found is not None and self.inside(found.resolve()):
                    return found.resolve()
        return None

    # -- what names are ---------------------------------------------------------------------

    def _module_definition(self, file: Path, name: str) -> Definition:
        info = module_info(file)
        return Definition("module", name, file, 1, info.names() if info is not None else "")

    def resolve(self, importer: Path, imp: Import, hops: int = 0) -> Definition | None:
        """What ``imp`` (an import of the module at ``importer``) binds, if it is the project's."""
        if hops > MAX_HOPS:
            return None
        if imp.name is None:
            file = self.module_file(imp.module, importer, 0)
            return self._module_definition(file, imp.local) if file is not None else None
        file = self.module_file(imp.module, importer, imp.level)
        if file is not None:
            found = self.member(file, imp.name, hops + 1)
            if found is not None:
                return found
        sub = self.module_file(f"{imp.module}.{imp.name}" if imp.module else imp.name, importer, imp.level)
        return self._module_definition(sub, imp.name) if sub is not None else None

    def member(self, file: Path, name: str, hops: int = 0) -> Definition | None:
        """The definition of ``name`` in the module at ``file``: defined there, imported into it
        (a re-export), or a submodule of its package."""
        if hops > MAX_HOPS:
            return None
        info = module_info(file)
        if info is None:
            return None
        if name in info.defs:
            return info.defs[name]
        if name in info.imports:
            return self.resolve(file, info.imports[name], hops + 1)
        if file.name == "__init__.py":
            sub = self._module_in(file.parent, [name])
            if sub is not None:
                return self._module_definition(sub.resolve(), name)
        for star in info.stars:
            source = self.module_file(star.module, file, star.level)
            if source is not None:
                found = self.member(source, name, hops + 1)
                if found is not None:
                    return found
        return None


def index_for(workspace: Path) -> ProjectIndex:
    key = str(Path(workspace).resolve())
    with _lock:
        index = _indexes.get(key)
        if index is None:
            index = _indexes[key] = ProjectIndex(Path(key))
        return index


def imported_definitions(path: Path, workspace: Path, imports: Iterable[Import],
                         members: Iterable[tuple[str, str]] = ()) -> dict[str, Definition]:
    """The project definitions behind ``imports`` (of the module at ``path``), by local name,
    and for each (local name of a module import, attribute) in ``members`` the attribute's
    definition, keyed ``"local.attribute"``."""
    index = index_for(workspace)
    path = Path(path).resolve()
    out: dict[str, Definition] = {}
    for imp in imports:
        found = index.resolve(path, imp)
        if found is not None:
            out[imp.local] = found
    for local, attr in members:
        base = out.get(local)
        if base is not None and base.kind == "module":
            found = index.member(base.file, attr)
            if found is not None:
                out[f"{local}.{attr}"] = found
    return out


async def imported_definitions_async(path: Path, workspace: Path, imports: Iterable[Import],
                                     members: Iterable[tuple[str, str]] = ()) -> dict[str, Definition]:
    return await asyncio.to_thread(imported_definitions, path, workspace, list(imports), list(members))


def import_lines(text: str) -> str:
    """The import statements of a module's text (those at the start of a line, and indented
    ones of ``if``/``try`` blocks), found without parsing the whole text."""
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        i += 1
        if not (line.startswith("import ") or line.startswith("from ")):
            continue
        block = [line]
        while i < len(lines) and (block[-1].endswith("\\") or
                                  "".join(block).count("(") > "".join(block).count(")")):
            block.append(lines[i].strip())
            i += 1
        out.append(" ".join(b.rstrip("\\") for b in block))
    return "\n".join(out)


def warm(path: Path, workspace: Path, text: str | None = None) -> int:
    """Index what the module at ``path`` (its ``text``, else the file) imports from the
    workspace ahead of a job, and find the workspace's package folders; only the module's
    import lines are parsed.  Returns how many project definitions it imports."""
    path = Path(path).resolve()
    if text is None:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return 0
    tree = ast.Module(body=[], type_ignores=[])
    for line in import_lines(text).splitlines():     # one by one: prose in a docstring may start "from "
        try:
            tree.body += _parse(line).body
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            continue
    info = summarize("", path, tree)
    index_for(workspace).source_roots()
    return len(imported_definitions(path, workspace, info.imports.values()))


async def warm_async(path: Path, workspace: Path, text: str | None = None) -> int:
    return await asyncio.to_thread(warm, path, workspace, text)
