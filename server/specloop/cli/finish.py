"""What becomes of a result in ``specloop run``: placed in the text to write (or refused, and
why), the file written once, failing attempts saved, kept model tests merged, the lines the
findings sit on (the rules are in ``runfiles``' docstring)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..source import placement
from ..results import JobResult, unplaced_text
from ..source.writeback import (CHANGED, DELETED, WRITTEN, SourceFile, Undecodable, display_path, read_source,
                        reason_of, save_attempt, unified_diff, write_back)

from .runstate import EXIT_FAILED, Entry, FileJob, Run

if TYPE_CHECKING:
    from ..settings import Settings


def place(run: Run, job: FileJob, entry: Entry) -> None:
    """Put ``entry``'s result into the text --diff shows and, when it passed (or with
    --write-failing), into the text to write.  A result meant to be written that cannot be
    placed is never silent: ``result.unplaced_reason`` says why and the exit status is 1
    (with --diff: not placed in the diff shown)."""
    from .. import targets

    result, encoding = entry.result, job.source.encoding
    wanted = result.status == "passed" or run.args.write_failing
    if result.function_code is None:
        if result.status == "passed":
            result.unplaced_reason = "it holds no code to place"
            run.code = max(run.code, EXIT_FAILED)
        return
    shown_error = current_error = None
    try:
        job.shown = targets.placed_text(job.shown, result, encoding)
    except (targets.StaleTarget, ValueError) as exc:
        shown_error = str(exc)
    if wanted:
        try:
            job.current = targets.placed_text(job.current, result, encoding)
            entry.placed = True
        except (targets.StaleTarget, ValueError) as exc:
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
    """Each entry's own line in ``text``, the file as the run leaves it (a function's def
    line, a class's ``class`` line, a module spec's block line: its kind says)."""
    from .. import targets

    for entry in job.entries:
        line = targets.of(entry.result).place(text, entry.result).line
        entry.line = None if line is None else line + 1


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


def _finding_lines(text: str, result: JobResult) -> list[int | None] | None:
    """The file line (1-based) of each critic finding, with the result placed in ``text``
    where its kind places it (None for a finding it places nowhere)."""
    if not result.findings or result.function_code is None:
        return None
    from .. import targets

    try:
        placed = targets.placed_text(text, result, anyway=True)
    except (targets.StaleTarget, ValueError):
        return None
    where = targets.of(result).place(placed, result)
    return [None if (line := where.finding_line(f)) is None else line + 1 for f in result.findings]


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
