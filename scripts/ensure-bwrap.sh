#!/usr/bin/env bash
# Makes sure bubblewrap is installed: with sandbox = "auto" (the default) specloop runs no tests
# without it (see README, "How code is run safely"). Called by scripts/setup.sh.
#   - bwrap on PATH: nothing to do, nothing said;
#   - root with apt-get: `apt-get install -y bubblewrap`, quietly; `apt-get update` first only
#     when the install fails without it (package lists missing or stale); one line says it was installed;
#   - otherwise: one line with the exact command to run.
# Always exits 0: specloop itself is installed either way, and a run says the same hint.
#   SPECLOOP_APT_GET  the apt-get to call (default apt-get; the tests put a fake one here)
#   SPECLOOP_BWRAP    the program to look for (default bwrap)
set -uo pipefail
APT=${SPECLOOP_APT_GET:-apt-get}
BWRAP=${SPECLOOP_BWRAP:-bwrap}

command -v "$BWRAP" >/dev/null 2>&1 && exit 0

if command -v "$APT" >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    add_bwrap() { "$APT" install -y -qq bubblewrap >/dev/null 2>&1; }
    if add_bwrap || { "$APT" update -qq >/dev/null 2>&1 && add_bwrap; }; then
      echo "specloop: installed bubblewrap (the sandbox generated code runs in)"
    else
      echo "specloop: could not install bubblewrap, which the sandbox needs; run: apt-get update && apt-get install -y bubblewrap"
    fi
  else
    echo "specloop: bubblewrap is not installed and specloop runs no tests without it; run: sudo apt-get install -y bubblewrap"
  fi
else
  echo "specloop: bubblewrap is not installed and specloop runs no tests without it; install the package bubblewrap (e.g. sudo dnf install bubblewrap, sudo pacman -S bubblewrap)"
fi
exit 0
