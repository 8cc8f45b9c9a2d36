/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host's passthrough devices and who holds each: the lab's emulated slots (vf0, vf1, ...),
 * SR-IOV VFs bound to vfio-pci listed by address, or the VFs of a PF that the pool creates and
 * binds itself (host/sriov_pool.h), behind one interface. Reservations are written to
 * STATE_DIR/vf-pool.json before they are acted upon, so a restarted daemon knows which VF a
 * half-finished migration holds and a VF is never handed to two VMs.
 *
 * A VF of a PF that cannot be used (not created, held by a host driver, a group vfio cannot
 * take) stays known with the reason, is never handed out, and shows in vf_pool_problems_to_json().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "daemon/host_config.h"
#include "host/sysfs.h"

typedef struct vf_pool vf_pool;

/*
 * fs: where sysfs is for an sriov pool (NULL: below c->system_root). On failure *ret_error
 * (malloc()ed, may be NULL) says why: an sriov pool whose PF is missing, has no SR-IOV or fewer
 * VFs than asked is refused before anything is changed.
 */
int vf_pool_open(const host_config *c, const sysfs *fs, vf_pool **ret, char **ret_error);
vf_pool *vf_pool_free(vf_pool *p);
/* -ENOSPC when every usable VF is taken. *ret_vf stays valid while the pool lives. */
int vf_pool_reserve(vf_pool *p, const char *owner, const char **ret_vf);
/* Reserve this exact VF for owner (a VM adopted or restored with its VF): -EBUSY if another holds it. */
int vf_pool_claim(vf_pool *p, const char *vf, const char *owner);
/* -ENOENT when vf is not reserved by owner. */
int vf_pool_release(vf_pool *p, const char *vf, const char *owner);
size_t vf_pool_count_free(const vf_pool *p);
/* The VF owner holds, or NULL. */
const char *vf_pool_find(const vf_pool *p, const char *owner);
/*
 * After a restart, once the VMs are known: release every reservation whose owner alive() does
 * not know (its VM is gone). Returns how many were released.
 */
int vf_pool_reconcile(vf_pool *p, bool (*alive)(const char *owner, void *userdata),
		      void *userdata);
/* {"vf0": "vm1", "vf1": null, ...}: the devices that can be handed out, and their holders. */
json_object *vf_pool_to_json(const vf_pool *p);
/* {"0000:07:10.3": "why it is left out", ...}: empty unless an sriov pool has problems. */
json_object *vf_pool_problems_to_json(const vf_pool *p);

/* Where a VF of an sriov pool is set up through netlink: its PF's interface and its number. */
typedef struct vf_pool_port {
	const char *pf_ifname;
	int pf_ifindex;
	unsigned vf_index;
	const vf_settings *settings;
} vf_pool_port;
/* -EOPNOTSUPP for emulated and vfio pools (nothing to set), -ENOENT for an unknown VF. */
int vf_pool_port_of(const vf_pool *p, const char *vf, vf_pool_port *ret);
