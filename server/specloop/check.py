"""``specloop check``: the functions specloop implemented, tested again, and spec drift.

When a front end writes a result into a file it records the function (for a
class or module spec: each of its components, :func:`record_result`) in
``<workspace>/.specloop/implemented.json``: file, qualified name, the
fingerprint of its spec (header + docstring) and of its code.  ``check`` finds
each recorded function in the file as it is now and

* re-runs its authoritative tests (the docstring's examples as they read now and
  the user's tests that mention it) in the sandbox against the file on disk;
* reports *drift*: the spec changed since specloop implemented it (the code may
  no longer be what the docstring asks for), the code was edited by hand, the
  function is a stub again, or it is gone.

Functions specloop did not write are not checked (their tests are the user's
business); a function whose spec changed is checked against the new spec.

``check --accept`` (:func:`check_file` with ``accept=True``): a drifted function whose
authoritative tests pass as it reads now (a prose-only docstring edit, a hand edit that
keeps its tests passing) is recorded again, spec and code as they read now, so the next
``check`` passes; one that fails, is a stub again or is gone stays reported.  It is the
terminal's "Re-check" (:func:`recheck`, the editor's quick fix), for every function at once.

For the editor: :func:`spec_drift` is the cheap part (one ``ast`` parse of a
text, no sandbox): the recorded functions whose spec changed while their body
did not.  :func:`recheck` runs one function's authoritative tests against a
text and, when they pass, records the function again (its spec as it reads
now).  :func:`records_for` reads the records file again only when it changed.
"""

from __future__ import annotations

import ast
import asyncio
import hashlib
import json
import os
import textwrap
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .context.gather import find_user_tests
from .sandbox import policy
from .source.locate import find_function, split_lines
from .sandbox.runs import Sandbox, SandboxRequest, doctest_file, module_name_for
from .settings import Settings
from .source.spec import Target, find_target

RECORD = Path(".specloop") / "implemented.json"


@dataclass
class Implemented:
    path: str            # relative to the workspace
    qualname: str
    spec: str            # fingerprint of header + docstring when written
    code: str            # fingerprint of the body when written
    written: float = 0.0


@dataclass
class CheckResult:
    name: str
    path: str
    status: str                         # passed | failed | error | gone
    drift: list[str] = field(default_factory=list)
    passed: int = 0
    failed: int = 0
    first_failure: str | None = None
    error: str | None = None
    accepted: list[str] = field(default_factory=list)   # the drift ``--accept`` recorded away
    judged: str = ""                    # "value" or "in-process" (README, "How code is run safely")

    def to_dict(self) -> dict:
        return asdict(self)


def _node(tree: ast.Module, qualname: str) -> tuple[ast.FunctionDef | ast.AsyncFunctionDef, list[str]] | None:
    """The function ``qualname`` and the names of its enclosing classes."""
    parts = qualname.split(".")
    body, classes = tree.body, []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        found = None
        for node in body:
            if last and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == part:
                found = node
            elif not last and isinstance(node, ast.ClassDef) and node.name == part:
                found = node
        if found is None:
            return None
        if last:
            return found, classes
        classes.append(part)
        body = found.body
    return None


def _as_stub(source: str, qualname: str, tree: ast.Module | None = None) -> tuple[Target | None, str | None]:
    """The function as the stub it was written from (header + docstring), and the
    fingerprint of its body; (None, None) when it is not there.  ``tree``: ``source``
    parsed already."""
    if tree is None:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            return None, None
    found = _node(tree, qualname)
    if found is None:
        return None, None
    node, classes = found
    lines = source.splitlines(keepends=True)
    first = min([d.lineno for d in node.decorator_list] + [node.lineno]) - 1
    body = node.body
    doc = body[0] if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None),
                                                                            ast.Constant) \
        and isinstance(body[0].value.value, str) else None
    end = (doc.end_lineno if doc is not None else node.body[0].lineno - 1)
    stub = textwrap.dedent("".join(lines[first:end]))
    if doc is None:
        stub += "    ...\n"
    for name in reversed(classes):
        stub = f"class {name}:\n" + textwrap.indent(stub, "    ")
    rest = body[1:] if doc is not None else body
    code = hashlib.sha256("\n".join(ast.dump(n) for n in rest).encode()).hexdigest()[:16]
    return find_target(stub, qualname), code


