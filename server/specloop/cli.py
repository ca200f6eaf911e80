"""The terminal front end: ``specloop run`` and ``specloop serve``.

``run`` implements every stub in a file (or ``--target``) one after the other,
each job seeing the code already written for the ones before it, then writes
the file once (unless ``--diff``).  Exit status: 0 when every target's tests
pass, 1 when some target is left failing (its best attempt is still written),
2 for bad input or configuration (one line on stderr), 130 when cancelled by
Ctrl-C or SIGTERM (the file is left untouched and no sandbox process is left).
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import io
import json
import signal
import sys
import tokenize
from pathlib import Path

from .results import Event, JobResult
from .settings import Settings, SettingsError, find_pyproject, load_settings

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_CANCELLED = 0, 1, 2, 130


class BadInput(Exception):
    """Reported as one line on stderr with exit status 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="specloop", description="Write Python code from specs, tested.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="implement the specs in a file")
    run.add_argument("path", type=Path)
    run.add_argument("--target", help="qualified name of one target (e.g. Shape.area)")
    run.add_argument("--model", help="litellm model name (default: SPECLOOP_MODEL, else the local model)")
    run.add_argument("--api-base", dest="api_base", help="model endpoint URL")
    run.add_argument("--max-iterations", dest="max_iterations", type=int)
    run.add_argument("--candidates", type=int)
    run.add_argument("--diff", action="store_true", help="print a unified diff instead of writing the file")
    run.add_argument("--json", action="store_true", help="print one JSON object with the results")
    serve = sub.add_parser("serve", help="run the language server (stdio by default)")
    serve.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio")
    return parser


def workspace_for(path: Path) -> Path:
    """The folder of the nearest pyproject.toml, else of the nearest .git, else the file's folder."""
    pyproject = find_pyproject(path.parent)
    if pyproject is not None:
        return pyproject.parent
    for folder in path.resolve().parents:
        if (folder / ".git").exists():
            return folder
    return path.resolve().parent


