#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# did-timerlat.sh [-n SAMPLES] [-i INTERVAL_US] [-l LABEL]
# Runs did_timerlat.ko once and prints its summary and histogram with the
# DID state and the environment, so runs with DID on and off compare. Under
# an emulator (QEMU TCG) the figures say nothing about hardware: the
# environment line says so unless the guest runs on KVM.
set -eu

samples=1000
interval=1000
label=
while getopts n:i:l: opt; do
	case $opt in
	n) samples=$OPTARG ;;
	i) interval=$OPTARG ;;
	l) label=$OPTARG ;;
	*) echo "usage: did-timerlat.sh [-n SAMPLES] [-i INTERVAL_US] [-l LABEL]" >&2; exit 2 ;;
	esac
done

dbg=/sys/kernel/debug
dir=$dbg/did_timerlat
if [ ! -d "$dbg/tracing" ] && ! grep -q " $dbg debugfs" /proc/mounts; then
	mount -t debugfs debugfs "$dbg"
fi
if [ ! -d "$dir" ]; then
	modprobe did_timerlat
fi

if [ -z "$label" ]; then
	if grep -q kvm-clock /sys/devices/system/clocksource/clocksource0/available_clocksource 2>/dev/null; then
		label="kvm guest"
	else
		label="emulated (not under KVM): not hardware figures"
	fi
fi
did=absent
if [ -d /sys/class/misc/did ]; then
	did="$(cat /sys/class/misc/did/state) backend=$(cat /sys/class/misc/did/backend) simulated=$(cat /sys/class/misc/did/simulated)"
fi

echo "$interval" > "$dir/interval_us"
echo "$samples" > "$dir/samples"

# Bounded wait: ten times the nominal run time plus 30 s for a slow emulator.
deadline=$(( $(date +%s) + samples * interval / 100000 + 30 ))
while grep -q '^state running' "$dir/summary"; do
	if [ "$(date +%s)" -ge "$deadline" ]; then
		echo "did-timerlat.sh: run did not finish by its deadline" >&2
		cat "$dir/summary" >&2
		exit 1
	fi
	sleep 1
done

echo "# did_timerlat environment: $label"
echo "# did_timerlat did: $did"
cat "$dir/summary"
echo "# histogram: <latency us> <count> (last bucket: >= that)"
cat "$dir/histogram"
