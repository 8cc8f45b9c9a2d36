/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Put a freshly plugged VF back to work in the guest: enslave it in the bond, give it the VM's MAC
 * through its PF (an sriov pool's VF: vf_steering's `active`), make it the active slave, and
 * announce the VM's addresses from it. Both the destination after a migration and the
 * source undoing an unplug need exactly this.
 *
 * A hot-plugged NIC takes the guest a moment: until it has probed it, the agent finds no VF to
 * enslave ("not-found"), and until the bonding driver's link monitor has seen the new slave up,
 * it refuses to make it active ("failed"). The first is asked again when the agent's `vf-added`
 * event says the VF is there; the second on its `link-up` or `active-changed`, or after
 * VF_ACTIVATE_MII_MS, bonding's MII monitor interval (that monitor tells no one). Each for at
 * most VF_ACTIVATE_TIMEOUT_MS.
 */
#pragma once

#include <stdint.h>

#include "daemon/daemon.h"

#define VF_ACTIVATE_TIMEOUT_MS 15000
#define VF_ACTIVATE_MII_MS 100

/*
 * message says what failed (borrowed for the call); error is 0 on success. device_wait_ms: how
 * long of it was spent waiting for the device rather than working: for the NIC to appear, for
 * its carrier (the agent's `waited-ms`), for the bond to see its link. Like the unplug's wait
 * for the guest to release the VF, it is the device's time, not dmigrate's.
 */
typedef void (*vf_activate_cb)(int error, const char *message, uint64_t device_wait_ms,
			       void *userdata);

int vf_activate_start(host_daemon *d, const char *vm_name, vf_activate_cb cb, void *userdata);
