#!/bin/sh
# Runs inside the guest, chrooted into the host's / (read-only, under a throw-away tmpfs overlay):
# puts the built CLI on PATH as mdevctl/lsmdev, gives mdevctl a clean /etc/mdevctl.d, then runs
# the scenarios. Usage: run-in-guest.sh REPO KVER
repo="$1"
kver="$2"
mkdir -p /usr/local/sbin
ln -sf "$repo/bin/mdevctl" /usr/local/sbin/mdevctl
ln -sf "$repo/bin/lsmdev" /usr/local/sbin/lsmdev
rm -rf /etc/mdevctl.d
mkdir -p /etc/mdevctl.d /run/lock
exec node "$repo/kernel-tests/guest/scenarios.mjs" "$kver" /results
