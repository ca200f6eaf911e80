"""`specloop run` on a class spec (a subprocess, the scripted model over HTTP): the class
target runs, is written as one class, and its components are listed."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from test_class_spec import CODE, PLAN, STACK, assert_review_fixed_only_size, script_stack
from cli_run import cli_env, specloop
from replies import critic, fenced


# -- end to end: the CLI ---------------------------------------------------------------------

def test_specloop_run_implements_a_class_target(scripted_model, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    path = tmp_path / "stack.py"
    path.write_text(STACK, encoding="utf-8")
    script_stack(scripted_model)
    env = cli_env(scripted_model.url, SPECLOOP_CRITIC="true", SPECLOOP_PARALLEL_JOBS="3")
    proc = specloop("run", "stack.py", "--target", "Stack", "--json", env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (entry,) = json.loads(proc.stdout)["targets"]
    assert entry["name"] == "Stack" and entry["status"] == "passed" and entry["written"] is True
    assert entry["kind"] == "class"
    assert entry["line"] == STACK.splitlines().index("class Stack:") + 1     # the class line
    assert [(c["name"], c["status"]) for c in entry["components"]] == [
        ("Stack.__init__", "passed"), ("Stack.push", "passed"), ("Stack.pop", "passed"), ("Stack.size", "passed")]
    text = path.read_text(encoding="utf-8")
    assert "self.items.append(item)" in text and "return len(self.items)" in text
    assert text.endswith('def after():\n    return "untouched"\n')
    assert_review_fixed_only_size(scripted_model)


def test_specloop_run_lists_class_components(scripted_model, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    path = tmp_path / "stack.py"
    path.write_text(STACK, encoding="utf-8")
    script_stack(scripted_model, together=False)
    proc = specloop("run", "stack.py", env=cli_env(scripted_model.url), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for name in ("Stack.__init__", "Stack.push", "Stack.pop", "Stack.size"):
        assert f"    {name}: passed" in proc.stderr
    assert "self.items = []" in path.read_text(encoding="utf-8")


def script_plain_stack(model, *findings: dict) -> None:
    """The stack class planned and generated in one go; the review approves with ``findings``."""
    model.add("plan", fenced(PLAN))
    for name, code in CODE.items():
        model.add("generate", fenced(code), target=name, repeat=True)
    model.add("critic", critic("approve", *findings), target="Stack")


def test_a_finding_naming_a_method_is_shown_on_that_methods_line(scripted_model, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    path = tmp_path / "stack.py"
    path.write_text(STACK, encoding="utf-8")
    script_plain_stack(scripted_model, {"method": "pop", "category": "quality", "severity": "info",
                                        "message": "pop could say what empty means"})
    proc = specloop("run", "stack.py", env=cli_env(scripted_model.url, SPECLOOP_CRITIC="true"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = path.read_text(encoding="utf-8").splitlines()
    pop_line = lines.index("    def pop(self):") + 1
    assert f"    quality (info) line {pop_line} in pop: pop could say what empty means" in proc.stderr, proc.stderr


def test_specloop_run_records_a_classs_methods_for_specloop_check(scripted_model, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (tmp_path / "stack.py").write_text(STACK, encoding="utf-8")
    script_plain_stack(scripted_model)
    env = cli_env(scripted_model.url)
    proc = specloop("run", "stack.py", env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    recorded = json.loads((tmp_path / ".specloop" / "implemented.json").read_text())["functions"]
    assert sorted(f["qualname"] for f in recorded) == sorted(CODE)

    checked = specloop("check", "stack.py", "--json", env=env, cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    results = json.loads(checked.stdout)["functions"]
    assert sorted((r["name"], r["status"], r["drift"]) for r in results) == sorted(
        (name, "passed", []) for name in CODE)
    assert all(r["passed"] > 0 for r in results)


def test_a_class_left_failing_has_its_class_line_in_json(scripted_model, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    text = "import os\n\n\n" + STACK     # the class three lines further down
    (tmp_path / "stack.py").write_text(text, encoding="utf-8")
    scripted_model.add("plan", fenced(PLAN))
    for name, code in {**CODE, "Stack.pop": "def pop(self):\n    return None\n"}.items():
        scripted_model.add("generate", fenced(code), target=name, repeat=True)
    scripted_model.add("fix", fenced("def pop(self):\n    return None\n"), target="Stack.pop", repeat=True)
    proc = specloop("run", "stack.py", "--json", env=cli_env(scripted_model.url, SPECLOOP_MAX_ITERATIONS="1"),
                    cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    (entry,) = json.loads(proc.stdout)["targets"]
    assert entry["status"] == "failed" and entry["written"] is False
    assert entry["line"] == text.splitlines().index("class Stack:") + 1


MODEL_TESTS = {     # each method's model tests; __init__'s and push's both name one test_empty
    "Stack.__init__": "from stack import Stack\n\n\ndef test_empty():\n    assert Stack().items == []\n",
    "Stack.push": "from stack import Stack\n\n\ndef test_empty():\n    s = Stack()\n    s.push(None)\n"
                  "    assert s.items == [None]\n",
    "Stack.pop": "from stack import Stack\n\n\ndef test_pop_last():\n    s = Stack()\n    s.items.extend([1, 2])\n"
                 "    assert s.pop() == 2\n",
    "Stack.size": "from stack import Stack\n\n\ndef test_size_two():\n    s = Stack()\n    s.items.extend([1, 2])\n"
                  "    assert s.size() == 2\n",
}


def test_specloop_run_keeps_every_methods_model_tests(scripted_model, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (tmp_path / "stack.py").write_text(STACK, encoding="utf-8")
    for name, tests in MODEL_TESTS.items():
        scripted_model.add("tests", fenced(tests), target=name, repeat=True)
    script_plain_stack(scripted_model)
    proc = specloop("run", "stack.py", env=cli_env(scripted_model.url, SPECLOOP_MODEL_TESTS="true"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    kept = tmp_path / "tests" / "test_stack_specloop.py"
    assert "kept model tests in tests/test_stack_specloop.py" in proc.stderr
    text = kept.read_text(encoding="utf-8")
    tree = ast.parse(text)
    assert [n.name for n in tree.body if isinstance(n, ast.FunctionDef)] == [
        "test_empty", "test_empty_push", "test_pop_last", "test_size_two"]
    assert text.count("from stack import Stack") == 1
    assert "s.push(None)" in text and "assert Stack().items == []" in text
