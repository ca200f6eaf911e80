"""The ``plan`` step of a class or module spec: the model proposes the class's components, each a
method stub (header + docstring, doctest examples where the spec allows); the plan is
checked here and placed into the module as ordinary function targets.

Decisions:

* The reply is one fenced python block holding the class (DESIGN.md contract 4),
  read with :func:`prompts.parse_code` and checked with ``ast``
  (:func:`parse_plan`): it parses; it holds exactly one class, named as the
  target (imports beside it are allowed and ignored: a component brings its own);
  method names are unique; every method has a docstring and nothing else (a
  ``...``/``pass`` after the docstring is tolerated); the existing method stubs
  are all there with their spec text unchanged; ``__init__`` is allowed.  A
  failure is a ``ValueError`` whose message is quoted back in the one re-ask
  (``ModelClient.complete``); a second failure ends the job in ``error``.
* The plan's own class docstring is ignored: the user's class header and
  docstring stay as written.  Existing method stubs are placed with the user's
  own text (comments and all), new ones as the plan wrote them, re-indented to
  the class's body indentation.
* A module spec's plan (:func:`check_module_plan`) is module-level function stubs
  (imports beside them ignored), names unique, not already bound in the module,
  not hiding a builtin (a planned ``len`` would break the module's other code), not
  a dunder (a module-level ``__getattr__`` would answer for every missing name),
  each a header and a docstring; they are placed below the spec block in plan order.
"""

from __future__ import annotations

import ast
import builtins
import copy
import textwrap
from dataclasses import dataclass

from ..model import prompts
from ..source.classspec import ClassTarget
from ..source.edits import TextEdit, apply_edits
from ..source.modulespec import ModuleTarget, module_edits
from ..source.spec import docstring_node

PLAN_STEP = "plan"


@dataclass
class Component:
    name: str
    text: str            # the stub (decorators, header, docstring) at column 0, "\n" newlines
    existing: bool       # one of the user's method stubs


@dataclass
class Plan:
    components: list[Component]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.components]


def _only_docstring(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    if docstring_node(node.body) is None:
        return False
    rest = node.body[1:]
    return all(isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
                                           and s.value.value is Ellipsis) for s in rest)


def _header_key(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """The header as parsed (name, arguments, decorators, return), without the body."""
    bare = copy.copy(node)
    bare.body = [ast.Pass()]
    return ast.unparse(bare)


def _segment(code: str, node: ast.stmt) -> str:
    lines = code.splitlines()
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))]) - 1
    return textwrap.dedent("\n".join(lines[first:node.end_lineno])) + "\n"   # type: ignore[attr-defined]


def check_plan(code: str, target: ClassTarget) -> Plan:
    """The plan in ``code`` (the reply's python block) for ``target``; ValueError says what is wrong."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise ValueError(f"the python block does not parse (line {exc.lineno}: {exc.msg})") from None
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    others = [n for n in tree.body if not isinstance(n, (ast.ClassDef, ast.Import, ast.ImportFrom))
              and not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    if len(classes) != 1 or classes[0].name != target.name:
        found = ", ".join(f"`{c.name}`" for c in classes) or "none"
        raise ValueError(f"the block must hold exactly one class, `{target.name}` (found: {found})")
    if others:
        raise ValueError(f"the block holds code besides the class (line {others[0].lineno}); "
                         "write only the class with method stubs")
    cls = classes[0]
    body = cls.body[1:] if docstring_node(cls.body) else cls.body
    methods = []
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            methods.append(node)
        elif not (isinstance(node, ast.Pass) or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))):
            raise ValueError(f"the class holds a statement that is not a method stub (line {node.lineno}); "
                             "write methods with a header and a docstring only")
    if not methods:
        raise ValueError(f"the class `{target.name}` has no methods")
    names = [m.name for m in methods]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"method names must be unique: {', '.join(twice)} defined twice")
    for m in methods:
        if not _only_docstring(m):
            raise ValueError(f"the method `{m.name}` must be a stub: its header and a docstring, no body")
    planned = {m.name: m for m in methods}
    for existing in target.methods:
        got = planned.get(existing.name)
        if got is None:
            raise ValueError(f"the existing method `{existing.name}` is missing; keep it as written")
        if (ast.get_docstring(got) or "").strip() != (existing.docstring or "").strip() and existing.docstring:
            raise ValueError(f"the docstring of the existing method `{existing.name}` was changed; keep it as written")
        mine = ast.parse(textwrap.dedent(existing.header) + "\n    pass\n").body[0]
        if _header_key(mine) != _header_key(got):   # type: ignore[arg-type]
            raise ValueError(f"the header of the existing method `{existing.name}` was changed; keep it as written")
    existing_names = {m.name for m in target.methods}
    return Plan([Component(m.name, _segment(code, m), m.name in existing_names) for m in methods])


def parse_plan(reply: str, target: ClassTarget) -> Plan:
    """A ``plan`` reply read leniently (:func:`prompts.parse_code`), then checked."""
    return check_plan(prompts.parse_code(reply), target)


def planned_source(source: str, target: ClassTarget, plan: Plan) -> str:
    """``source`` with the class body (after its docstring) replaced by the plan's stubs: the
    existing stubs in the user's own text, new ones as planned."""
    own = _existing_texts(source, target)
    nl, indent = target.newline, target.body_indent
    blocks = []
    for comp in plan.components:
        text = own.get(comp.name) if comp.existing else None
        if text is None:
            text = textwrap.indent(comp.text.rstrip("\n"), indent, lambda line: bool(line.strip()))
        blocks.append(text.replace("\r\n", "\n").replace("\n", nl))
    body = nl + nl + (nl + nl).join(blocks)
    return apply_edits(source, [TextEdit(target.body_range, body)])


