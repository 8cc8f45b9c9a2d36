#!/usr/bin/env bash
# The destination's half of a drill's faults (migration_dest_fault.c), asked for directly over a
# real dmigrated's peer socket as a source daemon asks for it (`peer-fault`), on fake-qemu
# (fake-hosts.sh), no root and no QEMU. The fault matrix meets each fault inside a migration and
# ends its cell before a held-down link comes back; here each fault is checked on what it
# breaks, and on what comes back after it:
#  - refused, nothing touched: a VM not on this host, an unknown fault, a fault without its
#    duration, a fault the destination does not inject (drop-ssh is the source's);
#  - vf-link-down: the VF's link down when the reply comes, up again after duration_ms, not
#    before;
#  - stall-agent: the guest's agent stalls for duration_ms, then serves again;
#  - kill-agent: the guest's agent dies and its supervisor's new one answers;
#  - kill-dest-daemon: no reply, the daemon gone; restarted, it has the VM as it was;
#  - kill-dest-qemu: the QEMU gone, the daemon forgets the VM and frees its VF; a second fault
#    for it finds no VM.
# Usage: test-dest-faults.sh DMIGRATED FAKE_QEMU DMIGRATE
set -euo pipefail

dmigrated=$1 fake_qemu=$2 dmigrate=$3
# shellcheck source=tests/unit/fake-hosts.sh
. "$(dirname "$0")/fake-hosts.sh"

# peer-fault for VM $2 on host $1 with the fault (JSON) $3, its reply in $root/out.
fault() { peer "$1" peer-fault "{\"vm\": \"$2\", \"fault\": $3}" >"$root/out"; }
fault_ok() {
	fault "$@"
	jq -e '.return == {}' "$root/out" >/dev/null || fail "fault $3 on $2 was not injected: $(cat "$root/out")"
}
fault_refused() {
	local code=$4 message=$5
	fault "$1" "$2" "$3"
	jq -e --arg c "$code" '.error.code == $c' "$root/out" >/dev/null &&
		grep -qF "$message" "$root/out" ||
		fail "fault $3 on $2: not refused with $code '$message': $(cat "$root/out")"
}
state() { sed -n "s/^$2=//p" "$root/hostB/vms/$1/fake-qemu.state"; }
agent_is() { [ "$(dm hostB --json status "$1" 2>/dev/null | jq -r '.guest.agent')" = "$2" ]; }
role_is() { [ "$(dm hostB --json status "$1" 2>/dev/null | jq -r '.guest["active-role"] // empty')" = "$2" ]; }
pool() { jq -c .reservations "$root/hostB/state/vf-pool.json"; }
wait_for() {
	local what=$1; shift
	for _ in $(seq 300); do "$@" && return 0; sleep 0.1; done
	fail "still waiting for $what after 30 s"
}
now_ms() { date +%s%3N; }
# vm1 as a drill finds it before a fault: running on its VF, the link up, the agent answering.
vm1_whole() {
	[ "$(state vm1 status)" = running ] && [ "$(state vm1 vf)" = 1 ] &&
		[ "$(state vm1 vf_link)" = 1 ] && agent_is vm1 answering ||
		fail "vm1 is not whole: $(cat "$root/hostB/vms/vm1/fake-qemu.state"); $(dm hostB --json status vm1 | jq -c .guest)"
}

# The guest's agent back 4 s after a crash (its supervisor, played by fake-qemu): long enough for
# the daemon's status calls (agent_timeout_ms 1000) to see it gone on a loaded machine.
FAKE_QEMU_AGENT_RESTART_MS=4000 host hostB 2 hostA '"fault_injection": true,'
dm hostB start "$(vm_spec vm1)" >/dev/null || fail "vm1 did not start"
wait_for "vm1's bond on its VF" role_is vm1 vf
qemu_log=$root/hostB/vms/vm1/qemu.log

# --- refused: nothing is touched ---
fault_refused hostB nosuch '{"name": "kill-dest-qemu", "phase": "switchover"}' failed "no such VM here"
fault_refused hostB vm1 '{"name": "melt-the-cpu", "phase": "switchover"}' invalid-argument \
	"Bad fault: unknown fault 'melt-the-cpu'"
