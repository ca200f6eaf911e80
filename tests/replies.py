"""Replies as models write them, for scripting the test model."""

from __future__ import annotations

import json
import textwrap


def fenced(code: str) -> str:
    """A reply as models write it: a sentence, then one fenced python block."""
    return "Here is the implementation.\n\n```python\n" + textwrap.dedent(code).strip("\n") + "\n```\n"


def critic(verdict: str = "approve", *findings: dict) -> str:
    return "```json\n" + json.dumps({"verdict": verdict, "findings": list(findings)}) + "\n```"


