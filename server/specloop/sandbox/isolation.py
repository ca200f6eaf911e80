"""What a sandbox run may see: the bubblewrap view, and whether bubblewrap works here.

Under bubblewrap a run sees only what tests need, all read-only unless said:

* the system: ``/usr`` (``/bin``, ``/lib``... as their symlinks or binds), and a
  short list of files under ``/etc`` (dynamic linker cache, time zone, users,
  TLS certificates, alternatives);
* the Python that runs the tests: its prefixes and every folder on its
  ``sys.path`` (site-packages, editable installs), found by asking it once;
* the workspace, with the files that usually hold secrets masked (``.env*``,
  ``*.pem``, ``*.key``, ``.netrc``, ``id_rsa*``, ``.ssh``/``.aws``/``.gnupg``
  folders, ``.specloop`` with its traces...);
* a fresh ``/tmp`` of its own (writable; each run's folder is made there and is
  its HOME), a private ``/proc`` and a minimal ``/dev``.

Nothing else: no other home folders, no ``/var``, ``/run`` or ``/tmp`` of the
host, so no unix sockets; no network (``--unshare-all``); its own PID namespace;
``--die-with-parent``.  Where bubblewrap does not work, ``sandbox = "auto"``
refuses to run tests (:data:`NO_BWRAP_HINT`); ``sandbox = "process"`` runs
them without these walls, knowingly.
"""

from __future__ import annotations

import fnmatch
import functools
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import time

MARKER_VAR = "SPECLOOP_SANDBOX_RUN"
CHILD_IN_SANDBOX = "/.specloop/child"             # the folder ``sandbox/child`` (runner and bridge), read-only
RUNNER_IN_SANDBOX = CHILD_IN_SANDBOX + "/runner.py"
SHARED_IN_SANDBOX = "/tmp/specloop-shared"   # the runs' temporary files, seen by judge and candidate
NO_BWRAP_HINT = ("tests were not run: bubblewrap does not work here ({reason}); install it "
                 "(e.g. `apt-get install bubblewrap`) or set sandbox = \"process\" to run generated code "
                 "with your own rights, without isolation")
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone", "passwd", "group",
             "nsswitch.conf", "hosts", "host.conf", "ssl", "ca-certificates", "ca-certificates.conf", "pki",
             "alternatives", "mime.types", "os-release", "debian_version", "locale.alias", "python3*",
             "fonts", "matplotlibrc")
SECRET_FILES = (".env", ".env.*", "*.env", ".envrc", "*.pem", "*.key", "*.p12", "*.pfx", "*.keystore", ".netrc",
                "_netrc", ".pgpass", ".pypirc", ".npmrc", ".git-credentials", "id_rsa*", "id_dsa*", "id_ecdsa*",
                "id_ed25519*", "credentials", "credentials.json", "*.kdbx", "secrets.*", ".htpasswd")
SECRET_DIRS = (".ssh", ".aws", ".gnupg", ".azure", ".kube", ".docker", ".specloop", "gh")
SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".nox",
             ".mypy_cache", ".pytest_cache", ".ruff_cache", "site-packages", "dist", "build"}
MAX_SCAN = 20000


@functools.lru_cache(maxsize=1)
def bwrap_status() -> tuple[bool, str]:
    """Whether bubblewrap with our walls works here, and why not (probed once per process)."""
    exe = shutil.which("bwrap")
    if exe is None:
        return False, "bwrap is not installed"
    argv = [exe, *_base_flags(), *_python_binds(sys.executable), "--", sys.executable, "-c", "pass"]
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=15)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"bwrap failed: {exc}"
    if proc.returncode != 0:
        lines = proc.stderr.decode(errors="replace").strip().splitlines()
        return False, "bwrap failed: " + (lines[-1] if lines else f"exit status {proc.returncode}")
    return True, "bwrap works"


def probe_bwrap() -> bool:
    return bwrap_status()[0]


def _base_flags() -> list[str]:
    flags = ["--unshare-all", "--die-with-parent", "--new-session"]
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            flags += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            flags += ["--ro-bind", path, path]
    for pattern in ETC_FILES:
        for path in sorted(glob.glob(os.path.join("/etc", pattern))):
            flags += ["--ro-bind", path, path]
    return flags + ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]


