#!/usr/bin/env bash
# Installs what building and testing Roundtable needs on a Debian machine, and
# only what is missing: Debian packages (build tools, D-Bus and the Secret
# Service for the keychain, GTK/WebKitGTK for the desktop app, Xvfb and
# WebKitWebDriver for its tests), the Rust components, the npm test tools, the
# UI's npm packages (ui/node_modules) and tauri-driver (.tools/bin).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential pkg-config libssl-dev libdbus-1-dev
  dbus dbus-x11 gnome-keyring libsecret-tools curl ca-certificates
  # the desktop app (Tauri 2: GTK 3, WebKitGTK 4.1) and its WebDriver tests
  libgtk-3-dev libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev
  libxdo-dev webkit2gtk-driver xvfb xauth imagemagick x11-utils
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

# The UI's packages, from the committed lock file, when missing or stale.
command -v npm >/dev/null || { echo "setup: npm is missing: install Node.js 20+"; exit 1; }
if [ ! -f ui/node_modules/.package-lock.json ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  echo "setup: npm ci in ui/"
  npm ci --prefix ui --no-audit --no-fund --loglevel=error
fi

# The WebDriver bridge of the desktop tests (pinned: 3.0 alphas exist).
if [ ! -x .tools/bin/tauri-driver ]; then
  echo "setup: installing tauri-driver 2.1.0 into .tools/bin"
  cargo install tauri-driver --version 2.1.0 --locked --root .tools --quiet
fi
echo "setup: ok"
