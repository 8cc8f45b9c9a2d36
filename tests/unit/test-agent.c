// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The agent's request loop over a socketpair, against the fake kernel: every command, the
 * protocol's hostile inputs, and that the agent keeps serving after each of them.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent-fake.h"
#include "agent_server.h"
#include "agent_udev.h"
#include "test.h"

static uv_loop_t loop;
static agent_server *server;
static int peer = -1;
static char inbuf[256 * 1024];
static size_t inlen;
static unsigned ff_seen;

static void setup_backend(const agent_server_backend *be)
{
	int sv[2];

	fake_reset();
	ASSERT_OK(uv_loop_init(&loop));
	ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_OK(agent_server_new(&loop, be, &server));
	ASSERT_OK(agent_server_attach_fd(server, sv[0]));
	peer = sv[1];
	ASSERT_OK(fcntl(peer, F_SETFL, O_NONBLOCK));
	inlen = 0;
	ff_seen = 0;
}

static void setup(void)
{
	setup_backend(&fake_backend);
}

static void teardown(void)
{
	agent_server_free(server);
	close(peer);
	uv_run(&loop, UV_RUN_DEFAULT);
	ASSERT_OK(uv_loop_close(&loop));
}

static void send_raw(const void *buf, size_t len)
{
	ASSERT_EQ(write(peer, buf, len), (ssize_t)len);
}

static void send_line(const char *s)
{
	send_raw(s, strlen(s));
	send_raw("\n", 1);
}

/* Let the agent run until the next message arrives, or fail after 5 s. */
static json_object *recv_msg(void)
{
	for (int i = 0; i < 5000; i++) {
		char *nl = memchr(inbuf, '\n', inlen);
		struct pollfd p = { .fd = peer, .events = POLLIN };
		ssize_t n;

		if (nl) {
			size_t start = 0, len = (size_t)(nl - inbuf);
			json_object *o;

			while (start < len && (unsigned char)inbuf[start] == 0xFF) {
				start++;
				ff_seen++;
			}
			*nl = '\0';
			o = json_tokener_parse(inbuf + start);
			memmove(inbuf, nl + 1, inlen - len - 1);
			inlen -= len + 1;
			ASSERT_TRUE(o);
			return o;
		}
		uv_run(&loop, UV_RUN_NOWAIT);
		n = read(peer, inbuf + inlen, sizeof(inbuf) - inlen);
		if (n > 0) {
			inlen += (size_t)n;
			continue;
		}
		poll(&p, 1, 1);
	}
	TEST_FAIL("no message from the agent within 5 s");
}

/* Nothing more from the agent for a while. */
static void expect_silence(void)
{
	for (int i = 0; i < 50; i++) {
		struct pollfd p = { .fd = peer, .events = POLLIN };

		uv_run(&loop, UV_RUN_NOWAIT);
		poll(&p, 1, 1);
	}
	ASSERT_EQ(inlen, 0);
	ASSERT_TRUE(read(peer, inbuf, sizeof(inbuf)) < 0);
}

static json_object *call(const char *line)
{
	send_line(line);
	return recv_msg();
}

static const char *str_at(json_object *o, const char *a, const char *b)
{
	json_object *v;

	if (!json_object_object_get_ex(o, a, &v))
		return NULL;
	if (b && !json_object_object_get_ex(v, b, &v))
		return NULL;
	return json_object_get_string(v);
}

static int64_t int_at(json_object *o, const char *a, const char *b)
{
	json_object *v;

	ASSERT_TRUE(json_object_object_get_ex(o, a, &v));
	if (b)
		ASSERT_TRUE(json_object_object_get_ex(v, b, &v));
	return json_object_get_int64(v);
}

static void expect_error(const char *line, int64_t id, const char *code)
{
	json_object *r = call(line);
	const char *got = str_at(r, "error", "code");

	if (!got || strcmp(got, code))
		TEST_FAIL("'%.80s': expected error %s, got %s", line, code, json_object_to_json_string(r));
	ASSERT_TRUE(strlen(str_at(r, "error", "message")) > 0);
	if (id >= 0)
		ASSERT_EQ(int_at(r, "id", NULL), id);
	else
		ASSERT_TRUE(!json_object_object_get_ex(r, "id", NULL));
	json_object_put(r);
}

static void expect_serving(void)
{
	json_object *r = call("{\"id\":999,\"cmd\":\"bond-status\"}");

	ASSERT_EQ(int_at(r, "id", NULL), 999);
	ASSERT_STREQ(str_at(r, "return", "bond"), "bond0");
	json_object_put(r);
}

