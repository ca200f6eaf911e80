"""The definitions a target may use, ranked (:class:`_Needs`) as :mod:`gather`'s list says
(its items 2 to 8): the module's names and the project's that the spec or signature names,
then the others, ranked by the words they share with the target and by what the target's
:data:`NEIGHBOURS` read; a method's class with what it inherits from up to :data:`BASES`
classes (:func:`_inherited`); and the parts of a module every job on it needs, made once
per text and remembered for the last :data:`MODULES_KEPT` texts (:func:`_module`).
"""

from __future__ import annotations

import ast
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path

from . import index as projectindex
from ..source.outline import FUNCTIONS, class_summary, describe
from .index import Definition
from ..source.spec import Target, _parse

NEIGHBOURS = 30         # functions near the target whose uses rank the imported names
MEMBERS = 20            # other definitions of a module imported as a name, at most
BASES = 4               # base classes whose members a method's class outline shows
BRIEF_LINES = 6         # lines of a class outline the spec does not name
MODULES_KEPT = 2
_modules: OrderedDict[str, _Module] = OrderedDict()
_lock = threading.Lock()
_IDENT = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?")


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
