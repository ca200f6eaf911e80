"""What the model sees besides the target itself, bounded in tokens (issue 18: project-aware).

Decisions:

* Tokens are estimated as ``ceil(len(text) / 4)``: no tokenizer is loaded (the
  small local model and the remote ones count differently, and four
  characters a token is the usual rule of thumb).  ``build_context`` never
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
     imports; at most :data:`BASES`, nearest first) ``# from Base: a, b`` and the signatures
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
     target's neighbours (the :data:`NEIGHBOURS` functions and methods of the module nearest
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
  8. the other public definitions (at most :data:`MEMBERS`) of a project module imported as
     a name (``from . import util``), the model may call as ``util.f``;
  9. as many lines around the target as the rest of the budget allows.

  In 6 to 8 a class outline is cut after :data:`BRIEF_LINES` lines (the class line, its
  attributes, its first methods): a class the spec does not name should not take the room
  of several functions.

* A module that fits whole, with room left for the project definitions of 4 and 7 (at
  most :data:`PROJECT_SHARE` of the budget), is shown whole: for small files that is the
  best context there is; then those definitions, then the tests.
* Every function here is plain synchronous Python that can take long on a big workspace or
  module: an event loop calls :func:`build_context_async`, which runs it in a worker
  thread.  The module's parts are remembered for the last :data:`MODULES_KEPT` texts.
"""

from __future__ import annotations

import ast
import asyncio
import re
import textwrap
import threading
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path

from . import index as projectindex
from ..source.classspec import ClassTarget
from ..source.modulespec import ModuleTarget
from ..source.outline import FUNCTIONS, class_line, class_summary, describe
from .index import Definition
from ..source.spec import Target, _parse
from ..sandbox.usertests import find_user_tests, find_user_tests_async, user_test_snippets

__all__ = ["build_context", "build_context_async", "find_user_tests", "find_user_tests_async",
           "user_test_snippets", "estimate_tokens"]   # the finders are usertests', re-exported

MAX_SNIPPET_LINES = 40
MIN_ITEM = 8            # the shortest signature or class line: "class X:"
MIN_CUT = 160           # an item cut to fit keeps at least this many characters
TESTS_SHARE = 0.25
PROJECT_SHARE = 0.3
NEIGHBOURS = 30         # functions near the target whose uses rank the imported names
MEMBERS = 20            # other definitions of a module imported as a name, at most
BASES = 4               # base classes whose members a method's class outline shows
BRIEF_LINES = 6         # lines of a class outline the spec does not name
MODULES_KEPT = 2
_modules: OrderedDict[str, _Module] = OrderedDict()
_lock = threading.Lock()
_IDENT = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?")


def estimate_tokens(text: str) -> int:
    return (len(text) + 3) // 4


# -- module parts ----------------------------------------------------------------------------


def _enclosing(tree: ast.Module, target: Target) -> list[ast.ClassDef]:
    chain: list[ast.ClassDef] = []
    body: list[ast.stmt] = tree.body
    for part in target.qualname.split(".")[:-1]:
        node = next((n for n in body if isinstance(n, ast.ClassDef) and n.name == part), None)
        if node is None:
            return []
        chain.append(node)
        body = node.body
    return chain


def _without_target(lines: list[str], target: Target | ClassTarget) -> list[str]:
    assert target.def_range is not None
    start, end = target.def_range.start.line, target.def_range.end.line
    indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
    while target.comment_spec and start > 0 and lines[start - 1].lstrip().startswith("#"):
        start -= 1                                   # the '# spec:' block is shown by the prompt too
    what = {"class": "the class to implement", "module": "the functions it asks for go here"}.get(
        getattr(target, "kind", ""), "the function to implement")
    return [*lines[:start], f"{indent}# <{target.name}: {what}>", *lines[end + 1:]]


def _window(lines: list[str], center: int, budget: int) -> str:
    """As many lines around ``center`` as fit in ``budget`` characters."""
    lo = hi = center
    used = len(lines[center]) + 1 if lines else 0
    if used > budget:
        return ""
    grew = True
    while grew:
        grew = False
        for side in (-1, 1):
            i = lo - 1 if side < 0 else hi + 1
            if 0 <= i < len(lines) and used + len(lines[i]) + 1 <= budget - 12:
                used += len(lines[i]) + 1
                lo, hi = (i, hi) if side < 0 else (lo, i)
                grew = True
    text = "\n".join(lines[lo:hi + 1])
    return ("# ...\n" if lo > 0 else "") + text + ("\n# ..." if hi < len(lines) - 1 else "")


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


