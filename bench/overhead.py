"""specloop's own overhead, side by side with what it cannot avoid (issue 10).

Prints, in one run (medians of repeated runs, ratios against the baseline of each row):

* ``cli``: ``specloop run`` on a file with 5 stubs against an instantly answering scripted
  model (``tests/scripted_model.py`` over real HTTP): the wall time of the process against
  the time its jobs spent in model calls or test rounds (the union of those intervals, read
  from the job traces, so parallel calls are not counted twice); goal <= 1.2x.  Also the
  time from starting the process to its first progress line on stderr (goal <= 50 ms).
* ``lsp``: ``textDocument/codeAction`` and ``textDocument/codeLens`` p50/p99 on a 2,000-
  and a 20,000-line file, with the server idle, while the user types (a change every 30 ms;
  every tenth one a new line above every stub, so the requests aim at moved targets) and with
  4 jobs running (each job fails its tests and goes through its fix rounds, and is restarted
  when it ends), against the same server's do-nothing request (an unknown method, answered
  "method not found" by the protocol layer): its idle p50 and p99.  Goals: typing p50 <= 3x
  the idle do-nothing p50 at 2,000 lines and p99 <= 100 ms at 20,000; jobs p99 <= 3x the
  idle do-nothing p99.  ``right``: the share of codeAction answers that offered the
  stub aimed at (its line moved by the edits so far).
* ``start``: ``initialize`` answered after spawning the server, and the resident memory once
  idle (before and after a document with a spec is opened, which starts litellm's import),
  against jedi-language-server (goal <= 1.2x start; memory: as low as litellm allows).
* ``local`` (``--local``): what the embedded local model path pays before its first token:
  importing llama_cpp and loading the gguf file.

Usage (from the repository root, with the project's venv)::

    .venv/bin/python bench/overhead.py [--runs 10] [--requests 200] [--starts 10]
        [--jedi PATH] [--src DIR] [--only cli,lsp,start] [--local] [--json FILE]
        [--sizes 2000,20000] [--conditions typing,jobs] [--type-every 0.03]

``--jedi``: the jedi-language-server executable (default: ``$SPECLOOP_BENCH_JEDI``, else
one on PATH); install it into a separate venv, e.g.
``python3 -m venv /tmp/jedi-venv && /tmp/jedi-venv/bin/pip install jedi-language-server``.
``--src DIR``: measure the specloop package under ``DIR`` (e.g. a ``git worktree`` of an
older commit's ``server/``) instead of the installed one.  No timing is asserted anywhere:
the script prints numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from scripted_model import ScriptedModel  # noqa: E402

# -- the scenario ------------------------------------------------------------------------------

STUBS = {
    "add": ("a, b", "The sum of a and b.", [("add(2, 3)", "5"), ("add(-1, 1)", "0")], "return a + b"),
    "double": ("x", "Twice x.", [("double(4)", "8"), ("double(0)", "0")], "return 2 * x"),
    "first": ("items", "The first item, or None for an empty list.", [("first([3, 4])", "3"),
                                                                      ("first([]) is None", "True")],
              "return items[0] if items else None"),
    "shout": ("text", "text in upper case with an exclamation mark.", [("shout('hi')", "'HI!'")],
              "return text.upper() + '!'"),
    "count_vowels": ("text", "How many of the letters aeiou (any case) text has.",
                     [("count_vowels('Banana')", "3"), ("count_vowels('')", "0")],
                     "return sum(c in 'aeiou' for c in text.lower())"),
}


def stub_source(name: str, params: str, doc: str, examples: list[tuple[str, str]]) -> str:
    lines = [f"def {name}({params}):", f'    """{doc}', ""]
    for call, want in examples:
        lines += [f"    >>> {call}", f"    {want}"]
    lines += ['    """', ""]
    return "\n".join(lines)


def module_text() -> str:
    return "\n\n".join(stub_source(n, p, d, e) for n, (p, d, e, _) in STUBS.items())


def fenced(code: str) -> str:
    return f"```python\n{code}\n```\n"