def _existing_texts(source: str, target: ClassTarget) -> dict[str, str]:
    """The user's text of each existing method stub (decorators to its last line)."""
    lines = source.splitlines()
    out = {}
    for m in target.methods:
        if m.def_range is None:
            continue
        out[m.name] = "\n".join(lines[m.def_range.start.line:m.def_range.end.line + 1])
    return out


def check_module_plan(code: str, target: ModuleTarget) -> Plan:
    """The plan in ``code`` for a module spec: module-level function stubs only (imports
    beside them are allowed and ignored), names unique and new to the module."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise ValueError(f"the python block does not parse (line {exc.lineno}: {exc.msg})") from None
    functions = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.append(node)
        elif not (isinstance(node, (ast.Import, ast.ImportFrom))
                  or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))):
            raise ValueError(f"the block holds a statement that is not a function stub (line {node.lineno}); "
                             "write only functions with a header and a docstring")
    if not functions:
        raise ValueError("the block holds no function")
    names = [f.name for f in functions]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"function names must be unique: {', '.join(twice)} defined twice")
    taken = [n for n in names if n in target.defined]
    if taken:
        raise ValueError(f"the module already defines {', '.join(f'`{n}`' for n in taken)}; "
                         "plan only new functions (they may call what exists)")
    special = [n for n in names if n.startswith("__") and n.endswith("__")]
    if special:
        raise ValueError(f"{', '.join(f'`{n}`' for n in special)} is a special module name "
                         "(a module-level __getattr__ would answer for every missing name); choose another name")
    shadowing = [n for n in names if n in dir(builtins)]
    if shadowing:
        raise ValueError(f"{', '.join(f'`{n}`' for n in shadowing)} would hide Python's builtin of that name; "
                         "choose another name")
    for f in functions:
        if not _only_docstring(f):
            raise ValueError(f"the function `{f.name}` must be a stub: its header and a docstring, no body")
    return Plan([Component(f.name, _segment(code, f), False) for f in functions])


def planned_module_source(source: str, target: ModuleTarget, plan: Plan) -> str:
    """``source`` with the plan's function stubs where the result will go (below the module
    spec block, or below the module's header when the block stands above it)."""
    stubs = "\n\n".join(c.text.rstrip("\n") + "\n" for c in plan.components)
    return apply_edits(source, module_edits(source, target, stubs, done=False))


def _parse(reply: str, target) -> Plan:
    if isinstance(target, ModuleTarget):
        return check_module_plan(prompts.parse_code(reply), target)
    return parse_plan(reply, target)


async def ask_plan(client, target: ClassTarget | ModuleTarget, context: str) -> Plan:
    """One ``plan`` request (one re-ask with the validation error; then ``ModelError``)."""
    messages = (prompts.module_plan_messages(target, context) if isinstance(target, ModuleTarget)
                else prompts.plan_messages(target, context))
    return await client.complete(PLAN_STEP, messages, parse=lambda reply: _parse(reply, target))
