#!/usr/bin/env bash
# `npm run test:kernel`: boots Debian's kernels (6.1 and 6.12) in QEMU with the mdev sample
# drivers and runs the scenario suite (kernel-tests/guest/scenarios.mjs) inside each, against the
# real /sys, with this repository's built CLI. See kernel-tests/README.md.
#
# Environment:
#   MDEVCTL_KERNEL_TESTS=skip     where the suite cannot run, say why and exit 0 (default: exit 1)
#   MDEVCTL_KERNEL_CACHE=DIR      the cache (default /var/cache/mdevctl-ts-kernel)
#   MDEVCTL_KERNEL_ACCEL=kvm|tcg  skip the KVM probe and use this accelerator
#   MDEVCTL_KERNEL_ONLY=6.1|6.12  boot one kernel only
#   MDEVCTL_KERNEL_TIMEOUT=SECS   bound on one guest run (default 1200); QEMU is killed after it
#   MDEVCTL_KERNEL_UPDATE_LAYOUTS=1  write the captured sysfs layouts to kernel-tests/layouts/
#                                 instead of comparing them (then run test/kernel-layout.test.ts)
#   MDEVCTL_KERNEL_KEEP=DIR       keep each kernel's results (console, guest log, layouts) in DIR
#   MDEVCTL_KERNEL_SCENARIOS=RE   run only the scenarios whose name matches the regular expression
#                                 RE (while developing one; the layouts are then not compared)
#   MDEVCTL_KERNEL_POWERCUT=only|skip  only the power-cut scenario, or none of it (default: both)
#   MDEVCTL_POWERCUT_CUTS, MDEVCTL_POWERCUT_SEED, MDEVCTL_POWERCUT_ACKS, MDEVCTL_POWERCUT_WINDOW: see kernel-tests/powercut.sh
set -uo pipefail
cd "$(dirname "$0")/.."
REPO="$(pwd)"
CACHE="${MDEVCTL_KERNEL_CACHE:-/var/cache/mdevctl-ts-kernel}"
TIMEOUT="${MDEVCTL_KERNEL_TIMEOUT:-1200}"
start_all=$SECONDS

cannot() {
  if [ "${MDEVCTL_KERNEL_TESTS:-}" = skip ]; then
    echo "test:kernel: skipped (MDEVCTL_KERNEL_TESTS=skip): $*" >&2
    exit 0
  fi
  echo "test:kernel: cannot run: $* (MDEVCTL_KERNEL_TESTS=skip skips)" >&2
  exit 1
}

[ "$(uname -s)" = Linux ] || cannot "not Linux"
[ "$(id -u)" = 0 ] || cannot "not root (installing packages, chroot and 9p sharing of / need root)"
[ -f "$REPO/dist/cli.cjs" ] || cannot "the CLI is not built (npm run build)"
command -v node >/dev/null || cannot "no node on PATH"
NODE_DIR="$(dirname "$(readlink -f "$(command -v node)")")"
case "$NODE_DIR" in *' '*) cannot "node's directory $NODE_DIR has a space (the kernel command line cannot carry it)" ;; esac

# Setup (idempotent, cached): packages, kernels, samples, udev. Its own "cannot" exits with 2.
setup_out="$(mktemp)"
kernel-tests/setup.sh >"$setup_out"
rc=$?
if [ $rc = 2 ]; then  # setup said why, in one line
  rm -f "$setup_out"
  [ "${MDEVCTL_KERNEL_TESTS:-}" = skip ] && exit 0
  exit 1
fi
[ $rc = 0 ] || { rm -f "$setup_out"; echo "test:kernel: setup failed (exit $rc)" >&2; exit 1; }
mapfile -t KVERS <"$setup_out"
rm -f "$setup_out"
command -v qemu-system-x86_64 >/dev/null || cannot "no qemu-system-x86_64"

