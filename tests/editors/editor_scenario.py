"""The scenarios the real-editor tests share: a geometry module with two specs and the
scripted model's answers for ``area`` (Neovim, eglot); a module holding the class spec
``Stack`` and the answers of its class job: the plan, one generate per method, the class
critic (Neovim, VS Code); and a run of the editor against ``specloop serve`` that writes
what the user saw to a JSON file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import spec_examples
from replies import critic, fenced
from spec_examples import STACK_METHODS, STACK_PLAN

SERVER_CMD = [sys.executable, "-m", "specloop", "serve"]
SETTINGS = {"model": "openai/scripted", "critic": True, "model_tests": False, "max_iterations": 1,
            "max_retries": 0, "request_timeout": 20.0, "test_timeout": 30.0, "keep_tests": False}
SOURCE = '''\
"""Geometry helpers."""


def area(w: float, h: float) -> float:
    """Area of a w×h rectangle.

    >>> area(2, 3)
    6
    """


def perimeter(w: float, h: float) -> float:
    """Perimeter of a w×h rectangle."""
'''
BODY = '''\
    if w < 0 or h < 0:  # 📐 sides
        raise ValueError("negative side")
    return w * h
'''
AREA_CODE = '''\
def area(w: float, h: float) -> float:
    """Area of a w×h rectangle.

    >>> area(2, 3)
    6
    """
''' + BODY
FINDING = {"category": "completeness", "severity": "warning", "line": 7, "message": "zero-sized sides are not mentioned"}


def script_model(scripted_model) -> None:
    """``area``: the code above, then a critic that asks for a change (:data:`FINDING`)."""
    scripted_model.add("generate", fenced(AREA_CODE), target="area")
    scripted_model.add("critic", critic("request_changes", FINDING), target="area")


# the shared Stack example with one more module-level name above the class
STACK = spec_examples.STACK.replace('"""A tiny module."""\n', '"""A tiny module."""\n\nLIMIT = 3\n', 1)

# what the class action leaves in the buffer: the methods under the class's docstring
STACK_IMPLEMENTED = STACK.replace('''    2
    """
''', '''    2
    """

    def __init__(self):
        """An empty stack: ``items`` is an empty list.

        >>> Stack().items
        []
        """
        self.items = []

    def push(self, item):
        """Put ``item`` on top.

        >>> s = Stack()
        >>> s.push(1)
        >>> s.items
        [1]
        """
        self.items.append(item)

    def pop(self):
        """Take the top item off and return it.

        >>> s = Stack()
        >>> s.items.append(5)
        >>> s.pop()
        5
        """
        return self.items.pop()
''', 1)


def script_class_model(scripted_model) -> None:
    """The class job of ``Stack``: the plan (:data:`STACK_PLAN`), one generate per method
    (:data:`STACK_METHODS`), and the class critic approving."""
    scripted_model.add("plan", fenced(STACK_PLAN))
    for qualname, code in STACK_METHODS.items():
        scripted_model.add("generate", fenced(code), target=qualname)
    scripted_model.add("critic", critic("approve"), target="Stack")


def run_editor(argv: list[str], tmp_path: Path, model_url: str, editor: str, *,
               name: str = "geometry.py", text: str = SOURCE) -> tuple[dict, Path]:
    """Run the editor (``argv``) on ``name`` holding ``text`` (default: ``geometry.py``
    holding :data:`SOURCE`) in a fresh project, with a private config and home; returns
    what its script wrote and the file's path.  Fails unless the script ran to its end (``ok``)."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\nversion = '0'\n", encoding="utf-8")
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")
    out = tmp_path / "result.json"
    xdg = tmp_path / "xdg"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPECLOOP_")}
    env.update(
        E2E_FILE=str(source), E2E_OUT=str(out), E2E_CMD=json.dumps(SERVER_CMD),
        E2E_SETTINGS=json.dumps({**SETTINGS, "api_base": model_url}),
        OPENAI_API_KEY="sk-test-not-a-real-key", LITELLM_LOCAL_MODEL_COST_MAP="True",
        XDG_CONFIG_HOME=str(xdg / "config"), XDG_DATA_HOME=str(xdg / "data"),
        XDG_STATE_HOME=str(xdg / "state"), XDG_CACHE_HOME=str(xdg / "cache"), HOME=str(tmp_path),
    )
    proc = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=170)
    assert out.exists(), f"no result from {editor} (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr[-3000:]}"
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["ok"] is True, f"{result.get('error')}\nsteps: {result.get('steps')}\n{proc.stderr[-3000:]}"
    return result, source
