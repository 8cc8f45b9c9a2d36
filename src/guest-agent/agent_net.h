/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The network seam of the agent: a snapshot of the guest's links and the few changes the agent
 * makes. agent_netlink.c implements it with libnl-route-3 (and AF_PACKET for announce); the
 * unit tests implement it with a scripted fake, so the command logic in agent_bond.c is tested
 * without a kernel bond.
 */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum agent_role {
	AGENT_ROLE_OTHER,
	AGENT_ROLE_BOND,
	AGENT_ROLE_VF,
	AGENT_ROLE_STANDBY,
} agent_role;

typedef struct agent_link {
	int ifindex;
	char ifname[IFNAMSIZ];
	char driver[32]; /* "virtio_net", "e1000e", "bonding"; empty when unknown */
	char bus[16];    /* "virtio", "pci"; empty when unknown */
	agent_role role;
	uint8_t mac[6];
	uint8_t perm_mac[6]; /* a slave's own address (the bond may have rewritten mac) */
	bool has_perm_mac;
	bool up, carrier;
	/* systemd-udevd runs and has not finished with this link yet: it may still rename it. */
	bool udev_pending;
	int master; /* ifindex of the bond this is enslaved to, 0 if none */
	/* Bonds only. */
	char mode[24];    /* "active-backup", ... */
	int active_slave; /* ifindex, 0 if none */
	bool inactive_rx; /* all_slaves_active: frames that arrive on inactive slaves are delivered */
} agent_link;

typedef struct agent_net_ops {
	/* A snapshot of every link: a malloc()ed array. */
	int (*links_get)(void *ctx, agent_link **ret, size_t *ret_n);
	int (*slave_add)(void *ctx, int bond, int slave);
	int (*slave_del)(void *ctx, int bond, int slave);
	int (*active_set)(void *ctx, int bond, int slave);
	/* The bond's all_slaves_active; NULL when the backend cannot (the switch then loses frames). */
	int (*inactive_rx_set)(void *ctx, int bond, bool on);
	/* Gratuitous ARP / unsolicited NA for the bond's addresses, sent out of slave. */
	int (*announce)(void *ctx, int bond, int slave, unsigned *ret_arp, unsigned *ret_na);
} agent_net_ops;

/* The backend calls this when links may have changed (netlink notification). */
typedef void (*agent_net_changed_fn)(void *userdata);

/* The role from the driver and bus, never from the interface name. */
agent_role agent_role_classify(const char *kind, const char *driver, const char *bus);
const char *agent_role_to_string(agent_role role);
