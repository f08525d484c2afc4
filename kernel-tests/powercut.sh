# The power-cut scenario, host side: sourced by run.sh (uses its WORK, REPO, CACHE, NODE_DIR).
# See kernel-tests/README.md, "Power cuts". For one kernel: two fresh raw disk images with ext4
# (ours, upstream 1.4.0's), then CUTS+1 boots of the same images: every boot but the first checks
# what the cut before left (guest/powercut.mjs), every boot but the last runs the storm until
# this script kills QEMU with SIGKILL at a seeded random moment.
#
#   MDEVCTL_POWERCUT_CUTS=N       cuts per kernel (default 10; a soak: 100)
#   MDEVCTL_POWERCUT_SEED=S       replay a run (its seed is printed); default: a new one
#   MDEVCTL_POWERCUT_ACKS=K       the window opens once ours has acknowledged K commands of the
#                                 storm (default 3)
#   MDEVCTL_POWERCUT_WINDOW=A-B   then the cut falls A to B seconds (tenths allowed) later
#                                 (default 0-8)
#   MDEVCTL_POWERCUT_TIMEOUT=SECS bound on one kernel's cuts (default 150 s a boot, 1200 s at least;
#                                 each boot is also bounded: 180 s to its storm's window, or to
#                                 its end)

# powercut_kernel KVER ACCEL INITRD: prints the figures; status 0 when ours lost nothing
powercut_kernel() {
  local kver="$1" accel="$2" initrd="$3"
  local cuts="${MDEVCTL_POWERCUT_CUTS:-10}"
  local seed="${MDEVCTL_POWERCUT_SEED:-$(( ($(date +%s%N) / 1000) % 1000000007 ))}"
  local window="${MDEVCTL_POWERCUT_WINDOW:-0-8}" acks="${MDEVCTL_POWERCUT_ACKS:-3}"
  local wmin wmax
  wmin="$(awk -v w="${window%-*}" 'BEGIN { printf "%d", w * 10 }')"
  wmax="$(awk -v w="${window#*-}" 'BEGIN { printf "%d", w * 10 }')"
  case "$acks" in '' | *[!0-9]*) echo "powercut: MDEVCTL_POWERCUT_ACKS=$acks: expected a number" >&2; return 1 ;; esac
  ((wmax > wmin)) || { echo "powercut: MDEVCTL_POWERCUT_WINDOW=$window: expected A-B with A < B" >&2; return 1; }
  local dir="$WORK/powercut-$kver"
  rm -rf "$dir"
  mkdir -p "$dir/skel-ours/etc/mdevctl.d" "$dir/skel-ours/run/lock" "$dir/skel-ours/var/lib/mdevctl" \
    "$dir/skel-ref/etc/mdevctl.d" "$dir/skel-ref/usr/lib/mdevctl/scripts.d/callouts" \
    "$dir/skel-ref/usr/lib/mdevctl/scripts.d/notifiers"
  local t
  for t in ours ref; do
    truncate -s 64M "$dir/$t.img"
    mkfs.ext4 -q -F -d "$dir/skel-$t" "$dir/$t.img" || { echo "powercut: mkfs.ext4 failed" >&2; return 1; }
  done
  # cache=none opens the images with O_DIRECT; where the filesystem of /tmp has none (tmpfs),
  # writeback is the same for this purpose: a SIGKILL of QEMU loses only what the guest had not
  # written to its disk yet, whatever QEMU's cache mode (the host's page cache survives it)
  local cache=none
  if ! dd if=/dev/zero of="$dir/odirect.probe" bs=4096 count=1 oflag=direct 2>/dev/null; then
    cache=writeback
    echo "powercut: $dir has no O_DIRECT: the disks use cache=writeback" >&2
  fi
  rm -f "$dir/odirect.probe"
  local refov
  refov="$(MDEVCTL_REF_VERSION=1.4.0 scripts/reference-mdevctl.sh --setup 2>"$dir/ref-setup.err")/overlay" \
    || { echo "powercut: mdevctl 1.4.0 unavailable: $(tail -n 1 "$dir/ref-setup.err")" >&2; return 1; }
  echo "powercut $kver: $cuts cuts, seed $seed (MDEVCTL_POWERCUT_SEED=$seed replays), cut ${window} s after ours' first ${acks} acknowledgements in each storm" >&2

  local accel_opts=(-accel tcg,thread=multi -cpu max)
  [ "$accel" = kvm ] && accel_opts=(-accel kvm -cpu host)
  local i mode res qpid gseed h n delay waited checks=() t0=$SECONDS
  local bound="${MDEVCTL_POWERCUT_TIMEOUT:-$(( 150 * (cuts + 1) > 1200 ? 150 * (cuts + 1) : 1200 ))}"
  for ((i = 0; i <= cuts; i++)); do
    if ((SECONDS - t0 > bound)); then
      echo "  FAIL the scenario ran out of its ${bound} s (MDEVCTL_POWERCUT_TIMEOUT) after $((i - 1)) cuts"
      return 1
    fi
    res="$dir/boot-$i"
    mkdir -p "$res"
    if ((i == 0)); then mode=storm; elif ((i == cuts)); then mode=check; else mode=check+storm; fi
    ((i > 0)) && { cp "$dir/boot-$((i - 1))/console.log" "$res/prev-console.log"; checks+=("$res"); }
    gseed=$(( (seed * 2654435761 + i * 40503) % 4294967296 ))
    qemu-system-x86_64 "${accel_opts[@]}" -smp 2 -m 1536 \
      -nographic -no-reboot -nic none -serial "file:$res/console.log" -monitor none \
      -kernel "$CACHE/$kver/vmlinux" -initrd "$initrd" \
      -append "console=ttyS0 panic=-1 no_timer_check quiet loglevel=4 mdevctl.repo=$REPO mdevctl.kver=$kver mdevctl.mods=$CACHE/$kver/root/lib/modules/$kver mdevctl.udev=$CACHE/udev/root mdevctl.nodedir=$NODE_DIR mdevctl.powercut=$mode mdevctl.seed=$gseed mdevctl.refoverlay=$refov" \
      -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
      -virtfs "local,path=$res,mount_tag=results,security_model=none,multidevs=remap" \
      -drive "file=$dir/ours.img,format=raw,if=virtio,cache=$cache" \
      -drive "file=$dir/ref.img,format=raw,if=virtio,cache=$cache" \
      </dev/null >/dev/null 2>"$res/qemu.err" &
    qpid=$!
    waited=0
    if [ "$mode" = check ]; then
      while kill -0 "$qpid" 2>/dev/null && ((waited < 1800)); do sleep 0.1; waited=$((waited + 1)); done
    else
      # the window opens once ours has acknowledged ACKS commands of this storm: under TCG on a
      # busy machine one of our commands can take 10 s or more, and a cut before any would prove
      # nothing about them
      while kill -0 "$qpid" 2>/dev/null && ((waited < 1800)); do
        n="$(grep -ac 'PC A ours [0-9]* 0 \.' "$res/console.log" 2>/dev/null)"
        ((${n:-0} >= acks)) && break
        sleep 0.1; waited=$((waited + 1))
      done
      h=$(( ((gseed >> 16) ^ gseed) * 73244475 & 0xFFFFFFFF )); h=$(( ((h >> 16) ^ h) * 73244475 & 0xFFFFFFFF ))
      delay=$(( wmin + ((h >> 16) ^ h) % (wmax - wmin + 1) ))
      if kill -0 "$qpid" 2>/dev/null && ((waited < 1800)); then
        sleep "$((delay / 10)).$((delay % 10))"
      fi
    fi
    kill -9 "$qpid" 2>/dev/null   # the power cut (or the bound)
    wait "$qpid" 2>/dev/null
    echo "powercut $kver: boot $i ($mode$([ "$mode" != check ] && echo ", cut $((delay / 10)).$((delay % 10)) s after ${acks} acknowledgements")) done at $((SECONDS - t0)) s" >&2
  done
  node kernel-tests/guest/powercut.mjs report "${checks[@]}"
  local rc=$?
  if [ $rc != 0 ]; then
    for res in "${checks[@]}"; do
      [ -f "$res/check.json" ] && continue
      echo "powercut $kver: $res gave no results; console and guest log:" >&2
      tail -n 20 "$res/console.log" "$res/guest.log" >&2 2>/dev/null
    done
  fi
  if [ -n "${MDEVCTL_KERNEL_KEEP:-}" ]; then
    mkdir -p "$MDEVCTL_KERNEL_KEEP/$kver/powercut"
    for res in "$dir"/boot-*; do cp -r "$res" "$MDEVCTL_KERNEL_KEEP/$kver/powercut/"; done
  fi
  echo "powercut $kver: $((SECONDS - t0)) s" >&2
  return $rc
}
