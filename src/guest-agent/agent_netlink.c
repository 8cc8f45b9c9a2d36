// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The real network backend. libnl-route-3.7 can create and enslave but cannot read a bond's mode
 * or active slave, nor set the active slave (no rtnl_link_bond_set_activeslave), so those are
 * typed RTM_GETLINK/RTM_NEWLINK requests built here with IFLA_LINKINFO/IFLA_INFO_DATA and
 * IFLA_BOND_ACTIVE_SLAVE — the same request `ip link set bond0 type bond active_slave X` makes.
 * Netlink rather than /sys/class/net/BOND/bonding/active_slave: one interface for reading and
 * writing, an ack with the kernel's error, and no file writes. A second socket subscribed to
 * RTNLGRP_LINK on the loop says when to look again.
 */
#include "agent_netlink.h"

#include <errno.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent_announce.h"
#include "agent_udev.h"
#include "log.h"
#include "macro.h"

#define LINKS_MAX 4096
#define ADDRS_MAX 64
/* Link notifications come in bursts (enslave: several per slave); one look per burst. */
#define CHANGE_COALESCE_MS 20

struct agent_netlink {
	uv_loop_t *loop;
	struct nl_sock *sk;  /* requests */
	struct nl_sock *mon; /* RTNLGRP_LINK notifications */
	int ioctl_fd;        /* SIOCETHTOOL */
	uv_poll_t poll;
	uv_timer_t coalesce;
	unsigned handles_open;
	agent_net_changed_fn changed;
	void *userdata;
};

static int nl_to_errno(int nlerr)
{
	switch (abs(nlerr)) {
	case 0:
		return 0;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_PERM:
		return -EPERM;
	case NLE_NODEV:
		return -ENODEV;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_INVAL:
	case NLE_RANGE:
		return -EINVAL;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_EXIST:
		return -EEXIST;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	case NLE_AGAIN:
		return -EAGAIN;
	default:
		return -EIO;
	}
}

static const char *bond_mode_name(uint8_t mode)
{
	static const char *const names[] = { "balance-rr", "active-backup", "balance-xor", "broadcast",
					     "802.3ad", "balance-tlb", "balance-alb" };

	return mode < ELEMENTSOF(names) ? names[mode] : "unknown";
}

/* Driver and bus through the ethtool ioctl: netlink does not carry the driver's name. */
static void link_driver_read(agent_netlink *n, agent_link *l)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = {};

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", l->ifname);
	ifr.ifr_data = (void *)&info;
	if (ioctl(n->ioctl_fd, SIOCETHTOOL, &ifr) < 0)
		return;
	snprintf(l->driver, sizeof(l->driver), "%.31s", info.driver);
	if (l->bus[0])
		return;
	/* Kernels before 5.17 lack IFLA_PARENT_DEV_BUS_NAME: tell the bus by bus_info's shape. */
	if (!strncmp(info.bus_info, "virtio", 6))
		snprintf(l->bus, sizeof(l->bus), "virtio");
	else if (strchr(info.bus_info, ':') && strchr(info.bus_info, '.'))
		snprintf(l->bus, sizeof(l->bus), "pci");
}

typedef struct links_dump {
	agent_netlink *n;
	agent_link *links;
	size_t n_links, allocated;
	int error;
} links_dump;

static void mac_copy(uint8_t *dst, struct nlattr *a)
{
	if (a && nla_len(a) == 6)
		memcpy(dst, nla_data(a), 6);
}

