#!/usr/bin/env bash
# The cached Debian roots of `npm run test:libvirt` (libvirt-tests/README.md): debootstrap
# --variant=minbase of the suite, then libvirt's node-device driver and virsh installed by apt in a
# chroot (with a policy-rc.d that stops any service from starting: nothing runs in the cache).
#
#   libvirt-tests/root.sh trixie     libvirt 11.3 (libvirt-daemon-driver-nodedev, libvirt-clients),
#                                    Debian's mdevctl 1.4.0 and nodejs 20 (the dependency of our
#                                    package's Node variant, MDEVCTL_LIBVIRT_RUNTIME=node)
#   libvirt-tests/root.sh bookworm   libvirt 9.0 (libvirt-daemon, libvirt-clients); no mdevctl, no
#                                    nodejs (bookworm's is 18: run.sh installs a nodejs package
#                                    carrying this machine's node binary, as scripts/deb-test-root.sh
#                                    does, in the run's throwaway overlay)
#
# Prints the root's path. Cache: ${MDEVCTL_LIBVIRT_CACHE:-/var/cache/mdevctl-ts-libvirt}/SUITE/root,
# READY written last; a debootstrapped but not yet equipped root is kept as SUITE.tmp (stage stamp
# DEBOOTSTRAPPED) so an interrupted first run resumes with apt. Mirror: MDEVCTL_DEB_MIRROR, else
# the first Debian mirror of /etc/apt/sources.list* (as scripts/deb-test-root.sh finds it).
# Exit status 125 with one line on stderr when the root cannot be made.
set -euo pipefail

SUITE="${1:-}"
CACHE="${MDEVCTL_LIBVIRT_CACHE:-/var/cache/mdevctl-ts-libvirt}"
case "$SUITE" in
  trixie) PKGS=(libvirt-daemon-driver-nodedev libvirt-clients mdevctl nodejs) ;;
  bookworm) PKGS=(libvirt-daemon libvirt-clients) ;;
  *) echo "usage: $0 trixie|bookworm" >&2; exit 2 ;;
esac
DIR="$CACHE/$SUITE"
TMP="$CACHE/$SUITE.tmp"

die() { echo "libvirt-root: $*" >&2; exit 125; }

# mirror: the Debian mirror (MDEVCTL_DEB_MIRROR, else this machine's apt sources)
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/debian-mirror.sh"

[ -f "$DIR/READY" ] && { echo "$DIR/root"; exit 0; }
[ "$(id -u)" = 0 ] || die "not root (debootstrap and apt in a chroot need root)"
for tool in debootstrap chroot unshare flock timeout; do
  command -v "$tool" >/dev/null 2>&1 || die "no $tool on PATH (apt-get install ${tool/unshare/util-linux})"
done
mkdir -p "$CACHE"
exec 9>"$CACHE/$SUITE.lock"
flock 9
[ -f "$DIR/READY" ] && { echo "$DIR/root"; exit 0; }

m="$(mirror)"
if [ ! -f "$TMP/DEBOOTSTRAPPED" ]; then
  rm -rf "$TMP"
  mkdir -p "$TMP"
  echo "libvirt-root: debootstrap $SUITE from $m (once per machine, a few minutes)" >&2
  if ! timeout 1800 debootstrap --variant=minbase "$SUITE" "$TMP/root" "$m" >"$TMP/debootstrap.log" 2>&1; then
    why="$(grep -E '^(E|W):' "$TMP/debootstrap.log" | tail -n 2 | tr '\n' ' ')"
    die "debootstrap $SUITE from $m failed: ${why:-see $TMP/debootstrap.log}"
  fi
  echo "$m" >"$TMP/DEBOOTSTRAPPED"
fi

echo "libvirt-root: apt-get install ${PKGS[*]} in the $SUITE root" >&2
printf '#!/bin/sh\nexit 101\n' >"$TMP/root/usr/sbin/policy-rc.d"
chmod 0755 "$TMP/root/usr/sbin/policy-rc.d"
# a private mount namespace: /proc and /dev for the maintainer scripts go away with it
if ! timeout 1800 unshare --mount --propagation private sh -c '
    set -e
    r="$1"; shift
    mount -t proc proc "$r/proc"
    mount --rbind /dev "$r/dev"
    chroot "$r" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
      sh -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends $* && apt-get clean"
  ' sh "$TMP/root" "${PKGS[@]}" >"$TMP/apt.log" 2>&1; then
  die "apt-get install in the $SUITE root failed: $(grep -E '^(E|W):' "$TMP/apt.log" | tail -n 2 | tr '\n' ' ') (log: $TMP/apt.log)"
fi
v="$(chroot "$TMP/root" dpkg-query -W -f '${Version}' libvirt-clients)" || die "no libvirt-clients in the root"
mdev=""
if [ "$SUITE" = trixie ]; then
  mdev="$(chroot "$TMP/root" dpkg-query -W -f '${Version}' mdevctl)" || die "no mdevctl in the root"
  case "$mdev" in 1.4.0*) ;; *) die "the trixie root has mdevctl '$mdev', not 1.4.0" ;; esac
fi
rm -rf "$DIR"
mkdir -p "$DIR"
mv "$TMP/root" "$DIR/root"
mv "$TMP"/*.log "$DIR/" 2>/dev/null || true
rm -rf "$TMP"
echo "$SUITE libvirt $v${mdev:+ mdevctl $mdev}" >"$DIR/READY"
echo "$DIR/root"
