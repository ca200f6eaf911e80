"""The terminal front end: ``specloop run`` and ``specloop serve``.

``run PATH`` implements the specs of a file, or of every Python file with
specs under a folder (``runfiles`` decides what runs and what is written;
``writeback`` writes without losing the user's text).  A target is written
only when its tests pass; a failing attempt is saved under
``.specloop/results/`` (``--write-failing`` writes it); ``--diff`` writes
nothing.

Exit status: 0 when every target's tests pass and its file was written; 1
when some target is left failing or a file changed or was deleted meanwhile
(the results are saved); 2 for bad input, configuration or a file that
cannot be read or written (one line on stderr each, never a traceback); 130
when cancelled by Ctrl-C or SIGTERM (the file being worked on is left
untouched and no sandbox process is left).

Speed (issue 10; ``bench/overhead.py`` measures it): ``run`` starts importing
litellm in a thread before anything else (``model.start_loading``), finds the
specs and prints the first progress line once the settings are checked, before
the engine is imported, and starts the first warm sandbox worker while litellm imports
(``runfiles.prewarm_sandbox``).  When run as a program (``argv`` is None) the
process ends without tearing down the heap it is about to drop: once the output
is flushed and the sandbox workers are stopped it leaves with ``os._exit`` and
its exit status (see ``_leave``).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

from ..results import Event, JobResult, Log, Phase, Planned, Tested, judged_text, tests_count
from .runfiles import (EXIT_BAD_INPUT, EXIT_CANCELLED, EXIT_FAILED, EXIT_OK, BadInput, Entry,  # noqa: F401
                       collect, run_path, summary)
from ..source.writeback import display_path, reason_of


def _parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(prog="specloop", description="Write Python code from specs, tested.")
    parser.add_argument("--version", action="version", version=f"specloop {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run", help="implement the specs in a file or folder",
        description="Implement the specs in PATH. A target is written only when its tests pass; a failing "
                    "attempt is saved under .specloop/results/. Exit status: 0 all passed, 1 some target "
                    "left failing (or a file changed meanwhile), 2 bad input, 130 cancelled.")
    run.add_argument("path", type=Path, metavar="PATH",
                     help="a Python file, or a folder: every .py file under it that has specs (what .gitignore "
                          "ignores, hidden folders, virtualenvs and node_modules are skipped)")
    run.add_argument("--target", metavar="QUALNAME", help="implement only this spec (e.g. area or Shape.area)")
    run.add_argument("--model", metavar="M", help="litellm model name (default: SPECLOOP_MODEL, else the local model)")
    run.add_argument("--api-base", dest="api_base", metavar="URL", help="model endpoint URL (default: SPECLOOP_API_BASE)")
    run.add_argument("--max-iterations", dest="max_iterations", type=int, metavar="N",
                     help="rounds per target: the first generation, then one repair or new sample each "
                          "(setting max_iterations)")
    run.add_argument("--candidates", type=int, metavar="N",
                     help="first attempts, each its own sample (setting candidates)")
    run.add_argument("--diff", action="store_true",
                     help="write nothing; print a unified diff (git apply accepts it) that includes failing "
                          "attempts, each marked on stderr")
    run.add_argument("--write-failing", dest="write_failing", action="store_true",
                     help="also write attempts whose tests fail (by default they are only saved under "
                          ".specloop/results/)")
    run.add_argument("--jobs", type=_positive, metavar="N",
                     help="files worked on at once (a file's own specs run one after the other); default 1, "
                          "or the parallel_jobs setting where it is set")
    run.add_argument("--json", action="store_true", help="print one JSON object with the results")
    recording = run.add_mutually_exclusive_group()
    recording.add_argument("--record", dest="record_dir", type=_absolute, metavar="DIR",
                           help="store every model exchange of the run under DIR (setting record_dir)")
    recording.add_argument("--replay", dest="replay_dir", type=_absolute, metavar="DIR",
                           help="answer every model request from the exchanges recorded under DIR, without a "
                                "model; a request not recorded there ends its target in error (setting replay_dir)")
    check = sub.add_parser(
        "check", help="re-test the functions specloop implemented; report spec drift",
        description="Run the authoritative tests (the docstring's examples, your tests that mention it) of "
                    "every function specloop wrote under PATH, against the files as they are now, and say "
                    "where a spec and its code drifted apart. Exit status: 0 all pass and nothing drifted, "
                    "1 otherwise, 2 bad input.")
    check.add_argument("path", type=Path, metavar="PATH", help="a Python file, or a folder")
    check.add_argument("--accept", action="store_true",
                       help="record again, as they read now, the drifted functions whose tests pass (e.g. after "
                            "a docstring edit in prose only), so that check passes from then on; a function "
                            "whose tests fail stays reported")
    check.add_argument("--json", action="store_true", help="print one JSON object with the results")
    serve = sub.add_parser("serve", help="run the language server (stdio by default)")
    serve.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio")
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"not a whole number of 1 or more: {text!r}")
    return value


class Reporter:
    """Progress on a terminal with rich; plain lines otherwise (or nothing with --json).

    A target's bar only moves forward: the engine's phases are not in percent order (a
    repair's "testing" at 30-88 % follows "addressing review" at 90 %), so the bar shows the
    furthest phase reached, and the detail text says which phase runs now.  ``console``: a
    rich console to draw on (default: stderr when it is a terminal)."""

    def __init__(self, quiet: bool, out=None, console=None) -> None:
        self.quiet = quiet
        self.out = out or sys.stdout  # result lines; stderr when stdout carries a diff
        self.live = None
        if not quiet and (console is not None or sys.stderr.isatty()):
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, BarColumn

            self.console = console or Console(stderr=True)
            self.live = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 TextColumn("{task.fields[detail]}"), console=self.console, transient=True)
            self.live.start()
        self.tasks: dict[str, int] = {}
        self.completed: dict[str, int] = {}   # per target: the furthest percent shown

    def event(self, event: Event) -> None:
        if self.quiet:
            return
        if self.live is not None:
            task = self.tasks.get(event.target)
            if task is None:
                task = self.tasks[event.target] = self.live.add_task(event.target, total=100, detail="")
            if isinstance(event, Phase):
                done = self.completed[event.target] = max(self.completed.get(event.target, 0), event.percent)
                self.live.update(task, completed=done, detail=event.message)
            elif isinstance(event, Tested):
                self.live.update(task, detail=f"tests {event.message}")
            return
        if isinstance(event, (Phase, Tested, Planned, Log)) and not (isinstance(event, Phase) and event.phase == "done"):
            print(f"{event.target}: {event.message}", file=sys.stderr, flush=True)

    def result(self, result: JobResult, finding_lines: list[int] | None = None, reason: str | None = None) -> None:
        """``finding_lines``: the file line (1-based) of each critic finding, where known;
        ``reason``: said instead of the result's own (a reason said once already)."""
        if self.quiet:
            return
        mark = {"passed": "✓", "failed": "✗", "error": "!", "cancelled": "-"}[result.status]
        judged = judged_text(getattr(result, "by_value", 0), getattr(result, "in_process", 0))
        line = (f"{mark} {result.name}   {tests_count(result.status, result.passed, result.failed)}"
                f"{', ' + judged if judged else ''} · "
                f"{result.iterations} iteration{'s' if result.iterations != 1 else ''} · "
                f"{result.usage.total:,} tokens · ${result.usage.cost_usd:.4f} · {result.seconds:.1f} s")
        if self.live is not None:
            self.live.console.print(line)
        else:
            print(line, file=self.out, flush=True)
        details = [f"    reason: {reason or reason_of(result)}"] if result.status != "passed" else []
        details += [f"    test {o.id}: {o.message}" for o in result.failures[:5]]
        for i, f in enumerate(result.findings):
            if finding_lines is not None and i < len(finding_lines) and finding_lines[i] is not None:
                where = f" line {finding_lines[i]}"
            else:
                from .. import targets
                where = f" line {f.line} of the {targets.of(result).noun}" if f.line is not None else ""
            where += f" in {f.method}" if f.method else ""
            details.append(f"    {f.category} ({f.severity}{', approved' if f.approved else ''}){where}: {f.message}")
        details += [f"    disputed model test {o.id}" for o in result.disputed]
        if result.status != "passed" and result.trace_path:
            details.append(f"    trace: {result.trace_path}")
        for detail in details:
            self.note(detail)

    def summary(self, entries: list[Entry], totals: dict) -> None:
        """The table at the end of a run over a folder or several targets: one row per
        target (file:line, function, status, tests passed/total, tokens), then the totals."""
        if self.quiet or not entries:
            return
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
        table.add_column("file:line", overflow="fold")
        table.add_column("function", overflow="fold")
        table.add_column("status")
        table.add_column("tests", justify="right")
        table.add_column("tokens", justify="right")
        for entry in entries:
            result = entry.result
            where = f"{entry.file}:{entry.line}" if entry.line else entry.file
            status = f"{result.status}, not placed" if result.unplaced_reason else result.status
            table.add_row(Text(where), Text(result.name), status, f"{result.passed}/{result.passed + result.failed}",
                          f"{result.usage.total:,}")
        counts = ", ".join(f"{totals[s]} {s}" for s in ("passed", "failed", "error", "cancelled") if totals[s])
        tests = totals["tests"]
        tokens = totals["tokens"]["prompt"] + totals["tokens"]["completion"]
        line = (f"{totals['targets']} target{'s' if totals['targets'] != 1 else ''}: {counts} · tests "
                f"{tests['passed']}/{tests['passed'] + tests['failed']} · {tokens:,} tokens · "
                f"${totals['cost_usd']:.4f} · {totals['seconds']:.1f} s")
        console = self.live.console if self.live is not None else \
            Console(file=self.out, highlight=False, width=max(100, Console(file=self.out).width))
        console.print(table)
        console.print(line, markup=False, highlight=False)

    def note(self, line: str) -> None:
        """A line on stderr, also with --json (what was written and what was not)."""
        if self.live is not None:
            self.live.console.print(line, markup=False, highlight=False)
        else:
            print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()


def start_model_layer() -> threading.Thread:
    """Import the model layer and litellm in a daemon thread, at once: seconds of imports
    that overlap spec finding, settings, context building and the sandbox's warm-up.
    ``specloop.model`` itself (pydantic and the rest) is imported in that thread too, so
    the main thread reaches its first progress line without waiting for it."""
    def load() -> None:
        try:
            from ..model import client as model

            model._litellm()
        except BaseException:   # noqa: BLE001 - the first job reports a real failure
            pass
    thread = threading.Thread(target=load, name="specloop-litellm", daemon=True)
    thread.start()
    return thread


def _run_command(args: argparse.Namespace) -> int:
    reporter = Reporter(quiet=args.json, out=sys.stderr if args.diff else None)
    code = EXIT_CANCELLED
    entries: list[Entry] = []
    written: list[str] = []
    import asyncio

    async def main(collected) -> int:
        nonlocal code, entries
        task = asyncio.current_task()
        loop_ = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop_.add_signal_handler(sig, task.cancel)
        started = time.monotonic()
        code, entries = await run_path(args, reporter, written, collected)
        totals = summary(entries, time.monotonic() - started)
        if args.json:
            print(json.dumps({"targets": [e.as_dict() for e in entries], "summary": {**totals, "exit": code}},
                             indent=2))
        elif args.path.is_dir() or len(entries) > 1:
            reporter.summary(entries, totals)
        return code

    try:
        problems: list[str] = []
        jobs = collect(args, problems)
        return asyncio.run(main((jobs, problems)))
    except (asyncio.CancelledError, KeyboardInterrupt):
        done = f" (already written: {', '.join(written)})" if written else ""
        what = ("the files being worked on were" if (args.jobs or 1) > 1 else "the file being worked on was") \
            if args.path.is_dir() else "the file was"
        print(f"cancelled: {what} left untouched{done}", file=sys.stderr)
        return EXIT_CANCELLED
    except BadInput as exc:
        print(f"specloop: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:      # anything the steps above did not expect: still one line, no traceback
        where = f" {display_path(exc.filename)}" if exc.filename else ""
        print(f"specloop: cannot access{where}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        reporter.close()


def main(argv: list[str] | None = None) -> int:
    program = argv is None          # run as the ``specloop`` program, not called from Python
    args = _parser().parse_args(argv)
    if args.command == "serve":
        from ..lsp.server import serve

        return serve(args.tcp)
    from ..settings import unknown_env

    for warning in unknown_env():       # a typo in a SPECLOOP_* variable is not silently ignored
        print(f"specloop: {warning}", file=sys.stderr)
    if args.command == "check":
        from .check import check_command

        return check_command(args)
    start_model_layer()
    code = _run_command(args)
    if program:
        _leave(code)
    return code


def _absolute(value: str) -> str:
    """A folder given on the command line, absolute from the current folder (settings
    resolve relative paths against the workspace)."""
    return str(Path(value).expanduser().resolve())


def _leave(code: int) -> None:
    """Exit now, without the interpreter's teardown: the heap (litellm's ~300k objects and
    the run's own) is about to be dropped, and tearing it down took 0.3-0.5 s after the last
    line was printed.  Everything printed is flushed first and the exit status is kept.  Of
    the exit handlers only specloop's own runs (``warm.shutdown``: stop the sandbox workers
    and remove their folders); litellm's are skipped on purpose: they close its HTTP
    clients on a fresh event loop (the OS closes the sockets anyway) and flush its logging
    callbacks (specloop registers none; its traces are written as they happen)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    warm = sys.modules.get("specloop.sandbox.warm")
    if warm is not None:
        warm.shutdown()
    gc.freeze()         # in case os._exit is ever replaced by a normal exit: no full collection
    gc.disable()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
