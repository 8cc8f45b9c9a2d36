/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where an evacuation puts each VM, from what every candidate peer answered about every VM in
 * peer-check (evacuation.h): largest VMs first, each on the peer with the most passthrough
 * devices left once what is already planned there is counted, among the peers that said yes and
 * still have the VM's memory and dedicated CPUs. A peer that did not report memory or CPUs (an
 * older daemon) is not limited by them, nor is a VM whose memory size is unknown (said in its
 * why). Pure: no daemon, no I/O.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "transport/peer_reply.h"

#define EVAC_WHY_MAX 512

typedef struct evac_need {
	uint64_t memory_mib; /* 0: unknown (a libvirt domain whose XML did not say it) */
	unsigned pinned; /* vCPUs on dedicated CPUs */
} evac_need;

/* What one peer said about one VM. */
typedef struct evac_offer {
	bool ok;
	peer_check_reply capacity; /* when ok */
	char why[256];             /* when not */
} evac_offer;

/*
 * needs[n_vms]; offers[vm * n_peers + peer]; peers[n_peers] names them for the reasons.
 * ret_peer[vm] gets the peer's index, or -1 with why[vm] saying each peer's reason. A placed
 * VM's why[vm] is empty, or says what was not checked: a VM of unknown memory size is placed
 * without counting memory, rather than as one that needs none. -ENOMEM.
 */
int evacuation_plan(const evac_need *needs, size_t n_vms, const evac_offer *offers,
		    const char *const *peers, size_t n_peers, ssize_t *ret_peer,
		    char (*why)[EVAC_WHY_MAX]);