REF_MDEVCTL=""
if ref_cache="$(scripts/reference-mdevctl.sh --setup 2>/dev/null)"; then
  REF_MDEVCTL="$ref_cache/pkg/usr/bin/mdevctl"
else
  echo "test:kernel: mdevctl 1.2.0 unavailable: the side-by-side scenarios will fail" >&2
fi
echo "test:kernel: setup done in $((SECONDS - start_all)) s" >&2

WORK="$(mktemp -d /tmp/mdevctl-kernel.XXXXXX)"
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT

# The initramfs: static busybox, /init, and the modules that mount the host's / (decompressed:
# busybox's insmod takes plain .ko files), in dependency order.
make_initramfs() {
  local kver="$1" out="$2" dir="$WORK/initramfs-$1" line mod base
  local modroot="$CACHE/$kver/root"
  rm -rf "$dir"
  mkdir -p "$dir"/{bin,proc,sys,dev,modules}
  cp /bin/busybox "$dir/bin/busybox"
  cp kernel-tests/guest/init.sh "$dir/init"
  chmod +x "$dir/init"
  : >"$dir/modules.order"
  while read -r line; do
    case "$line" in
      insmod\ *)
        mod="${line#insmod }"; mod="${mod%% *}"
        [ -f "$mod" ] || mod="$modroot$mod"
        base="$(basename "$mod")"
        case "$base" in
          *.ko.xz) xz -dc "$mod" >"$dir/modules/${base%.xz}"; base="${base%.xz}" ;;
          *.ko.zst) zstd -qdc "$mod" >"$dir/modules/${base%.zst}"; base="${base%.zst}" ;;
          *) cp "$mod" "$dir/modules/$base" ;;
        esac
        grep -qx "$base" "$dir/modules.order" || echo "$base" >>"$dir/modules.order"
        ;;
    esac
  done < <(for m in virtio_pci 9pnet_virtio 9p overlay; do modprobe -d "$modroot" -S "$kver" --show-depends "$m"; done)
  (cd "$dir" && find . | cpio -o -H newc --quiet) | gzip -1 >"$out"
}

# Boots KVER with ACCEL; APPEND is added to the kernel command line. Console to LOG.
# no_timer_check: under TCG on a loaded host the kernel's early IO-APIC timer check can miss its
# ticks and panic ("IO-APIC + timer doesn't work!"; seen with load average 25).
boot() {
  local kver="$1" accel="$2" initrd="$3" results="$4" log="$5" bound="$6"; shift 6
  local accel_opts=(-accel tcg,thread=multi -cpu max)
  [ "$accel" = kvm ] && accel_opts=(-accel kvm -cpu host)
  timeout -k 5 "$bound" qemu-system-x86_64 "${accel_opts[@]}" -smp 2 -m 1536 \
    -nographic -no-reboot -nic none -serial "file:$log" -monitor none \
    -kernel "$CACHE/$kver/vmlinux" -initrd "$initrd" \
    -append "console=ttyS0 panic=-1 no_timer_check quiet loglevel=4 mdevctl.repo=$REPO mdevctl.kver=$kver mdevctl.mods=$CACHE/$kver/root/lib/modules/$kver mdevctl.udev=$CACHE/udev/root mdevctl.nodedir=$NODE_DIR $*" \
    -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
    -virtfs "local,path=$results,mount_tag=results,security_model=none,multidevs=remap" \
    </dev/null >/dev/null 2>"$log.qemu"
}

# shellcheck source=kernel-tests/powercut.sh
. kernel-tests/powercut.sh

