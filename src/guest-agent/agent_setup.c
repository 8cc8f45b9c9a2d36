// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --setup-bond: zero guest configuration. On a guest that has a VF and a virtio NIC but no
 * bond, make an active-backup bond of the two and move the VF's addresses and routes to it.
 * The bond is created with the VF's MAC (and the VF as its first slave): the
 * network keeps seeing the address it knew. No primary is set: which slave is active is the
 * host's decision (bond-set-active), the kernel must not switch back by itself.
 *
 * Enslaving restarts the VF's link (bonding takes a slave down and up), so at first the standby
 * is the only slave with a link and bonding makes it active. The addresses move to the bond at
 * once, so the guest stays reachable through the standby; a watch on the loop then makes the VF
 * active as soon as bonding sees its link, or gives up after a timeout and leaves the standby
 * active (the host can still switch with bond-set-active).
 */
#include "agent_setup.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "agent_net.h"
#include "agent_netlink.h"
#include "log.h"
#include "macro.h"

#define MOVED_MAX 64
/* How long the VF may take to get its link back after enslaving (e1000e under TCG: ~2 s). */
#define SETUP_ACTIVATE_TIMEOUT_MS 10000

struct agent_setup {
	uv_timer_t timer;
	const agent_net_ops *ops;
	void *ctx;
	int bond, vf;
	char bond_name[IFNAMSIZ], vf_name[IFNAMSIZ];
	uint64_t started; /* uv_now() ms */
	int result;       /* -EINPROGRESS while watching */
};

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

/* An IPv4 address carries its device's name as label ("eth1", "eth1:0"): name the bond instead,
 * keeping an alias's suffix, or `ip addr` shows the VF's name on the bond. */
