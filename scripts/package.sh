#!/usr/bin/env bash
# The package a user installs: a release .deb of the desktop app (UI embedded,
# no debug info, no symbol table: [profile.release] in Cargo.toml) with the
# `roundtable` CLI beside it in /usr/bin, then checked by scripts/check-package.sh.
# Sets up what it needs as `make run` does (scripts/desktop.sh runs setup.sh).
#   make package   # target/release/bundle/deb/Roundtable_<version>_amd64.deb
set -euo pipefail
cd "$(dirname "$0")/.."
# The app with the UI embedded and the CLI, in one cargo run: the same build as
# `make desktop`. tauri.conf.json's bundle.linux.deb.files maps
# target/release/roundtable to /usr/bin/roundtable.
echo "== package: release build of the desktop app and the CLI (scripts/desktop.sh)"
PROFILE=release scripts/desktop.sh build
echo "== package: tauri bundle --bundles deb"
rm -rf target/release/bundle/deb
mkdir -p target/release/bundle
log=target/release/bundle/deb.log
npm --prefix ui run tauri -- bundle --bundles deb --ci >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
debs=(target/release/bundle/deb/*.deb)
[ "${#debs[@]}" -eq 1 ] && [ -f "${debs[0]}" ] || { echo "package: expected one .deb, found: ${debs[*]}" >&2; exit 1; }
scripts/check-package.sh "${debs[0]}"
