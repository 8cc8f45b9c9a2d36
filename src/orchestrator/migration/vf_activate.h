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

#include <stdbool.h>
#include <stdint.h>

#include "daemon/daemon.h"

#define VF_ACTIVATE_TIMEOUT_MS 15000

/*
 * What the phase waited for rather than worked on. device_ms: how long the agent measured waiting
 * for the device: for the NIC to appear and udev to be done with it (`device-ms`), for its
 * carrier and the bond to see its link (`carrier-ms`), and each request answered `not-found`
 * from its going out to the answer, at most agent_timeout_ms. Like the unplug's wait for the guest to release the VF, it is the device's time,
 * not dmigrate's; the rest (the agent's work, the trips into and out of the busy guest) is ours.
 * request_sent_ms: the loop time the first request went out (later than vf_activate_start() when
 * it waited for the agent link's handshake); vf_absent_at_request: the agent found no usable VF
 * (none, or one udev was not done with) when that request reached it: it waited `device-ms` > 0,
 * or answered `not-found` after its whole wait. The VF was then not there to act on during
 * anything before it either.
 */
typedef struct vf_activate_wait {
	uint64_t device_ms;
	uint64_t request_sent_ms;
	bool vf_absent_at_request;
} vf_activate_wait;

/* message says what failed (borrowed for the call); error is 0 on success. */
typedef void (*vf_activate_cb)(int error, const char *message, const vf_activate_wait *wait,
			       void *userdata);

int vf_activate_start(host_daemon *d, const char *vm_name, vf_activate_cb cb, void *userdata);
