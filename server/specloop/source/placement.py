"""Placing a job's result into text: where it goes now, whether it still fits, and where
kept tests go.  Used alike by ``specloop run`` and the language server."""

from __future__ import annotations

import ast
import re
from dataclasses import replace
from pathlib import Path

from .candidate import parse_candidate
from .edits import TextEdit, apply_edits, implementation_edits, import_edit
from .modulespec import find_module_target, module_edits
from ..results import JobResult
from ..settings import Settings
from .spec import find_target


class StaleTarget(Exception):
    """The target changed (or vanished) since the job started."""


def result_edits(source_now: str, result: JobResult) -> list[TextEdit]:
    """Edits placing ``result`` into the document as it is now.

    Raises :class:`StaleTarget` when the target is gone, is no longer a stub,
    or its header/spec changed since the job started.  A class result
    (:class:`specloop.source.classspec.ClassResult`) goes to :func:`class_result_edits`, a module
    result to :func:`module_result_edits`."""
    if getattr(result, "kind", None) == "class":
        return class_result_edits(source_now, result)
    if getattr(result, "kind", None) == "module":
        return module_result_edits(source_now, result)
    target = find_target(source_now, result.name)
    if target is None:
        raise StaleTarget(f"{result.name} is gone or no longer a stub")
    if target.fingerprint != result.fingerprint:
        raise StaleTarget(f"the spec of {result.name} changed while specloop worked")
    return result_edits_anyway(source_now, result)


def result_edits_anyway(source_now: str, result: JobResult) -> list[TextEdit]:
    """Like :func:`result_edits` but applies over a changed spec (the target must still be a stub)."""
    if getattr(result, "kind", None) == "class":
        return class_result_edits(source_now, result, anyway=True)
    if getattr(result, "kind", None) == "module":
        return module_result_edits(source_now, result, anyway=True)
    if result.function_code is None:
        raise StaleTarget(f"no code to apply for {result.name}")
    target = find_target(source_now, result.name)
    if target is None:
        raise StaleTarget(f"{result.name} is gone or no longer a stub")
    candidate = replace(parse_candidate(result.function_code, target), imports=list(result.imports))
    return implementation_edits(source_now, target, candidate)


def placed_text(text: str, result: JobResult, encoding: str = "utf-8") -> str:
    """``text`` with ``result`` placed where its target is now (:func:`result_edits`).
    Raises :class:`StaleTarget`, or ValueError: overlapping edits, or code that the file's
    ``encoding`` cannot hold (a passing result with "…" in a latin-1 file)."""
    placed = apply_edits(text, result_edits(text, result))
    try:
        placed.encode(encoding)
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start:exc.end]
        raise ValueError(f"its code holds {bad!r}, which the file's encoding ({encoding}) cannot hold") from None
    return placed


def class_result_edits(source_now: str, result: JobResult, *, anyway: bool = False) -> list[TextEdit]:
    """One set of edits placing a class result: the class body after its docstring replaced,
    the components' imports merged.  The same rules as for a function: the class must still
    be a class spec (docstring and method stubs only) and, unless ``anyway``, its header,
    docstring and method stubs unchanged; its body indentation must be the one the result has."""
    from .classspec import find_class_target

    target = find_class_target(source_now, result.name)
    if target is None:
        raise StaleTarget(f"{result.name} is gone or no longer a class spec")
    if not anyway and target.fingerprint != result.fingerprint:
        raise StaleTarget(f"the spec of {result.name} changed while specloop worked")
    body = getattr(result, "class_body", None)
    if body is None:
        raise StaleTarget(f"no code to apply for {result.name}")
    if target.body_indent != getattr(result, "body_indent", target.body_indent):
        raise StaleTarget(f"the indentation of {result.name} changed while specloop worked")
    body = body.replace("\r\n", "\n").replace("\r", "\n").replace("\n", target.newline)
    edits = [TextEdit(target.body_range, body)]
    extra = import_edit(source_now, list(result.imports))
    if extra is not None:
        edits.append(extra)
    return sorted(edits, key=lambda e: (e.range.start, e.range.end))


