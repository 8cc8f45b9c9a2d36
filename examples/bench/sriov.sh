# shellcheck shell=bash
# The benchmark's baselines in the SR-IOV lab (bench/run --sriov): sourced by lib.sh, whose
# functions of the same names it replaces. The baseline QEMUs run inside the host VMs (level 1)
# on a real VF of the host's igb PF, assigned with vfio-pci, on KVM: as dmigrated runs its own.
# Their sockets, pid file and serial log are in the host VM's /run (Unix sockets do not work
# across 9p); the spec, argv and QEMU's log on the lab's state share, which the host VMs mount
# at the same path. Every command on a host VM is an SSH hop through `lab exec`.
#
# The VF of a baseline: the PF's last VF (dmigrated's pool makes them and binds them to
# vfio-pci; no VM of the daemon runs while a baseline does), the VM's MAC set on it through the
# PF before the VM starts there, as a host sets it before it assigns a VF, and cleared when the
# VM is gone.

# shellcheck disable=SC2034 # read by lib.sh
BENCH_VF_DRIVER=igbvf
# Nested KVM on two busy cores: 30-90 s to "ready".
BENCH_BOOT_TIMEOUT=300
BENCH_L1_RUN=/run/dmigrate-lab
BENCH_PF=pf0

bench_rundir() {
	echo "$BENCH_L1_RUN/bench/$2"
}

bench_filedir() {
	echo "$STATE/hosts/$1/bench/$2"
}

bench_on() {
	"$LAB" exec "$1" -- sh -c "$2"
}

bench_qmp_host() {
	echo "$1"
}

# "INDEX BDF" of the VF the baselines use on HOST.
bench_vf() {
	"$LAB" exec "$1" -- "$DMIGRATE_SOURCE/tests/lab/l1/host" vfs | tail -n 1 | awk '{ print $1, $2 }'
}

bench_host_spec() {
	local spec=$1 host=$2 out=$3 idx bdf mac
	read -r idx bdf <<<"$(bench_vf "$host")"
	[[ "$bdf" =~ ^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$ ]] || bench_die "$host has no VF for the baseline ('$bdf')"
	mac=$(jq -r .mac "$spec")
	"$LAB" exec "$host" -- ip link set "$BENCH_PF" vf "$idx" mac "$mac" ||
		bench_die "$host: cannot set MAC $mac on VF $idx through $BENCH_PF"
	jq --arg bdf "$bdf" '.passthrough = {type: "vfio", host: $bdf}' "$spec" >"$out"
}

bench_host_release() {
	local idx bdf
	read -r idx bdf <<<"$(bench_vf "$1")"
	[ -z "$idx" ] || "$LAB" exec "$1" -- ip link set "$BENCH_PF" vf "$idx" mac 00:00:00:00:00:00 || true
}

# QEMU detached inside the host VM (its SSH session ends at once); waits for QMP there.
bench_qemu_start() {
	local host=$1 rundir=$2 argsfile=$3 args
	mapfile -t args <"$argsfile"
	# shellcheck disable=SC2016 # expanded there
	if ! bench_on "$host" "setsid $(printf '%q ' "${args[@]}") </dev/null >$(printf %q "${argsfile%/*}/qemu.log") 2>&1 &
		timeout 60 sh -c 'until [ -S \"\$0\" ]; do sleep 0.05; done' $(printf %q "$rundir/qmp.sock")"; then
		sed 's/^/  qemu: /' "${argsfile%/*}/qemu.log" >&2
		bench_die "QEMU did not start on $host ($rundir)"
	fi
}
