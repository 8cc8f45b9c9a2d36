# shellcheck shell=bash
# Shared by the benchmark's scripts: VMs started outside the daemons for the baselines, from
# the same `dmigrate spec qemu-args` command line the daemons use, plus what each baseline
# changes. Needs LAB (tests/lab/lab), STATE (the lab's state directory), DMIGRATE (the CLI).
# In the SR-IOV lab (BENCH_LAB=sriov) sriov.sh, sourced at the end, replaces the functions that
# differ there: the QEMUs run inside the host VMs, on a real VF.
#
# Network modes of a baseline VM (the lab's guest builds its bond at boot; the mode undoes it):
#   failover  QEMU's virtio-net failover: failover=on on the virtio NIC, failover_pair_id on the
#             VF (the netns lab's e1000e, the SR-IOV lab's vfio-pci); in the guest, net_failover's
#             master (the virtio NIC's) holds the address
#   plain     no bond: the address on the VF; a VF plugged later gets it from a uevent hook
#   novf      no VF at all: the address on the virtio NIC (a plain QEMU migration)

bench_die() {
	echo "bench: $*" >&2
	exit 1
}

# The guest driver of the VF.
BENCH_VF_DRIVER=e1000e
# Seconds a baseline VM may take to boot.
BENCH_BOOT_TIMEOUT=90
# The QEMU the baselines run, the one the lab's daemons run (tests/lab/lab: QEMU 10, because
# Debian 12's 7.2 loses guest pages in TCG migrations): every variant on the same QEMU.
BENCH_QEMU=${DMIGRATE_LAB_GUEST_QEMU-$DMIGRATE_SOURCE/tests/lab/qemu-backports}

# bench_rundir HOST VM: where a baseline QEMU on HOST keeps its sockets, pid file and serial log.
bench_rundir() {
	echo "$STATE/hosts/$1/bench/$2"
}

# bench_filedir HOST VM: where the benchmark keeps that VM's spec, mode, argv and QEMU's log.
bench_filedir() {
	bench_rundir "$@"
}

# bench_on HOST CMDLINE: a shell command line where HOST's QEMUs run.
bench_on() {
	sh -c "$2"
}

# bench_qmp_host HOST: the host to pass to qmp_open (qmp.sh) for HOST's QEMUs: none here.
bench_qmp_host() {
	:
}

# bench_host_spec SPEC HOST OUT: the spec as HOST runs it.
bench_host_spec() {
	cp "$1" "$3"
}

# bench_host_release HOST: what a baseline VM held on HOST besides its QEMU: nothing here.
bench_host_release() {
	:
}

# bench_qemu_args SPEC RUNDIR MODE [--incoming]: QEMU's argv, one per line. An incoming QEMU
# of a baseline runs as soon as the copy is complete, as QEMU does by itself: dmigrated's -S
# (its destination daemon resumes the VM) is taken out.
bench_qemu_args() {
	local spec=$1 rundir=$2 mode=$3
	shift 3
	case "$mode" in
	failover)
		"$DMIGRATE" spec qemu-args "$spec" --run-dir "$rundir" "$@" |
			sed 's/^virtio-net-pci,id=standby0,.*/&,failover=on/; s/^e1000e,id=vf0,.*/&,failover_pair_id=standby0/
				s/^vfio-pci,id=vf0,.*/&,failover_pair_id=standby0/'
		;;
	plain) "$DMIGRATE" spec qemu-args "$spec" --run-dir "$rundir" "$@" ;;
	novf) "$DMIGRATE" spec qemu-args "$spec" --run-dir "$rundir" --no-vf "$@" ;;
	*) bench_die "unknown network mode '$mode'" ;;
	esac | sed '/^-S$/d'
}

# bench_qemu_start HOST RUNDIR ARGS-FILE: QEMU in HOST's namespace, detached, its output in
# qemu.log beside ARGS-FILE; waits for QMP.
bench_qemu_start() {
	local host=$1 rundir=$2 argsfile=$3 pid i args
	mapfile -t args <"$argsfile"
	[ -z "$BENCH_QEMU" ] || args[0]=$BENCH_QEMU
	setsid "$LAB" exec "$host" -- "${args[@]}" </dev/null >"${argsfile%/*}/qemu.log" 2>&1 &
	pid=$!
	for i in $(seq 200); do
		[ -S "$rundir/qmp.sock" ] && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	sed 's/^/  qemu: /' "${argsfile%/*}/qemu.log" >&2
	bench_die "QEMU did not start on $host ($rundir)"
}

