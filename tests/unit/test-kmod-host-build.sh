#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# kmod-host builds the DID-patched kvm.ko, kvm-amd.ko and kvm-intel.ko from
# Debian's linux-source-6.1 for the kernel linux-image-amd64 installs (the
# one the lab's L1 hosts boot), and the patches stay checkpatch-clean.
#
# The build tree is cached outside the source tree (DMIGRATE_KMOD_CACHE,
# default /var/cache/dmigrate/kmod-host): the first run extracts the source
# and compiles all of KVM (about 2 CPU-minutes, 8 minutes of wall time on
# the shared 2-core machine); later runs recompile only the files the
# patches changed, and finish in well under a minute when nothing did.
# Skips (77) only where bootstrap has not installed the headers or source.
set -eu

src=${1:?usage: test-kmod-host-build.sh SOURCE_ROOT}
cache=${DMIGRATE_KMOD_CACHE:-/var/cache/dmigrate/kmod-host}
kver=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null |
	sed -n 's/^linux-image-\([^ ,]*\) .*/\1/p')
if [ -z "$kver" ] || [ ! -f "/lib/modules/$kver/build/Makefile" ] ||
	[ ! -f /usr/src/linux-source-6.1.tar.xz ]; then
	echo "no linux-image-amd64 headers or no linux-source-6.1 (run ./bootstrap): skipping"
	exit 77
fi

mkdir -p "$cache"
log=$cache/test-build.log
start=$(date +%s)
# JOBS=2: the machine is shared; never more. The cache is shared too (every checkout's unit
# suite, the SR-IOV suite): one build in it at a time.
flock "$cache/.lock" make -C "$src/kmod-host" BUILD="$cache" JOBS=2 >"$log" 2>&1 || {
	tail -n 60 "$log"
	echo "FAIL: make in kmod-host (log: $log)"
	exit 1
}
elapsed=$(($(date +%s) - start))
if grep -E 'warning:|error:' "$log"; then
	echo "FAIL: the KVM build warns (log: $log)"
	exit 1
fi

kvm_dir=$cache/tree/arch/x86/kvm
for m in kvm kvm-amd kvm-intel; do
	ko=$kvm_dir/$m.ko
	[ -f "$ko" ] || { echo "FAIL: $m.ko not built"; exit 1; }
	vermagic=$(modinfo -F vermagic "$ko")
	case $vermagic in
	"$kver "*) ;;
	*) echo "FAIL: $m.ko vermagic '$vermagic' is not for $kver"; exit 1 ;;
	esac
done

# The switch, off unless asked for.
modinfo -F parm "$kvm_dir/kvm.ko" | grep -q '^did:.*(default off) (bool)$' || {
	modinfo -F parm "$kvm_dir/kvm.ko"
	echo "FAIL: kvm.ko lacks the did parameter (off by default)"
	exit 1
}
# The series reached every module: the hypercall handler in kvm.ko, each
# vendor's implementation in its module (static functions stay in .symtab).
for pair in kvm:kvm_did_hypercall kvm-amd:svm_did_apply kvm-intel:vmx_did_apply; do
	nm "$kvm_dir/${pair%%:*}.ko" | grep -qw "${pair#*:}" || {
		echo "FAIL: ${pair%%:*}.ko has no ${pair#*:}"
		exit 1
	}
done

# The lab's hypercall probe (tests/lab/did-hc-probe), a guest module for the
# same kernel: built here, with the extra warnings, so the lab finds it sound.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/tests/lab" "$tmp/proto"
cp -r "$src/tests/lab/did-hc-probe" "$tmp/tests/lab/"
cp "$src"/proto/did.h "$src"/proto/did_hypercall.h "$tmp/proto/"
make -C "/lib/modules/$kver/build" M="$tmp/tests/lab/did-hc-probe" W=1 modules \
	>"$tmp/probe.log" 2>&1 || { cat "$tmp/probe.log"; echo "FAIL: did_hc_probe build"; exit 1; }
if grep -E 'warning:|error:' "$tmp/probe.log"; then
	echo "FAIL: the did_hc_probe build warns"
	exit 1
fi

make -C "$src/kmod-host" BUILD="$cache" checkpatch >"$cache/checkpatch.log" 2>&1 || {
	cat "$cache/checkpatch.log"
	echo "FAIL: the patches in kmod-host/patches are not checkpatch-clean"
	exit 1
}

echo "ok: kvm.ko, kvm-amd.ko, kvm-intel.ko with DID built for $kver in ${elapsed} s;" \
	"patches checkpatch-clean; did_hc_probe.ko builds"
