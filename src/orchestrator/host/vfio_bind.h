/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hand a PCI device to vfio-pci the way the kernel documents it (driver_override, unbind from
 * the current driver, drivers_probe), but never take a device from someone using it: a network
 * interface that is up on the host, a device of a driver that is not a NIC's, or a device a VM
 * has open through /dev/vfio.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "host/sysfs.h"

/*
 * Whether bdf is in use, and by what (a sentence in why): true for a device whose network
 * interface is up, one bound to a driver that is not a network driver (it is there for a
 * reason we cannot see), and one bound to vfio-pci whose group some process has open.
 */
bool pci_device_in_use(const sysfs *fs, const char *bdf, char *why, size_t why_size);

/* The PID of a process that has /dev/vfio/GROUP open (read from procfs), or 0 if none. */
int vfio_group_user(const sysfs *fs, unsigned long group);

/*
 * Bind bdf to vfio-pci; nothing to do when it is already. -EBUSY (in use, why says by what) and
 * nothing changed; -ENXIO when vfio-pci did not take it (the module is not loaded); -errno from
 * sysfs.
 */
int vfio_bind(const sysfs *fs, const char *bdf, char *why, size_t why_size);
