"""What the model sees besides the target itself, bounded in tokens (issue 18: project-aware).

This module decides which sections the context has, in what order and with what share of
the budget; :mod:`.needs` ranks the definitions within them, :mod:`.budget` fits the pieces
in the room.

Decisions:

* Tokens are estimated as ``ceil(len(text) / 4)`` (:func:`.budget.estimate_tokens`): no
  tokenizer is loaded (the small local model and the remote ones count differently, and
  four characters a token is the usual rule of thumb).  ``build_context`` never
  returns more than ``max_tokens * 4`` characters.
* The target is not repeated (the prompt shows it); where it sits in the
  module a marker line says ``# <name: the function to implement>`` (``the
  class to implement`` for a class spec, ``# <module spec: the functions it asks
  for go here>`` for a module spec's block; both get the same rule).
* Every piece says where it comes from: ``# path/in/workspace.py:LINE`` above a
  definition, ``# tests/test_x.py::test_name`` above a test.
* What the target may use comes first, ranked, deduplicated, each piece whole (a class
  outline too long for the room left is cut at a line, ending ``# ...``):

  1. the module's import lines (at most a quarter of the room);
  2. for a method, the enclosing class's outline (:func:`specloop.source.outline.class_summary`),
     with what it inherits: per base class (of the module, or of the project through its
     imports; at most :data:`.needs.BASES`, nearest first) ``# from Base: a, b`` and the signatures
     of those members the class does not define itself (a module shown whole shows those of
     the bases from other files, right after it);
  3. the module's own names the spec or the signature (type hints included) names --
     functions, classes, module-level names with their value where short, aliases --
     nearest first;
  4. the project definitions (other files of the workspace, :mod:`specloop.context.index`)
     that the module imports and the spec or signature names (``f`` of ``from pkg.mod
     import f``, ``m.f`` of ``import pkg.mod as m``);
  5. the user's tests that mention the target (``usertests.user_test_snippets``), at most
     :data:`TESTS_SHARE` of the whole budget, so that they never push out definitions;
  6. the module's other names (at most half of the room left): first those whose every word
     (``_rst_escape_first_column``: rst, escape, first, column) the spec or signature uses
     -- a long spec describes what it needs without spelling the names --, then those the
     target's neighbours (the :data:`.needs.NEIGHBOURS` functions and methods of the module nearest
     it) read, most read first -- in a module of thousands of lines the helper a body calls
     (more-itertools' ``windowed`` for ``adjacent``, 1,100 lines above it) is often far, but
     the code around the target calls it too --, then the module's constants (module-level
     names: one short statement each, and what a body reads most often that the code around
     it does not show), then its functions and classes, each group nearest first;
  7. the other imported project definitions -- with, for a project module imported as a name
     (``from . import util``), its definitions the module's code reads (``util.f``) and those
     whose names share a word with the target's name, signature or spec (``iter_tree_entries``
     for ``match_tree_entries``) -- those that the target's neighbours (the nearest functions
     and methods of the module) use first, then those sharing most words with the target;
  8. the other public definitions (at most :data:`.needs.MEMBERS`) of a project module imported as
     a name (``from . import util``), the model may call as ``util.f``;
  9. as many lines around the target as the rest of the budget allows.

  In 6 to 8 a class outline is cut after :data:`.needs.BRIEF_LINES` lines (the class line, its
  attributes, its first methods): a class the spec does not name should not take the room
  of several functions.

* A module that fits whole, with room left for the project definitions of 4 and 7 (at
  most :data:`PROJECT_SHARE` of the budget), is shown whole: for small files that is the
  best context there is; then those definitions, then the tests.
* Every function here is plain synchronous Python that can take long on a big workspace or
  module: an event loop calls :func:`build_context_async`, which runs it in a worker
  thread.  The module's parts are remembered for the last :data:`.needs.MODULES_KEPT` texts.
"""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

from ..sandbox.usertests import find_user_tests, find_user_tests_async, user_test_snippets
from ..source.classspec import ClassTarget
from ..source.modulespec import ModuleTarget
from ..source.outline import class_line, class_summary
from ..source.spec import Target
from .budget import _bounded, _Sections, _window, estimate_tokens
from .needs import _inherited, _module, _Needs

__all__ = ["build_context", "build_context_async", "find_user_tests", "find_user_tests_async",
           "user_test_snippets", "estimate_tokens"]   # the finders are usertests', re-exported

MAX_SNIPPET_LINES = 40
TESTS_SHARE = 0.25
PROJECT_SHARE = 0.3