def read_source(path: Path) -> tuple[str, str]:
    """The file's text exactly (newlines kept) and its encoding (PEP 263)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        text = raw.decode(encoding)
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        raise BadInput(f"cannot decode {path}: {exc}") from None
    if encoding == "utf-8-sig":
        text = text.removeprefix("\ufeff")
    return text, encoding


def write_source(path: Path, text: str, encoding: str) -> None:
    data = text.encode(encoding)
    if encoding == "utf-8-sig" and not data.startswith(b"\xef\xbb\xbf"):
        data = b"\xef\xbb\xbf" + data
    tmp = path.with_name(f".{path.name}.specloop-tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


class Reporter:
    """Progress on a terminal with rich; plain lines otherwise (or nothing with --json)."""

    def __init__(self, quiet: bool, out=None) -> None:
        self.quiet = quiet
        self.out = out or sys.stdout  # result lines; stderr when stdout carries a diff
        self.live = None
        if not quiet and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, BarColumn

            self.console = Console(stderr=True)
            self.live = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 TextColumn("{task.fields[detail]}"), console=self.console, transient=True)
            self.live.start()
        self.tasks: dict[str, int] = {}

    def event(self, event: Event) -> None:
        if self.quiet:
            return
        if self.live is not None:
            task = self.tasks.get(event.target)
            if task is None:
                task = self.tasks[event.target] = self.live.add_task(event.target, total=100, detail="")
            if event.kind == "phase":
                self.live.update(task, completed=event.percent or 0, detail=event.message)
            elif event.kind == "tests":
                self.live.update(task, detail=f"tests {event.message}")
            return
        if event.kind in ("phase", "tests", "log") and event.data.get("phase") != "done":
            print(f"{event.target}: {event.message}", file=sys.stderr, flush=True)

    def result(self, result: JobResult) -> None:
        if self.quiet:
            return
        mark = {"passed": "✓", "failed": "✗", "error": "!", "cancelled": "-"}[result.status]
        total = result.passed + result.failed
        line = (f"{mark} {result.name}   {result.status} {result.passed}/{total} tests · "
                f"{result.iterations} iteration{'s' if result.iterations != 1 else ''} · "
                f"{result.usage.total:,} tokens · ${result.usage.cost_usd:.4f} · {result.seconds:.1f} s")
        if self.live is not None:
            self.live.console.print(line)
        else:
            print(line, file=self.out, flush=True)
        details = [f"    {result.error}"] if result.error else []
        details += [f"    test {o.id}: {o.message}" for o in result.failures[:5]]
        details += [f"    {f.category} ({f.severity}) line {f.line}: {f.message}" for f in result.findings]
        details += [f"    disputed model test {o.id}" for o in result.disputed]
        if result.status != "passed" and result.trace_path:
            details.append(f"    trace: {result.trace_path}")
        for detail in details:
            print(detail, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()


async def run_file(args: argparse.Namespace, reporter: Reporter) -> tuple[int, list[JobResult]]:
    from . import loop
    from .spec import find_targets

    path: Path = args.path
    if not path.is_file():
        raise BadInput(f"{path}: no such file")
    source, encoding = read_source(path)
    found = find_targets(source)
    if found.error:
        raise BadInput(f"{path} does not parse: {found.error}")
    targets = found.targets
    if args.target:
        targets = [t for t in targets if t.qualname == args.target]
        if not targets:
            names = ", ".join(t.qualname for t in found.targets) or "none"
            raise BadInput(f"no spec named {args.target} in {path} (specs there: {names})")
    workspace = workspace_for(path)
    overrides = {k: getattr(args, k) for k in ("model", "api_base", "max_iterations", "candidates")}
    try:
        settings: Settings = load_settings(workspace, overrides)
    except SettingsError as exc:
        raise BadInput(str(exc)) from None
    if not targets:
        print(f"no specs to implement in {path}", file=sys.stderr)
        return EXIT_OK, []
    _check_model(settings)

    results: list[JobResult] = []
    current = source
    kept: list[str] = []
    for target in targets:
        fresh = loop.find_target(current, target.qualname) or target
        result = await loop.implement(current, path, fresh, settings, workspace=workspace, emit=reporter.event)
        results.append(result)
        reporter.result(result)
        if result.status == "error" and result.function_code is None:
            continue
        if result.function_code:
            from .edits import apply_edits
            current = apply_edits(current, loop.result_edits(current, result))
        if result.kept_tests:
            kept.append(result.kept_tests)

    tests_path = loop.kept_tests_path(workspace, path, settings)
    tests_text = _merged_tests(tests_path, kept)
    if args.diff:
        _print_diff(path, source, current)
        if tests_text is not None:
            old = tests_path.read_text(encoding="utf-8") if tests_path.exists() else ""
            _print_diff(tests_path, old, tests_text)
    else:
        if current != source:
            write_source(path, current, encoding)
        if tests_text is not None:
            tests_path.parent.mkdir(parents=True, exist_ok=True)
            tests_path.write_text(tests_text, encoding="utf-8")
            print(f"kept model tests in {tests_path}", file=sys.stderr)
    ok = all(r.status == "passed" for r in results)
    return (EXIT_OK if ok else EXIT_FAILED), results


def _check_model(settings: Settings) -> None:
    from .model import ModelError, resolve_model

    try:
        resolve_model(settings)
    except ModelError as exc:
        raise BadInput(str(exc)) from None


def _merged_tests(tests_path: Path, kept: list[str]) -> str | None:
    if not kept:
        return None
    old = tests_path.read_text(encoding="utf-8") if tests_path.exists() else ""
    parts = [old.rstrip("\n") + "\n\n"] if old.strip() else []
    parts += [text.rstrip("\n") + "\n" for text in kept]
    return "\n\n".join(parts)


def _print_diff(path: Path, before: str, after: str) -> None:
    diff = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                fromfile=f"a/{path}", tofile=f"b/{path}")
    sys.stdout.writelines(diff)


def _run_command(args: argparse.Namespace) -> int:
    reporter = Reporter(quiet=args.json, out=sys.stderr if args.diff else None)
    code = EXIT_CANCELLED

    async def main() -> int:
        nonlocal code
        task = asyncio.current_task()
        loop_ = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop_.add_signal_handler(sig, task.cancel)
        code, results = await run_file(args, reporter)
        if args.json:
            print(json.dumps({"targets": [r.summary_dict() for r in results]}, indent=2))
        return code

    try:
        return asyncio.run(main())
    except asyncio.CancelledError:
        print("cancelled: the file was left untouched", file=sys.stderr)
        return EXIT_CANCELLED
    except BadInput as exc:
        print(f"specloop: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        reporter.close()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        from .lsp.server import serve

        return serve(args.tcp)
    return _run_command(args)


if __name__ == "__main__":
    sys.exit(main())
