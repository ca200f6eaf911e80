"""The prompt and the reply format of each model step, in one place (which is why the
module is longer than 400 lines: splitting it would scatter the reply formats).

Decisions:

* Prompts are short: the system prompts stay well under 120 tokens so they fit
  the 2k-token window of the small local model; the context (bounded by the
  context part) and the target carry the weight.
* Code steps (``generate``, ``fix``, ``tests``) ask for one fenced python block
  (DESIGN.md contract 4); :func:`parse_code` reads replies leniently (see there).
* ``tests_messages`` takes the import line the tests must use as a parameter
  (see :func:`import_line`), because only the caller knows the module path;
  without it the prompt asks the model to import from the module in the context.
* The critic sees the function with line numbers where the ``def`` line is 1
  (lines above it, such as decorators, are shown unnumbered), so a finding's
  ``line`` means the same as :class:`specloop.results.Finding` says.
* Parsing functions raise :class:`ValueError` with a message short enough to be
  quoted back to the model in the one re-ask (:func:`reask_message`).
* Everything quoted from a test run or a review (test ids, messages, expected,
  actual, findings) goes through :func:`specloop.redact.redact_text` before it
  is clipped, so a candidate that prints a key it read cannot put it in a
  prompt (and a clipped secret is still recognised).  The model client redacts
  whole prompts once more before sending, caching or tracing them.
"""

from __future__ import annotations

import ast
import json
import re
import textwrap
from typing import Any

from ..redact import redact_text
from ..results import Finding, TestOutcome
from ..source.spec import Target

__all__ = [
    "generate_messages", "tests_messages", "import_line", "fix_messages", "critic_messages", "reask_message",
    "parse_code", "parse_tests", "parse_critic", "target_source",
    "plan_messages", "class_critic_messages", "parse_class_critic",
]

CODE_SYSTEM = (
    "You are a careful Python programmer. You implement a function exactly as its spec says. "
    "Answer with one ```python code block and no other text."
)
TESTS_SYSTEM = (
    "You write small, correct pytest tests that check only what a spec states. "
    "Answer with one ```python code block and no other text."
)
CRITIC_SYSTEM = (
    "You review a Python function against its spec for accuracy, completeness, quality and security. "
    "Answer with one JSON object and no other text."
)

_CODE_RULES = (
    "Write the whole function in one ```python block. Keep its name, parameters, decorators and "
    "docstring. Put any imports it needs at the top of the same block. No explanations."
)

_REASK_FORMAT = {
    "generate": "one ```python block holding the whole function",
    "fix": "one ```python block holding the whole corrected function",
    "tests": "one ```python block holding the whole pytest module",
    "critic": 'only the JSON object {"verdict": ..., "findings": [...]}',
    "plan": "one ```python block holding the whole class, every method a stub (header and docstring only)",
}

MAX_FAILURES_SHOWN = 8
MAX_FINDINGS_SHOWN = 8
MAX_FIELD_CHARS = 300


def _clip(text: str | None, limit: int = MAX_FIELD_CHARS) -> str:
    """``text`` quoted from a test run or a review: redacted, then shortened."""
    text = redact_text(text or "").strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _fence(code: str) -> str:
    return f"```python\n{code.rstrip()}\n```"


def target_source(target: Target) -> str:
    """The target as the model should picture it: spec comment, header,
    docstring, and an empty body."""
    lines: list[str] = []
    if target.comment_spec and not target.docstring:
        lines += ["# spec: " + line if i == 0 else "# " + line
                  for i, line in enumerate(target.comment_spec.strip().splitlines())]
    lines.append(textwrap.dedent(target.header).rstrip())
    if target.docstring:
        quote = "'''" if '"""' in target.docstring else '"""'
        doc = textwrap.indent(target.docstring.strip(), "    ").lstrip()
        if "\n" in doc:
            lines.append(f"    {quote}{doc}\n    {quote}")
        else:
            lines.append(f"    {quote}{doc}{quote}")
    lines.append("    ...")
    return "\n".join(lines)


def _where(target: Target) -> str:
    if target.class_name:
        return f"the method `{target.name}` of class `{target.class_name}` (write only the method, unindented)"
    return f"the function `{target.name}`"


