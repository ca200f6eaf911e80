"""One test round in the warm sandbox against a cold ``python -m pytest``, side by side.

A round is 5 doctest examples + 5 of the user's own tests on a correct
candidate.  Measured in one run, alternating so load affects both alike:

* ``cold pytest``: ``python -m pytest -q -p no:cacheprovider`` in a subprocess on
  the same tests (what a naive runner pays per round), without isolation;
* ``warm process``: ``Sandbox.run`` with ``sandbox = "process"``;
* ``warm bwrap``: ``Sandbox.run`` under bubblewrap (when it works here);
* ``cold bwrap``: the verification run (a cold process under bubblewrap).

Prints medians, p90 and the ratio cold pytest / each; the target is warm >= 4x.

    .venv/bin/python bench/sandbox_round.py [--rounds 20] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from specloop import warm
from specloop.sandbox import Sandbox, SandboxRequest, TestFile, doctest_text, make_doctest_file, probe_bwrap
from specloop.settings import Settings
from specloop.spec import find_target

STUB = '''def area(w, h):
    """Area of a w-by-h rectangle.

    >>> area(2, 3)
    6
    >>> area(0, 5)
    0
    >>> area(1, 1)
    1
    >>> area(10, 10)
    100
    >>> area(3, 7)
    21
    """
'''
USER_TESTS = "from mypkg.mod import area\n\n" + "".join(
    f"\ndef test_area_{n}():\n    assert area({n}, 2) == {2 * n}\n" for n in range(5))


def workspace() -> Path:
    root = Path(tempfile.mkdtemp(prefix="specloop-bench-"))
    (root / "mypkg").mkdir()
    (root / "mypkg" / "__init__.py").write_text("")
    (root / "mypkg" / "mod.py").write_text(STUB + "    return w * h\n")
    (root / "tests").mkdir()
    (root / "tests" / "test_area.py").write_text(USER_TESTS)
    target = find_target(STUB, "area")
    (root / "tests" / "test_doctests.py").write_text(make_doctest_file("mypkg.mod", "area", target.examples))
    return root


def cold_pytest(root: Path) -> float:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=root,
                          capture_output=True, text=True, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})
    seconds = time.perf_counter() - started
    if proc.returncode != 0 or "10 passed" not in proc.stdout:
        raise SystemExit(f"cold pytest did not pass 10 tests:\n{proc.stdout}\n{proc.stderr}")
    return seconds


async def sandbox_round(root: Path, mode: str, verify: bool) -> float:
    target = find_target(STUB, "area")
    doctests = TestFile("test_specloop_doctests.py", make_doctest_file("mypkg.mod", "area", target.examples),
                        True, doctest=doctest_text(target.examples))
    req = SandboxRequest(root / "mypkg" / "mod.py", STUB + "    return w * h\n", root, [doctests],
                         [str(root / "tests" / "test_area.py")])
    started = time.perf_counter()
    run = await Sandbox(Settings(sandbox=mode), root).run(req, verify=verify)
    seconds = time.perf_counter() - started
    if run.error or run.passed != 10:
        raise SystemExit(f"{mode} round did not pass 10 tests: {run.error} {run.outcomes}")
    return seconds


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    root = workspace()
    ways = {"cold pytest": lambda: asyncio.to_thread(cold_pytest, root),
            "warm process": lambda: sandbox_round(root, "process", False)}
    if probe_bwrap():
        ways["warm bwrap"] = lambda: sandbox_round(root, "bwrap", False)
        ways["cold bwrap (verification)"] = lambda: sandbox_round(root, "bwrap", True)
    for way in ways.values():  # start the warm workers; the first round is not counted
        await way()
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(args.rounds):
        for name, way in ways.items():
            times[name].append(await way())
    warm.shutdown()
    base = statistics.median(times["cold pytest"])
    print(f"one round = 5 doctests + 5 user tests; {args.rounds} rounds each, alternating; "
          f"{sys.version.split()[0]}")
    print(f"{'way':28} {'median ms':>10} {'p90 ms':>8} {'cold pytest / this':>19}")
    summary = {}
    for name, values in times.items():
        med = statistics.median(values)
        p90 = sorted(values)[int(0.9 * (len(values) - 1))]
        summary[name] = {"median_s": med, "p90_s": p90, "speedup": base / med}
        print(f"{name:28} {med * 1000:10.1f} {p90 * 1000:8.1f} {base / med:18.2f}x")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
