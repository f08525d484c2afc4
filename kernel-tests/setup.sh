#!/usr/bin/env bash
# Prepares everything `npm run test:kernel` needs, idempotently, in a cache outside the repository:
#   ${MDEVCTL_KERNEL_CACHE:-/var/cache/mdevctl-ts-kernel}/
#     KVER/root/          the kernel image package, extracted (never installed): boot/, lib/modules/
#     KVER/root/lib/modules/KVER/extra/{mtty,mdpy,mbochs}.ko   the mdev samples, built here
#     KVER/vmlinux        the uncompressed kernel (PVH entry: QEMU boots it directly, fast)
#     KVER/src/           samples/vfio-mdev/ and scripts/extract-vmlinux from linux-source-X.Y
#     KVER/READY          stamp, written last
#     udev/root/          Debian's udev package, extracted (systemd-udevd and udevadm for the guest)
#     KVER/hdr/           linux-headers-KVER (+ -common, linux-kbuild), unpacked: the samples' build
# Installs for real only tools (qemu-system-x86, busybox-static, cpio, kmod, bc, dwarves, gcc-12);
# kernel images and headers are only downloaded and unpacked, so no kernel postinst hook ever runs
# on this machine.
#
#   kernel-tests/setup.sh            set up both kernels; print "KVER" lines, one per kernel
# Exit status 2 with one line on stderr when this machine cannot run the suite (not root, no apt).
set -euo pipefail

CACHE="${MDEVCTL_KERNEL_CACHE:-/var/cache/mdevctl-ts-kernel}"
APT=(apt-get -o DPkg::Lock::Timeout=600 -q)

cannot() {
  if [ "${MDEVCTL_KERNEL_TESTS:-}" = skip ]; then echo "test:kernel: skipped (MDEVCTL_KERNEL_TESTS=skip): $*" >&2
  else echo "test:kernel: cannot run: $* (MDEVCTL_KERNEL_TESTS=skip skips)" >&2; fi
  exit 2
}
say() { echo "test:kernel: $*" >&2; }

[ "$(id -u)" = 0 ] || cannot "not root (installing packages, chroot and 9p sharing of / need root)"
command -v apt-get >/dev/null 2>&1 && command -v dpkg-deb >/dev/null 2>&1 \
  || cannot "no apt-get/dpkg-deb (the kernels, headers and QEMU come from Debian's packages)"
[ "$(uname -m)" = x86_64 ] || cannot "not an x86_64 machine (the suite boots Debian's amd64 kernels)"

mkdir -p "$CACHE"
exec 8>"$CACHE/.lock"
flock 8

updated=0
apt_update_once() {
  if [ "$updated" = 0 ]; then
    say "apt-get update"
    "${APT[@]}" update >/dev/null 2>&1 || true
    updated=1
  fi
}

# The package a meta-package points at today, e.g. linux-image-amd64 -> linux-image-6.1.0-57-amd64.
resolve() {
  local meta="$1" dep
  dep="$(apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-/ { print $2; exit }')"
  if [ -z "$dep" ]; then
    apt_update_once
    dep="$(apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-/ { print $2; exit }')"
  fi
  [ -n "$dep" ] || cannot "apt knows no $meta (is Debian bookworm with bookworm-security in sources?)"
  echo "${dep#linux-image-}"
}

install_pkgs() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  say "installing ${missing[*]}"
  if ! DEBIAN_FRONTEND=noninteractive "${APT[@]}" install -y --no-install-recommends "${missing[@]}" >"$CACHE/apt.log" 2>&1; then
    apt_update_once
    DEBIAN_FRONTEND=noninteractive "${APT[@]}" install -y --no-install-recommends "${missing[@]}" >"$CACHE/apt.log" 2>&1 \
      || cannot "apt-get install ${missing[*]} failed: $(grep -E '^E:' "$CACHE/apt.log" | head -n 1)"
  fi
}

