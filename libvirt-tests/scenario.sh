#!/bin/bash
# Runs inside the test root (libvirt-tests/session.sh), as root, with libvirtd up:
#   scenario.sh fixture PARENT   make /fixture, the tree mdevctl sees (MDEVCTL_ENV_ROOT)
#   scenario.sh run PARENT       drive libvirt with virsh; write /results
# PARENT is a PCI device of this machine (libvirt only defines mdevs on a parent it knows, and it
# learns devices from the real /sys); the fixture gives it two mdev types. A second parent,
# 0000:ff:1f.7, exists only in the definitions (libvirt puts its devices under "computer").
#
# For every step: /results/steps/NN-NAME.{cmd,out,err,rc,calls}: virsh's argv, stdout, stderr,
# exit status, and the mdevctl calls libvirt made for it (argv and exit status of each, from the
# wrapper's log), counted once libvirt is quiet again (no call running, none begun for 1 s).
set -uo pipefail
MODE="$1" PARENT="$2"
PNAME="pci_${PARENT//[:.]/_}"
ABSENT=0000:ff:1f.7
T1=i915-GVTg_V5_4 T2=i915-GVTg_V5_8
A=6e5b2a1c-0d3f-4b8e-9a71-2c4d6f8e0a01   # defined, auto, on PARENT
B=6e5b2a1c-0d3f-4b8e-9a71-2c4d6f8e0a02   # defined, manual, attributes, on PARENT
C=6e5b2a1c-0d3f-4b8e-9a71-2c4d6f8e0a03   # defined on the absent parent
D=6e5b2a1c-0d3f-4b8e-9a71-2c4d6f8e0a04   # defined and running on PARENT
E=6e5b2a1c-0d3f-4b8e-9a71-2c4d6f8e0a05   # running, not defined (transient)
F=6e5b2a1c-0d3f-4b8e-9a71-2c4d6f8e0a06   # defined by the scenario with its UUID and attributes
G=6e5b2a1c-0d3f-4b8e-9a71-2c4d6f8e0a07   # created (transient) by the scenario
H=6e5b2a1c-0d3f-4b8e-9a71-2c4d6f8e0a08   # created with a type the parent lacks

make_fixture() {
  local root=$1 dev=sys/devices/pci0000:00/$PARENT t
  rm -rf "$root"
  mkdir -p "$root"/{sys/class/mdev_bus,sys/bus/mdev/devices,sys/bus/mdev/drivers/vfio_mdev,sys/bus/pci/devices,run/lock,var/lib/mdevctl}
  mkdir -p "$root"/usr/lib/mdevctl/scripts.d/{callouts,notifiers} "$root"/etc/mdevctl.d/scripts.d/{callouts,notifiers}
  for t in $T1 $T2; do
    mkdir -p "$root/$dev/mdev_supported_types/$t/devices"
    echo vfio-pci >"$root/$dev/mdev_supported_types/$t/device_api"
    echo "${t#i915-}" >"$root/$dev/mdev_supported_types/$t/name"
    : >"$root/$dev/mdev_supported_types/$t/create"
    chmod 0200 "$root/$dev/mdev_supported_types/$t/create"
  done
  echo 1 >"$root/$dev/mdev_supported_types/$T1/available_instances"
  echo 3 >"$root/$dev/mdev_supported_types/$T2/available_instances"
  printf 'low_gm_size: 128MB\nhigh_gm_size: 512MB\n' >"$root/$dev/mdev_supported_types/$T1/description"
  printf 'low_gm_size: 64MB\nhigh_gm_size: 384MB\n' >"$root/$dev/mdev_supported_types/$T2/description"
  ln -s "../../devices/pci0000:00/$PARENT" "$root/sys/class/mdev_bus/$PARENT"
  ln -s "../../../devices/pci0000:00/$PARENT" "$root/sys/bus/pci/devices/$PARENT"
  running "$root" "$D" $T1 11
  running "$root" "$E" $T2 12
  mkdir -p "$root/etc/mdevctl.d/$PARENT" "$root/etc/mdevctl.d/$ABSENT"
  printf '{\n  "mdev_type": "%s",\n  "start": "auto"\n}' $T1 >"$root/etc/mdevctl.d/$PARENT/$A"
  printf '{\n  "mdev_type": "%s",\n  "start": "manual",\n  "attrs": [\n    {\n      "gvt_weight": "4"\n    },\n    {\n      "fence": "2"\n    }\n  ]\n}' $T2 >"$root/etc/mdevctl.d/$PARENT/$B"
  printf '{\n  "mdev_type": "%s",\n  "start": "manual"\n}' $T1 >"$root/etc/mdevctl.d/$ABSENT/$C"
  printf '{\n  "mdev_type": "%s",\n  "start": "manual"\n}' $T1 >"$root/etc/mdevctl.d/$PARENT/$D"
}

