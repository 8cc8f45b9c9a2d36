/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An SR-IOV VF's settings on its PF, the way a host administers them (`ip link set PF vf N ...`):
 * the VF is found from its PCI address through sysfs (its physfn and the PF's virtfnN links),
 * the setting goes to the PF over rtnetlink. The VM's MAC is set on the VF before the VF is
 * plugged, so the guest's driver comes up with it and the NIC steers the VM's frames to it; it
 * is cleared when the VF goes back to the pool.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The PF's interface name and the VF's index on it. -ENOENT when bdf is no VF of a PF with a netdev. */
int vf_link_locate(const char *bdf, char *pf, size_t pf_size, unsigned *index);
/* mac "aa:bb:cc:dd:ee:ff"; "00:00:00:00:00:00" clears the administrative MAC. */
int vf_link_set_mac(const char *bdf, const char *mac);
/*
 * Hold the VF's link down (down) or let it follow the PF's (!down). -EOPNOTSUPP when the PF's
 * driver cannot (Intel's igb, for one, has no per-VF link state).
 */
int vf_link_set_down(const char *bdf, bool down);