def correct_code(name: str) -> str:
    params, doc, _, body = STUBS[name]
    return f"def {name}({params}):\n    {body}\n"


def model_tests(name: str, module: str = "mod") -> str:
    _, _, examples, _ = STUBS[name]
    asserts = "\n".join(f"    assert ({call}) == {want}" for call, want in examples)
    return f"from {module} import {name}\n\n\ndef test_{name}_examples():\n{asserts}\n"


APPROVE = json.dumps({"verdict": "approve", "findings": []})


def script_correct(server: ScriptedModel) -> None:
    """Every step answered at once, correctly: the jobs pass at the first attempt."""
    server.respond(lambda step, target, body: fenced(correct_code(target)), step="generate")
    server.respond(lambda step, target, body: fenced(correct_code(target)), step="fix")
    server.respond(lambda step, target, body: fenced(model_tests(target)), step="tests")
    server.add("critic", APPROVE, repeat=True)


def script_failing(server: ScriptedModel, module: str) -> None:
    """Every code answer is wrong: a job tests, fixes, tests again... until max_iterations."""
    def wrong(step: str | None, target: str | None, body: dict[str, Any]) -> str:
        name = (target or "f").rsplit(".", 1)[-1]
        return fenced(f"def {name}(x):\n    return -12345\n")
    server.respond(wrong, step="generate")
    server.respond(wrong, step="fix")
    server.respond(lambda step, target, body: fenced(
        f"from {module} import {target}\n\n\ndef test_it():\n    assert {target}(1) == 1\n"), step="tests")
    server.add("critic", APPROVE, repeat=True)


def workspace(prefix: str, settings: str = "") -> Path:
    root = Path(tempfile.mkdtemp(prefix=prefix))
    (root / "pyproject.toml").write_text(f"[tool.specloop]\n{settings}", encoding="utf-8")
    return root


def env_for(src: Path | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPECLOOP_")}
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(src), *filter(None, [env.get("PYTHONPATH")])])
    env.update(extra)
    return env


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


# -- cli -----------------------------------------------------------------------------------------

def busy_seconds(trace: Path) -> tuple[float, float]:
    """(seconds in model calls or test rounds, union of intervals; the job's own seconds) of one trace."""
    records = [json.loads(line) for line in trace.read_text(encoding="utf-8").splitlines() if line.strip()]
    spans: list[tuple[float, float]] = []
    verifying = None
    for rec in records:
        t = float(rec.get("t", 0.0))
        kind = rec.get("kind")
        if kind == "phase" and rec.get("phase") == "verifying":
            verifying = t
        elif kind in ("model", "model_error", "tests") and rec.get("seconds"):
            spans.append((t - float(rec["seconds"]), t))
        elif kind == "verify" and verifying is not None:
            spans.append((verifying, t))
    spans.sort()
    total, end = 0.0, float("-inf")
    for a, b in spans:
        if b <= end:
            continue
        total += b - max(a, end)
        end = b
    job = max((float(r.get("t", 0.0)) for r in records), default=0.0)
    return total, job


def cli_once(ws: Path, url: str, src: Path | None) -> dict[str, float]:
    target = ws / "mod.py"
    target.write_text(module_text(), encoding="utf-8")
    shutil.rmtree(ws / ".specloop", ignore_errors=True)
    shutil.rmtree(ws / "tests", ignore_errors=True)
    argv = [sys.executable, "-m", "specloop", "run", str(target), "--model", "openai/scripted", "--api-base", url]
    env = env_for(src, OPENAI_API_KEY="sk-bench")
    first: list[float] = []
    started = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ws, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def read_err() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if not first:
                first.append(time.perf_counter() - started)
            err.append(line)
    err: list[bytes] = []
    reader = threading.Thread(target=read_err)
    reader.start()
    out = proc.stdout.read() if proc.stdout else b""
    code = proc.wait()
    wall = time.perf_counter() - started
    reader.join()
    if code != 0 or out.count("passed".encode()) < len(STUBS):
        raise SystemExit(f"specloop run did not pass every target (exit {code}):\n{out.decode()}\n"
                         f"{b''.join(err).decode()}")
    busy = jobs = 0.0
    for trace in (ws / ".specloop" / "runs").glob("*.jsonl"):
        b, j = busy_seconds(trace)
        busy += b
        jobs += j
    return {"wall": wall, "first_line": first[0] if first else wall, "busy": busy, "jobs": jobs}


