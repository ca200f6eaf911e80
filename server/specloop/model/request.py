"""What one model request is (:class:`Sample`: how it samples) and how it fails for good
(:class:`ModelError`).  Shared by the client and record/replay, which import nothing of each other's."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sample:
    """How one request samples: its own seed and temperature.  Requests that differ in
    their sample are different questions to the model and to the response cache."""

    temperature: float
    seed: int | None = None


class ModelError(Exception):
    """A model call that failed for good.  ``kind`` is one of ``client.KINDS``;
    ``str(e)`` is one line meant for the user."""

    def __init__(self, message: str, kind: str = "http", *, status: int | None = None) -> None:
        super().__init__(" ".join(str(message).split()))
        self.kind = kind
        self.status = status


class BudgetExceeded(ModelError):
    def __init__(self, message: str) -> None:
        super().__init__(message, "budget")
