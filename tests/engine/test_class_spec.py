"""Class specs end to end: plan -> parallel generation -> review -> fixes of the flagged
method only -> one result placing the class.  Against the scripted model over HTTP;
plus unit tests of the class finder and of plan validation."""

from __future__ import annotations

import ast
import asyncio

import pytest

from replies import critic, fenced
from spec_examples import STACK, STACK_METHODS, STACK_PLAN

from specloop.source.classspec import find_class_target, find_class_targets, run_targets
from specloop.targets.components import implement_class
from specloop.source.edits import apply_edits
from specloop.targets import StaleTarget, edits as result_edits
from specloop.targets.plan import check_plan, planned_source
from specloop.source.spec import find_targets

# the shared plan of Stack with one more method, size (the one the review flags)
PLAN = STACK_PLAN + '''
    def size(self):
        """How many items the stack holds.

        >>> s = Stack()
        >>> s.items.extend([1, 2])
        >>> s.size()
        2
        """
'''

CODE = {
    **STACK_METHODS,
    "Stack.size": "def size(self):\n    n = 0\n    for _ in self.items:\n        n += 1\n    return n\n",
}
SIZE_FIXED = "def size(self):\n    return len(self.items)\n"
FINDING = {"method": "size", "category": "quality", "severity": "warning", "line": 2,
           "message": "count with len() instead of a loop"}


def script_stack(model, *, together: bool = True) -> None:
    """``together``: push, pop and size are answered only once all three have asked (the
    class job must generate them side by side; it needs ``parallel_jobs`` of 3)."""
    model.add("plan", fenced(PLAN))
    # the flagged method's second generate quotes the review
    model.add("generate", fenced(SIZE_FIXED), target="Stack.size", contains="A reviewer found", repeat=True)
    if together:
        model.together("generate", {name: fenced(code) for name, code in CODE.items() if name != "Stack.__init__"})
    for name, code in CODE.items():
        model.add("generate", fenced(code), target=name, repeat=True)
    model.add("critic", critic("request_changes", FINDING), critic("approve"))


def overlapped(requests) -> bool:
    return any(a.time < b.end and b.time < a.end for i, a in enumerate(requests) for b in requests[i + 1:])


def assert_review_fixed_only_size(model) -> None:
    steps = [(r.step, r.target) for r in model.requests]
    first_review = steps.index(("critic", "Stack"))
    after = [t for s, t in steps[first_review:] if s in ("generate", "fix")]
    assert after == ["Stack.size"], steps
    assert [s for s, _ in steps].count("critic") == 2
    assert not model.unmatched


# -- the finder ------------------------------------------------------------------------------

def test_class_target_docstring_only_and_with_stubs():
    (target,) = find_class_targets(STACK)
    assert target.qualname == "Stack" and target.docstring.startswith("A last-in")
    assert target.methods == [] and len(target.examples) == 4
    with_stubs = STACK.replace("    2\n    \"\"\"\n", "    2\n    \"\"\"\n\n    def peek(self):\n"
                               "        \"\"\"The top item.\"\"\"\n\n    def clear(self): ...\n")
    (target,) = find_class_targets(with_stubs)
    assert [m.qualname for m in target.methods] == ["Stack.peek"] and target.stub_names == ["peek", "clear"]
    # the method stub is still a function target of its own
    assert [t.qualname for t in find_targets(with_stubs).targets] == ["Stack.peek"]
    assert [t.qualname for t in run_targets(with_stubs)] == ["Stack"]
    assert [t.qualname for t in run_targets(with_stubs, "Stack.peek")] == ["Stack.peek"]


def test_implemented_classes_are_not_class_targets():
    source = 'class A:\n    """Doc."""\n\n    def f(self):\n        return 1\n\n\nclass B:\n    """Doc."""\n    x = 1\n'
    assert find_class_targets(source) == []
    assert find_class_targets('class C:\n    pass\n') == []
    assert find_class_targets('class P(Protocol):\n    """Doc."""\n') == []


# -- plan validation -------------------------------------------------------------------------

def test_plan_is_checked_and_placed():
    target = find_class_target(STACK, "Stack")
    plan = check_plan(PLAN, target)
    assert plan.names == ["__init__", "push", "pop", "size"]
    text = planned_source(STACK, target, plan)
    ast.parse(text)
    assert [t.qualname for t in find_targets(text).targets] == [
        "Stack.__init__", "Stack.push", "Stack.pop", "Stack.size"]
    assert text.startswith(STACK.split("\n\n\ndef after")[0])   # the user's header and docstring stay
    assert text.endswith('def after():\n    return "untouched"\n')