TEST(sync_echoes_id_behind_0xff)
{
	json_object *r;

	setup();
	/* A half request in the pipe, then the sync marker: the half must be forgotten. */
	send_raw("{\"id\":5,\"cmd\":\"bond-", 20);
	send_raw("\xff", 1);
	r = call("{\"id\":1234567890123,\"cmd\":\"sync\"}");
	ASSERT_EQ(int_at(r, "id", NULL), 1234567890123);
	ASSERT_TRUE(json_object_is_type(json_object_object_get(r, "return"), json_type_object));
	ASSERT_EQ(ff_seen, 1);
	json_object_put(r);
	expect_silence();
	teardown();
}

TEST(hello_negotiates)
{
	json_object *r, *cmds;

	setup();
	r = call("{\"id\":1,\"cmd\":\"hello\",\"args\":{\"min-version\":1,\"max-version\":7,\"client\":\"t\"}}");
	ASSERT_EQ(int_at(r, "return", "version"), AGENT_PROTOCOL_VERSION_MAX);
	ASSERT_EQ(int_at(r, "return", "max-message"), AGENT_PROTOCOL_MAX_MESSAGE);
	cmds = json_object_object_get(json_object_object_get(r, "return"), "commands");
	ASSERT_EQ(json_object_array_length(cmds), _AGENT_CMD_MAX);
	json_object_put(r);
	expect_error("{\"id\":2,\"cmd\":\"hello\",\"args\":{\"min-version\":2,\"max-version\":9}}", 2, "incompatible");
	expect_error("{\"id\":3,\"cmd\":\"hello\",\"args\":{\"min-version\":1}}", 3, "invalid-argument");
	expect_serving();
	teardown();
}

TEST(bond_status_roles_from_drivers)
{
	json_object *r, *slaves;

	setup();
	r = call("{\"id\":1,\"cmd\":\"bond-status\",\"args\":{}}");
	ASSERT_STREQ(str_at(r, "return", "mode"), "active-backup");
	ASSERT_STREQ(str_at(r, "return", "active"), "eth0");
	ASSERT_STREQ(str_at(r, "return", "active-role"), "vf");
	slaves = json_object_object_get(json_object_object_get(r, "return"), "slaves");
	ASSERT_EQ(json_object_array_length(slaves), 2);
	for (size_t i = 0; i < 2; i++) {
		json_object *s = json_object_array_get_idx(slaves, i);

		/* "vf0" is the virtio NIC: the name must not fool the agent. */
		ASSERT_STREQ(str_at(s, "role", NULL), !strcmp(str_at(s, "ifname", NULL), "vf0") ? "standby" : "vf");
	}
	json_object_put(r);
	expect_error("{\"id\":2,\"cmd\":\"bond-status\",\"args\":{\"bond\":\"bond9\"}}", 2, "unavailable");
	expect_error("{\"id\":3,\"cmd\":\"bond-status\",\"args\":{\"bond\":\"eth0\"}}", 3, "unavailable");
	teardown();
}

TEST(set_active_and_events)
{
	json_object *r;

	setup();
	r = call("{\"id\":1,\"cmd\":\"bond-set-active\",\"args\":{\"role\":\"standby\"}}");
	ASSERT_STREQ(str_at(r, "return", "active"), "vf0");
	ASSERT_STREQ(str_at(r, "return", "previous"), "eth0");
	json_object_put(r);
	ASSERT_EQ(fake_link("bond0")->active_slave, 4);

	/* The kernel's notification: the agent tells the host what changed. */
	agent_server_links_changed(server);
	r = recv_msg();
	ASSERT_STREQ(str_at(r, "event", NULL), "active-changed");
	ASSERT_STREQ(str_at(r, "data", "active"), "vf0");
	ASSERT_STREQ(str_at(r, "data", "role"), "standby");
	ASSERT_STREQ(str_at(r, "data", "previous"), "eth0");
	json_object_put(r);

	r = call("{\"id\":2,\"cmd\":\"bond-set-active\",\"args\":{\"ifname\":\"eth0\"}}");
	ASSERT_STREQ(str_at(r, "return", "active"), "eth0");
	json_object_put(r);

	/* A slave without carrier: bonding keeps the old one, and the agent says so. */
	fake_link("vf0")->carrier = false;
	expect_error("{\"id\":3,\"cmd\":\"bond-set-active\",\"args\":{\"role\":\"standby\"}}", 3, "failed");
	fake.fail_active_set = -EPERM;
	expect_error("{\"id\":4,\"cmd\":\"bond-set-active\",\"args\":{\"role\":\"standby\"}}", 4, "failed");
	expect_error("{\"id\":5,\"cmd\":\"bond-set-active\",\"args\":{\"ifname\":\"lo\"}}", 5, "not-found");
	expect_error("{\"id\":6,\"cmd\":\"bond-set-active\",\"args\":{}}", 6, "invalid-argument");
	expect_error("{\"id\":7,\"cmd\":\"bond-set-active\",\"args\":{\"role\":\"vf\",\"ifname\":\"eth0\"}}", 7,
		     "invalid-argument");
	expect_error("{\"id\":8,\"cmd\":\"bond-set-active\",\"args\":{\"role\":\"primary\"}}", 8, "invalid-argument");
	teardown();
}

