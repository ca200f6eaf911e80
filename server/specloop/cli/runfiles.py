"""`specloop run` over files: which files and targets, the jobs one after the
other, then what is written, diffed or saved (``writeback`` does the writing).

The rules of one run are decided together and written down here; they are carried out
by ``files`` (which files and targets), ``finish`` (what becomes of each result: placed,
written, saved) and ``runstate`` (the run's state and exit statuses); the writing itself,
the folder rule and the workspace rule are modules of their own.

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
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from ..results import plural
from ..source.writeback import display_path

from .runstate import (EXIT_BAD_INPUT, EXIT_CANCELLED, EXIT_FAILED, EXIT_OK, BadInput, Entry,  # noqa: F401
                       FileJob, Run, summary)
from .files import announce, collect, python_files, _reread, _unparsable  # noqa: F401
from .finish import _finding_lines, finish_file, finish_kept_tests, place, _python_of  # noqa: F401

if TYPE_CHECKING:
    from .app import Reporter
    from ..settings import Settings


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
    litellm imports and the model answers (``Sandbox.prewarm``: a worker takes a few hundred
    ms to start).  Best effort: on any failure the first round starts the worker itself."""
    try:
        from ..context.gather import find_user_tests
        from ..sandbox.runs import Sandbox, SandboxRequest

        target, path, workspace = job.targets[0], Path(job.source.path).resolve(), Path(job.workspace).resolve()
        user_tests = await asyncio.to_thread(find_user_tests, target, path, workspace)
        request = SandboxRequest(module_path=path, candidate_source="", workspace=workspace, user_tests=user_tests)
        await Sandbox(settings, workspace).prewarm(request)
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


async def implement_file(run: Run, job: FileJob, settings: Settings) -> None:
    from .. import targets
    from ..targets import components

    path, workspace = job.source.path, job.workspace
    job.current = job.shown = job.source.text
    python = _python_of(settings, workspace)
    for target in job.targets:
        if run.unreachable is not None:     # the model cannot be reached: the other specs are not tried
            run.untried.append(target.qualname)
            continue
        result = await targets.of(target).implement(job.current, path, target, settings, workspace=workspace,
                                                    emit=run.emit)
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