def _without_target(lines: list[str], target: Target | ClassTarget) -> list[str]:
    assert target.def_range is not None
    start, end = target.def_range.start.line, target.def_range.end.line
    indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
    while target.comment_spec and start > 0 and lines[start - 1].lstrip().startswith("#"):
        start -= 1                                   # the '# spec:' block is shown by the prompt too
    return [*lines[:start], f"{indent}# <{target.name}: {target.placeholder}>", *lines[end + 1:]]


def _snippet(node_id: str, source: str, workspace: Path) -> str:
    lines = textwrap.dedent(source).splitlines()
    if len(lines) > MAX_SNIPPET_LINES:
        lines = lines[:MAX_SNIPPET_LINES] + ["    # ..."]
    file, _, name = node_id.partition("::")
    try:
        file = Path(file).relative_to(workspace).as_posix()
    except ValueError:
        pass
    return f"# {file}::{name}\n" + "\n".join(lines)


def build_context(source: str, target: Target | ClassTarget | ModuleTarget, *, path: Path, workspace: Path,
                  max_tokens: int) -> str:
    """The context for ``target`` in ``source`` (the file at ``path``), at most
    ``max_tokens`` estimated tokens.  A class spec (``classspec.ClassTarget``) gets the same
    rule as a function: the class is the target, its tests are those that mention it; a
    module spec's block is the target (its functions do not exist yet: no tests)."""
    out = _Sections(max(0, max_tokens) * 4)
    workspace = Path(workspace).resolve()
    try:
        rel = Path(path).resolve().relative_to(workspace).as_posix()
    except ValueError:
        rel = Path(path).name
    lines = source.splitlines()
    around = _without_target(lines, target) if target.def_range else lines
    tests = [_snippet(i, s, workspace) + "\n" for i, s in user_test_snippets(target, Path(path), workspace)]
    if tests:
        tests[-1] = tests[-1].rstrip("\n")
    tests_title = f"# existing tests that mention {target.name}\n"
    tests_cap = int(out.budget * TESTS_SHARE)
    module = _module(source)
    needs = _Needs(module, target, Path(path), workspace, rel)
    project_title = "# from other files of the project"
    out.add("head", "", [f"# file: {rel}"])
    whole = "\n".join(around)
    wanted = len("\n".join([project_title, *needs.project_named, *needs.imported]))
    if len(whole) + 2 <= out.room() - min(wanted, int(out.budget * PROJECT_SHARE)):
        out.chosen["head"] += "\n\n" + whole          # small module: all of it, then the rest
        inherited = _inherited(module, needs.chain[-1], Path(path), workspace, target.name,
                               project_only=True) if needs.chain else []
        if inherited:
            out.add("outline", f"# {needs.chain[-1].name} inherits from other files of the project",
                    ["\n".join(inherited)])
        out.add("project", project_title, needs.project_named)
        out.add("imported", "# imported from the project" if "project" in out.chosen else project_title,
                needs.imported)
        out.add("tests", tests_title, tests, cap=tests_cap)
        out.add("neighbours", "# also in modules imported as names", needs.neighbours)
        return _bounded(out)
    out.add("imports", "", module.imports, share=0.25)
    chain = needs.chain
    if chain:
        outer = [class_line(c, "    " * i) for i, c in enumerate(chain[:-1])]
        inner = "\n".join([class_summary(chain[-1], skip=target.name),
                           *_inherited(module, chain[-1], Path(path), workspace, target.name)])
        out.add("outline", "", ["\n".join([*outer, *("    " * (len(chain) - 1) + x for x in inner.splitlines())])])
    out.add("named", "# used by the spec", needs.local_named)
    out.add("project", project_title + ", used by the spec", needs.project_named)
    out.add("tests", tests_title, tests, cap=tests_cap)
    out.add("others", "# elsewhere in the module", needs.local_others, share=0.5)
    out.add("imported", "# imported from the project", needs.imported, share=0.6)
    out.add("neighbours", "# also in modules imported as names", needs.neighbours, share=0.6)
    title = "# around the target"
    here = target.def_range.start.line if target.def_range else 0
    near = _window(around, min(here, len(around) - 1), out.room() - len(title) - 1) if around else ""
    out.add("around", title, [near] if near else [])
    return _bounded(out)


async def build_context_async(source: str, target: Target, *, path: Path, workspace: Path, max_tokens: int) -> str:
    """:func:`build_context` in a worker thread: it parses the whole module (15 ms at 2,000
    lines, over 200 ms at 20,000), reads the files the module imports from the project and
    scans the workspace's tests, which an event loop serving editor requests must not wait for."""
    return await asyncio.to_thread(build_context, source, target, path=path, workspace=workspace,
                                   max_tokens=max_tokens)