def _context_block(context: str) -> str:
    context = context.strip()
    return f"Context from the code base:\n{_fence(context)}\n\n" if context else ""


def import_line(module_name: str, target: Target) -> str:
    """How a test module imports the target (its top-level class for a method)."""
    return f"from {module_name} import {target.qualname.split('.')[0]}"


def generate_messages(target: Target, context: str, feedback: list[Finding] | None = None) -> list[dict[str, str]]:
    """``feedback``: findings on an earlier version that the new code should avoid."""
    avoid = ""
    if feedback:
        avoid = ("A reviewer found these problems in an earlier version; avoid them:\n"
                 + "\n".join(_finding_lines(feedback)) + "\n\n")
    user = (
        f"{_context_block(context)}"
        f"Implement {_where(target)}:\n{_fence(target_source(target))}\n\n{avoid}{_CODE_RULES}"
    )
    return [{"role": "system", "content": CODE_SYSTEM}, {"role": "user", "content": user}]


def tests_messages(target: Target, context: str, import_line: str | None = None) -> list[dict[str, str]]:
    name = target.class_name or target.name
    how = (f"Start the module with `{import_line}`." if import_line
           else f"Import `{name}` from the module shown in the context.")
    user = (
        f"{_context_block(context)}"
        f"Write a pytest module that tests {_where(target).split(' (')[0]} as specified here:\n"
        f"{_fence(target_source(target))}\n\n"
        f"{how} Write 3 to 6 focused test functions named test_*, each checking one behaviour the spec "
        "states (include edge cases it mentions). Do not test what the spec leaves open. "
        "Answer with one ```python block holding the whole module."
    )
    return [{"role": "system", "content": TESTS_SYSTEM}, {"role": "user", "content": user}]


def _failure_lines(failures: list[TestOutcome]) -> list[str]:
    lines: list[str] = []
    for outcome in failures[:MAX_FAILURES_SHOWN]:
        parts = [f"- {redact_text(outcome.id)} ({outcome.outcome})"]
        if outcome.message:
            parts.append(f"  message: {_clip(outcome.message)}")
        if outcome.expected is not None:
            parts.append(f"  expected: {_clip(outcome.expected)}")
        if outcome.actual is not None:
            parts.append(f"  actual: {_clip(outcome.actual)}")
        if outcome.line is not None:
            parts.append(f"  failed at line {outcome.line} of the candidate module")
        lines.append("\n".join(parts))
    if len(failures) > MAX_FAILURES_SHOWN:
        lines.append(f"- ... and {len(failures) - MAX_FAILURES_SHOWN} more failing tests")
    return lines


def _finding_lines(findings: list[Finding]) -> list[str]:
    lines = []
    for f in findings[:MAX_FINDINGS_SHOWN]:
        where = f" line {f.line}" if f.line is not None else ""
        lines.append(f"- [{f.category}/{f.severity}]{where}: {_clip(f.message)}")
    if len(findings) > MAX_FINDINGS_SHOWN:
        lines.append(f"- ... and {len(findings) - MAX_FINDINGS_SHOWN} more findings")
    return lines


def fix_messages(target: Target, context: str, code: str, failures: list[TestOutcome],
                 findings: list[Finding]) -> list[dict[str, str]]:
    sections = [
        f"{_context_block(context)}Spec of {_where(target)}:\n{_fence(target_source(target))}",
        f"Current implementation:\n{_fence(code)}",
    ]
    if failures:
        sections.append("These tests fail:\n" + "\n".join(_failure_lines(failures)))
    if findings:
        sections.append("A reviewer found these problems (line 1 is the def line):\n"
                        + "\n".join(_finding_lines(findings)))
    sections.append("Fix the function so that it meets the spec and the tests pass. " + _CODE_RULES)
    return [{"role": "system", "content": CODE_SYSTEM}, {"role": "user", "content": "\n\n".join(sections)}]


def numbered(code: str) -> str:
    """Number the lines of ``code`` so that the (first) ``def`` line is 1;
    lines above it (imports, decorators) get no number."""
    lines = code.rstrip().splitlines()
    start = next((i for i, line in enumerate(lines)
                  if line.lstrip().startswith(("def ", "async def "))), 0)
    width = len(str(len(lines) - start))
    out = []
    for i, line in enumerate(lines):
        label = str(i - start + 1).rjust(width) if i >= start else " " * width
        out.append(f"{label} | {line}")
    return "\n".join(out)


