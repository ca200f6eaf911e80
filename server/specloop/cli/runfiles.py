"""`specloop run` over files: which files and targets, the jobs one after the
other, then what is written, diffed or saved (``writeback`` does the writing).

Longer than 400 lines because the rules of one run (which files, what is written,
what is saved instead, the exit status) are decided together; the writing itself, the
folder rule and the workspace rule are modules of their own.

Decisions (the README's `specloop run` section says the same):

* PATH is a file or a folder.  In a folder, every ``.py`` file with specs
  runs, in path order; hidden folders and files, virtualenvs (any folder with
  a ``pyvenv.cfg``), ``node_modules``, ``__pycache__`` and ``site-packages``
  are skipped.  In a git work tree the files are the ones git sees (``git
  ls-files --cached --others --exclude-standard``): what ``.gitignore`` ignores
  does not run, then the same skip list applies; a folder git ignores as a
  whole, or no git at all, is walked instead.  A file there that cannot be read, decoded or parsed is
  skipped with one line on stderr; the others still run, and the exit status
  is 2.  Each file belongs to the workspace of its nearest pyproject.toml
  (else .git, else its folder), whose settings apply.
* In a file the targets run one after the other, each job seeing the code
  already placed for the ones before it; the file is written once.  Files run
  ``--jobs N`` at a time (default 1, or the ``parallel_jobs`` setting where the
  environment or ``[tool.specloop]`` sets it); results, the summary table and
  ``--json`` list the targets in path order whatever order they finished in.
* A target is placed (written) only when its tests pass, or with
  ``--write-failing``.  A failing attempt is saved under
  ``.specloop/results/`` and the target is left as it was; the reason and the
  first failing test are printed.  Later targets see the text to be written.
* A result that passed but cannot be placed (its target changed, a name it defines is
  taken, code the file's encoding cannot hold) is never silent: its
  ``unplaced_reason`` says why (``--json`` too), one line says it passed and was not
  placed and where it was saved (never "its tests fail"), and the exit status is 1, so
  ``written`` and the exit status agree.
* ``--diff`` writes nothing, not even ``.specloop/results/``; it shows every
  attempt with code, failing ones too, each marked by a ``#`` line on stderr.
* The file is written only if it still holds the bytes that were read.  Edited
  or deleted meanwhile, or not writable: nothing is written (a deleted file is
  not re-created) and every attempt is saved under ``.specloop/results/``.
* Kept model tests are written only for targets that were written.
* A model that cannot be reached (no server, no connection: ``model_errors.unreachable``)
  fails every spec alike: the target that met it says so once (with the hint), the
  specs after it are not tried (one line names them), and the exit status is 2, as for
  a model that is not configured.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .. import folders
from ..model import errors as model_errors
from ..source import placement
from ..workspace import workspace_of
from ..results import Event, JobResult, Log, plural, unplaced_text
from ..source.spec import Target
from ..source.writeback import (CHANGED, DELETED, WRITTEN, SourceFile, Undecodable, display_path, read_source,
                        reason_of, save_attempt, unified_diff, write_back)

if TYPE_CHECKING:
    from .app import Reporter
    from ..settings import Settings

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_CANCELLED = 0, 1, 2, 130


class BadInput(Exception):
    """Reported as one line on stderr with exit status 2."""


@dataclass
class Entry:
    """One target's result and what became of it."""

    result: JobResult
    file: str
    placed: bool = False          # in the text to write (passed, or --write-failing)
    written: bool = False
    saved: Path | None = None
    line: int | None = None       # 1-based line of its def in the file as the run leaves it
    finding_lines: list[int] | None = None   # the file line (1-based) of each finding, where known

    def as_dict(self) -> dict:
        data = {**self.result.summary_dict(), "file": self.file, "line": self.line, "written": self.written,
                "saved": display_path(self.saved) if self.saved else None}
        lines = self.finding_lines or []
        data["findings"] = [f.to_dict(in_file=True, file_line=lines[i] if i < len(lines) else None)
                            for i, f in enumerate(self.result.findings)]
        for component, result in zip(data.get("components") or [], getattr(self.result, "components", None) or []):
            component["findings"] = [f.to_dict(in_file=True) for f in result.findings]
        return data


