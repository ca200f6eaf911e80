"""Reading a model's replies: the one fenced python block of a code step (read leniently:
:func:`parse_code`), a test module, and the critic's JSON verdict with its findings (for a
class or module review, each with the method it names).  Parsing functions raise
:class:`ValueError` with a message short enough to be quoted back to the model in the one
re-ask (``prompts.reask_message``)."""

from __future__ import annotations

import ast
import json
import re
import textwrap
from typing import Any

from ..results import Finding

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
