"""Which files and targets a ``specloop run`` takes (the rules are in ``runfiles``' docstring):
reading them, walking a folder (git's view of it where there is one), and finding a file's
targets again."""

from __future__ import annotations

import argparse
import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from .. import folders
from ..workspace import workspace_of
from ..results import plural
from ..source.writeback import SourceFile, Undecodable, display_path, read_source

from .runstate import BadInput, FileJob

if TYPE_CHECKING:
    from .app import Reporter


def _read(path: Path) -> SourceFile:
    try:
        return read_source(path)
    except OSError as exc:
        raise BadInput(f"cannot read {display_path(path)}: {exc.strerror or exc}") from None
    except Undecodable as exc:
        raise BadInput(str(exc)) from None


def python_files(folder: Path, problems: list[str]) -> list[Path]:
    """The .py files under ``folder`` in a stable order (a folder's files, then its
    subfolders, by name), without hidden, tool and virtualenv folders; in a git work
    tree only the files git does not ignore.  The skip rule and the walk are
    :mod:`specloop.folders`'s."""
    listed = _git_files(folder)
    if listed is not None:
        found: list[Path] = []
        for relative in listed:
            parts = relative.split("/")
            if not parts[-1].endswith(".py") or parts[-1].startswith("."):
                continue
            if any(folders.skipped(os.path.join(folder, *parts[:i]), parts[i]) for i in range(len(parts) - 1)):
                continue
            path = Path(folder, *parts)
            if path.is_file():       # listed by the index but deleted, or a submodule: nothing to read
                found.append(path)
        return sorted(found, key=lambda p: (p.parent.parts, p.name))

    def unreadable(exc: OSError) -> None:
        problems.append(f"skipped {display_path(exc.filename)}: {exc.strerror or exc}")

    return [Path(root, name) for root, name in folders.python_files(folder, onerror=unreadable)]


def _git_files(folder: Path) -> list[str] | None:
    """The files under ``folder`` that git does not ignore, tracked or not ('/'-separated,
    relative to it); None when it is not in a git work tree, git is missing or fails, or
    git ignores the folder itself (then the user named it on purpose: it is walked)."""
    def git(*args: str) -> subprocess.CompletedProcess | None:
        try:
            return subprocess.run(["git", *args], cwd=folder, capture_output=True, timeout=60,
                                  stdin=subprocess.DEVNULL)
        except (OSError, subprocess.SubprocessError):
            return None

    listing = git("ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", ".")
    if listing is None or listing.returncode != 0:
        return None
    names = list(dict.fromkeys(os.fsdecode(name) for name in listing.stdout.split(b"\0") if name))
    if not names:
        ignored = git("check-ignore", "-q", ".")
        if ignored is not None and ignored.returncode == 0:
            return None
    return names


def collect(args: argparse.Namespace, problems: list[str]) -> list[FileJob]:
    """The files with targets (filtered by --target).  Raises BadInput; in a
    folder, files that cannot be read or parsed go to ``problems`` instead."""
    from ..source.spec import find_targets

    path: Path = args.path
    folder = path.is_dir()
    if not folder and not path.is_file():
        raise BadInput(f"{display_path(path)}: {'not a file or folder' if os.path.lexists(path) else 'no such file or folder'}")
    jobs: list[FileJob] = []
    names: list[str] = []
    for file in python_files(path, problems) if folder else [path]:
        try:
            source = _read(file)
            found = find_targets(source.text)
            if found.error:
                raise BadInput(_unparsable(file, found.error))
        except BadInput as exc:
            if not folder:
                raise
            problems.append(f"skipped {exc}")
            continue
        from ..source.classspec import chosen, specs_of   # class specs: the class and its methods

        specs = specs_of(source.text)
        names += [t.qualname for group in specs for t in group]
        targets = chosen(*specs, args.target)
        if targets:
            jobs.append(FileJob(source, targets, workspace_of(file)))
    if args.target and not jobs:
        where = "any file under " if folder else ""
        raise BadInput(f"no spec named {args.target} in {where}{display_path(path)} "
                       f"(specs there: {', '.join(dict.fromkeys(names)) or 'none'})")
    return jobs


def _unparsable(path: Path, error: str) -> str:
    """Why a file that does not parse is not run: a file not named ``.py`` (``specloop run
    README.md``) is not a Python file; a ``.py`` file has a syntax error, said where."""
    if Path(path).suffix.lower() not in (".py", ".pyw", ".pyi"):
        return f"{display_path(path)}: not a Python file (specloop runs the specs of .py files)"
    return f"{display_path(path)} does not parse: {error}"


def announce(args: argparse.Namespace, reporter: Reporter, jobs: list[FileJob]) -> None:
    """The first progress line, as soon as the specs are found and the settings checked
    (before the engine is imported): what is going to be implemented."""
    if args.json or not jobs:
        return
    names = [t.qualname for job in jobs for t in job.targets]
    files = f" in {len(jobs)} files" if len(jobs) > 1 else ""
    shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
    reporter.note(f"{display_path(args.path)}: {plural(len(names), 'spec')}{files}: {shown}")


def _reread(job: FileJob, only: str | None) -> FileJob:
    from ..source.spec import find_targets

    source = _read(job.source.path)
    if source.raw == job.source.raw:
        return job
    found = find_targets(source.text)
    if found.error:
        raise BadInput(_unparsable(source.path, found.error))
    from ..source.classspec import run_targets

    return FileJob(source, run_targets(source.text, only), job.workspace)