# a running mdev as the kernel lays it out
running() {
  local root=$1 uuid=$2 type=$3 group=$4 dev=sys/devices/pci0000:00/$PARENT
  mkdir -p "$root/$dev/$uuid" "$root/sys/kernel/iommu_groups/$group/devices"
  ln -s "../mdev_supported_types/$type" "$root/$dev/$uuid/mdev_type"
  ln -s "../../../kernel/iommu_groups/$group" "$root/$dev/$uuid/iommu_group"
  ln -s "../../../bus/mdev" "$root/$dev/$uuid/subsystem"
  ln -s "../../../bus/mdev/drivers/vfio_mdev" "$root/$dev/$uuid/driver"
  : >"$root/$dev/$uuid/remove"
  chmod 0200 "$root/$dev/$uuid/remove"
  ln -s "../../../$uuid" "$root/$dev/mdev_supported_types/$type/devices/$uuid"
  ln -s "../../../devices/pci0000:00/$PARENT/$uuid" "$root/sys/bus/mdev/devices/$uuid"
  ln -s "../../../../devices/pci0000:00/$PARENT/$uuid" "$root/sys/kernel/iommu_groups/$group/devices/$uuid"
}

# the tree, every entry with its kind, mode and link target, and every regular file's bytes
tree() {
  (cd "$1" && { find . ! -type l -printf '%y %m %p\n'; find . -type l -printf '%y %m %p -> %l\n'; } | LC_ALL=C sort
   find . -type f -size -64k | LC_ALL=C sort | while read -r f; do echo "== $f"; cat "$f"; echo; done)
}

if [ "$MODE" = fixture ]; then make_fixture /fixture; exit 0; fi

export LIBVIRT_DEFAULT_URI=nodedev:///system
LOG=/var/log/mdevctl-calls.log
OUT=/results/steps
mkdir -p "$OUT" /tmp/xml
n=0

# wait until libvirt is quiet: every call begun has ended and none began for 1 s (bounded: 30 s)
settle() {
  local last=-1 same=0 i lines starts ends
  for i in $(seq 300); do
    lines=$(wc -l <"$LOG")
    starts=$(grep -c '^call ' "$LOG"); ends=$(grep -c '^exit ' "$LOG")
    if [ "$lines" = "$last" ] && [ "$starts" = "$ends" ]; then
      same=$((same + 1)); [ $same -ge 10 ] && return 0
    else
      same=0; last=$lines
    fi
    sleep 0.1
  done
  echo "settle: libvirt still calling mdevctl after 30 s" >>/results/notes
}

# the wrapper's log lines (call PID ARGV..., exit PID STATUS) as one line per call, in the order
# the calls began: "ARGV => STATUS" (calls overlap: libvirt's re-sync can begin before the mdevctl
# that changed the file has ended)
calls() {
  awk '$1 == "call" { pid = $2; sub(/^call [0-9]+ /, ""); order[++n] = pid; argv[pid] = $0; next }
       $1 == "exit" { status[$2] = $3 }
       END { for (i = 1; i <= n; i++) print argv[order[i]] " => " (order[i] in status ? status[order[i]] : "running") }'
}

# step NAME VIRSH-ARGS...: run virsh, record what it printed and what libvirt ran
step() {
  local name=$1; shift
  n=$((n + 1))
  local f; f="$OUT/$(printf %02d $n)-$name"
  local before; before=$(wc -l <"$LOG")
  printf '%q ' virsh "$@" >"$f.cmd"; echo >>"$f.cmd"
  timeout -k 5 120 virsh "$@" >"$f.out" 2>"$f.err"
  echo $? >"$f.rc"
  settle
  tail -n +$((before + 1)) "$LOG" | calls >"$f.calls"
}

# libvirt's name for an mdev: mdev_UUID_PARENT (11.3) or mdev_UUID (older): as it lists it
name() {
  local all found
  all=$(virsh nodedev-list --cap mdev --all 2>/dev/null)
  found=$(grep "^mdev_${1//-/_}" <<<"$all" | head -n 1)
  echo "${found:-mdev_${1//-/_}_missing}"
}

