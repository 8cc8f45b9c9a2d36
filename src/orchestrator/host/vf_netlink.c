// SPDX-License-Identifier: GPL-2.0-or-later
#include "host/vf_netlink.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/sriov.h>
#include <netlink/route/neighbour.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "macro.h"

struct vf_netlink {
	struct nl_sock *sock;
};

/*
 * libnl's errors are its own numbers: the errno they stand for, for our callers. A value >= 0
 * is success (nl_send_auto() returns the bytes it sent: mapping those to EIO made every VF
 * readout fail, which doctor reported as "cannot read them: Input/output error").
 */
static int vf_netlink_errno(int nle)
{
	if (nle >= 0)
		return 0;
	switch (-nle) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_OBJ_NOTFOUND:
	case NLE_NODEV:
		return -ENODEV;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	case NLE_PERM:
		return -EPERM;
	case NLE_INVAL:
	case NLE_MISSING_ATTR:
		return -EINVAL;
	case NLE_RANGE:
		return -ERANGE;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_EXIST:
		return -EEXIST;
	case NLE_MSG_TRUNC:
	case NLE_MSGSIZE:
		return -EMSGSIZE;
	case NLE_SEQ_MISMATCH:
		return -EILSEQ;
	case NLE_PARSE_ERR:
		return -EBADMSG;
	case NLE_MSG_OVERFLOW:
		return -ENOBUFS;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_PROTO_MISMATCH:
		return -EPROTO;
	default:
		return -EIO;
	}
}

int mac_parse(const char *s, uint8_t ret[6])
{
	unsigned b[6];
	char end;

	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
				      &b[4], &b[5], &end) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		ret[i] = (uint8_t)b[i];
	return 0;
}

int vf_netlink_open(vf_netlink **ret)
{
	vf_netlink *n = calloc(1, sizeof(*n));
	int r;

	if (!n)
		return -ENOMEM;
	n->sock = nl_socket_alloc();
	if (!n->sock) {
		free(n);
		return -ENOMEM;
	}
	r = nl_connect(n->sock, NETLINK_ROUTE);
	if (r < 0) {
		nl_socket_free(n->sock);
		free(n);
		return vf_netlink_errno(r);
	}
	*ret = n;
	return 0;
}

vf_netlink *vf_netlink_close(vf_netlink *n)
{
	if (n) {
		nl_socket_free(n->sock);
		free(n);
	}
	return NULL;
}

int vf_netlink_build_change(int pf_ifindex, unsigned vf, const vf_change *c, struct nl_msg **ret)
{
	struct rtnl_link *orig = NULL, *changes = NULL;
	struct rtnl_link_vf *v = NULL;
	struct nl_addr *addr = NULL;
	int r = -ENOMEM;

	if (pf_ifindex <= 0)
		return -EINVAL;
	orig = rtnl_link_alloc();
	changes = rtnl_link_alloc();
	v = rtnl_link_vf_alloc();
	if (!orig || !changes || !v)
		goto out;
	rtnl_link_set_ifindex(orig, pf_ifindex);
	rtnl_link_vf_set_index(v, vf);
	if (c->set_mac) {
		addr = nl_addr_build(AF_LLC, c->mac, 6);
		if (!addr)
			goto out;
		rtnl_link_vf_set_addr(v, addr);
	}
	if (c->spoofchk >= 0)
		rtnl_link_vf_set_spoofchk(v, (uint32_t)c->spoofchk);
	if (c->trust >= 0)
		rtnl_link_vf_set_trust(v, (uint32_t)c->trust);
	if (c->link_state >= 0)
		rtnl_link_vf_set_linkstate(v, (uint32_t)c->link_state);
	r = vf_netlink_errno(rtnl_link_vf_add(changes, v));
	if (r < 0)
		goto out;
	r = vf_netlink_errno(rtnl_link_build_change_request(orig, changes, 0, ret));
out:
	nl_addr_put(addr);
	rtnl_link_vf_put(v);
	rtnl_link_put(changes);
	rtnl_link_put(orig);
	return r;
}

/* Send msg (taken) and wait for the kernel's acknowledgement. */
static int vf_netlink_send(vf_netlink *n, struct nl_msg *msg)
{
	int r = nl_send_sync(n->sock, msg);

	return vf_netlink_errno(r);
}

static int vf_netlink_change_one(vf_netlink *n, int pf_ifindex, unsigned vf, const vf_change *c)
{
	struct nl_msg *msg = NULL;
	int r;

	r = vf_netlink_build_change(pf_ifindex, vf, c, &msg);
	if (r < 0)
		return r;
	return vf_netlink_send(n, msg);
}

int vf_netlink_change(vf_netlink *n, int pf_ifindex, unsigned vf, const vf_change *c)
{
	vf_change rest = *c, link = VF_CHANGE_NONE;
	int r;

	/*
	 * The link state goes in a request of its own: the kernel applies a VF's attributes in
	 * order (MAC, spoof check, link state, trust) and stops at the first one the driver refuses,
	 * and some PF drivers have no per-VF link state at all (igb: EOPNOTSUPP, seen in the
	 * SR-IOV lab). That must not keep the MAC, spoof check and trust from being set.
	 */
	rest.link_state = -1;
	link.link_state = c->link_state;
	if (rest.set_mac || rest.spoofchk >= 0 || rest.trust >= 0) {
		r = vf_netlink_change_one(n, pf_ifindex, vf, &rest);
		if (r < 0)
			return r;
	}
	if (link.link_state < 0)
		return 0;
	r = vf_netlink_change_one(n, pf_ifindex, vf, &link);
	/* Without per-VF link state a VF's link follows its PF's: what "auto" asks for. */
	if (r == -EOPNOTSUPP && c->link_state == IFLA_VF_LINK_STATE_AUTO)
		return 0;
	return r;
}

