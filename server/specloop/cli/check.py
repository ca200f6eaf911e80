"""``specloop check PATH``: the terminal side of :mod:`specloop.check`.

One line per function specloop wrote (``✓ area   passed 3/3 tests`` or
``✗ area   failed 1/3 tests``), then its drift and first failure indented
below; ``--json`` prints ``{"functions": [...]}`` instead.  ``--accept`` records
again each drifted function whose tests pass (``accepted: ...`` below its line), so
that ``check`` passes from then on; a failing one stays reported.  Exit status 0
when every recorded function passes and none drifted (or all drift was accepted), 1
otherwise, 2 for bad input (a path that does not exist, a setting that is wrong, no
bubblewrap)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from ..results import plural, tests_count
from .runfiles import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, python_files
from ..workspace import workspace_of
from ..source.writeback import display_path


def _files(path: Path) -> list[Path]:
    """The file, or the folder's files as ``specloop run DIR`` walks them."""
    if path.is_file():
        return [path]
    problems: list[str] = []
    found = python_files(path, problems)
    for problem in problems:
        print(f"specloop: {problem}", file=sys.stderr)
    return found


async def _check(path: Path, as_json: bool, accept: bool = False) -> int:
    from .. import check
    from ..sandbox.runs import SandboxError
    from ..settings import SettingsError, load_settings

    results, code = [], EXIT_OK
    for file in _files(path):
        workspace = workspace_of(file)
        try:
            settings = load_settings(workspace)
            found = await check.check_file(file, workspace, settings, accept=accept)
        except (SettingsError, SandboxError) as exc:
            print(f"specloop: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        except (OSError, UnicodeDecodeError) as exc:
            print(f"specloop: cannot read {display_path(file)}: {getattr(exc, 'strerror', None) or exc}",
                  file=sys.stderr)
            return EXIT_BAD_INPUT
        for result in found:
            results.append(result)
            if result.status != "passed" or result.drift:
                code = EXIT_FAILED
            if not as_json:
                _print(result, accept)
    if as_json:
        print(json.dumps({"functions": [r.to_dict() for r in results]}, indent=2))
    elif not results:
        print(f"nothing to check: specloop has not implemented a function under {display_path(path)}",
              file=sys.stderr)
    elif accept:
        accepted = sum(bool(r.accepted) for r in results)
        left = sum(r.status != "passed" or bool(r.drift) for r in results)
        print(f"accepted {plural(accepted, 'function')} as {'they read' if accepted != 1 else 'it reads'} now"
              + (f"; {plural(left, 'function')} still failing or drifted" if left else ""), file=sys.stderr)
    return code


def _print(result, accept: bool = False) -> None:
    mark = "✓" if result.status == "passed" and not result.drift else "✗"
    print(f"{mark} {result.path}::{result.name}   {tests_count(result.status, result.passed, result.failed)}",
          flush=True)
    if result.accepted:
        what = " and ".join(part for part, word in (("spec", "the spec"), ("code", "the code"))
                            if any(line.startswith(word) for line in result.accepted)) or "function"
        print(f"    accepted: its {what} as it reads now (its tests pass), recorded in .specloop/implemented.json",
              flush=True)
    for line in result.drift:
        print(f"    drift: {line}", flush=True)
    if result.first_failure:
        print(f"    test {result.first_failure}", flush=True)
    if result.error and (result.status != "passed" or result.drift):
        print(f"    reason: {result.error}", flush=True)
    if accept and result.drift and result.status == "failed" and result.passed + result.failed:
        print("    not accepted: its tests fail", flush=True)


def check_command(args: argparse.Namespace) -> int:
    if not args.path.exists():
        print(f"specloop: no such file or folder: {display_path(args.path)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return asyncio.run(_check(args.path.resolve(), args.json, getattr(args, "accept", False)))