def summary(entries: list[Entry], seconds: float) -> dict:
    """The totals of a run (the ``summary`` object of ``--json``, the table's last line)."""
    results = [e.result for e in entries]
    return {
        "targets": len(results),
        **{status: sum(r.status == status for r in results) for status in ("passed", "failed", "error", "cancelled")},
        "tests": {"passed": sum(r.passed for r in results), "failed": sum(r.failed for r in results)},
        "tokens": {"prompt": sum(r.usage.prompt_tokens for r in results),
                   "completion": sum(r.usage.completion_tokens for r in results)},
        "cost_usd": round(sum(r.usage.cost_usd for r in results), 6),
        "seconds": round(seconds, 3),
    }


@dataclass
class FileJob:
    """One file to work on."""

    source: SourceFile
    targets: list[Target]
    workspace: Path
    entries: list[Entry] = field(default_factory=list)
    current: str = ""             # the text to write: placed results only
    shown: str = ""               # what --diff shows: every result with code


@dataclass
class Run:
    args: argparse.Namespace
    reporter: Reporter
    code: int = EXIT_OK
    entries: list[Entry] = field(default_factory=list)
    kept: dict[Path, list[str]] = field(default_factory=dict)   # kept model tests per tests file
    written: list[str] = field(default_factory=list)            # files written so far
    unreachable: str | None = None    # the model could not be reached: its line (said once); nothing more is tried
    untried: list[str] = field(default_factory=list)            # the specs not tried because of it

    def problem(self, message: str) -> None:
        """A one-line reason on stderr; exit status 2."""
        self.reporter.note(f"specloop: {message}")
        self.code = max(self.code, EXIT_BAD_INPUT)

    def emit(self, event: Event) -> None:
        """The engine's events to the reporter, but a step's line that says the model cannot be
        reached (``no model tests: cannot reach ...``): the target's result says it, once."""
        if isinstance(event, Log) and model_errors.unreachable(event.message):
            return
        self.reporter.event(event)

    def stop_if_unreachable(self, result: JobResult) -> bool:
        """After ``result``: whether it ended because the model cannot be reached (then no
        further spec is tried, and the exit status is 2).  Returns True when an earlier
        result said so already (the caller does not repeat the hint)."""
        if result.status != "error" or not model_errors.unreachable(result.error):
            return False
        self.code = max(self.code, EXIT_BAD_INPUT)
        if self.unreachable is None:
            self.unreachable = result.error
            return False
        return True

    def report_untried(self) -> None:
        if self.untried:
            names = ", ".join(self.untried[:8]) + (f" and {len(self.untried) - 8} more" if len(self.untried) > 8 else "")
            self.reporter.note(f"specloop: the model cannot be reached: {plural(len(self.untried), 'spec')} "
                               f"not tried: {names}")


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


async def run_path(args: argparse.Namespace, reporter: Reporter, written: list[str] | None = None,
                   collected: tuple[list[FileJob], list[str]] | None = None) -> tuple[int, list[Entry]]:
    """Run every job of PATH; returns the exit status and the entries.  The
    files written so far are appended to ``written`` (for the cancel message).
    ``collected``: the jobs and problems :func:`collect` found already."""
    from ..settings import SettingsError, load_settings

    problems: list[str] = []
    jobs, problems = collected if collected is not None else (collect(args, problems), problems)
    overrides = {k: getattr(args, k) for k in ("model", "api_base", "max_iterations", "candidates",
                                                    "record_dir", "replay_dir")}
    probe = _probe_sandbox() if jobs else None
    settings: dict[Path, Settings] = {}
    for job in jobs:
        if job.workspace not in settings:
            try:
                settings[job.workspace] = load_settings(job.workspace, overrides)
            except SettingsError as exc:
                raise BadInput(str(exc)) from None
            _check_model(settings[job.workspace])
            if probe is not None:
                probe.join()
            _check_sandbox(settings[job.workspace], job.workspace)
    announce(args, reporter, jobs)      # after the checks: bad input is one line on stderr
    run = Run(args, reporter, written=written if written is not None else [])
    for message in problems:
        run.problem(message)
    if not jobs:
        reporter.note(f"no specs to implement in {display_path(args.path)}")
    folder = args.path.is_dir()
    warming = asyncio.ensure_future(prewarm_sandbox(jobs[0], settings[jobs[0].workspace])) if jobs else None
    try:
        await _run_jobs(run, jobs, settings, folder, jobs_at_once(args, settings.values()))
    finally:
        if warming is not None and not warming.done():
            warming.cancel()
    finish_kept_tests(run)
    run.report_untried()
    return run.code, run.entries


