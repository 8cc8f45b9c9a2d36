// SPDX-License-Identifier: GPL-2.0-or-later
#include "host/sriov_pf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

bool pci_address_valid(const char *s)
{
	static const char shape[] = "hhhh:hh:hh.h";

	if (strlen(s) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'h' ? !isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])
				    : s[i] != shape[i])
			return false;
	return true;
}

int sriov_pf_refresh(const sysfs *fs, sriov_pf *pf)
{
	return sysfs_read_ulong(fs, &pf->num_vfs, "sys/bus/pci/devices/%s/sriov_numvfs", pf->bdf);
}

int sriov_pf_find(const sysfs *fs, const char *name, sriov_pf *ret, char *why, size_t why_size)
{
	_cleanup_names_ char **ifaces = NULL;
	unsigned long vendor = 0, device = 0, ifindex = 0;
	sriov_pf pf = { 0 };
	int r;

	if (pci_address_valid(name)) {
		if (!sysfs_exists(fs, "sys/bus/pci/devices/%s", name)) {
			snprintf(why, why_size, "PF '%s' not found: no PCI device %s (lspci -D lists them)",
				 name, name);
			return -ENODEV;
		}
		strcpy(pf.bdf, name);
		if (sysfs_list(fs, &ifaces, "sys/bus/pci/devices/%s/net", name) >= 0 && ifaces[0] &&
		    strlen(ifaces[0]) < sizeof(pf.ifname))
			strcpy(pf.ifname, ifaces[0]);
	} else {
		if (strlen(name) >= sizeof(pf.ifname) || strchr(name, '/') ||
		    !sysfs_exists(fs, "sys/class/net/%s", name)) {
			snprintf(why, why_size,
				 "PF '%s' not found: no network interface %s and not a PCI address like "
				 "0000:07:00.1 (ip link lists the interfaces)",
				 name, name);
			return -ENODEV;
		}
		r = sysfs_link_name(fs, pf.bdf, sizeof(pf.bdf), "sys/class/net/%s/device", name);
		if (r < 0 || !pci_address_valid(pf.bdf)) {
			snprintf(why, why_size, "PF '%s' is not a PCI network device (no device link)",
				 name);
			return -ENODEV;
		}
		strcpy(pf.ifname, name);
	}
	if (pf.ifname[0] && sysfs_read_ulong(fs, &ifindex, "sys/class/net/%s/ifindex", pf.ifname) >= 0)
		pf.ifindex = (int)ifindex;
	if (sysfs_read_ulong(fs, &vendor, "sys/bus/pci/devices/%s/vendor", pf.bdf) >= 0 &&
	    sysfs_read_ulong(fs, &device, "sys/bus/pci/devices/%s/device", pf.bdf) >= 0)
		snprintf(pf.model, sizeof(pf.model), "%04lx:%04lx", vendor & 0xffff, device & 0xffff);
	r = sysfs_read_ulong(fs, &pf.total_vfs, "sys/bus/pci/devices/%s/sriov_totalvfs", pf.bdf);
	if (r < 0 || pf.total_vfs == 0) {
		snprintf(why, why_size,
			 "PF '%s' (%s) has no SR-IOV capability (no sriov_totalvfs): choose a NIC port "
			 "that supports SR-IOV, or enable SR-IOV in the BIOS/firmware",
			 name, pf.bdf);
		return -EOPNOTSUPP;
	}
	r = sriov_pf_refresh(fs, &pf);
	if (r < 0) {
		snprintf(why, why_size, "PF '%s' (%s): cannot read sriov_numvfs: %s", name, pf.bdf,
			 strerror(-r));
		return r;
	}
	*ret = pf;
	return 0;
}

int sriov_pf_vf_address(const sysfs *fs, const sriov_pf *pf, unsigned index,
			char ret[static PCI_ADDRESS_LEN + 1])
{
	char bdf[64];
	int r;

	r = sysfs_link_name(fs, bdf, sizeof(bdf), "sys/bus/pci/devices/%s/virtfn%u", pf->bdf, index);
	if (r < 0)
		return r;
	if (!pci_address_valid(bdf))
		return -EBADMSG;
	strcpy(ret, bdf);
	return 0;
}

int sriov_pf_set_num_vfs(const sysfs *fs, sriov_pf *pf, unsigned long n)
{
	char value[32], autoprobe[8] = "";
	int r;

	if (n > pf->total_vfs)
		return -ERANGE;
	/* Absent on old kernels: then a host driver may bind the VFs, and vfio_bind() moves them. */
	if (sysfs_read(fs, autoprobe, sizeof(autoprobe), "sys/bus/pci/devices/%s/sriov_drivers_autoprobe",
		       pf->bdf) >= 0)
		sysfs_write(fs, "0", "sys/bus/pci/devices/%s/sriov_drivers_autoprobe", pf->bdf);
	snprintf(value, sizeof(value), "%lu", n);
	r = sysfs_write(fs, value, "sys/bus/pci/devices/%s/sriov_numvfs", pf->bdf);
	if (autoprobe[0])
		sysfs_write(fs, autoprobe, "sys/bus/pci/devices/%s/sriov_drivers_autoprobe", pf->bdf);
	if (r < 0)
		return r;
	return sriov_pf_refresh(fs, pf);
}