def _cut(item: str, avail: int) -> str | None:
    """The first lines of a multi-line item (its ``# where`` line kept) that fit in ``avail``
    characters, ending with ``    # ...``; None when too little would be left."""
    if avail < MIN_CUT:
        return None
    lines, size = item.split("\n"), 0
    kept: list[str] = []
    for line in lines:
        if size + len(line) + 1 + 10 > avail:
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join([*kept, "    # ..."]) if len(kept) >= 3 else None


class _Sections:
    """Sections chosen by priority within a character budget, shown in a fixed order."""

    ORDER = ("head", "imports", "outline", "named", "others", "around", "project", "imported", "neighbours",
             "tests")

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.chosen: dict[str, str] = {}

    def text(self) -> str:
        return "\n\n".join(self.chosen[k] for k in self.ORDER if k in self.chosen)

    def room(self) -> int:
        used = len(self.text())
        return self.budget - used - (2 if used else 0)

    def add(self, key: str, title: str, items: Iterable[str], share: float = 1.0, cap: int | None = None) -> None:
        """The items that fit (each whole, or a long one cut at a line), in order, under
        ``title``, in at most ``share`` of the room left and ``cap`` characters.  ``items`` is
        read only while one more could fit (no item is shorter than MIN_ITEM characters)."""
        avail = int(self.room() * share)
        if cap is not None:
            avail = min(avail, cap)
        chosen, size = [], len(title)
        for item in items:
            extra = len(item) + (1 if size else 0)
            if size + extra > avail and "\n" in item:
                item = _cut(item, avail - size - (1 if size else 0)) or item
                extra = len(item) + (1 if size else 0)
            if size + extra <= avail:
                chosen.append(item)
                size += extra
            if avail - size < MIN_ITEM + 1:
                break
        if chosen:
            self.chosen[key] = "\n".join([title, *chosen] if title else chosen)


class _Module:
    """A module's tree and what every job on it needs, made once per text: its imports, its
    definitions (:func:`specloop.context.index.summarize`), its functions and methods."""

    def __init__(self, source: str) -> None:
        try:
            self.tree = _parse(source)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            self.tree = ast.Module(body=[], type_ignores=[])
        self.imports = [ast.unparse(n) for n in self.tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        self.info = projectindex.summarize(source, Path("<module>"), self.tree, lazy=True)
        self.lines = source.splitlines()
        self._texts: dict[str, str] = {}
        self.functions = [n for top in self.tree.body for n in ([top] if isinstance(top, FUNCTIONS) else
                          [m for m in top.body if isinstance(m, FUNCTIONS)] if isinstance(top, ast.ClassDef)
                          else [])]
        self._uses: dict[int, tuple[set[str], set[tuple[str, str]]]] = {}
        self._lock = threading.Lock()
        self._attrs: set[tuple[str, str]] | None = None

    def attributes(self) -> set[tuple[str, str]]:
        """Every (name, attribute) pair the module's code reads (``util.f``), made once."""
        if self._attrs is None:
            self._attrs = {(n.value.id, n.attr) for n in ast.walk(self.tree)
                           if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}
        return self._attrs

    def piece(self, rel: str, d: Definition) -> str:
        """``# rel:LINE`` and the short form of the module's definition ``d``, made once."""
        text = self._texts.get(d.name)
        if text is None:
            text = self._texts[d.name] = describe(self.info.nodes[d.name], self.lines)
        return f"# {rel}:{d.line}\n{text}"

    def uses(self, node: ast.AST) -> tuple[set[str], set[tuple[str, str]]]:
        """The names a function reads, and the (name, attribute) pairs it reads (``m.f``)."""
        with self._lock:
            hit = self._uses.get(id(node))
        if hit is None:
            names, attrs = set(), set()
            for n in ast.walk(node):
                if isinstance(n, ast.Name):
                    names.add(n.id)
                elif isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name):
                    attrs.add((n.value.id, n.attr))
            hit = (names, attrs)
            with self._lock:
                self._uses[id(node)] = hit
        return hit


def _module(source: str) -> _Module:
    """The parts of ``source``, remembered for the last MODULES_KEPT texts: parallel jobs
    on one document version parse it once (its tree stays in memory meanwhile: about
    36 MB at 20,000 lines)."""
    with _lock:
        hit = _modules.get(source)
        if hit is not None:
            _modules.move_to_end(source)
            return hit
    module = _Module(source)
    with _lock:
        _modules[source] = module
        while len(_modules) > MODULES_KEPT:
            _modules.popitem(last=False)
    return module


# -- what the target may use -----------------------------------------------------------------


def _piece(rel: str, d: Definition, local: str | None = None) -> str:
    alias = f" (imported as {local})" if local and local != d.name and "." not in local else ""
    if d.kind == "module":
        return f"# {rel}: module {d.name}{alias}, defines {d.text or 'nothing'}"
    return f"# {rel}:{d.line}{alias}\n{d.text}"


