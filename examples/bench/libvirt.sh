# shellcheck shell=bash
# The benchmark's libvirt variants (bench/run --sriov --libvirt), sourced by bench/run and
# bench/libvirt-migrate after lib.sh (and sriov.sh): vm1 as a domain of hostA's libvirtd (the
# lab up with DMIGRATE_LAB_LIBVIRT=1), driven with virsh inside the host VM, as an operator
# would. Two domains from examples/libvirt/:
#   teaming   vm1-teaming.xml: libvirt's <teaming> (virtio persistent, the VF transient), the
#             guest's net_failover; moved by bench/libvirt-migrate (virsh migrate)
#   vfio      vm1-vfio.xml: the VF as an unmanaged <hostdev>, the guest's bond; taken over by
#             hostA's dmigrated (a spec naming the domain) and moved by `dmigrate vm1 --to`
# Each gets the lab's paths, the guest command line the bench gives every variant here
# (console=ttyS0 nosoftlockup, no quiet), a serial console at the unix socket `lab guest` looks
# for (/run/libvirt/qemu/console.sock, l1/host vms) logged to the state share, and its VF.
# Needs lib.sh's and bench/run's names: LAB, STATE, vm, base_spec (bench_libvirt_start only).
# shellcheck disable=SC2154 # vm, base_spec: bench/run's

BENCH_LIBVIRT_FILES=$STATE/bench-libvirt
BENCH_LISTENERS=()

# virsh_on HOST ARGS...: virsh against HOST's libvirtd, inside its host VM.
virsh_on() {
	local host=$1
	shift
	"$LAB" exec "$host" -- virsh -q -c qemu:///system "$@"
}

# The guest's serial log as this machine sees it (the host VMs' /var/log/libvirt is
# STATE/hosts/HOST/libvirt-log).
bench_libvirt_serial() {
	echo "$STATE/hosts/$1/libvirt-log/qemu/$2-serial.log"
}

