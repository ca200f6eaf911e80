"""A scripted OpenAI-compatible model server on 127.0.0.1, for tests.

Every end-to-end test talks to this server over real HTTP through litellm's
``openai/`` provider, so the client code under test is the real one.  The
server only knows what the test scripted:

* A list of :class:`Rule`.  A rule matches on the ``X-Specloop-Step`` header,
  optionally on ``X-Specloop-Target`` and on a substring of the last user
  message, and answers with the next item of its queue: reply text, an HTTP
  error status (with body and headers, e.g. 429 + ``Retry-After``), a delay
  before answering, or a hang.  A rule whose queue is used up no longer
  matches, unless it has ``repeat=True``: then it keeps answering its last
  item.  A rule may instead hold a callable ``fn(step, target, body)`` that
  returns text, a :class:`Response`, or ``None`` to let later rules answer.
* A request no rule answers gets HTTP 400 with a message naming its step and
  target, so a test with a missing rule fails visibly (and at once: clients do
  not retry a 400).

Every request is recorded (:attr:`ScriptedModel.requests`) with its headers,
JSON body, arrival ``time`` and the ``end`` time its answer was sent (so a test
can tell requests that overlapped).  Both plain and ``"stream": true`` (SSE) completions are served
in OpenAI's schema, with ``usage`` estimated as characters / 4.

Standalone (for the editor tests)::

    python tests/scripted_model.py --port 0 --script script.json [--log requests.jsonl]

prints the base URL (``http://127.0.0.1:PORT/v1``) as its first stdout line and
serves until killed.  ``script.json`` is a list of rules with the fields of
:class:`Rule` (``responses`` items are strings or objects with the fields of
:class:`Response`).  Only the standard library is used.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HANG_SECONDS = 3600.0


@dataclass
class Response:
    """One scripted answer.  ``status`` 200 sends ``text`` as the completion;
    any other status sends ``body`` (a string is wrapped into OpenAI's error
    object).  ``delay`` waits before answering; ``hang`` waits (almost) forever;
    ``release`` waits until the test sets that event (a window the test controls, not a
    race with the clock) — all end early when the server shuts down."""

    text: str = ""
    status: int = 200
    body: str | dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    hang: bool = False
    release: threading.Event | None = None
    usage: dict[str, int] | None = None   # overrides the estimated usage

    @classmethod
    def coerce(cls, item: "str | Response | dict[str, Any]") -> "Response":
        if isinstance(item, Response):
            return item
        if isinstance(item, str):
            return cls(text=item)
        if isinstance(item, dict):
            return cls(**item)
        raise TypeError(f"not a scripted response: {item!r}")


def error(status: int, message: str = "", **headers: str) -> Response:
    """Shorthand: an HTTP error answer, e.g. ``error(429, retry_after="1")``."""
    hdrs = {k.replace("_", "-").title(): v for k, v in headers.items()}
    return Response(status=status, body=message or f"scripted error {status}", headers=hdrs)


def hang() -> Response:
    return Response(hang=True)


Responder = Callable[[str | None, str | None, dict[str, Any]], "str | Response | None"]


@dataclass
class Rule:
    """Matches a request and yields answers from its queue (see module doc)."""

    step: str | None = None          # None: any step
    target: str | None = None        # None: any target
    contains: str | None = None      # substring of the last user message
    responses: list[Any] = field(default_factory=list)
    repeat: bool = False
    fn: Responder | None = None
    used: int = 0

    def __post_init__(self) -> None:
        self.responses = [Response.coerce(r) for r in self.responses]

    def matches(self, step: str | None, target: str | None, last_user: str) -> bool:
        if self.step is not None and self.step != step:
            return False
        if self.target is not None and self.target != target:
            return False
        if self.contains is not None and self.contains not in last_user:
            return False
        return self.fn is not None or self.used < len(self.responses) or (self.repeat and bool(self.responses))

    def take(self) -> Response:
        index = min(self.used, len(self.responses) - 1)
        self.used += 1
        return self.responses[index]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Rule":
        allowed = {"step", "target", "contains", "responses", "repeat"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown rule fields: {sorted(unknown)}")
        return cls(**data)


@dataclass
class Request:
    """One request as the server saw it."""

    path: str
    headers: dict[str, str]          # header names lower-cased
    body: dict[str, Any]
    time: float                      # when it arrived
    rule: int | None = None          # index of the rule that answered, None: unmatched
    end: float | None = None         # when its answer was sent (None: not yet, or never)
    usage: dict[str, int] | None = None   # the usage its answer reported (None: no answer with usage)

    @property
    def step(self) -> str | None:
        return self.headers.get("x-specloop-step")

    @property
    def target(self) -> str | None:
        return self.headers.get("x-specloop-target")

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages") or [])

    @property
    def last_user(self) -> str:
        for message in reversed(self.messages):
            if message.get("role") == "user":
                return _text(message.get("content"))
        return ""

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "headers": self.headers, "body": self.body, "time": self.time,
                "end": self.end, "step": self.step, "target": self.target, "rule": self.rule}


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


class ScriptedModel:
    """The server.  Use as a context manager, or ``start()`` / ``stop()``."""

    def __init__(self, rules: Iterable[Rule | dict[str, Any]] = (), *, host: str = "127.0.0.1", port: int = 0,
                 log_path: Path | None = None, model_name: str = "scripted") -> None:
        self.rules: list[Rule] = [r if isinstance(r, Rule) else Rule.from_dict(r) for r in rules]
        self.requests: list[Request] = []
        self.model_name = model_name
        self.log_path = log_path
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer((host, port), _make_handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- scripting ---------------------------------------------------------
    def add(self, step: str | None, *responses: "str | Response | dict[str, Any]", target: str | None = None,
            contains: str | None = None, repeat: bool = False) -> Rule:
        """Append a rule answering ``step`` with ``responses`` in order."""
        rule = Rule(step=step, target=target, contains=contains, responses=list(responses), repeat=repeat)
        with self._lock:
            self.rules.append(rule)
        return rule

    def respond(self, fn: Responder, *, step: str | None = None, target: str | None = None,
                contains: str | None = None) -> Rule:
        """Append a rule whose answers come from ``fn(step, target, body)``."""
        rule = Rule(step=step, target=target, contains=contains, fn=fn)
        with self._lock:
            self.rules.append(rule)
        return rule

    def together(self, step: str, replies: "dict[str, str | Response]", *, within: float = 60.0) -> None:
        """Answer the first ``step`` request of each target in ``replies`` only once every one
        of them has arrived, so the answers prove the requests were in flight at the same time.
        A target still missing after ``within`` seconds makes them all HTTP 500 ("requests did
        not overlap"): the test fails instead of waiting.  Later requests of those targets go
        to later rules."""
        barrier = threading.Barrier(len(replies))
        answered: set[str] = set()
        lock = threading.Lock()

        def first_together(_step: str | None, target: str | None, _body: dict[str, Any]) -> "str | Response | None":
            with lock:
                if target in answered:
                    return None
                answered.add(target)
            try:
                barrier.wait(within)
            except threading.BrokenBarrierError:
                return Response(status=500, body=f"requests did not overlap: {sorted(replies)}")
            return replies[target]

        for target in replies:
            self.respond(first_together, step=step, target=target)

    # -- inspection --------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def requests_for(self, step: str | None = None, target: str | None = None) -> list[Request]:
        with self._lock:
            return [r for r in self.requests
                    if (step is None or r.step == step) and (target is None or r.target == target)]

    def served_tokens(self) -> int:
        """The tokens the answers sent so far reported (prompt + completion)."""
        with self._lock:
            return sum(r.usage["total_tokens"] for r in self.requests if r.usage)

    @property
    def steps(self) -> list[str | None]:
        with self._lock:
            return [r.step for r in self.requests]

    @property
    def unmatched(self) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.rule is None]

    # -- life cycle --------------------------------------------------------
    def start(self) -> "ScriptedModel":
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="scripted-model", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()          # wakes delayed and hanging handlers
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> "ScriptedModel":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- answering (called from handler threads) ---------------------------
    def _choose(self, request: Request) -> Response:
        with self._lock:
            self.requests.append(request)
            candidates = list(enumerate(self.rules))
        for index, rule in candidates:
            if rule.fn is not None:
                if not rule.matches(request.step, request.target, request.last_user):
                    continue
                answer = rule.fn(request.step, request.target, request.body)
                if answer is None:
                    continue
                request.rule = index
                return Response.coerce(answer)
            with self._lock:
                if rule.matches(request.step, request.target, request.last_user):
                    request.rule = index
                    return rule.take()
        message = (f"scripted model: no rule answers step={request.step!r} target={request.target!r} "
                   f"(last user message starts {request.last_user[:80]!r})")
        return Response(status=400, body=message)

    def _log(self, request: Request) -> None:
        if self.log_path is None:
            return
        with self._lock, open(self.log_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(request.to_dict()) + "\n")

    def _wait(self, seconds: float) -> bool:
        """Sleep; False when the server is stopping meanwhile."""
        return not self._stopping.wait(seconds)

    def _until(self, release: threading.Event) -> bool:
        """Wait until ``release`` is set (at most HANG_SECONDS); False when the server stops first."""
        deadline = time.monotonic() + HANG_SECONDS
        while not release.wait(0.05):
            if self._stopping.is_set() or time.monotonic() > deadline:
                return False
        return True


def _completion(model: ScriptedModel, body: dict[str, Any], answer: Response) -> tuple[dict[str, Any], str]:
    prompt_chars = sum(len(_text(m.get("content"))) for m in body.get("messages") or [])
    usage = answer.usage or {"prompt_tokens": max(1, prompt_chars // 4), "completion_tokens": _tokens(answer.text)}
    usage = {**usage, "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"]}
    ident = "chatcmpl-" + uuid.uuid4().hex[:24]
    return {
        "id": ident,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": str(body.get("model") or model.model_name),
        "system_fingerprint": "fp_scripted",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.text},
                     "logprobs": None, "finish_reason": "stop"}],
        "usage": usage,
    }, ident


def _make_handler(model: ScriptedModel) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "ScriptedModel/1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
            pass

        def _send_json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            if self.path.rstrip("/").endswith("/models"):
                self._send_json(200, {"object": "list", "data": [
                    {"id": model.model_name, "object": "model", "created": 0, "owned_by": "scripted"}]})
            else:
                self._send_json(404, {"error": {"message": f"no such path {self.path}", "type": "not_found"}})

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            path = self.path.split("?", 1)[0].rstrip("/")
            if not path.endswith("/chat/completions"):
                self._send_json(404, {"error": {"message": f"no such path {self.path}", "type": "not_found"}})
                return
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError as exc:
                self._send_json(400, {"error": {"message": f"bad JSON: {exc}", "type": "invalid_request_error"}})
                return
            request = Request(path=self.path, headers={k.lower(): v for k, v in self.headers.items()},
                              body=body, time=time.time())
            try:
                answer = model._choose(request)
            except Exception as exc:  # a broken responder: tell the client
                answer = Response(status=500, body=f"scripted responder raised {type(exc).__name__}: {exc}")
            model._log(request)
            try:
                if answer.hang and not model._wait(HANG_SECONDS):
                    return
                if answer.delay and not model._wait(answer.delay):
                    return
                if answer.release is not None and not model._until(answer.release):
                    return
                if answer.status != 200:
                    payload = answer.body if isinstance(answer.body, dict) else {"error": {
                        "message": answer.body or f"scripted error {answer.status}",
                        "type": "rate_limit_error" if answer.status == 429 else "scripted_error",
                        "code": str(answer.status)}}
                    self._send_json(answer.status, payload, answer.headers)
                    return
                completion, ident = _completion(model, body, answer)
                request.usage = completion["usage"]
                if body.get("stream"):
                    self._stream(completion, ident, body, answer)
                else:
                    self._send_json(200, completion, answer.headers)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout or cancel)
            finally:
                request.end = time.time()

        def _stream(self, completion: dict[str, Any], ident: str, body: dict[str, Any], answer: Response) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            base = {"id": ident, "object": "chat.completion.chunk", "created": completion["created"],
                    "model": completion["model"], "system_fingerprint": "fp_scripted"}
            text = answer.text
            pieces = [text[i:i + 16] for i in range(0, len(text), 16)] or [""]
            chunks = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                            "logprobs": None, "finish_reason": None}]}]
            chunks += [{**base, "choices": [{"index": 0, "delta": {"content": p}, "logprobs": None,
                                             "finish_reason": None}]} for p in pieces]
            chunks.append({**base, "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]})
            if (body.get("stream_options") or {}).get("include_usage"):
                chunks.append({**base, "choices": [], "usage": completion["usage"]})
            for chunk in chunks:
                self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

    return Handler


def load_script(path: Path) -> list[Rule]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"{path}: a script is a JSON list of rules")
    return [Rule.from_dict(item) for item in data]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a scripted OpenAI-compatible model on 127.0.0.1.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--script", type=Path, help="JSON list of rules")
    parser.add_argument("--log", type=Path, help="append every request as a JSON line here")
    args = parser.parse_args(argv)
    rules = load_script(args.script) if args.script else []
    server = ScriptedModel(rules, host=args.host, port=args.port, log_path=args.log)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    server.start()
    print(server.url, flush=True)
    try:
        while not done.wait(0.2):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
