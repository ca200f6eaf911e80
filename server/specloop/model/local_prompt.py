"""Fitting a prompt into the embedded local model's context, and reading where its
reply may end.  Pure functions on chat messages: no llama.cpp, no litellm.

* Prompts that do not fit are trimmed, never refused when avoidable: the
  oldest non-system message loses the middle of its text (a marker shows the
  cut) until prompt + ``max_tokens`` fits in the context; later messages are
  cut only when that is not enough, and ``max_tokens`` shrinks (to no less
  than :data:`MIN_COMPLETION`) as a last resort.  See :func:`fit_messages`.
* A reply may stop once it holds a closed fenced code block
  (:func:`closed_fence`); a last ``assistant`` message is a prefill the reply
  continues (:func:`prefill_of`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

N_CTX = 2048
DEFAULT_MAX_TOKENS = 400
MIN_COMPLETION = 64
TRIM_MARKER = "\n[... trimmed to fit the local model's context ...]\n"
MIN_KEEP_CHARS = 80


class LocalModelError(RuntimeError):
    """The local model cannot be used (not installed, failed to load, prompt too long)."""


_CLOSED_FENCE = re.compile(r"^[ \t]*```[^`\n]*\n.*?^[ \t]*```", re.MULTILINE | re.DOTALL)


def prefill_of(messages: Sequence[dict[str, Any]]) -> str:
    """The text of a last ``assistant`` message (a prefill the reply continues), else ""."""
    if messages and messages[-1].get("role") == "assistant":
        return _text(messages[-1].get("content"))
    return ""


def closed_fence(text: str) -> bool:
    """Whether ``text`` holds a complete fenced code block (opening and closing
    fence each at the start of a line)."""
    return _CLOSED_FENCE.search(text) is not None


# -- fitting a prompt into the context -------------------------------------------
def _text(content: Any) -> str:
    """The text of a message's content (a string, or OpenAI-style parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        parts = [p.get("text", "") if isinstance(p, dict) else str(p) for p in content]
        return "\n".join(part for part in parts if part)
    return str(content)


def _cut_middle(text: str, drop: int) -> str:
    keep = max(0, len(text) - drop)
    head = (keep + 1) // 2
    return text[:head] + TRIM_MARKER + text[len(text) - (keep - head):]


def fit_messages(messages: Sequence[dict[str, Any]], count: Callable[[list[dict[str, str]]], int], *,
                 n_ctx: int = N_CTX, max_tokens: int = DEFAULT_MAX_TOKENS) -> tuple[list[dict[str, str]], int]:
    """Messages and a max_tokens such that ``count(messages) + max_tokens <= n_ctx``.

    ``count`` gives the prompt's token count after the chat template.  Each
    non-system message, oldest first, loses the middle of its text (keeping at
    least :data:`MIN_KEEP_CHARS` characters) until the prompt fits; system
    messages are never cut.  When even that is not enough, ``max_tokens``
    shrinks, down to :data:`MIN_COMPLETION`; below that
    :class:`LocalModelError` is raised.
    """
    fitted = [{"role": str(m.get("role", "user")), "content": _text(m.get("content"))} for m in messages]
    budget = n_ctx - max_tokens
    total = count(fitted)
    for index, message in enumerate(fitted):
        if total <= budget:
            break
        if message["role"] == "system" or (message["role"] == "assistant" and index == len(fitted) - 1):
            continue  # the system message and a prefill are never cut
        original = message["content"]
        drop = 0
        while total > budget and drop < len(original) - MIN_KEEP_CHARS:
            chars_per_token = max(1.0, sum(len(m["content"]) for m in fitted) / max(1, total))
            drop = min(len(original) - MIN_KEEP_CHARS, drop + int((total - budget) * chars_per_token) + 8)
            fitted[index] = {"role": message["role"], "content": _cut_middle(original, drop)}
            total = count(fitted)
    if total > budget:
        if total > n_ctx - MIN_COMPLETION:
            raise LocalModelError(f"prompt of {total} tokens does not fit the local model's "
                                  f"{n_ctx}-token context even after trimming")
        max_tokens = n_ctx - total
    return fitted, max_tokens