/*
 * bond-set-active to the standby as request id, its reply read: whether the bond now delivers
 * what its inactive slaves receive.
 */
static bool standby_switch(int id)
{
	char line[128];

	snprintf(line, sizeof(line), "{\"id\":%d,\"cmd\":\"bond-set-active\",\"args\":{\"role\":\"standby\"}}", id);
	json_object_put(call(line));
	return fake_link("bond0")->inactive_rx;
}

/*
 * From the switch to the standby until the VF leaves the bond, the bond delivers what its
 * inactive slaves receive (all_slaves_active): the switch in front of them is still relearning.
 * Off at once when the VF is active again, after a refused switch, and never on for a bond
 * without a VF or one that had it on already.
 */
TEST(inactive_slaves_deliver_until_the_vf_leaves)
{
	json_object *r;

	setup();
	ASSERT_TRUE(standby_switch(1));
	/* The standby's undo: the VF active again, off at once. */
	r = call("{\"id\":2,\"cmd\":\"bond-set-active\",\"args\":{\"role\":\"vf\"}}");
	ASSERT_STREQ(str_at(r, "return", "active"), "eth0");
	json_object_put(r);
	ASSERT_TRUE(!fake_link("bond0")->inactive_rx);
	ASSERT_EQ(fake.inactive_rx_sets, 2);

	/* The migration: on with the standby, still on while the VF is a slave, off as it leaves. */
	ASSERT_TRUE(standby_switch(3));
	agent_server_links_changed(server);
	json_object_put(recv_msg()); /* active-changed */
	ASSERT_TRUE(fake_link("bond0")->inactive_rx);
	fake_link_remove("eth0");
	agent_server_links_changed(server);
	json_object_put(recv_msg()); /* vf-removed */
	ASSERT_TRUE(!fake_link("bond0")->inactive_rx);
	ASSERT_EQ(fake.inactive_rx_sets, 4);
	/* A new VF joins with the setting off, and the standby switch on a bond without a VF. */
	ASSERT_TRUE(!standby_switch(4));
	ASSERT_EQ(fake.inactive_rx_sets, 4);
	teardown();

	/* The guest's own setting: left as it was. */
	setup();
	fake_link("bond0")->inactive_rx = true;
	ASSERT_TRUE(standby_switch(5));
	r = call("{\"id\":6,\"cmd\":\"bond-set-active\",\"args\":{\"role\":\"vf\"}}");
	json_object_put(r);
	ASSERT_EQ(fake.inactive_rx_sets, 0);
	ASSERT_TRUE(fake_link("bond0")->inactive_rx);

	/* A switch the kernel refused: off again, the traffic never moved. */
	fake_link("bond0")->inactive_rx = false;
	fake_link("vf0")->carrier = false;
	expect_error("{\"id\":7,\"cmd\":\"bond-set-active\",\"args\":{\"role\":\"standby\"}}", 7, "failed");
	ASSERT_EQ(fake.inactive_rx_sets, 2);
	ASSERT_TRUE(!fake_link("bond0")->inactive_rx);
	teardown();
}

/*
 * The ends of the setting that the migration does not reach in order: the old VF gone and a new
 * one enslaved in one notification, a new VF asked for while the old one is a slave, a switch
 * the kernel failed, the agent stopped.
 */
TEST(inactive_slaves_deliver_ends_on_every_path)
{
	json_object *r;

	setup();
	ASSERT_TRUE(standby_switch(1));
	fake_link_remove("eth0");
	fake_link_add(7, "ens5", "e1000e", "pci", true)->master = 2;
	agent_server_links_changed(server);
	json_object_put(recv_msg()); /* active-changed */
	json_object_put(recv_msg()); /* vf-added */
	json_object_put(recv_msg()); /* vf-removed */
	ASSERT_TRUE(!fake_link("bond0")->inactive_rx);

	/* bond-activate-vf with the old VF still a slave: off before anything joins. */
	ASSERT_TRUE(standby_switch(2));
	send_line("{\"id\":3,\"cmd\":\"bond-activate-vf\",\"args\":{\"timeout-ms\":5000}}");
	r = recv_msg();
	ASSERT_EQ(json_object_get_int(json_object_object_get(r, "id")), 3);
	json_object_put(r);
	ASSERT_TRUE(!fake_link("bond0")->inactive_rx);

	/* A switch the kernel failed outright. */
	fake.fail_active_set = -EPERM;
	expect_error("{\"id\":4,\"cmd\":\"bond-set-active\",\"args\":{\"role\":\"standby\"}}", 4, "failed");
	ASSERT_TRUE(!fake_link("bond0")->inactive_rx);
	fake.fail_active_set = 0;

	/* The agent stopped within the window: the bond as it was. */
	ASSERT_TRUE(standby_switch(5));
	teardown();
	ASSERT_TRUE(!fake_link("bond0")->inactive_rx);
}

