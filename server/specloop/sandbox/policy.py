"""A static policy that refuses to call ``passed`` a candidate that reaches into the test harness.

What it refuses, and the reason it names to the model for each, is one list in :mod:`refusals`;
this module reads a candidate and applies it.

:func:`check` reads the generated function (and any import lines before it) with ``ast`` and returns
one ``security`` error per offending construct.  The candidate runs in the test framework's process,
so code gaming its tests could: read or rewrite the harness through frames, tracebacks, ``gc`` or
``sys.modules``; patch ``pytest``, ``builtins`` or a module the tests call; exit or signal the process
before the verdict; leave the sandbox's process tree; touch the harness's files and settings
(``conftest``, ``.pth``, ``_specloop``, ``results.jsonl``, ``SPECLOOP_``, ``PYTEST_CURRENT_TEST``);
return an object that equals anything; or hide all that behind ``eval``, a computed ``getattr`` name
or a module held in a variable.  Names are resolved per scope: a parameter ``code`` is not the
``code`` module, and rebinding ``sys`` somewhere cannot hide ``sys._getframe`` elsewhere.

It is one layer among several: the sandbox decides verdicts outside the candidate's process and
re-verifies them.  It cannot see code that special-cases the visible examples (``if n == 3: return
9``): that is a correctness problem, for the hidden tests and the critic.

Borderline decisions: ``sys.exit``/``exit()``/``raise SystemExit`` are flagged (the ``__main__`` guard
lives outside the function).  Threads, ``multiprocessing`` and daemons pass (the sandbox kills the
whole process tree; a thread reaches the harness only through what is flagged here); leaving the
tree does not (``setsid``, ``fork``, ``start_new_session``, ``preexec_fn``).  ``os.write``/``close``/
``dup`` and ``open`` are flagged on a literal descriptor only (``mkstemp`` code passes, ``open(0)``
may read stdin); ``os.dup2`` always.  ``importlib.metadata``/``.resources`` pass.  Writing into
``os.environ`` passes; rebinding it, like any module attribute, does not.  ``getattr`` & co. need a
literal name, or a literal prefix that rules out every flagged name (``"visit_" + kind``); dunder
literals pass ``getattr``/``hasattr`` only for plain metadata (``__name__``, ``__len__``).
``vars(obj)`` reads pass; ``vars(module)``, writes through ``vars()``/``locals()`` and ``globals()``
do not.  A module passed as a value (``m = sys``, ``f(json)``) is flagged.  ``inspect``, ``gc`` and
``signal`` are flagged whole; so is any string naming a ``.pth`` file, PyTorch checkpoints included.
``__eq__`` returning a constant True is flagged only in a class made inside the function (a target
that is itself a sentinel's ``__eq__`` passes).
"""

from __future__ import annotations

import ast
from fnmatch import fnmatchcase

from ..results import Finding
from .refusals import (_ALWAYS, _AMBIGUOUS, _ATTRS, _BUILTINS, _DOTTED, _DYN, _EXACT, _EXIT, _FD, _FIX,
                       _GETATTRS, _KNOWN, _LAST_NAMES, _LITERAL, _MUTATORS, _PATCH, _PATTERNS, _PROC,
                       _RAW_FD_CALLS, _SAFE_DUNDERS, _STORES, _STRINGS)

__all__ = ["check", "split"]

