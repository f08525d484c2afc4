#!/usr/bin/env bash
# `npm run test:libvirt`: real libvirt drives mdevctl (libvirt-tests/README.md). For libvirt 11.3
# (Debian trixie) and 9.0 (Debian bookworm), the same virsh scenario runs twice in a throwaway
# overlay of the cached root: once with upstream's mdevctl 1.4.0, once with our Debian package
# installed by apt in its place; then compare.mjs compares the two runs (virsh's output and status
# per step, the mdevctl calls libvirt made per step, libvirt's final state, the fixture trees, and
# the argv libvirt sends where it cannot reach here, run directly).
#
# Where it cannot run (not Linux, not root, no debootstrap/unshare/overlayfs, no mirror) it says why
# in one line and is skipped (exit 0), unless MDEVCTL_TEST_ALL is set (as .ci/run does): then it
# fails, the rule of test/support/prerequisites.ts.
#
# Environment:
#   MDEVCTL_LIBVIRT_CACHE=DIR     the cached roots (default /var/cache/mdevctl-ts-libvirt)
#   MDEVCTL_LIBVIRT_ONLY=trixie|bookworm   one libvirt only
#   MDEVCTL_LIBVIRT_TIMEOUT=SECS  bound on one run of the scenario (default 600); killed after it
#   MDEVCTL_LIBVIRT_KEEP=DIR      keep every run's results (steps, calls, trees, libvirtd log) in DIR
#   MDEVCTL_LIBVIRT_RUNTIME=exe|node   which of our packages (default exe: the one-file executable,
#                                 no nodejs; node: the variant that depends on nodejs >= 20)
set -uo pipefail
cd "$(dirname "$0")/.."
REPO="$(pwd)"
CACHE="${MDEVCTL_LIBVIRT_CACHE:-/var/cache/mdevctl-ts-libvirt}"
export MDEVCTL_LIBVIRT_CACHE="$CACHE"
TIMEOUT="${MDEVCTL_LIBVIRT_TIMEOUT:-600}"
start_all=$SECONDS

cannot() {
  case "${MDEVCTL_TEST_ALL:-}" in
    ""|0) echo "SKIPPED test:libvirt: $* (MDEVCTL_TEST_ALL=1 makes this a failure)" >&2; exit 0 ;;
    *) echo "test:libvirt: cannot run: $*; MDEVCTL_TEST_ALL is set, so this is a failure, not a skip" >&2; exit 1 ;;
  esac
}

[ "$(uname -s)" = Linux ] || cannot "not Linux"
[ "$(id -u)" = 0 ] || cannot "needs root (debootstrap, chroot, mount and PID namespaces)"
for tool in debootstrap unshare chroot timeout dpkg-deb node; do
  command -v "$tool" >/dev/null 2>&1 || cannot "needs $tool on PATH (apt-get install debootstrap util-linux coreutils dpkg)"
done
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null
grep -qw overlay /proc/filesystems || cannot "needs overlayfs (modprobe overlay)"
unshare --mount --pid --fork --propagation private true 2>/dev/null ||
  cannot "cannot make mount and PID namespaces here (unshare --mount --pid --fork failed: a container without CAP_SYS_ADMIN?)"
[ -n "$(ls /sys/bus/pci/devices 2>/dev/null)" ] || cannot "no PCI device in /sys/bus/pci/devices (libvirt needs one as the mdev parent)"

WORK="$(mktemp -d /tmp/mdevctl-libvirt.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

# our package, built from this tree now: the executable's (build-deb.mjs's default, what `apt install`
# of our .deb gives a host), or with MDEVCTL_LIBVIRT_RUNTIME=node the Node variant
RUNTIME="${MDEVCTL_LIBVIRT_RUNTIME:-exe}"
case "$RUNTIME" in exe|node) ;; *) echo "test:libvirt: MDEVCTL_LIBVIRT_RUNTIME must be exe or node, not '$RUNTIME'" >&2; exit 2 ;; esac
if ! deb="$(node scripts/build-deb.mjs --runtime "$RUNTIME" --out "$WORK/deb" 2>"$WORK/deb.log" | tail -n 1)" || [ ! -f "$deb" ]; then
  echo "test:libvirt: building the Debian package failed:" >&2; tail -n 5 "$WORK/deb.log" >&2; exit 1
fi
export MDEVCTL_LIBVIRT_DEB="$deb"

suites=(trixie bookworm)
[ -n "${MDEVCTL_LIBVIRT_ONLY:-}" ] && suites=("$MDEVCTL_LIBVIRT_ONLY")
# bookworm's 1.4.0 run takes trixie's binary from the trixie root
roots=("${suites[@]}")
[[ " ${roots[*]} " == *" trixie "* ]] || roots=(trixie "${roots[@]}")
for s in "${roots[@]}"; do
  t0=$SECONDS
  out="$(libvirt-tests/root.sh "$s" 2>"$WORK/root-$s.log")"
  rc=$?
  if [ $rc = 125 ]; then cannot "$(tail -n 1 "$WORK/root-$s.log")"; fi
  [ $rc = 0 ] || { echo "test:libvirt: making the $s root failed (exit $rc):" >&2; tail -n 5 "$WORK/root-$s.log" >&2; exit 1; }
  echo "test:libvirt: $s root ready in $((SECONDS - t0)) s: $(cat "$(dirname "$out")/READY")" >&2
done

pass_all=1
summary=()
for s in "${suites[@]}"; do
  base="$CACHE/$s/root"
  for m in 1.4.0 ours; do
    t0=$SECONDS
    mkdir -p "$WORK/$s-$m"
    echo "test:libvirt: $s with mdevctl $m" >&2
    timeout -k 10 "$TIMEOUT" unshare --mount --pid --fork --propagation private \
      libvirt-tests/session.sh "$base" "$m" "$WORK/$s-$m" >"$WORK/$s-$m.log" 2>&1
    rc=$?
    [ $rc = 0 ] || { echo "test:libvirt: $s with $m: the run failed (exit $rc$([ $rc = 124 ] && echo ", killed after $TIMEOUT s")):" >&2; tail -n 10 "$WORK/$s-$m.log" >&2; }
    summary+=("$s $m: $((SECONDS - t0)) s")
  done
  echo "== libvirt $(sed -n 's/.*libvirt \([0-9.]*\).*/\1/p' "$CACHE/$s/READY" | head -n 1) ($s): upstream 1.4.0 against ours"
  if ! node libvirt-tests/compare.mjs "$WORK/$s-1.4.0/results" "$WORK/$s-ours/results"; then pass_all=0; fi
  if [ -n "${MDEVCTL_LIBVIRT_KEEP:-}" ]; then
    mkdir -p "$MDEVCTL_LIBVIRT_KEEP"
    for m in 1.4.0 ours; do rm -rf "$MDEVCTL_LIBVIRT_KEEP/$s-$m"; cp -r "$WORK/$s-$m/results" "$MDEVCTL_LIBVIRT_KEEP/$s-$m"; done
  fi
done
echo "test:libvirt: summary (total $((SECONDS - start_all)) s)"
for s in "${summary[@]}"; do echo "  $s"; done
[ "$pass_all" = 1 ]
