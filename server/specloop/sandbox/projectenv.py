"""The project's own test setup: its pytest config and the Python that runs its tests.

A little over 400 lines: the config's readers (four file formats), what a run keeps of it,
and the search for the project's Python belong together (the sandbox asks all three).

**The pytest config** (:func:`pytest_config`): the first of ``pytest.toml``,
``.pytest.toml``, ``pytest.ini``, ``.pytest.ini``, ``pyproject.toml`` (with a
``[tool.pytest.ini_options]`` or ``[tool.pytest]`` table), ``tox.ini`` (``[pytest]``)
and ``setup.cfg`` (``[tool:pytest]``) in the module's folder or a folder above it,
as pytest looks for it, but never above the workspace (pytest would go on up: a
config above belongs to another project, and the sandbox shows only the workspace).
Its folder is the project root: tests run from there.  Read with ``tomllib`` and
``configparser``, never by running anything.

**The project's Python** (:func:`find_python`), the first that exists:

1. the ``python`` setting (a name on PATH, or a path relative to the workspace);
2. the workspace's ``.venv`` (uv's and poetry's in-project environment too; uv's
   ``UV_PROJECT_ENVIRONMENT`` where a ``uv.lock`` says uv manages the project),
   ``venv``, ``env`` (folders holding a ``pyvenv.cfg``);
3. a tox environment ``.tox/*`` that has pytest (the newest Python first);
4. poetry's environment of the project (``~/.cache/pypoetry/virtualenvs/<name>-<hash>-py*``,
   ``POETRY_VIRTUALENVS_PATH`` and ``POETRY_CACHE_DIR`` honoured);
5. ``$VIRTUAL_ENV`` when that environment is inside the workspace;
6. specloop's own Python.  Then the project's run loads no plugin of specloop's own
   environment (``PYTEST_DISABLE_PLUGIN_AUTOLOAD``): only the plugins the project's
   config names (``-p`` in ``addopts``, ``required_plugins``, ``asyncio_mode``...)
   and its conftest files; :func:`needed_plugins` lists the ones it names.
"""

from __future__ import annotations

import base64
import configparser
import hashlib
import os
import re
import shlex
import shutil
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    tomllib = None  # type: ignore[assignment]

__all__ = ["PytestConfig", "ProjectPython", "pytest_config", "find_python", "needed_plugins", "run_options",
           "module_name_for", "NO_PROJECT_PYTHON_HINT"]

CONFIG_FILES = ("pytest.toml", ".pytest.toml", "pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini",
                "setup.cfg")
NO_PROJECT_PYTHON_HINT = ("create .venv in the project with its test dependencies "
                          "(e.g. `python -m venv .venv && .venv/bin/pip install -e . pytest ...`), "
                          "or set python = \"path/to/python\" in [tool.specloop]")

# ini keys that belong to a plugin: the config names that plugin by setting them
PLUGIN_KEYS = {
    "asyncio_mode": "pytest-asyncio", "asyncio_default_fixture_loop_scope": "pytest-asyncio",
    "asyncio_default_test_loop_scope": "pytest-asyncio", "timeout": "pytest-timeout",
    "timeout_method": "pytest-timeout", "DJANGO_SETTINGS_MODULE": "pytest-django",
    "django_find_project": "pytest-django", "env": "pytest-env", "mock_use_standalone_module": "pytest-mock",
    "trio_mode": "pytest-trio", "anyio_mode": "anyio",
}


