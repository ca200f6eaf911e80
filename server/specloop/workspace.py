"""The workspace a file belongs to: one rule for the CLI, ``specloop check`` and the server.

The workspace is where settings (``[tool.specloop]``), records (``.specloop/``), kept
tests and traces live, and the root the sandbox shows.  For a file it is: the innermost
of the editor's workspace folders holding it (the server passes them; the terminal has
none), else the folder of the nearest ``pyproject.toml``, else of the nearest ``.git``,
else the file's own folder.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .settings import find_pyproject


def workspace_of(path: Path, folders: Iterable[str | Path | None] = ()) -> Path:
    path = Path(path).resolve()
    inside = [Path(f).resolve() for f in folders if f and path.is_relative_to(Path(f).resolve())]
    if inside:
        return max(inside, key=lambda p: len(p.parts))
    pyproject = find_pyproject(path.parent)
    if pyproject is not None:
        return pyproject.parent
    for folder in path.parents:
        if (folder / ".git").exists():
            return folder
    return path.parent