xml() { # xml FILE PARENT TYPE [UUID] [ATTR=VALUE...]
  local file=$1 parent=$2 type=$3 uuid=${4:-} kv
  shift 3; [ $# -gt 0 ] && shift
  { echo "<device>"
    [ -n "$parent" ] && echo "  <parent>$parent</parent>"
    echo "  <capability type='mdev'>"
    echo "    <type id='$type'/>"
    [ -n "$uuid" ] && echo "    <uuid>$uuid</uuid>"
    for kv in "$@"; do echo "    <attr name='${kv%%=*}' value='${kv#*=}'/>"; done
    echo "  </capability>"
    echo "</device>"; } >"/tmp/xml/$file"
  echo "/tmp/xml/$file"
}

has_update=0
virsh help nodedev-update >/dev/null 2>&1 && has_update=1
echo "$has_update" >/results/has-nodedev-update
virsh version --daemon 2>/dev/null | grep -i 'libvirt' >/results/libvirt-version

# start-up: libvirt's first sync (both lists) once it has enumerated /sys
for _ in $(seq 300); do [ "$(grep -c '^exit ' "$LOG")" -ge 2 ] && break; sleep 0.1; done
settle
calls <"$LOG" >"$OUT/00-startup.calls"
# start-up: libvirt listed the definitions and the running devices once it had enumerated /sys
step startup-list-cap-mdev nodedev-list --cap mdev
step list-cap-mdev-all nodedev-list --cap mdev --all
step list-cap-mdev-inactive nodedev-list --cap mdev --inactive
step list-all nodedev-list --all
step list-inactive nodedev-list --inactive
step list-tree nodedev-list --tree
for u in $A $B $C $D $E; do
  step "dumpxml-${u: -2}" nodedev-dumpxml "$(name $u)"
  step "info-${u: -2}" nodedev-info "$(name $u)"
done

# define: without a UUID (mdevctl generates it), with one and attributes, and again (an existing
# UUID: libvirt >= 10.1 modifies it; older ones call define, which refuses)
step define-no-uuid nodedev-define "$(xml gen.xml "$PNAME" $T2)"
step define-uuid-attrs nodedev-define "$(xml f.xml "$PNAME" $T1 $F gvt_weight=8 fence=4 gvt_weight=2)"
step dumpxml-f nodedev-dumpxml "$(name $F)"
step info-f nodedev-info "$(name $F)"
step define-existing nodedev-define "$(xml f2.xml "$PNAME" $T2 $F fence=1)"
step dumpxml-f-after-redefine nodedev-dumpxml "$(name $F)"
step define-validate nodedev-define --validate "$(xml v.xml "$PNAME" $T1)"
# errors libvirt finds itself, and the ones mdevctl reports
step define-no-parent nodedev-define "$(xml np.xml "" $T1)"
step define-unknown-parent nodedev-define "$(xml up.xml pci_0000_ff_1f_6 $T1)"
step define-existing-other-parent nodedev-define "$(xml op.xml computer $T1 $A)"
step define-bad-uuid nodedev-define "$(xml bu.xml "$PNAME" $T1 not-a-uuid)"

# start a defined device: the fixture's create file takes the UUID (no kernel makes the device)
step start-f nodedev-start "$(name $F)"
step start-b-attrs nodedev-start "$(name $B)"
step start-c-absent-parent nodedev-start "$(name $C)"
step start-a nodedev-start "$(name $A)"
step start-d-running nodedev-start "$(name $D)"
step info-a-after-start nodedev-info "$(name $A)"

# autostart on and off
step autostart-b nodedev-autostart "$(name $B)"
step info-b-autostart nodedev-info "$(name $B)"
step autostart-b-again nodedev-autostart "$(name $B)"
step autostart-b-disable nodedev-autostart --disable "$(name $B)"
step info-b-manual nodedev-info "$(name $B)"
step autostart-a-disable nodedev-autostart --disable "$(name $A)"
step autostart-e-transient nodedev-autostart "$(name $E)"
step list-persistent nodedev-list --cap mdev --all --persistent
step list-transient nodedev-list --cap mdev --all --transient

# update (libvirt >= 10.x): the definition, the running device, both
if [ $has_update = 1 ]; then
  step update-config-f nodedev-update "$(name $F)" "$(xml fu.xml "$PNAME" $T2 $F fence=3 gvt_weight=1)" --config
  step dumpxml-f-after-update2 nodedev-dumpxml --inactive "$(name $F)"
  step update-config-b-type nodedev-update "$(name $B)" "$(xml bu2.xml "$PNAME" $T1 $B)" --config
  step update-live-f-inactive nodedev-update "$(name $F)" "$(xml fl.xml "$PNAME" $T2 $F)" --live
  step update-live-d nodedev-update "$(name $D)" "$(xml dl.xml "$PNAME" $T1 $D gvt_weight=1)" --live
  step update-live-config-d nodedev-update "$(name $D)" "$(xml dl2.xml "$PNAME" $T1 $D gvt_weight=1)" --live --config
  step update-current-d nodedev-update "$(name $D)" "$(xml dl3.xml "$PNAME" $T1 $D)"
  step update-uuid-mismatch nodedev-update "$(name $F)" "$(xml fm.xml "$PNAME" $T2 $G)" --config
  step update-parent-mismatch nodedev-update "$(name $C)" "$(xml cm.xml "$PNAME" $T1 $C)" --config
fi

# destroy (libvirt refuses what it does not see active; a running mdev it only knows from mdevctl)
step destroy-d nodedev-destroy "$(name $D)"
step destroy-a-inactive nodedev-destroy "$(name $A)"

# undefine: defined ones, a transient one (libvirt refuses), and what the scenario defined
step undefine-f nodedev-undefine "$(name $F)"
step undefine-c nodedev-undefine "$(name $C)"
step undefine-e-transient nodedev-undefine "$(name $E)"
step undefine-generated nodedev-undefine "$(virsh nodedev-list --cap mdev --all | grep -v -e "${A//-/_}" -e "${B//-/_}" -e "${D//-/_}" -e "${E//-/_}" -e '^$' | head -n 1)"
step undefine-missing nodedev-undefine mdev_00000000_0000_0000_0000_000000000000

# create (transient start with the definition on stdin): a type the parent lacks (mdevctl
# refuses), no parent (libvirt refuses), then a good one: mdevctl writes create, and libvirt
# waits for the kernel's device for 60 s (no udev, no kernel device here), then says so
step create-bad-type nodedev-create "$(xml h.xml "$PNAME" i915-GVTg_V5_1 $H)"
step create-no-parent nodedev-create "$(xml hn.xml "" $T2 $H)"
step create-running-uuid nodedev-create "$(xml hd.xml "$PNAME" $T2 $D)"
step create-g nodedev-create "$(xml g.xml "$PNAME" $T2 $G gvt_weight=2)"

# libvirt's final state
step final-list-cap-mdev-all nodedev-list --cap mdev --all
step final-list-inactive nodedev-list --cap mdev --inactive
for u in $A $B $C $D $E $F; do
  step "final-info-${u: -2}" nodedev-info "$(name $u)"
  step "final-dumpxml-${u: -2}" nodedev-dumpxml "$(name $u)"
done
settle
tree /fixture >/results/fixture-after-libvirt.txt

# --- what libvirt cannot reach here (no udev, no mdev devices): its argv, run directly --------
# on a fresh fixture, with the JSON libvirt would send on stdin
DIRECT=/results/direct
mkdir -p "$DIRECT"
make_fixture /fixture-direct
real=$(cat /usr/local/sbin/mdevctl.real-command)
m=0
direct() { # direct NAME STDIN ARGS...: mdevctl ARGS with STDIN, as libvirt runs it
  local name=$1 in=$2; shift 2
  m=$((m + 1))
  local f; f="$DIRECT/$(printf %02d $m)-$name"
  printf '%q ' mdevctl "$@" >"$f.cmd"; echo >>"$f.cmd"
  printf '%s' "$in" | MDEVCTL_ENV_ROOT=/fixture-direct timeout -k 5 60 $real "$@" >"$f.out" 2>"$f.err"
  echo $? >"$f.rc"
}
direct probe-modify-help '' modify --defined --live --jsonfile b --help
J1="{\"mdev_type\":\"$T1\",\"start\":\"manual\",\"attrs\":[{\"gvt_weight\":\"1\"}]}"
direct update-live-d "$J1" modify --parent=$PARENT --jsonfile=/dev/stdin --uuid=$D --live
direct update-live-config-d "$J1" modify --parent=$PARENT --jsonfile=/dev/stdin --uuid=$D --defined --live
direct update-live-e-transient "$J1" modify --parent=$PARENT --jsonfile=/dev/stdin --uuid=$E --live
direct update-live-a-inactive "$J1" modify --parent=$PARENT --jsonfile=/dev/stdin --uuid=$A --live
direct destroy-d '' stop --uuid=$D
direct destroy-d-again '' stop --uuid=$D
direct destroy-e '' stop --uuid=$E
direct destroy-a-inactive '' stop --uuid=$A
direct destroy-unknown '' stop --uuid=$G
direct list-defined '' list --dumpjson --defined
direct list-active '' list --dumpjson
tree /fixture-direct >/results/fixture-after-direct.txt
echo done >/results/DONE
