"""The search's decisions on their own: sampling, sameness, ranking, repair or resample."""

from __future__ import annotations

import asyncio

from specloop import search
from specloop.source.candidate import Candidate
from specloop.job import Attempt
from specloop.model.client import LOCAL_MODEL, ModelClient, Sample
from specloop.results import Finding, TestOutcome, TestRun
from specloop.settings import Settings


def attempt(*outcomes: tuple[str, str, str, bool], error: str | None = None, security=()) -> Attempt:
    run = TestRun(outcomes=[TestOutcome(i, o, m, expected="6" if o == "failed" else None,
                                        actual="5" if o == "failed" else None, authoritative=a)
                            for i, o, m, a in outcomes], error=error)
    return Attempt(Candidate(function_code="def f():\n    return 1\n", body="return 1\n"), run, 1, list(security))


def test_the_first_sample_is_plain_and_every_other_has_its_own_seed() -> None:
    settings = Settings(temperature=0.2, sample_temperature=0.9)
    samples = [search.sample(settings, i) for i in range(4)]
    assert samples[0].seed is None and samples[0].temperature == 0.2
    assert [s.seed for s in samples[1:]] == [1, 2, 3] and {s.temperature for s in samples[1:]} == {0.9}


def test_the_local_models_first_sample_is_greedy_unless_the_user_set_a_temperature() -> None:
    # the local model (named, or the default when no model is set): temperature 0, as a greedy single ask
    for settings in (Settings(model=LOCAL_MODEL), Settings()):
        assert search.sample(settings, 0) == Sample(0.0)
        assert search.sample(settings, 1) == Sample(settings.sample_temperature, seed=1)
    # a temperature the user set is honoured, even when it is the default's value
    assert search.sample(Settings(model=LOCAL_MODEL, temperature=0.2), 0) == Sample(0.2)
    assert search.sample(Settings(model=LOCAL_MODEL, temperature=0.7), 0) == Sample(0.7)
    # a remote model keeps `temperature` (its recordings and cache key on it)
    assert search.sample(Settings(model="openai/gpt-4o-mini"), 0) == Sample(0.2)


def test_the_first_loop_sample_is_the_request_a_single_ask_sends() -> None:
    """bench/humaneval.py's single-shot calls ``complete`` naming no sample; the loop's first
    candidate names ``search.sample(settings, 0)``: the two must be the same request."""
    for settings in (Settings(model=LOCAL_MODEL), Settings(model=LOCAL_MODEL, temperature=0.5),
                     Settings(model="openai/gpt-4o-mini"), Settings(model="openai/gpt-4o-mini", temperature=0)):
        client = ModelClient(settings, target="f")
        sent: list[Sample] = []

        async def reply(step, messages, sample, sent=sent):
            sent.append(sample)
            return "def f():\n    return 1\n"

        client._reply = reply  # type: ignore[method-assign]
        asyncio.run(client.complete("generate", [{"role": "user", "content": "f"}], parse=str))
        asyncio.run(client.complete("generate", [{"role": "user", "content": "f"}], parse=str,
                                    sample=search.sample(settings, 0)))
        assert sent[0] == sent[1], settings


def test_programs_that_differ_only_in_docstring_and_spacing_are_the_same() -> None:
    a = Candidate(function_code='def f(x):\n    """Doc."""\n    return x+1\n', body="")
    b = Candidate(function_code="def f(x):\n    return (x + 1)\n", body="")
    c = Candidate(function_code="def f(x):\n    return x + 2\n", body="")
    assert search.normalized(a) == search.normalized(b) != search.normalized(c)


def test_a_refused_candidate_ranks_below_any_tested_one() -> None:
    refused = attempt(security=[Finding("security", "error", "uses gc")])
    failing = attempt(("t::a", "failed", "wrong", True))
    assert search.rank(failing, [failing, refused], set()) > search.rank(refused, [failing, refused], set())


def test_agreement_on_model_tests_breaks_ties_between_equal_authoritative_scores() -> None:
    common = (("doc::0", "passed", "", True), ("m::a", "passed", "", False), ("m::b", "failed", "x", False))
    alone = attempt(("doc::0", "passed", "", True), ("m::a", "failed", "x", False), ("m::b", "passed", "", False))
    twins = [attempt(*common), attempt(*common)]
    everyone = [alone, *twins]
    assert search.agreement(twins[0], everyone, set()) == 2 and search.agreement(alone, everyone, set()) == 1
    assert search.rank(twins[0], everyone, set()) > search.rank(alone, everyone, set())


def test_decisions() -> None:
    wrong = attempt(("t::a", "failed", "assert 5 == 6", True))
    name_error = attempt(("t::a", "failed", "NameError: name 'hh' is not defined", True))
    refused = attempt(security=[Finding("security", "error", "uses gc")], error="refused")
    # a small model resamples, whatever the failure, unless a construct was refused
    assert search.decide(name_error, set(), capable=False, fruitless_repairs=0)[0] == "resample"
    step, why = search.decide(wrong, set(), capable=False, fruitless_repairs=0)
    assert step == "resample" and "small model" in why
    assert search.decide(refused, set(), capable=False, fruitless_repairs=3)[0] == "repair"
    # a capable model: up to two repairs in a row that do not help, then a new sample
    assert search.decide(wrong, set(), capable=True, fruitless_repairs=0) == (
        "repair", "a clear expected/actual for a capable model")
    assert search.decide(name_error, set(), capable=True, fruitless_repairs=0) == (
        "repair", "NameError is an error a fix prompt can address")
    assert search.decide(wrong, set(), capable=True, fruitless_repairs=1)[0] == "repair"
    assert search.decide(name_error, set(), capable=True, fruitless_repairs=2)[0] == "resample"