/* The answer to a link request: libnl parses the message into a link object. */
typedef struct vf_netlink_answer {
	struct rtnl_link *link;
	bool acked;
} vf_netlink_answer;

static void vf_netlink_on_object(struct nl_object *obj, void *userdata)
{
	vf_netlink_answer *a = userdata;

	if (!a->link) {
		nl_object_get(obj);
		a->link = (struct rtnl_link *)obj;
	}
}

static int vf_netlink_on_valid(struct nl_msg *msg, void *userdata)
{
	nl_msg_parse(msg, vf_netlink_on_object, userdata);
	return NL_OK;
}

static int vf_netlink_on_ack(struct nl_msg *msg, void *userdata)
{
	((vf_netlink_answer *)userdata)->acked = true;
	return NL_STOP;
}

int vf_netlink_read(vf_netlink *n, int pf_ifindex, unsigned vf, vf_readout *ret)
{
	vf_netlink_answer answer = { 0 };
	struct rtnl_link_vf *v;
	struct nl_addr *addr = NULL;
	struct nl_msg *msg = NULL;
	struct nl_cb *cb, *sock_cb;
	uint32_t value;
	int r;

	r = vf_netlink_errno(rtnl_link_build_get_request(pf_ifindex, NULL, &msg));
	/*
	 * The kernel sends the VFs only with RTEXT_FILTER_VF: libnl 3.7 asks for them itself,
	 * older ones do not.
	 */
	if (r >= 0 && !nlmsg_find_attr(nlmsg_hdr(msg), sizeof(struct ifinfomsg), IFLA_EXT_MASK) &&
	    nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_VF) < 0)
		r = -ENOMEM;
	if (r >= 0)
		r = vf_netlink_errno(nl_send_auto(n->sock, msg));
	nlmsg_free(msg);
	if (r < 0)
		return r;
	/* nl_socket_get_cb() hands out a reference of its own. */
	sock_cb = nl_socket_get_cb(n->sock);
	cb = nl_cb_clone(sock_cb);
	nl_cb_put(sock_cb);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, vf_netlink_on_valid, &answer);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, vf_netlink_on_ack, &answer);
	r = vf_netlink_errno(nl_recvmsgs(n->sock, cb));
	/* The answer and the acknowledgement may come in separate reads. */
	if (r >= 0 && !answer.acked)
		r = vf_netlink_errno(nl_recvmsgs(n->sock, cb));
	nl_cb_put(cb);
	if (r < 0 || !answer.link) {
		rtnl_link_put(answer.link);
		return r < 0 ? r : -ENODEV;
	}
	/* libnl's rtnl_link_vf_get() dereferences a link's VF list without checking it has one. */
	v = rtnl_link_has_vf_list(answer.link) ? rtnl_link_vf_get(answer.link, vf) : NULL;
	if (!v) {
		rtnl_link_put(answer.link);
		return -ENOENT;
	}
	memset(ret, 0, sizeof(*ret));
	if (rtnl_link_vf_get_addr(v, &addr) >= 0 && addr && nl_addr_get_len(addr) >= 6)
		memcpy(ret->mac, nl_addr_get_binary_addr(addr), 6);
	ret->spoofchk = rtnl_link_vf_get_spoofchk(v, &value) >= 0 && value;
	ret->trust = rtnl_link_vf_get_trust(v, &value) >= 0 && value;
	ret->link_state = rtnl_link_vf_get_linkstate(v, &value) >= 0 ? (int)value : -1;
	rtnl_link_vf_put(v);
	rtnl_link_put(answer.link);
	return 0;
}

int bridge_fdb_build(int port_ifindex, const uint8_t mac[6], bool add, struct nl_msg **ret)
{
	struct rtnl_neigh *neigh = rtnl_neigh_alloc();
	struct nl_addr *addr = nl_addr_build(AF_LLC, mac, 6);
	int r = -ENOMEM;

	if (port_ifindex <= 0)
		r = -EINVAL;
	else if (neigh && addr) {
		rtnl_neigh_set_family(neigh, AF_BRIDGE);
		rtnl_neigh_set_ifindex(neigh, port_ifindex);
		rtnl_neigh_set_lladdr(neigh, addr);
		/* NTF_MASTER: the bridge's own table, not the port device's. */
		rtnl_neigh_set_flags(neigh, NTF_MASTER);
		rtnl_neigh_set_state(neigh, NUD_REACHABLE);
		r = add ? rtnl_neigh_build_add_request(neigh, NLM_F_CREATE | NLM_F_REPLACE, ret)
			: rtnl_neigh_build_delete_request(neigh, 0, ret);
		r = vf_netlink_errno(r);
	}
	nl_addr_put(addr);
	rtnl_neigh_put(neigh);
	return r;
}

int bridge_fdb_change(vf_netlink *n, int port_ifindex, const uint8_t mac[6], bool add)
{
	struct nl_msg *msg = NULL;
	int r;

	r = bridge_fdb_build(port_ifindex, mac, add, &msg);
	if (r < 0)
		return r;
	r = vf_netlink_send(n, msg);
	return !add && (r == -ENODEV || r == -ENOENT) ? 0 : r;
}
