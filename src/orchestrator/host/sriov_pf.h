/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An SR-IOV physical function as sysfs shows it: found by its network interface or its PCI
 * address, how many VFs it can have and has, where each VF is, and how to make more.
 */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "host/sysfs.h"

#define PCI_ADDRESS_LEN 12 /* DDDD:BB:DD.F */

typedef struct sriov_pf {
	char bdf[PCI_ADDRESS_LEN + 1];
	char ifname[IF_NAMESIZE]; /* "" when no driver gives it a network interface */
	int ifindex;              /* 0 likewise */
	char model[16];           /* "8086:10c9", vendor:device: two hosts must agree on it */
	unsigned long total_vfs;  /* sriov_totalvfs */
	unsigned long num_vfs;    /* sriov_numvfs */
} sriov_pf;

/* s has the DDDD:BB:DD.F shape (lower case): a PCI address rather than an interface name. */
bool pci_address_valid(const char *s);

/*
 * Find the PF named by pf (an interface name or a PCI address). Nothing is changed. -ENODEV (no
 * such interface or device), -EOPNOTSUPP (it has no SR-IOV capability), with why naming pf.
 */
int sriov_pf_find(const sysfs *fs, const char *pf, sriov_pf *ret, char *why, size_t why_size);
/* Read num_vfs again (after sriov_pf_set_num_vfs). */
int sriov_pf_refresh(const sysfs *fs, sriov_pf *pf);
/* The PCI address of VF index (virtfnN): -ENOENT when the PF has no such VF. */
int sriov_pf_vf_address(const sysfs *fs, const sriov_pf *pf, unsigned index,
			char ret[static PCI_ADDRESS_LEN + 1]);
/*
 * Write sriov_numvfs. The kernel only changes a non-zero count through 0, which removes every
 * VF: the caller decides whether that is safe. New VFs are created with driver autoprobing off,
 * so that no host driver grabs them before they are given to vfio-pci; the PF's setting is put
 * back afterwards.
 */
int sriov_pf_set_num_vfs(const sysfs *fs, sriov_pf *pf, unsigned long n);
