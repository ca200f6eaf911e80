"""The kinds of targets: a function stub, a class spec, a module spec.

A kind is one module here holding one :class:`~.base.Kind` (``function.py``, ``classes.py``,
``module.py``): how its targets are found, titled, implemented, placed as edits, where a
result's findings sit, what ``check`` records of it.  This registry is the one place that
knows which kinds there are: the front ends (the CLI, the language server) ask it for the
kind of a target or a result (:func:`of`, by the ``kind`` attribute both carry) and call
that kind; they never switch on kinds themselves.  A new kind is a new module and one line
in :data:`KINDS`.  Class and module specs are planned and implemented component by
component (``components.py``, ``plan.py``).
"""

from __future__ import annotations

from typing import Any

from ..source.classspec import file_jobs
from ..source.edits import TextEdit, apply_edits
from ..source.placement import StaleTarget
from ..source.spec import find_targets
from .base import Kind, Mark, Placed
from .classes import KIND as CLASS
from .function import KIND as FUNCTION
from .module import KIND as MODULE

__all__ = ["KINDS", "Kind", "Mark", "Placed", "StaleTarget", "edits", "placed_text", "of", "find", "find_all", "by_kind", "is_header", "jobs", "line_of", "ordered"]

KINDS: tuple[Kind, ...] = (FUNCTION, CLASS, MODULE)   # the order a name is looked up in
_BY_NAME: dict[str, Kind] = {k.name: k for k in KINDS}


def of(obj: Any) -> Kind:
    """The kind of a target or a result."""
    return _BY_NAME[obj.kind]


def find_all(source: str) -> tuple[dict[str, list], str | None]:
    """Every target of every kind in ``source``, by kind name, and why ``source`` does not
    parse (``"line N: message"``; then there are none)."""
    error = find_targets(source).error
    if error is not None:
        return {k.name: [] for k in KINDS}, error
    return {k.name: k.find(source) for k in KINDS}, None


def jobs(found: dict[str, list]) -> list:
    """The jobs ``specloop run FILE`` runs for the targets of :func:`find_all`, in file order:
    a class spec is one job, its method stubs are its components, not jobs of their own."""
    return file_jobs(found.get(FUNCTION.name, []), found.get(CLASS.name, []), found.get(MODULE.name, []))


def find(source: str, qualname: str) -> Any | None:
    """The target called ``qualname`` in ``source`` (a function stub, else a class spec of
    that name, else the module spec ``module spec (line N)``), None when there is none."""
    return next((t for k in KINDS if (t := k.find_one(source, qualname)) is not None), None)


def ordered(found: dict[str, list]) -> list:
    """The targets of :func:`find_all`, the broader first (module specs, classes, then functions)."""
    return [t for k in reversed(KINDS) for t in found.get(k.name, [])]


def edits(text: str, result: Any, *, anyway: bool = False) -> list[TextEdit]:
    """Edits placing ``result`` into ``text`` where its target is now.  Raises
    :class:`StaleTarget` when the target is gone, is no longer a spec, or (unless ``anyway``:
    the user's "apply anyway") its header or spec changed since the job started."""
    return of(result).edits(text, result, anyway=anyway)


def placed_text(text: str, result: Any, encoding: str = "utf-8", *, anyway: bool = False) -> str:
    """``text`` with ``result`` placed (:func:`edits`).  Raises :class:`StaleTarget`, or
    ValueError: overlapping edits, or code that the file's ``encoding`` cannot hold (a passing
    result with "…" in a latin-1 file)."""
    placed = apply_edits(text, edits(text, result, anyway=anyway))
    try:
        placed.encode(encoding)
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start:exc.end]
        raise ValueError(f"its code holds {bad!r}, which the file's encoding ({encoding}) cannot hold") from None
    return placed


def by_kind(found: list) -> dict[str, list]:
    """Targets of several kinds, grouped by kind name (as :func:`find_all` gives them)."""
    out: dict[str, list] = {k.name: [] for k in KINDS}
    for t in found:
        out[t.kind].append(t)
    return out


def is_header(line_text: str, qualname: str) -> bool:
    """Whether ``line_text`` is where ``qualname`` starts: its ``def`` or ``class`` line, or a
    module spec's block (done or not)."""
    return any(k.is_header(line_text, qualname) for k in KINDS)


def line_of(text: str, qualname: str) -> int | None:
    """Where a job on ``qualname`` says what it has to say in ``text``: a module spec's first
    line, a function's def line, a class's ``class`` line; also when the text does not parse."""
    return next((line for k in KINDS if (line := k.line_of(text, qualname)) is not None), None)