def jobs_at_once(args: argparse.Namespace, settings) -> int:
    """``--jobs``, else the ``parallel_jobs`` setting where it is set (environment or
    [tool.specloop] of a workspace, the first in path order), else 1: one file at a time
    unless asked (its default, 2, is the language server's)."""
    if getattr(args, "jobs", None):
        return args.jobs
    return next((s.parallel_jobs for s in settings if "parallel_jobs" in s.model_fields_set), 1)


async def prewarm_sandbox(job: FileJob, settings: Settings) -> None:
    """Start the warm sandbox workers the first test round of ``job`` will use, while
    litellm imports and the model answers (a worker takes a few hundred ms to start:
    Python, bubblewrap, pytest and the plugins imported, a priming run).  Best effort:
    on any failure the first round starts the worker itself, as it always did.

    This builds the worker's key the way ``Sandbox.run`` does (its private ``_plan``,
    ``_env`` and ``_masks``): a public ``Sandbox.prewarm(request)`` in sandbox.py would
    keep the two from drifting apart; a key that drifts only wastes this prewarm."""
    try:
        from ..sandbox import warm
        from ..context.gather import find_user_tests
        from ..sandbox.runs import Sandbox, SandboxRequest, _masks

        target, path, workspace = job.targets[0], Path(job.source.path).resolve(), Path(job.workspace).resolve()
        user_tests = await asyncio.to_thread(find_user_tests, target, path, workspace)
        box = Sandbox(settings, workspace)
        request = SandboxRequest(module_path=path, candidate_source="", workspace=workspace, user_tests=user_tests)
        plan = box._plan(request, False)
        masks = await asyncio.to_thread(_masks, str(box.workspace)) if box.isolation == "bwrap" else ((), ())
        key = warm.Key(box.python, str(box.workspace), box.isolation, bool(plan.request["autoload"]),
                       tuple(plan.request["extra_ro"]), masks)
        candidate = warm.Key(box.python, str(box.workspace), box.isolation, False, tuple(plan.request["extra_ro"]),
                             masks, role="candidate")   # judged by value: the candidate's side too
        env = box._env(request)
        await asyncio.gather(warm._worker(key, env), warm._worker(candidate, env))
    except Exception:   # noqa: BLE001 - an optimisation only
        pass


async def _run_jobs(run: Run, jobs: list[FileJob], settings: dict[Path, Settings], folder: bool,
                    at_once: int = 1) -> None:
    """Every file, ``at_once`` files at a time (a file's own targets one after the other);
    ``run.entries`` ends in path order."""
    args, reporter = run.args, run.reporter
    gate = asyncio.Semaphore(at_once)
    done: list[FileJob | None] = [None] * len(jobs)

    async def one(index: int, job: FileJob) -> None:
        async with gate:
            if run.unreachable is not None:     # the model cannot be reached: nothing more is tried
                run.untried += [t.qualname for t in job.targets]
                return
            if folder:          # read again: the user may have edited it while earlier files ran
                try:
                    job = _reread(job, args.target)
                except BadInput as exc:
                    run.problem(f"skipped {exc}")
                    return
                if not job.targets:
                    return
                if not args.json:
                    reporter.note(f"{display_path(job.source.path)}: {plural(len(job.targets), 'spec')}")
            done[index] = job
            await implement_file(run, job, settings[job.workspace])
            finish_file(run, job, settings[job.workspace])

    try:
        async with asyncio.TaskGroup() as group:
            for index, job in enumerate(jobs):
                group.create_task(one(index, job))
    finally:
        run.entries = [entry for job in done if job is not None for entry in job.entries]


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


