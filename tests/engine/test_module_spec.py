"""Module specs end to end: a ``# spec:`` block describing functions to add is planned,
its functions generated in parallel, reviewed as a whole, only the flagged one fixed, and
one result places them below the block.  Against the scripted model over HTTP; plus unit
tests of the block finder, plan validation and placement."""

from __future__ import annotations

import ast
import asyncio

import pytest

from replies import critic, fenced
from spec_examples import TEXTS, TEXTS_CODE, TEXTS_PLAN

from specloop.source.classspec import run_targets
from specloop.targets.components import implement_module
from specloop.source.edits import apply_edits
from specloop.source.modulespec import find_module_target, find_module_targets
from specloop.targets import StaleTarget, edits as result_edits
from specloop.targets.plan import check_module_plan, planned_module_source
from specloop.source.spec import find_targets

PLAN, CODE = TEXTS_PLAN, TEXTS_CODE
SHOUT_FIXED = "def shout(text: str) -> str:\n    return text.upper() + '!'\n"
FINDING = {"function": "shout", "category": "quality", "severity": "warning", "line": 13,
           "message": "use str.upper() on the whole text"}


def script_texts(model) -> None:
    model.add("plan", fenced(PLAN))
    model.add("generate", fenced(SHOUT_FIXED), target="shout", contains="A reviewer found", repeat=True)
    model.together("generate", {name: fenced(code) for name, code in CODE.items()})
    for name, code in CODE.items():
        model.add("generate", fenced(code), target=name, repeat=True)
    model.add("critic", critic("request_changes", FINDING), critic("approve"))


# -- the finder ------------------------------------------------------------------------------

def test_a_standalone_spec_block_is_a_module_target():
    (target,) = find_module_targets(TEXTS)
    assert target.qualname == "module spec (line 5)"
    assert target.spec.startswith("Word statistics for plain text.\ncount_words(text)")
    assert len(target.examples) == 1 and {"re", "after"} <= set(target.defined)
    assert find_module_target(TEXTS, fingerprint=target.fingerprint) == target
    # run picks it up, in file order with the others
    assert [t.qualname for t in run_targets(TEXTS)] == ["module spec (line 5)"]


@pytest.mark.parametrize("source", [
    "# spec: the spec of f\ndef f(x):\n    ...\n",                          # a function's comment spec
    "def f(x):\n# spec: a comment inside f\n\n    return x\n",               # inside a function
    "# spec: directly above code\nx = 1\n",                                   # not followed by a blank line
    "# spec (implemented): done already\n\n\ndef f():\n    return 1\n",      # marked done
    "    # spec: indented\n\nx = 1\n",                                       # not at column 0
    "# spec:\n\nx = 1\n",                                                     # empty
    "# spec: fine\n\ndef broken(:\n",                                         # the file does not parse
])
def test_what_is_not_a_module_spec(source):
    assert find_module_targets(source) == []


# -- plan validation and placement -----------------------------------------------------------

def test_plan_is_checked_and_placed_below_the_block():
    target = find_module_target(TEXTS, "module spec (line 5)")
    plan = check_module_plan(PLAN, target)
    assert plan.names == ["count_words", "longest_word", "shout"]
    text = planned_module_source(TEXTS, target, plan)
    ast.parse(text)
    assert [t.qualname for t in find_targets(text).targets] == ["count_words", "longest_word", "shout"]
    block_end = TEXTS.index("#   3\n") + len("#   3\n")
    assert text[:block_end] == TEXTS[:block_end]                  # the user's block stays as written
    assert text[block_end:].startswith("\n\ndef count_words")
    assert text.endswith('"""\n\n\ndef after():\n    return "untouched"\n')


@pytest.mark.parametrize("code, error", [
    ("def f(:\n", "does not parse"),
    ("class C:\n    'Doc.'\n", "not a function stub"),
    ("x = 1\ndef f():\n    'Doc.'\n", "not a function stub"),
    ("import os\n", "no function"),
    ("def f():\n    'Doc.'\ndef f(x):\n    'Doc.'\n", "unique: f"),
    ("def after():\n    'Doc.'\n", "already defines `after`"),
    ("def len(x):\n    'Doc.'\n", "hide Python's builtin"),
    # a module-level __getattr__ would answer for every missing name the tests look up
    ("def __getattr__(name):\n    'Doc.'\n", "`__getattr__` is a special module name"),
    ("def f():\n    'Doc.'\n    return 1\n", "`f` must be a stub"),
])
def test_invalid_module_plans_say_why(code, error):
    target = find_module_target(TEXTS, "module spec (line 5)")
    with pytest.raises(ValueError, match=error):
        check_module_plan(code, target)


