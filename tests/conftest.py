"""Shared fixtures: the scripted model server and the settings that point at it.

``LITELLM_LOCAL_MODEL_COST_MAP`` is set at import so no test makes litellm
fetch its price map from the internet.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

TESTS_DIR = Path(__file__).resolve().parent
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

from environment import EnvironmentMissing  # noqa: E402
from scripted_model import ScriptedModel  # noqa: E402

FAKE_OPENAI_KEY = "sk-test-not-a-real-key"


@pytest.fixture
def scripted_model() -> Iterator[ScriptedModel]:
    """A fresh scripted OpenAI-compatible server on 127.0.0.1 (no rules yet)."""
    with ScriptedModel() as server:
        yield server


@pytest.fixture
def model_env(scripted_model: ScriptedModel, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Settings overrides that send every model call to ``scripted_model``.

    Sets a fake OPENAI_API_KEY (litellm's openai provider wants one) and removes
    SPECLOOP_MODEL / SPECLOOP_API_BASE from the environment so a developer's own
    configuration cannot leak into a test."""
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_OPENAI_KEY)
    for name in ("SPECLOOP_MODEL", "SPECLOOP_API_BASE", "OPENAI_BASE_URL", "OPENAI_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    return {"model": "openai/scripted", "api_base": scripted_model.url}


# Environment skips (bubblewrap, an editor, the local model; see tests/environment.py) are
# failures where SPECLOOP_REQUIRE_E2E=1 (CI): a missing install must not pass as "skipped".
def pytest_configure(config):
    config.addinivalue_line("markers", "environment: a skip of this test is a missing environment "
                                       "(a failure under SPECLOOP_REQUIRE_E2E=1)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("SPECLOOP_REQUIRE_E2E") != "1" or not report.skipped:
        return
    said = call.excinfo is not None and call.excinfo.errisinstance(EnvironmentMissing)
    if said or item.get_closest_marker("environment") is not None:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"SPECLOOP_REQUIRE_E2E=1: environment skip is a failure here: {reason}"
