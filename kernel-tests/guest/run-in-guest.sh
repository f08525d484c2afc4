#!/bin/sh
# Runs inside the guest, chrooted into the host's / (read-only, under a throw-away tmpfs overlay):
# puts the built CLI on PATH as mdevctl/lsmdev, gives mdevctl a clean /etc/mdevctl.d (with the
# script directories 1.2.0 insists on), installs udev's daemon and our rule (udev is not
# installed on the host: its package is unpacked in the cache), starts a syslog for the rule's
# `logger`, then runs the scenarios. Usage: run-in-guest.sh REPO KVER UDEV_ROOT
repo="$1"
kver="$2"
udev="$3"
mkdir -p /usr/local/sbin
# the udev rule runs mdevctl with the standard PATH: node must be found there too
[ -x /usr/bin/node ] || [ -x /usr/local/bin/node ] || ln -s "$(command -v node)" /usr/local/bin/node
ln -sf "$repo/bin/mdevctl" /usr/local/sbin/mdevctl
ln -sf "$repo/bin/lsmdev" /usr/local/sbin/lsmdev
# The power-cut scenario (kernel-tests/powercut.sh): the stores live on the two virtio disks
pc_arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^mdevctl\.$1=//p" | tail -n 1; }
if [ -n "$(pc_arg powercut)" ]; then
  modprobe virtio_blk && modprobe ext4 || { echo "powercut: no virtio_blk/ext4" >&2; exit 1; }
  mkdir -p /mnt/ours /mnt/ref /var/lib/mdevctl /run/lock
  # default mount options; mounting replays ext4's journal after a cut
  mount -t ext4 /dev/vda /mnt/ours && mount -t ext4 /dev/vdb /mnt/ref || { echo "powercut: cannot mount the disks" >&2; exit 1; }
  rm -rf /etc/mdevctl.d && mkdir -p /etc/mdevctl.d
  mount --bind /mnt/ours/etc/mdevctl.d /etc/mdevctl.d && mount --bind /mnt/ours/run/lock /run/lock \
    && mount --bind /mnt/ours/var/lib/mdevctl /var/lib/mdevctl || { echo "powercut: bind mounts failed" >&2; exit 1; }
  exec node "$repo/kernel-tests/guest/powercut.mjs" guest /results "$(pc_arg powercut)" "$(pc_arg seed)" "$(pc_arg refoverlay)"
fi
rm -rf /etc/mdevctl.d
mkdir -p /etc/mdevctl.d/scripts.d/callouts /etc/mdevctl.d/scripts.d/notifiers /run/lock
mkdir -p /lib/systemd /etc/udev/rules.d /run/udev
# udevadm first: newer udev packages ship systemd-udevd as a link to /bin/udevadm (absolute), which
# only resolves here once udevadm is in place
[ -e /bin/udevadm ] || cp "$udev/bin/udevadm" /bin/udevadm
[ -e /lib/systemd/systemd-udevd ] || cp "$udev/lib/systemd/systemd-udevd" /lib/systemd/systemd-udevd
cp "$repo/udev/60-mdevctl.rules" /etc/udev/rules.d/60-mdevctl.rules
busybox syslogd -O /results/syslog
exec node "$repo/kernel-tests/guest/scenarios.mjs" "$kver" /results