static int link_parse(struct nl_msg *msg, void *arg)
{
	links_dump *d = arg;
	struct nlmsghdr *hdr = nlmsg_hdr(msg);
	struct ifinfomsg *ifi = nlmsg_data(hdr);
	struct nlattr *tb[IFLA_MAX + 1], *info[IFLA_INFO_MAX + 1];
	const char *kind = NULL;
	agent_link *l;

	if (hdr->nlmsg_type != RTM_NEWLINK || nlmsg_parse(hdr, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0 ||
	    !tb[IFLA_IFNAME])
		return NL_SKIP;
	if (d->n_links == d->allocated) {
		agent_link *p;

		if (d->allocated >= LINKS_MAX) {
			d->error = -E2BIG;
			return NL_STOP;
		}
		p = reallocarray(d->links, d->allocated ? d->allocated * 2 : 16, sizeof(*p));
		if (!p) {
			d->error = -ENOMEM;
			return NL_STOP;
		}
		d->links = p;
		d->allocated = d->allocated ? d->allocated * 2 : 16;
	}
	l = &d->links[d->n_links++];
	memset(l, 0, sizeof(*l));
	l->ifindex = ifi->ifi_index;
	l->up = ifi->ifi_flags & IFF_UP;
	snprintf(l->ifname, sizeof(l->ifname), "%s", nla_get_string(tb[IFLA_IFNAME]));
	mac_copy(l->mac, tb[IFLA_ADDRESS]);
	if (tb[IFLA_PERM_ADDRESS] && nla_len(tb[IFLA_PERM_ADDRESS]) == 6) {
		mac_copy(l->perm_mac, tb[IFLA_PERM_ADDRESS]);
		l->has_perm_mac = true;
	}
	if (tb[IFLA_CARRIER])
		l->carrier = nla_get_u8(tb[IFLA_CARRIER]);
	if (tb[IFLA_MASTER])
		l->master = (int)nla_get_u32(tb[IFLA_MASTER]);
	if (tb[IFLA_PARENT_DEV_BUS_NAME])
		snprintf(l->bus, sizeof(l->bus), "%s", nla_get_string(tb[IFLA_PARENT_DEV_BUS_NAME]));

	if (tb[IFLA_LINKINFO] && nla_parse_nested(info, IFLA_INFO_MAX, tb[IFLA_LINKINFO], NULL) >= 0) {
		if (info[IFLA_INFO_KIND])
			kind = nla_get_string(info[IFLA_INFO_KIND]);
		if (kind && !strcmp(kind, "bond") && info[IFLA_INFO_DATA]) {
			struct nlattr *bond[IFLA_BOND_MAX + 1];

			if (nla_parse_nested(bond, IFLA_BOND_MAX, info[IFLA_INFO_DATA], NULL) >= 0) {
				if (bond[IFLA_BOND_MODE])
					snprintf(l->mode, sizeof(l->mode), "%s",
						 bond_mode_name(nla_get_u8(bond[IFLA_BOND_MODE])));
				if (bond[IFLA_BOND_ACTIVE_SLAVE])
					l->active_slave = (int)nla_get_u32(bond[IFLA_BOND_ACTIVE_SLAVE]);
				if (bond[IFLA_BOND_ALL_SLAVES_ACTIVE])
					l->inactive_rx = nla_get_u8(bond[IFLA_BOND_ALL_SLAVES_ACTIVE]) != 0;
			}
		}
		if (info[IFLA_INFO_SLAVE_DATA] && info[IFLA_INFO_SLAVE_KIND] &&
		    !strcmp(nla_get_string(info[IFLA_INFO_SLAVE_KIND]), "bond")) {
			struct nlattr *slave[IFLA_BOND_SLAVE_MAX + 1];

			if (nla_parse_nested(slave, IFLA_BOND_SLAVE_MAX, info[IFLA_INFO_SLAVE_DATA], NULL) >= 0 &&
			    slave[IFLA_BOND_SLAVE_PERM_HWADDR] && nla_len(slave[IFLA_BOND_SLAVE_PERM_HWADDR]) == 6) {
				mac_copy(l->perm_mac, slave[IFLA_BOND_SLAVE_PERM_HWADDR]);
				l->has_perm_mac = true;
			}
		}
	}
	link_driver_read(d->n, l);
	l->role = agent_role_classify(kind, l->driver, l->bus);
	l->udev_pending = agent_udev_link_pending(l->ifindex);
	return NL_OK;
}

static int dump_run(agent_netlink *n, int type, int family, nl_recvmsg_msg_cb_t parse, void *arg)
{
	struct nl_msg *msg;
	struct nl_cb *cb;
	int r;

	msg = nlmsg_alloc_simple(type, NLM_F_REQUEST | NLM_F_DUMP);
	if (!msg)
		return -ENOMEM;
	if (type == RTM_GETLINK) {
		struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };

		r = nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
	} else {
		struct ifaddrmsg ifa = { .ifa_family = (unsigned char)family };

		r = nlmsg_append(msg, &ifa, sizeof(ifa), NLMSG_ALIGNTO);
	}
	if (r >= 0)
		r = nl_send_auto(n->sk, msg);
	nlmsg_free(msg);
	if (r < 0)
		return nl_to_errno(r);
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, parse, arg);
	r = nl_recvmsgs(n->sk, cb);
	nl_cb_put(cb);
	return nl_to_errno(r);
}

static int netlink_links_get(void *ctx, agent_link **ret, size_t *ret_n)
{
	links_dump d = { .n = ctx };
	int r;

	r = dump_run(ctx, RTM_GETLINK, AF_UNSPEC, link_parse, &d);
	if (r >= 0 && d.error < 0)
		r = d.error;
	if (r < 0) {
		free(d.links);
		return r;
	}
	*ret = d.links;
	*ret_n = d.n_links;
	return 0;
}

