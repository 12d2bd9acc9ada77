#!/usr/bin/env bash
# The WebDriver suite against the real app. Needs, built beforehand:
# target/debug/roundtable-desktop (UI embedded: `--features custom-protocol`),
# target/debug/roundtable-fake-provider, target/debug/roundtable (the CLI, which
# records and votes on runs for the leaderboard), .tools/bin/tauri-driver, and
# /usr/bin/WebKitWebDriver; a display (xvfb-run) and a keychain
# (scripts/with-keyring.sh). scripts/test.sh runs it that way.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d node_modules/webdriverio ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
exec node --test --test-concurrency=1 app.test.mjs hardening.test.mjs first-start.test.mjs queued.test.mjs blind.test.mjs leaderboard.test.mjs agreement.test.mjs spend.test.mjs attachments.test.mjs conversations.test.mjs grid.test.mjs
