#!/usr/bin/env bash
# One run of the libvirt scenario (libvirt-tests/README.md), started by run.sh as
#   unshare --mount --pid --fork --propagation private libvirt-tests/session.sh BASE MDEVCTL WORK
# so that it is process 1 of its own PID namespace in its own mount namespace: when it ends, for
# whatever reason, the kernel kills the daemon and every other process it started, and the mounts
# (overlay, /proc, /dev, /run, /sys, the results) go with the namespace. Nothing is torn down by
# hand and nothing leaks into the machine or the cached root.
#
#   BASE      the cached root (root.sh), mounted read-only as the overlay's lower layer
#   MDEVCTL   1.4.0   upstream's: trixie's package as installed in the trixie root; in the bookworm
#                     root, trixie's binary with trixie's loader, libc and libgcc_s beside it
#                     (/opt/mdevctl-1.4.0, run through that loader: 1.4.0 needs glibc 2.39)
#             ours    dist/mdevctl-ts_*.deb installed with apt in the root, in place of Debian's
#                     mdevctl (for the Node variant, the bookworm root first gets a nodejs package
#                     carrying this machine's node, since bookworm's nodejs is 18 and that variant
#                     depends on >= 20; the executable's package needs no Node)
#   WORK      a scratch directory: upper/ and ovl/ of the overlay, root/ (the merged root),
#             results/ (what the scenario writes; run.sh compares it)
set -euo pipefail
BASE="$1" MDEVCTL="$2" WORK="$3"
HERE="$(cd "$(dirname "$0")" && pwd)"

R="$WORK/root"
log() { echo "libvirt-session: $*" >&2; }

mkdir -p "$WORK/upper" "$WORK/ovl" "$R" "$WORK/results"
mount -t overlay overlay -o "lowerdir=$BASE,upperdir=$WORK/upper,workdir=$WORK/ovl" "$R"
mount -t proc proc "$R/proc"
mount --rbind /dev "$R/dev"
mount -t tmpfs -o mode=0755 tmpfs "$R/run"
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
mount --rbind /sys "$R/sys"
mount -o remount,bind,ro "$R/sys" 2>/dev/null || true
mkdir -p "$R/results"
mount --bind "$WORK/results" "$R/results"

in_root() { chroot "$R" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
suite="$(cut -d' ' -f1 "$(dirname "$BASE")/READY")"

# --- the mdevctl under test ---------------------------------------------------------------------
real=/usr/bin/mdevctl
case "$MDEVCTL" in
  ours)
    deb="${MDEVCTL_LIBVIRT_DEB:?run.sh sets it}"
    cp "$deb" "$R/tmp/"
    if [ "$suite" = bookworm ] && dpkg-deb -f "$deb" Depends | grep -qw nodejs; then
      # bookworm's nodejs is 18; the Node variant depends on nodejs (>= 20): a nodejs package carrying
      # this machine's node binary (as scripts/deb-test-root.sh does), registered with dpkg
      "$HERE/node-deb.sh" "$R/tmp/nodejs.deb"
      in_root dpkg -i /tmp/nodejs.deb >"$WORK/results/install.log" 2>&1
    fi
    # apt installs it in place of Debian's mdevctl (Conflicts/Replaces/Provides: mdevctl); every
    # dependency is in the root already
    in_root apt-get install -y "/tmp/$(basename "$deb")" >>"$WORK/results/install.log" 2>&1 ||
      { tail -n 5 "$WORK/results/install.log" >&2; exit 1; }
    ;;
  1.4.0)
    if [ "$suite" = bookworm ]; then
      ref="$(dirname "$(dirname "$BASE")")/trixie/root"
      [ -x "$ref/usr/bin/mdevctl" ] || { log "no trixie root with mdevctl 1.4.0 at $ref"; exit 1; }
      mkdir -p "$R/opt/mdevctl-1.4.0/lib"
      cp "$ref/usr/bin/mdevctl" "$R/opt/mdevctl-1.4.0/mdevctl"
      for lib in $(chroot "$ref" ldd /usr/bin/mdevctl | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p'); do
        cp -L "$ref$lib" "$R/opt/mdevctl-1.4.0/lib/"
      done
      cp -L "$ref/lib64/ld-linux-x86-64.so.2" "$R/opt/mdevctl-1.4.0/ld.so"
      real="/opt/mdevctl-1.4.0/ld.so --library-path /opt/mdevctl-1.4.0/lib /opt/mdevctl-1.4.0/mdevctl"
      in_root mkdir -p /usr/lib/mdevctl/scripts.d/callouts /usr/lib/mdevctl/scripts.d/notifiers
    fi
    ;;
  *) log "MDEVCTL must be 1.4.0 or ours"; exit 2 ;;