def judge_text(source: str, qualname: str) -> str | None:
    """``source`` with the function ``qualname``'s body gone after its docstring (``...`` where it
    has none): what the judge imports when the file's code is judged by value; None when the
    function is not there."""
    found = find_function(source, qualname)
    if found is None:
        return None
    if found.body_start is None:   # a docstring only: a stub already
        return source
    lines = split_lines(source)
    keep = lines[:found.doc_end + 1] if found.doc_end is not None else lines[:found.body_start] + [
        f"{found.indent}...\n"]
    return "".join(keep + lines[found.end + 1:])


def _record_path(workspace: Path) -> Path:
    return Path(workspace) / RECORD


def load(workspace: Path) -> list[Implemented]:
    try:
        data = json.loads(_record_path(workspace).read_text(encoding="utf-8"))
        return [Implemented(**item) for item in data.get("functions", [])]
    except (OSError, ValueError, TypeError):
        return []


_cache: dict[str, tuple[tuple[int, int, int], list[Implemented]]] = {}


def _relpath(path: Path, workspace: Path) -> str:
    return os.path.relpath(os.path.abspath(path), os.path.abspath(workspace))


def records_for(workspace: Path, path: Path) -> list[Implemented]:
    """The records of the functions specloop implemented in ``path``.  The records file is
    read again only when it changed (its mtime, size or inode), so this is cheap to call on
    every (debounced) edit."""
    dest = _record_path(workspace)
    try:
        st = dest.stat()
    except OSError:
        _cache.pop(str(dest), None)
        return []
    stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
    hit = _cache.get(str(dest))
    if hit is None or hit[0] != stamp:
        hit = (stamp, load(workspace))
        _cache[str(dest)] = hit
    rel = _relpath(path, workspace)
    return [i for i in hit[1] if i.path == rel]


@dataclass
class Drift:
    """A recorded function whose spec changed while its body did not."""
    qualname: str
    def_line: int        # 0-based line of its ``def``
    spec: str            # fingerprints as the text reads now
    code: str


def fingerprints(source: str, qualname: str) -> tuple[str, str] | None:
    """(spec, body) fingerprints of ``qualname`` in ``source`` as :func:`record` takes them;
    None when the text does not parse or the function is not there."""
    target, code = _as_stub(source, qualname)
    return None if target is None or code is None else (target.fingerprint, code)


def spec_drift(source: str, records: list[Implemented]) -> list[Drift] | None:
    """The recorded functions whose spec (header + docstring) differs from the recorded one
    while their body is the one specloop wrote.  A function whose body changed too, that is a
    stub again, or that is gone is not listed.  ``None`` when ``source`` does not parse (the
    caller keeps what it knew).  One ``ast`` parse; nothing runs."""
    if not records:
        return []
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    drifted = []
    for item in records:
        target, code = _as_stub(source, item.qualname, tree)
        if target is None or code is None or code != item.code or target.fingerprint == item.spec:
            continue
        found = _node(tree, item.qualname)
        if found is not None:
            drifted.append(Drift(item.qualname, found[0].lineno - 1, target.fingerprint, code))
    return drifted


def record(workspace: Path, path: Path, source: str, qualname: str) -> None:
    """Remember that specloop wrote ``qualname`` into ``path`` (whose text is now ``source``)."""
    record_all(workspace, path, source, [qualname])


def record_result(workspace: Path, path: Path, source: str, result) -> None:
    """Remember what a result written into ``path`` implemented: what its kind of target says
    (``targets``: its function, or for a class or module spec each of its components, the
    functions with a spec and tests that ``check`` re-tests).  ``specloop run`` and the editor
    record alike."""
    from . import targets       # the kinds sit beside check, above the loop

    record_all(workspace, path, source, targets.of(result).recorded(result))


