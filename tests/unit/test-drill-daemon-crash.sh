#!/usr/bin/env bash
# `dmigrate drill run` when a step kills the source's dmigrated (kill-source-daemon): two real
# dmigrated on fake-qemu (fake-hosts.sh), no root, no QEMU, each daemon under a supervisor loop
# that starts it again a moment after it dies, as systemd would. The drill runs the example
# file's steps (examples/drills/kill-source-daemon.drill): killed at standby, rolled back from the
# journal; killed during the copy, migrated from the journal; then back. The drill loses its
# connection with the daemon at each kill, waits for it and reads the outcome from where the VM
# runs; every step must pass, and the VM end on hostA once.
# Usage: test-drill-daemon-crash.sh DMIGRATED FAKE_QEMU DMIGRATE SOURCE_ROOT
set -euo pipefail

dmigrated=$1 fake_qemu=$2 dmigrate=$3 src=$4
# shellcheck source=tests/unit/fake-hosts.sh
. "$(dirname "$0")/fake-hosts.sh"

# Each daemon under its supervisor: started again 500 ms after it died, until the test ends
# (the supervisor, told to stop, kills its daemon first; fake_hosts_cleanup then the QEMUs).
declare -A supervisor=()
supervise() {
	local name=$1
	host_kill "$name"
	(
		trap 'kill -KILL $child 2>/dev/null; exit 0' TERM
		while :; do
			FAKE_QEMU_COPY_MS=${FAKE_QEMU_COPY_MS:-1500} "$dmigrated" \
				-c "$root/$name/config.json" >>"$root/$name/dmigrated.log" 2>&1 &
			child=$!
			wait "$child" || true
			sleep 0.5
		done
	) &
	supervisor[$name]=$!
	unset "host_pid[$name]"
}
supervisors_stop() {
	local p
	for p in "${supervisor[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${supervisor[@]}"; do wait "$p" 2>/dev/null || true; done
	fake_hosts_cleanup
}
trap supervisors_stop EXIT

host hostA 1 hostB '"fault_injection": true,'
host hostB 1 hostA '"fault_injection": true,'
supervise hostA
supervise hostB
for _ in $(seq 100); do dm hostA list >/dev/null 2>&1 && dm hostB list >/dev/null 2>&1 && break; sleep 0.1; done
dm hostA start "$(vm_spec vm1)" >/dev/null || fail "vm1 did not start on hostA"

# The example's steps, without its ping: pinging needs root (or ping sockets), a unit test none.
sed '/^ping /d' "$src/examples/drills/kill-source-daemon.drill" >"$root/kill-source-daemon.drill"
rc=0
out=$("$dmigrate" drill run "$root/kill-source-daemon.drill" \
	--host "hostA=$root/hostA/d.sock" --host "hostB=$root/hostB/d.sock" 2>&1) || rc=$?
echo "$out"
[ "$rc" -eq 0 ] || fail "the drill exited $rc"
grep -q "fault kill-source-daemon at standby: rolled-back (exit 1, from the restarted source daemon's journal), runs on hostA" <<<"$out" ||
	fail "step 1 did not read rolled-back from the journal"
grep -q "fault kill-source-daemon at migrate: migrated (exit 1, from the restarted source daemon's journal), runs on hostB" <<<"$out" ||
	fail "step 2 did not read migrated from the journal"
[ "$(dm hostA list --json | jq -r '[.vms[].name] | join(" ")')" = vm1 ] || fail "vm1 is not on hostA"
[ "$(dm hostB list --json | jq -r '[.vms[].name] | join(" ")')" = "" ] || fail "vm1 is still on hostB"
[ "$(grep -c 'kills itself' "$root/hostA/dmigrated.log" "$root/hostB/dmigrated.log" | awk -F: '{s += $2} END {print s}')" -eq 2 ] ||
	fail "the source daemon was not killed twice"
echo "PASS: the drill waited for its killed source daemon twice and read both outcomes"