def _brief(piece: str) -> str:
    """A piece cut to its first BRIEF_LINES lines (a class outline not named by the spec:
    its class line, attributes and first methods)."""
    lines = piece.split("\n")
    return piece if len(lines) <= BRIEF_LINES + 1 else "\n".join([*lines[:BRIEF_LINES + 1], "    # ..."])


def _unique(defs: Iterable[Definition], seen: set[tuple[str, int, bool]]) -> list[Definition]:
    out = []
    for d in defs:
        key = (str(d.file), d.line, d.kind == "module")
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


_STOP = frozenset("the and for with from that this are not its into when then than each any all "
                  "which whose been has have was were will can may must should None True False self cls "
                  "return returns str int bool list dict".split())


def _parts(words: Iterable[str]) -> set[str]:
    """The lower-case parts (at least three letters, no common word) of identifiers and words:
    ``match_tree_entries`` -> {match, tree, entries}, ``TreeEntry`` -> {tree, entry}."""
    out: set[str] = set()
    for w in words:
        for p in re.split(r"[_.]|(?<=[a-z0-9])(?=[A-Z])", w):
            if len(p) >= 3 and p not in _STOP:
                out.add(p.lower())
    return out


def _inherited(module: _Module, cls: ast.ClassDef, path: Path, workspace: Path, skip: str,
               project_only: bool = False) -> list[str]:
    """The members ``cls`` inherits from its bases -- classes of its own module, or of the
    project through the module's imports (:mod:`specloop.context.index`) -- up to
    :data:`BASES` classes, nearest first: per base a line ``# from Base: a, b, c`` and then the
    signatures and attributes of those members (its outline's lines) the class does not
    define itself (the method being implemented excepted: its base version is what
    ``super()`` calls).  ``project_only``: the bases of other files only (the module is shown
    whole), their members still skipped where a base of the module defines them."""
    own = {n.name for n in cls.body if isinstance(n, (*FUNCTIONS, ast.ClassDef)) and n.name != skip}
    own |= {t for n in cls.body if isinstance(n, (ast.Assign, ast.AnnAssign)) for t in _assigned(n)}
    seen, out = {cls.name}, []
    todo: list[tuple[str, Path | None]] = [(ast.unparse(b), None) for b in cls.bases]
    index = projectindex.index_for(workspace)
    while todo and len(seen) <= BASES:
        name, where = todo.pop(0)
        if name in seen or name in ("object", "Generic") or name.startswith(("Generic[", "typing.")):
            continue
        seen.add(name)
        text, bases = "", []
        if where is None and name in module.info.nodes and isinstance(module.info.nodes[name], ast.ClassDef):
            node = module.info.nodes[name]
            text, bases = class_summary(node), [(ast.unparse(b), None) for b in node.bases]
        else:
            d = None
            if where is None:
                found = projectindex.imported_definitions(path, workspace, [i for k, i in module.info.imports.items()
                                                                          if k == name.split(".")[0]],
                                                          [tuple(name.split(".", 1))] if "." in name else [])
                d = found.get(name)
            else:
                d = index.member(where, name.rsplit(".", 1)[-1])
            if d is None or d.kind != "class":
                continue
            text = d.text
            head = next((line for line in text.split("\n") if line.startswith("class ")), "")
            m = re.match(r"class \w+\((.*)\):", head.split("  #")[0])
            bases = [(b.strip(), d.file) for b in (m.group(1).split(",") if m else []) if "=" not in b]
        groups, lines = [], text.split("\n")
        start = next((i for i, line in enumerate(lines) if line.startswith("class ")), len(lines)) + 1
        group: list[str] = []
        for line in lines[start:]:
            group.append(line)
            if line.lstrip().startswith("@"):
                continue
            groups.append(group)
            group = []
        kept, names = [], []
        for g in groups:
            m = re.match(r"\s+(?:async def |def |class )?(\w+)", g[-1])
            member = m.group(1) if m else ""
            if g[-1].lstrip().startswith("# instance attributes: "):
                attrs = [a for a in g[-1].split(": ", 1)[1].split(", ") if not a.startswith("self.__")]
                if attrs:                            # self.__x is mangled: not the subclass's
                    kept.append([g[-1].split(": ", 1)[0] + ": " + ", ".join(attrs)])
            elif g[-1].lstrip().startswith("#"):
                kept.append(g)
            elif member not in own and not (member.startswith("__") and member != "__init__"):
                kept.append(g)
                names.append(member)
                own.add(member)
        if kept and not (project_only and where is None and name in module.info.nodes):
            short = name.rsplit(".", 1)[-1]
            out.append(f"    # from {short}: " + ", ".join(names))
            out += [line for g in kept for line in g]
        todo += bases
    return out


