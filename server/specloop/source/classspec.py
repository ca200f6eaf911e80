"""Class targets: a class whose docstring describes it and whose body is only that
docstring, or the docstring plus method stubs.

A class target is an additional, separate target: the methods of a class with
method stubs stay function targets of their own (``spec.find_targets`` is
unchanged), and the class target groups them.  A class target is implemented
by ``components.implement_class`` (plan, parallel generation, review, fixes).

Decisions:

* Only classes at module level (not nested, not under ``if``/``try``).
* The body after the docstring may hold only methods whose body is a stub
  (a docstring and/or ``...``, ``pass``, ``raise NotImplementedError``) and
  bare stub statements (``...``, ``pass``).  Anything else (an attribute, an
  implemented method) means the class is not a spec: it is left alone.
* The docstring must be non-blank and start on its own line (not on the
  ``class`` line); classes deriving from ``Protocol`` are deliberate stubs and
  are not targets.
* ``fingerprint`` covers the class header, its docstring and the header and
  spec of every method stub: changing any of them makes a result stale.
* ``body_range`` runs from the end of the docstring to the end of the class's
  last line: the text an implementation replaces.
"""

from __future__ import annotations

import ast
import builtins
import doctest
import hashlib
import textwrap
from dataclasses import dataclass, field

from ..results import JobResult
from .spec import (Pos, Range, Target, _File, _tail_name, docstring_node, find_targets,  # noqa: F401
                   is_stub_statement)


@dataclass
class ClassTarget:
    name: str
    qualname: str                 # the same as name: module-level classes only
    header: str                   # decorators + "class ...:" as in the file
    docstring: str                # cleaned docstring
    methods: list[Target] = field(default_factory=list)   # existing method stubs with a spec
    stub_names: list[str] = field(default_factory=list)   # every method stub's name, in order
    text: str = ""                # the class as written in the file, dedented
    def_range: Range | None = None
    body_range: Range | None = None   # after the docstring .. end of the class's last line
    body_indent: str = "    "
    newline: str = "\n"
    examples: list = field(default_factory=list)   # doctest examples of the class docstring
    kind: str = "class"
    placeholder = "the class to implement"   # what stands in its place in the model's context
    # read by the context module as for a function target: no '# spec:' block, no enclosing class
    comment_spec = None
    class_name = None

    @property
    def spec(self) -> str:
        return self.docstring

    @property
    def fingerprint(self) -> str:
        parts = [self.header, self.docstring] + [m.header + "\0" + m.spec for m in self.methods]
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def _is_method_stub(node: ast.stmt) -> bool:
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    body = node.body[1:] if docstring_node(node.body) else node.body
    return all(is_stub_statement(s) for s in body)


_EXCEPTION_BASES = frozenset(n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException))


def _an_exception(node: ast.ClassDef) -> bool:
    """Whether the class derives from an exception by name: a builtin exception, or a name
    ending in Error, Exception or Warning (``class Refused(BankError)``)."""
    names = [_tail_name(b) or "" for b in node.bases]
    return any(n in _EXCEPTION_BASES or n.endswith(("Error", "Exception", "Warning")) for n in names)


