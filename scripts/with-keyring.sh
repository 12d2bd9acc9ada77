#!/usr/bin/env bash
# Runs a command inside its own D-Bus session with an unlocked GNOME keyring (the
# Secret Service), so keychain code and tests talk to a real keychain that is
# thrown away afterwards and never touches the user's.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/data" && mkdir -m 700 "$tmp/run"
export XDG_DATA_HOME="$tmp/data" XDG_RUNTIME_DIR="$tmp/run"
exec dbus-run-session -- bash -c '
  echo -n roundtable-test | gnome-keyring-daemon --login >/dev/null 2>&1
  eval "$(gnome-keyring-daemon --start --components=secrets 2>/dev/null)"
  export GNOME_KEYRING_CONTROL SSH_AUTH_SOCK
  export ROUNDTABLE_REQUIRE_KEYCHAIN=1
  exec "$@"' bash "$@"
