# shellcheck shell=bash
# The SR-IOV lab (`lab --sriov VERB`, or DMIGRATE_LAB_KIND=sriov): sourced by tests/lab/lab,
# whose functions of the same names it replaces. Same verbs, same state layout on this machine,
# but hostA and hostB are VMs (level 1, "L1") on the lab switch, each with an emulated Intel 82576
# (igb) PF with SR-IOV behind an emulated VT-d, and nested KVM. They run this machine's root
# filesystem read-only over virtio-9p (l1-image, l1/init) and the lab's state directory writable
# at the same path; inside them l1/host does the host's part. The client and the switch stay
# namespaces here. tests/lab/README.md has the walk-through.

# The hosts' VMs need igb: QEMU >= 8, unpacked from bookworm-backports by ./bootstrap.
L1_QEMU_DIR=${DMIGRATE_LAB_QEMU_DIR:-/opt/dmigrate-lab/qemu-backports}
L1_QEMU=$L1_QEMU_DIR/usr/bin/qemu-system-x86_64
L1_IMAGE=${DMIGRATE_LAB_L1_IMAGE_DIR:-$STATE/l1-image}
# The CPU inside a host VM is ~16x slower than here; its boot (kernel, 9p, VFs, sshd, daemon)
# takes about a minute when both boot at once on two cores.
L1_BOOT_TIMEOUT=${DMIGRATE_LAB_L1_BOOT_TIMEOUT:-300}
# VFs each PF gets (igb has 7).
L1_NUM_VFS=2
# What the guests' standby bridge (br0 in each host VM) reaches the switch through: a second
# NIC (uplink) or the igb PF itself (pf); l1/host's standby_layout says what each means.
# `lab exec HOST -- tests/lab/l1/host standby uplink|pf` switches a running host.
L1_STANDBY=${DMIGRATE_LAB_SRIOV_STANDBY:-uplink}
# The guests' agent requests: the igbvf of a VF plugged into a nested guest on busy cores took
# more than the default 5 s to report its carrier.
L1_AGENT_TIMEOUT_MS=20000
L1_TOOL=$here/l1/host
# Seconds an SSH connection to a host VM may take to connect (see l1_ssh_opts).
L1_SSH_TIMEOUT=60
# Inside a host VM: the daemon's socket and the VMs' run directories (see l1/host).
L1_RUN=/run/dmigrate-lab
NAMESPACES=(client switch)
# The lab's own address on the switch: `lab exec HOST` reaches the hosts' sshd from here.
ADDR[switch]=$NET.254
declare -A L1_MAC=([hostA]=52:54:00:5d:00:01 [hostB]=52:54:00:5d:00:02)
declare -A L1_UPLINK_MAC=([hostA]=52:54:00:5d:01:01 [hostB]=52:54:00:5d:01:02)
# The guests run on nested KVM: 30-90 s to "ready" on an idle machine, more when the two cores
# are busy with anything else.
SPEC_VM_TIMEOUT=${DMIGRATE_LAB_BOOT_TIMEOUT:-300}
# A guest's console answers through SSH into its host VM; with the two cores busy (load 10-16)
# one answer took more than 60 s.
GUEST_TIMEOUT=180
# What `lab down` removes besides the hosts' directories.
LAB_STATE_FILES+=(specs guest-image ssh/cm-hostA ssh/cm-hostB ssh/hostA.log ssh/hostB.log)

sriov_check_names() {
	# The state directory travels on the host VMs' kernel command line and in their inittab.
	[[ "$STATE" =~ ^/[A-Za-z0-9._/-]+$ ]] ||
		die "DMIGRATE_LAB_DIR '$STATE': the SR-IOV lab needs a path of A-Z a-z 0-9 . _ - / only"
	[[ "$here" =~ ^/[A-Za-z0-9._/-]+$ ]] ||
		die "the source tree '$here' is at a path the SR-IOV lab cannot pass on a kernel command line"
	[[ "$L1_STANDBY" =~ ^(uplink|pf)$ ]] ||
		die "DMIGRATE_LAB_SRIOV_STANDBY '$L1_STANDBY': expected uplink (a second NIC) or pf (the igb PF)"
}

