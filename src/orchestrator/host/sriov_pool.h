/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The VFs of one PF made ready for VMs: enough of them created (sriov_numvfs), each bound to
 * vfio-pci, each in a viable IOMMU group. A VF that cannot be made ready stays in the list with
 * the reason, for `dmigrate status` and the log; the others are usable. Running it again on a
 * host set up before (a daemon restart) changes nothing that is right already: it is also how
 * the pool reconciles with sysfs.
 *
 * Never taken from its user: a VF whose interface is up on the host, one bound to a driver that
 * is not a NIC's, one a VM has open, and one `in_use` says a VM of ours holds. When the PF has
 * fewer VFs than asked and some of them are in use, no VF is added (the kernel would remove
 * them all first); the missing ones are listed as not created, with the reason.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "host/sriov_pf.h"
#include "host/sysfs.h"

typedef struct sriov_vf {
	char bdf[PCI_ADDRESS_LEN + 1]; /* "" when the VF does not exist */
	unsigned index;                /* the PF's virtfnN */
	unsigned long iommu_group;
	char *problem; /* NULL when usable; else why not (malloc()ed) */
} sriov_vf;

typedef struct sriov_pool {
	sriov_pf pf;
	size_t n;
	sriov_vf *vfs; /* index 0..n-1 */
} sriov_pool;

/* Whether a VM of ours holds the VF at bdf (its reservation), so that it is in use. */
typedef bool (*sriov_in_use_fn)(const char *bdf, void *userdata);

/*
 * Make `want` VFs of pf ready. Bad input is refused before anything is written, with a message
 * naming the value: -ENODEV (no such PF), -EOPNOTSUPP (no SR-IOV), -ERANGE (want is more than
 * sriov_totalvfs). Any other failure is a problem of the VFs it concerns, not an error.
 */
int sriov_pool_setup(const sysfs *fs, const char *pf, unsigned want, sriov_in_use_fn in_use,
		     void *userdata, sriov_pool **ret, char **ret_error);
sriov_pool *sriov_pool_free(sriov_pool *p);
size_t sriov_pool_count_usable(const sriov_pool *p);