@dataclass(frozen=True)
class PytestConfig:
    """A project's pytest configuration, as pytest would read it."""

    root: Path                     # the project root: the config file's folder (pytest's rootdir)
    path: Path | None              # the config file; None: no config, the root is the workspace
    options: dict = field(default_factory=dict, hash=False, compare=False)   # key -> str | list[str]

    def value(self, key: str) -> str | None:
        raw = self.options.get(key)
        if raw is None:
            return None
        return " ".join(map(str, raw)) if isinstance(raw, list) else str(raw)

    def args(self, key: str) -> list[str] | None:
        """An "args" option (``testpaths``, ``python_files``, ``addopts``...): a TOML list
        as it is, an ini string split like a shell does; None when the config does not set it."""
        raw = self.options.get(key)
        if raw is None:
            return None
        if isinstance(raw, list):
            return [str(x) for x in raw]
        try:
            return shlex.split(str(raw))
        except ValueError:
            return str(raw).split()

    def lines(self, key: str) -> list[str]:
        """A "linelist" option (``filterwarnings``, ``markers``)."""
        raw = self.options.get(key)
        if raw is None:
            return []
        if isinstance(raw, list):
            return [str(x) for x in raw]
        return [line.strip() for line in str(raw).splitlines() if line.strip()]

    @property
    def testpaths(self) -> list[str]:
        return self.args("testpaths") or []

    @property
    def python_files(self) -> list[str]:
        return self.args("python_files") or ["test_*.py", "*_test.py"]

    @property
    def python_classes(self) -> list[str]:
        return self.args("python_classes") or ["Test"]

    @property
    def python_functions(self) -> list[str]:
        return self.args("python_functions") or ["test"]

    @property
    def doctest_optionflags(self) -> list[str]:
        """Names of the doctest option flags the project's doctests run with: its
        ``doctest_optionflags``; pytest's default ``ELLIPSIS`` where it runs doctests with
        pytest (``--doctest-modules`` in ``addopts``) without setting them; else none."""
        names = self.args("doctest_optionflags")
        if names is None:
            return ["ELLIPSIS"] if "--doctest-modules" in self.addopts else []
        return [n.strip() for n in names if n.strip()]

    @property
    def addopts(self) -> list[str]:
        return self.args("addopts") or []


def module_name_for(path: Path) -> tuple[str, Path]:
    """Dotted module name of ``path`` and the ``sys.path`` root to import it from.

    Walks up while the folder has ``__init__.py``; a ``src/`` layout needs no
    special case (``src/`` itself has no ``__init__.py``, so it is the root)."""
    path = Path(os.path.abspath(path))
    parts = [] if path.stem == "__init__" else [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts), folder


_configs: dict[tuple, tuple[tuple, PytestConfig]] = {}
_lock = threading.Lock()


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def pytest_config(workspace: Path, start: Path | None = None) -> PytestConfig:
    """The pytest config that applies to tests of ``start`` (a file or folder; default the
    workspace), remembered per file stamp.  No config file: the workspace is the root."""
    workspace = Path(os.path.abspath(workspace))
    folder = Path(os.path.abspath(start)) if start is not None else workspace
    if folder.suffix == ".py" or folder.is_file():
        folder = folder.parent
    for candidate in _upwards(folder, workspace):
        for name in CONFIG_FILES:
            path = candidate / name
            stamp = _stamp(path)
            if stamp is None:
                continue
            key = (str(path),)
            with _lock:
                hit = _configs.get(key)
            if hit is not None and hit[0] == stamp:
                config: PytestConfig | None = hit[1]
            else:
                options = _read(path)
                config = PytestConfig(candidate, path, options) if options is not None else None
                if config is not None:
                    with _lock:
                        _configs[key] = (stamp, config)
            if config is not None:
                return config
    return PytestConfig(workspace, None, {})


def _upwards(folder: Path, workspace: Path) -> list[Path]:
    """The folders pytest looks at, from ``folder`` up to the workspace (never above it: a
    config there belongs to another project, and the sandbox shows the workspace only)."""
    if folder != workspace and workspace not in folder.parents:
        return [folder]
    out = [folder]
    while out[-1] != workspace:
        out.append(out[-1].parent)
    return out


