#!/usr/bin/env bash
# Installs the tools the test suite runs locally, so no test needs the network:
#   @stdy/cli — the OpenAI API mock server (crates/core/tests/openai_spec.rs).
# Idempotent: does nothing when the pinned version is already installed.
set -euo pipefail

STDY_VERSION="0.22.2"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="$root/.tools/npm"
pkg_json="$prefix/node_modules/@stdy/cli/package.json"

installed=""
if [[ -f "$pkg_json" ]]; then
    installed="$(node -p "require(process.argv[1]).version" "$pkg_json" 2>/dev/null || true)"
fi

if [[ "$installed" == "$STDY_VERSION" ]]; then
    echo "install-test-tools: @stdy/cli@$STDY_VERSION already installed in $prefix"
    exit 0
fi

command -v npm >/dev/null || { echo "install-test-tools: npm not found (Node 20+ is needed)" >&2; exit 1; }
mkdir -p "$prefix"
npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "@stdy/cli@$STDY_VERSION" >/dev/null
echo "install-test-tools: installed @stdy/cli@$STDY_VERSION into $prefix${installed:+ (was $installed)}"