# The lab's SSH options with a connect timeout for this lab: a host VM's sshd, on a CPU ~16x
# slower and two busy cores, took more than the netns lab's 5 s to send its banner.
l1_ssh_opts() {
	ssh_opts
	SSH_OPTS=("${SSH_OPTS[@]/#ConnectTimeout=*/ConnectTimeout=$L1_SSH_TIMEOUT}")
}

# Runs the command (its words, quoted so that the remote shell splits them back into exactly
# these) on a host VM over SSH from the switch namespace, with the lab's key and known_hosts; one
# master connection per host (its CPU makes every new SSH handshake cost a second or more).
# The master gives up on a host silent for 60 s (12 keepalives 5 s apart), as long as a new
# connection may take: a host VM busy with a migration on two shared cores can stall for more
# than ssh's default 15 s. The master runs detached, its messages would go nowhere: ssh logs to
# a file per host, whose end is shown when ssh fails (255).
l1_ssh() {
	local host=$1 rc=0
	shift
	l1_ssh_opts
	ip netns exec "$(ns switch)" ssh "${SSH_OPTS[@]}" -o ControlMaster=auto \
		-o "ControlPath=$STATE/ssh/cm-%h" -o ControlPersist=900 -o ServerAliveInterval=5 \
		-o ServerAliveCountMax=12 -E "$STATE/ssh/$host.log" \
		"root@${ADDR[$host]}" -- "$(printf '%q ' "$@")" || rc=$?
	if [ "$rc" -eq 255 ]; then
		echo "lab: ssh to $host failed (255); the end of $STATE/ssh/$host.log:" >&2
		tail -n 5 "$STATE/ssh/$host.log" >&2
	fi
	return "$rc"
}

# ---- network -------------------------------------------------------------------------------

net_up() {
	local n host
	for n in "${NAMESPACES[@]}"; do
		ip netns add "$(ns "$n")"
		in_ns "$n" ip link set lo up
	done
	in_ns switch ip link add sw0 type bridge
	in_ns switch ip link set sw0 type bridge forward_delay 0
	# Pinned: a bridge takes its ports' lowest MAC, and taps come and go with the host VMs.
	in_ns switch ip link set sw0 address 52:54:00:5d:ff:fe
	in_ns switch ip addr add "${ADDR[switch]}/24" dev sw0
	in_ns switch ip link set sw0 up
	ip link add eth0 netns "$(ns client)" type veth peer name client netns "$(ns switch)"
	in_ns switch ip link set client master sw0 up
	in_ns client ip addr add "${ADDR[client]}/24" dev eth0
	in_ns client ip link set eth0 up
	# Each host VM: its PF's tap and its standby uplink's tap, both ports of the switch.
	for host in "${HOSTS[@]}"; do
		for n in pf up; do
			in_ns switch ip tuntap add dev "$host-$n" mode tap
			in_ns switch ip link set "$host-$n" master sw0 up
		done
	done
}

# ---- host VMs ------------------------------------------------------------------------------

l1_files() {
	local host=$1 peer=$2 dir=$STATE/hosts/$1
	mkdir -p "$dir"
	printf 'ADDR=%q\nBUILD=%q\nSTANDBY=%q\n' "${ADDR[$host]}/24" "$DMIGRATE_BUILD" "$L1_STANDBY" >"$dir/l1.env"
	cat >"$dir/sshd_config" <<-EOF
		# Generated by tests/lab/lab for the SR-IOV lab '$PREFIX' (read by $host's VM).
		ListenAddress ${ADDR[$host]}:22
		HostKey $STATE/ssh/${host}_host_ed25519_key
		PidFile $L1_RUN/sshd.pid
		AuthorizedKeysFile $STATE/ssh/authorized_keys
		PermitRootLogin prohibit-password
		PubkeyAuthentication yes
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		UsePAM no
		StrictModes no
		AllowStreamLocalForwarding yes
		AllowTcpForwarding local
		X11Forwarding no
		PrintMotd no
		# The lab's many short commands: a slow CPU, one master connection per host.
		MaxSessions 64
	EOF
	# The daemon makes its pool from the PF: it creates the VFs and binds them to vfio-pci.
	# CPU 1 of the host VM's two is for pinned vCPUs (test-sriov pins vm1's vCPU there).
	cat >"$dir/dmigrated.json" <<-EOF
		{
			"name": "$host",
			"control_socket": "$L1_RUN/dmigrated.sock",
			"peer_socket": "$L1_RUN/peer.sock",
			"state_dir": "$L1_RUN/state",
			"run_dir": "$L1_RUN/vms",
			"migration_address": "${ADDR[$host]}",
			"passthrough": { "type": "sriov", "pf": "pf0", "vfs": $L1_NUM_VFS },
			"dedicated_cpus": "1",
			"fault_injection": true,
			"agent_timeout_ms": $L1_AGENT_TIMEOUT_MS,
			"ssh": {
				"user": "root",
				"identity_file": "$STATE/ssh/id_ed25519",
				"known_hosts_file": "$STATE/ssh/known_hosts"
			},
			"peers": {
				"$peer": {
					"address": "${ADDR[$peer]}",
					"peer_socket": "$L1_RUN/peer.sock"
				}
			}
		}
	EOF
}

