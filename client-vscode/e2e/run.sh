#!/bin/bash
# Runs the real-VS-Code end-to-end tests (tests/editors/test_vscode.py: a function spec, then a class spec): the packaged .vsix in
# code-server in headless Chromium, driven by client-vscode/e2e/vscode-e2e.js, against the scripted
# model. `npm run e2e` calls this; extra arguments go to pytest (e.g. `npm run e2e -- -x -s`).
# Checks what the test needs first and says how to get what is missing; a missing piece is a
# failure here, never a skip (SPECLOOP_REQUIRE_E2E=1). Screenshots land in test-output/vscode/.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"

TOOLS=${SPECLOOP_E2E_TOOLS:-$HOME/.cache/specloop-vscode-e2e}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
PYTHON=${SPECLOOP_E2E_PYTHON:-$REPO/.venv/bin/python}
VSIX=client-vscode/dist/specloop.vsix

missing=()
[ -x "$PYTHON" ] || missing+=("the dev environment $PYTHON (scripts/setup.sh)")
[ -x "$PYTHON" ] && ! "$PYTHON" -c "import pytest, specloop" 2>/dev/null \
  && missing+=("pytest and specloop in $PYTHON (scripts/setup.sh)")
command -v node >/dev/null || missing+=("node (Node.js 20)")
[ -x "$CHROMIUM" ] || missing+=("chromium at $CHROMIUM (apt-get install -y chromium, or set CHROMIUM)")
[ -x "$TOOLS/cs/node_modules/.bin/code-server" ] || missing+=("code-server in $TOOLS (bash client-vscode/e2e/setup.sh)")
[ -d node_modules/playwright-core ] || missing+=("playwright-core (npm ci)")
[ -f "$VSIX" ] || missing+=("the extension package $VSIX (npm run package)")
if [ ${#missing[@]} -gt 0 ]; then
  echo "npm run e2e: missing:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 2
fi

newer=$(find client-vscode/src -type f -newer "$VSIX" -print -quit 2>/dev/null || true)
if [ -n "$newer" ]; then
  echo "npm run e2e: note: $newer is newer than $VSIX; the test runs the packaged extension" \
       "(npm run package to rebuild it)" >&2
fi

export SPECLOOP_REQUIRE_E2E=1
exec "$PYTHON" -m pytest tests/editors/test_vscode.py -p no:cacheprovider "$@"
