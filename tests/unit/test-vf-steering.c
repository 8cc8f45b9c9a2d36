// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VF settings and bridge entries of a migration, without root: the netlink requests as the
 * kernel would receive them (parsed back attribute by attribute), the table of what each event
 * changes, and vf_steering_apply() on a fixture host with a recorder in place of netlink.
 * The real kernel answers in the SR-IOV lab (tests/lab/test-sriov-host).
 */
#include "host/vf_steering.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/daemon.h"
#include "host/qemu_tap.h"
#include "host/vf_pool.h"
#include "host/vm.h"
#include "host_fixture.h"
#include "test.h"

static const uint8_t vm_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t zero_mac[6];

/* The IFLA_VF_INFO of an RTM_NEWLINK built for pf 4: its attributes by type. */
static void parse_vf_info(struct nl_msg *msg, struct nlattr *tb[IFLA_VF_MAX + 1])
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct ifinfomsg *ifi = nlmsg_data(h);
	struct nlattr *top[IFLA_MAX + 1], *info;
	int rem, n = 0;

	ASSERT_EQ(h->nlmsg_type, RTM_NEWLINK);
	ASSERT_EQ(ifi->ifi_index, 4);
	ASSERT_OK(nlmsg_parse(h, sizeof(*ifi), top, IFLA_MAX, NULL));
	ASSERT_TRUE(top[IFLA_VFINFO_LIST] != NULL);
	/* Nothing else of the PF changes: no name, no flags, no MTU. */
	ASSERT_TRUE(!top[IFLA_IFNAME] && !top[IFLA_MTU] && !top[IFLA_ADDRESS]);
	nla_for_each_nested(info, top[IFLA_VFINFO_LIST], rem) {
		ASSERT_EQ(nla_type(info), IFLA_VF_INFO);
		ASSERT_OK(nla_parse_nested(tb, IFLA_VF_MAX, info, NULL));
		n++;
	}
	ASSERT_EQ(n, 1);
}

TEST(vf_change_message)
{
	vf_change c = VF_CHANGE_NONE;
	struct nlattr *tb[IFLA_VF_MAX + 1];
	struct nl_msg *msg = NULL;
	struct ifla_vf_mac *m;

	c.set_mac = true;
	memcpy(c.mac, vm_mac, 6);
	c.spoofchk = 1;
	c.trust = 0;
	c.link_state = IFLA_VF_LINK_STATE_AUTO;
	ASSERT_OK(vf_netlink_build_change(4, 3, &c, &msg));
	parse_vf_info(msg, tb);
	ASSERT_TRUE(tb[IFLA_VF_MAC] && tb[IFLA_VF_SPOOFCHK] && tb[IFLA_VF_TRUST] &&
		    tb[IFLA_VF_LINK_STATE]);
	m = nla_data(tb[IFLA_VF_MAC]);
	ASSERT_EQ(m->vf, 3);
	ASSERT_TRUE(!memcmp(m->mac, vm_mac, 6));
	ASSERT_EQ(((struct ifla_vf_spoofchk *)nla_data(tb[IFLA_VF_SPOOFCHK]))->vf, 3);
	ASSERT_EQ(((struct ifla_vf_spoofchk *)nla_data(tb[IFLA_VF_SPOOFCHK]))->setting, 1);
	ASSERT_EQ(((struct ifla_vf_trust *)nla_data(tb[IFLA_VF_TRUST]))->setting, 0);
	ASSERT_EQ(((struct ifla_vf_link_state *)nla_data(tb[IFLA_VF_LINK_STATE]))->link_state,
		  IFLA_VF_LINK_STATE_AUTO);
	ASSERT_TRUE(!tb[IFLA_VF_VLAN] && !tb[IFLA_VF_TX_RATE] && !tb[IFLA_VF_RATE]);
	nlmsg_free(msg);

	/* Clearing the MAC sends only the MAC, all zero. */
	c = VF_CHANGE_NONE;
	c.set_mac = true;
	ASSERT_OK(vf_netlink_build_change(4, 0, &c, &msg));
	parse_vf_info(msg, tb);
	ASSERT_TRUE(tb[IFLA_VF_MAC] && !tb[IFLA_VF_SPOOFCHK] && !tb[IFLA_VF_TRUST] &&
		    !tb[IFLA_VF_LINK_STATE]);
	m = nla_data(tb[IFLA_VF_MAC]);
	ASSERT_EQ(m->vf, 0);
	ASSERT_TRUE(!memcmp(m->mac, zero_mac, 6));
	nlmsg_free(msg);

	ASSERT_ERRNO(vf_netlink_build_change(0, 0, &c, &msg), EINVAL);
}