# The host VM: q35 with VT-d (interrupt remapping), -cpu max (under TCG an AMD CPU with SVM
# and NPT: nested KVM works inside), the igb PF on its own root port, a spare root port, a
# virtio-net uplink for the guests' standby bridge (unused in the pf layout), this machine's / and the state directory
# over 9p. It runs in the switch namespace, where its taps are.
l1_start() {
	local host=$1 dir=$STATE/hosts/$1
	local args=(
		"$L1_QEMU" -name "$host" -M q35 -accel tcg,thread=multi -cpu max -smp 2 -m 2G
		-nodefaults -no-user-config -display none
		-L "$L1_QEMU_DIR/usr/share/qemu" -L "$L1_QEMU_DIR/usr/share/seabios" -L /usr/lib/ipxe/qemu
		-device intel-iommu,intremap=on,caching-mode=on,device-iotlb=on
		-kernel "$L1_IMAGE/vmlinuz" -initrd "$L1_IMAGE/initrd.img"
		-append "console=ttyS0 intel_iommu=on iommu=pt dmigrate.host=$host dmigrate.state=$STATE dmigrate.tool=$L1_TOOL"
		-fsdev local,id=rootfs,path=/,security_model=none,readonly=on,multidevs=remap
		-device virtio-9p-pci,fsdev=rootfs,mount_tag=root
		-fsdev "local,id=statefs,path=$STATE,security_model=none,multidevs=remap"
		-device virtio-9p-pci,fsdev=statefs,mount_tag=state
		-device pcie-root-port,id=rp1,chassis=1
		-device pcie-root-port,id=rp2,chassis=2
		-netdev "tap,id=pf,ifname=$host-pf,script=no,downscript=no"
		-device "igb,netdev=pf,mac=${L1_MAC[$host]},bus=rp1"
		-netdev "tap,id=uplink,ifname=$host-up,script=no,downscript=no"
		-device "virtio-net-pci,netdev=uplink,mac=${L1_UPLINK_MAC[$host]}"
		-chardev "socket,id=console,path=$dir/console.sock,server=on,wait=off,logfile=$dir/console.log"
		-serial chardev:console
		-pidfile "$dir/qemu.pid"
	)
	printf '%s\n' "${args[@]}" >"$dir/qemu.args"
	# QEMU_MODULE_DIR: its own modules, not the system QEMU 7.2's (it still warns about those
	# it lacks, ui-opengl and audio: harmless).
	(exec env QEMU_MODULE_DIR="$L1_QEMU_DIR/usr/lib/x86_64-linux-gnu/qemu" \
		ip netns exec "$(ns switch)" setsid "${args[@]}" </dev/null >"$dir/qemu.log" 2>&1 8>&-) &
}

l1_ready() {
	grep -qa 'dmigrate-l1: ready' "$STATE/hosts/$1/console.log" 2>/dev/null
}

l1_failed() {
	grep -qa 'dmigrate-l1: ' "$STATE/hosts/$1/console.log" 2>/dev/null &&
		! l1_ready "$1" && return 0
	[ -s "$STATE/hosts/$1/qemu.pid" ] && ! kill -0 "$(cat "$STATE/hosts/$1/qemu.pid")" 2>/dev/null
}

