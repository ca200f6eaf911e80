"""Process mode: the workspace's test and config files as a run found them, put back if it changed them.

Without bubblewrap the code under test has the user's rights for the length of a run: it
could rewrite the project's tests before the judge reads them, or its pytest configuration.
:func:`snapshot` notes those files of the workspace (test modules by pytest's default names,
``conftest.py``, ``pytest.ini``, ``pyproject.toml``, ``setup.cfg``, ``tox.ini``; a bounded
walk that skips what :data:`isolation.SKIP_DIRS` names and ``.specloop``) with their stat
and bytes -- kept between runs, read again only when a file's stat changed.  :func:`restore`
compares after the run: a file the run changed or removed gets its bytes back, and what the
run left is kept under ``.specloop/changed-by-run/`` (nothing is lost, should the user have
saved that file at that moment).  The run is then untrusted.  Files specloop itself writes
while other jobs run (kept model tests: ``exclude``) are not watched; files a run creates
where later runs load them are :mod:`runs`'s ``_planted``.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import time
from dataclasses import dataclass, field

from .isolation import MAX_SCAN, SKIP_DIRS

MAX_BYTES = 512 * 1024
ASIDE = os.path.join(".specloop", "changed-by-run")
_WATCHED = ("test_*.py", "*_test.py", "conftest.py", "pytest.ini", "pyproject.toml", "setup.cfg", "tox.ini",
            "pytest.toml", ".pytest.toml")
_BYTES: dict[str, tuple[tuple[int, int, int], bytes]] = {}   # path -> (stat key, bytes), between runs


@dataclass
class Snapshot:
    root: str
    exclude: str
    files: dict[str, tuple[int, int, int]] = field(default_factory=dict)   # path -> (mtime_ns, size, inode)


def _key(st: os.stat_result) -> tuple[int, int, int]:
    return st.st_mtime_ns, st.st_size, st.st_ino


def _walk(root: str, exclude: str = "") -> dict[str, tuple[int, int, int]]:
    found: dict[str, tuple[int, int, int]] = {}
    for folder, subdirs, names in os.walk(root):
        subdirs[:] = [d for d in subdirs if d not in SKIP_DIRS and d != ".specloop"
                      and not os.path.islink(os.path.join(folder, d))]
        for name in names:
            path = os.path.join(folder, name)
            if not any(fnmatch.fnmatchcase(name, p) for p in _WATCHED) or \
                    (exclude and fnmatch.fnmatchcase(path, exclude)):
                continue
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if os.path.isfile(path) and not os.path.islink(path):
                found[path] = _key(st)
        if len(found) > MAX_SCAN:
            break
    return found


def snapshot(root: str, exclude: str = "") -> Snapshot:
    """The watched files now, their bytes kept (read again only where the stat changed);
    ``exclude``: a glob of paths not watched."""
    files = _walk(root, exclude)
    for path, key in files.items():
        cached = _BYTES.get(path)
        if (cached is None or cached[0] != key) and key[1] <= MAX_BYTES:
            try:
                with open(path, "rb") as fh:
                    _BYTES[path] = (key, fh.read())
            except OSError:
                _BYTES.pop(path, None)
    return Snapshot(root, exclude, files)


def restore(before: Snapshot) -> list[str]:
    """The watched files (relative paths) the run changed or removed; each put back as it was,
    what the run left kept under ``.specloop/changed-by-run/``."""
    now = _walk(before.root, before.exclude)
    touched: list[str] = []
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for path, key in before.files.items():
        if now.get(path) == key:
            continue
        rel = os.path.relpath(path, before.root)
        touched.append(rel)
        cached = _BYTES.get(path)
        if cached is None or cached[0] != key:
            continue   # not kept (not code or config, or too big): reported, not put back
        _aside(before.root, path, rel, stamp)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as fh:
                fh.write(cached[1])
            _BYTES.pop(path, None)
        except OSError:
            pass
    return touched


def _aside(root: str, path: str, rel: str, stamp: str) -> None:
    if not os.path.exists(path):
        return
    dest = os.path.join(root, ASIDE, stamp, rel)
    try:
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copy2(path, dest)
    except OSError:
        pass