def critic_messages(target: Target, context: str, code: str) -> list[dict[str, str]]:
    user = (
        f"{_context_block(context)}Spec of {_where(target)}:\n{_fence(target_source(target))}\n\n"
        f"Implementation (line numbers on the left, the def line is 1):\n```\n{numbered(code)}\n```\n\n"
        "Check accuracy (does it do what the spec says), completeness (every case the spec names), "
        "quality, and security. Report only real problems. Answer with this JSON object only:\n"
        '{"verdict": "approve" or "request_changes", "findings": [{"category": "accuracy|completeness|'
        'quality|security", "severity": "error|warning|info", "line": <line number>, "message": "..."}]}'
    )
    return [{"role": "system", "content": CRITIC_SYSTEM}, {"role": "user", "content": user}]


def reask_message(step: str, error: str) -> dict[str, str]:
    """The user message of the one re-ask after an unusable reply."""
    wanted = _REASK_FORMAT.get(step, "exactly the format asked for above")
    return {"role": "user", "content": f"Your reply could not be used: {error}. Answer again with {wanted}."}


# -- reading replies ----------------------------------------------------------

_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.S | re.I)
_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*?)[ \t]*$")
_PY_TAGS = {"", "python", "py", "python3", "py3", "ipython"}
_CONTAINER_TAGS = {"markdown", "md"}
_CODE_START = ("def ", "async def ", "@", "import ", "from ", "class ")


def _parses(code: str) -> ast.Module | None:
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError):
        return None


def _syntax_error(code: str) -> str:
    try:
        ast.parse(code)
    except SyntaxError as exc:
        return f"the python block does not parse (line {exc.lineno}: {exc.msg})"
    except ValueError as exc:
        return f"the python block does not parse ({exc})"
    return ""


def _dedent(text: str) -> str:
    """``textwrap.dedent``, and where that leaves the first line indented (a method answered
    as it stands in its class, whose docstring has a line at column 0: no common margin),
    the first line's indent removed from the lines that have it; the others are left as
    they are (inside a string literal they are its content)."""
    out = textwrap.dedent(text)
    lines = out.split("\n")
    first = next((line for line in lines if line.strip()), "")
    indent = first[: len(first) - len(first.lstrip())]
    if not indent:
        return out
    return "\n".join(line[len(indent):] if line.startswith(indent) else line for line in lines)


def _blocks(text: str) -> list[tuple[str, str]]:
    """Fenced blocks as (tag, content).  A python block closes at the first bare
    fence after which its content parses (fences inside docstrings survive);
    an unclosed block runs to the end; markdown blocks are searched inside."""
    lines = text.splitlines()
    found: list[tuple[str, str]] = []
    i = 0
    while i < len(lines):
        m = _OPEN.match(lines[i])
        if not m:
            i += 1
            continue
        fence, tag = m["fence"], (m["info"].split() or [""])[0].lower()
        close = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        ends = [j for j in range(i + 1, len(lines)) if close.match(lines[j])] or [len(lines)]
        end = ends[0]
        if tag in _PY_TAGS or tag.startswith("py"):
            end = next((j for j in ends if _parses(_dedent("\n".join(lines[i + 1:j])))), ends[0])
        content = _dedent("\n".join(lines[i + 1:end]))
        if tag in _CONTAINER_TAGS:
            found += _blocks(content)
        else:
            found.append((tag, content))
        i = end + 1
    return found


def _defines(tree: ast.Module, name: str | None) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (name is None or node.name == name):
            return True
    return False


def _only_imports(tree: ast.Module) -> bool:
    return bool(tree.body) and all(isinstance(n, (ast.Import, ast.ImportFrom)) for n in tree.body)


def _bare_code(text: str, name: str | None) -> str | None:
    """Code without fences: the whole reply, or the longest stretch from the
    first line that starts code, trimmed of trailing prose."""
    tree = _parses(text)
    if tree is not None and _defines(tree, name):
        return text
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(_CODE_START)), None)
    if start is None or len(lines) > 600:
        return None
    for end in range(len(lines), start, -1):
        chunk = "\n".join(lines[start:end])
        tree = _parses(chunk)
        if tree is not None and _defines(tree, name):
            return chunk
    return None


