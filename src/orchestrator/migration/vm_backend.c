// SPDX-License-Identifier: GPL-2.0-or-later
/* Which backend drives a VM (vm_backend.h). */
#include "migration/vm_backend.h"
#ifdef HAVE_LIBVIRT
#include "libvirt/vm_backend_libvirt.h"
#endif

const vm_backend *vm_backend_of(const vm *v)
{
#ifdef HAVE_LIBVIRT
	if (virt_backend_drives(v))
		return &vm_backend_libvirt;
#endif
	return &vm_backend_qemu;
}
