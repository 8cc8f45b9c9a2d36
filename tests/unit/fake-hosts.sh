# shellcheck shell=bash
# Sourced by the unit tests that run real dmigrated on fake-qemu, no root and no QEMU: hosts in a
# temporary directory, each a daemon whose peers are linked locally (no SSH), torn down on exit.
# The sourcing script sets dmigrated, fake_qemu and dmigrate (the binaries) first.
#   host NAME SLOTS "PEER..." [EXTRA JSON MEMBERS,]   write NAME's config and start its daemon
#   host_start NAME / host_kill NAME                 its daemon again, or SIGKILL
#   host_stop NAME                                   SIGTERM, as systemd stops it (VMs run on)
#   dm NAME ARGS...                                  dmigrate against NAME's daemon
#   vm_spec NAME                                     a VM spec file for fake-qemu
#   peer NAME CMD ARGS_JSON                          one request on NAME's peer socket, as a peer
#   wait_files FILE...                               until each exists (30 s)
set -euo pipefail

root=$(mktemp -d /tmp/dm-fakehosts.XXXXXX)
declare -A host_pid=()
fake_hosts_cleanup() {
	local p
	# SIGTERM first: a daemon that exits by itself writes its coverage data (tests/coverage
	# counts these daemons); one still there after 5 s is killed.
	if [ ${#host_pid[@]} -gt 0 ]; then
		kill -TERM "${host_pid[@]}" 2>/dev/null || true
		(sleep 5; kill -KILL "${host_pid[@]}" 2>/dev/null) &
		local killer=$!
		for p in "${host_pid[@]}"; do wait "$p" 2>/dev/null || true; done
		kill "$killer" 2>/dev/null || true
	fi
	for p in "$root"/host*/vms/*/qemu.pid; do
		[ -f "$p" ] && kill -KILL "$(cat "$p")" 2>/dev/null || true
	done
	if [ -n "${KEEP:-}" ]; then echo "kept $root"; else rm -rf "$root"; fi
}
trap fake_hosts_cleanup EXIT

fail() {
	local l
	echo "FAIL: $*"
	for l in "$root"/host*/dmigrated.log; do echo "== $l"; tail -40 "$l"; done
	exit 1
}

dm() { local h=$1; shift; "$dmigrate" --socket "$root/$h/d.sock" "$@"; }

host_start() {
	local name=$1
	FAKE_QEMU_COPY_MS=${FAKE_QEMU_COPY_MS:-1500} "$dmigrated" -c "$root/$name/config.json" \
		>>"$root/$name/dmigrated.log" 2>&1 &
	host_pid[$name]=$!
	for _ in $(seq 100); do
		dm "$name" list >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "$name's dmigrated did not come up"
}

host_kill() {
	kill -KILL "${host_pid[$1]}"
	wait "${host_pid[$1]}" 2>/dev/null || true
}

# A daemon stopped, not crashed: it exits through main() and so writes its coverage data, which
# a SIGKILLed one never does (tests/coverage); KILL after 5 s.
host_stop() {
	local pid=${host_pid[$1]} killer
	kill -TERM "$pid"
	(sleep 5; kill -KILL "$pid" 2>/dev/null) &
	killer=$!
	wait "$pid" 2>/dev/null || true
	kill "$killer" 2>/dev/null || true
	wait "$killer" 2>/dev/null || true
}

host() {
	local name=$1 slots=$2 peers=$3 extra=${4:-} p sep=
	mkdir -p "$root/$name"
	{
		cat <<JSON
{"name": "$name", "control_socket": "$root/$name/d.sock", "peer_socket": "$root/$name/p.sock",
 "state_dir": "$root/$name/state", "run_dir": "$root/$name/vms", "qemu_binary": "$fake_qemu",
 "migration_address": "127.0.0.1", "passthrough": {"type": "emulated", "slots": $slots},
 "agent_timeout_ms": 1000, "incoming_timeout_ms": 20000, $extra
 "migration": {"migrate_timeout_ms": 10000}, "peers": {
JSON
		for p in $peers; do
			echo "$sep\"$p\": {\"address\": \"127.0.0.1\", \"peer_socket\": \"$root/$p/p.sock\", \"link\": \"local\"}"
			sep=,
		done
		echo "}}"
	} >"$root/$name/config.json"
	host_start "$name"
}

# One request on NAME's peer socket, after a hello (with feature fault-injection, which a daemon
# without fault_injection does not settle on): prints its reply (the JSON line), nothing when
# the connection ends first.
peer() {
	local h=$1 cmd=$2 args=$3 line pid
	coproc PEER { socat - "UNIX-CONNECT:$root/$h/p.sock"; }
	# bash unsets PEER_PID once socat has exited (the daemon closed first): keep it.
	pid=$PEER_PID
	printf '%s\n' \
		'{"id": 1, "cmd": "hello", "args": {"version": 2, "client": "fake-hosts", "features": ["fault-injection"]}}' \
		"{\"id\": 2, \"cmd\": \"$cmd\", \"args\": $args}" >&"${PEER[1]}"
	while IFS= read -r -t 20 line <&"${PEER[0]}"; do
		if [ "$(jq -r .id <<<"$line")" = 2 ]; then
			echo "$line"
			break
		fi
	done
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

vm_spec() {
	local name=$1 n
	n=$(printf '%02x' $(( $(cksum <<<"$name" | cut -d' ' -f1) % 200 + 16 )))
	: >"$root/kernel"
	cat >"$root/$name.json" <<JSON
{"name": "$name", "memory_mib": 256, "vcpus": 1, "mac": "52:54:00:00:01:$n",
 "passthrough": {"type": "emulated"}, "boot": {"kernel": "$root/kernel", "cmdline": "console=ttyS0"}}
JSON
	echo "$root/$name.json"
}

wait_files() {
	local f n
	for _ in $(seq 300); do
		n=0
		for f in "$@"; do [ -f "$f" ] && n=$((n + 1)); done
		[ "$n" = $# ] && return 0
		sleep 0.1
	done
	fail "still waiting for $* after 30 s"
}
