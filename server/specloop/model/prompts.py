"""The prompt of each model step; how each reply is read is :mod:`.replies` (its names are
importable from here too).

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

import textwrap

from ..redact import redact_text
from ..results import Finding, TestOutcome
from ..source.spec import Target
from .replies import parse_class_critic, parse_code, parse_critic, parse_tests  # noqa: F401  (the reply formats)

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
