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
from ..source.spec import find_targets
from .base import Kind, Mark, Placed
from .classes import KIND as CLASS
from .function import KIND as FUNCTION
from .module import KIND as MODULE

__all__ = ["KINDS", "Kind", "Mark", "Placed", "of", "find", "find_all", "by_kind", "jobs", "line_of", "ordered"]

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


def by_kind(found: list) -> dict[str, list]:
    """Targets of several kinds, grouped by kind name (as :func:`find_all` gives them)."""
    out: dict[str, list] = {k.name: [] for k in KINDS}
    for t in found:
        out[t.kind].append(t)
    return out


def line_of(text: str, qualname: str) -> int | None:
    """Where a job on ``qualname`` says what it has to say in ``text``: a module spec's first
    line, a function's def line, a class's ``class`` line; also when the text does not parse."""
    return next((line for k in KINDS if (line := k.line_of(text, qualname)) is not None), None)
