#!/usr/bin/env bash
# Every check and test: formatting, lints, and the test suites of every crate
# (unit, fake-provider HTTP, recorded fixtures, the CLI as a process, the real
# keychain through the Secret Service).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test (inside a throwaway D-Bus session and keyring)"
scripts/with-keyring.sh cargo test --workspace --locked
