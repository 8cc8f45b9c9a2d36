#!/usr/bin/env bash
# Hook mode (docs/hooks.md) between two real dmigrated on fake-qemu (fake-hosts.sh), no root and
# no QEMU. The engine that migrates by itself is played by the test over QMP, as libvirt would:
# a QEMU started on hostB with -incoming defer, `migrate-incoming`, `migrate` on hostA's QEMU,
# `quit` of the source once the copy completed; hostB's daemon takes the arrived QEMU over
# (`start --adopt`); fake-qemu serves several QMP clients on its socket, where a real QEMU serves
# one (the lab's test-hook-qmp gives its engine a monitor of its own). Checked:
#  - bad input: an unknown VM, an unknown --from peer, options of the other command: exit 2;
#  - detach: the VF unplugged, the guest on its standby, the VF kept for the VM in hostA's pool
#    (owner VM@detached) and a journal; run again: the same answer, nothing changed;
#  - detach --undo: the VF back in the guest and active, the pool's VF the VM's again, no
#    journal; run again: nothing to do, exit 0;
#  - detach, the engine's migration, attach on hostB: a VF of hostB plugged and active there,
#    the VF hostA kept freed through the peer, no journal on either host; attach run again: exit
#    0, nothing changed;
#  - attach on hostA while the detached VM still runs there (the engine's migration failed):
#    the detach undone;
#  - hostA's daemon killed mid-detach (the guest slow to release the VF) and restarted: the
#    detach is undone, the VM on its VF again; `dmigrate cancel` mid-detach undoes it too; a new
#    detach goes through;
#  - a detached VM is not migrated by dmigrate; one stopped while detached: detach --undo frees
#    its kept VF;
#  - hostB's daemon killed mid-attach (the new VF's link held down, so `active` waits) and
#    restarted: the attach runs again and finishes, hostA's kept VF freed.
# Usage: test-hook-mode.sh DMIGRATED FAKE_QEMU DMIGRATE
set -euo pipefail

dmigrated=$1 fake_qemu=$2 dmigrate=$3
# shellcheck source=tests/unit/fake-hosts.sh
. "$(dirname "$0")/fake-hosts.sh"

# One QMP command (JSON) on the QEMU of run directory $1; prints its "return" (or "error").
qmp() {
	printf '{"execute": "qmp_capabilities"}\n%s\n' "$2" |
		socat -t 2 - "UNIX-CONNECT:$1/qmp.sock" | jq -c 'select(has("return") or has("error"))' | tail -1
}
state() { sed -n "s/^$2=//p" "$1/fake-qemu.state"; }
active_role() { dm "$1" --json status "$2" 2>/dev/null | jq -r '.guest["active-role"] // empty'; }
role_is() { [ "$(active_role "$1" "$2")" = "$3" ]; }
not_listed() { ! dm "$1" list | grep -qw "$2"; }
pool() { jq -c .reservations "$root/$1/state/vf-pool.json"; }
journal() { echo "$root/$1/state/jobs/$2.json"; }
expect_rc() {
	local want=$1 rc=0; shift
	"$@" >"$root/out" 2>&1 || rc=$?
	[ "$rc" = "$want" ] || fail "'$*' exited $rc, not $want: $(cat "$root/out")"
}
wait_for() {
	local what=$1; shift
	for _ in $(seq 300); do "$@" && return 0; sleep 0.1; done
	fail "still waiting for $what after 30 s"
}

# The engine: hostA's QEMU of $1 copied to a new QEMU on hostB, the source quit, hostB adopts it.
engine_migrate() {
	local vm=$1 rd=$root/hostB/vms/engine-$1 port
	mkdir -p "$rd"
	"$fake_qemu" -pidfile "$rd/qemu.pid" -incoming defer -daemonize </dev/null >"$rd/log" 2>&1
	qmp "$rd" '{"execute": "migrate-incoming", "arguments": {"uri": "tcp:127.0.0.1:0"}}' >/dev/null
	port=$(qmp "$rd" '{"execute": "query-migrate"}' | jq -r '.return["socket-address"][0].port')
	[ -n "$port" ] && [ "$port" != null ] || fail "the engine's incoming QEMU does not listen"
	qmp "$root/hostA/vms/$vm" "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"tcp:127.0.0.1:$port\"}}" >/dev/null
	wait_for "the engine's copy of $vm" grep -q '^status=running' "$rd/fake-qemu.state"
	qmp "$root/hostA/vms/$vm" '{"execute": "quit"}' >/dev/null || true
	wait_for "hostA to forget $vm" not_listed hostA "$vm"
	dm hostB start "$(vm_spec "$vm")" --adopt "$rd" >/dev/null || fail "hostB did not adopt $vm"
}