def module_result_edits(source_now: str, result: JobResult, *, anyway: bool = False) -> list[TextEdit]:
    """One set of edits placing a module result (:func:`specloop.modulespec.module_edits`):
    the functions below the block (or below the module's header), the block marked done,
    the components' imports merged into the import block.  Stale (``placement.StaleTarget``) when the
    block is gone, its spec changed (unless ``anyway``), or the module now defines one of
    the functions."""
    target = find_module_target(source_now, result.name, None if anyway else result.fingerprint)
    if target is None:
        raise StaleTarget(f"{result.name} is gone or its spec changed while specloop worked")
    if result.function_code is None:
        raise StaleTarget(f"no code to apply for {result.name}")
    taken = [n for n in getattr(result, "functions", []) if n in target.defined]
    if taken:
        raise StaleTarget(f"the module defines {', '.join(taken)} already")
    return module_edits(source_now, target, result.function_code, list(result.imports), done=True)


def kept_tests_path(workspace: Path, path: Path, settings: Settings) -> Path:
    """Where a job's kept model tests go (``settings.tests_path``, relative to the workspace)."""
    return Path(workspace) / settings.tests_path.format(module=Path(path).stem)


def merged_tests(old: str, kept: str) -> str | None:
    """Kept tests added to what the tests file holds.  Test functions and classes whose
    name the file has already, and statements it holds word for word (imports), are left
    out: a "Fix" job keeps the same tests again.  ``None`` when nothing is new."""
    if not old.strip():
        return kept.rstrip("\n") + "\n"
    try:
        old_tree, new_tree = ast.parse(old), ast.parse(kept)
    except (SyntaxError, ValueError):
        return None if kept.strip() in old else old.rstrip("\n") + "\n\n\n" + kept.rstrip("\n") + "\n"
    named = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    names = {n.name for n in old_tree.body if isinstance(n, named)}
    old_lines = {line.strip() for line in old.splitlines()}
    lines = kept.splitlines(keepends=True)
    drop: set[int] = set()
    for node in new_tree.body:
        first = min([d.lineno for d in getattr(node, "decorator_list", [])] + [node.lineno]) - 1
        span = range(first, node.end_lineno or node.lineno)
        same_name = isinstance(node, named) and node.name in names
        if same_name or all(lines[i].strip() in old_lines for i in span if lines[i].strip()):
            drop.update(span)
    added = "".join(line for i, line in enumerate(lines) if i not in drop)
    added = re.sub(r"\n{4,}", "\n\n\n", added).strip("\n")
    if not any(line.strip() and not line.lstrip().startswith("#") for line in added.splitlines()):
        return None
    return old.rstrip("\n") + "\n\n\n" + added + "\n"


def component_tests(parts: list[tuple[str, str]]) -> str | None:
    """The kept model tests of a class's (or module spec's) components, ``(component name,
    its kept tests)`` in plan order, as one test module: each part merged after the ones
    before (:func:`merged_tests`).  A test function or class whose name an earlier part
    uses already is renamed with its component's name (``test_empty`` of ``push`` becomes
    ``test_empty_push``), so no component's tests are lost; ``None`` when nothing is kept."""
    text = ""
    for component, kept in parts:
        text = merged_tests(text, _renamed(kept, text, component.rsplit(".", 1)[-1].strip("_") or "c")) or text
    return text or None


def _renamed(kept: str, before: str, suffix: str) -> str:
    """``kept`` with its top-level tests whose names ``before`` defines renamed ``NAME_suffix``."""
    try:
        tree, old = ast.parse(kept), ast.parse(before)
    except (SyntaxError, ValueError):
        return kept
    named = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    taken = {n.name for n in old.body if isinstance(n, named)}
    used = taken | {n.name for n in tree.body if isinstance(n, named)}
    lines = kept.splitlines(keepends=True)
    for node in tree.body:
        if not isinstance(node, named) or node.name not in taken:
            continue
        new, n = f"{node.name}_{suffix}", 2
        while new in used:
            new, n = f"{node.name}_{suffix}{n}", n + 1
        used.add(new)
        index = node.lineno - 1
        lines[index] = re.sub(rf"\b(def|class)(\s+){re.escape(node.name)}\b", rf"\g<1>\g<2>{new}", lines[index], count=1)
    return "".join(lines)