static void addr_relabel(struct rtnl_addr *a, const char *bond)
{
	const char *label = rtnl_addr_get_label(a), *alias;
	char buf[IFNAMSIZ];

	if (!label)
		return;
	alias = strchr(label, ':');
	snprintf(buf, sizeof(buf), "%s%s", bond, alias ?: "");
	rtnl_addr_set_label(a, buf);
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

/*
 * The bond is created with the VF's MAC already set: a bond created without one gets a random
 * MAC first, and systemd-udevd's MACAddressPolicy=persistent (99-default.link) replaces a random
 * MAC with one of its own, which the slaves would then take instead of the VM's.
 */
static int bond_create(struct nl_sock *sk, const char *name, struct nl_addr *mac)
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
	if (r >= 0 && mac)
		r = nla_put_addr(msg, IFLA_ADDRESS, mac);
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

static void setup_finish(agent_setup *s, int result)
{
	unsigned long long waited = uv_now(s->timer.loop) - s->started;

	s->result = result;
	uv_timer_stop(&s->timer);
	if (result == 0)
		log_info("'%s' is the active slave of '%s' (after %llu ms)", s->vf_name, s->bond_name, waited);
	else if (result == -ETIMEDOUT)
		log_warning("'%s' has no link in '%s' after %llu ms: the standby stays active", s->vf_name,
			    s->bond_name, waited);
	else
		log_error_errno(result, "Failed to make '%s' the active slave of '%s': %m", s->vf_name,
				s->bond_name);
}

/* Whether the VF is the active slave, and whether it has carrier; -ENODEV when it left the bond. */
static int setup_look(agent_setup *s, bool *ret_active, bool *ret_carrier)
{
	_cleanup_free_ agent_link *links = NULL;
	const agent_link *bond = NULL, *vf = NULL;
	size_t n = 0;
	int r;

	r = s->ops->links_get(s->ctx, &links, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (links[i].ifindex == s->bond)
			bond = &links[i];
		else if (links[i].ifindex == s->vf)
			vf = &links[i];
	}
	if (!bond || !vf || vf->master != s->bond)
		return -ENODEV;
	*ret_active = bond->active_slave == s->vf;
	*ret_carrier = vf->carrier;
	return 0;
}

static void setup_try(agent_setup *s, bool last)
{
	bool active = false, carrier = false;
	int r;

	if (s->result != -EINPROGRESS)
		return;
	r = setup_look(s, &active, &carrier);
	if (r >= 0 && !active && carrier) {
		/* Bonding refuses (EINVAL) until its own link monitor has seen the carrier too; it
		 * says so with a link notification, which brings us back here. */
		r = s->ops->active_set(s->ctx, s->bond, s->vf);
		if (r >= 0)
			r = setup_look(s, &active, &carrier);
		else if (r == -EINVAL)
			r = 0;
	}
	if (r < 0)
		setup_finish(s, r);
	else if (active)
		setup_finish(s, 0);
	else if (last)
		setup_finish(s, -ETIMEDOUT);
}

static void setup_timeout(uv_timer_t *t)
{
	setup_try(t->data, true);
}

int agent_setup_activate(uv_loop_t *loop, const agent_net_ops *ops, void *ctx, int bond, int vf,
			 uint64_t timeout_ms, agent_setup **ret)
{
	_cleanup_free_ agent_link *links = NULL;
	agent_setup *s;
	size_t n = 0;
	int r;

	r = ops->links_get(ctx, &links, &n);
	if (r < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (links[i].ifindex == bond)
			snprintf(s->bond_name, sizeof(s->bond_name), "%s", links[i].ifname);
		else if (links[i].ifindex == vf)
			snprintf(s->vf_name, sizeof(s->vf_name), "%s", links[i].ifname);
	}
	s->ops = ops;
	s->ctx = ctx;
	s->bond = bond;
	s->vf = vf;
	s->result = -EINPROGRESS;
	uv_timer_init(loop, &s->timer);
	s->timer.data = s;
	s->started = uv_now(loop);
	uv_timer_start(&s->timer, setup_timeout, timeout_ms, 0);
	setup_try(s, false);
	*ret = s;
	return 0;
}

void agent_setup_links_changed(agent_setup *s)
{
	setup_try(s, false);
}

int agent_setup_result(const agent_setup *s)
{
	return s->result;
}

static void setup_closed(uv_handle_t *h)
{
	free(h->data);
}

void agent_setup_free(agent_setup *s)
{
	if (s)
		uv_close((uv_handle_t *)&s->timer, setup_closed);
}

int agent_setup_bond(uv_loop_t *loop, agent_netlink *n, const char *name, agent_setup **ret)
{
	_cleanup_(moved_done) moved addrs = {}, routes = {};
	struct nl_sock *sk = agent_netlink_socket(n);
	struct nl_cache *cache = NULL;
	struct rtnl_link *bond_link = NULL, *vf_link = NULL;
	size_t moved_addrs = 0, moved_routes = 0;
	char buf[INET6_ADDRSTRLEN + 8];
	int vf, standby, bond, r;
	bool exists;

	r = bond_setup_links(n, name, &vf, &standby, &exists);
	if (r == -ENOENT)
		return log_error_errno(r, "Cannot create '%s': need a VF and a virtio NIC outside any bond", name);
	if (r < 0)
		return log_error_errno(r, "Failed to read the links: %m");
	if (exists) {
		log_info("'%s' exists already, leaving it as it is", name);
		*ret = NULL;
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

	if (rtnl_link_get_kernel(sk, vf, NULL, &vf_link) < 0)
		return log_error_errno(-ENODEV, "Cannot read the VF's link: %m");
	r = bond_create(sk, name, rtnl_link_get_addr(vf_link));
	rtnl_link_put(vf_link);
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
	if (r < 0)
		return log_error_errno(r, "Failed to bring '%s' up: %m", name);

	for (size_t i = 0; i < addrs.n; i++) {
		struct rtnl_addr *a = (struct rtnl_addr *)addrs.objs[i];

		rtnl_addr_set_ifindex(a, bond);
		addr_relabel(a, name);
		r = rtnl_addr_add(sk, a, 0);
		if (r < 0)
			log_warning("Failed to move %s from the VF to '%s': %s",
				    nl_addr2str(rtnl_addr_get_local(a), buf, sizeof(buf)), name, nl_geterror(r));
		else
			moved_addrs++;
	}
	for (size_t i = 0; i < routes.n; i++) {
		struct rtnl_route *rt = (struct rtnl_route *)routes.objs[i];
		struct rtnl_nexthop *nh = rtnl_route_nexthop_n(rt, 0);

		/* The dump reports the old link's state in the flags ("linkdown" while the VF had
		 * no carrier); the kernel refuses them in a request. Only onlink is asked for. */
		rtnl_route_unset_flags(rt, rtnl_route_get_flags(rt) & ~(uint32_t)RTNH_F_ONLINK);
		rtnl_route_nh_unset_flags(nh, rtnl_route_nh_get_flags(nh) & ~(unsigned)RTNH_F_ONLINK);
		rtnl_route_nh_set_ifindex(nh, bond);
		r = rtnl_route_add(sk, rt, NLM_F_CREATE | NLM_F_REPLACE);
		if (r < 0)
			log_warning("Failed to move the route to %s from the VF to '%s': %s",
				    nl_addr2str(rtnl_route_get_dst(rt), buf, sizeof(buf)), name, nl_geterror(r));
		else
			moved_routes++;
	}
	log_info("Created '%s' (active-backup) with the VF and the virtio NIC; moved %zu of %zu addresses and %zu of %zu routes",
		 name, moved_addrs, addrs.n, moved_routes, routes.n);
	r = agent_setup_activate(loop, &agent_netlink_ops, n, bond, vf, SETUP_ACTIVATE_TIMEOUT_MS, ret);
	if (r < 0)
		return log_error_errno(r, "Failed to watch for the VF's link in '%s': %m", name);
	return 0;
}
