// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Which interface is the VF and which the standby. Names are chosen by the guest's udev rules
 * or the kernel and say nothing reliable; the driver and bus do.
 */
#include <string.h>

#include "agent_net.h"

/*
 * Drivers of SR-IOV virtual functions (and mlx's, which drive PF and VF alike). e1000e is the
 * lab's stand-in for a VF: an emulated PCIe NIC that QEMU can hot-plug like a VFIO device.
 */
static const char *const vf_drivers[] = {
	"iavf", "i40evf", "ixgbevf", "igbvf", "ice_vf", "mlx5_core", "mlx4_core", "bnxt_en", "qede",
	"enic", "hinic", "octeontx2-nicvf", "e1000e",
};

agent_role agent_role_classify(const char *kind, const char *driver, const char *bus)
{
	if ((kind && !strcmp(kind, "bond")) || (driver && !strcmp(driver, "bonding")))
		return AGENT_ROLE_BOND;
	if (!driver)
		return AGENT_ROLE_OTHER;
	if (!strcmp(driver, "virtio_net") && (!bus || !*bus || !strcmp(bus, "virtio")))
		return AGENT_ROLE_STANDBY;
	/* A VF is a PCI function; a bus we could not read does not disqualify it. */
	if (bus && *bus && strcmp(bus, "pci"))
		return AGENT_ROLE_OTHER;
	for (size_t i = 0; i < sizeof(vf_drivers) / sizeof(vf_drivers[0]); i++)
		if (!strcmp(driver, vf_drivers[i]))
			return AGENT_ROLE_VF;
	return AGENT_ROLE_OTHER;
}

const char *agent_role_to_string(agent_role role)
{
	switch (role) {
	case AGENT_ROLE_BOND:
		return "bond";
	case AGENT_ROLE_VF:
		return "vf";
	case AGENT_ROLE_STANDBY:
		return "standby";
	case AGENT_ROLE_OTHER:
		break;
	}
	return "other";
}
