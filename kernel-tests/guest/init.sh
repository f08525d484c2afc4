#!/bin/busybox sh
# The initramfs's /init (static busybox): mounts the host's / (9p share "hostroot", read-only)
# under a tmpfs overlay, chroots into it and runs the scenario runner with the host's node, then
# powers off. Parameters come from the kernel command line:
#   mdevctl.repo=DIR   the repository on the host (its built CLI and kernel-tests/guest/)
#   mdevctl.kver=KVER  the kernel release; its modules are at mdevctl.mods=DIR on the host
#   mdevctl.nodedir=D  the directory of the host's node, put first on PATH
#   mdevctl.probe=1    only prove the kernel boots (acceleration probe): print a marker, power off
# Results go to the writable 9p share "results" (mounted at /results in the chroot).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

cmdline="$(cat /proc/cmdline)"
arg() { echo "$cmdline" | tr ' ' '\n' | sed -n "s/^mdevctl\.$1=//p" | tail -n 1; }

if [ "$(arg probe)" = 1 ]; then
  echo "MDEVCTL-GUEST-BOOTED"
  poweroff -f
fi

for m in $(cat /modules.order); do insmod "/modules/$m" || echo "init: insmod $m failed"; done

fail() { echo "MDEVCTL-GUEST-FAILED: $*"; poweroff -f; }

mkdir -p /lower /ovl /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /lower \
  || fail "cannot mount the host's / over 9p"
mount -t tmpfs -o size=512m tmpfs /ovl
mkdir -p /ovl/upper /ovl/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/ovl/upper,workdir=/ovl/work /newroot \
  || fail "cannot mount the overlay"
for d in proc sys dev; do mount --move /$d /newroot/$d; done
mount -t tmpfs tmpfs /newroot/run
mkdir -p /newroot/results
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 results /newroot/results \
  || fail "cannot mount the results share"

kver="$(arg kver)"
mods="$(arg mods)"
mkdir -p "/newroot/usr/lib/modules/$kver"
mount --bind "/newroot$mods" "/newroot/usr/lib/modules/$kver" || fail "no modules at $mods"

repo="$(arg repo)"
echo "MDEVCTL-GUEST-RUNNING $kver"
# the host's node first (it may live outside the standard directories, e.g. /usr/local or /opt)
chroot /newroot /usr/bin/env -i PATH="$(arg nodedir):/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  HOME=/root LANG=C.UTF-8 /bin/sh "$repo/kernel-tests/guest/run-in-guest.sh" "$repo" "$kver" "$(arg udev)" \
  >/newroot/results/guest.log 2>&1
echo "MDEVCTL-GUEST-DONE rc=$?"
sync
poweroff -f
