#!/usr/bin/env bash
# Several migrations at once, without root or QEMU: two real dmigrated (fake-hosts.sh) whose
# QEMU is fake-qemu. hostA runs three VMs, hostB has two VFs; all three are sent to hostB at the
# same moment, and two go the other way at the same time. Checked:
#  - the destination's VF pool: never handed out twice; the VM that finds no VF fails at preflight
#    or prepare (whichever it reaches when the others hold both), before its guest was touched
#    (its VF still plugged on hostA, the bond untouched), exit 1;
#  - hostA's migration bandwidth cap (90 MiB/s) split between the copies that run together
#    (fake-qemu logs every max-bandwidth and every migration status): each gets 45 MiB/s while
#    the other copies, never more than the cap, and the sum of what is in effect never over it.
# Usage: test-concurrent-jobs.sh DMIGRATED FAKE_QEMU DMIGRATE
set -euo pipefail

dmigrated=$1 fake_qemu=$2 dmigrate=$3
cap=90
# shellcheck source=tests/unit/fake-hosts.sh
. "$(dirname "$0")/fake-hosts.sh"

host hostA 3 hostB "\"migration_bandwidth_cap_mibps\": $cap,"
host hostB 2 hostA
for i in 1 2 3; do
	dm hostA start "$(vm_spec vm$i)" >/dev/null || fail "vm$i did not start on hostA"
done

# --- three at once onto two free VFs ---
for i in 1 2 3; do
	(rc=0; dm hostA --json vm$i --to hostB >"$root/out$i" 2>"$root/err$i" || rc=$?; echo $rc >"$root/rc$i") &
done
wait_files "$root"/rc1 "$root"/rc2 "$root"/rc3
migrated=() refused=()
for i in 1 2 3; do
	rc=$(cat "$root/rc$i")
	case $rc in
	0) migrated+=(vm$i) ;;
	1) refused+=(vm$i) ;;
	*) fail "vm$i: exit $rc: $(cat "$root/out$i" "$root/err$i")" ;;
	esac
done
[ ${#migrated[@]} = 2 ] && [ ${#refused[@]} = 1 ] ||
	fail "expected two migrated and one refused, got migrated: ${migrated[*]:-none}, refused: ${refused[*]:-none}"
r=${refused[0]}
grep -q 'no free passthrough device' "$root/out${r#vm}" ||
	fail "$r's result does not say why: $(cat "$root/out${r#vm}")"
grep -q '"runs_on": *"hostA"' "$root/out${r#vm}" || fail "$r is not reported on hostA"
# Refused at preflight or prepare: no phase that touches the guest ran (standby is the first).
grep -q '"standby"' "$root/out${r#vm}" && fail "$r's guest was touched: $(cat "$root/out${r#vm}")"
grep -q '^vf=1' "$root/hostA/vms/$r/fake-qemu.state" || fail "$r lost its VF on hostA"
grep -q '^status=running' "$root/hostA/vms/$r/fake-qemu.state" || fail "$r does not run on hostA"
# hostB's two VFs, one for each migrated VM; hostA still holds the refused VM's.
pool_b=$(cat "$root/hostB/state/vf-pool.json")
for v in "${migrated[@]}"; do
	[ "$(grep -o "\"$v\"" <<<"$pool_b" | wc -l)" = 1 ] || fail "hostB's pool: $v not held once: $pool_b"
	grep -q '^status=running' "$root/hostB/vms/$v/fake-qemu.state" || fail "$v does not run on hostB"
done
grep -q "\"$r\"" "$root/hostA/state/vf-pool.json" || fail "hostA's pool lost $r's VF"
echo "three at once onto two VFs: ${migrated[*]} migrated, $r refused before its guest was touched, still on hostA"

# --- the cap: the two copies shared hostA's 90 MiB/s ---
# Every log line: MICROSECONDS WHAT VALUE; the limit in effect for a copy is its last max-bandwidth.
# Replayed in time order: each copy got half the cap, none more than the cap, and the sum of
# the limits of the copies that were active never over it (but for the instant when the joiner
# is set before the others are told).
n=0
for v in "${migrated[@]}"; do
	n=$((n + 1))
	awk -v vm=$n '{ print $1, vm, $2, $3 }' "$root/hostA/vms/$v/fake-qemu.migration"
done | sort -n -s -k1,1 | awk -v cap=$((cap << 20)) -v half=$(((cap / 2) << 20)) -v n=$n '
	$3 == "max-bandwidth" { lim[$2] = $4; if ($4 > cap) { print "over the cap: " $0; bad = 1 }
				if ($4 == half) halves[$2] = 1 }
	$3 == "status" { active[$2] = ($4 == "active") }
	{
		s = 0
		for (v in active) if (active[v]) s += lim[v]
		if (s > cap) { if ($1 > last_over + 50000) over++; last_over = $1 }
	}
	END {
		for (v = 1; v <= n; v++) if (!halves[v]) { print "copy " v " never got half the cap"; bad = 1 }
		if (over > 1) { print "the active copies were over the cap " over " times"; bad = 1 }
		exit bad
	}' || fail "the bandwidth cap was not shared"
echo "the two copies each had 45 of hostA's 90 MiB/s while both ran, never more together"

# --- both directions at the same time ---
# One of hostB's VMs stopped frees a VF there for the refused VM; the other comes back.
for i in 1 2 3; do rm -f "$root/rc$i"; done
a=${migrated[0]} b=${migrated[1]}
dm hostB stop "$b" >/dev/null || fail "$b did not stop on hostB"
(rc=0; dm hostB --json "$a" --to hostA >"$root/out1" 2>&1 || rc=$?; echo $rc >"$root/rc1") &
(rc=0; dm hostA --json "$r" --to hostB >"$root/out2" 2>&1 || rc=$?; echo $rc >"$root/rc2") &
wait_files "$root"/rc1 "$root"/rc2
[ "$(cat "$root/rc1")" = 0 ] || fail "$a hostB -> hostA: $(cat "$root/out1")"
[ "$(cat "$root/rc2")" = 0 ] || fail "$r hostA -> hostB: $(cat "$root/out2")"
dm hostA list | grep -q "$a" || fail "$a is not on hostA"
dm hostB list | grep -q "$r" || fail "$r is not on hostB"
echo "both ways at once: $a hostB -> hostA and $r hostA -> hostB"
