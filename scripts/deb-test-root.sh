#!/usr/bin/env bash
# Throwaway Debian roots for testing the .deb (test/deb.test.ts): a minimal Debian (bookworm or
# trixie) made from Debian's own packages by debootstrap, in which dpkg runs for real with its own
# database.
#
#   scripts/deb-test-root.sh --setup [SUITE]          make the cached base root of SUITE (bookworm,
#                                                     the default, or trixie) if needed; print its path
#   scripts/deb-test-root.sh --new DIR [SUITE]        copy the base to DIR (must not exist) and
#                                                     install Node into it (see below); print DIR
#   scripts/deb-test-root.sh --new-bare DIR [SUITE]   the same without Node (for the package that
#                                                     carries the executable: no nodejs on the host)
#
# The base (cached, made once per machine and suite, about 2 minutes and 60 MB from the mirror) is
# `debootstrap --variant=minbase SUITE` with man-db, bash-completion and Debian's own mdevctl
# (bookworm: 1.2.0, trixie: 1.4.0, with its udev dependency), so a test installs our package over
# it as an admin would; that package's .deb is kept in the root's /root/debian-mdevctl/ to install
# it again.
# Cache: ${MDEVCTL_DEB_ROOT_CACHE:-/var/cache/mdevctl-ts-debroot}/SUITE (READY written last).
# Mirror: MDEVCTL_DEB_MIRROR, else the first Debian bookworm mirror of /etc/apt/sources.list*
# (the same archive serves trixie), else http://deb.debian.org/debian.
#
# Node (--new only): the Node variant of the package (`npm run deb -- --runtime node`) depends on
# nodejs (>= 20), and bookworm has Node 18 (bookworm-backports has no
# nodejs at all), so the archive cannot satisfy it. Each new root gets a small "nodejs" package
# built here with dpkg-deb that carries the real node binary the tests run under
# (MDEVCTL_DEB_NODE, default `node` on PATH; version = that binary's, with a "~local" revision),
# installed with dpkg in the root: the dependency is then satisfied, and checked, by dpkg itself,
# as with Debian's nodejs (trixie and later) or NodeSource's on a real host. The binary must run
# on bookworm's libc (official and NodeSource builds do; a Debian trixie node linked to libnode
# does not, and the script says so).
#
# Needs root, debootstrap, dpkg-deb and chroot. Exit status 125 with one line on stderr when the
# root cannot be made (test/deb.test.ts turns that into the reason it gives).
set -euo pipefail

case "${1:-}" in
  --setup) SUITE="${2:-bookworm}" ;;
  --new|--new-bare) SUITE="${3:-bookworm}" ;;
  *) SUITE=bookworm ;;
esac
case "$SUITE" in
  bookworm) DEBIAN_MDEVCTL=1.2.0 ;;
  trixie) DEBIAN_MDEVCTL=1.4.0 ;;
  *) echo "deb-test-root: unknown suite '$SUITE' (bookworm or trixie)" >&2; exit 2 ;;
esac
CACHE="${MDEVCTL_DEB_ROOT_CACHE:-/var/cache/mdevctl-ts-debroot}/$SUITE"
INCLUDE=man-db,bash-completion,mdevctl

die() { echo "deb-test-root: $*" >&2; exit 125; }

# mirror: the Debian mirror (MDEVCTL_DEB_MIRROR, else this machine's apt sources)
. "$(dirname "${BASH_SOURCE[0]}")/lib/debian-mirror.sh"

# the stamp is written last; the base also keeps Debian's mdevctl .deb, to install it again
ready() { [ -f "$CACHE/READY" ] && compgen -G "$CACHE/root/debian-mdevctl/mdevctl_*.deb" >/dev/null; }