/*
 * One RTM_NEWLINK on ifindex, acked: master >= 0 enslaves to it (0 releases), active_slave > 0
 * and inactive_rx >= 0 (all_slaves_active) set those bond options.
 */
static int link_change(agent_netlink *n, int ifindex, unsigned flags, unsigned change, int master,
		       int active_slave, int inactive_rx)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex, .ifi_flags = flags,
				 .ifi_change = change };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
	struct nlattr *linkinfo, *data;
	int r;

	if (!msg)
		return -ENOMEM;
	r = nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
	if (r >= 0 && master >= 0)
		r = nla_put_u32(msg, IFLA_MASTER, (uint32_t)master);
	if (r >= 0 && (active_slave > 0 || inactive_rx >= 0)) {
		linkinfo = nla_nest_start(msg, IFLA_LINKINFO);
		r = linkinfo ? nla_put_string(msg, IFLA_INFO_KIND, "bond") : -NLE_NOMEM;
		data = r >= 0 ? nla_nest_start(msg, IFLA_INFO_DATA) : NULL;
		if (r >= 0 && !data)
			r = -NLE_NOMEM;
		if (r >= 0 && active_slave > 0)
			r = nla_put_u32(msg, IFLA_BOND_ACTIVE_SLAVE, (uint32_t)active_slave);
		if (r >= 0 && inactive_rx >= 0)
			r = nla_put_u8(msg, IFLA_BOND_ALL_SLAVES_ACTIVE, (uint8_t)inactive_rx);
		if (r >= 0) {
			nla_nest_end(msg, data);
			nla_nest_end(msg, linkinfo);
		}
	}
	if (r < 0) {
		nlmsg_free(msg);
		return nl_to_errno(r);
	}
	/* nl_send_sync() frees msg and waits for the kernel's ack. */
	return nl_to_errno(nl_send_sync(n->sk, msg));
}

static int netlink_slave_add(void *ctx, int bond, int slave)
{
	int r;

	/* Bonding refuses to enslave a device that is up; it brings the slave up itself. */
	r = link_change(ctx, slave, 0, IFF_UP, -1, 0, -1);
	if (r < 0)
		return r;
	return link_change(ctx, slave, 0, 0, bond, 0, -1);
}

static int netlink_slave_del(void *ctx, int bond, int slave)
{
	return link_change(ctx, slave, 0, 0, 0, 0, -1);
}

static int netlink_active_set(void *ctx, int bond, int slave)
{
	return link_change(ctx, bond, 0, 0, -1, slave, -1);
}

static int netlink_inactive_rx_set(void *ctx, int bond, bool on)
{
	return link_change(ctx, bond, 0, 0, -1, 0, on);
}

typedef struct addrs_dump {
	int ifindex;
	struct in_addr v4[ADDRS_MAX];
	struct in6_addr v6[ADDRS_MAX];
	size_t n4, n6;
} addrs_dump;

static int addr_parse(struct nl_msg *msg, void *arg)
{
	addrs_dump *d = arg;
	struct nlmsghdr *hdr = nlmsg_hdr(msg);
	struct ifaddrmsg *ifa = nlmsg_data(hdr);
	struct nlattr *tb[IFA_MAX + 1], *a;

	if (hdr->nlmsg_type != RTM_NEWADDR || nlmsg_parse(hdr, sizeof(*ifa), tb, IFA_MAX, NULL) < 0 ||
	    (int)ifa->ifa_index != d->ifindex)
		return NL_SKIP;
	if (ifa->ifa_family == AF_INET) {
		a = tb[IFA_LOCAL] ?: tb[IFA_ADDRESS];
		if (a && nla_len(a) == 4 && d->n4 < ADDRS_MAX)
			memcpy(&d->v4[d->n4++], nla_data(a), 4);
	} else if (ifa->ifa_family == AF_INET6) {
		a = tb[IFA_ADDRESS];
		if (a && nla_len(a) == 16 && d->n6 < ADDRS_MAX)
			memcpy(&d->v6[d->n6++], nla_data(a), 16);
	}
	return NL_OK;
}

