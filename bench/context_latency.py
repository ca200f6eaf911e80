"""Does building a job's context (the module's parts, the project index, the user's tests)
stay off the editor's event loop?  (issue 18)

Starts ``specloop serve`` in a generated workspace: a package of ``--files`` modules (500 by
default) that import each other, a test file per module, and a ``--lines``-line module
(2,000) with stubs that imports from 60 of them.  Then times ``textDocument/codeAction`` on
the big module and a do-nothing request (an unknown method, answered "method not found" by
the protocol layer), first with the server idle, then while generate jobs run on the big
module, two at a time, each started when one ends.  Each job builds its context (parsing
the big module, resolving its 60 imports through the project index, scanning 500 test
files), then sends its first model request, which the scripted model
(tests/scripted_model.py, over real HTTP) refuses after ``--model-delay`` seconds (0.5: a
model's time to answer, shortened), which ends the job.  Every 0.2 s three of the imported
modules are touched, so that the index parses them again.

Idle and busy blocks alternate ``--rounds`` times (4), so that a change in the machine's
load (other processes) falls on both.  Prints p50/p95/p99 of each request and their ratios to
the idle floor (the idle do-nothing request's p99); goal: codeAction p99 while jobs run <= 3x
the floor.  ``--baseline REV`` measures the specloop of a git revision too (its ``server/``
from ``git archive``), in a second server whose blocks alternate with this tree's, and prints
both tables.  The load average (other work on the machine) is printed with them.  Reuses
bench/overhead.py's LSP client and helpers.  No timing is asserted anywhere.

Usage (from the repository root, with the project's venv)::

    .venv/bin/python bench/context_latency.py [--files 500] [--lines 2000] [--requests 200]
        [--rounds 4] [--model-delay 0.5] [--src DIR] [--baseline REV] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from overhead import Client, ScriptedModel, big_module, env_for, keep_jobs, pct, timed, workspace  # noqa: E402
from scripted_model import Response  # noqa: E402  (bench/overhead.py put tests/ on the path)

IMPORTED = 60


def make_project(root: Path, files: int, lines: int) -> tuple[Path, str, list[tuple[str, int]]]:
    """The package ``proj`` (``files`` modules importing each other, tests beside them) and
    the big module ``proj/big.py``; returns its path, text and stubs."""
    pkg = root / "proj"
    (pkg / "tests").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .m0 import f0\n", encoding="utf-8")
    for i in range(files):
        j, k = (i + 1) % files, (i * 7 + 3) % files
        body = [f'"""Module {i}."""', f"from proj.m{j} import f{j}", f"from . import m{k}", "",
                f"LIMIT_{i} = {i}", f"_UNSET_{i} = object()", "", ""]
        body += [f"def f{i}(x: int, y: int = {i}) -> int:", f'    """Combine x and y ({i})."""',
                 f"    return f{j}(x) + m{k}.g{k}(y) if x > LIMIT_{i} else y", "", ""]
        body += [f"def g{i}(y):", f'    """Half of y ({i})."""', "    return y // 2", "", ""]
        body += [f"class Thing{i}:", f'    """A thing ({i})."""', "    size = 1", "",
                 "    def __init__(self, a):", "        self.a = a", "",
                 "    def grow(self, n: int) -> int:", '        """Grow by n."""', "        return self.a + n", ""]
        (pkg / f"m{i}.py").write_text("\n".join(body), encoding="utf-8")
        (pkg / "tests" / f"test_m{i}.py").write_text(
            f"from proj.m{i} import f{i}, g{i}\n\n\ndef test_f{i}():\n    assert f{i}(0) == {i} or True\n\n\n"
            f"def test_g{i}():\n    assert g{i}(4) == 2\n", encoding="utf-8")
    text, stubs = big_module(lines)
    header = "".join(f"from proj.m{i} import f{i}, Thing{i}\n" for i in range(0, min(files, IMPORTED)))
    text = header + text
    stubs = [(name, line + header.count("\n")) for name, line in stubs]
    path = pkg / "big.py"
    path.write_text(text, encoding="utf-8")
    return path, text, stubs


async def condition(client: Client, uri: str, stubs: list[tuple[str, int]], n: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"codeAction": [], "nothing": []}
    for i in range(n):
        _, line = stubs[i % len(stubs)]
        rng = {"start": {"line": line, "character": 4}, "end": {"line": line, "character": 4}}
        times["codeAction"].append(await timed(client.request("textDocument/codeAction", {
            "textDocument": {"uri": uri}, "range": rng, "context": {"diagnostics": []}})))
        times["nothing"].append(await timed(client.request("specloop/benchmarkNothing", {})))
        await asyncio.sleep(0.005 + 0.01 * (i % 3))
    return times


async def touch_imports(root: Path, stop: asyncio.Event, files: int) -> int:
    """Touch a few of the big module's imports every 0.2 s, so the index parses them again."""
    touched = 0
    while not stop.is_set():
        for i in range(3):
            path = root / "proj" / f"m{(touched + i) % min(files, IMPORTED)}.py"
            st = path.stat()
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
        touched += 3
        await asyncio.sleep(0.2)
    return touched