TEST(release_unplug_plug_activate)
{
	json_object *r;

	setup();
	r = call("{\"id\":1,\"cmd\":\"bond-release\",\"args\":{\"role\":\"vf\"}}");
	ASSERT_STREQ(str_at(r, "return", "released"), "eth0");
	json_object_put(r);
	ASSERT_EQ(fake_link("eth0")->master, 0);
	/* bonding fails over to the standby. */
	fake_link("bond0")->active_slave = 4;

	/* Unplug: vf-removed. Plug a new VF without carrier yet: vf-added. */
	agent_server_links_changed(server);
	r = recv_msg(); /* active-changed: the release left no active slave in the fake */
	ASSERT_STREQ(str_at(r, "event", NULL), "active-changed");
	json_object_put(r);
	fake_link_remove("eth0");
	agent_server_links_changed(server);
	r = recv_msg();
	ASSERT_STREQ(str_at(r, "event", NULL), "vf-removed");
	ASSERT_STREQ(str_at(r, "data", "ifname"), "eth0");
	json_object_put(r);
	/*
	 * Asked before the guest has the new VF: one request waits for it, for its carrier and for
	 * the bond to take it; other requests are served meanwhile.
	 */
	send_line("{\"id\":2,\"cmd\":\"bond-activate-vf\",\"args\":{\"timeout-ms\":5000}}");
	expect_serving();
	expect_error("{\"id\":3,\"cmd\":\"bond-activate-vf\"}", 3, "busy");
	expect_silence();
	fake_link_add(7, "ens5", "e1000e", "pci", false);
	agent_server_links_changed(server);
	r = recv_msg();
	ASSERT_STREQ(str_at(r, "event", NULL), "vf-added");
	ASSERT_STREQ(str_at(r, "data", "ifname"), "ens5");
	ASSERT_STREQ(str_at(r, "data", "driver"), "e1000e");
	json_object_put(r);
	ASSERT_EQ(fake_link("ens5")->master, 2);
	ASSERT_EQ(fake_link("bond0")->active_slave, 4);
	/* Carrier, but bonding's link monitor has not seen it yet: tried again after its interval. */
	fake.mii_unseen = 7;
	fake_link("ens5")->carrier = true;
	agent_server_links_changed(server);
	r = recv_msg();
	ASSERT_STREQ(str_at(r, "event", NULL), "link-up");
	json_object_put(r);
	ASSERT_EQ(fake_link("bond0")->active_slave, 4);
	fake.mii_unseen = 0;
	r = recv_msg();
	ASSERT_EQ(int_at(r, "id", NULL), 2);
	ASSERT_STREQ(str_at(r, "return", "ifname"), "ens5");
	ASSERT_STREQ(str_at(r, "return", "previous"), "vf0");
	/* The wait for the VF (the silence above) and the bond's interval: the device's time. */
	ASSERT_TRUE(int_at(r, "return", "device-ms") >= 40);
	ASSERT_TRUE(int_at(r, "return", "carrier-ms") >= 100);
	ASSERT_TRUE(int_at(r, "return", "device-ms") + int_at(r, "return", "carrier-ms") <=
		    int_at(r, "return", "took-ms"));
	json_object_put(r);
	ASSERT_EQ(fake_link("bond0")->active_slave, 7);

	/* Already the active slave (the guest's network stack was first): nothing to do. */
	r = call("{\"id\":4,\"cmd\":\"bond-activate-vf\"}");
	ASSERT_STREQ(str_at(r, "return", "ifname"), "ens5");
	json_object_put(r);
	ASSERT_EQ(fake_link("ens5")->master, 2);
	fake_link_remove("ens5");
	fake_link("bond0")->active_slave = 4;
	agent_server_links_changed(server);
	r = recv_msg();
	ASSERT_STREQ(str_at(r, "event", NULL), "vf-removed");
	json_object_put(r);
	expect_error("{\"id\":7,\"cmd\":\"bond-activate-vf\",\"args\":{\"timeout-ms\":50}}", 7, "not-found");
	expect_error("{\"id\":5,\"cmd\":\"bond-activate-vf\",\"args\":{\"ifname\":\"vf0\"}}", 5, "invalid-argument");
	expect_error("{\"id\":6,\"cmd\":\"bond-activate-vf\",\"args\":{\"bond\":\"bond9\"}}", 6, "unavailable");
	teardown();
}

TEST(activate_refuses_to_guess_and_times_out_without_carrier)
{
	setup();
	fake_link_add(8, "ens6", "iavf", "pci", false);
	fake_link_add(9, "ens7", "iavf", "pci", false);
	/* Two free VFs: the agent will not guess. */
	expect_error("{\"id\":1,\"cmd\":\"bond-activate-vf\"}", 1, "invalid-argument");
	fake_link_remove("ens7");
	expect_error("{\"id\":2,\"cmd\":\"bond-activate-vf\",\"args\":{\"timeout-ms\":50}}", 2, "timeout");
	ASSERT_EQ(fake_link("ens6")->master, 2);
	ASSERT_EQ(fake_link("bond0")->active_slave, 3);
	expect_serving();
	teardown();
}

