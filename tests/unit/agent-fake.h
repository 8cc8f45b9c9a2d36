/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A scripted stand-in for the kernel behind the agent (links, bonding, /dev/did), shared by the
 * agent's and the agent client's unit tests. Header-only: each test is one binary.
 */
#pragma once

#include <errno.h>
#include <string.h>

#include "agent_net.h"
#include "agent_server.h"
#include "did.h"

#define FAKE_LINKS_MAX 8

static struct fake_net {
	agent_link links[FAKE_LINKS_MAX];
	size_t n;
	unsigned announces;
	int fail_active_set; /* negative errno to return from active_set */
	unsigned inactive_rx_sets; /* calls to inactive_rx_set */
	int mii_unseen;      /* ifindex bonding's link monitor has not seen up: refused, EINVAL */
} fake;

static struct fake_did {
	bool present, on;
	unsigned enables;
} fake_did;

static inline agent_link *fake_link(const char *ifname)
{
	for (size_t i = 0; i < fake.n; i++)
		if (!strcmp(fake.links[i].ifname, ifname))
			return &fake.links[i];
	return NULL;
}

static inline agent_link *fake_link_add(int ifindex, const char *ifname, const char *driver, const char *bus,
				 bool carrier)
{
	agent_link *l = &fake.links[fake.n++];

	memset(l, 0, sizeof(*l));
	l->ifindex = ifindex;
	snprintf(l->ifname, sizeof(l->ifname), "%s", ifname);
	snprintf(l->driver, sizeof(l->driver), "%s", driver);
	snprintf(l->bus, sizeof(l->bus), "%s", bus);
	l->role = agent_role_classify(!strcmp(driver, "bonding") ? "bond" : NULL, driver, bus);
	l->mac[0] = 0x52;
	l->mac[5] = (uint8_t)ifindex;
	l->up = true;
	l->carrier = carrier;
	return l;
}

static inline void fake_link_remove(const char *ifname)
{
	agent_link *l = fake_link(ifname);

	*l = fake.links[--fake.n];
}

/*
 * The guest the tests start from: bond0 (ifindex 2) in active-backup with the VF "eth0"
 * (e1000e, active) and the standby "vf0" (virtio_net): names chosen to mislead, roles must
 * come from the drivers.
 */
static void fake_reset(void)
{
	agent_link *bond;

	memset(&fake, 0, sizeof(fake));
	bond = fake_link_add(2, "bond0", "bonding", "", true);
	snprintf(bond->mode, sizeof(bond->mode), "active-backup");
	bond->active_slave = 3;
	fake_link_add(3, "eth0", "e1000e", "pci", true)->master = 2;
	fake_link_add(4, "vf0", "virtio_net", "virtio", true)->master = 2;
	fake_link_add(1, "lo", "", "", true);
	fake_did = (struct fake_did){ .present = true };
}

static int fake_links_get(void *ctx, agent_link **ret, size_t *ret_n)
{
	agent_link *copy = malloc(sizeof(fake.links));

	if (!copy)
		return -ENOMEM;
	memcpy(copy, fake.links, sizeof(fake.links));
	*ret = copy;
	*ret_n = fake.n;
	return 0;
}

static agent_link *fake_by_index(int ifindex)
{
	for (size_t i = 0; i < fake.n; i++)
		if (fake.links[i].ifindex == ifindex)
			return &fake.links[i];
	return NULL;
}

static int fake_slave_add(void *ctx, int bond, int slave)
{
	fake_by_index(slave)->master = bond;
	return 0;
}

static int fake_slave_del(void *ctx, int bond, int slave)
{
	agent_link *b = fake_by_index(bond);

	fake_by_index(slave)->master = 0;
	if (b->active_slave == slave)
		b->active_slave = 0;
	return 0;
}

static int fake_active_set(void *ctx, int bond, int slave)
{
	if (fake.fail_active_set)
		return fake.fail_active_set;
	/* Like bonding: a slave whose link its monitor has not seen yet is refused with EINVAL
	 * (Linux 6.x), one without carrier quietly (as older kernels refuse both). */
	if (slave == fake.mii_unseen)
		return -EINVAL;
	if (fake_by_index(slave)->carrier)
		fake_by_index(bond)->active_slave = slave;
	return 0;
}

static int fake_inactive_rx_set(void *ctx, int bond, bool on)
{
	agent_link *l = fake_by_index(bond);

	fake.inactive_rx_sets++;
	if (!l)
		return -ENODEV;
	l->inactive_rx = on;
	return 0;
}

static int fake_announce(void *ctx, int bond, int slave, unsigned *ret_arp, unsigned *ret_na)
{
	fake.announces++;
	*ret_arp = 1;
	*ret_na = 2;
	return 0;
}

static const agent_net_ops fake_net_ops = {
	.links_get = fake_links_get,
	.slave_add = fake_slave_add,
	.slave_del = fake_slave_del,
	.active_set = fake_active_set,
	.inactive_rx_set = fake_inactive_rx_set,
	.announce = fake_announce,
};

static int fake_did_ioctl(void *ctx, unsigned long request, void *arg)
{
	if (!fake_did.present)
		return -ENODEV;
	if (request == DID_IOC_STATUS) {
		struct did_status *st = arg;

		st->version = DID_ABI_VERSION;
		st->state = fake_did.on ? DID_STATE_ON : DID_STATE_OFF;
		st->backend = DID_BACKEND_SIM;
		st->flags = DID_STATUS_SIMULATED;
		st->supported = DID_F_ALL;
		st->features = fake_did.on ? DID_F_ALL : 0;
		st->enables = fake_did.enables;
		return 0;
	}
	if (request == DID_IOC_ENABLE) {
		if (fake_did.on)
			return -EALREADY;
		fake_did.on = true;
		fake_did.enables++;
		return 0;
	}
	if (request == DID_IOC_DISABLE) {
		if (!fake_did.on)
			return -EALREADY;
		fake_did.on = false;
		return 0;
	}
	return -ENOTTY;
}

static const agent_did_ops fake_did_ops = {
	.ioctl = fake_did_ioctl,
};

static const agent_server_backend fake_backend = {
	.net = &fake_net_ops,
	.did = &fake_did_ops,
};