TEST(fdb_message)
{
	struct nlattr *tb[NDA_MAX + 1];
	struct nl_msg *msg = NULL;
	struct nlmsghdr *h;
	struct ndmsg *nd;

	ASSERT_OK(bridge_fdb_build(77, vm_mac, true, &msg));
	h = nlmsg_hdr(msg);
	nd = nlmsg_data(h);
	ASSERT_EQ(h->nlmsg_type, RTM_NEWNEIGH);
	ASSERT_TRUE(h->nlmsg_flags & NLM_F_CREATE);
	ASSERT_TRUE(h->nlmsg_flags & NLM_F_REPLACE);
	ASSERT_EQ(nd->ndm_family, AF_BRIDGE);
	ASSERT_EQ(nd->ndm_ifindex, 77);
	ASSERT_EQ(nd->ndm_flags, NTF_MASTER);
	/* Dynamic, like a learnt entry: it ages and moves; never a static one left behind. */
	ASSERT_EQ(nd->ndm_state, NUD_REACHABLE);
	ASSERT_OK(nlmsg_parse(h, sizeof(*nd), tb, NDA_MAX, NULL));
	ASSERT_TRUE(tb[NDA_LLADDR] && nla_len(tb[NDA_LLADDR]) == 6);
	ASSERT_TRUE(!memcmp(nla_data(tb[NDA_LLADDR]), vm_mac, 6));
	ASSERT_TRUE(!tb[NDA_DST]);
	nlmsg_free(msg);

	ASSERT_OK(bridge_fdb_build(77, vm_mac, false, &msg));
	ASSERT_EQ(nlmsg_hdr(msg)->nlmsg_type, RTM_DELNEIGH);
	nlmsg_free(msg);
	ASSERT_ERRNO(bridge_fdb_build(0, vm_mac, true, &msg), EINVAL);
}

/*
 * A readout through the real kernel, without root: the loopback device answers RTM_GETLINK
 * and has no VFs. The request, the answer and the acknowledgement must come back as "no such
 * VF"; nl_send_auto()'s byte count was once taken for an error (EIO on every real PF), and
 * libnl crashes on a link without a VF list.
 */
TEST(readout_of_a_link_without_vfs)
{
	vf_netlink *n = NULL;
	vf_readout v;

	ASSERT_OK(vf_netlink_open(&n));
	ASSERT_ERRNO(vf_netlink_read(n, (int)if_nametoindex("lo"), 0, &v), ENOENT);
	/* The same socket again: the first answer was read whole, acknowledgement included. */
	ASSERT_ERRNO(vf_netlink_read(n, (int)if_nametoindex("lo"), 0, &v), ENOENT);
	vf_netlink_close(n);
}

TEST(mac_parse)
{
	uint8_t mac[6];

	ASSERT_OK(mac_parse("52:54:00:12:34:56", mac));
	ASSERT_TRUE(!memcmp(mac, vm_mac, 6));
	ASSERT_ERRNO(mac_parse("52:54:00:12:34", mac), EINVAL);
	ASSERT_ERRNO(mac_parse("52:54:00:12:34:5g", mac), EINVAL);
	ASSERT_ERRNO(mac_parse("52:54:00:12:34:567", mac), EINVAL);
}

