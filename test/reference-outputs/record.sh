#!/usr/bin/env bash
# Re-records what the real mdevctl 1.2.0 prints for the read-only commands on every fixture:
#   test/reference-outputs/<fixture>/<args joined by _>.txt      stdout, byte for byte
#   .../<args>.stderr.txt and .../<args>.status                    only when non-empty / non-zero
# Fresh fixture copies come from scripts/make-fixtures.mjs (so the empty dirs exist); 1.2.0 runs
# in a chroot of each via scripts/reference-mdevctl.sh. Needs root; see that script.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="$(mktemp -d /tmp/mdevctl-ref-record.XXXXXX)"
trap 'rm -rf "$work"' EXIT

commands=(
  "list"
  "list -d"
  "list -v"
  "list -d -v"
  "list --dumpjson"
  "list -d --dumpjson"
  "types"
  "types --dumpjson"
)

node "$repo/scripts/make-fixtures.mjs" "$work"
for root in "$work"/*/; do
  name="$(basename "$root")"
  out="$here/$name"
  rm -rf "$out"
  mkdir -p "$out"
  "$repo/scripts/reference-mdevctl.sh" --install "$root"
  for cmd in "${commands[@]}"; do
    file="$out/${cmd// /_}"
    set +e
    # shellcheck disable=SC2086
    "$repo/scripts/reference-mdevctl.sh" "$root" $cmd >"$file.txt" 2>"$file.stderr.txt"
    status=$?
    set -e
    [ -s "$file.stderr.txt" ] || rm -f "$file.stderr.txt"
    [ "$status" = 0 ] || echo "$status" >"$file.status"
  done
done
echo "recorded into $here"