host hostA 2 hostB
host hostB 2 hostA
dm hostA start "$(vm_spec vm1)" >/dev/null || fail "vm1 did not start"
wait_for "vm1's bond on its VF" role_is hostA vm1 vf

# --- bad input ---
expect_rc 2 dm hostA detach nosuch
expect_rc 2 dm hostA attach nosuch
grep -q "attach runs where the engine's migration left it" "$root/out" || fail "attach of an unknown VM: $(cat "$root/out")"
expect_rc 2 dm hostA attach vm1 --from nowhere
grep -q "not a peer" "$root/out" || fail "an unknown --from is not named: $(cat "$root/out")"
expect_rc 2 dm hostA attach --undo vm1
expect_rc 2 dm hostA detach --from hostB vm1
echo "bad input refused, exit 2"

# --- detach, and its undo ---
vf=$(pool hostA | jq -r 'to_entries[] | select(.value == "vm1") | .key')
expect_rc 0 dm hostA --json detach vm1
jq -e '.outcome == "detached" and .runs_on == "hostA"' "$root/out" >/dev/null || fail "detach: $(cat "$root/out")"
jq -e '[.phases[] | .phase] == ["preflight", "prepare", "standby", "did-off", "unplug"]' "$root/out" >/dev/null ||
	fail "detach ran other phases: $(jq -c '[.phases[] | .phase]' "$root/out")"
[ "$(state "$root/hostA/vms/vm1" vf)" = 0 ] || fail "the VF is still plugged after detach"
[ "$(active_role hostA vm1)" != vf ] || fail "the guest is still on its VF after detach"
[ "$(pool hostA | jq -r --arg vf "$vf" '.[$vf]')" = vm1@detached ] || fail "hostA does not keep $vf: $(pool hostA)"
[ -f "$(journal hostA vm1)" ] || fail "no journal for the detached vm1"
expect_rc 0 dm hostA --json detach vm1
grep -q 'detached already' "$root/out" || fail "detach again: $(cat "$root/out")"
echo "detach: VF $vf unplugged and kept; again: detached already"

expect_rc 0 dm hostA --json detach --undo vm1
jq -e '.outcome == "rolled-back"' "$root/out" >/dev/null || fail "undo: $(cat "$root/out")"
[ "$(state "$root/hostA/vms/vm1" vf)" = 1 ] || fail "the VF is not back after undo"
wait_for "vm1's bond on its VF again" role_is hostA vm1 vf
[ "$(pool hostA | jq -r --arg vf "$vf" '.[$vf]')" = vm1 ] || fail "the pool's $vf is not vm1's: $(pool hostA)"
[ ! -f "$(journal hostA vm1)" ] || fail "the journal stays after undo"
expect_rc 0 dm hostA detach --undo vm1
grep -q 'not detached' "$root/out" || fail "undo again: $(cat "$root/out")"
echo "detach --undo: the VF back and active; again: nothing to do"

# --- attach on the source: the engine's migration failed ---
expect_rc 0 dm hostA detach vm1
expect_rc 0 dm hostA --json attach vm1
jq -e '.outcome == "rolled-back" and .runs_on == "hostA"' "$root/out" >/dev/null || fail "attach on the source: $(cat "$root/out")"
[ "$(state "$root/hostA/vms/vm1" vf)" = 1 ] || fail "attach on the source did not plug the VF back"
echo "attach on the source while the VM runs there: the detach undone"

