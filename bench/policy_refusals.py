"""Correct code the static policy refuses: public functions of the standard library and of
popular pure-Python packages, each checked alone as a candidate, side by side:

* ``in-process``: the rule for a run judged in-process (every construct the policy flags
  is refused: the candidate never runs);
* ``by value, bwrap`` / ``by value, process``: the rule for a run judged by value (what the
  policy flags is advice; only leaving the process tree is refused, and only without
  bubblewrap).

Every function here is correct library code, so every refusal is a false one.

    .venv/bin/python bench/policy_refusals.py [--json FILE] [--list]
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import textwrap
import warnings

from specloop.sandbox import policy

STDLIB = ["os", "os.path", "shutil", "json", "re", "string", "textwrap", "collections", "functools", "itertools",
          "heapq", "bisect", "statistics", "fractions", "decimal", "datetime", "calendar", "csv", "configparser",
          "argparse", "logging", "pathlib", "tempfile", "glob", "fnmatch", "difflib", "pprint", "copy", "enum",
          "dataclasses", "inspect", "ast", "tokenize", "urllib.parse", "html", "base64", "hashlib", "uuid",
          "random", "subprocess", "threading", "contextlib", "typing", "unittest.mock", "zipfile", "tarfile",
          "gzip", "email.utils", "http.cookies", "ipaddress", "secrets", "shlex", "platform", "sysconfig",
          "importlib", "pickle", "types", "warnings", "traceback", "doctest", "operator", "weakref"]
PACKAGES = ["click", "jinja2", "markupsafe", "requests", "urllib3", "idna", "packaging", "attr", "pydantic",
            "rich", "pygments", "yaml", "dotenv", "tqdm", "httpx", "anyio", "certifi", "charset_normalizer",
            "pluggy", "_pytest.python_api", "typing_extensions", "tomli", "jsonschema", "cattrs"]


def functions(module_name: str):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = importlib.import_module(module_name)
    except Exception:   # noqa: BLE001 - not installed here
        return
    for name, obj in sorted(vars(module).items()):
        if name.startswith("_") or not inspect.isfunction(obj) or obj.__module__ != module.__name__:
            continue
        try:
            source = textwrap.dedent(inspect.getsource(obj))
        except (OSError, TypeError):
            continue
        yield f"{module_name}.{name}", source


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", default=None)
    parser.add_argument("--list", action="store_true", help="print each refused function and why")
    args = parser.parse_args()
    rows = []
    for group, names in (("stdlib", STDLIB), ("packages", PACKAGES)):
        for module_name in names:
            for qualname, source in functions(module_name):
                found = policy.check(source)
                rows.append({"group": group, "function": qualname, "flagged": [f.message for f in found],
                             "in-process": bool(policy.split(found, "bwrap", by_value=False)[0]),
                             "by value, bwrap": bool(policy.split(found, "bwrap", by_value=True)[0]),
                             "by value, process": bool(policy.split(found, "process", by_value=True)[0])})
    ways = ("in-process", "by value, bwrap", "by value, process")
    print(f"{'functions':22} {'count':>6} " + " ".join(f"{w:>18}" for w in ways))
    for group in ("stdlib", "packages", None):
        chosen = [r for r in rows if group is None or r["group"] == group]
        cells = [f"{sum(r[w] for r in chosen):>5} ({100 * sum(r[w] for r in chosen) / max(1, len(chosen)):4.1f}%)"
                 for w in ways]
        print(f"{group or 'all':22} {len(chosen):>6} " + " ".join(f"{c:>18}" for c in cells))
    if args.list:
        for r in rows:
            if r["in-process"]:
                now = "refused" if r["by value, bwrap"] else "advice"
                print(f"  {r['function']}: {now} by value; {r['flagged'][0][:120]}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
