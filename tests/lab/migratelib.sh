# shellcheck shell=bash
# Sourced by the lab tests that migrate VMs (after testlib.sh): specs for daemon-run VMs,
# waiting for a guest, checking results, and summarising what the client's traffic saw.

# The lab boots its own image whatever a spec's boot says (as `lab vm start` does): write the
# adapted spec into the state directory and print its path.
lab_spec() {
	local spec=$1 out
	out=$STATE/$(basename "$spec")
	"$DMIGRATE_BUILD/src/orchestrator/dmigrate" spec show "$spec" |
		jq --arg k "$DMIGRATE_LAB_IMAGE_DIR/vmlinuz" --arg i "$DMIGRATE_LAB_IMAGE_DIR/initrd.img" '
			.boot = { kernel: $k, initrd: $i, cmdline: "console=ttyS0 quiet" }' >"$out"
	echo "$out"
}

# Wait until the guest's init says it is ready (its serial log, wherever it runs).
wait_guest_ready() {
	local name=$1
	retry 90 bash -c "cat '$STATE'/hosts/*/vms/'$name'/serial.log 2>/dev/null | grep -qa 'dmigrate-lab: ready'" ||
		fail "VM '$name' did not come up"
	# The agent starts right after; the first migration's preflight would wait for it.
	retry 30 lab guest "$name" -- pidof dmigrate-agent >/dev/null || fail "no agent in '$name'"
}

# QEMU processes in one host's namespace.
qemu_count() {
	local pid n=0
	for pid in $(ip netns pids "$DMIGRATE_LAB_PREFIX-$1"); do
		case "$(readlink "/proc/$pid/exe" 2>/dev/null)" in
		*/qemu-system-*) n=$((n + 1)) ;;
		esac
	done
	echo "$n"
}

# expect_json FILE JQ-FILTER VALUE
expect_json() {
	local got
	got=$(jq -r "$2" "$1")
	[ "$got" = "$3" ] || fail "$(basename "$1"): $2 is '$got', expected '$3'"
}

# End the client's ping, iperf3 and tcpdump with SIGINT: each prints what it saw before it
# ends (iperf3's JSON then carries "interrupt - the client has terminated"). Sent to them
# directly (the client namespace is this lab's own): `lab exec`'s shell may not pass it on.
client_traffic_stop() {
	local pid
	for pid in $(ip netns pids "$DMIGRATE_LAB_PREFIX-client"); do
		case "$(readlink "/proc/$pid/exe" 2>/dev/null)" in
		*/ping|*/iperf3|*/tcpdump) kill -INT "$pid" 2>/dev/null || true ;;
		esac
	done
}

# iperf3 --json -i 0.1: the longest run of intervals without a byte, and the totals (the mean
# of the sender's intervals when our SIGINT kept the receiver's sum from it).
iperf_report() {
	jq -r '
		[.intervals[].sum | .bits_per_second] as $bps
		| (reduce $bps[] as $b ({cur: 0, max: 0};
			if $b == 0 then .cur += 1 | .max = ([.max, .cur] | max) else .cur = 0 end)) as $gap
		| "iperf3 TCP: \($bps | length) intervals of 100 ms, longest with zero throughput: \($gap.max * 100) ms, " +
		  "retransmits \(.end.sum_sent.retransmits // "n/a"), mean \(((.end.sum_received | select(.bytes > 0) | .bits_per_second) // ($bps | add / length)) / 1e6 | floor) Mbit/s"' "$1"
}

# ping -D -i 0.01: the longest time between two replies, and the loss.
ping_report() {
	awk '
		/bytes from/ { t = substr($1, 2, length($1) - 2) + 0; if (last && t - last > gap) gap = t - last; last = t; n++ }
		/packets transmitted/ { sent = $1 }
		END { printf "ping every 10 ms: %d sent, %d answered, longest gap between replies %.0f ms\n", sent, n, gap * 1000 }' "$1"
}

# The --host options of `dmigrate drill run` for the lab's hosts.
drill_hosts() {
	echo "--host hostA=$STATE/hosts/hostA/dmigrated.sock --host hostB=$STATE/hosts/hostB/dmigrated.sock"
}