@pytest.mark.parametrize("code, error", [
    ("class Stack(:\n", "does not parse"),
    ("class Queue:\n    def f(self):\n        'Doc.'\n", "exactly one class, `Stack`"),
    ("class Stack:\n    def f(self):\n        'Doc.'\n\nclass Other:\n    pass\n", "exactly one class"),
    ("class Stack:\n    def f(self):\n        'Doc.'\n    def f(self, x):\n        'Doc.'\n", "unique: f"),
    ("class Stack:\n    def f(self):\n        'Doc.'\n        return 1\n", "`f` must be a stub"),
    ("class Stack:\n    def f(self):\n        pass\n", "`f` must be a stub"),
    ("class Stack:\n    x = 1\n    def f(self):\n        'Doc.'\n", "not a method stub"),
    ("class Stack:\n    'Doc.'\n", "no methods"),
    ("class Stack:\n    def f(self):\n        'Doc.'\n\nprint(1)\n", "besides the class"),
])
def test_invalid_plans_say_why(code, error):
    target = find_class_target(STACK, "Stack")
    with pytest.raises(ValueError, match=error.replace("(", r"\(").replace("`", "`")):
        check_plan(code, target)


def test_existing_stubs_must_be_kept_unchanged():
    source = 'class Stack:\n    """A stack."""\n\n    def peek(self, default=None):\n        """The top item."""\n'
    target = find_class_target(source, "Stack")
    ok = 'class Stack:\n    def __init__(self):\n        "State."\n    def peek(self, default=None):\n        """The top item."""\n'
    assert check_plan(ok, target).names == ["__init__", "peek"]
    with pytest.raises(ValueError, match="`peek` is missing"):
        check_plan('class Stack:\n    def top(self):\n        "Top."\n', target)
    with pytest.raises(ValueError, match="docstring of the existing method `peek` was changed"):
        check_plan('class Stack:\n    def peek(self, default=None):\n        "Another spec."\n', target)
    with pytest.raises(ValueError, match="header of the existing method `peek` was changed"):
        check_plan('class Stack:\n    def peek(self):\n        """The top item."""\n', target)


def test_review_findings_are_mapped_to_methods_by_name_or_line():
    from specloop.targets.components import _flagged
    from specloop.results import Finding

    code = 'class Stack:\n    """Doc."""\n\n    def push(self, x):\n        self.items.append(x)\n\n' \
           '    def size(self):\n        n = 0\n        return n\n'
    items = [("size", Finding("accuracy", "error", "wrong count", 9)),
             (None, Finding("quality", "warning", "push: name x", 5)),
             ("Stack.nothing", Finding("quality", "info", "about the class", 2)),
             (None, Finding("quality", "info", "no line"))]
    flagged = _flagged(items, code, {"push", "size"})
    assert {k: [(f.message, f.line) for f in v] for k, v in flagged.items()} == {
        "size": [("wrong count", 3)], "push": [("push: name x", 2)]}


# -- end to end: the engine ------------------------------------------------------------------

def test_class_job_plans_generates_in_parallel_reviews_and_fixes_only_the_flagged(
        scripted_model, workspace, make_settings):
    path = workspace / "stack.py"
    path.write_text(STACK, encoding="utf-8")
    script_stack(scripted_model)
    settings = make_settings(workspace, critic=True, parallel_jobs=3)
    target = find_class_target(STACK, "Stack")
    result = asyncio.run(implement_class(STACK, path, target, settings, workspace=workspace))

    assert result.status == "passed", (result.error, [(c.name, c.status, c.error) for c in result.components])
    assert [c.name for c in result.components] == ["Stack.__init__", "Stack.push", "Stack.pop", "Stack.size"]
    assert all(c.status == "passed" for c in result.components)
    assert result.by_value > 0 and result.in_process == 0   # the class's objects crossed by value
    gens = [r for r in scripted_model.requests_for("generate") if r.target in ("Stack.push", "Stack.pop", "Stack.size")]
    assert overlapped(gens[:3]), [(r.target, r.time, r.end) for r in gens]
    init = scripted_model.requests_for("generate", "Stack.__init__")[0]
    assert all(init.end <= r.time for r in gens)          # __init__ first: the others need its state
    assert_review_fixed_only_size(scripted_model)
    fix_prompt = scripted_model.requests_for("generate", "Stack.size")[-1].last_user
    assert "A reviewer found" in fix_prompt and "count with len() instead of a loop" in fix_prompt
    assert [r.step for r in scripted_model.requests][0] == "plan"

    final = apply_edits(STACK, result_edits(STACK, result))
    namespace: dict = {}
    exec(compile(final, "stack.py", "exec"), namespace)
    s = namespace["Stack"]()
    s.push(3)
    assert s.size() == 1 and s.pop() == 3
    assert "return len(self.items)" in final and "for _ in self.items" not in final
    assert final.endswith('def after():\n    return "untouched"\n')
    assert result.summary_dict()["components"][3]["name"] == "Stack.size"

    # integration refuses to overwrite a changed spec
    edited = STACK.replace("A last-in, first-out stack", "A LIFO stack")
    with pytest.raises(StaleTarget, match="changed"):
        result_edits(edited, result)


