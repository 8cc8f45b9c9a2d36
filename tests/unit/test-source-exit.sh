#!/usr/bin/env bash
# The source's VM ends during its migration (its QEMU crashes or is killed; a libvirt domain
# destroyed is the same to the core), on two real dmigrated with fake-qemu (fake-hosts.sh), no
# root and no QEMU. The job learns it at once, not at the phase's bound, and reports it as it
# is: outcome lost, runs nowhere, exit 4, the message naming the QEMU's exit; no undo is tried
# on the dead VM; the destination lets go of its incoming copy and its VF. Twice: during the copy,
# and while the source waits for the guest to release its VF.
# Usage: test-source-exit.sh DMIGRATED FAKE_QEMU DMIGRATE
set -euo pipefail

dmigrated=$1 fake_qemu=$2 dmigrate=$3
# shellcheck source=tests/unit/fake-hosts.sh
. "$(dirname "$0")/fake-hosts.sh"

# A copy of 8 s: time to kill the source's QEMU in the middle of it (the copy's bound is 10 s).
export FAKE_QEMU_COPY_MS=8000
host hostA 2 hostB
host hostB 2 hostA

# Migrates VM $1 to hostB in the background; when hostA's log says phase $2 started, SIGKILLs
# the VM's QEMU; then checks the result.
kill_source_during() {
	local vm=$1 phase=$2 log=$root/hostA/dmigrated.log qemu_pid t0 rc ms i
	qemu_pid=$(cat "$root/hostA/vms/$vm/qemu.pid")
	(r=0; dm hostA --json "$vm" --to hostB >"$root/out-$vm" 2>"$root/err-$vm" || r=$?; echo $r >"$root/rc-$vm") &
	for i in $(seq 300); do
		grep -q "$vm: $phase started" "$log" && break
		[ "$i" = 300 ] && fail "$vm's migration did not reach $phase"
		sleep 0.1
	done
	sleep 0.5
	t0=$(date +%s%N)
	kill -KILL "$qemu_pid"
	wait_files "$root/rc-$vm"
	rc=$(cat "$root/rc-$vm")
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$rc" = 4 ] || fail "$vm: exit $rc, expected 4 (lost): $(cat "$root/out-$vm" "$root/err-$vm")"
	jq -e '.outcome == "lost" and .runs_on == "nowhere"' "$root/out-$vm" >/dev/null ||
		fail "$vm: not reported lost and nowhere: $(cat "$root/out-$vm")"
	grep -q "the source QEMU exited" "$root/out-$vm" ||
		fail "$vm: the result does not say the source's QEMU exited: $(cat "$root/out-$vm")"
	# Its bound (the copy's 10 s, the release's 10 s) was not waited for.
	[ "$ms" -lt 5000 ] || fail "$vm: the job ended $ms ms after its QEMU died, not at once"
	# No undo acted on the dead VM: only the destination's prepare was undone.
	jq -e '[.phases[] | select(.state == "undone") | .phase] == ["prepare"]' "$root/out-$vm" >/dev/null ||
		fail "$vm: undone phases other than prepare: $(jq -c '[.phases[] | {phase, state}]' "$root/out-$vm")"
	grep -q "VM '$vm' IS LOST: .*It ended on hostA before it ran on hostB" "$root/hostA/dmigrated.log" ||
		fail "$vm: hostA's log does not say where it ended"
	# The destination let go: no incoming copy left, its VF back in the pool.
	for i in $(seq 100); do
		! dm hostB list | grep -qw "$vm" && break
		[ "$i" = 100 ] && fail "hostB still lists $vm"
		sleep 0.1
	done
	jq -e --arg v "$vm" '[.reservations[] | select(. == $v)] | length == 0' "$root/hostB/state/vf-pool.json" >/dev/null ||
		fail "hostB still holds a VF for $vm: $(cat "$root/hostB/state/vf-pool.json")"
	echo "$vm: its QEMU killed during $phase: lost, nowhere, exit 4, $ms ms after; hostB let go"
}

dm hostA start "$(vm_spec vm1)" >/dev/null || fail "vm1 did not start on hostA"
kill_source_during vm1 migrate

# A guest that takes 30 s to release an unplugged VF (the source waits up to 10 s): the VM's
# QEMU is started by a daemon with that in its environment, as fake-qemu reads it.
host_stop hostA
export FAKE_QEMU_UNPLUG_MS=30000
host_start hostA
dm hostA start "$(vm_spec vm2)" >/dev/null || fail "vm2 did not start on hostA"
kill_source_during vm2 unplug
