"""One test round in the warm sandbox against a cold ``python -m pytest``, side by side.

A round is 5 doctest examples + 5 of the user's own tests on a correct
candidate.  Measured in one run, alternating so load affects both alike:

* ``cold pytest``: ``python -m pytest -q -p no:cacheprovider`` in a subprocess on
  the same tests (what a naive runner pays per round), without isolation;
* ``warm process``: ``Sandbox.run`` with ``sandbox = "process"``;
* ``warm bwrap``: ``Sandbox.run`` under bubblewrap (when it works here);
* ``cold bwrap``: the verification run (a cold process under bubblewrap);

each judged by value (the candidate in a process of its own, the tests in the judge: what
the engine does) and in-process (the candidate inside pytest: what it did before), and a
class round (a 5-method class, 5 doctest examples on its objects) both ways under bubblewrap.

Prints medians, p90 and the ratio cold pytest / each; the target is warm >= 4x, and a class
round judged by value within 1.5x of the in-process one.

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

from specloop.sandbox import warm
from specloop.sandbox.runs import Sandbox, SandboxRequest, TestFile, doctest_text, make_doctest_file, probe_bwrap
from specloop.settings import Settings
from specloop.source.spec import find_target

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


CLASS_SPEC = '''class Counter:
    """Counts words.

    >>> c = Counter()
    >>> c.add("a b a")
    >>> c.count("a"), c.count("b"), c.count("z")
    (2, 1, 0)
    >>> c.top(1)
    [('a', 2)]
    >>> len(c)
    2
    """
'''
CLASS_CODE = '''class Counter:
    """Counts words."""

    def __init__(self):
        self.counts = {}

    def add(self, text):
        for word in text.split():
            self.counts[word] = self.counts.get(word, 0) + 1

    def count(self, word):
        return self.counts.get(word, 0)

    def top(self, n):
        return sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]

    def __len__(self):
        return len(self.counts)
'''


async def class_round(root: Path, by_value: bool) -> float:
    from specloop.sandbox import byvalue
    from specloop.source.classspec import find_class_target

    spec = find_class_target(CLASS_SPEC, "Counter")
    doctests = TestFile("test_specloop_doctests.py", make_doctest_file("mypkg.counter", "Counter", spec.examples),
                        True, doctest=doctest_text(spec.examples))
    judge = dict(judge_source=CLASS_SPEC, targets=tuple(byvalue.class_methods(CLASS_CODE, "Counter"))) \
        if by_value else {}
    req = SandboxRequest(root / "mypkg" / "counter.py", CLASS_CODE, root, [doctests], [], **judge)
    started = time.perf_counter()
    run = await Sandbox(Settings(sandbox="bwrap"), root).run(req)
    seconds = time.perf_counter() - started
    if run.error or run.passed != 5 or run.judged != ("value" if by_value else "in-process"):
        raise SystemExit(f"class round did not pass 5 examples: {run.error} {run.outcomes}")
    return seconds


async def sandbox_round(root: Path, mode: str, verify: bool, by_value: bool = True) -> float:
    target = find_target(STUB, "area")
    doctests = TestFile("test_specloop_doctests.py", make_doctest_file("mypkg.mod", "area", target.examples),
                        True, doctest=doctest_text(target.examples))
    judge = dict(judge_source=STUB, targets=("area",)) if by_value else {}
    req = SandboxRequest(root / "mypkg" / "mod.py", STUB + "    return w * h\n", root, [doctests],
                         [str(root / "tests" / "test_area.py")], **judge)
    started = time.perf_counter()
    run = await Sandbox(Settings(sandbox=mode), root).run(req, verify=verify)
    seconds = time.perf_counter() - started
    if run.error or run.passed != 10 or run.judged != ("value" if by_value else "in-process"):
        raise SystemExit(f"{mode} round did not pass 10 tests: {run.error} {run.outcomes}")
    return seconds


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    root = workspace()
    (root / "mypkg" / "counter.py").write_text(CLASS_SPEC)
    ways = {"cold pytest": lambda: asyncio.to_thread(cold_pytest, root),
            "warm process, by value": lambda: sandbox_round(root, "process", False),
            "warm process, in-process": lambda: sandbox_round(root, "process", False, False)}
    if probe_bwrap():
        ways["warm bwrap, by value"] = lambda: sandbox_round(root, "bwrap", False)
        ways["warm bwrap, in-process"] = lambda: sandbox_round(root, "bwrap", False, False)
        ways["cold bwrap (verify), by value"] = lambda: sandbox_round(root, "bwrap", True)
        ways["cold bwrap (verify), in-proc."] = lambda: sandbox_round(root, "bwrap", True, False)
        ways["class, bwrap, by value"] = lambda: class_round(root, True)
        ways["class, bwrap, in-process"] = lambda: class_round(root, False)
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
    print(f"{'way':32} {'median ms':>10} {'p90 ms':>8} {'cold pytest / this':>19}")
    summary = {}
    for name, values in times.items():
        med = statistics.median(values)
        p90 = sorted(values)[int(0.9 * (len(values) - 1))]
        summary[name] = {"median_s": med, "p90_s": p90, "speedup": base / med}
        print(f"{name:32} {med * 1000:10.1f} {p90 * 1000:8.1f} {base / med:18.2f}x")
    if "class, bwrap, by value" in summary:
        ratio = summary["class, bwrap, by value"]["median_s"] / summary["class, bwrap, in-process"]["median_s"]
        print(f"class round, by value / in-process: {ratio:.2f}x (target <= 1.5x)")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
