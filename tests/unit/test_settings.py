"""Settings: near misses get a suggestion, stray SPECLOOP_* variables a warning."""

from __future__ import annotations

import pytest

from specloop.settings import SettingsError, load_settings, unknown_env


def test_an_unknown_setting_names_the_setting_it_resembles(tmp_path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.specloop]\ncandidtes = 3\n")
    with pytest.raises(SettingsError) as info:
        load_settings(tmp_path, env={})
    assert str(info.value).endswith("unknown setting 'candidtes' in "
                                    f"{tmp_path / 'pyproject.toml'} (did you mean 'candidates'?)")


def test_stray_specloop_variables_are_warned_about_and_ours_are_not() -> None:
    env = {"SPECLOOP_MODEL": "m", "SPECLOOP_MAX_ITERATION": "2", "SPECLOOP_LOG_LEVEL": "debug",
           "SPECLOOP_XYZZY": "1", "OTHER": "x"}
    assert unknown_env(env) == [
        "ignoring SPECLOOP_MAX_ITERATION: not a specloop setting (did you mean 'max_iterations'?)",
        "ignoring SPECLOOP_XYZZY: not a specloop setting"]
    assert load_settings(None, env=env).model == "m"