# --- detach, the engine's migration, attach ---
expect_rc 0 dm hostA detach vm1
expect_rc 1 dm hostA vm1 --to hostB
grep -q 'detached for an engine' "$root/out" || fail "a detached VM's migration is not refused: $(cat "$root/out")"
engine_migrate vm1
[ "$(pool hostA | jq -r --arg vf "$vf" '.[$vf]')" = vm1@detached ] || fail "hostA let $vf go with the VM: $(pool hostA)"
expect_rc 0 dm hostB --json attach vm1
jq -e '.outcome == "attached" and .runs_on == "hostB" and .from == "hostA"' "$root/out" >/dev/null ||
	fail "attach: $(cat "$root/out")"
jq -e '[.phases[] | .phase] == ["plug", "active", "did-on", "commit"]' "$root/out" >/dev/null ||
	fail "attach ran other phases: $(jq -c '[.phases[] | .phase]' "$root/out")"
rd=$root/hostB/vms/engine-vm1
[ "$(state "$rd" vf)" = 1 ] || fail "no VF plugged on hostB"
wait_for "vm1's bond on hostB's VF" role_is hostB vm1 vf
pool hostA | grep -q vm1 && fail "hostA still keeps a VF for vm1: $(pool hostA)"
[ "$(pool hostB | jq '[.[] | select(. == "vm1")] | length')" = 1 ] || fail "hostB's pool: $(pool hostB)"
[ ! -f "$(journal hostA vm1)" ] && [ ! -f "$(journal hostB vm1)" ] || fail "a journal stays after attach"
expect_rc 0 dm hostB --json attach vm1
jq -e '.outcome == "attached"' "$root/out" >/dev/null || fail "attach again: $(cat "$root/out")"
[ "$(pool hostB | jq '[.[] | select(. == "vm1")] | length')" = 1 ] || fail "attach again took a second VF: $(pool hostB)"
echo "detach, engine migration, attach: vm1 on hostB's VF, hostA's $vf free; attach again: the same"

# --- attach with the source's daemon down, then up again ---
dm hostA start "$(vm_spec vm4)" >/dev/null || fail "vm4 did not start"
wait_for "vm4's bond on its VF" role_is hostA vm4 vf
vf4=$(pool hostA | jq -r 'to_entries[] | select(.value == "vm4") | .key')
expect_rc 0 dm hostA detach vm4
engine_migrate vm4
rd=$root/hostB/vms/engine-vm4
# Stopped (SIGTERM), not killed: hostA's daemon exits through main(), the VMs run on.
host_stop hostA
expect_rc 0 dm hostB --json attach vm4 --from hostA
jq -e '.outcome == "attached" and (.message | test("hostA did not free the VF kept for it .*; run attach again"))' \
	"$root/out" >/dev/null || fail "attach, the source down: $(cat "$root/out")"
[ "$(state "$rd" vf)" = 1 ] || fail "no VF plugged for vm4 on hostB"
wait_for "vm4's bond on hostB's VF" role_is hostB vm4 vf
# Without --from every peer is asked: the one that does not answer is named all the same.
expect_rc 0 dm hostB --json attach vm4
jq -e '.outcome == "attached" and (.message | test("hostA did not free the VF kept for it"))' \
	"$root/out" >/dev/null || fail "attach without --from, the source down: $(cat "$root/out")"
[ "$(pool hostB | jq '[.[] | select(. == "vm4")] | length')" = 1 ] || fail "attach again took a second VF: $(pool hostB)"
echo "attach with the source's daemon down: attached, the source named in the message (exit 0)"
# Back, hostA keeps vm4's VF again from its journal (the pool's reconcile had freed it).
FAKE_QEMU_UNPLUG_MS=4000 host_start hostA
[ "$(pool hostA | jq -r --arg vf "$vf4" '.[$vf]')" = vm4@detached ] || fail "restarted, hostA does not keep $vf4: $(pool hostA)"
grep -q "'vm4' is detached (VF $vf4 kept for it)" "$root/hostA/dmigrated.log" || fail "hostA did not take up vm4's detach"
expect_rc 0 dm hostB --json attach vm4
jq -e '.outcome == "attached" and .from == "hostA" and (has("message") | not)' "$root/out" >/dev/null ||
	fail "attach, the source back: $(cat "$root/out")"
pool hostA | grep -q vm4 && fail "hostA still keeps a VF for vm4: $(pool hostA)"
[ ! -f "$(journal hostA vm4)" ] && [ ! -f "$(journal hostB vm4)" ] || fail "a journal of vm4 stays"
dm hostB stop vm4 >/dev/null || fail "vm4 did not stop"
echo "the source back: its kept $vf4 restored from the journal, then freed by attach run again"

