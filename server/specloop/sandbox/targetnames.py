"""Every dotted name the target goes by: its own module's, and those of the modules of its
package that re-export it, through chains of re-exports (:func:`_aliases`); and when a
name a test uses is one of them (:func:`_same`).

A module of the package is parsed only when its text contains one of the names found so
far (or a star import); what it can re-export is remembered with its text
(:mod:`testfiles`), per (path, mtime, size).
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

from ..source.outline import top_statements
from ..source.spec import _parse
from .collection import _chain, _from_base
from .projectenv import module_name_for
from .testfiles import _files, _lock, _read


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
