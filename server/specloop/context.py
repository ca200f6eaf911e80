"""What the model sees besides the target itself, bounded in tokens.

Longer than 400 lines because the parts of the context (the module's own names, the
imported modules' signatures, the user's tests) share one token budget and one cache of
parsed files; split, each part would need the other's budget arithmetic.

Decisions:

* Tokens are estimated as ``ceil(len(text) / 4)``: no tokenizer is loaded (the
  small local model and the remote ones count differently, and four
  characters a token is the usual rule of thumb).  ``build_context`` never
  returns more than ``max_tokens * 4`` characters.
* The target is not repeated (the prompt shows it); where it sits in the
  module a marker line says ``# <name: the function to implement>`` (``the
  class to implement`` for a class spec, ``# <module spec: the functions it asks
  for go here>`` for a module spec's block; both get the same rule).
* A module that fits whole (with the tests that mention the target) is shown
  whole: for small files that is the best context there is.  A larger one is
  shown in parts, kept in this order of priority and trimmed from the
  lowest: the module's imports; for a method the enclosing class's outline
  (class lines, class attributes, ``self.x`` attributes set in ``__init__``,
  method signatures with the first docstring line); signatures of the
  module's functions and classes named in the spec; snippets of existing tests
  that mention the target; the other signatures, nearest first (at most half
  of the room left); then as many lines around the target as the rest of the
  budget allows.  A ``# spec:`` comment above the target goes with it.
* User tests (``find_user_tests``): pytest-style ``test*`` functions and
  ``test*`` methods of ``Test*`` classes without ``__init__``, in files named
  ``test_*.py`` or ``*_test.py``.  A test is picked when its own source names
  the target (a method: the method's name) as a word and its file names the
  module (its stem, or its package's name for re-exports) and, for a method,
  the class.  The walk skips hidden directories, ``node_modules``,
  ``site-packages``, ``__pycache__`` and virtual environments (a
  ``pyvenv.cfg`` inside), and stops after 5,000 files.
* Speed (issue 10): the list of test files of a workspace is remembered for
  :data:`SCAN_TTL` seconds (a job asks twice -- the tests to run and the
  context -- and a server's parallel jobs ask at once; a test file created
  in those seconds is seen by the next job after them); a test file's text and
  the tests in it are remembered per (path, mtime, size).  The module is
  parsed with the cyclic collector paused (``spec._parse``).  Every function
  here is plain synchronous Python that can take long on a big workspace or
  module: an event loop calls :func:`build_context_async` and
  :func:`find_user_tests_async`, which run them in a worker thread.
"""

from __future__ import annotations

import ast
import asyncio
import copy
import re
import textwrap
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path

from .classspec import ClassTarget
from .modulespec import ModuleTarget
from .folders import python_files
from .spec import Target, _parse

__all__ = ["build_context", "build_context_async", "find_user_tests", "find_user_tests_async",
           "user_test_snippets", "estimate_tokens"]

MAX_FILES = 5000
MAX_SNIPPET_LINES = 40
SCAN_TTL = 0.0   # the file list is walked anew per job (in a thread): a test file written a moment ago counts
MIN_ITEM = 8            # the shortest signature or class line: "class X:"
MODULES_KEPT = 2
_modules: OrderedDict[str, _Module] = OrderedDict()
_scans: dict[str, tuple[float, list[Path]]] = {}   # workspace -> (when, test files)
_files: dict[str, tuple[tuple[int, int], str, list[tuple[int, int, str, str]] | None]] = {}
_lock = threading.Lock()


def estimate_tokens(text: str) -> int:
    return (len(text) + 3) // 4


def _word(name: str, text: str) -> bool:
    return re.search(rf"\b{re.escape(name)}\b", text) is not None


# -- user tests ------------------------------------------------------------------------------


def _test_files(workspace: Path) -> list[Path]:
    """The workspace's test files, remembered for SCAN_TTL seconds."""
    key = f"{workspace}\0{MAX_FILES}"
    now = time.monotonic()
    with _lock:
        hit = _scans.get(key)
    if hit is not None and now - hit[0] <= SCAN_TTL:
        return hit[1]
    found = _walk_tests(workspace)
    with _lock:
        _scans[key] = (now, found)
        for old in [k for k, (t, _) in _scans.items() if now - t > SCAN_TTL]:
            del _scans[old]
    return found


def _walk_tests(workspace: Path) -> list[Path]:
    """pytest's default test files (``test_*.py``, ``*_test.py``) among the first
    :data:`MAX_FILES` Python files of the workspace (:mod:`specloop.folders`' rule)."""
    found: list[Path] = []
    for seen, (root, name) in enumerate(python_files(workspace), 1):
        if seen > MAX_FILES:
            break
        if name.startswith("test_") or name.endswith("_test.py"):
            found.append(Path(root, name))
    return found


def _module_words(path: Path) -> list[str]:
    words = [] if path.stem == "__init__" else [path.stem]
    if (path.parent / "__init__.py").exists():
        words.append(path.parent.name)
    return words


