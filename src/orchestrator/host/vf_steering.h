/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where the NIC and the bridge send a VM's frames, and when that changes.
 *
 * A VF whose MAC is set through its PF receives every frame for that MAC from the NIC's embedded
 * switch, whatever the guest's bond does with them: while the standby carries the traffic, a VF
 * still holding the VM's MAC swallows it (the bond drops frames on a backup slave). Measured in
 * the SR-IOV lab (igb, standby bridged on the PF): 5.6-12 s without a frame across a migration
 * that way, about 1-2 s with the MAC moved at the right moments. So, for a VF of an sriov pool:
 *
 *   event           VF through its PF                            the standby tap's bridge
 *   prepare         MAC = VM's, spoofchk/trust/link as set      -
 *   prepare-in      MAC cleared, spoofchk/trust/link as set     -
 *   standby         MAC cleared (source, at the standby switch) entry for the VM's MAC
 *   switchover      -                                           entry for the VM's MAC (dest)
 *   active          MAC = VM's (the VF becomes the active slave) entry removed
 *   release         MAC cleared, link disabled                  -
 *
 * standby is applied once the agent says the bond moved to the standby (the source's standby
 * phase, before the unplug), and again once the guest let the VF go (the unplug's
 * DEVICE_DELETED: a VF whose MAC the PF cleared may set its own, and the bond releasing it
 * restores the VM's); active by vf_activate once the guest's agent answers that the VF is in the
 * bond with its carrier up and is the active slave (destination's active phase, the source's
 * replug on rollback, hook mode's attach), never at the plug: a VF still being probed would
 * swallow the VM's frames for as long as its link takes (igbvf: ~2 s). Between the agent's
 * switch and its answer reaching the host (one reply's trip) the VM's frames still reach the
 * standby, now inactive: the price of one request into the busy guest instead of two.
 *
 * The bridge entry is a learnt-like (dynamic) entry, what the kernel's net_failover
 * documentation has the hypervisor do so that the bridge sends the VM's frames to the standby
 * at once rather than after the guest happens to transmit. Rollbacks use the same events in
 * reverse (standby undone = active). Emulated and address-listed pools have nothing to set.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/host_config.h"
#include "host/vf_netlink.h"

typedef enum vf_event {
	VF_EVENT_PREPARE,
	VF_EVENT_PREPARE_INCOMING,
	VF_EVENT_STANDBY,
	VF_EVENT_SWITCHOVER,
	VF_EVENT_ACTIVE,
	VF_EVENT_RELEASE,
	_VF_EVENT_MAX,
} vf_event;

const char *vf_event_name(vf_event e);

/* What an event changes on the VF (VF_CHANGE_NONE fields: nothing); mac is the VM's. */
vf_change vf_steering_vf_change(vf_event e, const vf_settings *s, const uint8_t mac[6]);
/* What it does to the standby tap's bridge entry: +1 add, -1 delete, 0 nothing. */
int vf_steering_fdb_action(vf_event e);

/* How the changes are made: netlink on a host, a recorder in the tests. */
typedef struct vf_steering_ops {
	int (*vf_change)(void *userdata, int pf_ifindex, unsigned vf, const vf_change *c);
	int (*fdb)(void *userdata, int port_ifindex, const uint8_t mac[6], bool add);
	int (*vf_read)(void *userdata, int pf_ifindex, unsigned vf, vf_readout *ret);
	void *userdata;
} vf_steering_ops;

/* Tests only: replace netlink (NULL puts it back). */
void vf_steering_set_ops(const vf_steering_ops *ops);

struct vm;
/*
 * Apply event to v's VF (v->vf) and, for the bridge entry, its QEMU's tap. Nothing to do (0) for
 * a VM without VF or a pool that is not sriov. Otherwise the kernel's answer: the caller decides
 * whether that stops it (it logs nothing; message says what failed, borrowed for the call).
 */
int vf_steering_apply(struct vm *v, vf_event e, const char **ret_message);
/*
 * A VM taken over running (a libvirt domain holding vf) got its VF from someone else, with
 * the MAC they gave it: the guest's bond took that MAC from the VF, and the destination will give
 * its VF the VM's (the spec's, the standby's) through its PF, with spoof checking: a bond on
 * another MAC is then cut off there. So the VF's MAC, as its PF reports it (which is also what the
 * guest set on it), must be the VM's before dmigrate takes the VM. 0 when it is (or for a pool
 * that is not sriov); -EADDRNOTAVAIL when not, why says which MAC it has and how to give it the
 * VM's; another negative errno when it cannot be read.
 */
int vf_steering_check_taken_over(struct vm *v, const char *vf, char *why, size_t why_size);
/*
 * The vf-link-down fault: v's VF's link held down through its PF (down), or given back to the
 * pool's link_state. -EOPNOTSUPP for a pool that is not sriov, or a PF driver without per-VF
 * link state (igb); message says which.
 */
int vf_steering_link(struct vm *v, bool down, const char **ret_message);
/* The same for the hook points in a migration: a failure is logged (warning), not fatal. */
int vf_steering_apply_logged(struct vm *v, vf_event e);