def record_all(workspace: Path, path: Path, source: str, qualnames: list[str]) -> bool:
    """:func:`record` for several functions of one file, in one write of the records file.
    False when nothing was recorded (not found in ``source``, or the file cannot be written)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    rel = _relpath(path, workspace)
    found = {}
    for qualname in qualnames:
        target, code = _as_stub(source, qualname, tree)
        if target is not None and code is not None:
            found[qualname] = Implemented(rel, qualname, target.fingerprint, code, round(time.time(), 3))
    if not found:
        return False
    # a function recorded again keeps its place (``check`` reports in the records' order)
    items, placed = [], set()
    for item in load(workspace):
        if item.path == rel and item.qualname in found:
            if item.qualname not in placed:
                placed.add(item.qualname)
                items.append(found[item.qualname])
        else:
            items.append(item)
    items += [i for name, i in found.items() if name not in placed]
    dest = _record_path(workspace)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"functions": [asdict(i) for i in items]}, indent=1), encoding="utf-8")
        os.replace(tmp, dest)
    except OSError:
        return False
    return True


async def check_file(path: Path, workspace: Path, settings: Settings, *,
                     accept: bool = False) -> list[CheckResult]:
    """Check every function specloop implemented in ``path``.  ``accept``: record again
    (spec and code as the file reads now) each function that drifted and whose
    authoritative tests pass; its drift moves to ``accepted``.  A failing one is not
    recorded and keeps its drift."""
    path, workspace = Path(path).resolve(), Path(workspace).resolve()
    rel = os.path.relpath(path, workspace)
    wanted = [i for i in load(workspace) if i.path == rel]
    if not wanted:
        return []
    source = path.read_text(encoding="utf-8")
    # the first Sandbox of a process probes bubblewrap (a subprocess): off the event loop
    sandbox = await asyncio.to_thread(Sandbox, settings, workspace)
    module = module_name_for(path)[0]
    results = []
    for item in wanted:
        results.append(await _check_one(item, source, path, workspace, module, sandbox))
    if accept:
        chosen = [r for r in results if r.status == "passed" and r.drift]
        if chosen and not record_all(workspace, path, source, [r.name for r in chosen]):
            for result in chosen:
                result.error = f"cannot write {RECORD}: nothing accepted"
            chosen = []
        for result in chosen:
            result.accepted, result.drift = result.drift, []
    return results


async def recheck(path: Path, workspace: Path, settings: Settings, qualname: str,
                  source: str) -> CheckResult:
    """Run the authoritative tests of ``qualname`` against ``source`` (the text of ``path`` as
    the editor holds it; the file on disk is not read for it).  When they pass, the function
    is recorded again: its spec as it reads in ``source`` is the one its code meets now.
    Raises :class:`~specloop.sandbox.SandboxError` when the sandbox cannot be set up."""
    path, workspace = Path(os.path.abspath(path)), Path(os.path.abspath(workspace))
    item = next((i for i in records_for(workspace, path) if i.qualname == qualname), None)
    if item is None:
        return CheckResult(qualname, _relpath(path, workspace), "error",
                           error="specloop has no record of implementing it")
    sandbox = await asyncio.to_thread(Sandbox, settings, workspace)
    result = await _check_one(item, source, path, workspace, module_name_for(path)[0], sandbox)
    if result.status == "passed":
        record(workspace, path, source, qualname)
    return result


async def _check_one(item: Implemented, source: str, path: Path, workspace: Path, module: str,
                     sandbox: Sandbox) -> CheckResult:
    result = CheckResult(item.qualname, item.path, "error")
    if find_target(source, item.qualname) is not None:
        result.status, result.drift = "failed", ["it is a stub again: implement it or remove its record"]
        return result
    target, code = _as_stub(source, item.qualname)
    if target is None:
        result.status, result.drift = "gone", ["specloop implemented it, but it is no longer in the file"]
        return result
    if target.fingerprint != item.spec:
        result.drift.append("the spec changed after specloop implemented it: the code may not do what it now says")
    if code != item.code:
        result.drift.append("the code was edited after specloop wrote it")
    tests = []
    if target.examples:
        tests.append(doctest_file(module, target.qualname, target.examples))
    user_tests = await asyncio.to_thread(find_user_tests, target, path, workspace)
    if not tests and not user_tests:
        result.status, result.error = "failed", "untested: no doctest examples and no tests of yours mention it"
        return result
    judge = judge_text(source, item.qualname)
    run = await sandbox.run(SandboxRequest(path, source, workspace, tests, user_tests, judge_source=judge,
                                           targets=(item.qualname,) if judge is not None else (),
                                           in_process_fallback=not policy.check(source)), verify=True)
    auth = [o for o in run.outcomes if o.authoritative]
    result.judged = run.judged
    result.passed = sum(o.outcome == "passed" for o in auth)
    result.failed = len(auth) - result.passed
    failing = [o for o in auth if o.outcome != "passed"]
    if failing:
        result.first_failure = f"{failing[0].id}: {failing[0].message}"
    result.error = run.tampered or run.error
    result.status = "passed" if not failing and run.error is None and auth else "failed"
    return result
