"""The engine end to end: litellm really talks HTTP to a scripted model on
127.0.0.1 and candidates really run in the sandbox."""

from __future__ import annotations

import asyncio
import json
import textwrap
import threading
from pathlib import Path

import pytest

from specloop.source.edits import apply_edits
from specloop.loop import implement
from specloop.targets import StaleTarget, edits as result_edits
from specloop.results import Log, Phase
from specloop.source.spec import find_target

from scripted_model import Response, error, hang
from replies import critic, fenced

AREA = '''\
def area(w: float, h: float) -> float:
    """Area of a w×h rectangle; negative sides raise ValueError.

    >>> area(2, 3)
    6
    >>> area(0, 5)
    0
    """
'''

AREA_OK = '''
def area(w: float, h: float) -> float:
    """Area of a w×h rectangle; negative sides raise ValueError."""
    if w < 0 or h < 0:
        raise ValueError("negative side")
    return w * h
'''

AREA_WRONG = '''
def area(w, h):
    return w + h
'''


def write(workspace: Path, name: str, text: str) -> Path:
    path = workspace / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


async def run(path: Path, qualname: str, settings, workspace: Path, events=None, **kw):
    source = path.read_text(encoding="utf-8")
    target = find_target(source, qualname)
    assert target is not None, f"{qualname} is not a target"
    return await implement(source, path, target, settings, workspace=workspace,
                           emit=(events.append if events is not None else None), **kw)


async def test_passes_first_try(scripted_model, workspace, make_settings):
    path = write(workspace, "geometry.py", AREA)
    scripted_model.add("generate", fenced(AREA_OK))
    events = []
    result = await run(path, "area", make_settings(workspace), workspace, events)
    assert result.status == "passed", result.error
    assert (result.passed, result.failed, result.iterations) == (2, 0, 1)
    assert result.usage.prompt_tokens > 0 and result.usage.completion_tokens > 0
    phases = [e.phase for e in events if isinstance(e, Phase)]
    assert phases[0] == "context" and phases[-1] == "done"
    assert phases.index("generating") < phases.index("testing")
    # every request carried the step and target headers
    assert [(r.step, r.target) for r in scripted_model.requests] == [("generate", "area")]
    new = apply_edits(path.read_text(encoding="utf-8"), result_edits(path.read_text(encoding="utf-8"), result))
    assert new.startswith(AREA) and "return w * h" in new
    # the file itself is never written by the engine; a trace was written
    assert path.read_text(encoding="utf-8") == AREA
    trace = [json.loads(line) for line in Path(result.trace_path).read_text().splitlines()]
    assert {"job", "model", "tests", "result"} <= {r["kind"] for r in trace}


async def test_fails_then_fixed_with_failure_quoted(scripted_model, workspace, make_settings):
    path = write(workspace, "geometry.py", AREA)
    scripted_model.add("generate", fenced(AREA_WRONG))
    scripted_model.add("fix", fenced(AREA_OK))
    result = await run(path, "area", make_settings(workspace), workspace)
    assert result.status == "passed"
    assert result.iterations == 2
    fix_prompt = scripted_model.requests_for("fix")[0].last_user
    assert "area(2, 3)" in fix_prompt and "6" in fix_prompt and "5" in fix_prompt  # expected 6, got 5


async def test_never_fixed_keeps_best_attempt(scripted_model, workspace, make_settings):
    path = write(workspace, "geometry.py", AREA)
    half = '''
    def area(w, h):
        return w * h + 1 if w else 0
    '''
    scripted_model.add("generate", fenced(half))           # passes area(0, 5) only
    scripted_model.add("fix", fenced(AREA_WRONG), repeat=True)  # breaks that passing test: rejected
    result = await run(path, "area", make_settings(workspace, max_iterations=3), workspace)
    assert result.status == "failed"
    assert result.iterations == 3
    assert (result.passed, result.failed) == (1, 1)
    assert "w * h + 1" in result.function_code  # the best attempt, not the last one
    assert result.failures and result.failures[0].expected is not None


