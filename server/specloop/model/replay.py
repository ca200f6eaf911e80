"""Record and replay of model exchanges: a run reproduced exactly, without a model.

``record_dir`` (``specloop run --record DIR``) stores every exchange of a job's
:class:`~specloop.model.ModelClient`; ``replay_dir`` (``--replay DIR``) answers
every request from what was stored there, sends nothing, and fails with a
:class:`ReplayMiss` (a :class:`~specloop.model.ModelError` of kind ``config``)
on a request it has not seen.  The job then ends as ``error`` with that one
line.  The two settings exclude each other.

Decisions:

* An exchange is keyed by its step, its target (the qualified name), and a
  hash of the exact request: the model name, the messages as sent (after
  redaction), and the sample's temperature and seed.  ``api_base`` is not in
  the key, so a recording replays wherever it is checked out, but the model
  name is: replay with the model the recording was made with.
* Whatever the client returned is recorded, including replies the response
  cache served (with the usage they cost: none), so a recorded run replays
  without a model and with the same token and cost numbers.  A request that
  failed (HTTP error, timeout) is not recorded; nor is one the budget stopped
  before it was sent (a replay stops at the same place, as its numbers are
  the same).
* The same request asked more than once in one job is stored once per time it
  was asked (``.2``, ``.3`` ... before ``.json``) and answered in that order;
  a replay that asks it more often than the recording did gets the last one.
* Replay neither reads nor writes the response cache and never loads litellm
  or the local model.
* Nothing is global: each job's client has its own :class:`Exchanges`; the
  only shared state is the folder.  Recording again into the same folder
  overwrites the exchanges asked again and leaves the others (record into an
  empty folder to drop stale ones).

Storage: one JSON file per exchange, ``DIR/<target>.<step>.<hash>[.<n>].json``
(``<hash>``: the first 20 hex digits of the request's SHA-256), holding::

    {"format": 1, "step": "generate", "target": "area", "request": "<sha256>",
     "occurrence": 1, "model": "openai/gpt-4o-mini", "temperature": 0.2,
     "seed": null, "messages": [...], "reply": "...", "cached": false,
     "usage": {"prompt": 312, "completion": 41, "cost_usd": 0.0001, "calls": 1}}
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .request import ModelError, Sample
from ..results import Usage
from ..settings import Settings

FORMAT = 1
HASH_CHARS = 20
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class ReplayMiss(ModelError):
    """A request that the replayed recording does not hold."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "config")


@dataclass(frozen=True)
class Recorded:
    """One stored exchange, as a replay answers it."""

    reply: str
    usage: Usage
    cached: bool
    path: Path


def request_hash(step: str, target: str, model: str, messages: list[dict[str, Any]], sample: Sample) -> str:
    """SHA-256 (hex) of everything that makes a request this request."""
    key = json.dumps({"step": step, "target": target, "model": model, "messages": messages,
                      "temperature": sample.temperature, "seed": sample.seed},
                     sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


class Exchanges:
    """The recording of one job's model exchanges: written in ``record`` mode, read in
    ``replay`` mode."""

    def __init__(self, folder: Path | str, mode: str, *, model: str, target: str) -> None:
        if mode not in ("record", "replay"):
            raise ValueError(f"mode must be record or replay, not {mode!r}")
        self.folder = Path(folder)
        self.mode = mode
        self.model = model
        self.target = target
        self._asked: dict[str, int] = {}   # request hash -> times asked so far in this job

    @classmethod
    def for_settings(cls, settings: Settings, *, model: str, target: str) -> Exchanges | None:
        """The recording the settings ask for, or None.  Both set: a ``config`` ModelError."""
        if settings.record_dir and settings.replay_dir:
            raise ModelError(f"record_dir ({settings.record_dir}) and replay_dir ({settings.replay_dir}) are both "
                             "set: a run either records or replays", "config")
        if settings.replay_dir:
            return cls(Path(settings.replay_dir).expanduser(), "replay", model=model, target=target)
        if settings.record_dir:
            return cls(Path(settings.record_dir).expanduser(), "record", model=model, target=target)
        return None

    @property
    def replaying(self) -> bool:
        return self.mode == "replay"

    # -- keys ----------------------------------------------------------------
    def path_for(self, step: str, digest: str, occurrence: int = 1) -> Path:
        target = _UNSAFE.sub("_", self.target) or "_"
        suffix = "" if occurrence <= 1 else f".{occurrence}"
        return self.folder / f"{target}.{_UNSAFE.sub('_', step)}.{digest[:HASH_CHARS]}{suffix}.json"

    def _next(self, digest: str) -> int:
        self._asked[digest] = self._asked.get(digest, 0) + 1
        return self._asked[digest]

    # -- record ----------------------------------------------------------------
    def record(self, step: str, messages: list[dict[str, Any]], sample: Sample, reply: str,
               usage: Usage, *, cached: bool = False) -> Path:
        """Store one exchange (atomically: a reader never sees half a file).  An OSError
        (the folder cannot be written) propagates: a recording with holes is no recording."""
        digest = request_hash(step, self.target, self.model, messages, sample)
        occurrence = self._next(digest)
        path = self.path_for(step, digest, occurrence)
        data = {"format": FORMAT, "step": step, "target": self.target, "request": digest,
                "occurrence": occurrence, "model": self.model, "temperature": sample.temperature,
                "seed": sample.seed, "messages": messages, "reply": reply, "cached": cached,
                "usage": {"prompt": usage.prompt_tokens, "completion": usage.completion_tokens,
                          "cost_usd": usage.cost_usd, "calls": usage.calls}}
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, path)
        return path

    # -- replay ----------------------------------------------------------------
    def replay(self, step: str, messages: list[dict[str, Any]], sample: Sample) -> Recorded:
        """The recorded answer to this request, or :class:`ReplayMiss`."""
        digest = request_hash(step, self.target, self.model, messages, sample)
        occurrence = self._next(digest)
        for n in range(occurrence, 0, -1):     # asked more often than recorded: the last one
            path = self.path_for(step, digest, n)
            if path.is_file():
                return self._read(path, digest)
        raise ReplayMiss(self.miss_message(step, digest))

    def miss_message(self, step: str, digest: str) -> str:
        where = str(self.folder)
        return (f"replay: no recorded reply for step={step} target={self.target} "
                f"(request {digest[:12]}…) in {where}; record again with --record {where}")

    def _read(self, path: Path, digest: str) -> Recorded:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            reply = data["reply"]
            usage = data.get("usage") or {}
            recorded = Recorded(
                reply=reply, cached=bool(data.get("cached", False)), path=path,
                usage=Usage(prompt_tokens=int(usage.get("prompt", 0)),
                            completion_tokens=int(usage.get("completion", 0)),
                            cost_usd=float(usage.get("cost_usd", 0.0)), calls=int(usage.get("calls", 0))))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ReplayMiss(f"replay: recorded exchange {path} is unreadable: {_short(str(exc))}") from None
        if not isinstance(reply, str) or data.get("request") != digest:
            raise ReplayMiss(f"replay: recorded exchange {path} does not hold this request "
                             "(edited by hand?); record again")
        return recorded