/* The VF going away while its carrier is awaited (unplugged again) ends the wait at once. */
TEST(activate_ends_when_the_vf_goes_away)
{
	setup();
	fake_link_add(8, "ens6", "iavf", "pci", false);
	send_line("{\"id\":1,\"cmd\":\"bond-activate-vf\",\"args\":{\"timeout-ms\":5000}}");
	expect_serving();
	ASSERT_EQ(fake_link("ens6")->master, 2);
	fake_link_remove("ens6");
	agent_server_links_changed(server);
	for (;;) {
		json_object *r = recv_msg();

		if (str_at(r, "event", NULL)) {
			json_object_put(r);
			continue;
		}
		ASSERT_EQ(int_at(r, "id", NULL), 1);
		ASSERT_STREQ(str_at(r, "error", "code"), "not-found");
		json_object_put(r);
		break;
	}
	teardown();
}

/* A VF udev is still renaming is left alone until udev is done: enslaved, it would keep eth1. */
TEST(activate_waits_for_udev_to_rename_the_vf)
{
	json_object *r;

	setup();
	fake_link_add(8, "eth1", "e1000e", "pci", true)->udev_pending = true;
	send_line("{\"id\":1,\"cmd\":\"bond-activate-vf\",\"args\":{\"timeout-ms\":5000}}");
	expect_serving();
	expect_error("{\"id\":2,\"cmd\":\"bond-activate-vf\"}", 2, "busy");
	ASSERT_EQ(fake_link("eth1")->master, 0);
	/* udev renames it and writes its database entry. */
	snprintf(fake_link("eth1")->ifname, IFNAMSIZ, "enp1s0");
	fake_link("enp1s0")->udev_pending = false;
	r = recv_msg();
	ASSERT_EQ(int_at(r, "id", NULL), 1);
	ASSERT_STREQ(str_at(r, "return", "ifname"), "enp1s0");
	ASSERT_STREQ(str_at(r, "return", "previous"), "eth0");
	json_object_put(r);
	ASSERT_EQ(fake_link("enp1s0")->master, 2);
	ASSERT_EQ(fake_link("bond0")->active_slave, 8);
	teardown();
}

TEST(udev_entry_being_renamed_is_not_done)
{
	static const char renaming[] = "I:51423135\nE:ID_RENAMING=1\nG:systemd\n";
	static const char processing[] = "I:1\nE:ID_PROCESSING=1";
	static const char done[] = "I:51423135\nE:ID_NET_NAME_PATH=enp1s0\nG:systemd\n";
	static const char lookalikes[] = "E:ID_RENAMING=10\nXE:ID_PROCESSING=1\nE:ID_RENAMING=0\n";

	ASSERT_TRUE(agent_udev_db_busy(renaming, strlen(renaming)));
	ASSERT_TRUE(agent_udev_db_busy(processing, strlen(processing)));
	ASSERT_TRUE(!agent_udev_db_busy(done, strlen(done)));
	ASSERT_TRUE(!agent_udev_db_busy(lookalikes, strlen(lookalikes)));
	/* Not NUL-terminated: only len bytes are read. */
	ASSERT_TRUE(!agent_udev_db_busy(renaming, 12));
	ASSERT_TRUE(!agent_udev_db_busy("", 0));
}

/* udev never finishing does not stop the migration: after half the wait the VF is enslaved. */
/* udev never finishing does not stop the migration: after half the wait the VF is enslaved. */
TEST(activate_gives_up_on_udev_after_half_the_wait)
{
	json_object *r;

	setup();
	fake_link_add(8, "eth1", "e1000e", "pci", true)->udev_pending = true;
	r = call("{\"id\":1,\"cmd\":\"bond-activate-vf\",\"args\":{\"timeout-ms\":200}}");
	ASSERT_STREQ(str_at(r, "return", "ifname"), "eth1");
	ASSERT_TRUE(int_at(r, "return", "device-ms") >= 100);
	json_object_put(r);
	ASSERT_EQ(fake_link("eth1")->master, 2);
	teardown();
}

TEST(announce_rounds)
{
	json_object *r;

	setup();
	r = call("{\"id\":1,\"cmd\":\"announce\",\"args\":{\"count\":3}}");
	ASSERT_EQ(int_at(r, "return", "arp"), 3);
	ASSERT_EQ(int_at(r, "return", "na"), 6);
	ASSERT_STREQ(str_at(r, "return", "ifname"), "eth0");
	json_object_put(r);
	ASSERT_EQ(fake.announces, 3);
	expect_error("{\"id\":2,\"cmd\":\"announce\",\"args\":{\"count\":11}}", 2, "invalid-argument");
	fake_link("bond0")->active_slave = 0;
	expect_error("{\"id\":3,\"cmd\":\"announce\"}", 3, "unavailable");
	teardown();
}