def user_test_snippets(target: Target | ClassTarget, path: Path, workspace: Path) -> list[tuple[str, str]]:
    """(pytest node id, source of the test) for each user test that mentions the target."""
    path = Path(path).resolve()
    module_words = _module_words(path)
    out: list[tuple[str, str]] = []
    for file in _test_files(Path(workspace)):
        file = file.resolve()
        if file == path:
            continue
        text = _read_test_file(file)
        if text is None:
            continue
        if target.name not in text or (target.class_name and not _word(target.class_name, text)):
            continue
        if module_words and not any(_word(w, text) for w in module_words):
            continue
        for prefix, name, snippet in _tests_of(file, text):
            if _word(target.name, snippet):
                out.append((f"{file}::{prefix}{name}", snippet))
    return out


def _read_test_file(file: Path) -> str | None:
    try:
        st = file.stat()
        stamp = (st.st_mtime_ns, st.st_size)
        with _lock:
            hit = _files.get(str(file))
        if hit is not None and hit[0] == stamp:
            return hit[1]
        text = file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    with _lock:
        _files[str(file)] = (stamp, text, None)
        if len(_files) > MAX_FILES:
            _files.pop(next(iter(_files)))
    return text


def _tests_of(file: Path, text: str) -> list[tuple[str, str, str]]:
    """(class prefix, name, source) of each test in a test file's text, remembered with it."""
    with _lock:
        hit = _files.get(str(file))
    if hit is not None and hit[1] is text and hit[2] is not None:
        return hit[2]  # type: ignore[return-value]
    try:
        tree = _parse(text)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        tests: list = []
    else:
        lines = text.splitlines()
        tests = [(prefix, node.name, "\n".join(lines[node.lineno - 1: node.end_lineno]))  # type: ignore[misc]
                 for node, prefix in _tests_in(tree)]
    with _lock:
        hit = _files.get(str(file))
        if hit is not None and hit[1] is text:
            _files[str(file)] = (hit[0], text, tests)
    return tests


def _tests_in(tree: ast.Module) -> list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, str]]:
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef)
    found: list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, str]] = []
    for node in tree.body:
        if isinstance(node, kinds) and node.name.startswith("test"):
            found.append((node, ""))
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            methods = [m for m in node.body if isinstance(m, kinds)]
            if any(m.name == "__init__" for m in methods):
                continue
            found += [(m, f"{node.name}::") for m in methods if m.name.startswith("test")]
    return found


def find_user_tests(target: Target, path: Path, workspace: Path) -> list[str]:
    """Pytest node ids ("ABSPATH::test_x", "ABSPATH::TestX::test_y") of the
    user's tests that mention the target."""
    return [node_id for node_id, _ in user_test_snippets(target, path, workspace)]


async def find_user_tests_async(target: Target, path: Path, workspace: Path) -> list[str]:
    """:func:`find_user_tests` in a worker thread (a workspace walk and file reads: keep
    them off an event loop)."""
    return await asyncio.to_thread(find_user_tests, target, path, workspace)


# -- module parts ----------------------------------------------------------------------------


def _first_doc_line(node: ast.AST) -> str:
    doc = ast.get_docstring(node) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
        else None
    return doc.strip().splitlines()[0] if doc and doc.strip() else ""


def _signature(node: ast.FunctionDef | ast.AsyncFunctionDef, indent: str = "") -> str:
    stub = copy.copy(node)
    stub.body = [ast.Expr(ast.Constant(...))]
    text = ast.unparse(stub).replace(":\n    ...", ": ...")
    doc = _first_doc_line(node)
    text += f"  # {doc}" if doc else ""
    return "\n".join(indent + line for line in text.splitlines())


def _class_line(node: ast.ClassDef, indent: str = "") -> str:
    bases = [ast.unparse(b) for b in node.bases] + [ast.unparse(k) for k in node.keywords]
    doc = _first_doc_line(node)
    decorators = "".join(f"{indent}@{ast.unparse(d)}\n" for d in node.decorator_list)
    return f"{decorators}{indent}class {node.name}{'(' + ', '.join(bases) + ')' if bases else ''}:" + \
        (f"  # {doc}" if doc else "")


def _class_summary(node: ast.ClassDef, skip: str | None = None) -> str:
    """Class line, class attributes, instance attributes and method signatures."""
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef)
    out = [_class_line(node)]
    for item in node.body:
        if isinstance(item, (ast.Assign, ast.AnnAssign)):
            out.append("    " + ast.unparse(item).splitlines()[0][:120])
        elif isinstance(item, kinds) and item.name != skip:
            out.append(_signature(item, "    "))
            if item.name == "__init__":
                attrs = sorted({t.attr for t in ast.walk(item) if isinstance(t, ast.Attribute)
                                and isinstance(t.ctx, ast.Store) and isinstance(t.value, ast.Name)
                                and t.value.id == "self"})
                if attrs:
                    out.append("    # instance attributes: " + ", ".join("self." + a for a in attrs))
        elif isinstance(item, ast.ClassDef):
            out.append("    " + _class_line(item))
    return "\n".join(out)


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
        file = str(Path(file).relative_to(workspace))
    except ValueError:
        pass
    return f"# {file}::{name}\n" + "\n".join(lines)