l1_wait() {
	local host deadline=$((SECONDS + L1_BOOT_TIMEOUT))
	for host in "${HOSTS[@]}"; do
		until l1_ready "$host"; do
			if l1_failed "$host" || [ $SECONDS -ge $deadline ]; then
				tail -n 30 "$STATE/hosts/$host/console.log" 2>/dev/null | tr -d '\r' | sed 's/^/  console: /' >&2
				sed 's/^/  qemu: /' "$STATE/hosts/$host/qemu.log" >&2
				die "$host's VM did not come up (console log: $STATE/hosts/$host/console.log)"
			fi
			sleep 0.5
		done
		info "$host: $(grep -a -m1 'dmigrate-l1: ready' "$STATE/hosts/$host/console.log" | tr -d '\r' | sed 's/.*ready //')"
	done
}

# libvirtd in both host VMs (l1/host libvirt start), at once: their QEMU capabilities probes
# are the long part (28 s for both at a first start here; 11 s with the probe cached in
# STATE/libvirt-cache/sriov-HOST, which `down` keeps).
l1_libvirt_start() {
	local host t0=$SECONDS
	for host in "${HOSTS[@]}"; do
		l1_ssh "$host" "$L1_TOOL" libvirt start &
	done
	for host in "${HOSTS[@]}"; do
		wait -n || die "libvirtd did not start in a host VM (see $STATE/hosts/*/libvirt-log)"
	done
	info "libvirtd answers in both host VMs after $((SECONDS - t0)) s"
}

# ---- up / down / status --------------------------------------------------------------------

cmd_up() {
	local host peer t0=$SECONDS
	need_root
	sriov_check_names
	lab_lock
	if lab_is_up; then
		info "SR-IOV lab '$PREFIX' is already up ($STATE)"
		return 0
	fi
	for n in "${NAMESPACES[@]}"; do
		ns_exists "$n" && die "namespace $(ns "$n") exists but the lab is not up: run 'lab --sriov down' first"
	done
	[ -x "$L1_QEMU" ] || die "$L1_QEMU is missing: run ./bootstrap (it unpacks QEMU from bookworm-backports)"
	[ -x "$DMIGRATE" ] && [ -x "$DMIGRATED" ] ||
		die "$DMIGRATED is missing: build first (meson setup build && meson compile -C build) or set DMIGRATE_BUILD"
	image_ensure
	"$here/l1-image" "$L1_IMAGE" || die "building the host VMs' initramfs failed"
	trap 'rc=$?; [ $rc -eq 0 ] || { info "lab up failed; cleaning up"; lab_teardown; }' EXIT
	# The host VMs read the guest image from the state share, which they never cache: a
	# rebuilt image is seen by the next VM started.
	mkdir -p "$STATE/guest-image"
	cp "$IMAGE/vmlinuz" "$IMAGE/initrd.img" "$STATE/guest-image/"
	# Read by the host VMs from this machine's /etc: their QEMU's bridge helper.
	bridge_acl_ensure
	net_up
	ssh_keys_ensure
	for host in "${HOSTS[@]}"; do
		peer=hostA
		[ "$host" = hostA ] && peer=hostB
		l1_files "$host" "$peer"
		l1_start "$host"
	done
	l1_wait
	for host in "${HOSTS[@]}"; do
		l1_ssh "$host" true || die "ssh to $host's VM (root@${ADDR[$host]}) failed"
	done
	# The daemons' own links: each host to the other, strict host-key checking.
	for host in "${HOSTS[@]}"; do
		peer=hostA
		[ "$host" = hostA ] && peer=hostB
		l1_ssh "$host" ssh "${SSH_OPTS[@]}" "root@${ADDR[$peer]}" true ||
			die "ssh from $host to $peer failed"
	done
	if [ "$LAB_LIBVIRT" = 1 ]; then
		l1_libvirt_start
	fi
	echo "$PREFIX" >"$STATE/up"
	trap - EXIT
	info "up in $((SECONDS - t0)) s: host VMs ${ADDR[hostA]} (hostA), ${ADDR[hostB]} (hostB), client ${ADDR[client]}; state in $STATE"
}