def bench_cli(args: argparse.Namespace) -> dict[str, Any]:
    ws = workspace("specloop-overhead-cli-")
    with ScriptedModel() as server:
        script_correct(server)
        cli_once(ws, server.url, args.src)          # warms the OS caches; not counted
        runs = [cli_once(ws, server.url, args.src) for _ in range(args.runs)]
    shutil.rmtree(ws, ignore_errors=True)
    out = {k: median([r[k] for r in runs]) for k in runs[0]}
    out["ratio"] = median([r["wall"] / r["busy"] for r in runs])
    out["runs"] = len(runs)
    return out


# -- a small LSP client over stdio ---------------------------------------------------------------

class Client:
    """Just enough of an LSP client: requests with ids, answers the server's own requests."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.next_id = 0
        self.waiting: dict[int, asyncio.Future] = {}
        self.progress_begun: set[Any] = set()
        self.progress_ended: set[Any] = set()
        self.reader = asyncio.ensure_future(self._read())

    @classmethod
    async def spawn(cls, argv: list[str], env: dict[str, str], cwd: Path) -> Client:
        proc = await asyncio.create_subprocess_exec(*argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                                    stderr=subprocess.DEVNULL, env=env, cwd=cwd)
        return cls(proc)

    def _send(self, message: dict[str, Any]) -> None:
        data = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)

    async def request(self, method: str, params: Any = None) -> Any:
        self.next_id += 1
        future = self.waiting[self.next_id] = asyncio.get_running_loop().create_future()
        self._send({"id": self.next_id, "method": method, "params": params})
        return await future

    def notify(self, method: str, params: Any = None) -> None:
        self._send({"method": method, "params": params})

    async def _read(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        while True:
            length = 0
            while True:
                line = await stream.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            message = json.loads(await stream.readexactly(length))
            if "method" in message and "id" in message:
                self._send({"id": message["id"], "result": self._answer(message["method"], message.get("params"))})
            elif "method" in message:
                if message["method"] == "$/progress":
                    token, kind = message["params"]["token"], message["params"]["value"].get("kind")
                    (self.progress_begun if kind == "begin" else self.progress_ended if kind == "end"
                     else set()).add(token)
            else:
                future = self.waiting.pop(message.get("id"), None)
                if future is not None and not future.done():
                    future.set_result(message.get("result", message.get("error")))

    @staticmethod
    def _answer(method: str, params: Any) -> Any:
        if method == "workspace/configuration":
            return [None for _ in (params or {}).get("items", [])]
        if method == "workspace/applyEdit":
            return {"applied": False, "failureReason": "benchmark client"}
        return None

    @property
    def running(self) -> int:
        return len(self.progress_begun - self.progress_ended)

    async def initialize(self, root: Path) -> Any:
        result = await self.request("initialize", {
            "processId": os.getpid(), "rootUri": root.as_uri(),
            "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
            "capabilities": {"window": {"workDoneProgress": True},
                             "workspace": {"applyEdit": True, "workspaceEdit": {"documentChanges": True},
                                           "configuration": True},
                             "textDocument": {"codeAction": {"codeActionLiteralSupport": {
                                 "codeActionKind": {"valueSet": ["refactor", "refactor.rewrite", "quickfix"]}}}}}})
        self.notify("initialized", {})
        return result

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.request("shutdown"), 10)
            self.notify("exit")
            await asyncio.wait_for(self.proc.wait(), 10)
        except (asyncio.TimeoutError, ConnectionError, BrokenPipeError):
            pass
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        self.reader.cancel()


def rss_mib(pid: int) -> float:
    """Resident memory of ``pid`` and its descendants (jedi and pygls run in one process)."""
    total = 0
    for p in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def _children(pid: int) -> list[int]:
    try:
        kids = [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return [k for kid in kids for k in (kid, *_children(kid))]


async def settled_rss(pid: int, limit: float = 30.0) -> float:
    """RSS once it has not changed by more than 1 MiB for a second (or after ``limit`` s)."""
    deadline = time.monotonic() + limit
    last = rss_mib(pid)
    while time.monotonic() < deadline:
        await asyncio.sleep(1.0)
        now = rss_mib(pid)
        if abs(now - last) < 1.0:
            return now
        last = now
    return last


# -- lsp latency -----------------------------------------------------------------------------------

def big_module(lines: int, stubs: int = 24) -> tuple[str, list[tuple[str, int]]]:
    """A module of about ``lines`` lines: ordinary functions and one ordinary class (most real
    modules have one, and a class makes the server look for class specs too), with ``stubs``
    stubs spread through it."""
    parts: list[str] = ["import math\nimport os\n\n",
                        "\nclass Point:\n    def __init__(self, x, y):\n        self.x, self.y = x, y\n"]
    found: list[tuple[str, int]] = []
    count = 0
    every = max(1, lines // (10 * stubs))
    n = 0
    while count < lines:
        if n % every == 0 and len(found) < stubs:
            name = f"spec_{len(found)}"
            found.append((name, count + 1))
            block = f'\ndef {name}(x):\n    """Return x plus {len(found)}.\n\n    >>> {name}(1)\n    {1 + len(found)}\n    """\n'
        else:
            block = textwrap.dedent(f"""
                def helper_{n}(a, b=2):
                    total = a * b + {n}
                    if total > 10:
                        total -= math.floor(total / 3)
                    return total
                """)
        parts.append(block)
        count += block.count("\n")
        n += 1
    text = "".join(parts)
    lines_of = text.splitlines()
    found = [(name, next(i for i, line in enumerate(lines_of) if line.startswith(f"def {name}("))) for name, _ in found]
    return text, found


async def timed(coro) -> float:
    started = time.perf_counter()
    await coro
    return time.perf_counter() - started


class Typist:
    """Types into the open document every ``every`` seconds: a character on line 2 (a blank line
    of :func:`big_module` that becomes an expression statement), and every tenth change a new
    comment line at line 3, which moves every target one line down.  ``moved`` is how many lines
    the stubs have moved so far; requests aim at the stubs' current lines."""

    def __init__(self, client: Client, uri: str, every: float = 0.03) -> None:
        self.client, self.uri, self.every = client, uri, every
        self.version, self.changes, self.moved, self.column = 1, 0, 0, 0
        self.task: asyncio.Future | None = None

    def start(self) -> None:
        self.task = asyncio.ensure_future(self._type())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass
            self.task = None

    async def _type(self) -> None:
        while True:
            self.changes += 1
            self.version += 1
            if self.changes % 10 == 0:
                change = {"range": {"start": {"line": 3, "character": 0}, "end": {"line": 3, "character": 0}},
                          "text": "# a typed line\n"}
                self.moved += 1
            else:
                at = {"line": 2, "character": self.column}
                change = {"range": {"start": at, "end": at}, "text": "x"}
                self.column += 1
            self.client.notify("textDocument/didChange", {
                "textDocument": {"uri": self.uri, "version": self.version}, "contentChanges": [change]})
            await asyncio.sleep(self.every)


