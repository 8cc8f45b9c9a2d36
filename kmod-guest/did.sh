#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# did.sh enable_did | disable_did | status — the seeds' interface to DID,
# on top of did.ko's sysfs view (/sys/class/misc/did). `control` goes
# through the same state machine as the /dev/did ioctls, so a busybox guest
# needs no helper binary. Errors are the kernel's: enabling while on or
# disabling while off fails with "Operation already in progress" (EALREADY).
set -eu

sysfs=/sys/class/misc/did

did_require() {
	if [ ! -d "$sysfs" ]; then
		echo "did.sh: $sysfs missing: load did.ko (modprobe did backend=kvm|sim)" >&2
		exit 1
	fi
}

did_control() {
	if ! echo "$1" > "$sysfs/control"; then
		echo "did.sh: $1 failed (state $(cat "$sysfs/state"), backend $(cat "$sysfs/backend"))" >&2
		exit 1
	fi
}

enable_did() {
	did_control enable
}

disable_did() {
	did_control disable
}

# One key=value per line; `simulated=1` whenever the sim backend answers.
did_status() {
	for f in state backend simulated features supported host_version \
		enables disables errors rejected last_error last_change_ns; do
		echo "$f=$(cat "$sysfs/$f")"
	done
}

case "${1:-}" in
enable_did | enable)
	did_require
	enable_did
	;;
disable_did | disable)
	did_require
	disable_did
	;;
status)
	did_require
	did_status
	;;
*)
	echo "usage: did.sh enable_did | disable_did | status" >&2
	exit 2
	;;
esac