def _assigned(node: ast.stmt) -> list[str]:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]  # type: ignore[attr-defined]
    return [t.id for t in targets if isinstance(t, ast.Name)]


class _Needs:
    """The definitions ``target`` may use, ranked: its module's and the project's."""

    def __init__(self, module: _Module, target, path: Path, workspace: Path, rel: str) -> None:
        words = set(_IDENT.findall(target.spec + "\n" + target.header))
        self.words = words | {w.split(".")[0] for w in words}
        chain = _enclosing(module.tree, target)
        self.chain = chain
        skip = {target.name, chain[0].name if chain else None}
        here = target.def_range.start.line + 1 if target.def_range else 1
        seen: set[tuple[str, int, bool]] = set()
        local = sorted((d for n, d in module.info.defs.items()
                        if n not in skip and not (n.startswith("__") and n.endswith("__") and n not in words)),
                       key=lambda d: abs(d.line - here))
        local = _unique(local, seen)
        self.local_named = [module.piece(rel, d) for d in local if d.name in self.words]
        hints = _parts(words)

        # neighbours: the functions and methods nearest the target, and what they use
        near = sorted((f for f in module.functions if f.lineno != here and f.name != target.name),
                      key=lambda f: abs(f.lineno - here))[:NEIGHBOURS]
        first_use: dict[str, int] = {}
        member_use: dict[tuple[str, str], int] = {}
        use_count: dict[str, int] = {}
        for rank, f in enumerate(near):
            names, attrs = module.uses(f)
            for n in names:
                first_use.setdefault(n, rank)
                use_count[n] = use_count.get(n, 0) + 1
            for a in attrs:
                member_use.setdefault(a, rank)

        def group(d: Definition) -> tuple[int, int]:
            parts = _parts([d.name])
            if parts and parts <= hints:
                return 0, 0
            if use_count.get(d.name):                # what the neighbours call, most used first
                return 1, -use_count[d.name]
            return (2 if d.kind == "name" else 3), 0
        others = sorted((d for d in local if d.name not in self.words), key=group)   # stable: nearest first
        self.local_others = (_brief(module.piece(rel, d)) for d in others)  # lazily
        imports = module.info.imports
        members = {(w.split(".")[0], w.split(".")[1]) for w in words if "." in w and w.split(".")[0] in imports}
        members |= {a for a in module.attributes() if a[0] in imports}
        found = projectindex.imported_definitions(path, workspace, imports.values(), members)
        index = projectindex.index_for(workspace)
        rest: list[Definition] = []             # a module imported as a name: its definitions
        for k, d in list(found.items()):        # whose names share words with the target's,
            if d.kind != "module" or "." in k:  # then (last) its other public ones
                continue
            info = projectindex.module_info(d.file)
            public = [(n, m) for n, m in (info.defs.items() if info is not None else ())
                      if not n.startswith("_") and f"{k}.{n}" not in found]
            for name, member in public:
                if _parts([name]) & hints:
                    found[f"{k}.{name}"] = member
            rest += [m for n, m in public if f"{k}.{n}" not in found][:MEMBERS]
        local_of = {id(d): k for k, d in reversed(found.items())}
        named = [d for k, d in found.items() if k in self.words or k.split(".")[-1] in self.words and "." in k]

        def rank(k: str) -> tuple[int, int, int]:
            base, _, attr = k.partition(".")
            use = member_use.get((base, attr), NEIGHBOURS) if attr else first_use.get(k, NEIGHBOURS)
            return use, -len(_parts([attr or k]) & hints), imports[base].line if base in imports else 0
        imported = sorted((k for k in found if k not in self.words), key=rank)

        def pieces(defs: Iterable[Definition], brief: bool = True) -> list[str]:
            out = [_piece(index.rel(d.file), d, local_of.get(id(d))) for d in _unique(defs, seen)]
            return [_brief(p) for p in out] if brief else out
        self.project_named = pieces(named, brief=False)
        self.imported = pieces(found[k] for k in imported)
        self.neighbours = pieces(rest)


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


def _bounded(out: _Sections) -> str:
    text = out.text()
    return text[: max(text.rfind("\n", 0, out.budget + 1), 0)] if len(text) > out.budget else text


async def build_context_async(source: str, target: Target, *, path: Path, workspace: Path, max_tokens: int) -> str:
    """:func:`build_context` in a worker thread: it parses the whole module (15 ms at 2,000
    lines, over 200 ms at 20,000), reads the files the module imports from the project and
    scans the workspace's tests, which an event loop serving editor requests must not wait for."""
    return await asyncio.to_thread(build_context, source, target, path=path, workspace=workspace,
                                   max_tokens=max_tokens)