TEST(did_commands)
{
	json_object *r;

	setup();
	r = call("{\"id\":1,\"cmd\":\"did-status\"}");
	ASSERT_STREQ(str_at(r, "return", "state"), "off");
	ASSERT_TRUE(json_object_get_boolean(json_object_object_get(json_object_object_get(r, "return"), "simulated")));
	json_object_put(r);
	r = call("{\"id\":2,\"cmd\":\"did-enable\",\"args\":{\"features\":[\"timer\",\"ipi\"]}}");
	ASSERT_STREQ(str_at(r, "return", "state"), "on");
	ASSERT_TRUE(json_object_get_boolean(json_object_object_get(json_object_object_get(r, "return"), "changed")));
	json_object_put(r);
	/* Again: already on is success, unchanged (the migration's undo path relies on it). */
	r = call("{\"id\":3,\"cmd\":\"did-enable\"}");
	ASSERT_TRUE(!json_object_get_boolean(json_object_object_get(json_object_object_get(r, "return"), "changed")));
	json_object_put(r);
	ASSERT_EQ(fake_did.enables, 1);
	expect_error("{\"id\":4,\"cmd\":\"did-enable\",\"args\":{\"features\":[\"timer\",\"timer\"]}}", 4,
		     "invalid-argument");
	expect_error("{\"id\":5,\"cmd\":\"did-enable\",\"args\":{\"features\":\"timer\"}}", 5, "invalid-argument");
	fake_did.present = false;
	expect_error("{\"id\":6,\"cmd\":\"did-disable\"}", 6, "unavailable");
	teardown();
}

TEST(did_device_absent)
{
	agent_server_backend be = fake_backend;
	json_object *r;

	/* The real ioctl path, pointed at a device that does not exist. */
	be.did = &agent_did_dev_ops;
	be.did_ctx = (void *)"/nonexistent/did";
	setup_backend(&be);
	r = call("{\"id\":1,\"cmd\":\"did-status\"}");
	ASSERT_STREQ(str_at(r, "error", "code"), "unavailable");
	ASSERT_TRUE(strstr(str_at(r, "error", "message"), "/dev/did"));
	json_object_put(r);
	teardown();
}

TEST(hostile_input)
{
	char big[AGENT_PROTOCOL_MAX_MESSAGE + 100];

	setup();
	expect_error("this is not json", -1, "bad-json");
	expect_error("{\"id\":1,\"cmd\":\"bond-status\"} {}", -1, "bad-json");
	memset(big, ' ', sizeof(big));
	memcpy(big, "{\"id\":1,\"cmd\":\"bond-status\",\"args\":{\"bond\":\"", 43);
	big[sizeof(big) - 1] = '\0';
	expect_error(big, -1, "too-big");
	expect_error("[1,2,3]", -1, "bad-request");
	expect_error("{\"cmd\":\"bond-status\"}", -1, "bad-request");
	expect_error("{\"id\":-1,\"cmd\":\"bond-status\"}", -1, "bad-request");
	expect_error("{\"id\":\"7\",\"cmd\":\"bond-status\"}", -1, "bad-request");
	expect_error("{\"id\":99999999999999999999,\"cmd\":\"bond-status\"}", -1, "bad-request");
	expect_error("{\"id\":7,\"cmd\":42}", 7, "bad-request");
	expect_error("{\"id\":7,\"cmd\":\"bond-status\",\"extra\":1}", 7, "bad-request");
	expect_error("{\"id\":8,\"cmd\":\"rm-rf\"}", 8, "unknown-command");
	expect_error("{\"id\":9,\"cmd\":\"bond-status\",\"args\":[]}", 9, "invalid-argument");
	expect_error("{\"id\":10,\"cmd\":\"bond-status\",\"args\":{\"bond\":5}}", 10, "invalid-argument");
	expect_error("{\"id\":11,\"cmd\":\"bond-status\",\"args\":{\"bond\":\"\"}}", 11, "invalid-argument");
	expect_error("{\"id\":12,\"cmd\":\"bond-status\",\"args\":{\"bond\":\"a-name-longer-than-15\"}}", 12,
		     "invalid-argument");
	expect_error("{\"id\":13,\"cmd\":\"bond-status\",\"args\":{\"bond\":\"bo\\u0000nd\"}}", 13, "invalid-argument");
	expect_error("{\"id\":14,\"cmd\":\"bond-status\",\"args\":{\"path\":\"/etc/shadow\"}}", 14, "invalid-argument");
	expect_error("{\"id\":15,\"cmd\":\"bond-activate-vf\",\"args\":{\"timeout-ms\":1.5}}", 15, "invalid-argument");
	expect_error("{\"id\":16,\"cmd\":\"bond-activate-vf\",\"args\":{\"timeout-ms\":-1}}", 16, "invalid-argument");
	expect_error("{\"id\":17,\"cmd\":\"bond-activate-vf\",\"args\":{\"timeout-ms\":true}}", 17, "invalid-argument");
	expect_serving();
	teardown();
}