async def lsp_condition(client: Client, uri: str, stubs: list[tuple[str, int]], n: int,
                        typist: Typist | None = None) -> dict[str, list[float]]:
    """``n`` rounds of codeAction, codeLens and the do-nothing request.  ``right`` counts the
    codeAction answers that offered the stub's own "Implement NAME from spec" (aimed at the
    stub's current line, moved by the typist's edits so far)."""
    times: dict[str, list[float]] = {"codeAction": [], "codeLens": [], "nothing": [], "right": []}
    for i in range(n):
        name, line = stubs[i % len(stubs)]
        line += typist.moved if typist is not None else 0
        rng = {"start": {"line": line, "character": 4}, "end": {"line": line, "character": 4}}
        started = time.perf_counter()
        answer = await client.request("textDocument/codeAction", {
            "textDocument": {"uri": uri}, "range": rng, "context": {"diagnostics": []}})
        times["codeAction"].append(time.perf_counter() - started)
        titles = [a.get("title") for a in answer or [] if isinstance(a, dict)]
        times["right"].append(float(f"Implement {name} from spec" in titles))
        times["codeLens"].append(await timed(client.request("textDocument/codeLens", {"textDocument": {"uri": uri}})))
        times["nothing"].append(await timed(client.request("specloop/benchmarkNothing", {})))
        await asyncio.sleep(0.005 + 0.01 * (i % 3))
    return times


