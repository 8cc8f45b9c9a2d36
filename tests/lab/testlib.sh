# shellcheck shell=bash
# Sourced by the lab tests (tests/lab/test-NAME): each gets a private lab (its own state
# directory and prefix, so tests never meet another lab), torn down on exit however the test
# ends, with the guests' logs printed when it fails. Lab tests need root; without it they
# exit 77, which meson reports as skipped.
set -euo pipefail

TEST_NAME=$(basename "$0")
TEST_NAME=${TEST_NAME#test-}
if [ "$(id -u)" -ne 0 ]; then
	echo "test-$TEST_NAME: needs root (network namespaces, QEMU networking); skipped"
	exit 77
fi

export DMIGRATE_SOURCE=${DMIGRATE_SOURCE:-$(cd "$(dirname "$0")/../.." && pwd)}
export DMIGRATE_BUILD=${DMIGRATE_BUILD:-$DMIGRATE_SOURCE/build}
# DMIGRATE_LAB_SHARED=1: a test run by another test inside that test's lab (test-sriov runs
# test-debian-guest so, to boot the SR-IOV lab once): its DMIGRATE_LAB_DIR and PREFIX are the
# caller's, and the caller brings the lab up and down.
if [ "${DMIGRATE_LAB_SHARED:-0}" = 1 ]; then
	[ -d "${DMIGRATE_LAB_DIR:-}" ] && [ -n "${DMIGRATE_LAB_PREFIX:-}" ] || {
		echo "test-$TEST_NAME: DMIGRATE_LAB_SHARED=1 needs the caller's DMIGRATE_LAB_DIR and DMIGRATE_LAB_PREFIX" >&2
		exit 1
	}
else
	DMIGRATE_LAB_DIR=$(mktemp -d "/var/tmp/dmlab-$TEST_NAME.XXXXXX")
	export DMIGRATE_LAB_PREFIX=t$$-${TEST_NAME:0:16}
fi
export DMIGRATE_LAB_DIR DMIGRATE_LAB_PREFIX
# The image is cached next to the build: every test boots the same one, built once.
export DMIGRATE_LAB_IMAGE_DIR=${DMIGRATE_LAB_IMAGE_DIR:-$DMIGRATE_BUILD/lab-image}
# So are the TLS certificates (made once by tls-certs).
export DMIGRATE_LAB_TLS_CACHE=${DMIGRATE_LAB_TLS_CACHE:-$DMIGRATE_BUILD/lab-tls}
LAB=$DMIGRATE_SOURCE/tests/lab/lab
STATE=$DMIGRATE_LAB_DIR

lab() {
	"$LAB" "$@"
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

step() {
	echo "== [${SECONDS}s] $*"
}

test_cleanup() {
	local rc=$? log
	trap - EXIT
	if [ $rc -ne 0 ]; then
		for log in "$STATE"/hosts/*/vms/*/serial.log "$STATE"/hosts/*/vms/*/qemu.log; do
			[ -f "$log" ] || continue
			echo "---- $log (last 30 lines)"
			tail -n 30 "$log" | tr -d '\r'
		done
	fi
	if [ "${DMIGRATE_LAB_SHARED:-0}" != 1 ]; then
		lab down >/dev/null 2>&1 || echo "test-$TEST_NAME: lab down failed" >&2
		rm -rf "$STATE"
	fi
	exit $rc
}
trap test_cleanup EXIT
trap 'exit 1' INT TERM HUP

# The interfaces of the root namespace; the lab must never leave one behind.
root_links() {
	ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort
}

# Nothing of this lab may remain: no namespace, no process naming its state directory, no
# interface in the root namespace that was not there before (argument: root_links output).
assert_lab_gone() {
	local before=$1 left
	left=$(ip netns list | awk -v p="$DMIGRATE_LAB_PREFIX-" 'index($1, p) == 1 { print $1 }')
	[ -z "$left" ] || fail "namespaces left behind: $left"
	left=$(pgrep -af -- "$STATE/" || true)
	[ -z "$left" ] || fail "processes left behind: $left"
	left=$(comm -13 <(echo "$before") <(root_links))
	[ -z "$left" ] || fail "interfaces left in the root namespace: $left"
}

# QEMU processes running in the lab's host namespaces.
lab_qemu_pids() {
	local host pid
	for host in ${DMIGRATE_LAB_HOSTS:-hostA hostB}; do
		[ -e "/run/netns/$DMIGRATE_LAB_PREFIX-$host" ] || continue
		for pid in $(ip netns pids "$DMIGRATE_LAB_PREFIX-$host"); do
			case "$(readlink "/proc/$pid/exe" 2>/dev/null)" in
			*/qemu-system-*) echo "$pid" ;;
			esac
		done
	done
}

# Retry a command for up to $1 seconds.
retry() {
	local timeout=$1 deadline
	shift
	deadline=$((SECONDS + timeout))
	until "$@"; do
		[ $SECONDS -lt "$deadline" ] || return 1
		sleep 0.2
	done
}
