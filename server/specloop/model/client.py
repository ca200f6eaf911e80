"""Every model call of specloop goes through here, and through litellm: one job's requests
(:class:`ModelClient`), with retries, budget, cache, record/replay, accounting and trace,
which are only correct together.

litellm's loading is :mod:`loading`'s, the choice of model and key and what a model may
be asked :mod:`choice`'s (both imported here too, where the rest of the engine finds
them); error summaries, replay storage and the local model's prompt fitting live in their
own modules.

Decisions:

* Retries are done here, not by litellm: its ``num_retries`` retries every
  error (a 400 too) with fixed one-second-and-up waits, ignores
  ``Retry-After`` and flips the global ``litellm.num_retries``.  Here 429, 5xx,
  408, timeouts and connection errors are retried up to
  ``settings.max_retries`` times with exponential backoff and jitter
  (``backoff_base`` * 2^n, x0.5..1.5), honouring ``Retry-After`` (capped);
  other statuses fail at once.  The OpenAI client inside litellm gets
  ``max_retries=0`` so retries are not doubled.  Every attempt, re-asks
  included, carries the headers of DESIGN.md contract 3.
* The response cache is a small JSON file per key under ``cache_dir`` rather
  than litellm's cache: that one is process-global (shared by every job and
  workspace of a server), needs an extra package for disk storage, and does
  not key on our step.  Only replies that parsed are cached; a hit costs no
  tokens and sends no request.
* Record and replay (:mod:`specloop.model.replay`, settings ``record_dir`` /
  ``replay_dir``): a replay answers in :meth:`ModelClient._reply` before the
  cache is looked at, with the recorded usage; a recording stores what the
  client returned, a cache hit included, where it returns it.
* A reply that ``parse`` rejects (ValueError) gets one re-ask quoting the
  error; the second failure is a ``parse`` error.
* The budget is checked before every request (cache hits are free).
* ``asyncio.CancelledError`` is never caught: cancelling the task abandons the
  HTTP request.
* Every prompt is redacted (:func:`specloop.redact.redact_text` on each message's
  text) on entering :meth:`ModelClient.complete`, before it is sent, traced or
  used as a cache key: secret values become ``[redacted]``, nothing else
  changes.  Each client re-reads the credential variables of the environment.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import itertools
import json
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from . import errors as model_errors, prompts
from .choice import (LOCAL_MODEL, PLACEHOLDER_KEY, Capabilities,  # noqa: F401
                     _ensure_provider, _is_local, _placeholder_key, capabilities, first_sample,
                     local_model_available, resolve_model)
from .loading import _litellm, litellm_state, load_litellm, loading, start_loading  # noqa: F401
from .request import BudgetExceeded, ModelError, Sample  # noqa: F401  (the model layer's names)
from ..redact import known_secrets, redact, redact_text
from ..results import Usage
from ..settings import Settings
from ..trace import Trace

T = TypeVar("T")

RETRY_AFTER_CAP = 30.0
BACKOFF_CAP = 10.0
KINDS = ("config", "timeout", "http", "budget", "parse", "cancelled")
_RETRY_STATUSES = {408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529}


def _retry_after(exc: BaseException) -> float | None:
    """Seconds from a Retry-After / retry-after-ms header of an HTTP error."""
    for headers in (getattr(exc, "litellm_response_headers", None),
                    getattr(getattr(exc, "response", None), "headers", None)):
        if not headers:
            continue
        try:
            ms = headers.get("retry-after-ms")
            if ms is not None:
                return max(0.0, float(ms) / 1000)
            value = headers.get("retry-after")
            if value is None:
                continue
            try:
                return max(0.0, float(value))
            except ValueError:
                when = email.utils.parsedate_to_datetime(value)
                return max(0.0, when.timestamp() - time.time())
        except (TypeError, ValueError, AttributeError):
            continue
    return None


def _classify(litellm: Any, exc: Exception) -> tuple[str, int | None, bool]:
    """(kind, status, retryable) of an exception raised by litellm.

    An error that carries no HTTP response headers never reached a server:
    a refused connection (litellm reports it as HTTP 500 "Connection error.",
    retryable, status None) or a configuration problem such as a missing API
    key or an unknown provider (kind ``config``, not retried)."""
    if isinstance(exc, (asyncio.TimeoutError, litellm.Timeout)):
        return "timeout", 408, True
    if isinstance(exc, litellm.APIConnectionError) or "connection error" in str(exc).lower():
        return "http", None, True
    status = getattr(exc, "status_code", None)
    if not getattr(exc, "litellm_response_headers", None):
        return "config", None, False
    if isinstance(status, int):
        return "http", status, status in _RETRY_STATUSES or status >= 500
    return "http", None, False


def _usage_of(response: Any, messages: list[dict[str, Any]], reply: str) -> tuple[int, int]:
    usage = getattr(response, "usage", None)
    prompt = getattr(usage, "prompt_tokens", None) if usage is not None else None
    completion = getattr(usage, "completion_tokens", None) if usage is not None else None
    if not isinstance(prompt, int):
        prompt = sum(len(str(m.get("content") or "")) for m in messages) // 4
    if not isinstance(completion, int):
        completion = len(reply) // 4
    return prompt, completion


_client_ids = itertools.count(1)


class ModelClient:
    """Model calls of one job: retries, budget, cache, accounting, trace."""

    def __init__(self, settings: Settings, *, target: str, trace: Trace | None = None,
                 cache_dir: Path | None = None, backoff_base: float = 0.2) -> None:
        self.settings = settings
        self.target = target
        self.trace = trace
        self.cache_dir = Path(cache_dir) if (cache_dir is not None and settings.cache) else None
        self.backoff_base = backoff_base
        self.usage = Usage()
        self.id = next(_client_ids)   # tells the running totals of a job's clients apart
        self.on_usage: Callable[[Usage], None] | None = None
        self.requests = 0          # HTTP requests sent (attempts), for front ends and tests
        self.model, self.api_base = resolve_model(settings)
        self.capabilities = capabilities(self.model)
        self._litellm: Any = None
        self._api_key: str | None = None    # None: litellm finds the provider's key itself
        known_secrets(refresh=True)
        self.exchanges = None      # record_dir / replay_dir: every exchange stored, or answered from there
        if settings.record_dir or settings.replay_dir:
            from .replay import Exchanges

            self.exchanges = Exchanges.for_settings(settings, model=self.model, target=target)
            if self.exchanges is not None and self.exchanges.replaying:
                self.cache_dir = None   # a replay answers from the recording only

    # -- public ------------------------------------------------------------
    async def prepare(self, report: Callable[[str], None] | None = None) -> None:
        """Load litellm, and register and load the local model when it is the
        model, before the first call.  ``report`` hears of the local model's
        loading only (the "loading-model" phase); litellm's import is quiet."""
        if self.exchanges is not None and self.exchanges.replaying:
            return                 # a replay sends nothing: no litellm, no local model
        await self._ready(report)

    async def _ready(self, report: Callable[[str], None] | None = None) -> Any:
        if self._litellm is None:
            litellm = await load_litellm()
            local = _is_local(self.model)
            if local and report is not None:
                report("loading the local model")
            try:
                await asyncio.to_thread(_ensure_provider, litellm, self.model)
                if local:
                    loader = getattr(sys.modules.get("specloop.model.local"), "ensure_loaded", None)
                    if loader is not None:
                        await loader()
            except Exception as exc:
                raise ModelError(f"the local model cannot be loaded: {_one_line(exc)}", "config") from None
            self._api_key = _placeholder_key(litellm, self.model, self.api_base)
            self._litellm = litellm
        return self._litellm

    async def complete(self, step: str, messages: list[dict[str, Any]], parse: Callable[[str], T],
                       sample: Sample | None = None, reask: bool = True) -> T:
        """Ask the model, parse the reply; one re-ask when ``parse`` raises ValueError (unless
        ``reask`` is off).  ``sample``: this request's seed and temperature (default:
        :func:`first_sample`: settings.temperature, or greedy for the local model)."""
        sample = sample or first_sample(self.settings, self.capabilities)
        messages = _redacted(messages)
        reply = await self._reply(step, messages, sample)
        try:
            value = parse(reply)
        except ValueError as first:
            self._trace("model_parse_error", step=step, error=str(first), reply=reply, attempt=1)
            if not reask:
                raise ModelError(f"model reply unusable: {_one_line(first)}", "parse") from None
            again = _redacted([*messages, {"role": "assistant", "content": reply},
                               prompts.reask_message(step, _one_line(first))])
            reply = await self._reply(step, again, sample)
            try:
                value = parse(reply)
            except ValueError as second:
                self._trace("model_error", step=step, error_kind="parse", error=str(second), reply=reply)
                raise ModelError(f"model reply unusable after a re-ask: {_one_line(second)}", "parse") from None
        self._cache_put(step, messages, sample, reply)   # a good reply answers the original prompt next time
        return value

    # -- one reply, with cache, budget and retries --------------------------
    async def _reply(self, step: str, messages: list[dict[str, Any]], sample: Sample) -> str:
        if self.exchanges is not None and self.exchanges.replaying:
            return self._replayed(step, messages, sample)
        cached = self._cache_get(step, messages, sample)
        if cached is not None:
            self._trace("model", step=step, model=self.model, messages=messages, reply=cached, cached=True, seed=sample.seed,
                        usage={"prompt": 0, "completion": 0, "cost_usd": 0.0}, seconds=0.0, attempt=0)
            if self.exchanges is not None:
                self.exchanges.record(step, messages, sample, cached, Usage(), cached=True)
            return cached
        litellm = await self._ready()
        attempt = 0
        while True:
            self._check_budget(step)
            attempt += 1
            started = time.monotonic()
            try:
                response = await self._send(litellm, step, messages, sample)
            except Exception as exc:  # CancelledError is not an Exception: it propagates
                kind, status, retryable = _classify(litellm, exc)
                if kind == "timeout" and _is_local(self.model):
                    retryable = False  # the local model is not overloaded, only slow: asking again repeats the wait
                summary = self._summary(kind, status, exc)
                self._trace("model_error", step=step, model=self.model, error_kind=kind, status=status,
                            error=summary.line(), raw=model_errors.raw(exc), attempt=attempt,
                            seconds=round(time.monotonic() - started, 3))
                if not retryable or attempt > self.settings.max_retries:
                    suffix = f" (after {attempt} attempts)" if retryable and attempt > 1 else ""
                    raise ModelError(summary.line(suffix), kind, status=status) from None
                await asyncio.sleep(self._backoff(attempt, exc))
                continue
            return self._account(litellm, step, messages, response, attempt, time.monotonic() - started, sample)

    async def _send(self, litellm: Any, step: str, messages: list[dict[str, Any]], sample: Sample) -> Any:
        self.requests += 1
        timeout = self.settings.request_timeout
        seed = {} if sample.seed is None else {"seed": sample.seed}
        key = {} if self._api_key is None else {"api_key": self._api_key}
        call = litellm.acompletion(
            model=self.model, api_base=self.api_base, messages=messages,
            temperature=sample.temperature, timeout=timeout, max_retries=0, num_retries=0, drop_params=True,
            extra_headers={"X-Specloop-Step": step, "X-Specloop-Target": self.target}, **seed, **key,
        )
        # A guard for providers that ignore ``timeout`` (the HTTP ones honour it first).
        return await asyncio.wait_for(call, timeout + 2.0)

    def _account(self, litellm: Any, step: str, messages: list[dict[str, Any]], response: Any,
                 attempt: int, seconds: float, sample: Sample) -> str:
        try:
            reply = response.choices[0].message.content or ""
        except (AttributeError, IndexError, TypeError):
            reply = ""
        prompt_tokens, completion_tokens = _usage_of(response, messages, reply)
        try:
            cost = float(litellm.completion_cost(completion_response=response) or 0.0)
        except Exception:
            cost = 0.0
        this = Usage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens, cost_usd=cost, calls=1)
        if self.exchanges is not None:
            self.exchanges.record(step, messages, sample, reply, this)
        self.usage.add(this)
        self._trace("model", step=step, model=self.model, messages=messages, reply=reply, attempt=attempt,
                    seed=sample.seed, temperature=sample.temperature, usage={"prompt": prompt_tokens, "completion": completion_tokens, "cost_usd": cost},
                    seconds=round(seconds, 3))
        if self.on_usage is not None:
            self.on_usage(self.usage)
        return reply

    def _replayed(self, step: str, messages: list[dict[str, Any]], sample: Sample) -> str:
        """The recorded reply (:mod:`specloop.model.replay`), accounted as it was when recorded:
        the same usage, and the budget checked before each exchange that was sent."""
        try:
            recorded = self.exchanges.replay(step, messages, sample)
        except ModelError as exc:
            self._trace("model_error", step=step, model=self.model, error_kind=exc.kind, error=str(exc))
            raise
        if not recorded.cached:
            self._check_budget(step)
        self.usage.add(recorded.usage)
        self._trace("model", step=step, model=self.model, messages=messages, reply=recorded.reply, attempt=0,
                    seed=sample.seed, temperature=sample.temperature, replayed=str(recorded.path),
                    cached=recorded.cached, seconds=0.0,
                    usage={"prompt": recorded.usage.prompt_tokens, "completion": recorded.usage.completion_tokens,
                           "cost_usd": recorded.usage.cost_usd})
        if self.on_usage is not None and not recorded.cached:
            self.on_usage(self.usage)
        return recorded.reply

    def _check_budget(self, step: str) -> None:
        s = self.settings
        if self.usage.total >= s.token_budget:
            error = BudgetExceeded(f"token budget of {s.token_budget} used up "
                                   f"({self.usage.total} tokens spent) before the {step} step")
        elif s.cost_budget_usd is not None and self.usage.cost_usd >= s.cost_budget_usd:
            error = BudgetExceeded(f"cost budget of ${s.cost_budget_usd:g} used up "
                                   f"(${self.usage.cost_usd:.4f} spent) before the {step} step")
        else:
            return
        self._trace("model_error", step=step, error_kind="budget", error=str(error))
        raise error

    def _backoff(self, attempt: int, exc: BaseException) -> float:
        after = _retry_after(exc)
        if after is not None:
            return min(after, RETRY_AFTER_CAP)
        return min(BACKOFF_CAP, self.backoff_base * 2 ** (attempt - 1) * random.uniform(0.5, 1.5))

    def _summary(self, kind: str, status: int | None, exc: Exception) -> model_errors.Summary:
        """What failed and a hint, in one line (``model_errors``); litellm's text is traced."""
        return model_errors.summarize(exc, kind, status, model=self.model, api_base=self.api_base,
                                      timeout=self.settings.request_timeout,
                                      placeholder_key=self._api_key == PLACEHOLDER_KEY)

    # -- cache -------------------------------------------------------------
    def _cache_path(self, step: str, messages: list[dict[str, Any]], sample: Sample) -> Path | None:
        if self.cache_dir is None:
            return None
        key = json.dumps([self.model, self.api_base, messages, sample.temperature, sample.seed, step],
                         sort_keys=True, default=str)
        return self.cache_dir / f"{hashlib.sha256(key.encode()).hexdigest()}.json"

    def _cache_get(self, step: str, messages: list[dict[str, Any]], sample: Sample) -> str | None:
        path = self._cache_path(step, messages, sample)
        if path is None or not path.is_file():
            return None
        try:
            reply = json.loads(path.read_text(encoding="utf-8")).get("reply")
        except (OSError, ValueError, AttributeError):
            return None
        return reply if isinstance(reply, str) else None

    def _cache_put(self, step: str, messages: list[dict[str, Any]], sample: Sample, reply: str) -> None:
        path = self._cache_path(step, messages, sample)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"model": self.model, "step": step, "reply": reply}), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            pass

    def _trace(self, record: str, /, **data: Any) -> None:
        if self.trace is not None:
            self.trace.write(record, target=self.target, **data)


def _redacted(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copies of chat messages with the secrets in their content redacted."""
    out = []
    for message in messages:
        content = message.get("content")
        if content is not None:
            message = {**message, "content": redact_text(content) if isinstance(content, str) else redact(content)}
        out.append(message)
    return out


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