def parse_code(reply: str, name: str | None = None) -> str:
    """The code of a code step's reply (DESIGN.md contract 4), read leniently.

    Accepts ```python / ```py / bare ``` / ~~~ fences with prose around them,
    unclosed fences, fences inside docstrings, python blocks nested in a
    markdown block, and a reply that is bare code (it must parse and contain a
    ``def``).  Of several blocks it takes the one that defines ``name`` (when
    given), else the largest that parses; import-only blocks beside it are
    prepended.  The code must parse.  Raises ValueError saying what is wrong.
    """
    text = _THINK.sub("", reply or "").strip()
    if not text:
        raise ValueError("the reply is empty")
    blocks = [c for tag, c in _blocks(text) if (tag in _PY_TAGS or tag.startswith("py")) and c.strip()]
    if not blocks:
        bare = _bare_code(text, name)
        if bare is None:
            raise ValueError("no ```python block in the reply")
        return bare.strip("\n") + "\n"
    parsed = [(c, _parses(c)) for c in blocks]
    good = [(c, t) for c, t in parsed if t is not None]
    chosen: str | None = None
    if name is not None:
        defining = [c for c, t in good if _defines(t, name)]
        if defining:
            chosen = max(defining, key=len)
        else:
            broken = [c for c, t in parsed if t is None and re.search(rf"\bdef\s+{re.escape(name)}\s*\(", c)]
            if broken:
                raise ValueError(_syntax_error(max(broken, key=len)))
            if good:
                raise ValueError(f"the code does not define `{name}`")
    elif good:
        chosen = max((c for c, _ in good), key=len)
    if chosen is None:
        raise ValueError(_syntax_error(max(blocks, key=len)))
    extra = [c.strip() for c, t in good if c is not chosen and _only_imports(t) and c.strip() not in chosen]
    code = "\n".join([*extra, chosen.strip("\n")]) if extra else chosen.strip("\n")
    return code + "\n"


def parse_tests(reply: str) -> str:
    """A test module reply: like :func:`parse_code`, and it must hold a test_* function."""
    code = parse_code(reply)
    tree = ast.parse(code)
    if not any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test")
               for n in ast.walk(tree)):
        raise ValueError("the module has no test_* function")
    return code


_VERDICTS = {
    "approve": "approve", "approved": "approve", "accept": "approve", "accepted": "approve", "pass": "approve",
    "lgtm": "approve", "request_changes": "request_changes", "changes_requested": "request_changes",
    "request-changes": "request_changes", "request changes": "request_changes", "reject": "request_changes",
    "rejected": "request_changes", "changes": "request_changes",
}
_SEVERITIES = {
    "error": "error", "critical": "error", "high": "error", "major": "error", "blocker": "error", "fatal": "error",
    "warning": "warning", "warn": "warning", "medium": "warning", "moderate": "warning", "minor": "warning",
    "info": "info", "low": "info", "note": "info", "suggestion": "info", "nit": "info", "hint": "info",
}
CATEGORIES = ("accuracy", "completeness", "quality", "security")


def _json_objects(text: str) -> list[dict[str, Any]]:
    decoder = json.JSONDecoder()
    found: list[dict[str, Any]] = []
    for variant in (text, re.sub(r",\s*([}\]])", r"\1", text)):
        starts = [m.start() for m in re.finditer(r"\{", variant)][:50]
        for start in starts:
            try:
                value, _ = decoder.raw_decode(variant, start)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                found.append(value)
        if found:
            break
    return found


