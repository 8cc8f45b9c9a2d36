# shellcheck shell=bash
# Shared by the benchmark's scripts: VMs started outside the daemons for the baselines, from
# the same `dmigrate spec qemu-args` command line the daemons use, plus what each baseline
# changes. Needs LAB (tests/lab/lab), STATE (the lab's state directory), DMIGRATE (the CLI).
#
# Network modes of a baseline VM (the lab's guest builds its bond at boot; the mode undoes it):
#   failover  QEMU's virtio-net failover: failover=on on the virtio NIC, failover_pair_id on the
#             e1000e "VF"; in the guest, net_failover's master (the virtio NIC's) holds the address
#   plain     no bond: the address on the VF; a VF plugged later gets it from a uevent hook
#   novf      no VF at all: the address on the virtio NIC (a plain QEMU migration)

bench_die() {
	echo "bench: $*" >&2
	exit 1
}

bench_rundir() {
	echo "$STATE/hosts/$1/bench/$2"
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
			sed 's/^virtio-net-pci,id=standby0,.*/&,failover=on/; s/^e1000e,id=vf0,.*/&,failover_pair_id=standby0,romfile=/'
		;;
	plain) "$DMIGRATE" spec qemu-args "$spec" --run-dir "$rundir" "$@" ;;
	novf) "$DMIGRATE" spec qemu-args "$spec" --run-dir "$rundir" --no-vf "$@" ;;
	*) bench_die "unknown network mode '$mode'" ;;
	esac | sed '/^-S$/d'
}

# bench_qemu_start HOST RUNDIR ARGS-FILE: QEMU in HOST's namespace, detached; waits for QMP.
bench_qemu_start() {
	local host=$1 rundir=$2 argsfile=$3 pid i args
	mapfile -t args <"$argsfile"
	setsid "$LAB" exec "$host" -- "${args[@]}" </dev/null >"$rundir/qemu.log" 2>&1 &
	pid=$!
	for i in $(seq 200); do
		[ -S "$rundir/qmp.sock" ] && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	sed 's/^/  qemu: /' "$rundir/qemu.log" >&2
	bench_die "QEMU did not start on $host ($rundir)"
}

# The guest command that turns the lab's boot-time bond into MODE's network.
bench_guest_net() {
	local mode=$1 addr=$2
	local drv='$(basename "$(readlink /sys/class/net/$n/device/driver)")'
	local find="for d in /sys/class/net/*; do n=\${d##*/}; case $drv in e1000e) vf=\$n ;; virtio_net) [ -e \$d/master ] || sb=\$n ;; esac; done"
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

# The guest command that waits until the VF carries traffic again: an e1000e with carrier,
# enslaved to the failover master (failover) or holding the address (plain).
bench_guest_wait_vf() {
	local mode=$1 cond
	if [ "$mode" = failover ]; then
		cond='[ -e $d/master ]'
	else
		cond='ip -4 addr show dev ${d##*/} | grep -q inet'
	fi
	# Bounded (25 s), or a VF that never comes would hold the console.
	echo "i=0; while [ \$i -lt 1000 ]; do for d in /sys/class/net/*; do [ \"\$(basename \"\$(readlink \$d/device/driver)\")\" = e1000e ] && [ \"\$(cat \$d/carrier 2>/dev/null)\" = 1 ] && $cond && echo \${d##*/} && exit 0; done; i=\$((i + 1)); sleep 0.02; done; exit 1"
}

# bench_vm_start SPEC HOST MODE: boots the VM for a baseline and sets up MODE's network.
bench_vm_start() {
	local spec=$1 host=$2 mode=$3 name rundir addr i
	name=$(jq -r .name "$spec")
	addr=$(jq -r .address "$spec")
	rundir=$(bench_rundir "$host" "$name")
	rm -rf "$rundir"
	mkdir -p "$rundir"
	cp "$spec" "$rundir/spec.json"
	echo "$mode" >"$rundir/mode"
	bench_qemu_args "$rundir/spec.json" "$rundir" "$mode" >"$rundir/qemu.args"
	bench_qemu_start "$host" "$rundir" "$rundir/qemu.args"
	for i in $(seq 900); do
		grep -qa 'dmigrate-lab: ready' "$rundir/serial.log" 2>/dev/null && break
		sleep 0.1
	done
	grep -qa 'dmigrate-lab: ready' "$rundir/serial.log" || bench_die "VM '$name' did not boot on $host"
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
	local name=$1 host pidfile
	for host in hostA hostB; do
		pidfile=$(bench_rundir "$host" "$name")/qemu.pid
		if [ -s "$pidfile" ]; then
			kill -KILL "$(cat "$pidfile")" 2>/dev/null || true
			timeout 5 tail --pid="$(cat "$pidfile")" -f /dev/null 2>/dev/null || true
		fi
		rm -rf "$(bench_rundir "$host" "$name")"
	done
}