# bench_libvirt_xml TEMPLATE BDF OUT: the example domain for this lab with VF BDF.
bench_libvirt_xml() {
	local template=$1 bdf=$2 out=$3 bus slot fn
	[[ "$bdf" =~ ^0000:([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$ ]] || bench_die "not a VF address: '$bdf'"
	bus=${BASH_REMATCH[1]} slot=${BASH_REMATCH[2]} fn=${BASH_REMATCH[3]}
	sed -e "s|/var/tmp/dmigrate-lab-sriov/guest-image/|$STATE/guest-image/|g" \
		-e "s|<cmdline>console=ttyS0 quiet |<cmdline>console=ttyS0 nosoftlockup |" \
		-e "s|<serial type='pty'/>|<serial type='unix'><source mode='bind' path='/run/libvirt/qemu/console.sock'/><log file='/var/log/libvirt/qemu/$vm-serial.log' append='on'/></serial>|" \
		-e "/<console type='pty'\/>/d" \
		-e "/<source>/,/<\/source>/s|domain='0x0000' bus='0x01' slot='0x10' function='0x0'|domain='0x0000' bus='0x$bus' slot='0x$slot' function='0x$fn'|" \
		"$template" >"$out"
	grep -q "bus='0x$bus' slot='0x$slot' function='0x$fn'" "$out" ||
		bench_die "$template: could not put the lab's VF in"
	grep -q console.sock "$out" ||
		bench_die "$template: could not put the lab's console in"
}

# bench_libvirt_vf_xml BDF MAC OUT: the <teaming> VF as an element of its own, to attach.
bench_libvirt_vf_xml() {
	local bdf=$1 mac=$2 out=$3
	[[ "$bdf" =~ ^0000:([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$ ]] || bench_die "not a VF address: '$bdf'"
	cat >"$out" <<-EOF
		<interface type='hostdev' managed='no'>
		  <source>
		    <address type='pci' domain='0x0000' bus='0x${BASH_REMATCH[1]}' slot='0x${BASH_REMATCH[2]}' function='0x${BASH_REMATCH[3]}'/>
		  </source>
		  <mac address='$mac'/>
		  <teaming type='transient' persistent='ua-standby0'/>
		</interface>
	EOF
}

# "INDEX BDF" of the pool's first VF on HOST: the one dmigrated's takeover accepts (a free VF
# of its pool; the bench's QEMU baselines use the last).
bench_libvirt_pool_vf() {
	"$LAB" exec "$1" -- "$DMIGRATE_SOURCE/tests/lab/l1/host" vfs | head -n 1 | awk '{ print $1, $2 }'
}

# bench_libvirt_start KIND: vm1 defined and started on hostA, booted, its network as the
# variant needs it. KIND: teaming, vfio (the VF as dmigrated's pool left it: the MAC the
# guest's igbvf chose), vfio-mac (the VF given the VM's MAC through the PF first, as the
# baselines' VFs and dmigrated's own VMs' are).
bench_libvirt_start() {
	local kind=$1 idx bdf template xml serial mac addr
	mac=$(jq -r .mac "$base_spec")
	addr=$(jq -r .address "$base_spec")
	mkdir -p "$BENCH_LIBVIRT_FILES"
	xml=$BENCH_LIBVIRT_FILES/$vm.xml
	if [ "$kind" = teaming ]; then
		# libvirt sets the MAC on an <interface type='hostdev'>'s VF itself.
		read -r idx bdf <<<"$(bench_vf hostA)"
		template=$DMIGRATE_SOURCE/examples/libvirt/vm1-teaming.xml
	else
		read -r idx bdf <<<"$(bench_libvirt_pool_vf hostA)"
		template=$DMIGRATE_SOURCE/examples/libvirt/vm1-vfio.xml
		if [ "$kind" = vfio-mac ]; then
			"$LAB" exec hostA -- ip link set "$BENCH_PF" vf "$idx" mac "$mac" ||
				bench_die "hostA: cannot set MAC $mac on VF $idx through $BENCH_PF"
		fi
	fi
	bench_libvirt_xml "$template" "$bdf" "$xml"
	serial=$(bench_libvirt_serial hostA "$vm")
	rm -f "$serial" "$(bench_libvirt_serial hostB "$vm")"
	virsh_on hostA define "$xml" >/dev/null || bench_die "virsh define $xml on hostA failed"
	virsh_on hostA start "$vm" >/dev/null || bench_die "virsh start $vm on hostA failed"
	# shellcheck disable=SC2016 # expanded by that sh
	timeout "$BENCH_BOOT_TIMEOUT" sh -c 'until grep -qa "dmigrate-lab: ready" "$0" 2>/dev/null; do sleep 0.2; done' "$serial" ||
		bench_die "domain '$vm' did not boot on hostA within $BENCH_BOOT_TIMEOUT s ($serial)"
	log "$vm up on hostA: $(grep -a -m 1 'dmigrate-lab: ready' "$serial" | tr -d '\r' | sed 's/.*ready //')"
	if [ "$kind" = teaming ]; then
		"$LAB" guest "$vm" -- "$(bench_guest_net failover "$addr")" >/dev/null ||
			bench_die "could not set up net_failover's network in '$vm'"
		"$LAB" guest "$vm" --timeout 30 -- "$(bench_guest_wait_vf failover)" >/dev/null ||
			bench_die "the VF of '$vm' did not come up under net_failover"
	fi
}

# bench_libvirt_setup VARIANT: everything a libvirt variant needs before its migration (run
# in a subshell by bench/run: a refusal ends the variant, not the run).
bench_libvirt_setup() {
	local variant=$1 bdf
	case "$variant" in
	libvirt-teaming)
		bench_libvirt_start teaming
		read -r _ bdf <<<"$(bench_vf hostB)"
		bench_libvirt_vf_xml "$bdf" "$(jq -r .mac "$base_spec")" "$BENCH_LIBVIRT_FILES/vf-hostB.xml"
		;;
	dmigrate-libvirt | dmigrate-libvirt-vfmac)
		if [ "$variant" = dmigrate-libvirt ]; then
			bench_libvirt_start vfio
		else
			bench_libvirt_start vfio-mac
		fi
		jq -n --arg n "$vm" '{name: $n, libvirt: {domain: $n, uri: "qemu:///system"}}' >"$BENCH_LIBVIRT_FILES/spec.json"
		"$LAB" exec hostA -- dmigrate start "$BENCH_LIBVIRT_FILES/spec.json" >&2 ||
			bench_die "hostA's dmigrated did not take domain '$vm' over"
		for _ in $(seq 30); do
			"$LAB" guest "$vm" -- pidof dmigrate-agent >/dev/null 2>&1 && return 0
			sleep 1
		done
		bench_die "no dmigrate-agent answered in '$vm'"
		;;
	*) bench_die "unknown libvirt variant '$variant'" ;;
	esac
}

# bench_libvirt_listen DIR: libvirt's events, each line stamped with its arrival here (epoch
# seconds), from now until bench_libvirt_unlisten: the source domain's QEMU events
# (MIGRATION's status changes, UNPLUG_PRIMARY) in DIR/src-events.txt, hostB's domain events
# (lifecycle: the incoming domain resumed; device-added) in DIR/dst-events.txt. Each listener
# is bounded by virsh's own --timeout too.
bench_libvirt_listen() {
	local dir=$1 host file
	for host in hostA hostB; do
		if [ "$host" = hostA ]; then
			set -- qemu-monitor-event --domain "$vm" --loop --timeout 900
			file=$dir/src-events.txt
		else
			set -- event --all --loop --timeout 900
			file=$dir/dst-events.txt
		fi
		# shellcheck disable=SC2016 # expanded by that bash
		setsid bash -c '"$0" exec "$1" -- stdbuf -oL virsh -c qemu:///system "${@:2}" 2>/dev/null |
			while IFS= read -r l; do printf "%s %s\n" "$EPOCHREALTIME" "$l"; done' \
			"$LAB" "$host" "$@" </dev/null >"$file" 2>/dev/null &
		BENCH_LISTENERS+=("$!")
	done
	# Registered once virsh connected: a few SSH round trips to the host VMs.
	sleep 3
}

bench_libvirt_unlisten() {
	local pid
	for pid in "${BENCH_LISTENERS[@]}"; do
		kill -- "-$pid" 2>/dev/null || true
	done
	BENCH_LISTENERS=()
}

# bench_libvirt_keep_logs DIR: what each host's libvirtd logged (warnings and errors), and the
# domain's QEMU and serial logs, into DIR/libvirt-HOST (`lab down` removes the state's copy).
bench_libvirt_keep_logs() {
	local dir=$1 host f
	for host in hostA hostB; do
		mkdir -p "$dir/libvirt-$host"
		for f in libvirtd.log "qemu/$vm.log" "qemu/$vm-serial.log"; do
			[ ! -f "$STATE/hosts/$host/libvirt-log/$f" ] ||
				tail -c 200000 "$STATE/hosts/$host/libvirt-log/$f" | tr -d '\r' >"$dir/libvirt-$host/${f##*/}"
		done
	done
}

# Whatever a libvirt variant left: the domain destroyed and undefined on both hosts, the
# MAC the vfio-mac kind gave hostA's VF cleared.
bench_libvirt_stop() {
	local host idx
	bench_libvirt_unlisten
	for host in hostA hostB; do
		virsh_on "$host" destroy "$vm" >/dev/null 2>&1 || true
		virsh_on "$host" undefine "$vm" >/dev/null 2>&1 || true
	done
	read -r idx _ <<<"$(bench_libvirt_pool_vf hostA)"
	[ -z "$idx" ] || "$LAB" exec hostA -- ip link set "$BENCH_PF" vf "$idx" mac 00:00:00:00:00:00 >/dev/null 2>&1 || true
}