async def keep_jobs(client: Client, uri: str, stubs: list[tuple[str, int]], jobs: int, stop: asyncio.Event) -> int:
    """Keep ``jobs`` jobs in the server (running or queued) until ``stop`` is set: a new one
    starts when one has ended (its work-done progress ended).  Returns how many started."""
    started = refused = 0
    while not stop.is_set():
        if started - refused - len(client.progress_ended) < jobs:
            name, _ = stubs[started % len(stubs)]
            answer = await client.request("workspace/executeCommand", {
                "command": "specloop.generate", "arguments": [{"uri": uri, "target": name}]})
            started += 1
            if not (isinstance(answer, dict) and answer.get("started")):
                refused += 1
            continue
        await asyncio.sleep(0.02)
    return started - refused


async def bench_lsp(args: argparse.Namespace) -> dict[str, Any]:
    ws = workspace("specloop-overhead-lsp-", "parallel_jobs = 4\nmax_iterations = 3\ncritic = false\n")
    out: dict[str, Any] = {}
    with ScriptedModel() as server:
        env = env_for(args.src, SPECLOOP_MODEL="openai/scripted", SPECLOOP_API_BASE=server.url,
                      OPENAI_API_KEY="sk-bench")
        for size in args.sizes:
            module = f"big{size}"
            text, stubs = big_module(size)
            path = ws / f"{module}.py"
            path.write_text(text, encoding="utf-8")
            server.rules.clear()
            script_failing(server, module)
            client = await Client.spawn([sys.executable, "-m", "specloop", "serve"], env, ws)
            await client.initialize(ws)
            uri = path.as_uri()
            client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python",
                                                                    "version": 1, "text": text}})
            await settled_rss(client.proc.pid, 30)       # litellm's import is over
            await lsp_condition(client, uri, stubs, 10)  # warm caches; not counted
            idle = await lsp_condition(client, uri, stubs, args.requests)
            typing = None
            if "typing" in args.conditions:
                typist = Typist(client, uri, args.type_every)
                typist.start()
                await asyncio.sleep(1.0)             # the typing has started in earnest
                typing = await lsp_condition(client, uri, stubs, args.requests, typist)
                await typist.stop()
                typing["changes"] = typist.changes
                if "jobs" in args.conditions:        # the stubs moved: reopen the document as it was
                    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
                    client.notify("textDocument/didOpen", {"textDocument": {
                        "uri": uri, "languageId": "python", "version": 1, "text": text}})
                    await lsp_condition(client, uri, stubs, 10)
            if "jobs" not in args.conditions:
                await client.close()
                out[size] = {"idle": idle, "typing": typing}
                continue
            stop = asyncio.Event()
            keeper = asyncio.ensure_future(keep_jobs(client, uri, stubs, 4, stop))
            deadline = time.monotonic() + 30
            while client.running < 4 and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            busy = await lsp_condition(client, uri, stubs, args.requests)
            stop.set()
            started = await keeper
            await client.request("workspace/executeCommand", {"command": "specloop.cancel", "arguments": [{"uri": uri}]})
            await client.close()
            out[size] = {"idle": idle, "typing": typing, "jobs": busy, "jobs_started": started}
    shutil.rmtree(ws, ignore_errors=True)
    return out


