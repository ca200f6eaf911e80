"""Running the real ``specloop`` command against the scripted model, for the CLI tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def cli_env(url: str, **extra: str) -> dict[str, str]:
    """The environment of a CLI run: the scripted model at ``url``, no critic, no model tests,
    no retries, none of the caller's SPECLOOP_* settings; ``extra`` on top."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPECLOOP_")}
    env.update(SPECLOOP_MODEL="openai/scripted", SPECLOOP_API_BASE=url, OPENAI_API_KEY="sk-test-not-a-real-key",
               SPECLOOP_CRITIC="false", SPECLOOP_MODEL_TESTS="false", SPECLOOP_REQUEST_TIMEOUT="10",
               SPECLOOP_MAX_RETRIES="0", LITELLM_LOCAL_MODEL_COST_MAP="True")
    env.update(extra)
    return env


def specloop(*args: str, env: dict[str, str], cwd: Path, timeout: float = 180,
             prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """``python -m specloop ARGS`` in ``cwd`` (behind the command ``prefix``); text output captured."""
    return subprocess.run([*prefix, sys.executable, "-m", "specloop", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


# As root, file modes bind only without the capabilities that override them: a run behind this
# prefix is refused what a user is refused (setpriv, util-linux; root may shrink its bounding set).
AS_A_USER = (("setpriv", "--bounding-set", "-dac_override,-dac_read_search")
             if hasattr(os, "geteuid") and os.geteuid() == 0 else ())
