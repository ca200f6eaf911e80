"""The one settings model of specloop, and where its values come from.

Lowest precedence first: the defaults below, ``SPECLOOP_*`` environment
variables, ``[tool.specloop]`` in the nearest ``pyproject.toml``, then the front
end's own overrides (command-line flags, or the editor's settings).  An unknown
key or a bad value raises :class:`SettingsError` with a one-line message that
names the key and where it came from.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

ENV_PREFIX = "SPECLOOP_"


class SettingsError(ValueError):
    """A setting that is unknown or has a bad value (message is one line)."""


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)

    # -- model --------------------------------------------------------------
    model: str | None = Field(None, description="litellm model name, e.g. openai/gpt-4o-mini; "
                              "unset: the embedded local model when installed")
    api_base: str | None = Field(None, description="base URL of an OpenAI-compatible or other litellm endpoint")
    temperature: float = Field(0.2, ge=0, le=2)
    request_timeout: float = Field(60.0, gt=0, description="seconds per model request")
    max_retries: int = Field(3, ge=0, le=10, description="retries on 429/5xx/timeouts, with backoff")
    token_budget: int = Field(40000, gt=0, description="prompt+completion tokens one job may spend")
    cost_budget_usd: float | None = Field(None, gt=0, description="dollars one job may spend")
    cache: bool = Field(False, description="cache model replies on disk under .specloop/cache")
    record_dir: str | None = Field(None, description="store every model exchange of a job (request, reply, usage) "
                                   "under this folder, relative to the workspace (specloop run --record DIR)")
    replay_dir: str | None = Field(None, description="answer every model request from the exchanges recorded "
                                   "under this folder, sending none; a request not recorded there is an error "
                                   "(specloop run --replay DIR)")

    # -- loop ---------------------------------------------------------------
    max_iterations: int = Field(3, ge=1, le=20, description="generate + fix rounds per target")
    candidates: int = Field(1, ge=1, le=8, description="first candidates, each its own sample (seed, temperature)")
    sample_temperature: float = Field(0.8, ge=0, le=2, description="temperature of every sample after the "
                                      "first (which uses temperature): extra candidates and resamples")
    model_tests: bool = Field(True, description="ask the model for extra (advisory) tests")
    critic: bool = Field(True, description="ask a critic to review the passing code")
    review_rounds: int = Field(1, ge=0, le=5, description="class specs: rounds of a review of the whole class "
                               "followed by fixes of the methods it flags (0: no review)")
    context_tokens: int = Field(4000, ge=200, description="token bound of the context the model sees")
    keep_tests: bool = Field(True, description="write kept model tests to tests_path")
    tests_path: str = Field("tests/test_{module}_specloop.py",
                            description="where kept tests go, relative to the workspace; {module} is the file's stem")

    # -- sandbox ------------------------------------------------------------
    sandbox: Literal["auto", "bwrap", "process"] = Field(
        "auto", description="auto/bwrap: tests run under bubblewrap, and not at all where it does not work; "
        "process: without isolation, with your own rights (opt in knowingly)")
    python: str | None = Field(None, description="Python that runs the tests; default: the project's environment "
                               "(.venv, venv, env, .tox, poetry's), else specloop's own")
    test_timeout: float = Field(20.0, gt=0, description="wall seconds per sandbox run")
    memory_mb: int = Field(1024, ge=64, description="address-space limit of a sandbox run")
    cpu_seconds: int = Field(15, ge=1, description="CPU-time limit of a sandbox run")

    # -- front ends ---------------------------------------------------------
    trace: bool = Field(True, description="append a JSONL trace per job under .specloop/runs")
    parallel_jobs: int = Field(2, ge=1, le=16, description="jobs the server runs at once; the rest queue")
    confirm_edits: bool = Field(False, description="ask the editor to preview edits before applying")


FIELDS = tuple(Settings.model_fields)


def _coerce_env(key: str, raw: str) -> Any:
    """Environment values are strings; let pydantic coerce, but map '' to None."""
    return None if raw == "" else raw


# SPECLOOP_* variables that are not settings but are read elsewhere (not typos)
OTHER_VARIABLES = {"SPECLOOP_LOCAL_THREADS", "SPECLOOP_LOG_LEVEL", "SPECLOOP_SANDBOX_RUN", "SPECLOOP_REQUIRE_E2E",
                   "SPECLOOP_BENCH_DEBUG"}


def suggestion(key: str) -> str:
    """" (did you mean 'model'?)" for a near miss of a setting's name, else ""."""
    close = difflib.get_close_matches(key.lower().replace("-", "_"), FIELDS, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def unknown_env(env: Mapping[str, str] | None = None) -> list[str]:
    """One warning per ``SPECLOOP_*`` variable that is neither a setting nor one of ours."""
    env = os.environ if env is None else env
    return [f"ignoring {name}: not a specloop setting{suggestion(name[len(ENV_PREFIX):])}"
            for name in sorted(env) if name.startswith(ENV_PREFIX) and name not in OTHER_VARIABLES
            and name[len(ENV_PREFIX):].lower() not in FIELDS]


def from_env(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    for name, raw in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        key = name[len(ENV_PREFIX):].lower()
        if key not in FIELDS:
            continue  # other SPECLOOP_* variables are not settings (front ends warn: unknown_env)
        values[key] = _coerce_env(key, raw)
    return values


def find_pyproject(start: Path) -> Path | None:
    start = start.resolve()
    for folder in [start, *start.parents] if start.is_dir() else start.parents:
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def from_pyproject(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{path}: cannot read [tool.specloop]: {exc}") from None
    table = data.get("tool", {}).get("specloop", {})
    if not isinstance(table, dict):
        raise SettingsError(f"{path}: [tool.specloop] must be a table")
    return {key.replace("-", "_"): value for key, value in table.items()}


def validate_layer(values: Mapping[str, Any], origin: str) -> dict[str, Any]:
    """Check one layer on its own so an error names the layer it came from."""
    for key in values:
        if key not in FIELDS:
            raise SettingsError(f"unknown setting '{key}' in {origin}{suggestion(str(key))}")
    try:
        checked = Settings.model_validate(dict(values))
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "?"
        raise SettingsError(f"bad value for setting '{key}' in {origin}: {err['msg']}") from None
    return {key: getattr(checked, key) for key in values}


def load_settings(
    workspace: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides_origin: str = "command-line flags",
) -> Settings:
    """Merge defaults < environment < [tool.specloop] < overrides into one Settings."""
    pyproject = find_pyproject(workspace) if workspace is not None else None
    clean = {k: v for k, v in (overrides or {}).items() if v is not None}
    layers = [(from_env(env), "the environment (SPECLOOP_*)"), (from_pyproject(pyproject), str(pyproject)),
              (clean, overrides_origin)]
    merged: dict[str, Any] = {}
    for values, origin in layers:
        merged.update(validate_layer(values, origin))
    _one_recording(merged, layers)
    for key in RECORDING:
        if merged.get(key) and workspace is not None:
            merged[key] = str(workspace / Path(merged[key]).expanduser())   # an absolute path stays as it is
    return Settings.model_validate(merged)


RECORDING = ("record_dir", "replay_dir")


def _one_recording(merged: Mapping[str, Any], layers: list[tuple[Mapping[str, Any], str]]) -> None:
    """A run records or replays, not both: name where each of the two came from."""
    if not all(merged.get(key) for key in RECORDING):
        return
    origins = [f"{key} from {next(o for values, o in reversed(layers) if values.get(key) is not None)}"
               for key in RECORDING]
    raise SettingsError(f"record_dir and replay_dir are both set ({', '.join(origins)}): "
                        "a run either records or replays")
