/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host's passthrough devices and who holds each: the lab's emulated slots (vf0, vf1, ...) or
 * SR-IOV VFs bound to vfio-pci, behind one interface. Reservations are written to
 * STATE_DIR/vf-pool.json before they are acted upon, so a restarted daemon knows which VF a
 * half-finished migration holds and a VF is never handed to two VMs.
 */
#pragma once

#include <stddef.h>

#include <json-c/json.h>

#include "daemon/host_config.h"

typedef struct vf_pool vf_pool;

int vf_pool_open(const host_config *c, vf_pool **ret);
vf_pool *vf_pool_free(vf_pool *p);
/* -ENOSPC when every VF is taken. *ret_vf stays valid while the pool lives. */
int vf_pool_reserve(vf_pool *p, const char *owner, const char **ret_vf);
/* Reserve this exact VF for owner (a VM adopted or restored with its VF): -EBUSY if another holds it. */
int vf_pool_claim(vf_pool *p, const char *vf, const char *owner);
/* -ENOENT when vf is not reserved by owner. */
int vf_pool_release(vf_pool *p, const char *vf, const char *owner);
size_t vf_pool_count_free(const vf_pool *p);
/* The VF owner holds, or NULL. */
const char *vf_pool_find(const vf_pool *p, const char *owner);
/* {"vf0": "vm1", "vf1": null, ...} */
json_object *vf_pool_to_json(const vf_pool *p);
