"""Short forms of Python definitions, for the model's context: a function's signature with
the first line of its docstring, a class's outline, a module-level name with its value
where that is short.  Shared by the context of the target's own module
(:mod:`specloop.context`) and the index of the workspace's other files
(:mod:`specloop.context.index`).

* A signature is the ``def`` line(s) with decorators, the body replaced by ``...``,
  followed by ``# <first docstring line>``.
* A class outline: decorators and the class line (bases, keywords, first docstring line),
  class attributes (first line of each, at most 120 characters), method signatures,
  ``# instance attributes: self.a, self.b`` from ``__init__``, nested class lines.
* A module-level name: the statement as written, dedented (``_UNSET = object()``, ``foo = bar``,
  ``SIZES: dict[str, int] = {...}``), at most :data:`MAX_LINES` lines and
  :data:`MAX_CHARS` characters; a longer one ends with `` ...``.
"""

from __future__ import annotations

import ast
import copy
import textwrap

MAX_LINES = 4
MAX_CHARS = 240
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def first_doc_line(node: ast.AST) -> str:
    doc = ast.get_docstring(node) if isinstance(node, (*FUNCTIONS, ast.ClassDef)) else None
    return doc.strip().splitlines()[0] if doc and doc.strip() else ""


def signature(node: ast.FunctionDef | ast.AsyncFunctionDef, indent: str = "") -> str:
    stub = copy.copy(node)
    stub.body = [ast.Expr(ast.Constant(...))]
    text = ast.unparse(stub).replace(":\n    ...", ": ...")
    doc = first_doc_line(node)
    text += f"  # {doc}" if doc else ""
    return "\n".join(indent + line for line in text.splitlines())


def class_line(node: ast.ClassDef, indent: str = "") -> str:
    bases = [ast.unparse(b) for b in node.bases] + [ast.unparse(k) for k in node.keywords]
    doc = first_doc_line(node)
    decorators = "".join(f"{indent}@{ast.unparse(d)}\n" for d in node.decorator_list)
    return f"{decorators}{indent}class {node.name}{'(' + ', '.join(bases) + ')' if bases else ''}:" + \
        (f"  # {doc}" if doc else "")


def class_summary(node: ast.ClassDef, skip: str | None = None) -> str:
    """Class line, class attributes, instance attributes and method signatures."""
    out = [class_line(node)]
    for item in node.body:
        if isinstance(item, (ast.Assign, ast.AnnAssign)):
            out.append("    " + ast.unparse(item).splitlines()[0][:120])
        elif isinstance(item, FUNCTIONS) and item.name != skip:
            out.append(signature(item, "    "))
            if item.name == "__init__":
                attrs = sorted({t.attr for t in ast.walk(item) if isinstance(t, ast.Attribute)
                                and isinstance(t.ctx, ast.Store) and isinstance(t.value, ast.Name)
                                and t.value.id == "self"})
                if attrs:
                    out.append("    # instance attributes: " + ", ".join("self." + a for a in attrs))
        elif isinstance(item, ast.ClassDef):
            out.append("    " + class_line(item))
    return "\n".join(out)


def statement(node: ast.stmt, lines: list[str]) -> str:
    """A module-level assignment as written, cut to MAX_LINES lines / MAX_CHARS characters."""
    start, end = node.lineno - 1, (node.end_lineno or node.lineno)
    text = textwrap.dedent("\n".join(lines[start:min(end, start + MAX_LINES)])).rstrip()
    cut = end - start > MAX_LINES
    if len(text) > MAX_CHARS:
        text, cut = text[:MAX_CHARS].rstrip(), True
    return text + " ..." if cut else text


def describe(node: ast.stmt, lines: list[str]) -> str:
    """A module-level definition's short form: signature, class outline or the statement."""
    if isinstance(node, FUNCTIONS):
        return signature(node)
    if isinstance(node, ast.ClassDef):
        return class_summary(node)
    return statement(node, lines)


def assigned_names(node: ast.stmt) -> list[str]:
    """The names a module-level assignment binds (``a = b = 1``, ``a, b = ...``, ``a: int``)."""
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign):
        targets = [node.target]
    elif type(node).__name__ == "TypeAlias":          # 'type X = ...' (3.12)
        targets = [node.name]  # type: ignore[attr-defined]
    else:
        return []
    return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]


def top_statements(tree: ast.Module) -> list[ast.stmt]:
    """The module's own statements, with those inside top-level ``if``/``try``/``with``
    blocks (``if TYPE_CHECKING:``, ``try: import x except ImportError: x = None``)."""
    out: list[ast.stmt] = []

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
                visit(node.body)  # type: ignore[attr-defined]
                for handler in node.handlers:  # type: ignore[attr-defined]
                    visit(handler.body)
                visit(node.orelse)  # type: ignore[attr-defined]
                visit(node.finalbody)  # type: ignore[attr-defined]
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                visit(node.body)
            else:
                out.append(node)
    visit(tree.body)
    return out
