"""The search through the whole engine: a scripted model over HTTP that answers requests
differing in their sampling (seed) differently, as a real model does."""

from __future__ import annotations

import json
from pathlib import Path

from replies import fenced
from test_loop import AREA, AREA_OK, AREA_WRONG, run, write

WRONGS = {  # each passes neither doctest of AREA, each a different program
    None: "def area(w, h):\n    return w + h\n",
    1: "def area(w, h):\n    return w - h\n",
    2: "def area(w, h):\n    return w * h + 1\n",
    3: "def area(w, h):\n    return h\n",
}


def by_seed(answers: dict):
    """A responder answering by the request's seed (None: a request without one)."""
    def respond(step, target, body):
        seed = body.get("seed")
        return fenced(answers[seed]) if seed in answers else None
    return respond


def trace_of(result) -> list[dict]:
    return [json.loads(line) for line in Path(result.trace_path).read_text().splitlines()]


async def test_three_candidates_are_three_samples_and_three_programs(scripted_model, workspace, make_settings):
    path = write(workspace, "geometry.py", AREA)
    scripted_model.respond(by_seed(WRONGS), step="generate")
    settings = make_settings(workspace, candidates=3, max_iterations=1, temperature=0.1, sample_temperature=0.9)
    result = await run(path, "area", settings, workspace)
    assert result.status == "failed"
    sent = [(r.body.get("seed"), r.body.get("temperature")) for r in scripted_model.requests_for("generate")]
    assert sorted(sent, key=str) == sorted([(None, 0.1), (1, 0.9), (2, 0.9)], key=str)
    tested = [r for r in trace_of(result) if r["kind"] == "tests"]
    assert len(tested) == 3


async def test_the_cache_replays_n_different_candidates(scripted_model, workspace, make_settings):
    path = write(workspace, "geometry.py", AREA)
    scripted_model.respond(by_seed(WRONGS), step="generate")
    settings = make_settings(workspace, candidates=3, max_iterations=1, cache=True)
    first = await run(path, "area", settings, workspace)
    sent = len(scripted_model.requests)
    again = await run(path, "area", settings, workspace)
    assert len(scripted_model.requests) == sent == 3          # the second job asked nothing
    codes = lambda result: sorted(r["reply"] for r in trace_of(result) if r["kind"] == "model")  # noqa: E731
    assert codes(first) == codes(again) and len(set(codes(again))) == 3
    assert all(r.get("cached") for r in trace_of(again) if r["kind"] == "model")


async def test_identical_candidates_are_tested_once(scripted_model, workspace, make_settings):
    path = write(workspace, "geometry.py", AREA)
    same = {None: AREA_WRONG, 1: AREA_WRONG.replace("w + h", "w+h"), 2: AREA_OK}
    scripted_model.respond(by_seed(same), step="generate")
    result = await run(path, "area", make_settings(workspace, candidates=3, max_iterations=1), workspace)
    assert result.status == "passed"
    kinds = [r["kind"] for r in trace_of(result)]
    assert kinds.count("duplicate") == 1 and kinds.count("tests") == 2


async def test_the_search_stops_at_the_first_passing_candidate(scripted_model, workspace, make_settings):
    path = write(workspace, "geometry.py", AREA)
    scripted_model.add("generate", fenced(AREA_WRONG))
    scripted_model.add("fix", fenced(AREA_OK), fenced(AREA_WRONG), repeat=True)
    result = await run(path, "area", make_settings(workspace, max_iterations=6), workspace)
    assert result.status == "passed" and result.iterations == 2
    assert scripted_model.steps == ["generate", "fix"]


async def test_a_name_error_is_repaired(scripted_model, workspace, make_settings):
    path = write(workspace, "geometry.py", AREA)
    scripted_model.add("generate", fenced("def area(w, h):\n    return w * hh\n"))
    scripted_model.add("fix", fenced(AREA_OK))
    result = await run(path, "area", make_settings(workspace, max_iterations=3), workspace)
    assert result.status == "passed"
    (decision,) = [r for r in trace_of(result) if r["kind"] == "decision"]
    assert decision["step"] == "repair" and "NameError" in decision["why"]
    assert "NameError" in scripted_model.requests_for("fix")[0].last_user


async def test_fruitless_repairs_turn_into_a_new_sample(scripted_model, workspace, make_settings):
    path = write(workspace, "geometry.py", AREA)
    scripted_model.respond(by_seed({None: WRONGS[None], 1: AREA_OK}), step="generate")
    scripted_model.add("fix", fenced(WRONGS[2]), repeat=True)   # never better
    result = await run(path, "area", make_settings(workspace, max_iterations=5), workspace)
    assert result.status == "passed", result.error
    decisions = [(r["step"], r["why"]) for r in trace_of(result) if r["kind"] == "decision"]
    assert [d[0] for d in decisions] == ["repair", "repair", "resample"]
    assert "did not raise the score" in decisions[2][1]
    assert [r.body.get("seed") for r in scripted_model.requests_for("generate")] == [None, 1]
    # no repair is the very request that was answered before (same prompt, same sampling)
    fixes = [json.dumps([r.body["messages"], r.body.get("seed")]) for r in scripted_model.requests_for("fix")]
    assert len(fixes) == 2 and len(set(fixes)) == 2


async def test_a_second_repair_of_the_same_attempt_has_its_own_seed(scripted_model, workspace, make_settings):
    path = write(workspace, "geometry.py", AREA)
    scripted_model.add("generate", fenced(AREA_WRONG))
    scripted_model.add("fix", fenced(AREA_WRONG), fenced(AREA_OK))   # the first repair changes nothing
    result = await run(path, "area", make_settings(workspace, max_iterations=3), workspace)
    assert result.status == "passed", result.error
    fixes = scripted_model.requests_for("fix")
    assert fixes[0].body["messages"] == fixes[1].body["messages"]
    assert fixes[0].body.get("seed") is None and fixes[1].body.get("seed") is not None