def _read(path: Path) -> dict | None:
    """The pytest options in ``path``; None when the file holds no pytest section."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    name = path.name
    if name.endswith(".toml"):
        if tomllib is None:
            return None
        try:
            data = tomllib.loads(text)
        except (tomllib.TOMLDecodeError, ValueError):
            return None
        if name in ("pytest.toml", ".pytest.toml"):
            table = data.get("pytest", data)
            return dict(table) if isinstance(table, dict) else {}
        tool = data.get("tool", {}).get("pytest") if isinstance(data.get("tool"), dict) else None
        if not isinstance(tool, dict):
            return None
        ini = tool.get("ini_options")
        if isinstance(ini, dict):
            return dict(ini)
        return {k: v for k, v in tool.items() if k != "ini_options"}
    section = {"pytest.ini": "pytest", ".pytest.ini": "pytest", "tox.ini": "pytest", "setup.cfg": "tool:pytest"}[name]
    parser = configparser.RawConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # keys keep their case (DJANGO_SETTINGS_MODULE)
    try:
        parser.read_string(text, str(path))
    except configparser.Error:
        return {} if name in ("pytest.ini", ".pytest.ini") else None
    if not parser.has_section(section):
        return {} if name in ("pytest.ini", ".pytest.ini") else None   # pytest.ini counts even when empty
    return {k: v for k, v in parser.items(section)}


def needed_plugins(config: PytestConfig) -> list[tuple[str, str, str]]:
    """(plugin, why, kind) for each plugin the project's config asks for: ``-p NAME`` in
    ``addopts`` (kind ``p``: a module or an entry-point name), each of ``required_plugins``
    (``required``: a distribution, maybe with a version), a distribution whose own ini key
    the config sets (``key``; ``asyncio_mode`` for pytest-asyncio...)."""
    out: list[tuple[str, str, str]] = []
    opts = config.addopts
    for i, arg in enumerate(opts):
        name = None
        if arg == "-p" and i + 1 < len(opts):
            name = opts[i + 1]
        elif arg.startswith("-p") and len(arg) > 2 and arg[2] != "-":
            name = arg[2:].lstrip("=")
        if name and not name.startswith("no:"):
            out.append((name, f"-p {name} in addopts", "p"))
    for req in config.args("required_plugins") or []:
        out.append((req, "required_plugins", "required"))
    asyncio_opt = any(a.startswith("--asyncio-mode") for a in config.addopts)
    for key, dist in PLUGIN_KEYS.items():
        if (key in config.options or (key == "asyncio_mode" and asyncio_opt)) and \
                not any(_dist_name(p) == dist for p, _, _ in out):
            out.append((dist, f"{key} in the pytest config", "key"))
    return out


# options of addopts that keep their meaning when specloop runs chosen tests: the rest select,
# stop early, distribute, measure or report (-k, -m, -x, --lf, -n, --cov, -v...) and are dropped
_KEPT_FLAGS = ("--strict-markers", "--strict-config", "--strict", "--disable-warnings", "--disable-pytest-warnings")
_KEPT_WITH_VALUE = ("--import-mode", "-W", "--pythonwarnings", "-o", "--override-ini")


def run_options(config: PytestConfig) -> tuple[list[str], list[str]]:
    """(kept, dropped): the options of the project's ``addopts`` a run of chosen tests keeps
    (``--import-mode``, ``-W``, ``-o``, ``--strict-markers``..., ``--asyncio-mode`` as
    ``-o asyncio_mode``) and the ones it drops.  ``-p`` plugins are :func:`needed_plugins`'."""
    kept: list[str] = []
    dropped: list[str] = []
    opts = config.addopts
    i = 0
    while i < len(opts):
        arg = opts[i]
        name, eq, value = arg.partition("=")
        if arg in _KEPT_FLAGS:
            kept.append(arg)
        elif name in _KEPT_WITH_VALUE and (eq or i + 1 < len(opts)):
            if not eq:
                i += 1
                value = opts[i]
            kept += [name, value]
        elif arg.startswith("-W") and len(arg) > 2:
            kept += ["-W", arg[2:]]
        elif name == "--asyncio-mode" and (eq or i + 1 < len(opts)):
            if not eq:
                i += 1
                value = opts[i]
            kept += ["-o", f"asyncio_mode={value}"]
        elif arg == "-p" and i + 1 < len(opts):
            i += 1
            if opts[i].startswith("no:"):
                kept += ["-p", opts[i]]
        elif arg.startswith("-p") and len(arg) > 2 and arg[2] != "-":
            if arg[2:].lstrip("=").startswith("no:"):
                kept += ["-p", arg[2:].lstrip("=")]
        else:
            dropped.append(arg)
        i += 1
    return kept, dropped


def _dist_name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


# -- the project's Python --------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectPython:
    """The Python that runs a project's tests, and where it was found."""

    path: str
    source: str          # "setting", "workspace .venv", "tox env py312", "poetry env", "$VIRTUAL_ENV", "specloop's own"
    own: bool = False    # specloop's own Python: the project's run loads none of its plugins

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "source": self.source}


def _venv_python(folder: Path) -> Path | None:
    python = folder / "bin" / "python"
    return python if (folder / "pyvenv.cfg").is_file() and python.exists() else None


def _has_pytest(venv: Path) -> bool:
    return any(venv.glob("lib/python*/site-packages/pytest/__init__.py")) or \
        any(venv.glob("lib/python*/site-packages/_pytest/__init__.py"))


