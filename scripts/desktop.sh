#!/usr/bin/env bash
# The desktop app: `build` makes target/release/roundtable-desktop with the UI
# embedded (vite build, then cargo with the `custom-protocol` feature), and the
# `roundtable` CLI beside it in the same cargo run (what `make package` ships,
# so the package reuses this build); `run` builds them and starts the app.
# PROFILE=debug builds faster, runs slower.
#   make desktop    # scripts/desktop.sh build
#   make run        # scripts/desktop.sh run
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-build}
profile=${PROFILE:-release}
scripts/setup.sh >/dev/null
npm --prefix ui run build >/dev/null
packages=(-p roundtable-desktop -p roundtable-cli --features roundtable-desktop/custom-protocol)
if [ "$profile" = release ]; then
  cargo build --locked --release "${packages[@]}"
  bin=target/release/roundtable-desktop
else
  cargo build --locked "${packages[@]}"
  bin=target/debug/roundtable-desktop
fi
case "$what" in
  build) echo "desktop: built $bin (and the CLI beside it: ${bin%-desktop})" ;;
  run)
    if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
      echo "desktop: no display (DISPLAY/WAYLAND_DISPLAY unset): the app needs a desktop session." >&2
      echo "desktop: on a headless machine try \`make demo\` (the CLI) or: xvfb-run $bin" >&2
      exit 1
    fi
    exec "$bin" ;;
  *) echo "usage: scripts/desktop.sh build|run" >&2; exit 2 ;;
esac