# The guest command that turns the lab's boot-time bond into MODE's network.
bench_guest_net() {
	local mode=$1 addr=$2
	local drv='$(basename "$(readlink /sys/class/net/$n/device/driver)")'
	local find="for d in /sys/class/net/*; do n=\${d##*/}; case $drv in $BENCH_VF_DRIVER) vf=\$n ;; virtio_net) [ -e \$d/master ] || sb=\$n ;; esac; done"
	local unbond="echo -bond0 >/sys/class/net/bonding_masters; $find"
	case "$mode" in
	failover)
		echo "$unbond; m=\$(basename \$(readlink /sys/class/net/\$vf/master)); for s in \$(ls /sys/class/net/\$m | sed -n 's/^lower_//p') \$m; do ip link set \$s up; done; ip addr add $addr dev \$m"
		;;
	plain)
		# busybox uevent runs the hook for every kernel event: a new NIC other than the standby gets the address.
		echo "$unbond; ip link set \$vf up; ip addr add $addr dev \$vf; printf '#!/bin/sh\nexport PATH=/sbin:/bin:/usr/sbin:/usr/bin\n[ \"\$SUBSYSTEM\" = net ] && [ \"\$ACTION\" = add ] && [ \"\$INTERFACE\" != %s ] && [ \"\$INTERFACE\" != lo ] || exit 0\nip link set \"\$INTERFACE\" up; ip addr add $addr dev \"\$INTERFACE\"\n' \$sb >/run/nic-hotplug; chmod +x /run/nic-hotplug; setsid uevent /run/nic-hotplug </dev/null >/dev/null 2>&1 &"
		;;
	novf)
		echo "$unbond; ip link set \$sb up; ip addr add $addr dev \$sb"
		;;
	esac
}

# The guest command that waits until the VF carries traffic again: a VF NIC with carrier,
# enslaved to the failover master (failover) or holding the address (plain).
bench_guest_wait_vf() {
	local mode=$1 cond
	if [ "$mode" = failover ]; then
		cond='[ -e $d/master ]'
	else
		cond='ip -4 addr show dev ${d##*/} | grep -q inet'
	fi
	# Bounded (25 s), or a VF that never comes would hold the console.
	echo "i=0; while [ \$i -lt 1000 ]; do for d in /sys/class/net/*; do [ \"\$(basename \"\$(readlink \$d/device/driver)\")\" = $BENCH_VF_DRIVER ] && [ \"\$(cat \$d/carrier 2>/dev/null)\" = 1 ] && $cond && echo \${d##*/} && exit 0; done; i=\$((i + 1)); sleep 0.02; done; exit 1"
}

# bench_vm_start SPEC HOST MODE: boots the VM for a baseline and sets up MODE's network.
bench_vm_start() {
	local spec=$1 host=$2 mode=$3 name rundir files addr
	name=$(jq -r .name "$spec")
	addr=$(jq -r .address "$spec")
	rundir=$(bench_rundir "$host" "$name")
	files=$(bench_filedir "$host" "$name")
	bench_on "$host" "rm -rf $(printf %q "$rundir") && mkdir -p $(printf %q "$rundir")"
	rm -rf "$files"
	mkdir -p "$files"
	bench_host_spec "$spec" "$host" "$files/spec.json"
	echo "$mode" >"$files/mode"
	bench_qemu_args "$files/spec.json" "$rundir" "$mode" >"$files/qemu.args"
	bench_qemu_start "$host" "$rundir" "$files/qemu.args"
	# One command where the QEMU runs: in the SR-IOV lab every command there is an SSH hop.
	# shellcheck disable=SC2016 # expanded there
	bench_on "$host" "timeout $BENCH_BOOT_TIMEOUT sh -c 'until grep -qa \"dmigrate-lab: ready\" \"\$0\" 2>/dev/null; do sleep 0.1; done' $(printf %q "$rundir/serial.log")" ||
		bench_die "VM '$name' did not boot on $host within $BENCH_BOOT_TIMEOUT s"
	"$LAB" guest "$name" -- "$(bench_guest_net "$mode" "$addr")" >/dev/null ||
		bench_die "could not set up the '$mode' network in '$name'"
	# Measured from a steady state: the VF's link up (its autonegotiation takes seconds).
	if [ "$mode" != novf ]; then
		"$LAB" guest "$name" --timeout 30 -- "$(bench_guest_wait_vf "$mode")" >/dev/null ||
			bench_die "the VF of '$name' did not come up"
	fi
}

# Kills the QEMUs of baseline VM NAME wherever they run, and removes their run directories.
bench_vm_kill() {
	local name=$1 host rundir
	for host in hostA hostB; do
		rundir=$(printf %q "$(bench_rundir "$host" "$name")")
		# shellcheck disable=SC2016 # expanded there
		bench_on "$host" "if p=\$(cat $rundir/qemu.pid 2>/dev/null) && [ -n \"\$p\" ]; then
			kill -KILL \$p 2>/dev/null; timeout 5 tail --pid=\$p -f /dev/null 2>/dev/null; fi; rm -rf $rundir" || true
		rm -rf "$(bench_filedir "$host" "$name")"
		bench_host_release "$host"
	done
}

if [ "${BENCH_LAB:-netns}" = sriov ]; then
	# shellcheck source=examples/bench/sriov.sh
	. "$(dirname "${BASH_SOURCE[0]}")/sriov.sh"
fi
