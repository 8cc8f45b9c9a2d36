/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The libvirt backend (migration/vm_backend.h): a VM that is a domain libvirtd runs, driven
 * through libvirt's C API. Every libvirt call runs in libuv's worker pool (a call to a remote
 * libvirtd blocks for its round trip, virDomainMigrateToURI3 for the whole copy) on handles and
 * strings copied for it; outcomes and libvirt's domain events (device removed, removal failed)
 * reach the VM's job on the loop thread (libvirt's events run there: virt_event.h). A bound
 * domain that stops here while no job drives it (another tool migrated it away, it was
 * destroyed or shut down) ends the VM here, as a QEMU that exits does.
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
/*
 * Take over the running domain v's spec names (libvirt.domain on this host's libvirt.uri, the
 * connection kept: virt_connection.h): checked and bound as virt_backend_bind() does, with
 * libvirt.persist. The VF's element is kept in the domain's metadata from then on, so that a
 * destination knows what to plug (domain_xml.h).
 */
int virt_backend_adopt(vm *v, char *err, size_t err_size);
/*
 * A restarted daemon's incoming VM v (its record says so; its spec names the domain): bind the
 * domain if libvirt's migration brought it here while the daemon was down (paused for the
 * switchover, or running: resumed before), as the switchover would have; the VF's element
 * comes from its metadata. 1 bound, 0 not here or still copying (the incoming migration's
 * journal decides: migration_dest.c), or a negative errno with err.
 */
int virt_backend_rebind_incoming(vm *v, char *err, size_t err_size);
/* Whether v is a libvirt domain's VM: bound, or its spec names a domain (a destination's VM
 * before libvirt's migration brought the domain). */
bool virt_backend_drives(const vm *v);
/* A bound VM's agent channel socket (libvirt names it), or NULL. */
const char *virt_backend_agent_path(const vm *v);
/* The host PCI address of the VF a bound domain holds, or NULL (an emulated VF). */
const char *virt_backend_vf_host_pci(const vm *v);
/* Whether a bound domain was taken over without its VF device (the element kept in its
 * metadata only: a hook mode's detach moved it, docs/hooks.md). */
bool virt_backend_vf_unplugged(const vm *v);
