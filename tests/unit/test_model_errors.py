"""Failed model calls summarized in one line with a hint: real litellm requests to
127.0.0.1 (the scripted server, or a port where nothing listens)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from scripted_model import Response, ScriptedModel, error

from specloop.model import errors as model_errors, prompts
from specloop.model.client import ModelClient, ModelError
from specloop.settings import Settings
from specloop.trace import Trace

MESSAGES = [{"role": "user", "content": "Implement area(w, h)."}]


def code_of_area(reply: str) -> str:
    return prompts.parse_code(reply, "area")


async def failure(values: dict[str, Any], trace: Trace | None = None, **overrides: Any) -> ModelError:
    settings = Settings(**{"max_retries": 0, "request_timeout": 5.0, **values, **overrides})
    client = ModelClient(settings, target="area", trace=trace, backoff_base=0.01)
    with pytest.raises(ModelError) as info:
        await client.complete("generate", MESSAGES, code_of_area)
    message = str(info.value)
    assert "\n" not in message and "docs.litellm.ai" not in message and "Error:" not in message
    return info.value


def records(trace: Trace) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(trace.path).read_text().splitlines()]


async def test_a_model_without_provider_names_one(model_env, tmp_path):
    trace = Trace(tmp_path, "area")
    exc = await failure({"model": "gpt4"}, trace)
    assert exc.kind == "config"
    assert str(exc) == ("litellm cannot tell the provider of model 'gpt4'; "
                        "give the provider: --model openai/gpt-4o-mini")
    (record,) = [r for r in records(trace) if r["kind"] == "model_error"]
    assert "LLM Provider NOT provided" in record["raw"] and record["error"] == str(exc)   # the raw text: traced


async def test_a_model_without_provider_at_a_server_is_an_openai_one(model_env):
    exc = await failure({**model_env, "model": "qwen2.5-coder"})
    assert str(exc).endswith("give the provider: --model openai/qwen2.5-coder")


async def test_no_key_names_the_variable_and_the_local_way(model_env, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    exc = await failure({"model": "openai/gpt-4o-mini"})         # no api_base: the client refuses, sends nothing
    assert exc.kind == "config"
    assert str(exc) == ("no API key for openai; set OPENAI_API_KEY, or run specloop with --api-base of a local "
                        "OpenAI-compatible server (it needs no key)")


async def test_no_key_of_another_provider(model_env, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    exc = await failure({"model": "anthropic/claude-3-5-haiku-latest"})
    assert str(exc).startswith("no API key for anthropic; set ANTHROPIC_API_KEY, ")


async def test_a_refused_connection_asks_whether_the_server_runs(model_env):
    dead = ScriptedModel()
    url = dead.url
    dead.stop()
    exc = await failure({**model_env, "api_base": url}, max_retries=1)
    assert str(exc) == f"cannot reach the model at {url}: connection refused (after 2 attempts); " \
                       f"is the server at {url} running?"
    assert model_errors.unreachable(str(exc)) and model_errors.unreachable(f"no model tests: {exc}")
    assert not model_errors.unreachable("model did not answer within 60 s; raise request_timeout")
    assert not model_errors.unreachable(None)


@pytest.mark.parametrize("with_key", [True, False])
async def test_401_points_at_the_key(scripted_model, model_env, monkeypatch, with_key):
    if not with_key:
        monkeypatch.delenv("OPENAI_API_KEY")      # the placeholder key is sent
    scripted_model.add("generate", error(401, "Incorrect API key provided"))
    exc = await failure(model_env)
    assert exc.kind == "http" and exc.status == 401
    hint = "check OPENAI_API_KEY" if with_key else "the server wants a key: set OPENAI_API_KEY"
    assert str(exc).startswith("the model server refused the API key (HTTP 401): Incorrect API key provided; ")
    assert hint in str(exc)


@pytest.mark.parametrize("status,what,hint", [
    (404, "model openai/scripted not found (HTTP 404): no such model", "check the model name (--model) and api_base"),
    (429, "rate limited (HTTP 429): no such model", "run fewer jobs at once"),
    (503, "the model server failed (HTTP 503): no such model", "try again later"),
    (403, "access denied to model openai/scripted (HTTP 403): no such model", "may use this model"),
])
async def test_http_errors(scripted_model, model_env, status, what, hint):
    scripted_model.add("generate", error(status, "no such model"), repeat=True)
    exc = await failure(model_env)
    assert exc.status == status and str(exc).startswith(what + "; ") and hint in str(exc)


async def test_a_timeout_suggests_a_longer_one(scripted_model, model_env):
    scripted_model.add("generate", Response(text="late", delay=3), repeat=True)
    exc = await failure(model_env, request_timeout=0.3)
    assert exc.kind == "timeout"
    assert str(exc).startswith("model did not answer within 0.3 s; raise request_timeout")
