#!/usr/bin/env bash
# Checks the .deb that `make package` builds: the desktop app and the
# `roundtable` CLI in /usr/bin, both without debug info; the desktop entry that
# starts the app; and the download and installed sizes under their limits
# (about 20% over what the README states, so that growth is a decision).
#   scripts/check-package.sh [target/release/bundle/deb/Roundtable_<version>_amd64.deb]
set -euo pipefail
cd "$(dirname "$0")/.."
MAX_DEB_KB=${MAX_DEB_KB:-33500}             # the .deb file
MAX_INSTALLED_KB=${MAX_INSTALLED_KB:-79000}    # Installed-Size (dpkg counts KiB)

deb=${1:-$(ls target/release/bundle/deb/*.deb 2>/dev/null | head -n1)}
[ -n "$deb" ] && [ -f "$deb" ] || { echo "check-package: no .deb (run make package)" >&2; exit 1; }
fail=0
bad() { echo "check-package: FAIL: $*" >&2; fail=1; }

info=$(dpkg-deb -I "$deb")
contents=$(dpkg-deb -c "$deb")
field() { sed -n "s/^ $1: //p" <<<"$info"; }
for f in Package Version Architecture Installed-Size Depends; do
  [ -n "$(field "$f")" ] || bad "control file has no $f"
done
for b in roundtable-desktop roundtable; do
  grep -Eq "^-rwx.* (\./)?usr/bin/$b\$" <<<"$contents" || bad "no executable /usr/bin/$b"
done
desktop_entry=$(grep -Eo '(\./)?usr/share/applications/[^ ]+\.desktop$' <<<"$contents" | head -n1 || true)
[ -n "$desktop_entry" ] || bad "no .desktop entry in /usr/share/applications"

# The files themselves: no debug sections in either binary, the entry starts
# the app, and the CLI runs.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$deb" "$tmp"
for b in roundtable-desktop roundtable; do
  [ -f "$tmp/usr/bin/$b" ] || continue
  if readelf -S --wide "$tmp/usr/bin/$b" | grep -q '\.debug_'; then
    bad "/usr/bin/$b carries debug info"
  fi
done
if [ -n "$desktop_entry" ]; then
  grep -q '^Exec=roundtable-desktop' "$tmp/$desktop_entry" || bad "$desktop_entry does not start roundtable-desktop"
fi
if [ -x "$tmp/usr/bin/roundtable" ]; then
  "$tmp/usr/bin/roundtable" --version >/dev/null || bad "/usr/bin/roundtable --version failed"
fi

deb_kb=$(( ($(stat -c %s "$deb") + 1023) / 1024 ))
installed_kb=$(field Installed-Size)
[ "$deb_kb" -le "$MAX_DEB_KB" ] || bad ".deb is $deb_kb KiB, over the limit of $MAX_DEB_KB KiB"
[ "${installed_kb:-0}" -le "$MAX_INSTALLED_KB" ] || bad "installed size is $installed_kb KiB, over the limit of $MAX_INSTALLED_KB KiB"
sizes=$(cd "$tmp/usr/bin" && du -k roundtable-desktop roundtable 2>/dev/null | awk '{printf "%s %d KiB, ", $2, $1}')

if [ "$fail" -ne 0 ]; then
  echo "check-package: $deb failed" >&2
  exit 1
fi
echo "check-package: ok: $(basename "$deb"): $deb_kb KiB (limit $MAX_DEB_KB), installed $installed_kb KiB (limit $MAX_INSTALLED_KB); ${sizes%, }"
