// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --setup-bond: zero guest configuration. On a guest that has a VF and a virtio NIC but no
 * bond, make an active-backup bond of the two and move the VF's addresses and routes to it.
 * The bond is created with the VF as its first slave so that it takes the VF's MAC: the
 * network keeps seeing the address it knew. No primary is set: which slave is active is the
 * host's decision (bond-set-active), the kernel must not switch back by itself.
 */
#include "agent_setup.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <string.h>

#include "agent_net.h"
#include "agent_netlink.h"
#include "log.h"
#include "macro.h"

#define MOVED_MAX 64

typedef struct moved {
	struct nl_object *objs[MOVED_MAX];
	size_t n;
	int from, to;
} moved;

static void moved_done(moved *m)
{
	for (size_t i = 0; i < m->n; i++)
		nl_object_put(m->objs[i]);
	m->n = 0;
}

static void addr_collect(struct nl_object *obj, void *arg)
{
	struct rtnl_addr *a = (struct rtnl_addr *)obj;
	moved *m = arg;

	/* Link-local IPv6 belongs to the link; the bond makes its own. */
	if (rtnl_addr_get_ifindex(a) != m->from || m->n == MOVED_MAX ||
	    (rtnl_addr_get_family(a) == AF_INET6 && rtnl_addr_get_scope(a) == RT_SCOPE_LINK))
		return;
	nl_object_get(obj);
	m->objs[m->n++] = obj;
}

static void route_collect(struct nl_object *obj, void *arg)
{
	struct rtnl_route *rt = (struct rtnl_route *)obj;
	struct rtnl_nexthop *nh;
	moved *m = arg;

	/* Routes the kernel derives from addresses come back with the addresses. */
	if (rtnl_route_get_table(rt) != RT_TABLE_MAIN || rtnl_route_get_protocol(rt) == RTPROT_KERNEL ||
	    rtnl_route_get_nnexthops(rt) != 1 || m->n == MOVED_MAX)
		return;
	nh = rtnl_route_nexthop_n(rt, 0);
	if (!nh || rtnl_route_nh_get_ifindex(nh) != m->from)
		return;
	nl_object_get(obj);
	m->objs[m->n++] = obj;
}

static int nlerr(int r)
{
	return r < 0 ? -EIO : 0;
}

static int bond_create(struct nl_sock *sk, const char *name)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
	struct nlattr *linkinfo, *data;
	int r;

	if (!msg)
		return -ENOMEM;
	r = nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
	if (r >= 0)
		r = nla_put_string(msg, IFLA_IFNAME, name);
	linkinfo = r >= 0 ? nla_nest_start(msg, IFLA_LINKINFO) : NULL;
	if (linkinfo)
		r = nla_put_string(msg, IFLA_INFO_KIND, "bond");
	data = linkinfo && r >= 0 ? nla_nest_start(msg, IFLA_INFO_DATA) : NULL;
	if (!data) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	r = nla_put_u8(msg, IFLA_BOND_MODE, 1 /* active-backup */);
	if (r >= 0)
		r = nla_put_u32(msg, IFLA_BOND_MIIMON, 100);
	if (r < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nla_nest_end(msg, data);
	nla_nest_end(msg, linkinfo);
	return nlerr(nl_send_sync(sk, msg));
}

static int bond_setup_links(agent_netlink *n, const char *name, int *ret_vf, int *ret_standby, bool *ret_exists)
{
	_cleanup_free_ agent_link *links = NULL;
	size_t count = 0;
	int r, vf = 0, standby = 0;

	r = agent_netlink_ops.links_get(n, &links, &count);
	if (r < 0)
		return r;
	*ret_exists = false;
	for (size_t i = 0; i < count; i++) {
		if (!strcmp(links[i].ifname, name)) {
			*ret_exists = true;
			return 0;
		}
		if (links[i].master != 0)
			continue;
		if (links[i].role == AGENT_ROLE_VF && !vf)
			vf = links[i].ifindex;
		else if (links[i].role == AGENT_ROLE_STANDBY && !standby)
			standby = links[i].ifindex;
	}
	if (!vf || !standby)
		return -ENOENT;
	*ret_vf = vf;
	*ret_standby = standby;
	return 0;
}

int agent_setup_bond(agent_netlink *n, const char *name)
{
	_cleanup_(moved_done) moved addrs = {}, routes = {};
	struct nl_sock *sk = agent_netlink_socket(n);
	struct nl_cache *cache = NULL;
	struct rtnl_link *bond_link = NULL;
	int vf, standby, bond, r;
	bool exists;

	r = bond_setup_links(n, name, &vf, &standby, &exists);
	if (r == -ENOENT)
		return log_error_errno(r, "Cannot create '%s': need a VF and a virtio NIC outside any bond", name);
	if (r < 0)
		return log_error_errno(r, "Failed to read the links: %m");
	if (exists) {
		log_info("'%s' exists already, leaving it as it is", name);
		return 0;
	}

	/* Save what lives on the VF before enslaving takes it down and the kernel drops it. */
	addrs.from = routes.from = vf;
	if (rtnl_addr_alloc_cache(sk, &cache) >= 0) {
		nl_cache_foreach(cache, addr_collect, &addrs);
		nl_cache_free(cache);
	}
	if (rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &cache) >= 0) {
		nl_cache_foreach(cache, route_collect, &routes);
		nl_cache_free(cache);
	}

	r = bond_create(sk, name);
	if (r < 0)
		return log_error_errno(r, "Failed to create '%s' (is the bonding module there?): %m", name);
	if (rtnl_link_get_kernel(sk, 0, name, &bond_link) < 0)
		return log_error_errno(-ENODEV, "Created '%s' but cannot find it: %m", name);
	bond = rtnl_link_get_ifindex(bond_link);
	rtnl_link_put(bond_link);

	for (size_t i = 0; i < addrs.n; i++)
		rtnl_addr_delete(sk, (struct rtnl_addr *)addrs.objs[i], 0);
	r = agent_netlink_ops.slave_add(n, bond, vf);
	if (r >= 0)
		r = agent_netlink_ops.slave_add(n, bond, standby);
	if (r < 0)
		return log_error_errno(r, "Failed to enslave the NICs to '%s': %m", name);
	r = agent_netlink_link_up(n, bond);
	if (r >= 0)
		r = agent_netlink_ops.active_set(n, bond, vf);
	if (r < 0)
		return log_error_errno(r, "Failed to bring '%s' up with the VF active: %m", name);

	for (size_t i = 0; i < addrs.n; i++) {
		struct rtnl_addr *a = (struct rtnl_addr *)addrs.objs[i];

		rtnl_addr_set_ifindex(a, bond);
		if (rtnl_addr_add(sk, a, 0) < 0)
			log_warning("Failed to move an address of the VF to '%s'", name);
	}
	for (size_t i = 0; i < routes.n; i++) {
		struct rtnl_route *rt = (struct rtnl_route *)routes.objs[i];

		rtnl_route_nh_set_ifindex(rtnl_route_nexthop_n(rt, 0), bond);
		if (rtnl_route_add(sk, rt, NLM_F_CREATE | NLM_F_REPLACE) < 0)
			log_warning("Failed to move a route of the VF to '%s'", name);
	}
	log_info("Created '%s' (active-backup) with the VF and the virtio NIC; moved %zu addresses and %zu routes",
		 name, addrs.n, routes.n);
	return 0;
}