setup() {
  if ready; then echo "$CACHE"; return 0; fi
  [ "$(id -u)" = 0 ] || die "not root (debootstrap, dpkg in a chroot and chroot need root)"
  for tool in debootstrap dpkg-deb chroot flock; do
    command -v "$tool" >/dev/null 2>&1 || die "no $tool on PATH (Debian package ${tool/flock/util-linux})"
  done
  mkdir -p "$(dirname "$CACHE")"
  exec 9>"$CACHE.lock"
  flock 9
  if ready; then echo "$CACHE"; return 0; fi
  rm -rf "$CACHE" "$CACHE".tmp.*
  local tmp m
  tmp="$(mktemp -d "$CACHE.tmp.XXXXXX")"
  m="$(mirror)"
  echo "deb-test-root: making the base root (debootstrap $SUITE from $m, once per machine)" >&2
  if ! debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$tmp/root" "$m" >"$tmp/debootstrap.log" 2>&1; then
    local why; why="$(grep -E '^(E|W):' "$tmp/debootstrap.log" | tail -n 2 | tr '\n' ' ')"
    mv "$tmp/debootstrap.log" "$CACHE.debootstrap.log" 2>/dev/null || true
    rm -rf "$tmp"
    die "debootstrap $SUITE from $m failed: ${why:-see $CACHE.debootstrap.log}"
  fi
  mkdir -p "$tmp/root/root/debian-mdevctl"
  cp "$tmp"/root/var/cache/apt/archives/mdevctl_*.deb "$tmp/root/root/debian-mdevctl/" || { rm -rf "$tmp"; die "no mdevctl .deb left by debootstrap"; }
  chroot "$tmp/root" apt-get clean
  local v
  v="$(chroot "$tmp/root" dpkg-query -W -f '${Version}' mdevctl 2>/dev/null)" || true
  case "$v" in "$DEBIAN_MDEVCTL"*) ;; *) rm -rf "$tmp"; die "the base root has mdevctl '$v', not Debian's $DEBIAN_MDEVCTL";; esac
  mv "$tmp/root" "$CACHE"
  rm -rf "$tmp"
  echo "$SUITE mdevctl $v" >"$CACHE/READY"
  echo "$CACHE"
}

# The "nodejs" package for a root: the real node binary, registered with dpkg.
node_deb() {
  local out="$1" node version arch
  node="$(command -v "${MDEVCTL_DEB_NODE:-node}")" || die "no node on PATH"
  node="$(readlink -f "$node")"
  version="$("$node" --version)" || die "$node --version failed"
  version="${version#v}"
  arch="$(dpkg --print-architecture)"
  local stage="$out.stage"
  mkdir -p "$stage/DEBIAN" "$stage/usr/bin"
  cp "$node" "$stage/usr/bin/node"
  chmod 0755 "$stage/usr/bin/node"
  cat >"$stage/DEBIAN/control" <<EOF
Package: nodejs
Version: $version~local1
Architecture: $arch
Maintainer: mdevctl-ts tests <nobody@localhost>
Depends: libc6, libstdc++6, libgcc-s1
Section: javascript
Priority: optional
Description: Node.js $version for mdevctl-ts package tests
 The node binary of the machine running the tests ($node), packaged by
 scripts/deb-test-root.sh so that dpkg sees Depends: nodejs (>= 20) satisfied.
EOF
  # no compression: the binary is large and the package never leaves this machine
  dpkg-deb -Znone --root-owner-group --build "$stage" "$out" >/dev/null || die "dpkg-deb of the nodejs package failed"
  rm -rf "$stage"
}

new_bare() {
  local dir="$1"
  [ ! -e "$dir" ] || die "$dir exists"
  setup >/dev/null
  cp -a "$CACHE" "$dir"
  rm -f "$dir/READY"
}

new_root() {
  local dir="$1"
  new_bare "$dir"
  node_deb "$dir/tmp/nodejs.deb"
  local out
  if ! out="$(chroot "$dir" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin dpkg -i /tmp/nodejs.deb 2>&1)"; then
    die "dpkg -i nodejs in the root failed: $(echo "$out" | tail -n 2 | tr '\n' ' ')"
  fi
  rm -f "$dir/tmp/nodejs.deb"
  if ! out="$(chroot "$dir" /usr/bin/node --version 2>&1)"; then
    die "the node binary ($(command -v "${MDEVCTL_DEB_NODE:-node}")) does not run in a $SUITE root: $(echo "$out" | head -n 1)"
  fi
  echo "$dir"
}

case "${1:-}" in
  --setup) setup ;;
  --new) [ $# -ge 2 ] && [ $# -le 3 ] || die "usage: $0 --new DIR [SUITE]"; [ "$(id -u)" = 0 ] || die "not root"; new_root "$2" ;;
  --new-bare) [ $# -ge 2 ] && [ $# -le 3 ] || die "usage: $0 --new-bare DIR [SUITE]"; [ "$(id -u)" = 0 ] || die "not root"; new_bare "$2"; echo "$2" ;;
  *) awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"; [ -n "${1:-}" ] || exit 0; exit 2 ;;
esac