TEST(partial_reads)
{
	const char *req = "{\"id\":42,\"cmd\":\"bond-status\"}\n";
	const char *two = "{\"id\":1,\"cmd\":\"sync\"}\n{\"id\":2,\"cmd\":\"did-status\"}\n";
	json_object *r;

	setup();
	for (size_t i = 0; req[i]; i++) {
		send_raw(req + i, 1);
		uv_run(&loop, UV_RUN_NOWAIT);
	}
	r = recv_msg();
	ASSERT_EQ(int_at(r, "id", NULL), 42);
	json_object_put(r);
	/* Two requests in one write, answered in order. */
	send_raw(two, strlen(two));
	r = recv_msg();
	ASSERT_EQ(int_at(r, "id", NULL), 1);
	json_object_put(r);
	r = recv_msg();
	ASSERT_EQ(int_at(r, "id", NULL), 2);
	json_object_put(r);
	teardown();
}

static int64_t now_ms(void)
{
	struct timespec ts;

	ASSERT_OK(clock_gettime(CLOCK_MONOTONIC, &ts));
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The agent, started with --allow-faults, in a child process: a crash or a stall must hit it,
 * not the test, which plays the host on the other end. Its send buffer is small so that a test
 * can make replies queue inside the agent by not reading.
 */
static pid_t fork_agent(void)
{
	int sv[2], small = 4096;
	pid_t pid;

	ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_OK(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)));
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		agent_server_backend be = fake_backend;

		close(sv[1]);
		be.allow_faults = true;
		fake_reset();
		ASSERT_OK(uv_loop_init(&loop));
		ASSERT_OK(agent_server_new(&loop, &be, &server));
		ASSERT_OK(agent_server_attach_fd(server, sv[0]));
		uv_run(&loop, UV_RUN_DEFAULT);
		_exit(0);
	}
	close(sv[0]);
	peer = sv[1];
	ASSERT_OK(fcntl(peer, F_SETFL, O_NONBLOCK));
	inlen = 0;
	ff_seen = 0;
	/* recv_msg() runs a loop: here an empty one. */
	ASSERT_OK(uv_loop_init(&loop));
	return pid;
}

static int fork_agent_wait(pid_t pid)
{
	int status;

	close(peer);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_OK(uv_loop_close(&loop));
	return status;
}

TEST(fault_refused_without_allow_faults)
{
	json_object *r;

	setup();
	r = call("{\"id\":1,\"cmd\":\"fault\",\"args\":{\"kind\":\"crash\"}}");
	ASSERT_EQ(int_at(r, "id", NULL), 1);
	ASSERT_STREQ(str_at(r, "error", "code"), "unsupported");
	ASSERT_TRUE(strstr(str_at(r, "error", "message"), "--allow-faults"));
	json_object_put(r);
	expect_error("{\"id\":2,\"cmd\":\"fault\",\"args\":{\"kind\":\"stall\",\"ms\":300}}", 2, "unsupported");
	/* Still here, and not stalled: the refusal came at once and the agent goes on. */
	expect_serving();
	teardown();
}

TEST(fault_bad_args)
{
	agent_server_backend be = fake_backend;

	be.allow_faults = true;
	setup_backend(&be);
	expect_error("{\"id\":1,\"cmd\":\"fault\"}", 1, "invalid-argument");
	expect_error("{\"id\":2,\"cmd\":\"fault\",\"args\":{\"kind\":\"explode\"}}", 2, "invalid-argument");
	expect_error("{\"id\":3,\"cmd\":\"fault\",\"args\":{\"kind\":\"stall\"}}", 3, "invalid-argument");
	expect_error("{\"id\":4,\"cmd\":\"fault\",\"args\":{\"kind\":\"stall\",\"ms\":0}}", 4, "invalid-argument");
	expect_error("{\"id\":5,\"cmd\":\"fault\",\"args\":{\"kind\":\"stall\",\"ms\":600001}}", 5, "invalid-argument");
	expect_error("{\"id\":6,\"cmd\":\"fault\",\"args\":{\"kind\":\"stall\",\"ms\":-1}}", 6, "invalid-argument");
	expect_error("{\"id\":7,\"cmd\":\"fault\",\"args\":{\"kind\":\"stall\",\"ms\":\"300\"}}", 7, "invalid-argument");
	expect_error("{\"id\":8,\"cmd\":\"fault\",\"args\":{\"kind\":\"stall\",\"ms\":1.5}}", 8, "invalid-argument");
	expect_error("{\"id\":9,\"cmd\":\"fault\",\"args\":{\"kind\":\"crash\",\"ms\":5}}", 9, "invalid-argument");
	expect_error("{\"id\":10,\"cmd\":\"fault\",\"args\":{\"kind\":\"crash\",\"signal\":9}}", 10, "invalid-argument");
	expect_serving();
	teardown();
}

