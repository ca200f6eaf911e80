"""Where kept tests go, and the exception for a result that no longer fits its target
(:class:`StaleTarget`).  How a result of each kind is placed into text is its kind's
(``specloop.targets``); ``specloop run`` and the language server both ask it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from ..settings import Settings


class StaleTarget(Exception):
    """The target changed (or vanished) since the job started."""


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
