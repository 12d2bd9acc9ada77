#!/usr/bin/env bash
# Every benchmark, in release mode; each prints its own figures.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
echo "== engine fan-out"
cargo bench -q -p roundtable-core --bench fanout
if [ -f crates/store/benches/history.rs ]; then
  echo "== history store"
  cargo bench -q -p roundtable-store --bench history
fi
