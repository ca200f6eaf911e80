#!/bin/bash
# Installs what the real-VS-Code end-to-end test needs into $SPECLOOP_E2E_TOOLS (default
# ~/.cache/specloop-vscode-e2e): code-server 4.100.3 (VS Code 1.100.3, the last release that runs on
# Node 20) with its native modules rebuilt from source. Only the npm and Debian registries are used.
# Needs (apt): chromium libkrb5-dev pkg-config ripgrep. Idempotent: a finished install is kept.
set -euo pipefail
TOOLS=${SPECLOOP_E2E_TOOLS:-$HOME/.cache/specloop-vscode-e2e}
CS_VERSION=4.100.3
STAMP="$TOOLS/cs/.ready-$CS_VERSION"
if [ -f "$STAMP" ]; then echo "code-server $CS_VERSION ready in $TOOLS"; exit 0; fi
for bin in chromium rg pkg-config; do
  command -v "$bin" >/dev/null || { echo "missing $bin: apt-get install -y chromium libkrb5-dev pkg-config ripgrep" >&2; exit 2; }
done
mkdir -p "$TOOLS/cs" && cd "$TOOLS/cs"
[ -f package.json ] || echo '{"name":"specloop-e2e-code-server","private":true}' > package.json
npm install --no-audit --no-fund --ignore-scripts "code-server@$CS_VERSION"
npm rebuild argon2                      # its prebuilt binary is a GitHub download: build from source
CSV=node_modules/code-server/lib/vscode
(
  cd "$CSV"
  npm install --omit=dev --ignore-scripts --no-audit --no-fund
  env npm_config_yes=true npm rebuild @parcel/watcher @vscode/spdlog kerberos native-watchdog node-pty @vscode/deviceid
  mkdir -p node_modules/@vscode/ripgrep/bin && ln -sf "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
  rm -rf node_modules.asar && ln -s node_modules node_modules.asar
  (cd bin/remote-cli && ln -sf code-linux.sh code-server)
  (cd bin/helpers && ln -sf browser-linux.sh browser.sh)
  cd extensions && npm install --omit=dev --ignore-scripts --no-audit --no-fund
)
touch "$STAMP"
echo "code-server $CS_VERSION ready in $TOOLS"