fault_refused hostB vm1 '{"name": "stall-agent", "phase": "active"}' invalid-argument \
	"fault 'stall-agent' needs a duration"
fault_refused hostB vm1 '{"name": "drop-ssh", "phase": "migrate"}' failed \
	"this fault is not injected by the destination"
grep -q "vm1: fault drop-ssh not injected: this fault is not injected by the destination" \
	"$root/hostB/dmigrated.log" || fail "the refused drop-ssh is not in hostB's log"
vm1_whole
echo "refused: a VM not here, an unknown fault, no duration, the source's fault; vm1 untouched"

# --- vf-link-down: down at the reply, up again after its duration ---
t0=$(now_ms)
# 3 s: the look at the link after the reply must come before its return, on a loaded machine too.
fault_ok hostB vm1 '{"name": "vf-link-down", "phase": "active", "duration_ms": 3000}'
[ "$(state vm1 vf_link)" = 0 ] || fail "the VF's link is not down once the fault is injected"
wait_for "the VF's link back up" grep -q '^vf_link=1' "$root/hostB/vms/vm1/fake-qemu.state"
ms=$(($(now_ms) - t0))
[ "$ms" -ge 3000 ] || fail "the VF's link came back after $ms ms, before the fault's 3000"
grep -q "vm1: fault vf-link-down over: VF link up again" "$root/hostB/dmigrated.log" ||
	fail "hostB did not log the link's return"
vm1_whole
echo "vf-link-down: the link down, back after $ms ms"

# --- stall-agent: the agent stalls, then serves again ---
fault_ok hostB vm1 '{"name": "stall-agent", "phase": "active", "duration_ms": 1000}'
wait_for "the agent's stall" grep -q "stalling the agent for 1000 ms, as the host asked" "$qemu_log"
wait_for "the end of the stall" grep -q "stall of 1000 ms over, serving again" "$qemu_log"
vm1_whole
echo "stall-agent: stalled 1000 ms, serving again"

# --- kill-agent: the agent dies, its supervisor starts another ---
fault_ok hostB vm1 '{"name": "kill-agent", "phase": "active"}'
wait_for "the agent's death" grep -q "killing the agent with SIGKILL, as the host asked" "$qemu_log"
wait_for "the daemon to see the agent gone" agent_is vm1 "not answering"
wait_for "the new agent's answers" agent_is vm1 answering
vm1_whole
echo "kill-agent: a new agent answers"

# --- kill-dest-daemon: no reply, the daemon gone; restarted, it has vm1 as it was ---
pid=${host_pid[hostB]}
fault hostB vm1 '{"name": "kill-dest-daemon", "phase": "active"}'
[ ! -s "$root/out" ] || fail "a daemon that killed itself replied: $(cat "$root/out")"
wait "$pid" 2>/dev/null && fail "hostB's daemon exited by itself, not SIGKILLed"
grep -q "Fault kill-dest-daemon: hostB kills itself (SIGKILL)" "$root/hostB/dmigrated.log" ||
	fail "hostB's daemon died without saying why"
host_start hostB
[ "$(pool | jq -r .vf0)" = vm1 ] || fail "restarted, hostB's pool lost vm1's VF: $(pool)"
vm1_whole
echo "kill-dest-daemon: no reply, the daemon SIGKILLed; restarted, vm1 as it was"

# --- kill-dest-qemu: the QEMU gone, the VM forgotten, its VF free ---
qemu_pid=$(cat "$root/hostB/vms/vm1/qemu.pid")
fault_ok hostB vm1 '{"name": "kill-dest-qemu", "phase": "switchover"}'
qemu_gone() { ! kill -0 "$qemu_pid" 2>/dev/null; }
wait_for "vm1's QEMU to die" qemu_gone
not_listed() { ! dm hostB list | grep -qw vm1; }
wait_for "hostB to forget vm1" not_listed
[ "$(pool | jq -r .vf0)" = null ] || fail "vm1's VF is still reserved after its QEMU died: $(pool)"
fault_refused hostB vm1 '{"name": "kill-dest-qemu", "phase": "switchover"}' failed "no such VM here"
echo "kill-dest-qemu: the QEMU killed, vm1 forgotten, its VF free; again: no such VM"
