#!/usr/bin/env bash
# Every benchmark, in release mode; each prints its own figures.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
echo "== engine fan-out"
cargo bench -q -p roundtable-bench --bench fanout
if [ -f crates/store/benches/history.rs ]; then
  echo "== history store"
  cargo bench -q -p roundtable-store --bench history
fi
echo "== leaderboard (100,000 runs, 20,000 votes)"
cargo bench -q -p roundtable-app --bench leaderboard
echo "== spend (100,000 runs over a year: every figure of the Usage view, the budget's sums)"
cargo bench -q -p roundtable-store --bench spend
echo "== desktop app: cold start to first paint, memory idle and after a 10-model run"
npm --prefix ui run build >/dev/null
cargo build --release -q --locked -p roundtable-desktop -p roundtable-cli -p roundtable-testkit --features roundtable-desktop/custom-protocol
if [ ! -d tests/e2e/node_modules/webdriverio ]; then npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=error; fi
E2E_PROFILE=release scripts/with-keyring.sh xvfb-run -a -s "-screen 0 1280x800x24" node tests/e2e/bench.mjs
echo "== desktop app: a conversation of 20 turns of 5 models, opened and scrolled"
E2E_PROFILE=release scripts/with-keyring.sh xvfb-run -a -s "-screen 0 1280x800x24" node tests/e2e/bench-thread.mjs
echo "== local API load"
cargo bench -q -p roundtable-bench --bench load