cmd_status() {
	local n host pid
	check_names
	echo "SR-IOV lab '$PREFIX', state $STATE: $(lab_is_up && echo up || echo down)"
	for n in "${NAMESPACES[@]}"; do
		if ns_exists "$n"; then
			printf '  %-7s %-16s %s\n' "$n" "$(ns "$n")" "${ADDR[$n]:-}"
		else
			printf '  %-7s %-16s missing\n' "$n" "$(ns "$n")"
		fi
	done
	for host in "${HOSTS[@]}"; do
		pid=$(cat "$STATE/hosts/$host/qemu.pid" 2>/dev/null || true)
		if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
			echo "  $host: VM pid $pid, ${ADDR[$host]}"
			lab_is_up && l1_ssh "$host" "$L1_TOOL" vfs 2>/dev/null |
				awk '{ printf "    VF %s %s (%s, IOMMU group %s)\n", $1, $2, $3, $4 }'
		else
			echo "  $host: VM not running"
		fi
	done
	lab_is_up || return 0
	vm_list | while read -r host pid rundir vm; do
		echo "  vm $vm on $host: pid $pid, run dir $rundir"
	done
}

cmd_exec() {
	local host=${1:-}
	[ $# -ge 3 ] && [ "$2" = "--" ] || die "usage: lab exec HOST -- CMD..."
	shift 2
	need_root
	case "$host" in
	hostA|hostB)
		lab_is_up || die "SR-IOV lab '$PREFIX' is not up: run 'lab --sriov up' first"
		# The remote shell splits the line back into exactly these words.
		l1_ssh "$host" env DMIGRATE_LAB_HOST="$host" DMIGRATE_SOCKET="$L1_RUN/dmigrated.sock" \
			PATH="$DMIGRATE_BUILD/src/orchestrator:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
			"$@"
		;;
	client|switch)
		ns_exists "$host" || die "$(ns "$host") does not exist: run 'lab --sriov up' first"
		DMIGRATE_LAB_HOST=$host PATH=$DMIGRATE_BUILD/src/orchestrator:$PATH \
			exec ip netns exec "$(ns "$host")" "$@"
		;;
	*) die "unknown host '$host': expected one of ${HOSTS[*]} ${NAMESPACES[*]}" ;;
	esac
}

cmd_dmigrated() {
	local action=${1:-} host=${2:-}
	need_root
	[[ " ${HOSTS[*]} " == *" $host "* ]] || die "usage: lab dmigrated start|stop|kill HOST (HOST: ${HOSTS[*]})"
	case "$action" in
	start|stop|kill) ;;
	*) die "usage: lab dmigrated start|stop|kill HOST" ;;
	esac
	lab_is_up || die "SR-IOV lab '$PREFIX' is not up"
	l1_ssh "$host" "$L1_TOOL" dmigrated "$action"
}

# ---- VMs -----------------------------------------------------------------------------------

# "HOST PID RUNDIR NAME" for every QEMU in the host VMs.
vm_list() {
	local host
	for host in "${HOSTS[@]}"; do
		l1_ssh "$host" "$L1_TOOL" vms | sed "s/^/$host /"
	done
}