TEST(what_each_event_changes)
{
	const vf_settings s = { .spoofchk = true, .trust = false, .link_state = VF_LINK_AUTO };
	const vf_settings odd = { .spoofchk = false, .trust = true, .link_state = VF_LINK_ENABLE };
	vf_change c;

	c = vf_steering_vf_change(VF_EVENT_PREPARE, &s, vm_mac);
	ASSERT_TRUE(c.set_mac && !memcmp(c.mac, vm_mac, 6));
	ASSERT_EQ(c.spoofchk, 1);
	ASSERT_EQ(c.trust, 0);
	ASSERT_EQ(c.link_state, IFLA_VF_LINK_STATE_AUTO);
	c = vf_steering_vf_change(VF_EVENT_PREPARE, &odd, vm_mac);
	ASSERT_EQ(c.spoofchk, 0);
	ASSERT_EQ(c.trust, 1);
	ASSERT_EQ(c.link_state, IFLA_VF_LINK_STATE_ENABLE);

	/* The destination's VF has no MAC until it becomes active. */
	c = vf_steering_vf_change(VF_EVENT_PREPARE_INCOMING, &s, vm_mac);
	ASSERT_TRUE(c.set_mac && !memcmp(c.mac, zero_mac, 6));
	ASSERT_EQ(c.spoofchk, 1);

	/* The source's VF loses it at the standby switch, not after the unplug. */
	c = vf_steering_vf_change(VF_EVENT_STANDBY, &s, vm_mac);
	ASSERT_TRUE(c.set_mac && !memcmp(c.mac, zero_mac, 6));
	ASSERT_EQ(c.spoofchk, -1);
	ASSERT_EQ(c.link_state, -1);
	ASSERT_EQ(vf_steering_fdb_action(VF_EVENT_STANDBY), 1);

	c = vf_steering_vf_change(VF_EVENT_SWITCHOVER, &s, vm_mac);
	ASSERT_TRUE(!c.set_mac && c.spoofchk < 0 && c.trust < 0 && c.link_state < 0);
	ASSERT_EQ(vf_steering_fdb_action(VF_EVENT_SWITCHOVER), 1);

	c = vf_steering_vf_change(VF_EVENT_ACTIVE, &s, vm_mac);
	ASSERT_TRUE(c.set_mac && !memcmp(c.mac, vm_mac, 6));
	ASSERT_EQ(vf_steering_fdb_action(VF_EVENT_ACTIVE), -1);

	c = vf_steering_vf_change(VF_EVENT_RELEASE, &s, vm_mac);
	ASSERT_TRUE(c.set_mac && !memcmp(c.mac, zero_mac, 6));
	ASSERT_EQ(c.link_state, IFLA_VF_LINK_STATE_DISABLE);
	ASSERT_EQ(vf_steering_fdb_action(VF_EVENT_RELEASE), 0);
	ASSERT_EQ(vf_steering_fdb_action(VF_EVENT_PREPARE), 0);
}

/* --- apply, with a recorder for netlink --- */

typedef struct recorder {
	char calls[16][96];
	int n;
	int fail;
	uint8_t vf_mac[6];
} recorder;

static int rec_vf_change(void *userdata, int pf_ifindex, unsigned vf, const vf_change *c)
{
	recorder *r = userdata;

	snprintf(r->calls[r->n++], sizeof(r->calls[0]),
		 "vf pf=%d vf=%u mac=%s%02x spoofchk=%d trust=%d link=%d", pf_ifindex, vf,
		 c->set_mac ? "" : "-", c->set_mac ? c->mac[5] : 0, c->spoofchk, c->trust,
		 c->link_state);
	return r->fail;
}

static int rec_fdb(void *userdata, int port_ifindex, const uint8_t mac[6], bool add)
{
	recorder *r = userdata;

	snprintf(r->calls[r->n++], sizeof(r->calls[0]), "fdb %s port=%d mac=%02x",
		 add ? "add" : "del", port_ifindex, mac[5]);
	return 0;
}

/* What the PF reports for any VF: the recorder's vf_mac, or its fail. */
static int rec_vf_read(void *userdata, int pf_ifindex, unsigned vf, vf_readout *ret)
{
	recorder *r = userdata;

	snprintf(r->calls[r->n++], sizeof(r->calls[0]), "read pf=%d vf=%u", pf_ifindex, vf);
	memset(ret, 0, sizeof(*ret));
	memcpy(ret->mac, r->vf_mac, 6);
	return r->fail;
}