def _version_key(venv: Path) -> tuple:
    found = re.findall(r"\d+", " ".join(p.name for p in venv.glob("lib/python*")))
    return tuple(int(x) for x in found[:2]) or (0,)


def find_python(setting: str | None, workspace: Path, environ: dict[str, str] | None = None) -> ProjectPython:
    """The project's Python (see the module docstring for the order).  Symlinks are kept:
    a venv's python must be started through its own path."""
    environ = dict(os.environ) if environ is None else environ
    workspace = Path(os.path.abspath(workspace))
    if setting:
        chosen = os.path.expanduser(setting)
        if os.sep not in chosen:
            return ProjectPython(shutil.which(chosen) or chosen, "setting")
        return ProjectPython(chosen if os.path.isabs(chosen) else str(workspace / chosen), "setting")
    uv = (workspace / "uv.lock").is_file()
    if uv and environ.get("UV_PROJECT_ENVIRONMENT"):
        folder = Path(os.path.expanduser(environ["UV_PROJECT_ENVIRONMENT"]))
        python = _venv_python(folder if folder.is_absolute() else workspace / folder)
        if python is not None:
            return ProjectPython(str(python), "uv UV_PROJECT_ENVIRONMENT")
    for name in (".venv", "venv", "env"):
        python = _venv_python(workspace / name)
        if python is None and name == ".venv" and (workspace / name / "bin" / "python").exists():
            python = workspace / name / "bin" / "python"     # a .venv without pyvenv.cfg (conda-style, tests)
        if python is not None:
            return ProjectPython(str(python), f"workspace {name}" + (" (uv)" if uv and name == ".venv" else ""))
    tox = sorted((d for d in (workspace / ".tox").glob("*") if _venv_python(d) is not None and _has_pytest(d)),
                 key=lambda d: (_version_key(d), d.name), reverse=True) if (workspace / ".tox").is_dir() else []
    if tox:
        return ProjectPython(str(_venv_python(tox[0])), f"tox env {tox[0].name}")
    poetry = _poetry_env(workspace, environ)
    if poetry is not None:
        return ProjectPython(str(poetry), "poetry env")
    active = environ.get("VIRTUAL_ENV")
    if active:
        folder = Path(os.path.abspath(active))
        python = _venv_python(folder)
        if python is not None and (folder == workspace or workspace in folder.parents):
            return ProjectPython(str(python), "$VIRTUAL_ENV")
    return ProjectPython(sys.executable, "specloop's own", own=True)


def _project_name(workspace: Path) -> str | None:
    if tomllib is None:
        return None
    try:
        data = tomllib.loads((workspace / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    tool = data.get("tool", {}).get("poetry", {}) if isinstance(data.get("tool"), dict) else {}
    name = (tool.get("name") if isinstance(tool, dict) else None) or (data.get("project") or {}).get("name")
    return str(name) if name else None


def _poetry_env(workspace: Path, environ: dict[str, str]) -> Path | None:
    """Poetry's environment of the project (its name as poetry makes it: the project's name,
    then 8 characters of the sha256 of the project folder, then the Python version)."""
    if not (workspace / "poetry.lock").is_file() and "[tool.poetry" not in _text(workspace / "pyproject.toml"):
        return None
    name = _project_name(workspace)
    if not name:
        return None
    if environ.get("POETRY_VIRTUALENVS_PATH"):
        base = Path(os.path.expanduser(environ["POETRY_VIRTUALENVS_PATH"]))
    elif environ.get("POETRY_CACHE_DIR"):
        base = Path(os.path.expanduser(environ["POETRY_CACHE_DIR"])) / "virtualenvs"
    else:
        cache = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = Path(cache) / "pypoetry" / "virtualenvs"
    canonical = re.sub(r"[-_.]+", "-", name).lower()
    sanitized = re.sub(r'[ $`!*@"\\\r\n\t]', "_", canonical)[:42]
    digest = hashlib.sha256(os.path.normcase(os.path.realpath(workspace)).encode()).digest()
    prefix = f"{sanitized}-{base64.urlsafe_b64encode(digest).decode()[:8]}-py"
    try:
        found = [d for d in base.iterdir() if d.name.startswith(prefix) and _venv_python(d) is not None]
    except OSError:
        return None
    if not found:
        return None
    best = max(found, key=lambda d: tuple(int(x) for x in re.findall(r"\d+", d.name[len(prefix):])[:2]) or (0,))
    return _venv_python(best)


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
