/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which accelerator a VM's QEMU runs on. A VM spec and the host config each say "auto" (the
 * default), "kvm" or "tcg"; the spec wins over the host, and "auto" on both means KVM where
 * kvm_probe() says it really works, TCG otherwise. KVM comes with `-cpu host`: the guest sees
 * the host's CPU, as production wants.
 */
#pragma once

#include <stdbool.h>

typedef enum qemu_accel {
	QEMU_ACCEL_AUTO,
	QEMU_ACCEL_KVM,
	QEMU_ACCEL_TCG,
} qemu_accel;

#define QEMU_ACCEL_NAMES "\"auto\", \"kvm\" or \"tcg\""

/* -EINVAL for anything but the three names. */
int qemu_accel_from_name(const char *name, qemu_accel *ret);
const char *qemu_accel_name(qemu_accel a);

/* KVM or TCG: the spec's choice, else the host's, else what the probe found. */
qemu_accel qemu_accel_resolve(qemu_accel spec, qemu_accel host, bool kvm_works);