_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_SCOPES = (*_FUNCS, ast.ClassDef, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def check(code: str) -> list[Finding]:
    """One ``security`` error per construct of ``code`` that reaches into the test harness
    (``line`` 1-based within ``code``), in line order; ``[]`` when ``code`` does not parse."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    checker = _Checker(tree)
    try:
        checker.visit(tree)
    except RecursionError:
        checker.add(tree, "deep nesting", "too deeply nested to check; flatten the code", "has")
    return sorted(checker.found.values(), key=lambda f: f.line or 0)


def split(findings: list[Finding], isolation: str, *, by_value: bool) -> tuple[list[Finding], list[Finding]]:
    """(refused, advice) of :func:`check`'s findings for a run judged ``by_value`` (or not) under
    ``isolation``.  A run judged by value does not need them to guard its verdict (the candidate
    never shares a process with the judge), so they are advice -- a ``security`` warning the model
    and the user see -- except what the sandbox itself cannot contain: leaving the process tree
    where there is no bubblewrap.  A run judged in-process refuses them all, as before."""
    if not by_value:
        return list(findings), []
    refused = [f for f in findings if isolation != "bwrap" and _PROC in f.message]
    advice = [Finding(f.category, "warning", f.message, f.line) for f in findings if f not in refused]
    return refused, advice


def _lookup(dotted: str) -> tuple[str, str] | None:
    """(flagged name, why) for a dotted name; also tried without its first part, so a module
    re-exported by another (``os.sys.modules``) is still seen."""
    parts = dotted.split(".")
    for start in range(min(2, len(parts))):
        for end in range(len(parts), start, -1):
            key = ".".join(parts[start:end])
            why = _EXACT.get(key, next((w for pat, w in _PATTERNS if fnmatchcase(key, pat)), ""))
            if why != "":
                return (key, why) if why else None
    return None


def _sensitive(dotted: str) -> bool:
    """Whether a module holds flagged names (so holding it in a variable hides them)."""
    return any(k.startswith(p + ".") for k in _DOTTED for p in (dotted, dotted.partition(".")[2]) if p)


def _always(fn: ast.AST) -> object:
    """The constant a function or lambda always returns, if that is all it does."""
    body = [fn.body] if isinstance(fn, ast.Lambda) else getattr(fn, "body", [])
    body = [s for s in body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    ret = body[0].value if len(body) == 1 and isinstance(body[0], ast.Return) else body[0] if body else None
    return ret.value if isinstance(ret, ast.Constant) and isinstance(fn, _FUNCS) else None


def _bindings(scope: ast.AST) -> tuple[bool, set[str]]:
    """(is a class body, names bound directly in the scope) by Python's rules; imports are left
    out (an imported name always counts as its module)."""
    names: set[str] = set()
    if isinstance(scope, _FUNCS):
        a = scope.args
        names.update(x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg) if x)
    targets = [g.target for g in getattr(scope, "generators", [])]
    stack, declared = list(targets or (scope.body if isinstance(scope.body, list) else [scope.body])), set()
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            declared.update(node.names)
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar, ast.MatchMapping)):
            names.add(getattr(node, "name", None) or getattr(node, "rest", None) or "")
        if not isinstance(node, _SCOPES):
            stack.extend(ast.iter_child_nodes(node))
    return isinstance(scope, ast.ClassDef), names - declared


class _Checker(ast.NodeVisitor):
    def __init__(self, tree: ast.Module) -> None:
        self.found: dict[tuple[str, int], Finding] = {}
        self.scopes: list[tuple[bool, set[str]]] = []
        self.aliases: dict[str, list[tuple[str, bool]]] = {}   # name -> [(dotted, owned by a module)]
        self.modules: set[str] = set()        # names bound by ``import X``
        self.quiet: set[int] = set()          # docstrings and other bare string statements
        self.called: set[int] = set()         # the functions of calls
        self.bases: set[int] = set()          # the objects of attributes
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    name, dotted = (a.asname, a.name) if a.asname else (a.name.split(".")[0],) * 2
                    self.aliases.setdefault(name, []).append((dotted, True))
                    self.modules.add(name)
            elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
                mod = "." * node.level + (node.module or "")
                owned = node.level == 0 and mod.split(".")[0] in _KNOWN
                for a in node.names:
                    self.aliases.setdefault(a.asname or a.name, []).append((f"{mod}.{a.name}", owned))
            elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                self.quiet.add(id(node.value))
            elif isinstance(node, ast.Call):
                self.called.add(id(node.func))
            elif isinstance(node, ast.Attribute):
                self.bases.add(id(node.value))

    def add(self, node: ast.AST, label: str, reason: str, verb: str = "uses") -> None:
        why, _, fix = reason.partition("; ")
        line = getattr(node, "lineno", 1)
        self.found.setdefault((label, line), Finding(
            category="security", severity="error", message=f"{verb} {label} ({why}); {fix or _FIX}", line=line))

    def _free(self, name: str) -> bool:
        """Neither imported nor bound by the code in an enclosing scope (a class body only when innermost)."""
        scopes = enumerate(reversed(self.scopes))
        return name not in self.aliases and not any(name in names and (not is_class or i == 0)
                                                    for i, (is_class, names) in scopes)

    def _resolve(self, node: ast.AST) -> list[tuple[str, bool]]:
        """What a name or attribute chain refers to: [(dotted name, owned by a module)]."""
        if isinstance(node, ast.Attribute):
            return [(f"{d}.{node.attr}", owned) for d, owned in self._resolve(node.value)]
        if not isinstance(node, ast.Name):
            return []
        if node.id in self.aliases:
            return self.aliases[node.id]
        return [(node.id, True)] if self._free(node.id) and node.id in _KNOWN - _AMBIGUOUS else []

    def _ref(self, node: ast.AST) -> bool:
        hits = [hit for dotted, _ in self._resolve(node) if (hit := _lookup(dotted))]
        for label, why in hits:
            self.add(node, label, why)
        return bool(hits)

    def _write(self, node: ast.AST, target: ast.AST, verb: str = "writes into") -> None:
        """Rebinding a module's attribute, or writing into a container one holds (``os.environ`` aside)."""
        if isinstance(target, ast.Call) and isinstance(target.func, ast.Name) and not target.args \
                and target.func.id in ("locals", "vars") and self._free(target.func.id):
            self.add(node, f"{target.func.id}()", "writing the namespace " + _DYN, verb)
        if isinstance(target, ast.Name) and (target.id in self.modules or target.id not in self.aliases):
            return   # os.remove(path) is no write into os
        for dotted, owned in self._resolve(target):
            environ = verb != "rebinds" and dotted in ("os.environ", "os.environb")
            if owned and not environ and not _lookup(dotted):
                self.add(node, dotted, _STORES.get(dotted, _PATCH), verb)

    def _bare(self, node: ast.AST) -> None:
        """A module held as a value (``m = sys``) hides what is done with it."""
        for dotted, _ in self._resolve(node):
            if _sensitive(dotted) or (isinstance(node, ast.Name) and node.id in self.modules):
                self.add(node, dotted, "a module held as a value " + _DYN + "; use its functions directly")

    def _scoped(self, node: ast.AST, outside: list, inside: list) -> None:
        for child in outside:
            if child is not None:
                self.visit(child)
        self.scopes.append(_bindings(node))
        for child in inside:
            self.visit(child)
        self.scopes.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        a = node.args
        notes = [x.annotation for x in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg) if x]
        outside = [*getattr(node, "decorator_list", []), *a.defaults, *a.kw_defaults, *notes,
                   getattr(node, "returns", None)]
        self._scoped(node, outside, node.body if isinstance(node.body, list) else [node.body])

    visit_AsyncFunctionDef = visit_Lambda = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if any(not is_class for is_class, _ in self.scopes):   # a class made inside the function
            for item in node.body:
                names = [getattr(t, "id", "") for t in getattr(item, "targets", [])]
                for name in [getattr(item, "name", ""), *names]:
                    self._equals_anything(item, name, getattr(item, "value", item))
        self._scoped(node, [*node.decorator_list, *node.bases, *node.keywords], node.body)

    def visit_Dict(self, node: ast.Dict) -> None:   # type("A", (), {"__eq__": lambda s, o: True})
        for key, value in zip(node.keys, node.values):
            self._equals_anything(value, getattr(key, "value", None), value)
        self.generic_visit(node)

    def _equals_anything(self, node: ast.AST, name: object, fn: ast.AST) -> None:
        if isinstance(name, str) and name in _ALWAYS and _always(fn) is _ALWAYS[name]:
            self.add(node, f"{name} returning {_ALWAYS[name]}", "an object that equals anything makes "
                     "every assertion pass; return the real value", "defines")

    def visit_ListComp(self, node: ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp) -> None:
        first = node.generators[0]   # its iterable is evaluated in the enclosing scope
        elts = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        self._scoped(node, [first.iter], [first.target, *first.ifs, *node.generators[1:], *elts])

    visit_SetComp = visit_DictComp = visit_GeneratorExp = visit_ListComp

    def visit_Name(self, node: ast.Name) -> None:
        if not isinstance(node.ctx, ast.Load):
            return
        if self._free(node.id) and node.id in _BUILTINS:
            self.add(node, node.id, _BUILTINS[node.id])
        elif self._free(node.id) and node.id in _GETATTRS and id(node) not in self.called:
            self.add(node, node.id, "passing getattr around " + _LITERAL)
        elif id(node) not in self.bases and not self._ref(node):
            self._bare(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if id(node) not in self.bases and self._ref(node):
            pass
        elif node.attr in _ATTRS:
            self.add(node, node.attr, _ATTRS[node.attr])
        elif id(node) not in self.bases:
            self._bare(node) if isinstance(node.ctx, ast.Load) else self._write(node, node, "rebinds")
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if not isinstance(node.ctx, ast.Load):
            self._write(node, node.value)
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        mod = getattr(node, "module", None)
        if getattr(node, "level", 0) or mod == "__future__":
            return
        for a in node.names:
            found = _lookup(f"{mod}.{a.name}" if mod else a.name)
            if found:
                self.add(node, *found, "imports")
            elif a.name == "*" and _sensitive(mod or ""):
                self.add(node, f"{mod}.*", "a star import " + _DYN + "; import the names you use", "imports")

    visit_ImportFrom = visit_Import

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value.decode("latin-1") if isinstance(node.value, bytes) else node.value
        if isinstance(value, str) and id(node) not in self.quiet:
            for pattern, label, why in _STRINGS:
                if pattern.search(value):
                    self.add(node, repr(label), why + "; do not touch the test harness", "names")
                    break

    def visit_Raise(self, node: ast.Raise) -> None:
        exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        if isinstance(exc, ast.Name) and exc.id in ("SystemExit", "KeyboardInterrupt"):
            self.add(node, f"raise {exc.id}", _EXIT)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func, args = node.func, node.args
        names = {d for d, _ in self._resolve(func)} | ({func.id} if isinstance(func, ast.Name)
                                                      and self._free(func.id) else set())
        if names & _GETATTRS:
            fn = min(names & _GETATTRS)
            self._attr_name(node, fn, args[1] if len(args) > 1 else None, fn in ("setattr", "delattr"),
                            args[0] if args else None)
        elif isinstance(func, ast.Attribute) and func.attr in ("__getattribute__", "__setattr__", "__delattr__"):
            lit = [a for a in args[:2] if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            self._attr_name(node, func.attr, lit[0] if lit else None, "get" not in func.attr)
        elif names & {"operator.attrgetter", "operator.methodcaller"}:
            for arg in (args[:1] if "operator.methodcaller" in names else args) or [None]:
                self._attr_name(node, "attrgetter", arg, dotted=True)
        elif "vars" in names and args and isinstance(args[0], ast.Name) and (
                args[0].id in self.modules or self._resolve(args[0]) == [(args[0].id, True)]):
            self.add(node, f"vars({args[0].id})", "a module's namespace " + _DYN)
            self.bases.add(id(args[0]))
        elif isinstance(func, ast.Attribute) and func.attr in _MUTATORS:
            self._write(node, func.value)
        if names & _RAW_FD_CALLS and args and isinstance(args[0], ast.Constant) and type(args[0].value) is int \
                and (args[0].value or not names & {"open", "io.open"}):   # open(0) reads stdin
            self.add(node, f"{max(names & _RAW_FD_CALLS)}() on a raw descriptor", _FD)
        for kw in node.keywords:
            if kw.arg in ("start_new_session", "preexec_fn", "process_group") and not (
                    isinstance(kw.value, ast.Constant) and not kw.value.value):
                self.add(kw.value, kw.arg, _PROC)
        self.generic_visit(node)

    def _attr_name(self, node: ast.Call, fn: str, arg: ast.AST | None, write: bool = False,
                   obj: ast.AST | None = None, dotted: bool = False) -> None:
        """An attribute name given as data: a literal is checked as ``obj.name`` would be; a computed
        one passes only behind a literal prefix that rules out every flagged name."""
        if obj is not None:
            self.bases.add(id(obj))
        head = arg
        while isinstance(head, ast.BinOp) and isinstance(head.op, ast.Add):
            head = head.left
        if isinstance(head, ast.JoinedStr) and head.values:
            head = head.values[0]
        text = head.value if isinstance(head, ast.Constant) and isinstance(head.value, str) else None
        hidden = text is not None and (text.startswith("_") or any(n.startswith(text) for n in _LAST_NAMES))
        if text is None or head is not arg and hidden:
            return self.add(node, f"{fn} with a computed name", _LITERAL)
        if head is not arg:
            return None
        for part in text.split(".") if dotted else [text]:
            if part in _ATTRS:
                self.add(node, part, _ATTRS[part])
            elif part[:2] == part[-2:] == "__" and (write or part not in _SAFE_DUNDERS):
                self.add(node, f"{fn}(..., {part!r})", "a dunder attribute by name " + _LITERAL)
        if obj is not None:   # getattr(sys, "modules") is sys.modules; setattr(math, ...) patches math
            ctx = ast.Store() if write else ast.Load()
            self.visit(ast.copy_location(ast.Attribute(value=obj, attr=text, ctx=ctx), node))
        return None
