#!/usr/bin/env bash
# Runs the real mdevctl 1.2.0 (Debian bookworm's package) against a fixture root, for differential
# testing and benchmarks. 1.2.0 has no MDEVCTL_ENV_ROOT, so it runs in a chroot of ROOT.
#
#   scripts/reference-mdevctl.sh ROOT ARGS...     run `mdevctl ARGS...` chrooted in ROOT
#                                                 (installs mdevctl + its libs into ROOT first if
#                                                 needed: this modifies ROOT; use a copy)
#   scripts/reference-mdevctl.sh --setup          obtain the package into the cache; print the cache
#   scripts/reference-mdevctl.sh --install ROOT   only install into ROOT
#
# Needs root, apt-get, dpkg, ldd and chroot. The package is fetched once per machine with
# `apt-get download mdevctl` (after `apt-get update` if that fails) into the cache
# ${MDEVCTL_REF_CACHE:-/tmp/mdevctl-ref-1.2.0}; set MDEVCTL_REF_DEB=/path/to/mdevctl_1.2.0*.deb
# to use a .deb at hand instead. Cache layout (shared with test/support/reference.ts):
#   pkg/       the extracted package (binary in pkg/usr/bin/mdevctl)
#   overlay/   what gets copied into a root: usr/bin/mdevctl plus the libs and loader ldd lists
#   READY      stamp, written last, holding `mdevctl --version` output
# If ARGS contain /dev/stdin, stdin is first saved to ROOT/dev/stdin (a plain file: the chroot has
# no /proc or /dev), then removed after the run.
# Exit status: mdevctl's own, or 125 when the reference cannot be set up (reason on stderr).
set -euo pipefail

CACHE="${MDEVCTL_REF_CACHE:-/tmp/mdevctl-ref-1.2.0}"
WANT_VERSION="1.2.0"

die() { echo "reference-mdevctl: $*" >&2; exit 125; }