class _Sections:
    """Sections chosen by priority within a character budget, shown in a fixed order."""

    ORDER = ("head", "imports", "outline", "named", "others", "around", "tests")

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.chosen: dict[str, str] = {}

    def text(self) -> str:
        return "\n\n".join(self.chosen[k] for k in self.ORDER if k in self.chosen)

    def room(self) -> int:
        used = len(self.text())
        return self.budget - used - (2 if used else 0)

    def add(self, key: str, title: str, items: Iterable[str], share: float = 1.0) -> None:
        """The items that fit (each whole, in order), under ``title``.  ``items`` is read
        only while one more could fit (no item is shorter than MIN_ITEM characters)."""
        avail = int(self.room() * share)
        chosen, size = [], len(title)
        for item in items:
            extra = len(item) + (1 if size else 0)
            if size + extra <= avail:
                chosen.append(item)
                size += extra
            if avail - size < MIN_ITEM + 1:
                break
        if chosen:
            self.chosen[key] = "\n".join([title, *chosen] if title else chosen)


def build_context(source: str, target: Target | ClassTarget | ModuleTarget, *, path: Path, workspace: Path,
                  max_tokens: int) -> str:
    """The context for ``target`` in ``source`` (the file at ``path``), at most
    ``max_tokens`` estimated tokens.  A class spec (``classspec.ClassTarget``) gets the same
    rule as a function: the class is the target, its tests are those that mention it; a
    module spec's block is the target (its functions do not exist yet: no tests)."""
    out = _Sections(max(0, max_tokens) * 4)
    workspace = Path(workspace).resolve()
    try:
        rel = str(Path(path).resolve().relative_to(workspace))
    except ValueError:
        rel = Path(path).name
    lines = source.splitlines()
    around = _without_target(lines, target) if target.def_range else lines
    tests = [_snippet(i, s, workspace) + "\n" for i, s in user_test_snippets(target, Path(path), workspace)]
    if tests:
        tests[-1] = tests[-1].rstrip("\n")
    tests_title = f"# existing tests that mention {target.name}\n"
    out.add("head", "", [f"# file: {rel}"])
    out.add("whole", "", ["\n".join(around)])
    if "whole" in out.chosen:                      # small module: all of it, then the tests
        out.chosen["head"] += "\n\n" + out.chosen.pop("whole")
        out.add("tests", tests_title, tests)
        return out.text()
    module = _module(source)
    tree = module.tree
    out.add("imports", "", module.imports)
    chain = _enclosing(tree, target)
    if chain:
        outer = [_class_line(c, "    " * i) for i, c in enumerate(chain[:-1])]
        inner = _class_summary(chain[-1], skip=target.name)
        out.add("outline", "", ["\n".join([*outer, *("    " * (len(chain) - 1) + x for x in inner.splitlines())])])
    spec_text = target.spec + "\n" + target.header
    top = chain[0].name if chain else None
    here = target.def_range.start.line if target.def_range else 0
    nearest = sorted((n for n in module.tops if n.name not in (target.name, top)),
                     key=lambda n: abs(n.lineno - 1 - here))
    is_named = [_word(n.name, spec_text) for n in nearest]
    out.add("named", "# used by the spec", [module.signature(n) for n, yes in zip(nearest, is_named) if yes])
    out.add("tests", tests_title, tests)
    out.add("others", "# elsewhere in the module",
            (module.signature(n) for n, yes in zip(nearest, is_named) if not yes), share=0.5)
    title = "# around the target"
    near = _window(around, min(here, len(around) - 1), out.room() - len(title) - 1) if around else ""
    out.add("around", title, [near] if near else [])
    text = out.text()
    return text[: max(text.rfind("\n", 0, out.budget + 1), 0)] if len(text) > out.budget else text


class _Module:
    """A module's tree and what every job on it needs, made once per text: its imports,
    its top-level functions and classes, their signatures as they are asked for."""

    KINDS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)

    def __init__(self, source: str) -> None:
        try:
            self.tree = _parse(source)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            self.tree = ast.Module(body=[], type_ignores=[])
        self.imports = [ast.unparse(n) for n in self.tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        self.tops = [n for n in self.tree.body if isinstance(n, self.KINDS)]
        self._signatures: dict[int, str] = {}

    def signature(self, node: ast.AST) -> str:
        text = self._signatures.get(id(node))
        if text is None:
            text = self._signatures[id(node)] = _class_summary(node) if isinstance(node, ast.ClassDef) \
                else _signature(node)  # type: ignore[arg-type]
        return text


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


async def build_context_async(source: str, target: Target, *, path: Path, workspace: Path, max_tokens: int) -> str:
    """:func:`build_context` in a worker thread: it parses the whole module (15 ms at 2,000
    lines, over 200 ms at 20,000) and scans the workspace's tests, which an event loop
    serving editor requests must not wait for."""
    return await asyncio.to_thread(build_context, source, target, path=path, workspace=workspace,
                                   max_tokens=max_tokens)