# In the SR-IOV lab a VM is started by its host's dmigrated, which hands it a VF from its pool
# (bound to vfio-pci): the lab cannot know which VF is free. The spec the daemon reads is on the
# state share; a kernel boot is replaced by the lab's guest image, a disk boot (the Debian guest
# of tests/lab/debian-guest) is kept: the host VMs see this machine's files at the same paths.
cmd_vm_start() {
	local spec=${1:-} host=${2:-} wait=yes name out t0 ready serial from
	[ $# -ge 2 ] || die "usage: lab vm start SPEC HOST [--no-wait]"
	[ "${3:-}" = "--no-wait" ] && wait=no
	need_root
	[[ " ${HOSTS[*]} " == *" $host "* ]] || die "unknown host '$host': expected one of ${HOSTS[*]}"
	lab_is_up || die "SR-IOV lab '$PREFIX' is not up: run 'lab --sriov up' first"
	"$DMIGRATE" spec check "$spec" >/dev/null || exit 2
	name=$("$DMIGRATE" spec show "$spec" | jq -r .name)
	[ "$("$DMIGRATE" spec show "$spec" | jq -r .passthrough.type)" = vfio ] ||
		die "$spec: the SR-IOV lab's hosts hand out real VFs: its passthrough must be {\"type\": \"vfio\", ...}"
	if vm_list | awk -v n="$name" '$4 == n { found = 1 } END { exit !found }'; then
		die "VM '$name' is already running in lab '$PREFIX' ('lab --sriov vm stop $name' first)"
	fi
	mkdir -p "$STATE/specs"
	out=$STATE/specs/$name.json
	# Without `quiet`: the guest's boot is slow on nested KVM and its serial log is what shows
	# where it stands when it does not come up. nosoftlockup: a vCPU of a nested guest on busy
	# cores stalls for seconds (a "soft lockup" seen in one), and the kernel's report of it is
	# an emergency message that lands in the middle of `lab guest`'s answers on the console.
	"$DMIGRATE" spec show "$spec" | jq --arg k "$STATE/guest-image/vmlinuz" --arg i "$STATE/guest-image/initrd.img" '
		if .boot.disk then . else .boot = { kernel: $k, initrd: $i,
			  cmdline: ((.boot.cmdline // "") | split(" ") | map(select(. != "" and . != "quiet"))
				    | if index("console=ttyS0") then . else ["console=ttyS0"] + . end
				    | . + ["nosoftlockup"] | join(" ")) } end
		' >"$out"
	# QEMU appends to the serial log (logappend): a VM started again on this host finds its
	# last boot's "ready" there. Only what this boot writes, from the log's size now, counts.
	serial=$L1_RUN/vms/$name/serial.log
	from=$(($(l1_ssh "$host" sh -c 'stat -c %s "$1" 2>/dev/null || echo 0' _ "$serial") + 1))
	t0=$(date +%s.%N)
	cmd_exec_sub "$host" dmigrate start "$out" || die "dmigrated on $host did not start '$name'"
	[ "$wait" = yes ] || return 0
	if ! l1_ssh "$host" timeout "$SPEC_VM_TIMEOUT" sh -c \
		'until tail -c "+$2" "$1" 2>/dev/null | grep -qa "dmigrate-lab: ready"; do sleep 0.2; done' _ "$serial" "$from"; then
		l1_ssh "$host" tail -n 20 "$L1_RUN/vms/$name/serial.log" 2>/dev/null | sed 's/^/  guest: /' >&2
		l1_ssh "$host" tail -n 20 "$L1_RUN/vms/$name/qemu.log" 2>/dev/null | sed 's/^/  qemu: /' >&2
		l1_ssh "$host" cat /proc/loadavg 2>/dev/null | sed "s/^/  $host load: /" >&2
		die "VM '$name' did not come up within $SPEC_VM_TIMEOUT s"
	fi
	ready=$(l1_ssh "$host" sh -c 'tail -c "+$2" "$1" | grep -a -m1 "dmigrate-lab: ready"' _ "$serial" "$from" | tr -d '\r')
	info "VM '$name' up on $host in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s: ${ready#*ready }"
}

# `lab exec` in a subshell: it execs.
cmd_exec_sub() {
	local host=$1
	shift
	(cmd_exec "$host" -- "$@")
}

cmd_vm_stop() {
	local name=${1:-}
	[ -n "$name" ] || die "usage: lab vm stop NAME"
	need_root
	vm_find "$name"
	cmd_exec_sub "$VM_HOST" dmigrate stop "$name" >/dev/null ||
		die "dmigrated on $VM_HOST did not stop '$name'"
	info "VM '$name' stopped on $VM_HOST"
}

# The guest's console is a socket in its host VM: reached through SSH (whose failure, with the
# end of its log, l1_ssh writes to CONSOLE_ERR). Not with the console's lock (fd 7): an ssh that
# stays on (a master it started for the host, ControlPersist) would hold it as long as it lives.
console_open() {
	coproc CONSOLE { exec 2>>"$CONSOLE_ERR" 7>&-; l1_ssh "$VM_HOST" socat - "UNIX-CONNECT:$VM_RUNDIR/console.sock"; }
}

console_lock() {
	echo "$STATE/hosts/console-$1.lock"
}
