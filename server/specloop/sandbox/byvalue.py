"""Which targets of a run can be judged by value, and how the judge's proxies must look.

A run judged by value (``child/bridge.py``) imports the module as written in the judge and
replaces each target by a proxy into the candidate's process.  This module reads both texts
with ``ast`` (nothing runs) and says, per target, what kind of proxy it needs -- ``function``,
``async``, ``staticmethod``, ``classmethod``, ``property`` -- or that the run cannot be judged
by value (:func:`proxies` returns None; the run is then judged in-process and says so):

* a target whose definition is not a ``def`` at module or class level (nested in a function,
  made by an expression), or one that is two of staticmethod, classmethod and property;
* a class that defines a method the crossing itself relies on (``__new__``, ``__getattr__``,
  ``__setattr__``, ``__reduce__``, ``__getstate__`` ...): its objects could not cross (``__slots__``
  can: their values are copied back as a ``__dict__`` is);
* a module spec whose candidate adds top-level names other than functions and imports
  (classes, constants) that the judge would not have.
"""

from __future__ import annotations

import ast

# methods the crossing calls on the objects it copies: a class defining them is judged in-process
UNCROSSABLE = frozenset({"__new__", "__getattr__", "__getattribute__", "__setattr__", "__delattr__",
                         "__reduce__", "__reduce_ex__", "__getstate__", "__setstate__", "__copy__",
                         "__deepcopy__", "__init_subclass__", "__set_name__", "__class_getitem__", "__del__"})
_KINDS = {"staticmethod": "staticmethod", "classmethod": "classmethod", "property": "property",
          "functools.cached_property": "property", "cached_property": "property"}


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def _defs(tree: ast.Module) -> dict[str, ast.AST]:
    """Every function and class at module level and in (nested) classes, by qualified name;
    a property's setter and deleter are folded into the getter's name."""
    found: dict[str, ast.AST] = {}

    def walk(body, prefix):
        for node in body:
            if isinstance(node, ast.ClassDef):
                found[prefix + node.name] = node
                walk(node.body, prefix + node.name + ".")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.setdefault(prefix + node.name, node)
            elif isinstance(node, (ast.If, ast.Try)):
                walk(node.body + node.orelse, prefix)
    walk(tree.body, "")
    return found


def _kind(node: ast.AST) -> str | None:
    """The proxy a ``def`` needs.  Other decorators are no obstacle: the proxy stands for what the
    candidate's module made of the ``def``, and the decorator runs there (a deprecation wrapper
    warns in the candidate's process, and the warning comes back)."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    kinds = {_KINDS.get(ast.unparse(d)) for d in node.decorator_list} - {None}
    if len(kinds) > 1:
        return None
    if kinds:
        return kinds.pop()
    return "async" if isinstance(node, ast.AsyncFunctionDef) else "function"


def local_classes(source: str) -> list[str]:
    """The qualified names of the classes ``source`` defines outside functions: the judge has
    them too, so their objects cross by value."""
    tree = _parse(source)
    return [] if tree is None else [q for q, n in _defs(tree).items() if isinstance(n, ast.ClassDef)]


def class_methods(source: str, qualname: str) -> list[str]:
    """The qualified names of the methods class ``qualname`` of ``source`` defines."""
    tree = _parse(source)
    if tree is None:
        return []
    return [q for q, n in _defs(tree).items() if q.startswith(qualname + ".") and "." not in q[len(qualname) + 1:]
            and isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def new_functions(judge_source: str, candidate_source: str) -> list[str] | None:
    """The top-level functions the candidate defines that the judge's text does not; None when
    it adds other top-level names (classes, constants) the judge would lack."""
    before, after = _parse(judge_source), _parse(candidate_source)
    if before is None or after is None:
        return None
    old = _top_names(before)
    added: list[str] = []
    for node in after.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.name not in old:
                added.append(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom, ast.Expr)):
            continue
        elif not (_top_names(ast.Module(body=[node], type_ignores=[])) <= old):
            return None
    return added


def _top_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def proxies(judge_source: str, candidate_source: str, targets: tuple[str, ...]) -> list[list[str]] | None:
    """``[[qualname, kind], ...]`` for the judge's proxies, or None: judge this run in-process."""
    judge, candidate = _parse(judge_source), _parse(candidate_source)
    if judge is None or candidate is None or not targets:
        return None
    defs = _defs(candidate)
    out: list[list[str]] = []
    for qualname in targets:
        kind = _kind(defs.get(qualname))
        if kind is None:
            return None
        owner = qualname.rpartition(".")[0]
        if owner:
            cls = defs.get(owner)
            if not isinstance(cls, ast.ClassDef) or any(
                    (isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name in UNCROSSABLE)
                    or (isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id in UNCROSSABLE
                                                          for t in n.targets))
                    for n in cls.body):
                return None
        out.append([qualname, kind])
    return out


def plan(judge_source: str | None, candidate_source: str, targets: tuple[str, ...],
         module_names: bool = False) -> list[list[str]] | None:
    """The proxies of a run (:func:`proxies`), or None when it is judged in-process: no module
    as written to judge with, or (``module_names``, a module spec) a candidate that adds
    top-level names other than functions, which tests would use and the judge would lack.
    Remembered for the last few texts: an attempt asks once for the policy, once for its run."""
    if judge_source is None:
        return None
    key = (judge_source, candidate_source, tuple(targets), bool(module_names))
    found = _PLANS.get(key, _UNKNOWN)
    if found is _UNKNOWN:
        found = proxies(judge_source, candidate_source, targets)
        if found is not None and module_names and new_functions(judge_source, candidate_source) is None:
            found = None
        _PLANS[key] = found
        while len(_PLANS) > 16:
            _PLANS.pop(next(iter(_PLANS)), None)
    return None if found is None else [list(proxy) for proxy in found]   # a copy: callers may change theirs


_UNKNOWN = object()
_PLANS: dict = {}   # (judge text, candidate text, targets, module_names) -> proxies or None