async def implement_file(run: Run, job: FileJob, settings: Settings) -> None:
    from ..targets import components

    path, workspace = job.source.path, job.workspace
    job.current = job.shown = job.source.text
    python = _python_of(settings, workspace)
    for target in job.targets:
        if run.unreachable is not None:     # the model cannot be reached: the other specs are not tried
            run.untried.append(target.qualname)
            continue
        result = await components.implement_any(job.current, path, target, settings, workspace=workspace,
                                                emit=run.emit)   # a function or a class target
        result.python = result.python or python
        said = run.stop_if_unreachable(result)
        # the file lines of the findings, in the text the run leaves (with --diff: the text the diff shows)
        finding_lines = _finding_lines(job.shown if run.args.diff else job.current, result)
        run.reporter.result(result, finding_lines, reason="the model cannot be reached (see above)" if said else None)
        for line in components.component_lines(result):
            run.reporter.note(line)
        entry = Entry(result, display_path(path), finding_lines=finding_lines)
        job.entries.append(entry)
        if result.status != "passed":
            run.code = max(run.code, EXIT_FAILED)
        place(run, job, entry)


def place(run: Run, job: FileJob, entry: Entry) -> None:
    """Put ``entry``'s result into the text --diff shows and, when it passed (or with
    --write-failing), into the text to write.  A result meant to be written that cannot be
    placed is never silent: ``result.unplaced_reason`` says why and the exit status is 1
    (with --diff: not placed in the diff shown)."""
    result, encoding = entry.result, job.source.encoding
    wanted = result.status == "passed" or run.args.write_failing
    if result.function_code is None:
        if result.status == "passed":
            result.unplaced_reason = "it holds no code to place"
            run.code = max(run.code, EXIT_FAILED)
        return
    shown_error = current_error = None
    try:
        job.shown = placement.placed_text(job.shown, result, encoding)
    except (placement.StaleTarget, ValueError) as exc:
        shown_error = str(exc)
    if wanted:
        try:
            job.current = placement.placed_text(job.current, result, encoding)
            entry.placed = True
        except (placement.StaleTarget, ValueError) as exc:
            current_error = str(exc)
    why = current_error or (shown_error if run.args.diff else None)
    if wanted and why:
        result.unplaced_reason = why
        run.code = max(run.code, EXIT_FAILED)
    elif shown_error and run.args.diff:
        run.reporter.note(f"# {result.name}: failing attempt ({result.status}: {reason_of(result)}) "
                          f"not in the diff: cannot place it: {shown_error}")
    elif result.status != "passed" and run.args.diff:
        run.reporter.note(f"# {result.name}: failing attempt ({result.status}: {reason_of(result)}) "
                          f"included in the diff; only --write-failing writes it")


def _python_of(settings: Settings, workspace: Path) -> dict[str, str]:
    """The Python that runs the workspace's tests and where it was found (``--json``'s
    ``python``): the sandbox's own choice (:func:`specloop.sandbox.projectenv.find_python`)."""
    from ..sandbox.projectenv import find_python

    return find_python(settings.python, Path(workspace).resolve()).as_dict()


