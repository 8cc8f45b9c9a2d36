#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# kmod-guest builds against the installed kernel headers (the lab kernel's,
# linux-headers-amd64). Builds in a temporary copy with the repository's
# layout (kmod-guest/ next to proto/) so the source tree stays clean, then
# checks what came out. Skips (77) where no kernel headers are installed.
set -eu

src=${1:?usage: test-kmod-build.sh SOURCE_ROOT}
kdir=$(ls -d /lib/modules/*/build 2>/dev/null | sort -V | tail -n 1)
if [ -z "$kdir" ] || [ ! -f "$kdir/Makefile" ]; then
	echo "no kernel headers in /lib/modules/*/build: skipping"
	exit 77
fi
kver=$(basename "$(dirname "$kdir")")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/kmod-guest" "$tmp/proto"
cp "$src"/kmod-guest/Kbuild "$src"/kmod-guest/Makefile "$src"/kmod-guest/*.c \
	"$src"/kmod-guest/*.h "$tmp/kmod-guest/"
rm -f "$tmp"/kmod-guest/*.mod.c
cp "$src"/proto/did.h "$src"/proto/did_hypercall.h "$tmp/proto/"

# W=1: the extra warnings a reviewer's build would show; any warning fails.
make -C "$tmp/kmod-guest" KDIR="$kdir" W=1 >"$tmp/build.log" 2>&1 || {
	cat "$tmp/build.log"
	echo "FAIL: make in kmod-guest against $kdir"
	exit 1
}
if grep -E 'warning:|error:' "$tmp/build.log"; then
	echo "FAIL: the module build warns"
	exit 1
fi

for m in did did_timerlat; do
	ko=$tmp/kmod-guest/$m.ko
	[ -f "$ko" ] || { echo "FAIL: $m.ko not built"; exit 1; }
	vermagic=$(modinfo -F vermagic "$ko")
	case $vermagic in
	"$kver "*) ;;
	*) echo "FAIL: $m.ko vermagic '$vermagic' is not for $kver"; exit 1 ;;
	esac
done
modinfo -F parm "$tmp/kmod-guest/did.ko" | grep -q '^backend:' || {
	echo "FAIL: did.ko lacks the backend parameter"
	exit 1
}
echo "ok: did.ko and did_timerlat.ko built for $kver"
