#!/usr/bin/env bash
# The destination asks the guest agent for the new VF as the plug starts, not after it
# (migration_dest.c, plug_run()): two real dmigrated (fake-hosts.sh) on fake-qemu, no root and no
# QEMU. Checked:
#  - a migration hostA -> hostB: hostB's log says the agent waits for the VF from its plug on
#    before the plug phase is done, the VF ends active (migrated), and the active phase's
#    device wait is no longer than the phase (none of the plug's time counted twice);
#  - back with a drill's stall-agent at active: the request is not asked for early (the fault
#    must find it unanswered), and the stalled agent degrades the result as before.
# Usage: test-activate-at-plug.sh DMIGRATED FAKE_QEMU DMIGRATE
set -euo pipefail

dmigrated=$1 fake_qemu=$2 dmigrate=$3
# shellcheck source=tests/unit/fake-hosts.sh
. "$(dirname "$0")/fake-hosts.sh"

host hostA 1 hostB '"fault_injection": true,'
host hostB 1 hostA '"fault_injection": true,'
dm hostA start "$(vm_spec vm1)" >/dev/null || fail "vm1 did not start on hostA"

rc=0
dm hostA --json vm1 --to hostB >"$root/out" 2>"$root/err" || rc=$?
[ "$rc" = 0 ] || fail "vm1 -> hostB: exit $rc: $(cat "$root/out" "$root/err")"
jq -e '.outcome == "migrated"' "$root/out" >/dev/null || fail "not migrated: $(cat "$root/out")"
asked=$(grep -n 'vm1: the guest agent waits for the VF from its plug on' "$root/hostB/dmigrated.log" | cut -d: -f1 | head -n 1)
plugged=$(grep -n 'vm1: destination phase plug done' "$root/hostB/dmigrated.log" | cut -d: -f1 | head -n 1)
[ -n "$asked" ] && [ -n "$plugged" ] && [ "$asked" -lt "$plugged" ] ||
	fail "hostB did not ask the agent before the plug was done (log lines ${asked:-none}, ${plugged:-none})"
jq -e '.phases[] | select(.phase == "active") | .device_wait_ms <= .duration_ms' "$root/out" >/dev/null ||
	fail "the active phase's device wait outlasts the phase: $(jq -c '.phases[] | select(.phase == "active")' "$root/out")"
echo "hostA -> hostB: the agent asked before the plug was done, migrated"

before=$(grep -c 'the guest agent waits for the VF from its plug on' "$root/hostA/dmigrated.log" || true)
printf '%s\n' 'vm vm1' 'migrate hostB hostA fault stall-agent at active for 3 expect degraded' >"$root/stall.drill"
"$dmigrate" drill run "$root/stall.drill" --host "hostA=$root/hostA/d.sock" --host "hostB=$root/hostB/d.sock" ||
	fail "the drill (stall-agent at active, expected degraded) did not end as expected"
after=$(grep -c 'the guest agent waits for the VF from its plug on' "$root/hostA/dmigrated.log" || true)
[ "$before" = "$after" ] || fail "hostA asked the agent at the plug with a fault due at active"
echo "hostB -> hostA, stall-agent at active: not asked at the plug, degraded"
echo "PASS"
