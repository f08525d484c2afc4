#!/usr/bin/env bash
# Runs the real mdevctl against a fixture root, for differential testing and benchmarks:
# 1.2.0 (Debian bookworm's package, the default) or, with MDEVCTL_REF_VERSION=1.4.0, upstream's
# 1.4.0 (Debian trixie's package). Either runs in a chroot of ROOT (1.2.0 has no MDEVCTL_ENV_ROOT;
# 1.4.0 is linked against glibc 2.39, newer than bookworm's, so it runs with trixie's loader, libc
# and libgcc copied into ROOT beside it).
#
#   scripts/reference-mdevctl.sh ROOT ARGS...     run `mdevctl ARGS...` chrooted in ROOT
#                                                 (installs mdevctl + its libs into ROOT first if
#                                                 needed: this modifies ROOT; use a copy)
#   scripts/reference-mdevctl.sh --setup          obtain the package into the cache; print the cache
#   scripts/reference-mdevctl.sh --install ROOT   only install into ROOT
#
# Needs root, apt-get, dpkg, ldd and chroot. The package is fetched once per machine into the cache
# ${MDEVCTL_REF_CACHE:-/tmp/mdevctl-ref-VERSION}: 1.2.0 with `apt-get download mdevctl` (after
# `apt-get update` if that fails); 1.4.0 with `apt-get download mdevctl libc6 libgcc-s1` from the
# trixie suite through a private apt configuration in the cache (this machine's apt is left alone;
# the mirror is MDEVCTL_DEB_MIRROR, else the bookworm mirror of /etc/apt/sources.list*). Set
# MDEVCTL_REF_DEB=/path/to/mdevctl_VERSION*.deb to use a .deb at hand instead (1.2.0 only).
# Cache layout (shared with test/support/reference.ts):
#   pkg/       the extracted package (binary in pkg/usr/bin/mdevctl)
#   overlay/   what gets copied into a root: usr/bin/mdevctl plus the libs and loader ldd lists
#   READY      stamp, written last, holding `mdevctl --version` output
# If ARGS contain /dev/stdin, stdin is first saved to ROOT/dev/stdin (a plain file: the chroot has
# no /proc or /dev), then removed after the run.
# Exit status: mdevctl's own, or 125 when the reference cannot be set up (reason on stderr).
set -euo pipefail

WANT_VERSION="${MDEVCTL_REF_VERSION:-1.2.0}"
case "$WANT_VERSION" in
  1.2.0|1.4.0) ;;
  *) echo "reference-mdevctl: MDEVCTL_REF_VERSION=$WANT_VERSION: only 1.2.0 and 1.4.0 are known" >&2; exit 125;;
esac
CACHE="${MDEVCTL_REF_CACHE:-/tmp/mdevctl-ref-$WANT_VERSION}"

die() { echo "reference-mdevctl: $*" >&2; exit 125; }

# mirror: the Debian mirror (MDEVCTL_DEB_MIRROR, else this machine's apt sources)
. "$(dirname "${BASH_SOURCE[0]}")/lib/debian-mirror.sh"

# 1.4.0: mdevctl, libc6 and libgcc-s1 from Debian trixie, with a private apt configuration in $1.
download_trixie() {
  local dir="$1" apt="$1/apt"
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(mirror) trixie main" >"$apt/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=$apt/none"
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o "Dir::State::status=/dev/null"
    -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")
  { apt-get "${opts[@]}" update && (cd "$dir" && apt-get "${opts[@]}" download mdevctl libc6 libgcc-s1); } \
    >"$dir/apt.log" 2>&1
}

# 1.4.0's overlay: the binary, trixie's loader (where its PT_INTERP names it), libc and libgcc_s.
overlay_trixie() {
  local tmp="$1" deb
  mkdir -p "$tmp/debs"
  for deb in "$tmp"/mdevctl_*.deb "$tmp"/libc6_*.deb "$tmp"/libgcc-s1_*.deb; do
    dpkg-deb -x "$deb" "$tmp/debs" || return 1
  done
  mkdir -p "$tmp/overlay/usr/bin" "$tmp/overlay/usr/lib/x86_64-linux-gnu" "$tmp/overlay/lib64"
  cp "$tmp/debs/usr/bin/mdevctl" "$tmp/overlay/usr/bin/mdevctl" || return 1
  local lib
  for lib in libc.so.6 libgcc_s.so.1 ld-linux-x86-64.so.2; do
    cp -L "$tmp/debs/usr/lib/x86_64-linux-gnu/$lib" "$tmp/overlay/usr/lib/x86_64-linux-gnu/$lib" || return 1
  done
  cp -L "$tmp/debs/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" "$tmp/overlay/lib64/ld-linux-x86-64.so.2"
}

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
  if [ "$WANT_VERSION" = 1.4.0 ]; then
    if ! download_trixie "$tmp"; then
      local why; why="$(grep -E '^(E|W):' "$tmp/apt.log" | tail -n 3 | tr '\n' ' ')"
      rm -rf "$tmp"
      die "apt-get download mdevctl libc6 libgcc-s1 from trixie failed: ${why:-see apt-get output}"
    fi
    deb="$(ls "$tmp"/mdevctl_*.deb 2>/dev/null | head -n 1)"
    [ -n "$deb" ] || { rm -rf "$tmp"; die "apt-get download produced no mdevctl_*.deb"; }
  elif [ -n "${MDEVCTL_REF_DEB:-}" ]; then
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
  if [ "$WANT_VERSION" = 1.4.0 ]; then
    overlay_trixie "$tmp" || { rm -rf "$tmp"; die "could not unpack trixie's mdevctl, libc6 and libgcc-s1"; }
    rm -rf "$tmp/debs" "$tmp/apt" "$tmp"/*.deb
  else
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
  fi
  # Smoke test in a scratch root: this also proves chroot works here.
  required_dirs "$tmp/smoke"
  cp -a "$tmp/overlay/." "$tmp/smoke/"
  local out
  if ! out="$(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin chroot "$tmp/smoke" /usr/bin/mdevctl --version 2>&1)"; then
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

# Both refuse to run (even --version) unless their script directories exist: 1.2.0 those under
# /etc/mdevctl.d, 1.4.0 those under /usr/lib/mdevctl.
required_dirs() {
  mkdir -p "$1/etc/mdevctl.d/scripts.d/callouts" "$1/etc/mdevctl.d/scripts.d/notifiers"
  if [ "$WANT_VERSION" = 1.4.0 ]; then
    mkdir -p "$1/usr/lib/mdevctl/scripts.d/callouts" "$1/usr/lib/mdevctl/scripts.d/notifiers"
  fi
}

install_into() {
  local root="$1"
  [ -d "$root" ] || die "no such root: $root"
  if [ ! -x "$root/usr/bin/mdevctl" ] || ! cmp -s "$CACHE/overlay/usr/bin/mdevctl" "$root/usr/bin/mdevctl"; then
    cp -a "$CACHE/overlay/." "$root/"
  fi
  required_dirs "$root"
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
