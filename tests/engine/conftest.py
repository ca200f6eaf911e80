"""Helpers for the engine tests: a workspace with a module, and scripted replies."""

from __future__ import annotations

from pathlib import Path

import pytest

from specloop.settings import Settings, load_settings


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n", encoding="utf-8")
    return tmp_path


@pytest.fixture
def make_settings(model_env):
    """Settings pointing at the scripted model; keyword arguments override."""

    def make(workspace: Path, **overrides) -> Settings:
        values = {"sandbox": "auto", "test_timeout": 10.0, "model_tests": False, "critic": False,
                  "request_timeout": 5.0, "max_retries": 1, **model_env, **overrides}
        return load_settings(workspace, values)

    return make
