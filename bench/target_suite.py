"""Class and module specs with hidden tests: does each one land whole and pass tests the
model never saw?

    .venv/bin/python bench/target_suite.py                      # the scripted model answers correctly
    .venv/bin/python bench/target_suite.py --cases queue,stack  # some cases only
    .venv/bin/python bench/target_suite.py --model local        # the embedded local model instead
    .venv/bin/python bench/target_suite.py --check-answers      # the suite's own answers pass its tests?
    .venv/bin/python bench/target_suite.py --json out.json      # the rows as JSON too

Each case is a folder of ``bench/suite/``:

* ``case.toml``: ``kind`` (``class`` or ``module``), ``module`` (the file's name in the
  project, e.g. ``shapes.py``), ``position`` (where the spec sits in the file, in words),
  ``target`` (the class of a class case) and ``about``.
* ``spec.py``: the file as a user writes it, with the spec (a class whose methods are
  stubs, or a ``# spec:`` block) and whatever else the file holds.
* ``answer.py``: the same file written correctly: what every step of the scripted model
  answers is read from it (below).
* ``hidden.py``: pytest tests of the written file (``from MODULE import ...``), never
  shown to the model: they are copied into the project only after ``specloop run``.

One case runs like this: ``spec.py`` is copied as ``MODULE`` into a fresh project (a
``pyproject.toml`` and nothing else), ``specloop run MODULE --json`` runs in a subprocess
(the engine of this tree: ``PYTHONPATH`` is its ``server/``), then ``hidden.py`` is copied
beside it and plain pytest runs it on the file as specloop left it.

The scripted model (``tests/scripted_model.py``, real HTTP on 127.0.0.1, called through
litellm) answers each step from ``answer.py``, told apart by the ``X-Specloop-Step`` and
``X-Specloop-Target`` headers:

* ``plan`` (target: the class, or ``module spec (line N)``): the class with every method
  of ``answer.py`` as a stub (decorators, header, docstring), or the module's new
  functions as stubs (the functions ``answer.py`` defines and ``spec.py`` does not);
* ``generate`` and ``fix`` of a component (``Class.method``, or a function's name): that
  method or function as ``answer.py`` has it, a function preceded by the imports of
  ``answer.py`` it uses that ``spec.py`` lacks; of the class or the block itself, the
  whole class or every new function;
* ``critic``: approve, no findings.

Anything else (e.g. ``tests``: model tests are off) is answered with HTTP 400, which
shows in the row's ``unanswered`` count.  Settings of a scripted run: critic on, model
tests off, no retries; of a real model (``--model``): critic and model tests off, as
``examples/pyproject.toml`` sets for the embedded model (``--critic`` turns it on).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import tomllib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / "bench" / "suite"
SERVER = ROOT / "server"
sys.path.insert(0, str(ROOT / "tests"))

from scripted_model import ScriptedModel  # noqa: E402

FAKE_KEY = "sk-test-not-a-real-key"
LOCAL = "specloop-local/smollm2"
RUN_TIMEOUT = 600.0          # one case's specloop run (the local model is slow on 2 cores)
TEST_TIMEOUT = 120.0         # one case's hidden tests


# -- the cases -------------------------------------------------------------------------------

@dataclass
class Case:
    name: str
    folder: Path
    kind: str                 # "class" | "module"
    module: str               # the file's name in the project, e.g. "shapes.py"
    position: str
    about: str = ""
    target: str | None = None     # the class of a class case

    @property
    def spec(self) -> str:
        return (self.folder / "spec.py").read_text(encoding="utf-8")

    @property
    def answer(self) -> str:
        return (self.folder / "answer.py").read_text(encoding="utf-8")

    @property
    def hidden(self) -> str:
        return (self.folder / "hidden.py").read_text(encoding="utf-8")

    @property
    def hidden_count(self) -> int:
        """The hidden tests (module-level ``test_*`` functions; the suite does not parametrize)."""
        tree = ast.parse(self.hidden)
        return sum(isinstance(n, ast.FunctionDef) and n.name.startswith("test") for n in tree.body)


def load_cases(names: list[str] | None = None) -> list[Case]:
    cases = []
    for folder in sorted(p for p in SUITE.iterdir() if (p / "case.toml").is_file()):
        meta = tomllib.loads((folder / "case.toml").read_text(encoding="utf-8"))
        cases.append(Case(name=folder.name, folder=folder, kind=meta["kind"], module=meta["module"],
                          position=meta["position"], about=meta.get("about", ""), target=meta.get("target")))
    if names:
        unknown = set(names) - {c.name for c in cases}
        if unknown:
            raise SystemExit(f"no such case: {', '.join(sorted(unknown))}")
        cases = [c for c in cases if c.name in names]
    # classes first, then modules, each by name
    return sorted(cases, key=lambda c: (c.kind != "class", c.name))


# -- the correct answers, read from answer.py --------------------------------------------------

@dataclass
class Answers:
    plan: str                        # the plan step's python block
    code: dict[str, str]             # component target name -> its python block
    whole: str                       # the whole class, or every new function


def _segment(lines: list[str], node: ast.AST, end: int | None = None) -> str:
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))]) - 1
    return textwrap.dedent("\n".join(lines[first:end if end is not None else node.end_lineno])) + "\n"


def _stub(lines: list[str], fn: ast.FunctionDef) -> str:
    """Decorators, header and docstring of ``fn`` (its docstring is required)."""
    doc = fn.body[0]
    if not (isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant) and isinstance(doc.value.value, str)):
        raise ValueError(f"answer.py: `{fn.name}` has no docstring (a plan's stub needs one)")
    return _segment(lines, fn, doc.end_lineno)


def _bound(node: ast.Import | ast.ImportFrom) -> set[str]:
    return {(a.asname or a.name).split(".")[0] for a in node.names}


def _only(node: ast.Import | ast.ImportFrom, used: set[str]) -> str:
    """The import statement with only the names ``used`` (as a model writes what it needs)."""
    names = [a for a in node.names if (a.asname or a.name).split(".")[0] in used]
    if isinstance(node, ast.ImportFrom):
        return ast.unparse(ast.ImportFrom(module=node.module, names=names, level=node.level))
    return ast.unparse(ast.Import(names=names))


def answers(case: Case) -> Answers:
    text = case.answer
    lines = text.splitlines()
    tree = ast.parse(text)
    if case.kind == "class":
        cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == case.target)
        methods = [n for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        plan = f"class {cls.name}:\n" + "\n".join(textwrap.indent(_stub(lines, m), "    ") for m in methods)
        code = {f"{cls.name}.{m.name}": _segment(lines, m) for m in methods}
        return Answers(plan=plan, code=code, whole=_segment(lines, cls))
    spec_tree = ast.parse(case.spec)
    have = {n.name for n in spec_tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    have_imports = {ast.unparse(n) for n in spec_tree.body if isinstance(n, (ast.Import, ast.ImportFrom))}
    new_imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
                   and ast.unparse(n) not in have_imports and not (isinstance(n, ast.ImportFrom)
                                                                    and n.module == "__future__")]
    functions = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name not in have]
    code = {}
    for fn in functions:
        used = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)}
        imports = [_only(i, used) for i in new_imports if _bound(i) & used]
        code[fn.name] = "".join(f"{i}\n" for i in imports) + ("\n\n" if imports else "") + _segment(lines, fn)
    plan = "\n\n".join(_stub(lines, fn) for fn in functions)
    whole = "".join(f"{ast.unparse(i)}\n" for i in new_imports) + "\n\n" + "\n\n".join(
        _segment(lines, fn) for fn in functions)
    return Answers(plan=plan, code=code, whole=whole)


def fenced(code: str) -> str:
    return "Here is the code.\n\n```python\n" + code.rstrip("\n") + "\n```\n"


def approve() -> str:
    return "```json\n" + json.dumps({"verdict": "approve", "findings": []}) + "\n```\n"


def responder(case: Case):
    """The scripted model's one rule for ``case`` (see the module's docstring)."""
    known = answers(case)

    def answer(step: str | None, target: str | None, body: dict[str, Any]) -> str | None:
        if step == "plan":
            return fenced(known.plan)
        if step == "critic":
            return approve()
        if step in ("generate", "fix"):
            if target in known.code:
                return fenced(known.code[target])
            if target == case.target or (case.kind == "module" and (target or "").startswith("module spec")):
                return fenced(known.whole)
        return None
    return answer


# -- one case ----------------------------------------------------------------------------------

def run_env(model: str, api_base: str | None, critic: bool, scripted: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPECLOOP_")
           and k not in ("OPENAI_BASE_URL", "OPENAI_API_BASE", "PYTHONPATH")}
    env.update(PYTHONPATH=str(SERVER), LITELLM_LOCAL_MODEL_COST_MAP="True", SPECLOOP_MODEL=model,
               SPECLOOP_CRITIC="true" if critic else "false", SPECLOOP_MODEL_TESTS="false",
               SPECLOOP_KEEP_TESTS="false")
    if api_base:
        env["SPECLOOP_API_BASE"] = api_base
    if scripted:
        env.update(OPENAI_API_KEY=FAKE_KEY, SPECLOOP_MAX_RETRIES="0", SPECLOOP_REQUEST_TIMEOUT="30")
    else:
        env.setdefault("OPENAI_API_KEY", FAKE_KEY)
    return env


def make_project(case: Case, parent: Path) -> Path:
    work = Path(tempfile.mkdtemp(prefix=f"suite-{case.name}-", dir=parent))
    (work / "pyproject.toml").write_text(f"[project]\nname = 'suite-{case.name}'\nversion = '0'\n", encoding="utf-8")
    (work / case.module).write_text(case.spec, encoding="utf-8")
    return work


def specloop_run(work: Path, case: Case, env: dict[str, str], timeout: float) -> tuple[dict | None, str, int, float]:
    argv = [sys.executable, "-m", "specloop", "run", case.module, "--json"]
    started = time.monotonic()
    try:
        done = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, timeout=timeout)
        out, err, rc = done.stdout, done.stderr, done.returncode
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        err, rc = f"timeout after {timeout:g} s", -1
    seconds = time.monotonic() - started
    try:
        data = json.loads(out[out.index("{"):]) if "{" in out else None
    except ValueError:
        data = None
    return data, err, rc, seconds


def hidden_tests(work: Path, case: Case, *, module_text: str | None = None) -> dict[str, Any]:
    """Run ``hidden.py`` with plain pytest on the project's file (``module_text`` replaces it
    first: the answers check); passed, total, and the first failures."""
    if module_text is not None:
        (work / case.module).write_text(module_text, encoding="utf-8")
    test_file = work / f"test_hidden_{case.name}.py"
    test_file.write_text(case.hidden, encoding="utf-8")
    report = work / "hidden-report.xml"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("SPECLOOP_")}
    env["PYTHONPATH"] = str(work)
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "--tb=line",
            f"--junitxml={report}", test_file.name]
    total = case.hidden_count
    try:
        done = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, timeout=TEST_TIMEOUT)
    except subprocess.TimeoutExpired:
        return {"passed": 0, "total": total, "failures": [f"timeout after {TEST_TIMEOUT:g} s"]}
    passed, failures = 0, []
    try:
        root = ET.parse(report).getroot()
        for tc in root.iter("testcase"):
            bad = next((c for c in tc if c.tag in ("failure", "error", "skipped")), None)
            if bad is None:
                passed += 1
            else:
                failures.append(f"{tc.get('name') or tc.get('classname')}: {one_line(bad.get('message'), 200)}")
    except (ET.ParseError, OSError):
        failures.append(one_line(done.stdout[-400:] + done.stderr[-400:], 400))
    if passed + len(failures) == 0:
        failures.append(one_line(done.stdout[-400:], 400) or "no test ran")
    return {"passed": passed, "total": max(total, passed + len(failures)), "failures": failures}


def one_line(text: str | None, limit: int = 300) -> str:
    return " ".join(str(text or "").split())[:limit]


def run_case(case: Case, scratch: Path, *, model: str | None = None, api_base: str | None = None,
             critic: bool | None = None, keep: bool = False, timeout: float = RUN_TIMEOUT) -> dict[str, Any]:
    """One case end to end; the row of the table.  ``model`` None: the scripted model
    answering correctly."""
    work = make_project(case, scratch)
    row: dict[str, Any] = {"case": case.name, "kind": case.kind, "position": case.position, "module": case.module}
    try:
        if model is None:
            with ScriptedModel(model_name="suite") as server:
                server.respond(responder(case))
                env = run_env("openai/suite", server.url, True if critic is None else critic, scripted=True)
                data, err, rc, seconds = specloop_run(work, case, env, timeout)
                row["requests"] = {s: len(server.requests_for(s)) for s in sorted({r.step or "?" for r in server.requests})}
                row["unanswered"] = [f"{r.step} {r.target}" for r in server.unmatched]
        else:
            env = run_env(model, api_base, bool(critic), scripted=False)
            data, err, rc, seconds = specloop_run(work, case, env, timeout)
        targets = (data or {}).get("targets") or []
        entry = targets[0] if len(targets) == 1 else {}
        row.update(exit=rc, seconds=round(seconds, 1), targets=[t.get("name") for t in targets],
                   status=entry.get("status") or ("no result" if not targets else f"{len(targets)} targets"),
                   written=bool(entry.get("written")), iterations=entry.get("iterations"),
                   error=one_line(entry.get("error")),
                   components=[(c.get("name"), c.get("status")) for c in entry.get("components") or []],
                   cli=[line for line in err.splitlines() if line.strip()][-12:])
        text = (work / case.module).read_text(encoding="utf-8")
        row["changed"] = text != case.spec
        row["hidden"] = hidden_tests(work, case)
        row["landed"] = rc == 0 and row["written"] and row["status"] == "passed"
        row["ok"] = row["landed"] and row["hidden"]["passed"] == row["hidden"]["total"]
    except Exception as exc:  # one broken case must not stop the run
        row.update(status="bench error", error=f"{type(exc).__name__}: {exc}", ok=False, landed=False)
        row.setdefault("hidden", {"passed": 0, "total": case.hidden_count, "failures": []})
    finally:
        if keep:
            row["project"] = str(work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return row


def check_answers(case: Case, scratch: Path) -> dict[str, Any]:
    """The suite's own data: the hidden tests and every docstring example pass on ``answer.py``,
    and every method or function the plan lists has a docstring."""
    work = make_project(case, scratch)
    try:
        answers(case)
        result = hidden_tests(work, case, module_text=case.answer)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env["PYTHONPATH"] = str(work)
        doc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                              "--doctest-modules", case.module], cwd=work, env=env, capture_output=True, text=True,
                             timeout=TEST_TIMEOUT)
        result["doctests"] = doc.returncode in (0, 5)       # 5: no doctest in the file
        if not result["doctests"]:
            result["failures"].append(one_line(doc.stdout[-600:], 600))
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- the table ---------------------------------------------------------------------------------

def table(rows: list[dict[str, Any]]) -> str:
    out = ["| case | kind | position | specloop | exit | written | hidden tests | iterations | seconds |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        h = r.get("hidden") or {}
        out.append(f"| {r['case']} | {r['kind']} | {r['position'].replace('_', chr(92) + '_')} | {r.get('status')} | {r.get('exit', '')} | "
                   f"{'yes' if r.get('written') else 'no'} | {h.get('passed', 0)}/{h.get('total', 0)} | "
                   f"{r.get('iterations') if r.get('iterations') is not None else ''} | {r.get('seconds', '')} |")
    out.append("")
    out.append(totals(rows))
    return "\n".join(out)


def totals(rows: list[dict[str, Any]]) -> str:
    parts = []
    for kind in ("class", "module"):
        some = [r for r in rows if r["kind"] == kind]
        if not some:
            continue
        landed = sum(bool(r.get("landed")) for r in some)
        ok = sum(bool(r.get("ok")) for r in some)
        hp = sum(r["hidden"]["passed"] for r in some)
        ht = sum(r["hidden"]["total"] for r in some)
        secs = sum(float(r.get("seconds") or 0) for r in some)
        its = sum(int(r.get("iterations") or 0) for r in some)
        parts.append(f"{kind} specs: {landed}/{len(some)} landed (written, exit 0), {ok}/{len(some)} pass every "
                     f"hidden test, hidden tests {hp}/{ht}, {its} iterations, {secs:.0f} s")
    return "Totals: " + "; ".join(parts) + "."


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", default=None, help="comma-separated case names (default: every case)")
    ap.add_argument("--model", default=None, help="a litellm model instead of the scripted one; "
                    f"'local' is {LOCAL}")
    ap.add_argument("--api-base", default=None)
    ap.add_argument("--critic", action=argparse.BooleanOptionalAction, default=None,
                    help="the critic (default: on with the scripted model, off with a real one)")
    ap.add_argument("--timeout", type=float, default=RUN_TIMEOUT, help="seconds per specloop run")
    ap.add_argument("--json", type=Path, default=None, help="write the rows (and settings) to this file")
    ap.add_argument("--keep", action="store_true", help="keep each case's project (its path is in the row)")
    ap.add_argument("--check-answers", action="store_true",
                    help="only check the suite: hidden tests and doctests pass on answer.py")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    args = ap.parse_args(argv)
    model = LOCAL if args.model == "local" else args.model
    cases = load_cases(args.cases.split(",") if args.cases else None)
    if args.list:
        for c in cases:
            print(f"{c.name:18} {c.kind:6} {c.module:20} {c.position}  ({c.hidden_count} hidden tests)")
        return 0
    scratch = Path(tempfile.mkdtemp(prefix="target-suite-"))
    try:
        if args.check_answers:
            bad = 0
            for c in cases:
                r = check_answers(c, scratch)
                good = r["passed"] == r["total"] and r["doctests"]
                bad += not good
                print(f"{c.name:18} {'ok' if good else 'BAD'} {r['passed']}/{r['total']} "
                      f"{'; '.join(r['failures'])[:400]}", flush=True)
            return 1 if bad else 0
        rows = []
        started = time.monotonic()
        for i, c in enumerate(cases, 1):
            row = run_case(c, scratch, model=model, api_base=args.api_base, critic=args.critic, keep=args.keep,
                           timeout=args.timeout)
            rows.append(row)
            h = row["hidden"]
            print(f"[{i}/{len(cases)}] {c.name} ({c.kind}, {c.position}): {row.get('status')} exit {row.get('exit')} "
                  f"written={row.get('written')} hidden {h['passed']}/{h['total']} {row.get('seconds')} s", flush=True)
            if not row.get("ok"):
                for line in row.get("cli") or []:
                    print(f"    | {line}", flush=True)
                for failure in h.get("failures", [])[:3]:
                    print(f"    hidden: {failure}", flush=True)
        print()
        print(table(rows))
        if args.json:
            data = {"model": model or "scripted (answers from bench/suite/*/answer.py)",
                    "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "engine": git_commit(), "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
                    "settings": {"critic": args.critic if args.critic is not None else model is None,
                                 "model_tests": False},
                    "seconds": round(time.monotonic() - started, 1), "rows": rows}
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(data, indent=1), encoding="utf-8")
        return 0 if all(r.get("ok") for r in rows) else 1
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


def git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


if __name__ == "__main__":
    sys.exit(main())
