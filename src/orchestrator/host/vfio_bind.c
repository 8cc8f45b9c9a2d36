// SPDX-License-Identifier: GPL-2.0-or-later
#include "host/vfio_bind.h"

#include <errno.h>
#include <net/if.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int vfio_group_user(const sysfs *fs, unsigned long group)
{
	_cleanup_names_ char **pids = NULL;
	char target[48];

	snprintf(target, sizeof(target), "/dev/vfio/%lu", group);
	if (sysfs_list(fs, &pids, "proc") < 0)
		return 0;
	for (size_t i = 0; pids[i]; i++) {
		_cleanup_names_ char **fds = NULL;

		if (strspn(pids[i], "0123456789") != strlen(pids[i]) ||
		    sysfs_list(fs, &fds, "proc/%s/fd", pids[i]) < 0)
			continue;
		for (size_t k = 0; fds[k]; k++) {
			_cleanup_free_ char *path = sysfs_path(fs, "proc/%s/fd/%s", pids[i], fds[k]);
			char link[256];
			ssize_t n = path ? readlink(path, link, sizeof(link) - 1) : -1;

			if (n <= 0)
				continue;
			link[n] = '\0';
			if (!strcmp(link, target))
				return atoi(pids[i]);
		}
	}
	return 0;
}

bool pci_device_in_use(const sysfs *fs, const char *bdf, char *why, size_t why_size)
{
	_cleanup_names_ char **ifaces = NULL;
	char driver[64], group[32];
	int pid;

	if (sysfs_link_name(fs, driver, sizeof(driver), "sys/bus/pci/devices/%s/driver", bdf) < 0)
		return false;
	if (!strcmp(driver, "vfio-pci")) {
		if (sysfs_link_name(fs, group, sizeof(group), "sys/bus/pci/devices/%s/iommu_group",
				    bdf) < 0)
			return false;
		pid = vfio_group_user(fs, strtoul(group, NULL, 10));
		if (pid > 0)
			snprintf(why, why_size, "%s is open by process %d (/dev/vfio/%s): a VM uses it",
				 bdf, pid, group);
		return pid > 0;
	}
	if (sysfs_list(fs, &ifaces, "sys/bus/pci/devices/%s/net", bdf) < 0 || !ifaces[0]) {
		snprintf(why, why_size, "%s is bound to %s, which is not a network driver: left alone",
			 bdf, driver);
		return true;
	}
	for (size_t i = 0; ifaces[i]; i++) {
		unsigned long flags;

		if (sysfs_read_ulong(fs, &flags, "sys/class/net/%s/flags", ifaces[i]) >= 0 &&
		    !(flags & IFF_UP))
			continue;
		snprintf(why, why_size,
			 "%s is bound to %s and the host uses it: its interface %s is up (ip link set "
			 "%s down, or leave it out of the pool)",
			 bdf, driver, ifaces[i], ifaces[i]);
		return true;
	}
	return false;
}

int vfio_bind(const sysfs *fs, const char *bdf, char *why, size_t why_size)
{
	char driver[64];
	bool bound;
	int r;

	bound = sysfs_link_name(fs, driver, sizeof(driver), "sys/bus/pci/devices/%s/driver", bdf) >= 0;
	if (bound && !strcmp(driver, "vfio-pci"))
		return 0;
	if (bound && pci_device_in_use(fs, bdf, why, why_size))
		return -EBUSY;
	/* driver_override first: once unbound, nothing but vfio-pci may probe it. */
	r = sysfs_write(fs, "vfio-pci", "sys/bus/pci/devices/%s/driver_override", bdf);
	if (r < 0) {
		snprintf(why, why_size, "cannot set %s's driver_override: %s", bdf, strerror(-r));
		return r;
	}
	if (bound) {
		r = sysfs_write(fs, bdf, "sys/bus/pci/devices/%s/driver/unbind", bdf);
		if (r < 0) {
			snprintf(why, why_size, "cannot unbind %s from %s: %s", bdf, driver,
				 strerror(-r));
			return r;
		}
	}
	r = sysfs_write(fs, bdf, "sys/bus/pci/drivers_probe");
	if (r < 0 && r != -EINVAL && r != -ENODEV) {
		snprintf(why, why_size, "cannot probe %s: %s", bdf, strerror(-r));
		return r;
	}
	if (sysfs_link_name(fs, driver, sizeof(driver), "sys/bus/pci/devices/%s/driver", bdf) < 0 ||
	    strcmp(driver, "vfio-pci")) {
		snprintf(why, why_size,
			 "vfio-pci did not take %s: is the vfio-pci module loaded (modprobe vfio-pci)?",
			 bdf);
		return -ENXIO;
	}
	return 0;
}