TEST(fault_stall_holds_later_replies)
{
	const char *reqs = "{\"id\":1,\"cmd\":\"fault\",\"args\":{\"kind\":\"stall\",\"ms\":300}}\n"
			   "{\"id\":2,\"cmd\":\"hello\",\"args\":{\"min-version\":1,\"max-version\":1}}\n";
	int64_t sent, replied, late;
	pid_t pid = fork_agent();
	json_object *r;
	int status;

	/* The hello is queued behind the stall: it must wait it out. */
	sent = now_ms();
	send_raw(reqs, strlen(reqs));
	r = recv_msg();
	replied = now_ms();
	ASSERT_EQ(int_at(r, "id", NULL), 1);
	ASSERT_STREQ(str_at(r, "return", "kind"), "stall");
	ASSERT_EQ(int_at(r, "return", "ms"), 300);
	json_object_put(r);
	r = recv_msg();
	late = now_ms();
	ASSERT_EQ(int_at(r, "id", NULL), 2);
	ASSERT_EQ(int_at(r, "return", "version"), 1);
	json_object_put(r);
	fprintf(stderr, "stall 300 ms: its reply after %lld ms, the next reply %lld ms after that\n",
		(long long)(replied - sent), (long long)(late - replied));
	/* Lower bounds only: a loaded machine makes things slower, never faster. */
	ASSERT_TRUE(late - sent >= 300);
	/* The reply came before the stall, not after it (half the stall of slack for scheduling). */
	ASSERT_TRUE(late - replied >= 150);
	expect_serving();
	status = fork_agent_wait(pid);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(WEXITSTATUS(status), 0);
}

TEST(fault_crash_dies_of_sigkill_after_reply)
{
	json_object *r;
	pid_t pid = fork_agent();
	int status;

	r = call("{\"id\":7,\"cmd\":\"fault\",\"args\":{\"kind\":\"crash\"}}");
	ASSERT_EQ(int_at(r, "id", NULL), 7);
	ASSERT_STREQ(str_at(r, "return", "kind"), "crash");
	json_object_put(r);
	/* Closing our end would make a surviving agent exit 0 at EOF, not hang the test. */
	status = fork_agent_wait(pid);
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(WTERMSIG(status), SIGKILL);
}

TEST(fault_crash_waits_for_queued_reply)
{
	char line[64];
	json_object *r;
	pid_t pid = fork_agent();
	int status;

	/* Replies we do not read fill the agent's socket buffer and queue inside the agent. */
	for (int i = 0; i < 64; i++) {
		snprintf(line, sizeof(line), "{\"id\":%d,\"cmd\":\"bond-status\"}", i);
		send_line(line);
	}
	send_line("{\"id\":64,\"cmd\":\"fault\",\"args\":{\"kind\":\"crash\"}}");
	/* Alive while its reply waits behind the others: the kill follows the write, not the request. */
	poll(NULL, 0, 200);
	ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0);
	for (int i = 0; i <= 64; i++) {
		r = recv_msg();
		ASSERT_EQ(int_at(r, "id", NULL), i);
		json_object_put(r);
	}
	status = fork_agent_wait(pid);
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(WTERMSIG(status), SIGKILL);
}

int main(void)
{
	RUN_TEST(sync_echoes_id_behind_0xff);
	RUN_TEST(hello_negotiates);
	RUN_TEST(bond_status_roles_from_drivers);
	RUN_TEST(set_active_and_events);
	RUN_TEST(inactive_slaves_deliver_until_the_vf_leaves);
	RUN_TEST(inactive_slaves_deliver_ends_on_every_path);
	RUN_TEST(release_unplug_plug_activate);
	RUN_TEST(activate_refuses_to_guess_and_times_out_without_carrier);
	RUN_TEST(activate_ends_when_the_vf_goes_away);
	RUN_TEST(activate_waits_for_udev_to_rename_the_vf);
	RUN_TEST(activate_gives_up_on_udev_after_half_the_wait);
	RUN_TEST(udev_entry_being_renamed_is_not_done);
	RUN_TEST(announce_rounds);
	RUN_TEST(did_commands);
	RUN_TEST(did_device_absent);
	RUN_TEST(hostile_input);
	RUN_TEST(partial_reads);
	RUN_TEST(fault_refused_without_allow_faults);
	RUN_TEST(fault_bad_args);
	RUN_TEST(fault_stall_holds_later_replies);
	RUN_TEST(fault_crash_dies_of_sigkill_after_reply);
	RUN_TEST(fault_crash_waits_for_queued_reply);
	return 0;
}