TEST(apply_on_a_fixture_host)
{
	host_fixture fx;
	char state[] = "/tmp/test-vf-steering.XXXXXX", pool_file[96];
	recorder rec = { .n = 0 };
	vf_steering_ops ops = { .vf_change = rec_vf_change, .fdb = rec_fdb, .vf_read = rec_vf_read,
				.userdata = &rec };
	char why[512];
	host_config c = { 0 };
	host_daemon d = { 0 };
	vm_spec *spec = calloc(1, sizeof(*spec));
	vm *v;
	char *error = NULL, tap[IF_NAMESIZE];
	const char *vf, *message;
	int ifindex;

	fx_init(&fx);
	fx.vf_driver = NULL;
	fx_pf(&fx, "0000:07:00.1", "enp7s0f1", 7);
	ASSERT_TRUE(mkdtemp(state));
	c.state_dir = state;
	c.system_root = fx.root;
	c.passthrough = PASSTHROUGH_SRIOV;
	c.sriov = (sriov_config){ .pf = "enp7s0f1", .vfs = 2,
				  .settings = { .spoofchk = true, .link_state = VF_LINK_AUTO } };
	c.n_vfs = 2;
	c.run_dir = state;
	d.config = &c;
	ASSERT_OK(vf_pool_open(&c, &fx.fs, &d.pool, &error));
	ASSERT_OK(vf_pool_reserve(d.pool, "vm0", &vf));
	ASSERT_OK(vf_pool_reserve(d.pool, "vm1", &vf));
	ASSERT_TRUE(spec && (spec->name = strdup("vm1")));
	strcpy(spec->mac, "52:54:00:12:34:56");
	ASSERT_OK(vm_new(&d, spec, &v));
	ASSERT_OK(vm_hold_vf(v, vf));
	vm_set_pid(v, 4321);

	/* QEMU's descriptors: the standby's tap (two queues), a disk, a socket. */
	fx_link(&fx, "proc/4321/fd/3", "/var/lib/vm1.qcow2");
	fx_link(&fx, "proc/4321/fd/9", "/dev/net/tun");
	fx_file(&fx, "proc/4321/fdinfo/9", "pos:\t0\nflags:\t02004002\nmnt_id:\t25\niff:\ttap7\n");
	fx_link(&fx, "proc/4321/fd/10", "/dev/net/tun");
	fx_file(&fx, "proc/4321/fdinfo/10", "pos:\t0\nflags:\t02004002\nmnt_id:\t25\niff:\ttap7\n");
	fx_link(&fx, "proc/4321/fd/11", "socket:[1234]");
	fx_file(&fx, "sys/class/net/tap7/ifindex", "77\n");
	ASSERT_OK(qemu_tap_find(&fx.fs, 4321, tap, &ifindex));
	ASSERT_STREQ(tap, "tap7");
	ASSERT_EQ(ifindex, 77);

	vf_steering_set_ops(&ops);
	ASSERT_OK(vf_steering_apply(v, VF_EVENT_PREPARE, &message));
	ASSERT_OK(vf_steering_apply(v, VF_EVENT_STANDBY, &message));
	ASSERT_OK(vf_steering_apply(v, VF_EVENT_ACTIVE, &message));
	ASSERT_OK(vf_steering_apply(v, VF_EVENT_RELEASE, &message));
	ASSERT_EQ(rec.n, 6);
	ASSERT_STREQ(rec.calls[0], "vf pf=4 vf=1 mac=56 spoofchk=1 trust=0 link=0");
	ASSERT_STREQ(rec.calls[1], "vf pf=4 vf=1 mac=00 spoofchk=-1 trust=-1 link=-1");
	ASSERT_STREQ(rec.calls[2], "fdb add port=77 mac=56");
	ASSERT_STREQ(rec.calls[3], "vf pf=4 vf=1 mac=56 spoofchk=-1 trust=-1 link=-1");
	ASSERT_STREQ(rec.calls[4], "fdb del port=77 mac=56");
	ASSERT_STREQ(rec.calls[5], "vf pf=4 vf=1 mac=00 spoofchk=-1 trust=-1 link=2");

	/* The PF refuses: the caller hears it, with what failed. */
	rec.fail = -EOPNOTSUPP;
	ASSERT_ERRNO(vf_steering_apply(v, VF_EVENT_PREPARE, &message), EOPNOTSUPP);
	ASSERT_TRUE(strstr(message, "refused"));
	rec.fail = 0;

	/* The vf-link-down fault: the link state alone, held down, then the pool's (auto) again. */
	rec.n = 0;
	ASSERT_OK(vf_steering_link(v, true, &message));
	ASSERT_OK(vf_steering_link(v, false, &message));
	ASSERT_EQ(rec.n, 2);
	ASSERT_STREQ(rec.calls[0], "vf pf=4 vf=1 mac=-00 spoofchk=-1 trust=-1 link=2");
	ASSERT_STREQ(rec.calls[1], "vf pf=4 vf=1 mac=-00 spoofchk=-1 trust=-1 link=0");
	/* A PF driver without per-VF link state (igb) is named as such. */
	rec.fail = -EOPNOTSUPP;
	ASSERT_ERRNO(vf_steering_link(v, true, &message), EOPNOTSUPP);
	ASSERT_TRUE(strstr(message, "no per-VF link state"));
	rec.fail = 0;

	/*
	 * A VM taken over running: its VF must already have the VM's MAC (what the guest's bond
	 * took), else the destination's spoof checking would cut the bond off. The PF is asked,
	 * nothing is set.
	 */
	rec.n = 0;
	memcpy(rec.vf_mac, vm_mac, 6);
	ASSERT_OK(vf_steering_check_taken_over(v, vf, why, sizeof(why)));
	rec.vf_mac[5] = 0x99; /* the address igbvf chose itself */
	ASSERT_ERRNO(vf_steering_check_taken_over(v, vf, why, sizeof(why)), EADDRNOTAVAIL);
	ASSERT_TRUE(strstr(why, "52:54:00:12:34:99"));
	ASSERT_TRUE(strstr(why, "ip link set enp7s0f1 vf 1 mac 52:54:00:12:34:56"));
	memset(rec.vf_mac, 0, 6); /* none at all */
	ASSERT_ERRNO(vf_steering_check_taken_over(v, vf, why, sizeof(why)), EADDRNOTAVAIL);
	ASSERT_TRUE(strstr(why, "has no MAC set"));
	rec.fail = -ENODEV;
	ASSERT_ERRNO(vf_steering_check_taken_over(v, vf, why, sizeof(why)), ENODEV);
	ASSERT_TRUE(strstr(why, "cannot be read through its PF enp7s0f1"));
	rec.fail = 0;
	ASSERT_EQ(rec.n, 4);
	ASSERT_STREQ(rec.calls[0], "read pf=4 vf=1");

	/* A second tap (an emulated VF beside the standby): which is the standby is not known. */
	fx_link(&fx, "proc/4321/fd/12", "/dev/net/tun");
	fx_file(&fx, "proc/4321/fdinfo/12", "iff:\ttap8\n");
	ASSERT_ERRNO(qemu_tap_find(&fx.fs, 4321, tap, &ifindex), EEXIST);
	ASSERT_ERRNO(qemu_tap_find(&fx.fs, 999, tap, &ifindex), ENOENT);

	/* Emulated pools have nothing to set. */
	vf_pool_free(d.pool);
	snprintf(pool_file, sizeof(pool_file), "%s/vf-pool.json", state);
	unlink(pool_file);
	c.passthrough = PASSTHROUGH_EMULATED;
	c.vfs = (char *[]){ "vf0" };
	c.n_vfs = 1;
	ASSERT_OK(vf_pool_open(&c, &fx.fs, &d.pool, &error));
	ASSERT_OK(vf_pool_reserve(d.pool, "vm1", &vf));
	ASSERT_OK(vm_hold_vf(v, vf));
	rec.n = 0;
	ASSERT_OK(vf_steering_apply(v, VF_EVENT_STANDBY, &message));
	ASSERT_OK(vf_steering_check_taken_over(v, vf, why, sizeof(why)));
	ASSERT_EQ(rec.n, 0);
	vm_forget(v);
	vf_pool_free(d.pool);
	unlink(pool_file);
	rmdir(state);
	vf_steering_set_ops(NULL);
	fx_cleanup(&fx);
}

int main(void)
{
	RUN_TEST(vf_change_message);
	RUN_TEST(fdb_message);
	RUN_TEST(readout_of_a_link_without_vfs);
	RUN_TEST(mac_parse);
	RUN_TEST(what_each_event_changes);
	RUN_TEST(apply_on_a_fixture_host);
	return 0;
}