async def start(label: str, src: Path | None, args: argparse.Namespace, model: ScriptedModel) -> dict[str, Any]:
    """A workspace and a server for one variant, its first job run to its end (litellm imported)."""
    ws = workspace("specloop-context-latency-", "parallel_jobs = 2\nmax_retries = 0\nrequest_timeout = 5\n"
                   "critic = false\nmodel_tests = false\ntrace = false\n")
    path, text, stubs = make_project(ws, args.files, args.lines)
    env = env_for(src, SPECLOOP_MODEL="openai/scripted", SPECLOOP_API_BASE=model.url, OPENAI_API_KEY="sk-bench")
    client = await Client.spawn([sys.executable, "-m", "specloop", "serve"], env, ws)
    await client.initialize(ws)
    uri = path.as_uri()
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python",
                                                            "version": 1, "text": text}})
    started = time.monotonic()     # litellm's import (started by didOpen) is over when a job ends
    await client.request("workspace/executeCommand", {
        "command": "specloop.generate", "arguments": [{"uri": uri, "target": stubs[0][0]}]})
    while not client.progress_ended and time.monotonic() - started < 120:
        await asyncio.sleep(0.1)
    await condition(client, uri, stubs, 10)                       # warm caches; not counted
    client.progress_begun.clear()
    client.progress_ended.clear()
    return {"label": label, "ws": ws, "client": client, "uri": uri, "stubs": stubs,
            "idle": {"codeAction": [], "nothing": []}, "jobs": {"codeAction": [], "nothing": []},
            "jobs_started": 0, "jobs_ended": 0}


