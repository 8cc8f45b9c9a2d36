/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Is a device's IOMMU group viable for vfio? vfio-pci hands a VM a whole group or nothing, and
 * refuses a group in which some device is still used by a host driver: every other member must
 * be bound to vfio-pci (or pci-stub), bound to nothing, or be a PCI bridge (the kernel's own
 * rule, vfio_dev_driver_allowed()). A VF behind a root port with ACS is alone in its group; one
 * behind a switch without ACS shares it with its siblings and the PF, and is not usable.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "host/sysfs.h"

/*
 * 0 when the group of PCI device bdf is viable, with its number in *ret_group. Otherwise -errno
 * and a reason in why (a sentence naming the offending device and its driver):
 *   -ENOENT  the device has no IOMMU group (the IOMMU is off or the device is not behind it);
 *   -EBUSY   another member of the group is bound to a host driver.
 */
int iommu_group_check(const sysfs *fs, const char *bdf, unsigned long *ret_group, char *why,
		      size_t why_size);

/* True when the PCI class of bdf is a PCI-to-PCI bridge (0x0604xx). */
bool pci_device_is_bridge(const sysfs *fs, const char *bdf);