@functools.lru_cache(maxsize=8)
def python_paths(python: str) -> tuple[str, ...]:
    """The folders ``python`` needs: its prefixes and ``sys.path`` (asked once per Python)."""
    code = ("import sys, json; print(json.dumps([sys.prefix, sys.base_prefix, sys.exec_prefix, "
            "sys.base_exec_prefix] + [p for p in sys.path if p]))")
    paths = [os.path.dirname(os.path.abspath(python)), os.path.dirname(os.path.realpath(python))]
    try:
        out = subprocess.run([python, "-I", "-c", code], stdin=subprocess.DEVNULL, capture_output=True,
                             timeout=30, check=True).stdout
        paths += json.loads(out.decode().strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        pass
    home = os.path.expanduser("~")
    chosen: list[str] = []
    for p in sorted({os.path.abspath(p) for p in paths}, key=len):
        if not os.path.exists(p) or p in ("/", home) or p.startswith(("/usr/", "/proc", "/dev")) or p == "/usr":
            continue
        if os.path.isfile(p):  # a zip on sys.path
            p = os.path.dirname(p)
        if not any(p == q or p.startswith(q + "/") for q in chosen):
            chosen.append(p)
    return tuple(chosen)


@functools.lru_cache(maxsize=8)
def site_dirs(python: str) -> tuple[str, ...]:
    """``python``'s site-packages folders, user site included (asked once per Python)."""
    code = "import site, json; print(json.dumps(site.getsitepackages() + [site.getusersitepackages()]))"
    try:
        out = subprocess.run([python, "-c", code], stdin=subprocess.DEVNULL, capture_output=True,
                             timeout=30, check=True).stdout
        return tuple(p for p in json.loads(out.decode().strip().splitlines()[-1]) if p)
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return ()


def _python_binds(python: str) -> list[str]:
    return [arg for p in python_paths(python) for arg in ("--ro-bind", p, p)]


def secret_paths(workspace: str) -> tuple[list[str], list[str]]:
    """Files and folders in the workspace that usually hold secrets (bounded walk)."""
    files: list[str] = []
    dirs: list[str] = []
    seen = 0
    for folder, subdirs, names in os.walk(workspace):
        seen += len(subdirs) + len(names)
        keep = []
        for d in subdirs:
            if d in SECRET_DIRS:
                dirs.append(os.path.join(folder, d))
            elif d not in SKIP_DIRS and not os.path.islink(os.path.join(folder, d)):
                keep.append(d)
        subdirs[:] = keep
        files += [os.path.join(folder, n) for n in names
                  if any(fnmatch.fnmatch(n, pat) for pat in SECRET_FILES)]
        if seen > MAX_SCAN:
            break
    return files, dirs


def bwrap_argv(python: str, workspace: str, runner: str, extra_ro: list[str],
               masks: tuple[tuple[str, ...], tuple[str, ...]] | None = None, *, shared: str | None = None,
               candidate: bool = False) -> list[str]:
    """The bubblewrap command line (up to ``--``) for runs of ``python`` in ``workspace``;
    ``masks``: the secret (files, folders) to hide, default: found now.  ``shared``: a host
    folder seen at :data:`SHARED_IN_SANDBOX` (the runs' temporary files).  ``candidate``: a
    sandbox where the code under test runs (apart from the judge, or inside an in-process
    run's pytest): every capability is dropped (bubblewrap started by root keeps them otherwise)."""
    argv = [shutil.which("bwrap") or "bwrap", *_base_flags(), *_python_binds(python)]
    if candidate and os.geteuid() == 0:
        argv += ["--cap-drop", "ALL"]
    visible = sorted({os.path.abspath(p) for p in [workspace, *extra_ro] if p and os.path.exists(p)}, key=len)
    chosen: list[str] = []
    for p in visible:
        if not any(p == q or p.startswith(q + "/") for q in chosen):
            chosen.append(p)
    for p in chosen:
        argv += ["--ro-bind", p, p]
    files, dirs = masks if masks is not None else secret_paths(workspace)
    for d in dirs:
        argv += ["--tmpfs", d, "--remount-ro", d]
    for f in files:
        if os.path.isfile(f):
            argv += ["--ro-bind", "/dev/null", f]
    if shared:
        argv += ["--bind", shared, SHARED_IN_SANDBOX]
    return argv + ["--ro-bind", os.path.dirname(runner), CHILD_IN_SANDBOX]


def kill_marked(marker: str, rounds: int = 50) -> int:
    """SIGKILL every process whose environment carries ``MARKER_VAR=marker``; repeat until none."""
    needle = f"{MARKER_VAR}={marker}".encode()
    killed = 0
    for _ in range(rounds):
        found = []
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    with open(f"/proc/{name}/environ", "rb") as fh:
                        if needle in fh.read().split(b"\0"):
                            found.append(int(name))
                except OSError:
                    continue
        if not found:
            break
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except OSError:
                pass
        time.sleep(0.01)
    return killed
