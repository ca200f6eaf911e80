"""Which components of a class (or module spec) a test exercises, and which of them a
failing test blames.  Pure functions over source text; ``assembly.py`` uses them to
report a status per method and to decide what a repair round regenerates.

Decisions:

* **What a test calls** (:func:`uses`): the component names its source mentions --
  ``obj.name`` (methods, properties, class methods), ``name(...)`` (a module spec's
  functions), ``Cls(...)`` (``__init__``) -- and the dunder methods Python calls for
  it: ``len(x)`` -> ``__len__``, ``x[i]`` -> ``__getitem__``, ``a == b`` -> ``__eq__``,
  ``x in y`` -> ``__contains__``, ``for``/``list(x)`` -> ``__iter__``, ``a + b`` ->
  ``__add__``, a bare name shown by a doctest -> ``__repr__`` and so on.  A test whose
  source is not known (the user's tests) calls every component.
* **Reached through code** (:func:`closure`): a component whose code calls another
  (``self._grow()``, ``helper(x)``) exercises it too; a test exercises the closure.
* **Blame** (:func:`suspects`), for one failing test:

  1. ``AttributeError: ... object has no attribute 'x'`` where ``__init__`` is planned
     and its code does not set ``self.x``: ``__init__`` alone (it sets up the state the
     others use; with or without examples of its own).
  2. A test that already outlived a repair of its suspects: the components it reaches
     (through their code too) whose own examples fail; when none, the untested ones it
     reaches, else all it reaches.  Only a component with a failing test to quote is
     asked again; one whose own examples all pass is not blamed while another's fail.
  3. Otherwise the components it calls, less those *cleared* (they have examples of
     their own and every one of them passes on this assembled code) and less those
     without examples of their own (an untested ``__init__`` is not blamed for a wrong
     ``pop``); when that leaves none: the untested ones it calls, else the tested ones.
"""

from __future__ import annotations

import ast
import re

INIT = "__init__"

_BUILTINS = {"len": "__len__", "iter": "__iter__", "list": "__iter__", "tuple": "__iter__", "set": "__iter__",
             "sorted": "__iter__", "sum": "__iter__", "repr": "__repr__", "str": "__str__", "bool": "__bool__",
             "hash": "__hash__", "reversed": "__reversed__", "abs": "__abs__", "int": "__int__",
             "float": "__float__", "format": "__format__", "next": "__next__", "print": "__str__"}
_OPS = {ast.Add: "__add__", ast.Sub: "__sub__", ast.Mult: "__mul__", ast.Div: "__truediv__",
        ast.FloorDiv: "__floordiv__", ast.Mod: "__mod__", ast.Pow: "__pow__", ast.MatMult: "__matmul__",
        ast.BitAnd: "__and__", ast.BitOr: "__or__", ast.BitXor: "__xor__", ast.LShift: "__lshift__",
        ast.RShift: "__rshift__"}
_CMP = {ast.Eq: "__eq__", ast.NotEq: "__ne__", ast.Lt: "__lt__", ast.LtE: "__le__", ast.Gt: "__gt__",
        ast.GtE: "__ge__", ast.In: "__contains__", ast.NotIn: "__contains__"}
_SUBSCRIPT = {ast.Load: "__getitem__", ast.Store: "__setitem__", ast.Del: "__delitem__"}
_NO_ATTRIBUTE = re.compile(r"AttributeError: .*object has no attribute '(\w+)'")


def uses(code: str, names: set[str], class_name: str | None = None) -> set[str]:
    """The components of ``names`` that ``code`` (a test's or a component's source) calls;
    every name when ``code`` does not parse."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set(names)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.Name):
            found.add(node.id)
            if node.id == class_name:
                found.add(INIT)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _BUILTINS:
            found.add(_BUILTINS[node.func.id])
        elif isinstance(node, ast.Subscript):
            found.add(_SUBSCRIPT.get(type(node.ctx), "__getitem__"))
        elif isinstance(node, (ast.BinOp, ast.AugAssign)):
            op = _OPS.get(type(node.op))
            if op:
                found.update({op, "__r" + op[2:], "__i" + op[2:]})
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            found.add("__neg__")
        elif isinstance(node, ast.Compare):
            found.update(_CMP[type(op)] for op in node.ops if type(op) in _CMP)
        elif isinstance(node, (ast.For, ast.comprehension)):
            found.add("__iter__")
        elif isinstance(node, ast.With):
            found.update({"__enter__", "__exit__"})
        elif isinstance(node, (ast.If, ast.While, ast.BoolOp, ast.IfExp)):
            found.update({"__bool__", "__len__"})
    shown = [s.value for s in tree.body if isinstance(s, ast.Expr)]
    if any(isinstance(v, ast.Name) or (isinstance(v, ast.Call) and isinstance(v.func, ast.Name)
                                       and v.func.id == class_name) for v in shown):
        found.update({"__repr__", "__str__"})
    return found & names


def closure(direct: set[str], calls: dict[str, set[str]]) -> set[str]:
    """``direct`` and every component their code reaches (``calls``: component -> the
    components its code calls)."""
    out, todo = set(direct), list(direct)
    while todo:
        for other in calls.get(todo.pop(), set()):
            if other not in out:
                out.add(other)
                todo.append(other)
    return out


def sets_attribute(code: str | None, attribute: str) -> bool:
    """Whether ``code`` assigns ``self.<attribute>`` (or any ``<name>.<attribute>``)."""
    if not code:
        return False
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and node.attr == attribute:
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr":
            return True   # set by name: cannot tell which
    return False


def missing_attribute(message: str) -> str | None:
    """The attribute an ``AttributeError`` of an instance names, else None."""
    match = _NO_ATTRIBUTE.search(message or "")
    if match is None and "has no attribute" in (message or ""):
        match = re.search(r"has no attribute '(\w+)'", message)
    return match.group(1) if match else None


def suspects(message: str, direct: set[str], reached: set[str], *, cleared: set[str], tested: set[str],
             init_code: str | None, has_init: bool, widened: bool) -> set[str]:
    """The components a failing test blames (the rules of the module docstring): ``direct``
    the components it calls, ``reached`` those and what their code calls."""
    attribute = missing_attribute(message)
    if attribute and has_init and not sets_attribute(init_code, attribute):
        return {INIT}
    if widened:
        return ((reached & tested) - cleared) or (reached - tested) or set(reached)
    blamed = direct - cleared - (direct - tested)
    if blamed:
        return blamed
    return (direct - tested) or (direct & tested) or set(reached)