# --- hostA's daemon killed mid-detach: the guest takes 4 s to release the VF ---
dm hostA start "$(vm_spec vm2)" >/dev/null || fail "vm2 did not start"
wait_for "vm2's bond on its VF" role_is hostA vm2 vf
vf=$(pool hostA | jq -r 'to_entries[] | select(.value == "vm2") | .key')
(rc=0; dm hostA detach vm2 >"$root/out-bg" 2>&1 || rc=$?; echo $rc >"$root/rc-bg") &
journal_phase() { [ "$(jq -r .phase "$(journal "$1" "$2")" 2>/dev/null)" = "$3" ]; }
wait_for "vm2's detach in unplug" journal_phase hostA vm2 unplug
host_kill hostA
wait_files "$root/rc-bg"
[ "$(cat "$root/rc-bg")" = 0 ] && fail "detach said detached though its daemon died: $(cat "$root/out-bg")"
# Restarted once the guest released the VF: a restart while the release is still in flight is
# a known race of the unplug's undo (the VF still there is taken as never left, then goes).
wait_for "the guest to release vm2's VF" grep -q '^vf=0' "$root/hostA/vms/vm2/fake-qemu.state"
host_start hostA
no_journal() { [ ! -f "$(journal "$1" "$2")" ]; }
wait_for "hostA to undo vm2's detach" no_journal hostA vm2
wait_for "vm2's VF back" grep -q '^vf=1' "$root/hostA/vms/vm2/fake-qemu.state"
wait_for "vm2's bond on its VF again" role_is hostA vm2 vf
[ "$(pool hostA | jq -r --arg vf "$vf" '.[$vf]')" = vm2 ] || fail "the pool's $vf is not vm2's: $(pool hostA)"
grep -q "Recovering the migration of 'vm2'" "$root/hostA/dmigrated.log" || fail "hostA did not recover vm2's detach"
# `dmigrate cancel` during the detach's unplug: undone, as a migration before its switchover.
rm -f "$root/rc-bg"
(rc=0; dm hostA --json detach vm2 >"$root/out-bg" 2>&1 || rc=$?; echo $rc >"$root/rc-bg") &
wait_for "vm2's detach in unplug" journal_phase hostA vm2 unplug
# One job per VM: a second detach, an attach, an undo while it runs are refused as busy.
expect_rc 1 dm hostA detach vm2
grep -q "A migration or a hook job of 'vm2' runs on hostA" "$root/out" || fail "detach during a detach: $(cat "$root/out")"
expect_rc 1 dm hostA detach --undo vm2
grep -q "A migration or a hook job of 'vm2' runs on hostA" "$root/out" || fail "undo during a detach: $(cat "$root/out")"
expect_rc 1 dm hostA attach vm2
grep -q "A migration or an attach of 'vm2' runs on hostA" "$root/out" || fail "attach during a detach: $(cat "$root/out")"
expect_rc 0 dm hostA cancel vm2
wait_files "$root/rc-bg"
[ "$(cat "$root/rc-bg")" = 1 ] || fail "a cancelled detach exited $(cat "$root/rc-bg"): $(cat "$root/out-bg")"
jq -e '.outcome == "rolled-back"' "$root/out-bg" >/dev/null || fail "cancelled detach: $(cat "$root/out-bg")"
wait_for "vm2's VF back after the cancel" grep -q '^vf=1' "$root/hostA/vms/vm2/fake-qemu.state"
wait_for "vm2's bond on its VF after the cancel" role_is hostA vm2 vf
expect_rc 0 dm hostA detach vm2
echo "hostA killed mid-detach and restarted: the detach undone, vm2 on its VF; cancel mid-detach: undone; detach again: detached"
# No VF freed under a running VM: a peer's peer-hook-release is refused while vm2 runs here.
peer hostA peer-hook-release '{"vm": "vm2"}' >"$root/out"
jq -e '.error.code == "failed"' "$root/out" >/dev/null &&
	grep -q "'vm2' still runs on hostA: its kept VF is not freed" "$root/out" ||
	fail "peer-hook-release of a detached VM that still runs: $(cat "$root/out")"
