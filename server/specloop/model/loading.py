"""litellm, imported once, lazily and as cheaply as possible; and how far that got.

Decisions:

* litellm is imported lazily, on the first call (in a worker thread, so an
  event loop keeps serving while its ~4 s import runs), with
  ``LITELLM_LOCAL_MODEL_COST_MAP=True`` set first: ``import specloop.model``
  stays cheap, so the language server answers ``initialize`` at once.
  :func:`start_loading` (a daemon thread, returns at once) and
  :func:`load_litellm` (awaitable) let a front end warm it up in the
  background; :func:`litellm_state` says truthfully how far that got.
* The import is paid once and as little as possible (issue 10): the cyclic
  collector is paused while litellm imports (its ~300k objects would
  otherwise trigger dozens of collections that find nothing to free), and
  :func:`gc.freeze` then moves everything alive into the permanent
  generation, so later collections -- the server's, the CLI's, and the one
  at interpreter exit -- never scan that heap again.  The pause is process
  wide: other threads create no collectable cycles worth a collection in
  those seconds.  The warm-up also imports what litellm and the OpenAI client
  import lazily on the first request (:data:`_LAZY_MODULES`, measured with
  litellm 1.106: ~470 modules, 0.4-0.5 s that the first ``generate`` paid
  on the event loop), each one optional so another litellm version only
  warms less.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
import os
import sys
import threading
from typing import Any

from .errors import raw as _one_line   # an exception in one line

_import_lock = threading.Lock()
_loader_lock = threading.Lock()


# What litellm (1.106) and the OpenAI client import on their first request, not at
# ``import litellm``: the OpenAI client's resource modules (``client.chat`` imports them
# all), litellm's service logger and proxy types, the provider configs it looks up.
_LAZY_MODULES = (
    "openai.resources",
    "litellm._service_logger",
    "litellm.integrations.prometheus_services",
    "litellm.llms.litellm_proxy.chat.transformation",
    "litellm.proxy._types",
    "litellm.proxy.openai_files_endpoints.common_utils",
    "litellm.llms.openai_like.dynamic_config",
    "litellm.llms.openai.chat.gpt_audio_transformation",
    "litellm.llms.vertex_ai.vertex_ai_partner_models.anthropic.transformation",
)

_state = "not-loaded"          # not-loaded | loading | loaded | failed
_state_error: str | None = None
_loader: threading.Thread | None = None


def litellm_state() -> dict[str, Any]:
    """How far loading the model layer got: ``{"state": "not-loaded" | "loading" |
    "loaded" | "failed", "error": str | None}``.  ``loaded`` only once the import and the
    warm-up are over (``"litellm" in sys.modules`` is true from the import's first line)."""
    return {"state": _state, "error": _state_error}


def _litellm() -> Any:
    """Import litellm once, quietly, without fetching its price map, with the collector
    paused and its heap frozen afterwards, and warm what its first call imports lazily."""
    global _state, _state_error
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    with _import_lock:
        done = sys.modules.get("litellm")
        if done is not None and getattr(done, "_specloop_quiet", False):
            return done
        _state, _state_error = "loading", None
        enabled = gc.isenabled()
        gc.disable()
        try:
            import litellm

            litellm.suppress_debug_info = True
            litellm.set_verbose = False
            if hasattr(litellm, "telemetry"):
                litellm.telemetry = False
            for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm", "httpx"):
                logging.getLogger(name).setLevel(logging.WARNING)
            _warm_lazy_imports()
            litellm._specloop_quiet = True
        except BaseException as exc:
            _state, _state_error = "failed", _one_line(exc)
            raise
        finally:
            gc.freeze()            # what is alive now stays: never scan it again
            if enabled:
                gc.enable()
        _state = "loaded"
    return litellm


def _warm_lazy_imports() -> None:
    for name in _LAZY_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # another litellm or openai version: nothing to warm there
            continue


def start_loading() -> threading.Thread | None:
    """Start importing litellm in a daemon thread and return at once (None when it is
    loaded already).  A daemon thread, unlike the default executor, does not hold up the
    process when it exits meanwhile; a failure is left for the first job to report."""
    global _loader
    with _loader_lock:
        if _state == "loaded" or (_loader is not None and _loader.is_alive()):
            return _loader if _state != "loaded" else None

        def load() -> None:
            try:
                _litellm()
            except BaseException:
                pass
        _loader = threading.Thread(target=load, name="specloop-litellm", daemon=True)
        _loader.start()
        return _loader


def loading() -> bool:
    """True while a :func:`start_loading` thread is still at work."""
    return _loader is not None and _loader.is_alive()


async def load_litellm() -> Any:
    """Import litellm in a worker thread (front ends may call this early; it waits for a
    load :func:`start_loading` began, and tries again if that one failed)."""
    return await asyncio.to_thread(_litellm)