static int netlink_announce(void *ctx, int bond, int slave, unsigned *ret_arp, unsigned *ret_na)
{
	agent_netlink *n = ctx;
	_cleanup_free_ agent_link *links = NULL;
	_cleanup_free_ addrs_dump *d = NULL;
	_cleanup_close_ int fd = -1;
	const agent_link *b = NULL;
	uint8_t frame[AGENT_ANNOUNCE_FRAME_MAX];
	unsigned arp = 0, na = 0;
	size_t n_links = 0;
	int r;

	r = netlink_links_get(n, &links, &n_links);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n_links; i++)
		if (links[i].ifindex == bond)
			b = &links[i];
	if (!b)
		return -ENODEV;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->ifindex = bond;
	r = dump_run(n, RTM_GETADDR, AF_UNSPEC, addr_parse, d);
	if (r < 0)
		return r;

	/* Protocol 0: this socket only sends, it never receives a packet. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	for (size_t i = 0; i < d->n4 + d->n6; i++) {
		struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = slave, .sll_halen = 6 };
		size_t len;

		/* The bond's MAC: in active-backup every slave sends with it. */
		if (i < d->n4)
			len = agent_announce_garp(frame, b->mac, &d->v4[i]);
		else
			len = agent_announce_na(frame, b->mac, &d->v6[i - d->n4]);
		memcpy(sll.sll_addr, frame, 6);
		if (sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0)
			return -errno;
		if (i < d->n4)
			arp++;
		else
			na++;
	}
	*ret_arp = arp;
	*ret_na = na;
	return 0;
}

const agent_net_ops agent_netlink_ops = {
	.links_get = netlink_links_get,
	.slave_add = netlink_slave_add,
	.slave_del = netlink_slave_del,
	.active_set = netlink_active_set,
	.inactive_rx_set = netlink_inactive_rx_set,
	.announce = netlink_announce,
};

static int monitor_msg(struct nl_msg *msg, void *arg)
{
	return NL_OK;
}

static void netlink_coalesced(uv_timer_t *t)
{
	agent_netlink *n = t->data;

	if (n->userdata)
		n->changed(n->userdata);
}

static void netlink_readable(uv_poll_t *p, int status, int events)
{
	agent_netlink *n = p->data;

	/* Drain; what the messages say does not matter, a fresh dump follows. Overruns too. */
	while (nl_recvmsgs_default(n->mon) >= 0)
		;
	if (!uv_is_active((uv_handle_t *)&n->coalesce))
		uv_timer_start(&n->coalesce, netlink_coalesced, CHANGE_COALESCE_MS, 0);
}

int agent_netlink_new(uv_loop_t *loop, agent_net_changed_fn changed, void *userdata, agent_netlink **ret)
{
	agent_netlink *n = calloc(1, sizeof(*n));
	int r;

	if (!n)
		return -ENOMEM;
	n->loop = loop;
	n->changed = changed;
	n->userdata = userdata;
	n->ioctl_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	n->sk = nl_socket_alloc();
	n->mon = nl_socket_alloc();
	if (n->ioctl_fd < 0 || !n->sk || !n->mon) {
		r = n->ioctl_fd < 0 ? -errno : -ENOMEM;
		goto fail;
	}
	r = nl_to_errno(nl_connect(n->sk, NETLINK_ROUTE));
	if (r < 0)
		goto fail;
	nl_socket_disable_seq_check(n->mon);
	nl_socket_modify_cb(n->mon, NL_CB_VALID, NL_CB_CUSTOM, monitor_msg, n);
	r = nl_to_errno(nl_connect(n->mon, NETLINK_ROUTE));
	if (r >= 0)
		r = nl_to_errno(nl_socket_add_memberships(n->mon, RTNLGRP_LINK, 0));
	if (r >= 0)
		r = nl_to_errno(nl_socket_set_nonblocking(n->mon));
	if (r < 0)
		goto fail;
	r = uv_poll_init(loop, &n->poll, nl_socket_get_fd(n->mon));
	if (r < 0)
		goto fail;
	n->poll.data = n;
	uv_timer_init(loop, &n->coalesce);
	n->coalesce.data = n;
	n->handles_open = 2;
	uv_poll_start(&n->poll, UV_READABLE, netlink_readable);
	*ret = n;
	return 0;
fail:
	nl_socket_free(n->sk);
	nl_socket_free(n->mon);
	if (n->ioctl_fd >= 0)
		close(n->ioctl_fd);
	free(n);
	return r;
}

struct nl_sock *agent_netlink_socket(agent_netlink *n)
{
	return n->sk;
}

int agent_netlink_link_up(agent_netlink *n, int ifindex)
{
	return link_change(n, ifindex, IFF_UP, IFF_UP, -1, 0, -1);
}

void agent_netlink_set_userdata(agent_netlink *n, void *userdata)
{
	n->userdata = userdata;
}

static void netlink_closed(uv_handle_t *h)
{
	agent_netlink *n = h->data;

	if (--n->handles_open > 0)
		return;
	nl_socket_free(n->sk);
	nl_socket_free(n->mon);
	close(n->ioctl_fd);
	free(n);
}

void agent_netlink_free(agent_netlink *n)
{
	if (!n)
		return;
	uv_close((uv_handle_t *)&n->poll, netlink_closed);
	uv_close((uv_handle_t *)&n->coalesce, netlink_closed);
}