setup() {
  if [ -f "$CACHE/READY" ] && [ -x "$CACHE/overlay/usr/bin/mdevctl" ]; then return 0; fi
  [ "$(id -u)" = 0 ] || die "not root (chroot and apt-get need root)"
  for tool in dpkg-deb chroot ldd flock; do
    command -v "$tool" >/dev/null 2>&1 || die "no $tool on PATH"
  done
  if [ -z "${MDEVCTL_REF_DEB:-}" ] && ! command -v apt-get >/dev/null 2>&1; then
    die "no apt-get on PATH (set MDEVCTL_REF_DEB to a mdevctl 1.2.0 .deb instead)"
  fi
  mkdir -p "$(dirname "$CACHE")"
  exec 9>"$CACHE.lock"
  flock 9
  if [ -f "$CACHE/READY" ] && [ -x "$CACHE/overlay/usr/bin/mdevctl" ]; then return 0; fi
  rm -rf "$CACHE"
  local tmp
  tmp="$(mktemp -d "$CACHE.tmp.XXXXXX")"
  local deb
  if [ -n "${MDEVCTL_REF_DEB:-}" ]; then
    deb="$MDEVCTL_REF_DEB"
    [ -f "$deb" ] || { rm -rf "$tmp"; die "MDEVCTL_REF_DEB=$deb: no such file"; }
  else
    if ! (cd "$tmp" && apt-get download mdevctl) >"$tmp/apt.log" 2>&1; then
      apt-get update >>"$tmp/apt.log" 2>&1 || true
      if ! (cd "$tmp" && apt-get download mdevctl) >>"$tmp/apt.log" 2>&1; then
        local why; why="$(grep -E '^(E|W):' "$tmp/apt.log" | tail -n 3 | tr '\n' ' ')"
        rm -rf "$tmp"
        die "apt-get download mdevctl failed: ${why:-see apt-get output}"
      fi
    fi
    deb="$(ls "$tmp"/mdevctl_*.deb 2>/dev/null | head -n 1)"
    [ -n "$deb" ] || { rm -rf "$tmp"; die "apt-get download produced no mdevctl_*.deb"; }
  fi
  local version
  version="$(dpkg-deb -f "$deb" Version)"
  case "$version" in
    "$WANT_VERSION"|"$WANT_VERSION"-*) ;;
    *) rm -rf "$tmp"; die "apt offers mdevctl $version, not $WANT_VERSION (need Debian bookworm's archive)";;
  esac
  dpkg-deb -x "$deb" "$tmp/pkg" || { rm -rf "$tmp"; die "dpkg-deb -x $deb failed"; }
  local bin="$tmp/pkg/usr/bin/mdevctl"
  [ -x "$bin" ] || bin="$tmp/pkg/usr/sbin/mdevctl"
  [ -x "$bin" ] || { rm -rf "$tmp"; die "no mdevctl binary in $deb"; }
  mkdir -p "$tmp/overlay/usr/bin"
  cp "$bin" "$tmp/overlay/usr/bin/mdevctl"
  local libs
  libs="$(ldd "$bin" | sed -n -e 's/.*=> \(\/[^ ]*\) .*/\1/p' -e 's/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p')"
  [ -n "$libs" ] || { rm -rf "$tmp"; die "ldd found no libraries for $bin"; }
  local lib
  for lib in $libs; do
    mkdir -p "$tmp/overlay$(dirname "$lib")"
    cp -L "$lib" "$tmp/overlay$lib"
  done
  # Smoke test in a scratch root: this also proves chroot works here.
  mkdir -p "$tmp/smoke/etc/mdevctl.d/scripts.d/callouts" "$tmp/smoke/etc/mdevctl.d/scripts.d/notifiers"
  cp -a "$tmp/overlay/." "$tmp/smoke/"
  local out
  if ! out="$(chroot "$tmp/smoke" /usr/bin/mdevctl --version 2>&1)"; then
    rm -rf "$tmp"; die "chroot test run failed: $out"
  fi
  case "$out" in
    "mdevctl $WANT_VERSION"*) ;;
    *) rm -rf "$tmp"; die "unexpected version output: $out";;
  esac
  rm -rf "$tmp/smoke" "$tmp"/mdevctl_*.deb
  printf '%s\n' "$out" >"$tmp/READY"
  mv "$tmp" "$CACHE"
}

install_into() {
  local root="$1"
  [ -d "$root" ] || die "no such root: $root"
  if [ ! -x "$root/usr/bin/mdevctl" ] || ! cmp -s "$CACHE/overlay/usr/bin/mdevctl" "$root/usr/bin/mdevctl"; then
    cp -a "$CACHE/overlay/." "$root/"
  fi
  # 1.2.0 refuses to run (even --version) unless these exist.
  mkdir -p "$root/etc/mdevctl.d/scripts.d/callouts" "$root/etc/mdevctl.d/scripts.d/notifiers"
}

case "${1:-}" in
  ""|-h|--help)
    awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"
    exit 0;;
  --setup)
    setup
    echo "$CACHE";;
  --install)
    [ $# -eq 2 ] || die "usage: $0 --install ROOT"
    setup
    install_into "$2";;
  *)
    root="$1"; shift
    setup
    install_into "$root"
    wants_stdin=0
    for a in "$@"; do
      case "$a" in *=/dev/stdin|/dev/stdin) wants_stdin=1;; esac
    done
    if [ "$wants_stdin" = 1 ]; then
      mkdir -p "$root/dev"
      cat >"$root/dev/stdin"
      set +e
      env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C ${RUST_LOG:+RUST_LOG="$RUST_LOG"} \
        chroot "$root" /usr/bin/mdevctl "$@" <"$root/dev/stdin"
      status=$?
      set -e
      rm -f "$root/dev/stdin"
      rmdir "$root/dev" 2>/dev/null || true
      exit "$status"
    fi
    exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C ${RUST_LOG:+RUST_LOG="$RUST_LOG"} \
      chroot "$root" /usr/bin/mdevctl "$@";;
esac
