"""Settings from the editor, layered over the engine's own sources.

The editor's values come from, lowest first: ``initializationOptions`` (a dict
of :class:`~specloop.settings.Settings` fields, either flat or under a
``"specloop"`` key), then the ``specloop`` section of ``workspace/configuration``
per workspace folder (pulled at ``initialized`` and again on
``workspace/didChangeConfiguration`` where the client supports the request),
else the ``settings`` pushed with ``didChangeConfiguration``.  Keys may be
snake_case or camelCase (``apiBase``); ``null`` values mean "not set".

Everything is handed to :func:`~specloop.settings.load_settings`, which adds
the environment and ``[tool.specloop]`` underneath.  A bad editor value does
not stop a job: the key is dropped (its default or lower layer applies) and
the user is told once, in one message naming the key.  A broken lower layer
(environment or pyproject) falls back to the defaults plus the editor's valid
values, with one message too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..settings import Settings, SettingsError, load_settings, validate_layer

ORIGIN = "editor settings"
SECTION = "specloop"

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def _snake(key: str) -> str:
    return _CAMEL.sub("_", key).replace("-", "_").lower()


def normalize(raw: Any) -> dict[str, Any]:
    """A client's settings object -> Settings field names (unset values dropped)."""
    if not isinstance(raw, Mapping):
        return {}
    if SECTION in raw and isinstance(raw[SECTION], Mapping):
        raw = raw[SECTION]
    return {_snake(str(k)): v for k, v in raw.items() if v is not None}


class ClientSettings:
    """Holds the editor's layers and turns them into Settings for a file."""

    def __init__(self, notify: Callable[[str], None]) -> None:
        self._notify = notify
        self.init_options: dict[str, Any] = {}
        self.pushed: dict[str, Any] = {}
        self.folders: dict[str, dict[str, Any]] = {}   # folder path -> workspace/configuration values
        self.global_pulled: dict[str, Any] = {}
        self._told: set[str] = set()

    def overrides_for(self, folder: Path | None) -> dict[str, Any]:
        values = {**self.init_options, **self.pushed, **self.global_pulled}
        if folder is not None:
            values.update(self.folders.get(str(folder), {}))
        return values

    def _valid(self, values: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
        good: dict[str, Any] = {}
        problems: list[str] = []
        for key, value in values.items():
            try:
                good.update(validate_layer({key: value}, ORIGIN))
            except SettingsError as exc:
                problems.append(str(exc))
        return good, problems

    def settings_for(self, folder: Path | None) -> Settings:
        """Settings for jobs in ``folder``; never raises (see the module doc)."""
        good, problems = self._valid(self.overrides_for(folder))
        try:
            settings = load_settings(folder, good, overrides_origin=ORIGIN)
        except SettingsError as exc:
            problems.append(str(exc))
            settings = Settings.model_validate(good)
        if problems:
            self.tell("; ".join(problems) + " (defaults used)")
        return settings

    def tell(self, message: str) -> None:
        """Show a settings problem once per distinct message."""
        if message not in self._told:
            self._told.add(message)
            self._notify(f"specloop: {message}")

    def forget_messages(self) -> None:
        """After the user changed settings, the same problem may be told again."""
        self._told.clear()