async def measure_round(v: dict[str, Any], args: argparse.Namespace, per_round: int) -> None:
    """One idle block, then one block with jobs running, of one variant."""
    client, uri, stubs = v["client"], v["uri"], v["stubs"]
    for method, values in (await condition(client, uri, stubs, per_round)).items():
        v["idle"][method] += values
    stop = asyncio.Event()
    ended_before = len(client.progress_ended)
    keeper = asyncio.ensure_future(keep_jobs(client, uri, stubs, 2, stop))
    toucher = asyncio.ensure_future(touch_imports(v["ws"], stop, args.files))
    for method, values in (await condition(client, uri, stubs, per_round)).items():
        v["jobs"][method] += values
    stop.set()
    started_now = await keeper
    await toucher
    deadline = time.monotonic() + 60        # the jobs started end (their model request is refused)
    while len(client.progress_ended) - ended_before < started_now and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    v["jobs_started"] += started_now
    v["jobs_ended"] += len(client.progress_ended) - ended_before
    client.progress_begun.clear()           # keep_jobs counts the jobs ended since it began
    client.progress_ended.clear()


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    specs: list[tuple[str, Path | None]] = []
    if args.baseline_src is not None:
        specs.append((f"baseline {args.baseline}", args.baseline_src))
    specs.append(("this tree" if args.src is None else str(args.src), args.src))
    model = ScriptedModel().start()
    model.add(None, Response(status=400, body="refused by the benchmark", delay=args.model_delay), repeat=True)
    variants: list[dict[str, Any]] = []
    load = [os.getloadavg()]
    try:
        for label, src in specs:
            variants.append(await start(label, src, args, model))
        per_round = max(1, args.requests // args.rounds)
        for _ in range(args.rounds):   # idle and busy (and the variants) alternate: the machine's load drifts
            for v in variants:
                await measure_round(v, args, per_round)
        for v in variants:
            await v["client"].request("workspace/executeCommand", {"command": "specloop.cancel",
                                                                   "arguments": [{"uri": v["uri"]}]})
    finally:
        for v in variants:
            await v["client"].close()
            shutil.rmtree(v["ws"], ignore_errors=True)
        model.stop()
    load.append(os.getloadavg())
    keep = ("label", "idle", "jobs", "jobs_started", "jobs_ended")
    out: dict[str, Any] = {"files": args.files, "lines": args.lines, "load_average": load,
                           "variants": [{k: v[k] for k in keep} for v in variants]}
    out.update({k: variants[-1][k] for k in ("idle", "jobs", "jobs_started", "jobs_ended")})
    return out


def report(result: dict[str, Any]) -> dict[str, float]:
    """Prints each variant's table; returns the ratios of the last (this tree)."""
    (l1, l5, _), (e1, e5, _) = result["load_average"]
    print(f"specloop context latency: {result['files']} modules, a {result['lines']}-line module; "
          f"{sys.version.split()[0]}, {os.cpu_count()} cores; load average {l1:.2f} (5 min {l5:.2f}) at the "
          f"start, {e1:.2f} ({e5:.2f}) at the end")
    ratios: dict[str, float] = {}
    for variant in result["variants"]:
        floor = pct(variant["idle"]["nothing"], 0.99)
        print(f"{variant['label']}: idle floor (do-nothing request, p99) {floor * 1000:.1f} ms")
        print(f"  {'request':33} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'p50/floor':>10} {'p95/floor':>10} "
              f"{'p99/floor':>10} (goal p99 <= 3x)")
        ratios = {}
        for cond in ("idle", "jobs"):
            label = "idle" if cond == "idle" else f"{variant['jobs_ended']} jobs"
            for method in ("codeAction", "nothing"):
                values = variant[cond][method]
                ratios[f"{cond}.{method}"] = pct(values, .99) / floor
                qs = [pct(values, q) for q in (.5, .95, .99)]
                print(f"  {label:18} {method:14} " + " ".join(f"{q * 1000:7.1f}" for q in qs) + " " +
                      " ".join(f"{q / floor:9.2f}x" for q in qs))
    return ratios


def baseline_tree(rev: str, into: Path) -> Path:
    """The ``server/`` folder of ``rev`` (``git archive``), to run as the baseline."""
    root = Path(__file__).resolve().parents[1]
    archive = subprocess.run(["git", "-C", str(root), "archive", "--format=tar", rev, "server"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "server"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=500, help="modules of the generated package")
    parser.add_argument("--lines", type=int, default=2000, help="lines of the module the jobs work on")
    parser.add_argument("--requests", type=int, default=200, help="requests per method and condition")
    parser.add_argument("--rounds", type=int, default=4,
                        help="idle and busy measurements alternate this many times")
    parser.add_argument("--model-delay", dest="model_delay", type=float, default=0.5,
                        help="seconds the scripted model takes to refuse each request")
    parser.add_argument("--src", type=Path, help="measure the specloop package in this folder (PYTHONPATH)")
    parser.add_argument("--baseline", metavar="REV",
                        help="also measure the specloop of this git revision (e.g. HEAD~1), side by side")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    with tempfile.TemporaryDirectory(prefix="specloop-baseline-") as tmp:
        args.baseline_src = baseline_tree(args.baseline, Path(tmp)) if args.baseline else None
        result = asyncio.run(bench(args))
    result["ratios"] = report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
