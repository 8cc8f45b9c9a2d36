#!/usr/bin/env bash
# The dedicated CPU set contended by two migrations at once, without root or QEMU: two real
# dmigrated (fake-hosts.sh) whose QEMU is fake-qemu (its one vCPU is its own thread, listed by
# query-cpus-fast, so pinning sets a real affinity). hostA runs two VMs pinned to its dedicated
# CPUs 0 and 1; hostB dedicates CPU 1 only and has a VF for each. Both are sent to hostB at the
# same moment. Checked:
#  - one moves and runs on hostB pinned to CPU 1 (its record, and its QEMU's affinity);
#  - the other is refused at preflight or prepare, saying that too few dedicated CPUs are free,
#    before its guest was touched (no standby phase ran; its VF still plugged, still running and
#    pinned on hostA), exit 1;
#  - CPU 1 of hostB is never held by two VMs (hostB's VM records), and the refused VM left no
#    VF reserved on hostB.
# Usage: test-cpu-contention.sh DMIGRATED FAKE_QEMU DMIGRATE
set -euo pipefail

dmigrated=$1 fake_qemu=$2 dmigrate=$3
# shellcheck source=tests/unit/fake-hosts.sh
. "$(dirname "$0")/fake-hosts.sh"

affinity() { awk '/^Cpus_allowed_list/ { print $2 }' "/proc/$(cat "$1/qemu.pid")/status"; }

host hostA 2 hostB '"dedicated_cpus": "0-1",'
host hostB 2 hostA '"dedicated_cpus": "1",'
for i in 1 2; do
	spec=$(vm_spec pin$i)
	sed -i "s/\"vcpus\": 1,/\"vcpus\": 1, \"cpumap\": [[0, $((i - 1))]],/" "$spec"
	dm hostA start "$spec" >/dev/null || fail "pin$i did not start on hostA"
done
for _ in $(seq 50); do
	[ "$(affinity "$root/hostA/vms/pin1")" = 0 ] && [ "$(affinity "$root/hostA/vms/pin2")" = 1 ] && break
	sleep 0.1
done
[ "$(affinity "$root/hostA/vms/pin2")" = 1 ] || fail "pin2 is not pinned to CPU 1 on hostA"

for i in 1 2; do
	(rc=0; dm hostA --json pin$i --to hostB >"$root/out$i" 2>"$root/err$i" || rc=$?; echo $rc >"$root/rc$i") &
done
wait_files "$root"/rc1 "$root"/rc2
migrated=() refused=()
for i in 1 2; do
	rc=$(cat "$root/rc$i")
	case $rc in
	0) migrated+=("pin$i") ;;
	1) refused+=("pin$i") ;;
	*) fail "pin$i: exit $rc: $(cat "$root/out$i" "$root/err$i")" ;;
	esac
done
[ ${#migrated[@]} = 1 ] && [ ${#refused[@]} = 1 ] ||
	fail "expected one migrated and one refused, got migrated: ${migrated[*]:-none}, refused: ${refused[*]:-none}"
m=${migrated[0]} r=${refused[0]}
grep -q 'dedicated CPU' "$root/out${r#pin}" || fail "$r's result does not say why: $(cat "$root/out${r#pin}")"
grep -q '"runs_on": *"hostA"' "$root/out${r#pin}" || fail "$r is not reported on hostA"
grep -q '"standby"' "$root/out${r#pin}" && fail "$r's guest was touched: $(cat "$root/out${r#pin}")"
grep -q '^vf=1' "$root/hostA/vms/$r/fake-qemu.state" || fail "$r lost its VF on hostA"
grep -q '^status=running' "$root/hostA/vms/$r/fake-qemu.state" || fail "$r does not run on hostA"
[ "$(affinity "$root/hostA/vms/$r")" = $((${r#pin} - 1)) ] || fail "$r lost its pinning on hostA"
grep -q "\"$r\"" "$root/hostB/state/vf-pool.json" && fail "hostB still reserves a VF for $r"

grep -q '^status=running' "$root/hostB/vms/$m/fake-qemu.state" || fail "$m does not run on hostB"
dm hostB --json status "$m" | tr -d ' \n' | grep -q '"cpumap":\[\[0,1\]\]' ||
	fail "$m is not mapped to CPU 1 on hostB: $(dm hostB --json status "$m")"
for _ in $(seq 50); do [ "$(affinity "$root/hostB/vms/$m")" = 1 ] && break; sleep 0.1; done
[ "$(affinity "$root/hostB/vms/$m")" = 1 ] || fail "$m's vCPU is not on CPU 1 of hostB: $(affinity "$root/hostB/vms/$m")"
holders=$(dm hostB --json list | tr -d ' \n' | grep -o '"cpumap":\[\[0,1\]\]' | wc -l)
[ "$holders" = 1 ] || fail "CPU 1 of hostB is held by $holders VMs: $(dm hostB --json list)"
echo "two pinned VMs onto one free dedicated CPU: $m moved (pinned to CPU 1 of hostB), $r refused before its guest was touched, still pinned on hostA"
