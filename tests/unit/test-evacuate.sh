#!/usr/bin/env bash
# `dmigrate evacuate` between three real dmigrated on fake-qemu (fake-hosts.sh), no root, no QEMU:
#  - bad input is refused with a clear message and nothing moves: an unknown host in --to,
#    --parallel 0, the host onto itself, another host's name;
#  - --dry-run prints the plan: hostA's three VMs onto hostB and hostC (one VF each), one VM
#    unplaced with both peers' reasons; nothing moves;
#  - the evacuation itself (--json, one object per VM): two VMs moved, one to each peer, the
#    third reported and still running on hostA with its VF, exit 1;
#  - the coordinating daemon SIGKILLed during the first of two migrations (one at a time) and
#    started again: it takes the journal up and finishes, hostA is empty, the journal gone.
# Usage: test-evacuate.sh DMIGRATED FAKE_QEMU DMIGRATE
set -euo pipefail

dmigrated=$1 fake_qemu=$2 dmigrate=$3
# shellcheck source=tests/unit/fake-hosts.sh
. "$(dirname "$0")/fake-hosts.sh"

host hostA 3 "hostB hostC"
host hostB 1 "hostA hostC"
host hostC 1 "hostA hostB"
for vm in vm1 vm2 vm3; do
	dm hostA start "$(vm_spec $vm)" >/dev/null || fail "$vm did not start on hostA"
done
vms_on() { dm "$1" list --json | jq -r '[.vms[].name] | sort | join(" ")'; }

# expect_refused EXIT MESSAGE-PART ARGS...
expect_refused() {
	local want=$1 part=$2 rc=0 out
	shift 2
	out=$(dm hostA evacuate "$@" 2>&1) || rc=$?
	[ "$rc" = "$want" ] || fail "evacuate $*: exit $rc, expected $want: $out"
	grep -qF -- "$part" <<<"$out" || fail "evacuate $*: the message does not say '$part': $out"
	echo "  evacuate $*: exit $rc: $out"
}
echo "bad input"
expect_refused 2 "Unknown host 'hostZ' in --to" hostA --to hostB,hostZ
expect_refused 2 "--parallel '0'" hostA --parallel 0
expect_refused 2 "Cannot evacuate hostA onto itself" hostA --to hostA
expect_refused 2 "run 'dmigrate evacuate hostB' on hostB" hostB
[ "$(vms_on hostA)" = "vm1 vm2 vm3" ] || fail "bad input moved VMs: hostA has $(vms_on hostA)"
[ -z "$(vms_on hostB)$(vms_on hostC)" ] || fail "bad input moved VMs to hostB/hostC"

echo "dry run"
rc=0
dm hostA evacuate hostA --dry-run --json >"$root/plan" || rc=$?
cat "$root/plan"
[ "$rc" = 1 ] || fail "a plan with an unplaced VM exits $rc, expected 1"
[ "$(jq -r 'select(.state == "planned") | .to' "$root/plan" | sort | tr '\n' ' ')" = "hostB hostC " ] ||
	fail "the plan does not put one VM on each of hostB and hostC"
unplaced=$(jq -r 'select(.state == "unplaced") | .vm' "$root/plan")
[ -n "$unplaced" ] || fail "no VM is unplaced in the plan"
jq -r 'select(.state == "unplaced") | .message' "$root/plan" | grep -q 'hostB: .*hostC: ' ||
	fail "the unplaced VM's message does not give both peers' reasons"
[ "$(vms_on hostA)" = "vm1 vm2 vm3" ] || fail "--dry-run moved VMs"

echo "evacuation"
rc=0
dm hostA evacuate hostA --json >"$root/result" || rc=$?
cat "$root/result"
[ "$rc" = 1 ] || fail "an evacuation that left a VM exits $rc, expected 1"
[ "$(jq -r 'select(.state == "migrated") | .to' "$root/result" | sort | tr '\n' ' ')" = "hostB hostC " ] ||
	fail "not one VM migrated to each of hostB and hostC"
left=$(jq -r 'select(.state == "unplaced") | .vm' "$root/result")
[ "$(vms_on hostA)" = "$left" ] || fail "hostA runs '$(vms_on hostA)', expected the unplaced '$left'"
grep -q '^status=running' "$root/hostA/vms/$left/fake-qemu.state" || fail "$left does not run on hostA"
grep -q '^vf=1' "$root/hostA/vms/$left/fake-qemu.state" || fail "$left lost its VF"
[ ! -e "$root/hostA/state/evacuation.json" ] || fail "the evacuation journal is left behind"

echo "coordinator killed mid-evacuation"
# Everything back on hostA, room for all on hostB and hostC.
for h in hostB hostC; do
	for vm in $(vms_on $h); do dm $h "$vm" --to hostA >/dev/null || fail "$vm did not come back"; done
done
host_kill hostB; host hostB 2 "hostA hostC"
host_kill hostC; host hostC 2 "hostA hostB"
log_from=$(($(wc -l <"$root/hostA/dmigrated.log") + 1))
new_log() { tail -n +"$log_from" "$root/hostA/dmigrated.log"; }
(rc=0; dm hostA evacuate hostA --parallel 1 --json >"$root/killed" 2>&1 || rc=$?; echo $rc >"$root/killed.rc") &
# The first migration's copy (1.5 s in fake-qemu) is under way.
for _ in $(seq 100); do
	grep -q 'migrate started' < <(new_log) && break
	sleep 0.1
done
grep -q 'Evacuation of hostA: 3 VM' < <(new_log) || fail "the evacuation did not start"
host_kill hostA
wait_files "$root/killed.rc"
echo "  the CLI, its daemon killed: exit $(cat "$root/killed.rc")"
[ -e "$root/hostA/state/evacuation.json" ] || fail "no evacuation journal after the kill"
host_start hostA
for _ in $(seq 300); do
	[ -z "$(vms_on hostA)" ] && [ ! -e "$root/hostA/state/evacuation.json" ] && break
	sleep 0.1
done
[ -z "$(vms_on hostA)" ] || fail "hostA still runs $(vms_on hostA) after the restart"
[ ! -e "$root/hostA/state/evacuation.json" ] || fail "the evacuation journal is left behind"
grep -q 'Taking up the evacuation of hostA' < <(new_log) || fail "the restarted daemon did not take the evacuation up"
echo "  after the restart: hostB runs $(vms_on hostB), hostC runs $(vms_on hostC)"
[ "$(echo $(vms_on hostB) $(vms_on hostC) | tr ' ' '\n' | sort | tr '\n' ' ')" = "vm1 vm2 vm3 " ] ||
	fail "not every VM ran once on hostB or hostC"
echo PASS
