#!/usr/bin/env bash
# Installs what building and testing Roundtable needs on a Debian machine, and
# only what is missing: Debian packages (build tools, D-Bus and the Secret
# Service for the keychain), the Rust components, and the npm test tools.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential pkg-config libssl-dev libdbus-1-dev
  dbus dbus-x11 gnome-keyring libsecret-tools curl ca-certificates
)

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v cargo >/dev/null || { echo "setup: cargo is missing: install Rust (https://rustup.rs)"; exit 1; }
for c in rustfmt clippy; do
  if ! cargo "${c/rustfmt/fmt}" --version >/dev/null 2>&1; then
    command -v rustup >/dev/null && rustup component add "$c"
  fi
done

if [ -x scripts/install-test-tools.sh ]; then
  scripts/install-test-tools.sh
fi
echo "setup: ok"
