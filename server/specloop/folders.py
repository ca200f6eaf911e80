"""Which folders specloop walks when it looks for Python files: one rule for the spec
finder of ``specloop run DIR`` / ``specloop check DIR`` and for the scan of the user's tests.

Skipped: hidden folders (``.git``, ``.venv``, ``.tox``, ``.specloop`` ...), tool folders
(:data:`SKIP_FOLDERS`) and any virtualenv (a folder holding ``pyvenv.cfg``, whatever its
name).  Files are listed in a stable order: a folder's files by name, then its subfolders
by name.

The sandbox's scan for secret files (:func:`specloop.sandbox.isolation.secret_paths`) walks on
purpose where this rule does not (``.ssh``, ``.aws`` and dot files are what it looks for),
so it keeps its own list.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

SKIP_FOLDERS = frozenset({"node_modules", "__pycache__", "site-packages"})


def skipped(parent: str, name: str) -> bool:
    """Whether the folder ``name`` in ``parent`` is left out: hidden, a tool folder or a virtualenv."""
    return name.startswith(".") or name in SKIP_FOLDERS or os.path.exists(os.path.join(parent, name, "pyvenv.cfg"))


def python_files(folder: str | os.PathLike[str], onerror: Callable[[OSError], None] | None = None
                 ) -> Iterator[tuple[str, str]]:
    """(folder, file name) of every ``.py`` file under ``folder`` that is not hidden, in a
    stable order, without the skipped folders.  A generator: a caller with a bound stops it."""
    for root, dirs, files in os.walk(folder, onerror=onerror):
        dirs[:] = sorted(d for d in dirs if not skipped(root, d))
        for name in sorted(files):
            if name.endswith(".py") and not name.startswith("."):
                yield root, name