# Downloads PKG's .deb into DIR (a scratch dir) and prints its path.
download() {
  local pkg="$1" dir="$2"
  (cd "$dir" && "${APT[@]}" download "$pkg") >"$dir/download.log" 2>&1 || {
    apt_update_once
    (cd "$dir" && "${APT[@]}" download "$pkg") >"$dir/download.log" 2>&1 \
      || cannot "apt-get download $pkg failed: $(grep -E '^E:' "$dir/download.log" | head -n 1)"
  }
  ls "$dir"/"${pkg%%=*}"_*.deb | head -n 1
}

K61="$(resolve linux-image-amd64)"
K612="$(resolve linux-image-6.12-amd64)"

# Build tools only: the headers are unpacked per kernel below (6.12's headers package depends on
# its image package, which must not be installed here).
install_pkgs qemu-system-x86 busybox-static cpio kmod bc dwarves xz-utils make gcc-12 \
  libelf1 libssl3 zlib1g

setup_kernel() {
  local kver="$1" series="$2" dir="$CACHE/$1"
  [ -f "$dir/READY" ] && return 0
  say "preparing kernel $kver (image, samples from linux-source-$series, vmlinux)"
  rm -rf "$dir"
  mkdir -p "$dir/dl" "$dir/root" "$dir/src"
  local deb
  deb="$(download "linux-image-$kver" "$dir/dl")"
  dpkg-deb -x "$deb" "$dir/root"
  deb="$(download "linux-source-$series" "$dir/dl")"
  # Only two pieces of the source tarball are needed; stream it instead of unpacking 1.5 GB.
  dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/linux-source-$series.tar.xz" \
    | tar -xJ -C "$dir/src" --strip-components=1 --wildcards \
        "linux-source-$series/samples/vfio-mdev/*" "linux-source-$series/scripts/extract-vmlinux"
  # Headers: the flavour package, its -common and linux-kbuild, unpacked side by side so their
  # relative links (scripts -> ../../lib/linux-kbuild-X/scripts) hold; the one absolute path, the
  # flavour Makefile's include of the -common Makefile, is pointed into the cache.
  local hdr="$dir/hdr" p
  mkdir -p "$hdr"
  for p in "linux-headers-$kver" $(apt-cache depends "linux-headers-$kver" \
      | awk '/Depends: linux-(headers-.*-common|kbuild-)/ { print $2 }'); do
    deb="$(download "$p" "$dir/dl")"
    dpkg-deb -x "$deb" "$hdr"
  done
  sed -i "s|^include /usr/src/|include $hdr/usr/src/|" "$hdr/usr/src/linux-headers-$kver/Makefile"
  rm -rf "$dir/dl"

  local build="$dir/build"
  mkdir -p "$build"
  cp "$dir/src/samples/vfio-mdev/"*.[ch] "$build/"
  echo 'obj-m := mtty.o mdpy.o mbochs.o' >"$build/Kbuild"
  make -s -C "$hdr/usr/src/linux-headers-$kver" M="$build" modules >"$dir/build.log" 2>&1 \
    || cannot "building the mdev samples for $kver failed: $(grep -m1 -E 'error|Error' "$dir/build.log")"
  mkdir -p "$dir/root/lib/modules/$kver/extra"
  cp "$build"/{mtty,mdpy,mbochs}.ko "$dir/root/lib/modules/$kver/extra/"
  depmod -b "$dir/root" "$kver"

  sh "$dir/src/scripts/extract-vmlinux" "$dir/root/boot/vmlinuz-$kver" >"$dir/vmlinux" \
    || cannot "extract-vmlinux failed for $kver"
  echo "$kver" >"$dir/READY"
}

setup_udev() {
  local dir="$CACHE/udev"
  [ -f "$dir/READY" ] && return 0
  rm -rf "$dir"
  mkdir -p "$dir/dl" "$dir/root"
  local want deb
  # The same version as the machine's libsystemd-shared, which the guest borrows from the host.
  want="$(dpkg-query -W -f='${Version}' libsystemd-shared 2>/dev/null || true)"
  deb="$(download "udev${want:+=$want}" "$dir/dl")"
  dpkg-deb -x "$deb" "$dir/root"
  rm -rf "$dir/dl"
  echo ok >"$dir/READY"
}

setup_kernel "$K61" 6.1
setup_kernel "$K612" 6.12
setup_udev
echo "$K61"
echo "$K612"