def _line(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 1 else None
    if isinstance(value, float) and value.is_integer():
        return _line(int(value))
    if isinstance(value, str):
        m = re.search(r"\d+", value)
        return _line(int(m.group())) if m else None
    if isinstance(value, list) and value:
        return _line(value[0])
    return None


def _finding(item: Any) -> Finding | None:
    if isinstance(item, str):
        return Finding(category="quality", severity="warning", message=item.strip()) if item.strip() else None
    if not isinstance(item, dict):
        return None
    item = {str(k).lower(): v for k, v in item.items()}
    message = next((str(item[k]).strip() for k in ("message", "description", "issue", "detail", "text")
                    if item.get(k)), "")
    if not message:
        return None
    category = str(item.get("category") or "").strip().lower()
    severity = _SEVERITIES.get(str(item.get("severity") or "").strip().lower(), "warning")
    return Finding(category=category if category in CATEGORIES else "quality", severity=severity,
                   message=" ".join(message.split()), line=_line(item.get("line")))


def parse_critic(reply: str) -> tuple[str, list[Finding]]:
    """The critic's verdict and findings (DESIGN.md contract 4), read leniently.

    The JSON object may be fenced (any tag) or bare, with prose around it and
    trailing commas.  The verdict is normalised to ``approve`` or
    ``request_changes``; unknown categories become ``quality``; severities are
    mapped to error|warning|info (unknown: warning); ``line`` becomes an int
    >= 1 or None.  Findings without a message are dropped.  Raises ValueError
    when there is no JSON object with a known verdict.
    """
    text = _THINK.sub("", reply or "").strip()
    if not text:
        raise ValueError("the reply is empty")
    objects: list[dict[str, Any]] = []
    for _tag, content in sorted(_blocks(text), key=lambda b: b[0] != "json"):
        objects += _json_objects(content)
    objects += _json_objects(text)
    if not objects:
        raise ValueError("no JSON object in the reply")
    lowered = [{str(k).lower(): v for k, v in obj.items()} for obj in objects]
    with_verdict = [obj for obj in lowered if "verdict" in obj]
    if not with_verdict:
        raise ValueError('the JSON object has no "verdict"')
    obj = with_verdict[0]
    raw = str(obj["verdict"]).strip().lower()
    verdict = _VERDICTS.get(raw) or _VERDICTS.get(raw.replace(" ", "_"))
    if verdict is None:
        raise ValueError(f'unknown verdict {obj["verdict"]!r} (use "approve" or "request_changes")')
    items = obj.get("findings") or []
    if not isinstance(items, list):
        items = [items]
    findings = [f for f in (_finding(item) for item in items) if f is not None]
    return verdict, findings


# -- class specs: the plan and the review of the whole class -----------------------------

PLAN_SYSTEM = (
    "You design Python classes. You split a class spec into methods, each with a precise docstring. "
    "Answer with one ```python code block and no other text."
)
CLASS_CRITIC_SYSTEM = (
    "You review a Python class against its spec for accuracy, completeness, quality and security. "
    "Answer with one JSON object and no other text."
)


def plan_messages(target, context: str) -> list[dict[str, str]]:
    """The ``plan`` step: the class spec (``target``: a ``classspec.ClassTarget``) in, the class
    with every component as a stub (header + docstring, doctest examples where the spec allows)
    out."""
    kept = ""
    if target.stub_names:
        kept = (f"Keep the existing methods {', '.join(f'`{n}`' for n in target.stub_names)} exactly as "
                "written (header and docstring). ")
    user = (
        f"{_context_block(context)}Plan the class `{target.name}`:\n{_fence(target.text)}\n\n"
        f"Write the class `{target.name}` with its docstring and every method it needs as a stub: the "
        "method's header and a docstring saying exactly what it does, with doctest examples on instances "
        f"(e.g. `>>> s = {target.name}(); ...`) where the spec allows, and no body besides the docstring. "
        f"Include `__init__` if the class needs state. {kept}Method names must be unique. "
        "Answer with one ```python block holding the whole class. No explanations."
    )
    return [{"role": "system", "content": PLAN_SYSTEM}, {"role": "user", "content": user}]


def numbered_class(code: str) -> str:
    """Number the lines of ``code`` so that the ``class`` line is 1 (lines above it unnumbered)."""
    lines = code.rstrip().splitlines()
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("class ")), 0)
    width = len(str(len(lines) - start))
    return "\n".join(f"{str(i - start + 1).rjust(width) if i >= start else ' ' * width} | {line}"
                     for i, line in enumerate(lines))