[ "$(pool hostA | jq -r --arg vf "$vf" '.[$vf]')" = vm2@detached ] || fail "hostA let $vf go under vm2: $(pool hostA)"
peer hostA peer-hook-release '{"vm": "vm3"}' >"$root/out"
jq -e '.return.released == false' "$root/out" >/dev/null || fail "peer-hook-release of a VM never detached: $(cat "$root/out")"
echo "peer-hook-release: refused while the detached VM runs here; nothing to free for a VM never detached"

# --- hostB's daemon killed mid-attach: the new VF's link held down, so active waits ---
# Restarted first (stopped, not killed): it keeps vm1 attached, on its VF.
host_stop hostB
host_start hostB
[ "$(pool hostB | jq '[.[] | select(. == "vm1")] | length')" = 1 ] || fail "restarted, hostB's pool: $(pool hostB)"
wait_for "vm1's bond on hostB's VF after a restart" role_is hostB vm1 vf
engine_migrate vm2
rd=$root/hostB/vms/engine-vm2
qmp "$rd" '{"execute": "set_link", "arguments": {"name": "vf0", "up": false}}' >/dev/null
rm -f "$root/rc-bg"
(rc=0; dm hostB attach vm2 >"$root/out-bg" 2>&1 || rc=$?; echo $rc >"$root/rc-bg") &
wait_for "vm2's attach in active" journal_phase hostB vm2 active
expect_rc 1 dm hostB attach vm2
grep -q "A migration or an attach of 'vm2' runs on hostB" "$root/out" || fail "attach during an attach: $(cat "$root/out")"
expect_rc 1 dm hostB detach vm2
grep -q "A migration or a hook job of 'vm2' runs on hostB" "$root/out" || fail "detach during an attach: $(cat "$root/out")"
host_kill hostB
wait_files "$root/rc-bg"
qmp "$rd" '{"execute": "set_link", "arguments": {"name": "vf0", "up": true}}' >/dev/null
host_start hostB
wait_for "hostB to finish vm2's attach" no_journal hostB vm2
grep -q "Recovering the attach of 'vm2'" "$root/hostB/dmigrated.log" || fail "hostB did not recover vm2's attach"
[ "$(state "$rd" vf)" = 1 ] || fail "no VF plugged for vm2 on hostB"
wait_for "vm2's bond on hostB's VF" role_is hostB vm2 vf
pool hostA | grep -q vm2 && fail "hostA still keeps a VF for vm2: $(pool hostA)"
[ ! -f "$(journal hostA vm2)" ] || fail "hostA's journal of vm2 stays"
[ "$(pool hostB | jq '[.[] | select(. == "vm2")] | length')" = 1 ] || fail "hostB's pool: $(pool hostB)"
echo "hostB killed mid-attach and restarted: the attach finished, hostA's kept VF freed"

# --- a VM stopped while detached: detach --undo frees the VF kept for it ---
dm hostA start "$(vm_spec vm3)" >/dev/null || fail "vm3 did not start"
wait_for "vm3's bond on its VF" role_is hostA vm3 vf
expect_rc 0 dm hostA detach vm3
dm hostA stop vm3 >/dev/null || fail "vm3 did not stop"
pool hostA | grep -q '"vm3@detached"' || fail "hostA let vm3's kept VF go when it stopped: $(pool hostA)"
expect_rc 2 dm hostA detach vm3
grep -q "it was detached here: attach it where the engine's migration left it" "$root/out" ||
	fail "detach of a stopped detached VM: $(cat "$root/out")"
expect_rc 1 dm hostA attach vm3
grep -q "'vm3' was detached on hostA and does not run here (gone)" "$root/out" ||
	fail "attach of a stopped detached VM on its source: $(cat "$root/out")"
expect_rc 0 dm hostA --json detach --undo vm3
grep -q 'no longer runs here' "$root/out" || fail "undo of a stopped detached VM: $(cat "$root/out")"
pool hostA | grep -q vm3 && fail "hostA still keeps a VF for vm3: $(pool hostA)"
[ ! -f "$(journal hostA vm3)" ] || fail "vm3's journal stays"
echo "a VM stopped while detached: detach --undo freed its kept VF"
