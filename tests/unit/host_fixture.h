/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fixture trees of sysfs and procfs in a temporary directory, for the host-side tests: PCI
 * devices with drivers and IOMMU groups, an SR-IOV PF with its interface, CPUs, /proc files; and
 * a stand-in for the kernel that answers the writes dmigrated makes (host/sysfs.h's on_write):
 * VFs appear when sriov_numvfs is written, drivers let go on unbind, drivers_probe binds what
 * driver_override names. Every write is recorded, so a test can say "nothing was changed".
 */
#pragma once

#include <stdbool.h>

#include "host/sysfs.h"

#define FX_MAX_WRITES 256

typedef struct host_fixture {
	char root[64];
	sysfs fs;
	/* The fake kernel's behaviour. */
	bool vfio_loaded;        /* drivers_probe binds a device whose driver_override is vfio-pci */
	const char *vf_driver;   /* the host driver that autoprobes new VFs ("igbvf") */
	unsigned vf_first_group; /* IOMMU group of VF 0; VF i gets vf_first_group + i */
	/* What was written, in order: "path=value". */
	char *writes[FX_MAX_WRITES];
	unsigned n_writes;
} host_fixture;

void fx_init(host_fixture *fx);
void fx_cleanup(host_fixture *fx);
void fx_forget_writes(host_fixture *fx);
/* Index of the first write whose "path=value" contains needle, or -1. */
int fx_find_write(const host_fixture *fx, const char *needle);

/* Files, directories and links below the root; parents are created. */
void fx_file(host_fixture *fx, const char *path, const char *content);
void fx_dir(host_fixture *fx, const char *path);
void fx_link(host_fixture *fx, const char *path, const char *target);
/* The content of a file (static buffer). */
const char *fx_read(host_fixture *fx, const char *path);

/* A PCI device; driver NULL for none, group 0 for none. class like 0x020000. */
void fx_pci_device(host_fixture *fx, const char *bdf, unsigned long class, const char *driver,
		   unsigned group);
/* Bind a device to driver (NULL: unbind). */
void fx_bind(host_fixture *fx, const char *bdf, const char *driver);
/* A network interface of a device (flags: 0x1003 up, 0x1002 down). */
void fx_netdev(host_fixture *fx, const char *bdf, const char *ifname, int ifindex, unsigned flags);
/* An SR-IOV PF (igb: 8086:10c9) with its interface; total_vfs 0: no SR-IOV capability. */
void fx_pf(host_fixture *fx, const char *bdf, const char *ifname, unsigned total_vfs);
/* What the kernel does on a write of n to the PF's sriov_numvfs (autoprobe as the PF says). */
void fx_make_vfs(host_fixture *fx, const char *pf, unsigned long n);
/* The address of VF i of the fixture's PF. */
const char *fx_vf_address(unsigned i);