def class_critic_messages(target, context: str, code: str) -> list[dict[str, str]]:
    """The ``critic`` step on a whole class: every finding names its method."""
    user = (
        f"{_context_block(context)}Spec of the class `{target.name}`:\n{_fence(target.text)}\n\n"
        f"Implementation (line numbers on the left, the class line is 1):\n```\n{numbered_class(code)}\n```\n\n"
        "Check accuracy (does each method do what its spec says), completeness, quality, and security. "
        "Report only real problems, each naming the method it is in. Answer with this JSON object only:\n"
        '{"verdict": "approve" or "request_changes", "findings": [{"method": "<method name>", "category": '
        '"accuracy|completeness|quality|security", "severity": "error|warning|info", "line": <line number>, '
        '"message": "..."}]}'
    )
    return [{"role": "system", "content": CLASS_CRITIC_SYSTEM}, {"role": "user", "content": user}]


def parse_class_critic(reply: str) -> tuple[str, list[tuple[str | None, Finding]]]:
    """Like :func:`parse_critic`; each finding comes with the method it names (its
    ``method`` / ``component`` / ``function`` field, ``None`` when it names none)."""
    verdict, _ = parse_critic(reply)
    text = _THINK.sub("", reply or "").strip()
    objects: list[dict[str, Any]] = []
    for _tag, content in sorted(_blocks(text), key=lambda b: b[0] != "json"):
        objects += _json_objects(content)
    objects += _json_objects(text)
    obj = next(o for o in ({str(k).lower(): v for k, v in o.items()} for o in objects) if "verdict" in o)
    items = obj.get("findings") or []
    if not isinstance(items, list):
        items = [items]
    out: list[tuple[str | None, Finding]] = []
    for item in items:
        finding = _finding(item)
        if finding is None:
            continue
        method = None
        if isinstance(item, dict):
            low = {str(k).lower(): v for k, v in item.items()}
            raw = next((low[k] for k in ("method", "component", "function") if low.get(k)), None)
            method = str(raw).strip().split(".")[-1].split("(")[0].strip() or None if raw else None
        out.append((method, finding))
    return verdict, out


# -- module specs: the plan and the review of the functions it adds -----------------------

MODULE_PLAN_SYSTEM = (
    "You design Python modules. You split a module spec into functions, each with a precise docstring. "
    "Answer with one ```python code block and no other text."
)
MODULE_CRITIC_SYSTEM = (
    "You review Python functions against the module spec they implement for accuracy, completeness, "
    "quality and security. Answer with one JSON object and no other text."
)


def module_plan_messages(target, context: str) -> list[dict[str, str]]:
    """The ``plan`` step of a module spec (``target``: a ``modulespec.ModuleTarget``): the
    functions it describes as stubs (header + docstring, doctest examples where the spec
    allows) out."""
    taken = ""
    if target.defined:
        taken = (f"The module already defines {', '.join(f'`{n}`' for n in target.defined[:40])}: "
                 "do not define those again (the new functions may call them). ")
    user = (
        f"{_context_block(context)}Plan the functions this module spec asks for:\n{_fence(target.spec)}\n\n"
        "Write every function it needs as a stub: the function's header with type hints and a docstring "
        "saying exactly what it does, with doctest examples where the spec allows, and no body besides "
        f"the docstring. {taken}Function names must be unique. Helpers the spec does not name are allowed. "
        "Answer with one ```python block holding only the functions. No explanations."
    )
    return [{"role": "system", "content": MODULE_PLAN_SYSTEM}, {"role": "user", "content": user}]


def module_critic_messages(target, context: str, code: str) -> list[dict[str, str]]:
    """The ``critic`` step on the functions of a module spec: every finding names its function."""
    width = len(str(len(code.rstrip().splitlines())))
    numbered_code = "\n".join(f"{str(i + 1).rjust(width)} | {line}" for i, line in enumerate(code.rstrip().splitlines()))
    user = (
        f"{_context_block(context)}Module spec:\n{_fence(target.spec)}\n\n"
        f"Implementation (line numbers on the left):\n```\n{numbered_code}\n```\n\n"
        "Check accuracy (does each function do what its docstring and the spec say), completeness, quality, "
        "and security. Report only real problems, each naming the function it is in. Answer with this JSON "
        'object only:\n{"verdict": "approve" or "request_changes", "findings": [{"function": "<function name>", '
        '"category": "accuracy|completeness|quality|security", "severity": "error|warning|info", '
        '"line": <line number>, "message": "..."}]}'
    )
    return [{"role": "system", "content": MODULE_CRITIC_SYSTEM}, {"role": "user", "content": user}]
