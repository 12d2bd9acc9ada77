#!/usr/bin/env bash
# Every check and test: formatting, lints, and the test suites of every crate
# (unit, fake-provider HTTP, recorded fixtures, the CLI as a process, the real
# keychain through the Secret Service); the UI's type check and component
# tests; and the desktop app end to end under WebDriver, in a virtual display.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "== ui: svelte-check"
npm --prefix ui run check
echo "== ui: vitest"
npm --prefix ui test
echo "== ui: build (ui/dist, embedded in the desktop binary)"
npm --prefix ui run build >/dev/null
echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
# One feature set for the tests and for the binaries the end-to-end suite
# starts (the desktop with the UI embedded, the fake provider), so each crate,
# tauri included, is compiled once: the build, then the tests on its artifacts.
features=(--workspace --locked --features roundtable-desktop/custom-protocol)
echo "== cargo build: the tests, and the desktop with the UI embedded"
cargo build "${features[@]}" --lib --bins --tests
echo "== cargo test (inside a throwaway D-Bus session and keyring)"
scripts/with-keyring.sh cargo test "${features[@]}"
echo "== desktop: WebDriver end to end (Xvfb, throwaway keyring)"
scripts/with-keyring.sh xvfb-run -a -s "-screen 0 1280x800x24" tests/e2e/run.sh
