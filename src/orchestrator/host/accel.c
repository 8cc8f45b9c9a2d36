// SPDX-License-Identifier: GPL-2.0-or-later
#include "accel.h"

#include <errno.h>
#include <string.h>

static const char *const names[] = {
	[QEMU_ACCEL_AUTO] = "auto",
	[QEMU_ACCEL_KVM] = "kvm",
	[QEMU_ACCEL_TCG] = "tcg",
};

int qemu_accel_from_name(const char *name, qemu_accel *ret)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (name && !strcmp(name, names[i])) {
			*ret = (qemu_accel)i;
			return 0;
		}
	return -EINVAL;
}

const char *qemu_accel_name(qemu_accel a)
{
	return (unsigned)a < sizeof(names) / sizeof(names[0]) ? names[a] : "?";
}

qemu_accel qemu_accel_resolve(qemu_accel spec, qemu_accel host, bool kvm_works)
{
	if (spec != QEMU_ACCEL_AUTO)
		return spec;
	if (host != QEMU_ACCEL_AUTO)
		return host;
	return kvm_works ? QEMU_ACCEL_KVM : QEMU_ACCEL_TCG;
}