ACCEL="${MDEVCTL_KERNEL_ACCEL:-}"
pass_all=1
summary=()
for kver in "${KVERS[@]}"; do
  case "${MDEVCTL_KERNEL_ONLY:-}" in
    "") ;;
    *) [[ "$kver" == "$MDEVCTL_KERNEL_ONLY".* ]] || continue ;;
  esac
  t0=$SECONDS
  initrd="$WORK/initrd-$kver.gz"
  make_initramfs "$kver" "$initrd"
  if [ -z "$ACCEL" ]; then
    # KVM only where it boots a stock kernel: some nested/paravirtual /dev/kvm cannot (QEMU
    # aborts or the guest hangs), so a short probe boot decides.
    ACCEL=tcg
    if [ -w /dev/kvm ]; then
      mkdir -p "$WORK/probe"
      # (in a subshell, so bash's "Aborted" notice of a QEMU that aborts goes with its stderr)
      (boot "$kver" kvm "$initrd" "$WORK/probe" "$WORK/probe.log" 30 mdevctl.probe=1) 2>/dev/null
      grep -q MDEVCTL-GUEST-BOOTED "$WORK/probe.log" 2>/dev/null && ACCEL=kvm
    fi
    echo "test:kernel: accelerator: $ACCEL" >&2
  fi
  results="$WORK/results-$kver"
  mkdir -p "$results"
  [ -n "$REF_MDEVCTL" ] && echo "$REF_MDEVCTL" >"$results/reference-mdevctl"
  rm -f "$results/scenarios"
  [ -n "${MDEVCTL_KERNEL_SCENARIOS:-}" ] && printf '%s\n' "$MDEVCTL_KERNEL_SCENARIOS" >"$results/scenarios"
  passed=0; failed=0
  if [ "${MDEVCTL_KERNEL_POWERCUT:-}" != only ]; then
  echo "test:kernel: booting $kver ($ACCEL)" >&2
  boot "$kver" "$ACCEL" "$initrd" "$results" "$results/console.log" "$TIMEOUT"
  qrc=$?
  if [ -f "$results/summary.txt" ]; then
    cat "$results/report.txt" 2>/dev/null
    read -r passed failed <"$results/summary.txt"
    if [ -n "${MDEVCTL_KERNEL_SCENARIOS:-}" ]; then
      echo "layouts: not compared (MDEVCTL_KERNEL_SCENARIOS)" >"$results/layouts.txt"
    elif node kernel-tests/check-layouts.cjs "$results" "${kver%.*}" \
        ${MDEVCTL_KERNEL_UPDATE_LAYOUTS:+--update} >"$results/layouts.txt"; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
    fi
    cat "$results/layouts.txt"
  else
    passed=0; failed=1
    echo "test:kernel: $kver: the guest gave no results (QEMU exit $qrc$([ $qrc = 124 ] && echo ", killed after ${TIMEOUT} s")); console:" >&2
    tail -n 30 "$results/console.log" >&2 2>/dev/null
    tail -n 30 "$results/guest.log" >&2 2>/dev/null
    tail -n 5 "$results/console.log.qemu" >&2 2>/dev/null
  fi
  fi
  if [ "${MDEVCTL_KERNEL_POWERCUT:-}" != skip ]; then
    if powercut_kernel "$kver" "$ACCEL" "$initrd" | tee "$results/powercut.txt"; then
      echo "PASS powercut: ${MDEVCTL_POWERCUT_CUTS:-10} power cuts, no acknowledged change lost, no torn file"
      passed=$((passed + 1))
    else
      echo "FAIL powercut (figures above)"
      failed=$((failed + 1))
    fi
  fi
  secs=$((SECONDS - t0))
  [ "$failed" = 0 ] || pass_all=0
  summary+=("$kver: $passed passed, $failed failed, ${secs} s ($ACCEL)")
  if [ -n "${MDEVCTL_KERNEL_KEEP:-}" ]; then
    mkdir -p "$MDEVCTL_KERNEL_KEEP/$kver"; cp -r "$results"/. "$MDEVCTL_KERNEL_KEEP/$kver/"
  fi
done

echo "test:kernel: summary (total $((SECONDS - start_all)) s)"
for s in "${summary[@]}"; do echo "  $s"; done
[ "$pass_all" = 1 ]