def test_invalid_plan_is_reasked_once_then_the_job_ends_in_error(scripted_model, workspace, make_settings):
    path = workspace / "stack.py"
    path.write_text(STACK, encoding="utf-8")
    scripted_model.add("plan", fenced("class Queue:\n    def f(self):\n        'Doc.'\n"), repeat=True)
    settings = make_settings(workspace)
    result = asyncio.run(implement_class(STACK, path, find_class_target(STACK, "Stack"), settings,
                                         workspace=workspace))
    assert result.status == "error"
    assert result.error.startswith("plan: ") and "exactly one class, `Stack`" in result.error
    plans = scripted_model.requests_for("plan")
    assert len(plans) == 2 and "exactly one class" in plans[1].last_user
    assert scripted_model.steps == ["plan", "plan"]


USER_TEST = "from stack import Stack\n\n\ndef test_two_pushes():\n    s = Stack()\n    s.push(1)\n    s.push(2)\n" \
            "    assert s.pop() == 2\n"


def plan_context(scripted_model, workspace, make_settings, source: str, **settings) -> str:
    """The context block of the class job's plan request on ``source`` (the plan is refused:
    the job ends there)."""
    path = workspace / "stack.py"
    path.write_text(source, encoding="utf-8")
    scripted_model.add("plan", "no plan today", repeat=True)
    result = asyncio.run(implement_class(source, path, find_class_target(source, "Stack"),
                                         make_settings(workspace, **settings), workspace=workspace))
    assert result.status == "error"
    asked = scripted_model.requests_for("plan")[0].last_user
    assert asked.startswith("Context from the code base:\n```python\n"), asked[:200]
    return asked.split("```python\n", 1)[1].split("\n```", 1)[0]


def test_the_class_job_gets_the_context_modules_rule(scripted_model, workspace, make_settings):
    (workspace / "tests").mkdir()
    (workspace / "tests" / "test_stack.py").write_text(USER_TEST, encoding="utf-8")
    context = plan_context(scripted_model, workspace, make_settings, STACK)
    # a small module whole, the class marked where it sits, your tests that mention the class
    assert "# <Stack: the class to implement>" in context and 'return "untouched"' in context
    assert "A last-in, first-out" not in context            # the class itself is in the prompt
    assert "# existing tests that mention Stack" in context and "def test_two_pushes():" in context


def test_the_class_jobs_context_is_bounded_in_tokens(scripted_model, workspace, make_settings):
    (workspace / "tests").mkdir()
    (workspace / "tests" / "test_stack.py").write_text(USER_TEST, encoding="utf-8")
    helpers = "".join(f"\n\ndef helper_{i}(x):\n    \"\"\"Add {i}.\"\"\"\n    return x + {i}\n" for i in range(400))
    context = plan_context(scripted_model, workspace, make_settings, STACK + helpers, context_tokens=300)
    assert len(context) <= 300 * 4
    assert "def test_two_pushes():" in context              # the tests outrank the far helpers
    assert "def helper_0(x)" in context                     # the code nearest the class


def test_a_class_jobs_tokens_are_every_token_the_model_served(scripted_model, workspace, make_settings):
    """Plan, every component job (the first attempt of the method the review flags too, which
    its fix replaces), and every review: the result counts them all, as the model reported them."""
    path = workspace / "stack.py"
    path.write_text(STACK, encoding="utf-8")
    script_stack(scripted_model)
    settings = make_settings(workspace, critic=True, parallel_jobs=3)
    result = asyncio.run(implement_class(STACK, path, find_class_target(STACK, "Stack"), settings,
                                         workspace=workspace))
    assert result.status == "passed", result.error
    assert len(scripted_model.requests_for("generate", "Stack.size")) == 2     # its first result was replaced
    served = scripted_model.served_tokens()
    assert served > 0 and result.usage.total == served
    assert result.summary_dict()["tokens"]["prompt"] + result.summary_dict()["tokens"]["completion"] == served
