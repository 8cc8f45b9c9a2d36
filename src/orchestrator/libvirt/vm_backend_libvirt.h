/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The libvirt backend (migration/vm_backend.h): a VM that is a domain libvirtd runs, driven
 * through libvirt's C API. Every libvirt call runs in libuv's worker pool (a call to a remote
 * libvirtd blocks for its round trip, virDomainMigrateToURI3 for the whole copy) on handles and
 * strings copied for it; outcomes and libvirt's domain events (device removed, removal failed)
 * reach the VM's job on the loop thread (libvirt's events run there: virt_event.h).
 *
 * A VM is bound to its domain with virt_backend_bind(); vm_backend_of() then gives this backend.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <libvirt/libvirt.h>

#include "host/vm.h"
#include "migration/vm_backend.h"

extern const vm_backend vm_backend_libvirt;

/*
 * Drive v through domain `domain` on conn (borrowed; it must outlive the binding), checked as
 * virt_domain_open() does; persist: migrations define it on the destination. -EEXIST when v is
 * bound already.
 */
int virt_backend_bind(vm *v, virConnectPtr conn, const char *domain, bool persist, char *err,
		      size_t err_size);
void virt_backend_unbind(vm *v);
/* Whether v is a libvirt domain's VM. */
bool virt_backend_drives(const vm *v);
