#!/usr/bin/env bash
# Creates .venv and installs specloop with every pinned dependency (hashes checked),
# including the embedded local model (llama-cpp-python builds from source: ~8 min on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade "pip>=24"
.venv/bin/python -m pip install -q --require-hashes --no-deps -r requirements/lock.txt
.venv/bin/python -m pip install -q --no-deps --no-build-isolation -e . 2>/dev/null \
  || .venv/bin/python -m pip install -q --no-deps -e .
.venv/bin/python -m pip check >/dev/null || { .venv/bin/python -m pip check; exit 1; }
echo "specloop is installed in .venv ($(.venv/bin/specloop --help >/dev/null && echo ok))"
