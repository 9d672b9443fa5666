#!/usr/bin/env bash
# Installs the checks' npm packages exactly as node/package-lock.json pins
# them (npm ci) into DEST, from npm's cache when it holds them. Skipped when
# DEST already holds an install of this very lock file.
# Usage: npm_ci.sh SOURCE_NODE_DIR DEST
set -euo pipefail
src=$1
dest=$2
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "npm_ci: $tool not found; the packaging tests need node and npm" >&2; exit 1; }
done
stamp=$dest/node_modules/.hotswap-lock
if [ -f "$stamp" ] && cmp -s "$stamp" "$src/package-lock.json" && cmp -s "$dest/package.json" "$src/package.json"; then
  echo "npm_ci: $dest is up to date with package-lock.json"
  exit 0
fi
mkdir -p "$dest"
cp "$src/package.json" "$src/package-lock.json" "$dest/"
cd "$dest"
npm ci --prefer-offline --no-audit --no-fund --ignore-scripts --loglevel=error
cp package-lock.json "$stamp"