def finish_file(run: Run, job: FileJob, settings: Settings) -> None:
    """Diff, or write the file and save what is not written."""
    from .. import check

    source, shown_path = job.source, display_path(job.source.path)
    tests_path = placement.kept_tests_path(job.workspace, source.path, settings)
    if run.args.diff:
        _set_lines(job, source.text)
        _print_diff(source, source.text, job.shown)
        for entry in job.entries:
            if entry.result.unplaced_reason:
                run.reporter.note(f"# {unplaced_text(entry.result)}; not in the diff")
        run.kept.setdefault(tests_path, []).extend(
            e.result.kept_tests for e in job.entries if e.placed and e.result.kept_tests)
        return
    outcome, error = WRITTEN, None
    if job.current != source.text:
        try:
            outcome = write_back(source, job.current)
        except OSError as exc:
            outcome, error = "error", exc.strerror or str(exc)
    offered = [e for e in job.entries if e.result.function_code is not None and not e.placed]
    _set_lines(job, job.current if outcome == WRITTEN else source.text)
    if outcome == WRITTEN:
        if job.current != source.text:
            run.written.append(shown_path)
        for entry in job.entries:
            entry.written = entry.placed
            if entry.placed and entry.result.status == "passed":   # `specloop check` re-tests it later
                check.record_result(job.workspace, source.path, job.current, entry.result)   # a class: its methods
            if entry.placed and entry.result.status != "passed":
                run.reporter.note(f"    {entry.result.name}: written although its tests fail (--write-failing)")
        why = "its tests fail; specloop run --write-failing writes failing attempts"
    else:
        offered = [e for e in job.entries if e.result.function_code is not None]
        why = {CHANGED: f"{shown_path} changed on disk while specloop worked",
               DELETED: f"{shown_path} was deleted while specloop worked"}.get(outcome, f"cannot write {shown_path}: {error}")
    saved_all = True
    for entry in job.entries:
        if entry.result.unplaced_reason and entry.result.function_code is None:
            run.reporter.note(f"    {unplaced_text(entry.result)}")
    for entry in offered:
        unplaced = entry.result.unplaced_reason
        try:
            entry.saved = save_attempt(job.workspace, source.path, entry.result,
                                       unplaced_text(entry.result, named=False) if unplaced else why)
        except OSError as exc:
            saved_all = False
            run.problem(f"cannot save the attempt for {entry.result.name} under "
                        f"{display_path(job.workspace / '.specloop' / 'results')}: {exc.strerror or exc}")
            if unplaced:
                run.reporter.note(f"    {unplaced_text(entry.result)}")
            continue
        if unplaced:
            run.reporter.note(f"    {unplaced_text(entry.result)}; saved to {display_path(entry.saved)}")
        elif outcome == WRITTEN:
            run.reporter.note(f"    {entry.result.name}: not written (its tests fail); attempt saved in "
                              f"{display_path(entry.saved)}; --write-failing writes it")
    if outcome == WRITTEN:
        run.kept.setdefault(tests_path, []).extend(
            e.result.kept_tests for e in job.entries if e.written and e.result.kept_tests)
        return
    results = display_path(job.workspace / ".specloop" / "results")
    where = f"results saved in {results}/" if saved_all else "results not saved"
    if outcome == CHANGED:
        run.reporter.note(f"specloop: {shown_path} changed on disk while specloop worked: nothing written; {where}")
        run.code = max(run.code, EXIT_FAILED)
    elif outcome == DELETED:
        run.reporter.note(f"specloop: {shown_path} was deleted while specloop worked: not re-created; {where}")
        run.code = max(run.code, EXIT_FAILED)
    else:
        run.problem(f"cannot write {shown_path}: {error}; {where}")


def _set_lines(job: FileJob, text: str) -> None:
    """Each entry's def line in ``text``, the file as the run leaves it (a class's ``class``
    line, a module spec's block line)."""
    from ..source.spec import find_targets

    found = {t.qualname: t for t in find_targets(text).targets}
    for entry in job.entries:
        target = found.get(entry.result.name)
        if getattr(entry.result, "kind", None) == "module":    # the spec block, marked done or not
            from ..source.modulespec import block_line

            line = block_line(text, entry.result.fingerprint)
            entry.line = None if line is None else line + 1
        elif target is None:      # implemented now, or a class: find its def (or class) line
            from ..source.locate import header_line_in

            line = header_line_in(text, entry.result.name, 0)
            entry.line = None if line is None else line + 1
        elif target.name_range is not None:
            entry.line = target.name_range.start.line + 1