# -- start-up and memory ---------------------------------------------------------------------------

async def start_once(argv: list[str], env: dict[str, str], ws: Path, spec_uri: str, spec_text: str,
                     memory: bool) -> dict[str, float]:
    started = time.perf_counter()
    client = await Client.spawn(argv, env, ws)
    await client.initialize(ws)
    result = {"initialize": time.perf_counter() - started}
    if memory:
        result["rss_initialized"] = await settled_rss(client.proc.pid, 10)
        client.notify("textDocument/didOpen", {"textDocument": {"uri": spec_uri, "languageId": "python",
                                                                "version": 1, "text": spec_text}})
        result["rss_open"] = await settled_rss(client.proc.pid, 30)
    await client.close()
    return result


async def bench_start(args: argparse.Namespace) -> dict[str, Any]:
    ws = workspace("specloop-overhead-start-")
    path = ws / "mod.py"
    path.write_text(module_text(), encoding="utf-8")
    servers = {"specloop": ([sys.executable, "-m", "specloop", "serve"], env_for(args.src))}
    jedi = args.jedi or os.environ.get("SPECLOOP_BENCH_JEDI") or shutil.which("jedi-language-server")
    if jedi:
        servers["jedi-language-server"] = ([jedi], {k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    else:
        print("jedi-language-server not found (--jedi PATH or SPECLOOP_BENCH_JEDI): no baseline", file=sys.stderr)
    out: dict[str, Any] = {}
    for name, (argv, env) in servers.items():
        await start_once(argv, env, ws, path.as_uri(), module_text(), False)   # OS caches; not counted
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in servers}
    for i in range(args.starts):
        for name, (argv, env) in servers.items():   # alternating, so load affects both alike
            runs[name].append(await start_once(argv, env, ws, path.as_uri(), module_text(), i < args.memory_runs))
    for name, values in runs.items():
        out[name] = {"initialize": median([v["initialize"] for v in values]),
                     "rss_initialized": median([v["rss_initialized"] for v in values if "rss_initialized" in v]),
                     "rss_open": median([v["rss_open"] for v in values if "rss_open" in v])}
    shutil.rmtree(ws, ignore_errors=True)
    return out


# -- the local model ---------------------------------------------------------------------------------

def bench_local(args: argparse.Namespace) -> dict[str, Any] | None:
    code = textwrap.dedent("""
        import json, time, gc
        t0 = time.perf_counter()
        import llama_cpp
        t1 = time.perf_counter()
        from specloop.model import local as local_model
        local_model.load()
        t2 = time.perf_counter()
        print(json.dumps({"import_llama_cpp": t1 - t0, "load_model": t2 - t1}))
    """)
    runs = []
    for _ in range(max(1, args.runs // 2)):
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env_for(args.src))
        if proc.returncode != 0:
            print(f"local model not measured: {proc.stderr.strip().splitlines()[-1:] or proc.returncode}",
                  file=sys.stderr)
            return None
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return {k: median([r[k] for r in runs]) for k in runs[0]}


# -- report ------------------------------------------------------------------------------------------

def report(results: dict[str, Any], args: argparse.Namespace) -> None:
    print(f"specloop overhead ({args.label}); {sys.version.split()[0]}, {os.cpu_count()} cores; medians")
    cli = results.get("cli")
    if cli:
        print(f"\n{'specloop run, 5 stubs':44} {'median':>10} {'ratio':>8} {'goal':>8}")
        print(f"{'  wall time':44} {cli['wall'] * 1000:8.0f}ms {cli['ratio']:7.2f}x {'<=1.2x':>8}")
        print(f"{'  model calls + test rounds (union)':44} {cli['busy'] * 1000:8.0f}ms {1.0:7.2f}x")
        print(f"{'  jobs (from their traces)':44} {cli['jobs'] * 1000:8.0f}ms")
        print(f"{'  first progress line':44} {cli['first_line'] * 1000:8.0f}ms {'':8} {'<=50ms':>8}")
    lsp = results.get("lsp")
    if lsp:
        print(f"\n{'LSP request latency':40} {'p50 ms':>8} {'p99 ms':>8} {'p50 / idle nothing p50':>23} "
              f"{'p99 / idle nothing p99':>23} {'right':>6}")
        print("  (ratios to the idle do-nothing request of the same server; goals: typing p50 <= 3x "
              "at 2,000 lines, p99 <= 100 ms at 20,000; jobs p99 <= 3x)")
        for size, conds in lsp.items():
            base = pct(conds["idle"]["nothing"], 0.99)
            for cond in ("idle", "typing", "jobs"):
                if not conds.get(cond):
                    continue
                label = {"idle": "idle", "typing": f"typing ({conds[cond].get('changes', 0)} changes)",
                         "jobs": f"4 jobs ({conds.get('jobs_started')} started)"}[cond]
                floor = pct(conds["idle"]["nothing"], 0.5)
                for method in ("codeAction", "codeLens", "nothing"):
                    values = conds[cond][method]
                    right = conds[cond].get("right") if method == "codeAction" else None
                    shown = f"{sum(right) / len(right):6.0%}" if right else ""
                    print(f"  {size:>6} lines, {label:24} {method:10} {pct(values, .5) * 1000:8.1f} "
                          f"{pct(values, .99) * 1000:8.1f} {pct(values, .5) / floor:22.2f}x "
                          f"{pct(values, .99) / base:22.2f}x {shown:>6}")
    start = results.get("start")
    if start:
        base = start.get("jedi-language-server")
        print(f"\n{'server start-up and memory':24} {'initialize ms':>14} {'ratio':>7} "
              f"{'idle RSS MiB':>13} {'after didOpen MiB':>18} {'ratio':>7}")
        for name, v in start.items():
            r1 = v["initialize"] / base["initialize"] if base else float("nan")
            r2 = v["rss_open"] / base["rss_open"] if base else float("nan")
            print(f"  {name:22} {v['initialize'] * 1000:14.0f} {r1:6.2f}x {v['rss_initialized']:13.0f} "
                  f"{v['rss_open']:18.0f} {r2:6.2f}x")
    local = results.get("local")
    if local:
        print(f"\nlocal model: import llama_cpp {local['import_llama_cpp'] * 1000:.0f} ms, "
              f"load the gguf {local['load_model'] * 1000:.0f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="specloop run repetitions")
    parser.add_argument("--requests", type=int, default=200, help="LSP requests per method and condition")
    parser.add_argument("--starts", type=int, default=10, help="server starts each")
    parser.add_argument("--memory-runs", dest="memory_runs", type=int, default=3,
                        help="of the starts, how many also measure memory (each waits for it to settle)")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[2000, 20000])
    parser.add_argument("--conditions", default="idle,typing,jobs",
                        help="lsp: comma-separated conditions besides idle: typing, jobs")
    parser.add_argument("--type-every", dest="type_every", type=float, default=0.03,
                        help="lsp, typing: seconds between two changes")
    parser.add_argument("--jedi", help="jedi-language-server executable")
    parser.add_argument("--src", type=Path, help="measure the specloop package in this folder (PYTHONPATH)")
    parser.add_argument("--only", default="cli,lsp,start", help="comma-separated: cli, lsp, start")
    parser.add_argument("--local", action="store_true", help="also measure the local model's import and load")
    parser.add_argument("--label", default="", help="a name for this run in the report")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    args.label = args.label or (f"specloop from {args.src}" if args.src else "installed specloop")
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    parts = set(args.only.split(","))
    results: dict[str, Any] = {}
    if "cli" in parts:
        results["cli"] = bench_cli(args)
    if "lsp" in parts:
        results["lsp"] = asyncio.run(bench_lsp(args))
    if "start" in parts:
        results["start"] = asyncio.run(bench_start(args))
    if args.local:
        results["local"] = bench_local(args)
    report(results, args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