async def test_garbage_reply_reasks_then_errors(scripted_model, workspace, make_settings):
    path = write(workspace, "geometry.py", AREA)
    scripted_model.add("generate", "I cannot help with that.", "Still no code here, sorry.")
    result = await run(path, "area", make_settings(workspace), workspace)
    assert result.status == "error"
    assert "re-ask" in result.error
    asks = scripted_model.requests_for("generate")
    assert len(asks) == 2
    assert "could not be used" in asks[1].last_user


async def test_rate_limited_then_success(scripted_model, workspace, make_settings):
    path = write(workspace, "geometry.py", AREA)
    scripted_model.add("generate", error(429, "slow down", retry_after="0"), fenced(AREA_OK))
    result = await run(path, "area", make_settings(workspace, max_retries=2), workspace)
    assert result.status == "passed"
    assert len(scripted_model.requests_for("generate")) == 2


async def test_model_timeout_is_an_error(scripted_model, workspace, make_settings):
    path = write(workspace, "geometry.py", AREA)
    scripted_model.add("generate", Response(text=fenced(AREA_OK), delay=5), repeat=True)
    settings = make_settings(workspace, request_timeout=0.5, max_retries=0)
    result = await asyncio.wait_for(run(path, "area", settings, workspace), 30)
    assert result.status == "error"
    assert "within" in result.error or "timed out" in result.error.lower()


async def test_endless_candidate_is_killed(scripted_model, workspace, make_settings):
    path = write(workspace, "geometry.py", AREA)
    loops = '''
    def area(w, h):
        while True:
            pass
    '''
    scripted_model.add("generate", fenced(loops))
    settings = make_settings(workspace, test_timeout=2.0, max_iterations=1)
    result = await asyncio.wait_for(run(path, "area", settings, workspace), 60)
    assert result.status == "failed" and result.error == "timed out after 2 s"
    assert [(f.outcome, f.message) for f in result.failures] == [("failed", "timed out after 2 s")]


async def test_user_test_is_the_oracle(scripted_model, workspace, make_settings):
    write(workspace, "shop/__init__.py", "")
    path = write(workspace, "shop/prices.py", '''\
        def with_tax(amount: float) -> float:
            """The amount with 20 % tax, rounded to cents."""
        ''')
    write(workspace, "tests/test_prices.py", '''\
        from shop.prices import with_tax

        def test_with_tax():
            assert with_tax(10) == 12.0

        def test_unrelated():
            assert True
        ''')
    scripted_model.add("generate", fenced('''
        def with_tax(amount: float) -> float:
            return round(amount * 1.19, 2)
        '''))
    scripted_model.add("fix", fenced('''
        def with_tax(amount: float) -> float:
            return round(amount * 1.2, 2)
        '''))
    result = await run(path, "with_tax", make_settings(workspace), workspace)
    assert result.status == "passed"
    assert result.iterations == 2
    assert "test_with_tax" in scripted_model.requests_for("fix")[0].last_user


async def test_method_in_a_class(scripted_model, workspace, make_settings):
    path = write(workspace, "shapes.py", '''\
        class Square:
            def __init__(self, side):
                self.side = side

            def area(self):
                """The square's area.

                >>> Square(3).area()
                9
                """
                ...
        ''')
    scripted_model.add("generate", fenced('''
        class Square:
            def area(self):
                return self.side ** 2
        '''))
    result = await run(path, "Square.area", make_settings(workspace), workspace)
    assert result.status == "passed"
    assert scripted_model.requests[0].target == "Square.area"
    source = path.read_text(encoding="utf-8")
    new = apply_edits(source, result_edits(source, result))
    assert "        return self.side ** 2\n" in new


async def test_async_function(scripted_model, workspace, make_settings):
    path = write(workspace, "fetch.py", '''\
        import asyncio

        async def twice(x):
            """Double x after yielding to the loop.

            >>> asyncio.run(twice(4))
            8
            """
        ''')
    scripted_model.add("generate", fenced('''
        async def twice(x):
            await asyncio.sleep(0)
            return 2 * x
        '''))
    result = await run(path, "twice", make_settings(workspace), workspace)
    assert result.status == "passed", result.failures


