"""The project's pytest config and the Python that runs its tests (projectenv.py)."""

from __future__ import annotations

import base64
import hashlib
import os
import sys
import textwrap
from pathlib import Path

from specloop.sandbox.projectenv import find_python, needed_plugins, pytest_config, run_options


def venv(folder: Path, *, pytest: bool = False, version: str = "3.11") -> Path:
    """A fake virtualenv: pyvenv.cfg and bin/python (a link to this Python), site-packages."""
    (folder / "bin").mkdir(parents=True)
    (folder / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (folder / "bin" / "python").symlink_to(sys.executable)
    site = folder / "lib" / f"python{version}" / "site-packages"
    site.mkdir(parents=True)
    if pytest:
        (site / "pytest").mkdir()
        (site / "pytest" / "__init__.py").write_text("")
    return folder / "bin" / "python"


# -- the Python --------------------------------------------------------------------------------------

def test_the_setting_comes_first_then_the_workspace_venvs(tmp_path: Path) -> None:
    assert find_python(None, tmp_path, {}).as_dict() == {"path": sys.executable, "source": "specloop's own"}
    assert find_python(None, tmp_path, {}).own
    env = venv(tmp_path / "env")
    assert find_python(None, tmp_path, {}).as_dict() == {"path": str(env), "source": "workspace env"}
    plain = venv(tmp_path / "venv")
    assert find_python(None, tmp_path, {}).path == str(plain)
    dot = venv(tmp_path / ".venv")
    (tmp_path / "uv.lock").write_text("")
    found = find_python(None, tmp_path, {})
    assert (found.path, found.source, found.own) == (str(dot), "workspace .venv (uv)", False)
    assert find_python("tools/py", tmp_path, {}).as_dict() == {"path": str(tmp_path / "tools/py"), "source": "setting"}
    assert find_python("/opt/py/bin/python3", tmp_path, {}).path == "/opt/py/bin/python3"


def test_a_folder_named_env_without_pyvenv_cfg_is_not_an_environment(tmp_path: Path) -> None:
    (tmp_path / "env" / "bin").mkdir(parents=True)
    (tmp_path / "env" / "bin" / "python").symlink_to(sys.executable)
    assert find_python(None, tmp_path, {}).own


def test_a_tox_env_with_pytest_the_newest_python_first(tmp_path: Path) -> None:
    venv(tmp_path / ".tox" / "lint")                                   # no pytest
    venv(tmp_path / ".tox" / "py39", pytest=True, version="3.9")
    newest = venv(tmp_path / ".tox" / "py312", pytest=True, version="3.12")
    assert find_python(None, tmp_path, {}).as_dict() == {"path": str(newest), "source": "tox env py312"}


def test_poetry_s_environment_of_the_project(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text('[tool.poetry]\nname = "My_Lib"\n')
    (project / "poetry.lock").write_text("")
    digest = base64.urlsafe_b64encode(hashlib.sha256(os.path.realpath(project).encode()).digest()).decode()[:8]
    envs = tmp_path / "cache" / "pypoetry" / "virtualenvs"
    venv(envs / f"other-{digest}-py3.11")                               # another project's
    python = venv(envs / f"my-lib-{digest}-py3.11")
    found = find_python(None, project, {"XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert found.as_dict() == {"path": str(python), "source": "poetry env"}
    assert find_python(None, project, {"POETRY_VIRTUALENVS_PATH": str(envs)}).path == str(python)


def test_virtual_env_counts_only_inside_the_workspace(tmp_path: Path) -> None:
    inside = venv(tmp_path / "ws" / "tools" / "pyenv")
    outside = tmp_path / "elsewhere"
    venv(outside)
    assert find_python(None, tmp_path / "ws", {"VIRTUAL_ENV": str(outside)}).own
    found = find_python(None, tmp_path / "ws", {"VIRTUAL_ENV": str(inside.parent.parent)})
    assert found.as_dict() == {"path": str(inside), "source": "$VIRTUAL_ENV"}


# -- the pytest config ----------------------------------------------------------------------------------

def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


def test_config_files_in_pytest_s_order_and_formats(tmp_path: Path) -> None:
    assert pytest_config(tmp_path).path is None and pytest_config(tmp_path).root == tmp_path
    write(tmp_path / "setup.cfg", "[tool:pytest]\ntestpaths = t1 t2\npython_classes = *Suite\n")
    config = pytest_config(tmp_path)
    assert (config.path.name, config.testpaths, config.python_classes) == ("setup.cfg", ["t1", "t2"], ["*Suite"])
    write(tmp_path / "tox.ini", "[tox]\nenvlist = py\n")                  # no [pytest]: not a config
    assert pytest_config(tmp_path).path.name == "setup.cfg"
    write(tmp_path / "pyproject.toml", """\
        [tool.pytest.ini_options]
        testpaths = ["tests"]
        doctest_optionflags = "NUMBER ELLIPSIS"
        addopts = "-p xdist --import-mode=importlib -W error::UserWarning -x -k 'not slow' --cov=pkg -pno:randomly"
        required_plugins = "pytest-mock>=3"
        asyncio_mode = "auto"
        """)
    config = pytest_config(tmp_path)
    assert config.path.name == "pyproject.toml" and config.root == tmp_path
    assert config.testpaths == ["tests"] and config.python_files == ["test_*.py", "*_test.py"]
    assert config.doctest_optionflags == ["NUMBER", "ELLIPSIS"]
    assert run_options(config) == (["--import-mode", "importlib", "-W", "error::UserWarning", "-p", "no:randomly"],
                                   ["-x", "-k", "not slow", "--cov=pkg"])
    assert needed_plugins(config) == [("xdist", "-p xdist in addopts", "p"),
                                      ("pytest-mock>=3", "required_plugins", "required"),
                                      ("pytest-asyncio", "asyncio_mode in the pytest config", "key")]
    write(tmp_path / "pytest.ini", "")                                     # even empty, pytest.ini wins
    assert pytest_config(tmp_path).path.name == "pytest.ini" and pytest_config(tmp_path).testpaths == []


def test_native_toml_config_and_the_nearest_folder_above_the_module(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path / "pytest.ini", "[pytest]\ntestpaths = all\n")
    write(tmp_path / "sub" / "pyproject.toml", '[tool.pytest]\ntestpaths = ["tests"]\nxfail_strict = true\n')
    write(tmp_path / "sub" / "pkg" / "mod.py", "")
    write(tmp_path / "other" / "pyproject.toml", '[project]\nname = "other"\n')
    config = pytest_config(tmp_path / "sub", tmp_path / "sub" / "pkg" / "mod.py")
    assert (config.root, config.testpaths, config.options["xfail_strict"]) == (tmp_path / "sub", ["tests"], True)
    # never above the workspace: a config there is another project's (pytest would go on up)
    assert pytest_config(tmp_path / "other", tmp_path / "other").path is None


def test_doctest_flags_default_as_pytest_s_only_where_pytest_runs_doctests(tmp_path: Path) -> None:
    write(tmp_path / "pytest.ini", "[pytest]\naddopts = --doctest-modules\n")
    assert pytest_config(tmp_path).doctest_optionflags == ["ELLIPSIS"]
    write(tmp_path / "pytest.ini", "[pytest]\naddopts = -q\n")
    assert pytest_config(tmp_path).doctest_optionflags == []
