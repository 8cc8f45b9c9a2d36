// SPDX-License-Identifier: GPL-2.0-or-later
#include "host/iommu_group.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool pci_device_is_bridge(const sysfs *fs, const char *bdf)
{
	unsigned long class;

	return sysfs_read_ulong(fs, &class, "sys/bus/pci/devices/%s/class", bdf) >= 0 &&
	       (class >> 8) == 0x0604;
}

/* Drivers under which a device does not stop vfio from using its group. */
static bool iommu_group_driver_allowed(const char *driver)
{
	return !strcmp(driver, "vfio-pci") || !strcmp(driver, "pci-stub");
}

int iommu_group_check(const sysfs *fs, const char *bdf, unsigned long *ret_group, char *why,
		      size_t why_size)
{
	_cleanup_names_ char **members = NULL;
	char group[32], driver[64];
	unsigned long n;
	char *end;
	int r;

	r = sysfs_link_name(fs, group, sizeof(group), "sys/bus/pci/devices/%s/iommu_group", bdf);
	if (r < 0) {
		snprintf(why, why_size,
			 "%s has no IOMMU group: the IOMMU is off (intel_iommu=on or amd_iommu=on "
			 "on the kernel command line, VT-d/AMD-Vi in the BIOS)",
			 bdf);
		return -ENOENT;
	}
	n = strtoul(group, &end, 10);
	if (*end || end == group) {
		snprintf(why, why_size, "%s's IOMMU group '%s' is not a number", bdf, group);
		return -EBADMSG;
	}
	r = sysfs_list(fs, &members, "sys/kernel/iommu_groups/%lu/devices", n);
	if (r < 0) {
		snprintf(why, why_size, "cannot list IOMMU group %lu: %s", n, strerror(-r));
		return r;
	}
	for (size_t i = 0; members[i]; i++) {
		if (!strcmp(members[i], bdf))
			continue;
		r = sysfs_link_name(fs, driver, sizeof(driver), "sys/bus/pci/devices/%s/driver",
				    members[i]);
		if (r == -ENOENT || (r >= 0 && iommu_group_driver_allowed(driver)))
			continue;
		if (pci_device_is_bridge(fs, members[i]))
			continue;
		snprintf(why, why_size,
			 "IOMMU group %lu also holds %s, bound to %s: vfio cannot use a group a host "
			 "driver uses (give the device a slot with ACS, or bind it to vfio-pci too)",
			 n, members[i], r < 0 ? "an unreadable driver" : driver);
		return -EBUSY;
	}
	*ret_group = n;
	return 0;
}