async def test_critic_findings_get_one_targeted_fix(scripted_model, workspace, make_settings):
    path = write(workspace, "geometry.py", AREA)
    no_check = '''
    def area(w, h):
        return w * h
    '''
    scripted_model.add("generate", fenced(no_check))
    scripted_model.add("critic", critic("request_changes", {
        "category": "completeness", "severity": "warning", "line": 2,
        "message": "negative sides must raise ValueError"}))
    scripted_model.add("fix", fenced(AREA_OK))
    scripted_model.add("critic", critic("approve"))
    result = await run(path, "area", make_settings(workspace, critic=True), workspace)
    assert result.status == "passed"
    assert "raise ValueError" in result.function_code
    assert "negative sides must raise ValueError" in scripted_model.requests_for("fix")[0].last_user
    assert result.findings == []
    assert scripted_model.steps == ["generate", "critic", "fix", "critic"]


async def test_critic_findings_remain_when_no_iterations_left(scripted_model, workspace, make_settings):
    path = write(workspace, "geometry.py", AREA)
    scripted_model.add("generate", fenced(AREA_OK))
    scripted_model.add("critic", critic("request_changes", {
        "category": "security", "severity": "error", "line": 3, "message": "trusts its input"}))
    result = await run(path, "area", make_settings(workspace, critic=True, max_iterations=1), workspace)
    assert result.status == "passed"
    assert [(f.category, f.severity, f.line) for f in result.findings] == [("security", "error", 3)]


async def test_disputed_model_test_is_dropped(scripted_model, workspace, make_settings):
    path = write(workspace, "geometry.py", AREA)
    scripted_model.add("generate", fenced(AREA_OK))
    scripted_model.add("fix", fenced(AREA_OK))
    scripted_model.add("tests", fenced('''
        from geometry import area

        def test_area_basic():
            assert area(2, 5) == 10

        def test_area_wrong_belief():
            assert area(2, 2) == 5
        '''))
    result = await run(path, "area", make_settings(workspace, model_tests=True), workspace)
    assert result.status == "passed"
    assert [d.id.split("::")[-1] for d in result.disputed] == ["test_area_wrong_belief"]
    assert "test_area_basic" in result.kept_tests and "test_area_wrong_belief" not in result.kept_tests


async def test_candidates_ranked_by_tests_passed(scripted_model, workspace, make_settings):
    path = write(workspace, "geometry.py", AREA)
    scripted_model.add("generate", fenced(AREA_WRONG), fenced(AREA_OK))
    result = await run(path, "area", make_settings(workspace, candidates=2, max_iterations=1), workspace)
    assert result.status == "passed"
    assert len(scripted_model.requests_for("generate")) == 2


async def test_cancel_stops_the_job(scripted_model, workspace, make_settings):
    path = write(workspace, "geometry.py", AREA)
    arrived = threading.Event()
    scripted_model.respond(lambda *a: arrived.set() or hang(), step="generate")
    task = asyncio.ensure_future(run(path, "area", make_settings(workspace), workspace))
    assert await asyncio.to_thread(arrived.wait, 60), f"the model was never asked (job ended: {task.done()})"
    task.cancel()
    # the model never answers (it hangs for an hour): only the cancel can end the job
    await asyncio.wait({task}, timeout=30)
    assert task.done(), "the job still runs after the cancel"
    assert task.cancelled(), f"the job ended without being cancelled: {task.exception()!r}"
    assert len(scripted_model.requests) == 1


async def test_stale_target_is_refused(scripted_model, workspace, make_settings):
    path = write(workspace, "geometry.py", AREA)
    scripted_model.add("generate", fenced(AREA_OK))
    result = await run(path, "area", make_settings(workspace), workspace)
    changed = AREA.replace("Area of", "The area of")
    with pytest.raises(StaleTarget):
        result_edits(changed, result)
    moved = "import math\n\n\n" + AREA
    new = apply_edits(moved, result_edits(moved, result))
    assert new.startswith("import math\n\n\n" + AREA)


async def test_unusable_review_keeps_the_tested_code(scripted_model, workspace, make_settings):
    path = write(workspace, "geometry.py", AREA)
    scripted_model.add("generate", fenced(AREA_OK))
    scripted_model.add("critic", "Looks fine to me!", "I said it looks fine.")
    events = []
    result = await run(path, "area", make_settings(workspace, critic=True), workspace, events)
    assert result.status == "passed" and result.function_code is not None
    assert result.findings == []
    assert any(isinstance(e, Log) and e.message.startswith("no review:") for e in events)
