"""A run's pytest command line: the test files, the project's root, config and options, and the
plugins its config asks for (loaded by name unless plugin autoload is on).

Part of the runner (see ``runner.py``); loaded as ``_specloop_child.pytestargs``.
"""

from __future__ import annotations

import importlib.util
import os


def pytest_args(req, run, tests_dir, plugins=()):
    """The command line of a run: the test files, the project's root, config file and the
    options of its ``addopts`` that keep their meaning here (chosen by the sandbox), and
    the plugins it asks for (``plugins``: ``-p`` arguments)."""
    user_files = []
    for u in req["user_tests"]:
        if u["path"] not in user_files:
            user_files.append(u["path"])
    ini = req.get("ini") or os.path.join(run, "pytest.ini")
    root = req.get("rootdir") or req["workspace"]
    args = [*(os.path.join(tests_dir, f["name"]) for f in req["files"]), *user_files,
            "-q", "-p", "no:cacheprovider", "--continue-on-collection-errors", "--rootdir", root,
            "--confcutdir", root, "-c", ini, "-o", "addopts=", *req.get("addopts", ()), *plugins,
            "--tb=short", "--color=no"]
    if not req.get("autoload"):
        if not req.get("own_python") and importlib.util.find_spec("pytest_asyncio") and \
                "pytest_asyncio.plugin" not in plugins and "asyncio" not in plugins:
            args += ["-p", "pytest_asyncio.plugin"]  # the project's own: async model tests keep working
    return args


def _requirement_name(text):
    name = text.strip()
    for i, ch in enumerate(name):
        if ch in " <>=!~;[":
            return name[:i]
    return name


def _entry_points(dist_name):
    """(name, module) of the pytest11 entry points of an installed distribution; None: not installed."""
    try:
        from importlib import metadata
    except ImportError:
        return None
    for name in dict.fromkeys([dist_name, dist_name.replace("-", "_"), dist_name.replace("_", "-")]):
        try:
            dist = metadata.distribution(name)
        except Exception:
            continue
        return [(ep.name, ep.value.split(":")[0]) for ep in dist.entry_points if ep.group == "pytest11"]
    return None


def _importable(name):
    try:
        from importlib import metadata
        eps = metadata.entry_points()
        group = eps.select(group="pytest11") if hasattr(eps, "select") else eps.get("pytest11", [])
        if any(ep.name == name for ep in group):
            return True
    except Exception:
        pass
    try:
        return importlib.util.find_spec(name) is not None
    except Exception:
        return False


def plugin_args(req):
    """(``-p`` arguments, [(plugin, why)] missing) for the plugins the project's config asks
    for (``req["plugins"]``: [name, why, kind]; kind ``p`` a ``-p`` of addopts, ``required`` a
    requirement of required_plugins, ``key`` the distribution of an ini key it sets).  With
    plugin autoload on they load by themselves; otherwise each is loaded by name, and no other."""
    args, missing = [], []
    for name, why, kind in req.get("plugins", ()):
        if kind == "p":
            if _importable(name):
                args += ["-p", name]
            else:
                missing.append((name, why, kind))
            continue
        eps = _entry_points(_requirement_name(name))
        if eps is None:
            missing.append((name, why, kind))
        elif not req.get("autoload"):
            for ep, module in eps:
                if ep not in args and module not in args:   # not twice: once as a -p of addopts
                    args += ["-p", ep]
    return args, missing