esac

# libvirt runs "mdevctl" from its PATH (MDEVCTL is a bare name in Debian's builds): a wrapper in
# /usr/local/sbin, ahead of /usr/bin, logs every call (argv, then the exit status) and runs the
# mdevctl under test on the fixture (MDEVCTL_ENV_ROOT=/fixture; both mdevctls honour it). libvirt
# passes its environment on to mdevctl, but the wrapper sets the root itself so that nothing
# depends on that.
mkdir -p "$R/usr/local/sbin"
cat >"$R/usr/local/sbin/mdevctl" <<WRAP
#!/bin/bash
# each line in one write(2) to the O_APPEND log: libvirt runs calls side by side (an inotify-driven
# list while a define is still ending), and lines written in pieces interleave
line="call \$\$\$(printf ' %q' "\$@")"
printf '%s\n' "\$line" >>/var/log/mdevctl-calls.log
MDEVCTL_ENV_ROOT=/fixture $real "\$@"
rc=\$?
printf 'exit %s %s\n' "\$\$" "\$rc" >>/var/log/mdevctl-calls.log
exit \$rc
WRAP
chmod 0755 "$R/usr/local/sbin/mdevctl"
echo "$real" >"$R/usr/local/sbin/mdevctl.real-command"
: >"$R/var/log/mdevctl-calls.log"

# --- the daemon ---------------------------------------------------------------------------------
cp "$HERE/scenario.sh" "$R/tmp/scenario.sh"
PARENT="$(ls /sys/bus/pci/devices | head -n 1)"
[ -n "$PARENT" ] || { log "no PCI device in /sys/bus/pci/devices: libvirt needs one as the mdev parent"; exit 1; }
in_root bash /tmp/scenario.sh fixture "$PARENT"
# (1.4.0 refuses to start, even for --version, without ROOT/etc/mdevctl.d)
version="$(in_root MDEVCTL_ENV_ROOT=/fixture $real --version 2>&1)" || { log "mdevctl --version failed: $version"; exit 1; }
echo "$version" >"$WORK/results/mdevctl-version"
# libvirt watches /etc/mdevctl.d: it is the fixture's, bound there before the daemon starts
mkdir -p "$R/etc/mdevctl.d"
mount --bind "$R/fixture/etc/mdevctl.d" "$R/etc/mdevctl.d"
# only the node-device driver: bookworm's libvirt-daemon also ships the QEMU, network, storage...
# drivers, which libvirtd would load (and QEMU's fails without libvirt-daemon-system's users)
for so in "$R"/usr/lib/*/libvirt/connection-driver/libvirt_driver_*.so; do
  case "$so" in */libvirt_driver_nodedev.so) ;; *) rm -f "$so" ;; esac
done
cat >>"$R/etc/libvirt/libvirtd.conf" <<'CONF'
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:file:/results/libvirtd.log"
CONF
in_root libvirtd >"$WORK/results/libvirtd.out" 2>&1 &
daemon=$!
for _ in $(seq 300); do
  [ -S "$R/run/libvirt/libvirt-sock" ] && break
  kill -0 "$daemon" 2>/dev/null || { log "libvirtd ended at start: $(tail -n 3 "$WORK/results/libvirtd.out")"; exit 1; }
  sleep 0.1
done
[ -S "$R/run/libvirt/libvirt-sock" ] || { log "libvirtd made no socket in 30 s"; exit 1; }
in_root bash /tmp/scenario.sh run "$PARENT"
