"""A failed model call in one line: what failed, then a hint what to do about it.

litellm's own messages are long and name litellm's internals ("litellm.BadRequestError:
LLM Provider NOT provided. Pass in the LLM provider you are trying to call. You passed
model=gpt4 ... Learn more: https://docs.litellm.ai/docs/providers"); a user wants to know
what failed and what to change.  :func:`summarize` maps the exception of one request
(and the ``kind`` and ``status`` the model layer classified it as) to a
:class:`Summary`; ``ModelError``'s message is its :meth:`Summary.line`, so the CLI, the
``--json`` output and the editor show the same line.  litellm's raw text goes to the
job's trace (the ``raw`` field of its ``model_error`` record), never to the terminal.

The cases, as litellm 1.106 raises them (checked against real requests to 127.0.0.1):

* a model name without a provider litellm knows (``gpt4``): ``BadRequestError``
  "LLM Provider NOT provided" -> give the provider (``--model openai/...``);
* no key: ``InternalServerError`` "Missing credentials ... OPENAI_API_KEY" (the OpenAI
  client), ``AuthenticationError`` "Missing Anthropic API Key" (others), both without an
  HTTP response -> set the variable, or use a local server (which needs none);
* no server: "Connection error." whose cause is a refused connection or an unknown
  host -> is the server at api_base running / check the host;
* a timeout -> raise ``request_timeout``;
* HTTP 401/403/404/429/5xx from the server -> the key, access, the model's name, the rate
  limit, the server; the server's own words are kept (short), they name the problem best.

Nothing here imports litellm: the cases are told apart by status, class name and text.

A model that cannot be reached fails every request of every target alike: front ends
tell it by :func:`unreachable` (the line starts with :data:`UNREACHABLE`) and stop there
(``specloop run`` reports it once and tries no further spec) instead of trying the next.
"""

from __future__ import annotations

import re
import socket
import ssl
from dataclasses import dataclass

DETAIL_LIMIT = 200
UNREACHABLE = "cannot reach the model at "   # how the line of a request that reached no server begins


@dataclass(frozen=True)
class Summary:
    """``what`` failed, and a ``hint`` (may be empty)."""

    what: str
    hint: str = ""

    def line(self, suffix: str = "") -> str:
        """One line: ``what`` + ``suffix`` (e.g. " (after 4 attempts)"), then "; hint"."""
        return f"{self.what}{suffix}" + (f"; {self.hint}" if self.hint else "")


def unreachable(message: str | None) -> bool:
    """Whether a model error's line (as :meth:`Summary.line` made it, maybe behind a prefix
    such as ``no model tests: ``) says the model could not be reached at all: no server,
    no connection, an unknown host.  Every other request would fail the same way."""
    return bool(message) and UNREACHABLE in message


def detail(exc: BaseException, limit: int = DETAIL_LIMIT) -> str:
    """The server's own words from a litellm exception, without litellm's prefixes, one line."""
    text = str(getattr(exc, "message", None) or exc)
    text = re.sub(r"^(litellm\.\w+:\s*)?(\w+Error:\s*)?", "", text.strip())
    text = re.sub(r"^\w*Exception\s*-\s*", "", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def raw(exc: BaseException) -> str:
    """litellm's whole message in one line (for the trace)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def provider_of(model: str, exc: BaseException | None = None) -> str:
    named = getattr(exc, "llm_provider", None) if exc is not None else None
    if isinstance(named, str) and named:
        return named
    return model.split("/", 1)[0] if "/" in model else "openai"


def key_variable(model: str, exc: BaseException | None = None) -> str:
    """The environment variable that holds the provider's key: the one litellm's message
    names, else PROVIDER_API_KEY."""
    if exc is not None:
        found = re.search(r"\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*_API_KEY)\b", str(exc))
        if found:
            return found.group(1)
    return re.sub(r"[^A-Z0-9]+", "_", provider_of(model, exc).upper()) + "_API_KEY"


def _suggested_model(model: str, api_base: str | None) -> str:
    name = model.split("/")[-1] or "gpt-4o-mini"
    if api_base:                      # a server at api_base: most speak OpenAI's protocol
        return f"openai/{name}"
    lower = name.lower()
    if lower.startswith(("gpt", "chatgpt", "o1", "o3", "o4")):
        return "openai/gpt-4o-mini"
    if lower.startswith("claude"):
        return "anthropic/claude-3-5-haiku-latest"
    if lower.startswith("gemini"):
        return "gemini/gemini-1.5-flash"
    return "openai/gpt-4o-mini"


def _chain(exc: BaseException):
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _no_key(exc: BaseException) -> bool:
    text = str(exc).lower()
    return ("missing credentials" in text or ("api key" in text and ("missing" in text or "no key" in text))
            or "api_key client option must be set" in text or type(exc).__name__ == "AuthenticationError")


def _connection(exc: BaseException, api_base: str | None) -> tuple[str, str]:
    """(why, hint) of a request that never reached a server."""
    where = api_base or "the provider"
    for cause in _chain(exc):
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused", f"is the server at {where} running?"
        if isinstance(cause, socket.gaierror):
            return "host not found", "check the host name in api_base" if api_base else "check the network"
        if isinstance(cause, ssl.SSLError):
            return "TLS handshake failed", "check the scheme (http or https) of api_base"
    if api_base:
        return "no connection", f"is the server at {api_base} running and reachable?"
    return "no connection", "check the network (and a proxy, if any)"


def summarize(exc: BaseException, kind: str, status: int | None, *, model: str, api_base: str | None,
              timeout: float, placeholder_key: bool = False) -> Summary:
    """The summary of one failed request.  ``kind`` and ``status``: as the model layer
    classified ``exc`` (timeout, config, http); ``placeholder_key``: the request carried
    specloop's placeholder key (api_base set, no key variable)."""
    text = str(exc)
    if kind == "timeout":
        return Summary(f"model did not answer within {timeout:g} s",
                       "raise request_timeout (e.g. SPECLOOP_REQUEST_TIMEOUT=180) for a slow model or server")
    if "LLM Provider NOT provided" in text or "llm provider not provided" in text.lower():
        return Summary(f"litellm cannot tell the provider of model '{model}'",
                       f"give the provider: --model {_suggested_model(model, api_base)}")
    if kind == "config":
        if _no_key(exc):
            return Summary(f"no API key for {provider_of(model, exc)}",
                           f"set {key_variable(model, exc)}, or run specloop with --api-base of a local "
                           f"OpenAI-compatible server (it needs no key)")
        return Summary(f"cannot call model {model}: {detail(exc)}")
    if status is None:
        why, hint = _connection(exc, api_base)
        return Summary(f"{UNREACHABLE}{api_base or model}: {why}", hint)
    said = detail(exc)
    if status == 401:
        variable = key_variable(model, exc)
        hint = (f"the server wants a key: set {variable}" if placeholder_key
                else f"check {variable} (or the key the gateway at {api_base} expects)" if api_base
                else f"check {variable}")
        return Summary(f"the model server refused the API key (HTTP 401): {said}", hint)
    if status == 403:
        return Summary(f"access denied to model {model} (HTTP 403): {said}",
                       "check that the key may use this model")
    if status == 404:
        return Summary(f"model {model} not found (HTTP 404): {said}",
                       "check the model name (--model) and api_base")
    if status == 429:
        return Summary(f"rate limited (HTTP 429): {said}",
                       "wait and run again, or run fewer jobs at once (--jobs 1)")
    if status >= 500:
        return Summary(f"the model server failed (HTTP {status}): {said}", "try again later")
    return Summary(f"model request failed with HTTP {status}: {said}")
