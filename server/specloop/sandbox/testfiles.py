"""The files pytest would see in a project, and their texts, remembered per file.

**Which files** follow the project's pytest config (:mod:`projectenv`): only under its
``testpaths`` when it sets them (else under the project root), files matching
``python_files`` (default ``test_*.py``, ``*_test.py``), not in ``norecursedirs``
(pytest's default list when unset) nor under an ``--ignore`` of ``addopts``; besides
them the ``conftest.py`` files, and the other Python files under ``testpaths`` (without
them: in folders named ``test*``), helpers and mixins that tests import.  The walk also
skips hidden folders, ``node_modules``, ``site-packages``, ``__pycache__`` and virtual
environments (:mod:`specloop.folders`) and stops after :data:`MAX_FILES` files.

A file's text is remembered per (path, mtime, size) in :data:`_files`, with a dict
where :mod:`collection` and :mod:`targetnames` keep what they learned from that text
(parsed once per stamp).  :func:`_module_file` finds a project module's file under
given roots.  Everything here is synchronous.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import threading
import time
from pathlib import Path

from ..folders import skipped
from .projectenv import PytestConfig

MAX_FILES = 5000
SCAN_TTL = 0.0   # the file list is walked anew per job (in a thread): a test file written a moment ago counts
NORECURSE_DEFAULT = ("*.egg", ".*", "_darcs", "build", "CVS", "dist", "node_modules", "venv", "{arch}")
_lock = threading.Lock()
_scans: dict[str, tuple[float, tuple[list[Path], list[Path], list[Path]]]] = {}   # key -> (when, files)
_files: dict[str, tuple[tuple[int, int], str, dict]] = {}             # path -> (stamp, text, {config key: info})


def _file_matches(path: str, patterns: list[str]) -> bool:
    name = os.path.basename(path)
    return any(fnmatch.fnmatch(path if os.sep in p else name, p) for p in patterns)


def _ignored(config: PytestConfig) -> tuple[set[str], list[str]]:
    paths: set[str] = set()
    globs: list[str] = []
    opts = config.addopts
    for i, arg in enumerate(opts):
        for flag, into in (("--ignore", "path"), ("--ignore-glob", "glob")):
            value = None
            if arg == flag and i + 1 < len(opts):
                value = opts[i + 1]
            elif arg.startswith(flag + "="):
                value = arg[len(flag) + 1:]
            if value:
                full = os.path.abspath(os.path.join(config.root, value))
                (paths.add(full) if into == "path" else globs.append(full))
    return paths, globs


def _walk(config: PytestConfig) -> tuple[list[Path], list[Path], list[Path]]:
    """(test files, conftest files, other Python files) pytest would see under the test roots
    (the others: helpers and mixins tests import), bounded by MAX_FILES."""
    roots: list[str] = []
    for entry in config.testpaths:
        full = os.path.join(config.root, entry)
        roots += sorted(glob.glob(full)) if any(c in entry for c in "*?[") else [full]
    if not config.testpaths:
        roots = [str(config.root)]
    norecurse = config.args("norecursedirs")
    norecurse = [p.rstrip("/") for p in (NORECURSE_DEFAULT if norecurse is None else norecurse)]
    ignore_paths, ignore_globs = _ignored(config)
    patterns = config.python_files
    tests: list[Path] = []
    conftests: list[Path] = []
    others: list[Path] = []
    seen = 0
    for top in dict.fromkeys(os.path.abspath(r) for r in roots):
        if os.path.isfile(top):
            tests.append(Path(top))
            continue
        for folder, dirs, names in os.walk(top):
            dirs[:] = sorted(d for d in dirs if not skipped(folder, d)
                             and not any(fnmatch.fnmatch(d, p) for p in norecurse)
                             and os.path.join(folder, d) not in ignore_paths)
            for name in sorted(names):
                if not name.endswith(".py") or name.startswith("."):
                    continue
                seen += 1
                if seen > MAX_FILES:
                    return tests, conftests, others
                full = os.path.join(folder, name)
                if full in ignore_paths or any(fnmatch.fnmatch(full, g) for g in ignore_globs):
                    continue
                if name == "conftest.py":
                    conftests.append(Path(full))
                elif _file_matches(full, patterns):
                    tests.append(Path(full))
                elif config.testpaths or any(part.startswith("test") for part in
                                             os.path.relpath(folder, config.root).split(os.sep)):
                    others.append(Path(full))   # without testpaths: only in test folders, not the package
    return tests, conftests, others


def _config_key(config: PytestConfig) -> tuple:
    return (str(config.root), tuple(config.testpaths), tuple(config.python_files), tuple(config.python_classes),
            tuple(config.python_functions), tuple(config.args("norecursedirs") or ()), tuple(config.addopts))


def _scan(config: PytestConfig) -> tuple[list[Path], list[Path], list[Path]]:
    key = f"{_config_key(config)}\0{MAX_FILES}"
    now = time.monotonic()
    with _lock:
        hit = _scans.get(key)
    if hit is not None and now - hit[0] <= SCAN_TTL:
        return hit[1]
    found = _walk(config)
    with _lock:
        _scans[key] = (now, found)
        for old in [k for k, (t, _) in _scans.items() if now - t > SCAN_TTL]:
            del _scans[old]
    return found


def _read(file: Path) -> str | None:
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
        _files[str(file)] = (stamp, text, {})
        if len(_files) > MAX_FILES:
            _files.pop(next(iter(_files)))
    return text


def _module_file(module: str, roots: list[Path]) -> Path | None:
    for root in roots:
        for candidate in (Path(root, *module.split(".")).with_suffix(".py"), Path(root, *module.split("."), "__init__.py")):
            if candidate.is_file():
                return candidate
    return None
