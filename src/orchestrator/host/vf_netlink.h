/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A VF's settings through its PF, and the bridge's forwarding entries, over route netlink with
 * libnl-route-3 (the requests `ip link set PF vf N ...` and `bridge fdb` send, without running
 * them): IFLA_VFINFO_LIST with IFLA_VF_MAC / SPOOFCHK / TRUST / LINK_STATE in an RTM_NEWLINK of
 * the PF, RTM_NEWNEIGH / RTM_DELNEIGH of family AF_BRIDGE on a bridge port. Every request waits
 * for the kernel's acknowledgement, so an error (a driver that cannot set trust, say) is seen.
 *
 * The message builders are separate so that the unit tests check what would be sent.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct nl_msg;

/* What to change on one VF; fields left at -1 (or set_mac false) are not sent. */
typedef struct vf_change {
	bool set_mac;
	uint8_t mac[6]; /* all zero: clear the VF's MAC */
	int spoofchk;   /* 0, 1, or -1 */
	int trust;      /* 0, 1, or -1 */
	int link_state; /* IFLA_VF_LINK_STATE_AUTO/ENABLE/DISABLE, or -1 */
} vf_change;

#define VF_CHANGE_NONE ((vf_change){ .spoofchk = -1, .trust = -1, .link_state = -1 })

/* A VF's settings as the PF reports them. */
typedef struct vf_readout {
	uint8_t mac[6];
	bool spoofchk;
	bool trust;
	int link_state;
} vf_readout;

typedef struct vf_netlink vf_netlink;

int vf_netlink_open(vf_netlink **ret);
vf_netlink *vf_netlink_close(vf_netlink *n);

int vf_netlink_build_change(int pf_ifindex, unsigned vf, const vf_change *c, struct nl_msg **ret);
/*
 * The link state is sent after the rest, on its own: -EOPNOTSUPP when the PF's driver has no
 * per-VF link state and c asks for enable or disable (auto is then what the VF does anyway).
 */
int vf_netlink_change(vf_netlink *n, int pf_ifindex, unsigned vf, const vf_change *c);
/* -ENOENT when the PF reports no such VF. */
int vf_netlink_read(vf_netlink *n, int pf_ifindex, unsigned vf, vf_readout *ret);

/*
 * A forwarding entry for mac on bridge port port_ifindex, as if the bridge had learnt it there
 * (dynamic: it ages and moves when the MAC shows up elsewhere); add false deletes it.
 */
int bridge_fdb_build(int port_ifindex, const uint8_t mac[6], bool add, struct nl_msg **ret);
/* A delete of an entry that is not there (-ENOENT) is success: it is gone either way. */
int bridge_fdb_change(vf_netlink *n, int port_ifindex, const uint8_t mac[6], bool add);

/* "52:54:00:12:34:56" to bytes: -EINVAL when s is not a MAC. */
int mac_parse(const char *s, uint8_t ret[6]);
