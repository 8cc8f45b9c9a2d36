/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Put a freshly plugged VF back to work in the guest: one `bond-activate-vf` (the agent waits for
 * the VF, udev, its carrier and the bond's link monitor, enslaves it and makes it the active
 * slave, and answers once), then give it the VM's MAC through its PF (an sriov pool's VF:
 * vf_steering's `active`) and announce the VM's addresses from it. Both the destination after a
 * migration and the source undoing an unplug need exactly this.
 *
 * One request rather than a round trip per step: the guest's vCPUs are busy with the hot-plug
 * then, and each request waited for the guest to read and answer it (BENCHMARKS.md, issue 18).
 * The agent waits up to agent_timeout_ms (a stalled agent fails the phase as with any request);
 * a VF that has not appeared by then (`not-found`) is asked for again, for at most
 * VF_ACTIVATE_TIMEOUT_MS in all; one that appeared without a link (`timeout`) fails the phase.
 */
#pragma once

#include <stdint.h>

#include "daemon/daemon.h"

#define VF_ACTIVATE_TIMEOUT_MS 15000

/*
 * message says what failed (borrowed for the call); error is 0 on success. device_wait_ms: how
 * long of it the agent measured waiting for the device rather than working: for the NIC to
 * appear and udev to be done with it (`device-ms`), for its carrier and the bond to see its link
 * (`carrier-ms`). Like the unplug's wait for the guest to release the VF, it is the device's
 * time, not dmigrate's; the rest (the agent's work, the round trip into the busy guest) is ours.
 */
typedef void (*vf_activate_cb)(int error, const char *message, uint64_t device_wait_ms,
			       void *userdata);

int vf_activate_start(host_daemon *d, const char *vm_name, vf_activate_cb cb, void *userdata);