def find_class_targets(source: str) -> list[ClassTarget]:
    """Every class target of ``source`` in file order (none when it does not parse)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return []
    f = _File(source)
    functions = find_targets(source).targets
    found = []
    for node in tree.body:
        if not isinstance(node, ast.ClassDef) or any(_tail_name(b) == "Protocol" for b in node.bases):
            continue
        doc = docstring_node(node.body)
        text = ast.get_docstring(node) if doc else None
        if doc is None or not (text and text.strip()) or doc.lineno == node.lineno:
            continue
        rest = node.body[1:]
        if not all(_is_method_stub(s) or is_stub_statement(s) for s in rest):
            continue
        if not any(isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) for s in rest) and _an_exception(node):
            continue        # `class Refused(ValueError): """doc"""` is a whole exception class, not a spec
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
        end_line = node.end_lineno - 1          # type: ignore[operator]
        doc_end = Pos(doc.end_lineno - 1, f.col(doc.end_lineno - 1, doc.end_col_offset))  # type: ignore[operator]
        header_end = f.lines[node.lineno - 1].rstrip()
        header = "\n".join([*f.lines[first:node.lineno - 1], header_end])
        body_line = f.lines[doc.lineno - 1]
        body_indent = body_line[: len(body_line) - len(body_line.lstrip())]
        whole = "\n".join(f.lines[first:end_line + 1])
        methods = [t for t in functions if t.class_name == node.name and t.qualname == f"{node.name}.{t.name}"]
        try:
            examples = doctest.DocTestParser().get_examples(text)
        except ValueError:
            examples = []
        found.append(ClassTarget(
            name=node.name, qualname=node.name, header=header, docstring=text, methods=methods,
            stub_names=[s.name for s in rest if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))],
            text=textwrap.dedent(whole), def_range=Range(Pos(first, 0), Pos(end_line, len(f.lines[end_line]))),
            body_range=Range(doc_end, Pos(end_line, len(f.lines[end_line]))), body_indent=body_indent,
            newline=f.newline_at(end_line), examples=examples))
    return found


def find_class_target(source: str, qualname: str) -> ClassTarget | None:
    return next((t for t in find_class_targets(source) if t.qualname == qualname), None)


def specs_of(source: str) -> tuple[list, list, list]:
    """(function targets, class targets, module-spec targets) of ``source``."""
    from .modulespec import find_module_targets

    return find_targets(source).targets, find_class_targets(source), find_module_targets(source)


def run_targets(source: str, only: str | None = None) -> list:
    """What ``specloop run`` implements in ``source`` (:func:`chosen` of its specs)."""
    return chosen(*specs_of(source), only)


def chosen(functions: list, classes: list, modules: list, only: str | None = None) -> list:
    """With ``only``, the function, class or module-spec target of that name; else every
    module spec, every class target and every function target that is not a method of a
    class target (those are the class's components): :func:`file_jobs`."""
    if only:
        return [t for t in [*functions, *classes, *modules] if t.qualname == only][:1]
    return file_jobs(functions, classes, modules)


def file_jobs(functions: list, classes: list, modules: list) -> list:
    """The jobs that implement a whole file, in file order, from its function, class and
    module-spec targets: every module spec, every class target and every function target
    that is not a method of a class target (those are the class's components, not jobs of
    their own).  ``specloop run FILE`` and the editor's "Implement all N specs" share it."""
    grouped = {c.name for c in classes}
    chosen = [*modules, *classes, *(t for t in functions if t.qualname.split(".")[0] not in grouped)]

    def line(t) -> int:
        r = t.def_range
        return r.start.line if r is not None else 0
    return sorted(chosen, key=line)


@dataclass
class ClassResult(JobResult):
    """The result of a class job: the class as one result, with its components' results.
    ``function_code`` is the whole class (what ``.specloop/results/`` saves);
    ``class_body`` is the text after the class docstring that an edit places."""

    components: list[JobResult] = field(default_factory=list)
    class_body: str | None = None
    body_indent: str = "    "
    kind: str = "class"

    def summary_dict(self) -> dict:
        return {**super().summary_dict(), "kind": "class",
                "components": [c.summary_dict() for c in self.components]}


def class_body_of(text: str, name: str) -> tuple[str | None, str | None]:
    """(the text after the docstring of module-level class ``name`` to the end of its last
    line, the whole class) in ``text``; (None, None) when it is not there."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None, None
    node = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name), None)
    doc = docstring_node(node.body) if node is not None else None
    if node is None or doc is None:
        return None, None
    f = _File(text)
    end_line = node.end_lineno - 1          # type: ignore[operator]
    start = Pos(doc.end_lineno - 1, f.col(doc.end_lineno - 1, doc.end_col_offset))  # type: ignore[operator]
    end = Pos(end_line, len(f.lines[end_line]))
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
    return f.text(start, end), f.text(Pos(first, 0), end) + "\n"