def finish_kept_tests(run: Run) -> None:
    for tests_path, kept in run.kept.items():
        if not kept:
            continue
        try:
            old = read_source(tests_path) if tests_path.exists() else SourceFile(tests_path, "", "utf-8", None)
            text = _merged_tests(old.text, kept)
            if run.args.diff:
                _print_diff(old, old.text if old.raw is not None else None, text)
                continue
            outcome = write_back(old, text)
        except (OSError, Undecodable) as exc:
            run.problem(f"cannot write kept tests to {display_path(tests_path)}: {getattr(exc, 'strerror', None) or exc}")
            continue
        if outcome == WRITTEN:
            run.reporter.note(f"kept model tests in {display_path(tests_path)}")
        else:
            run.problem(f"{display_path(tests_path)} {outcome} meanwhile: kept tests not written")


def _finding_lines(text: str, result: JobResult) -> list[int] | None:
    """The file lines (1-based) the critic's findings name, with the result placed in ``text``
    (a finding's own line counts from the def of the code the critic saw; a class's, from
    its ``class`` line, or it is the ``def`` line of the method it names)."""
    if not result.findings or result.function_code is None:
        return None
    from ..source.edits import apply_edits
    from ..source.locate import class_result_finding_lines, def_line_in, finding_line, module_result_finding_lines

    try:
        placed = apply_edits(text, placement.result_edits_anyway(text, result))
    except (placement.StaleTarget, ValueError):
        return None
    if getattr(result, "kind", None) == "class":
        lines = class_result_finding_lines(result, placed)
        return None if lines is None else [line + 1 for line in lines]
    if getattr(result, "kind", None) == "module":
        found = module_result_finding_lines(result, placed)
        return None if found is None else [line + 1 for line, _ in found]
    def_line = def_line_in(placed, result.name, 0)
    if def_line is None:
        return None
    return [finding_line(f, result.function_code, placed, result.name, def_line) + 1 for f in result.findings]


def _check_model(settings: Settings) -> None:
    from ..model.client import ModelError, resolve_model

    try:
        resolve_model(settings)
    except ModelError as exc:
        raise BadInput(str(exc)) from None


def _probe_sandbox() -> threading.Thread:
    """Probe bubblewrap (a sandboxed ``python -c pass``, cached for the process) in a thread
    while the settings are read: the probe mostly waits on its subprocess."""
    def probe() -> None:
        try:
            from ..sandbox.isolation import bwrap_status

            bwrap_status()
        except Exception:   # noqa: BLE001 - _check_sandbox asks again and reports
            pass
    thread = threading.Thread(target=probe, name="specloop-bwrap-probe", daemon=True)
    thread.start()
    return thread


def _check_sandbox(settings: Settings, workspace: Path) -> None:
    """No silent unsafe mode: without a working bubblewrap, ``auto`` runs nothing (exit 2)."""
    from ..sandbox.runs import Sandbox, SandboxError

    try:
        Sandbox(settings, workspace)
    except SandboxError as exc:
        raise BadInput(str(exc)) from None


def _merged_tests(old: str, kept: list[str]) -> str:
    """The same merge as the language server's (``placement.merged_tests``): tests the file
    has already are not added again."""
    from ..source.placement import merged_tests

    text = old
    for part in kept:
        text = merged_tests(text, part) or text
    return text


def _print_diff(source: SourceFile, before: str | None, after: str) -> None:
    """The diff on stdout, in the file's own encoding (with its BOM), so git applies it byte for byte."""
    bom = "\ufeff" if source.encoding == "utf-8-sig" else ""
    if before is not None and before == after:
        return
    text = unified_diff(source.path, None if before is None else bom + before, bom + after)
    sys.stdout.flush()
    sys.stdout.buffer.write(text.encode("utf-8" if bom else source.encoding, errors="surrogateescape"))
    sys.stdout.buffer.flush()