# -- end to end: the engine ------------------------------------------------------------------

def test_module_job_plans_generates_in_parallel_reviews_and_fixes_only_the_flagged(
        scripted_model, workspace, make_settings):
    path = workspace / "texts.py"
    path.write_text(TEXTS, encoding="utf-8")
    script_texts(scripted_model)
    settings = make_settings(workspace, critic=True, parallel_jobs=3)
    target = find_module_target(TEXTS, "module spec (line 5)")
    result = asyncio.run(implement_module(TEXTS, path, target, settings, workspace=workspace))

    assert result.status == "passed", (result.error, [(c.name, c.status, c.error) for c in result.components])
    assert [c.name for c in result.components] == ["count_words", "longest_word", "shout"]
    assert result.by_value > 0 and result.in_process == 0
    assert scripted_model.steps[0] == "plan" and not scripted_model.unmatched
    steps = [(r.step, r.target) for r in scripted_model.requests]
    first_review = steps.index(("critic", target.qualname))
    assert [t for s, t in steps[first_review:] if s in ("generate", "fix")] == ["shout"], steps
    fix_prompt = scripted_model.requests_for("generate", "shout")[-1].last_user
    assert "use str.upper() on the whole text" in fix_prompt
    assert "count_words" in scripted_model.requests_for("critic")[0].last_user
    plan_prompt = scripted_model.requests_for("plan")[0].last_user     # the module around the block
    assert "# <module spec: the functions it asks for go here>" in plan_prompt and "def after" in plan_prompt

    final = apply_edits(TEXTS, result_edits(TEXTS, result))
    assert "# spec (implemented): Word statistics" in final and "# spec: Word" not in final
    assert find_module_targets(final) == []                      # no longer offered
    namespace: dict = {}
    exec(compile(final, "texts.py", "exec"), namespace)
    assert namespace["count_words"]("a bb a") == 3 and namespace["longest_word"]("a bb cc") == "bb"
    assert namespace["shout"]("hi") == "HI!" and "out += ch.upper()" not in final
    assert final.endswith('\n\n\ndef after():\n    return "untouched"\n')
    assert result.summary_dict()["kind"] == "module"

    # integration refuses a changed spec, and a function the module defines meanwhile
    with pytest.raises(StaleTarget, match="changed"):
        result_edits(TEXTS.replace("Word statistics", "Statistics"), result)
    with pytest.raises(StaleTarget, match="defines shout already"):
        result_edits(TEXTS + "\n\ndef shout(x):\n    return x\n", result)
    moved = "# a comment on top\n\n" + TEXTS
    assert "def shout" in apply_edits(moved, result_edits(moved, result))
    anyway = TEXTS.replace("Word statistics", "Statistics")
    assert "def shout" in apply_edits(anyway, result_edits(anyway, result, anyway=True))


def test_examples_in_the_block_run_against_the_assembled_module(scripted_model, workspace, make_settings):
    source = TEXTS.replace('count_words("a bb a")', 'count_words("a-b c")')
    path = workspace / "texts.py"
    path.write_text(source, encoding="utf-8")
    wrong = dict(CODE, count_words="def count_words(text: str) -> int:\n    return len(text.split())\n")
    scripted_model.add("plan", fenced(PLAN))
    for name, code in wrong.items():
        scripted_model.add("generate", fenced(code), target=name, repeat=True)
    settings = make_settings(workspace)
    target = find_module_target(source, "module spec (line 5)")
    result = asyncio.run(implement_module(source, path, target, settings, workspace=workspace))
    # each function passes its own (planned) examples; the block's example catches the bug, and
    # it lands on the function it calls (the others pass)
    status = {c.name: c.status for c in result.components}
    assert status == {"count_words": "failed", "longest_word": "passed", "shout": "passed"}, \
        [(c.name, c.status, c.error) for c in result.components]
    count_words = result.components[0]
    assert 'count_words("a-b c")' in count_words.error and count_words.failures[0] in result.failures
    assert result.status == "failed" and "own examples fail on the assembled module" in result.error


def test_a_block_in_a_file_with_cr_newlines_is_found():
    (target,) = find_module_targets("x = 1\r\r# spec: a thing\r#   f(x) doubles x\r\ry = 2\r")
    assert target.qualname == "module spec (line 3)" and target.spec == "a thing\nf(x) doubles x"
    assert target.newline == "\r"
