// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vf_activate against a scripted guest agent (a socketpair; the test answers each request): one
 * bond-activate-vf, whatever events the guest pushes meanwhile, asked again only when no VF
 * appeared in the agent's wait (a slow NIC); the agent's measured waits counted as the device's, its work not; a
 * refusal and lies (a negative wait, more waiting than the answer took, a wait past the bound)
 * that end the activation with the agent's words; and a VM whose agent cannot be reached. On an sriov pool (a fixture host,
 * netlink replaced by a recorder): the VF gets the VM's MAC through its PF once the guest has
 * made it active, not at the start, and not when the guest refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon/state_file.h"
#include "host/vf_pool.h"
#include "host/vf_steering.h"
#include "host/vm.h"
#include "host_fixture.h"
#include "migration/vf_activate.h"
#include "test.h"

static uv_loop_t loop;
static char tmp[] = "/tmp/test-vf-activate.XXXXXX";
static host_daemon d;
static vm *v;

/* What the activation reported. */
static struct {
	bool done;
	int error;
	char message[512];
	uint64_t device_wait_ms, request_sent_ms;
	bool vf_absent_at_request;
} seen;

static void on_done(int error, const char *message, const vf_activate_wait *wait, void *userdata)
{
	seen.done = true;
	seen.error = error;
	snprintf(seen.message, sizeof(seen.message), "%s", message ? message : "");
	seen.device_wait_ms = wait->device_ms;
	seen.request_sent_ms = wait->request_sent_ms;
	seen.vf_absent_at_request = wait->vf_absent_at_request;
}

/* --- the scripted agent: the test's end of the socketpair --- */

static int agent_fd = -1;
static char abuf[65536];
static size_t alen;

/* The next request (after any 0xFF sync bytes), the loop running meanwhile. */
static json_object *agent_recv(void)
{
	for (int i = 0; i < 10000; i++) {
		char *nl = memchr(abuf, '\n', alen);
		struct pollfd p = { .fd = agent_fd, .events = POLLIN };
		ssize_t n;

		if (nl) {
			size_t start = 0, len = (size_t)(nl - abuf);
			json_object *o;

			while (start < len && (unsigned char)abuf[start] == 0xFF)
				start++;
			*nl = '\0';
			o = json_tokener_parse(abuf + start);
			memmove(abuf, nl + 1, alen - len - 1);
			alen -= len + 1;
			ASSERT_TRUE(o);
			return o;
		}
		uv_run(&loop, UV_RUN_NOWAIT);
		n = read(agent_fd, abuf + alen, sizeof(abuf) - alen);
		if (n > 0)
			alen += (size_t)n;
		else
			poll(&p, 1, 1);
	}
	TEST_FAIL("no request from the daemon within 10 s");
}

static void agent_send(const char *s)
{
	ASSERT_EQ(write(agent_fd, s, strlen(s)), (ssize_t)strlen(s));
}

/*
 * Expect request cmd, check one of its arguments if asked, and answer with tail (the reply after
 * its id, REPLY() or ERROR()); a sync's answer starts with its 0xFF byte.
 */
static void agent_answer(const char *cmd, const char *arg, const char *arg_value, const char *tail)
{
	json_object *o = agent_recv(), *args = NULL;
	char out[2048];

	ASSERT_STREQ(json_object_get_string(json_object_object_get(o, "cmd")), cmd);
	if (arg) {
		ASSERT_TRUE(json_object_object_get_ex(o, "args", &args));
		ASSERT_STREQ(json_object_get_string(json_object_object_get(args, arg)), arg_value);
	}
	snprintf(out, sizeof(out), "%s{\"id\":%lld,%s", strcmp(cmd, "sync") ? "" : "\xff",
		 (long long)json_object_get_int64(json_object_object_get(o, "id")), tail);
	json_object_put(o);
	agent_send(out);
}

#define REPLY(ret) "\"return\":" ret "}\n"
#define ERROR(code, message) "\"error\":{\"code\":\"" code "\",\"message\":\"" message "\"}}\n"
#define ACTIVATED(device, carrier, took)                                                          \
	REPLY("{\"bond\":\"bond0\",\"ifname\":\"eth1\",\"previous\":\"eth0\",\"device-ms\":" device \
	      ",\"carrier-ms\":" carrier ",\"took-ms\":" took "}")
#define ANNOUNCED REPLY("{\"bond\":\"bond0\",\"ifname\":\"eth1\",\"arp\":1,\"na\":0}")

static void agent_handshake(void)
{
	agent_answer("sync", NULL, NULL, REPLY("{}"));
	agent_answer("hello", NULL, NULL,
		     REPLY("{\"version\":1,\"agent\":\"scripted\",\"commands\":[\"bond-activate-vf\","
			   "\"announce\"],\"events\":[\"vf-added\",\"link-up\"],"
			   "\"max-message\":16384}"));
}

static void run_until_done(void)
{
	for (int i = 0; i < 10000 && !seen.done; i++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		if (!seen.done)
			usleep(1000);
	}
	ASSERT_TRUE(seen.done);
}

#define VM1_SPEC                                                                                   \
	"{\"name\": \"vm1\", \"memory_mib\": 256, \"mac\": \"52:54:00:12:34:56\","                    \
	" \"passthrough\": {\"type\": \"emulated\"}, \"boot\": {\"kernel\": \"/boot/vmlinuz\"}}"

/* hostA's daemon with vm1, whose agent is the scripted one (connect: false for none). */
static void setup(bool connect)
{
	_cleanup_free_ char *config_path = NULL, *config = NULL, *error = NULL;
	_cleanup_free_ char *run = NULL, *state = NULL;
	vm_spec *spec;
	FILE *f;
	int sv[2];

	memset(&seen, 0, sizeof(seen));
	alen = 0;
	ASSERT_OK(uv_loop_init(&loop));
	ASSERT_TRUE(asprintf(&run, "%s/run", tmp) > 0 && asprintf(&state, "%s/state", tmp) > 0);
	ASSERT_TRUE(asprintf(&config,
			     "{\"name\": \"hostA\", \"control_socket\": \"%s/ctl.sock\","
			     " \"peer_socket\": \"%s/peer.sock\", \"state_dir\": \"%s\", \"run_dir\": \"%s\","
			     " \"migration_address\": \"127.0.0.1\", \"passthrough\": {\"type\": \"emulated\", \"slots\": 1}}",
			     tmp, tmp, state, run) > 0);
	ASSERT_TRUE(asprintf(&config_path, "%s/dmigrated.json", tmp) > 0);
	ASSERT_TRUE((f = fopen(config_path, "we")) != NULL);
	fputs(config, f);
	ASSERT_OK(fclose(f));

	d = (host_daemon){ .loop = &loop, .control.fd = -1, .peer.fd = -1 };
	ASSERT_OK(host_config_load(config_path, &d.config, &error));
	ASSERT_OK(state_dir_create(state));
	ASSERT_OK(state_dir_create(run));
	ASSERT_OK(vm_spec_parse(VM1_SPEC, strlen(VM1_SPEC), "vm1.json", "/", &spec, &error));
	ASSERT_OK(vm_new(&d, spec, &v));
	if (!connect)
		return;
	ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	agent_fd = sv[0];
	ASSERT_OK(fcntl(agent_fd, F_SETFL, O_NONBLOCK));
	ASSERT_OK(vm_agent_open_fd(v, sv[1]));
	agent_client_set_sync_timeout(vm_agent(v), 1000);
}

static void teardown(void)
{
	while (d.vms)
		vm_forget(d.vms);
	v = NULL;
	if (agent_fd >= 0)
		close(agent_fd);
	agent_fd = -1;
	uv_run(&loop, UV_RUN_DEFAULT);
	ASSERT_OK(uv_loop_close(&loop));
	host_config_free(d.config);
}

/* The agent waits itself, up to agent_timeout_ms: the daemon sends nothing else meanwhile. */
TEST(one_request_and_the_agents_waits_are_the_devices)
{
	json_object *o, *args;
	char out[512];

	setup(true);
	ASSERT_OK(vf_activate_start(&d, "vm1", on_done, NULL));
	agent_handshake();
	o = agent_recv();
	ASSERT_STREQ(json_object_get_string(json_object_object_get(o, "cmd")), "bond-activate-vf");
	ASSERT_TRUE(json_object_object_get_ex(o, "args", &args));
	ASSERT_EQ(json_object_get_int64(json_object_object_get(args, "timeout-ms")), (int64_t)d.config->agent_timeout_ms);
	/* The guest's events while it works are not the daemon's business any more. */
	agent_send("{\"event\":\"vf-added\",\"data\":{\"ifname\":\"eth1\",\"driver\":\"e1000e\","
		   "\"mac\":\"52:54:00:12:34:56\"}}\n");
	agent_send("{\"event\":\"link-up\",\"data\":{\"ifname\":\"eth1\",\"role\":\"vf\"}}\n");
	snprintf(out, sizeof(out), "{\"id\":%lld,%s",
		 (long long)json_object_get_int64(json_object_object_get(o, "id")), ACTIVATED("394", "1276", "1700"));
	json_object_put(o);
	agent_send(out);
	agent_answer("announce", NULL, NULL, ANNOUNCED);
	run_until_done();
	ASSERT_EQ(seen.error, 0);
	/* 394 ms for the VF to appear and 1276 for its carrier; the other 30 ms were the agent's. */
	ASSERT_EQ(seen.device_wait_ms, 394 + 1276);
	/* It waited for the VF: none was there as the request reached it. */
	ASSERT_TRUE(seen.vf_absent_at_request);
	teardown();
}

/*
 * A request made before the agent link is ready goes out once the handshake is answered: when it
 * went out is what the destination counts from (migration_dest.c's active_take()), not when it
 * was made. An agent that found the VF there at once (device-ms 0) says the VF was not absent.
 */
TEST(the_request_is_timed_from_its_going_out)
{
	uint64_t made;

	setup(true);
	uv_update_time(&loop);
	made = uv_now(&loop);
	ASSERT_OK(vf_activate_start(&d, "vm1", on_done, NULL));
	usleep(60 * 1000); /* the guest answers the handshake late */
	agent_handshake();
	agent_answer("bond-activate-vf", NULL, NULL, ACTIVATED("0", "20", "25"));
	agent_answer("announce", NULL, NULL, ANNOUNCED);
	run_until_done();
	ASSERT_EQ(seen.error, 0);
	ASSERT_TRUE(seen.request_sent_ms >= made + 60);
	ASSERT_TRUE(seen.request_sent_ms <= uv_now(&loop));
	ASSERT_TRUE(!seen.vf_absent_at_request);
	ASSERT_EQ(seen.device_wait_ms, 20);
	teardown();
}

/*
 * A NIC slower than the agent's wait: asked again when no VF appeared. An instant "not-found"
 * counts only the time its answer took as the device's, not the whole wait it claims.
 */
TEST(a_slow_nic_is_asked_for_again)
{
	setup(true);
	ASSERT_OK(vf_activate_start(&d, "vm1", on_done, NULL));
	agent_handshake();
	agent_answer("bond-activate-vf", NULL, NULL, ERROR("not-found", "No VF appeared for 'bond0'"));
	agent_answer("bond-activate-vf", NULL, NULL, ACTIVATED("10", "20", "40"));
	agent_answer("announce", NULL, NULL, ANNOUNCED);
	run_until_done();
	ASSERT_EQ(seen.error, 0);
	ASSERT_TRUE(seen.device_wait_ms >= 30 && seen.device_wait_ms < 30 + 500);
	/* An instant not-found (a VF that went away) says nothing of a VF absent on receipt;
	 * one after the agent's whole wait does (the_request_is_timed_from_its_going_out). */
	ASSERT_TRUE(!seen.vf_absent_at_request);
	teardown();
}

/* A not-found after the agent's whole wait: no VF was there as the request reached it. */
TEST(a_not_found_after_the_whole_wait_is_an_absent_vf)
{
	json_object *o;
	char out[512];

	setup(true);
	d.config->agent_timeout_ms = 100;
	ASSERT_OK(vf_activate_start(&d, "vm1", on_done, NULL));
	agent_handshake();
	o = agent_recv();
	usleep(130 * 1000); /* the agent's whole wait, and no VF */
	snprintf(out, sizeof(out), "{\"id\":%lld,%s",
		 (long long)json_object_get_int64(json_object_object_get(o, "id")),
		 ERROR("not-found", "No VF appeared for 'bond0'"));
	json_object_put(o);
	agent_send(out);
	agent_answer("bond-activate-vf", NULL, NULL, ACTIVATED("0", "20", "25"));
	agent_answer("announce", NULL, NULL, ANNOUNCED);
	run_until_done();
	ASSERT_EQ(seen.error, 0);
	ASSERT_TRUE(seen.vf_absent_at_request);
	/* The first request's wait, no more than the agent's bound, and the second's carrier. */
	ASSERT_EQ(seen.device_wait_ms, 100 + 20);
	teardown();
}

TEST(a_refusal_ends_it_with_the_agents_words)
{
	setup(true);
	ASSERT_OK(vf_activate_start(&d, "vm1", on_done, NULL));
	agent_handshake();
	/* A VF without a link is not asked for again. */
	agent_answer("bond-activate-vf", NULL, NULL, ERROR("timeout", "'eth1' is enslaved to 'bond0' but has no carrier"));
	run_until_done();
	ASSERT_ERRNO(seen.error, ETIMEDOUT);
	ASSERT_STREQ(seen.message, "guest agent: 'eth1' is enslaved to 'bond0' but has no carrier");
	teardown();
}

/* Waits the guest makes up would be taken off our own overhead: each lie ends the activation. */
TEST(lies_end_it)
{
	static const char *const lies[][2] = {
		{ ACTIVATED("-5", "0", "10"), "-5" },
		{ ACTIVATED("10", "20", "25"), "took 25 ms" },
		{ ACTIVATED("0", "99999", "99999"), "99999" },
		{ REPLY("{\"bond\":\"bond0\",\"ifname\":\"eth1\",\"previous\":\"eth0\",\"device-ms\":1,"
			"\"carrier-ms\":\"2\",\"took-ms\":3}"), "'carrier-ms' is not a number" },
		{ REPLY("{\"bond\":\"bond0\",\"ifname\":\"eth1/x\",\"previous\":null,\"device-ms\":1,"
			"\"carrier-ms\":2,\"took-ms\":3}"), "'ifname'" },
		{ REPLY("{\"bond\":\"bond0\",\"ifname\":\"eth1\",\"device-ms\":1,"
			"\"carrier-ms\":2,\"took-ms\":3}"), "no 'previous'" },
	};

	for (size_t i = 0; i < ELEMENTSOF(lies); i++) {
		setup(true);
		ASSERT_OK(vf_activate_start(&d, "vm1", on_done, NULL));
		agent_handshake();
		agent_answer("bond-activate-vf", NULL, NULL, lies[i][0]);
		run_until_done();
		ASSERT_TRUE(seen.error < 0);
		ASSERT_TRUE(strstr(seen.message, "guest agent: ") == seen.message);
		if (!strstr(seen.message, lies[i][1]))
			TEST_FAIL("lie %zu: '%s' does not say '%s'", i, seen.message, lies[i][1]);
		ASSERT_EQ(seen.device_wait_ms, 0);
		/* Nor is a lie's word taken for the VF's absence. */
		ASSERT_TRUE(!seen.vf_absent_at_request);
		teardown();
	}
}

TEST(no_agent_to_ask)
{
	setup(false);
	/* No QEMU, so no agent socket: it ends at once. */
	ASSERT_OK(vf_activate_start(&d, "vm1", on_done, NULL));
	ASSERT_TRUE(seen.done);
	ASSERT_ERRNO(seen.error, ENOTCONN);
	ASSERT_STREQ(seen.message, "the guest agent cannot be reached");
	teardown();
}

/* What vf_steering sent to the PF and the bridge, in order. */
static struct {
	char calls[8][96];
	int n;
} sent;

static int record_vf_change(void *userdata, int pf_ifindex, unsigned vf, const vf_change *c)
{
	snprintf(sent.calls[sent.n++], sizeof(sent.calls[0]), "vf %u mac=%s%02x", vf,
		 c->set_mac ? "" : "-", c->set_mac ? c->mac[5] : 0);
	return 0;
}

static int record_fdb(void *userdata, int port_ifindex, const uint8_t mac[6], bool add)
{
	snprintf(sent.calls[sent.n++], sizeof(sent.calls[0]), "fdb %s", add ? "add" : "del");
	return 0;
}

TEST(the_vf_gets_the_mac_once_the_guest_made_it_active)
{
	static const vf_steering_ops recorder = { .vf_change = record_vf_change,
						   .fdb = record_fdb };
	host_fixture fx;
	host_config *loaded, sriov;
	_cleanup_free_ char *error = NULL;
	const char *vf;

	setup(true);
	/* hostA's config with an sriov pool of a fixture PF: vm1 holds its VF 0. */
	fx_init(&fx);
	fx.vf_driver = NULL;
	fx_pf(&fx, "0000:07:00.1", "enp7s0f1", 7);
	loaded = d.config;
	sriov = *loaded;
	sriov.system_root = fx.root;
	sriov.passthrough = PASSTHROUGH_SRIOV;
	sriov.sriov = (sriov_config){ .pf = "enp7s0f1", .vfs = 1,
				      .settings = { .spoofchk = true, .link_state = VF_LINK_AUTO } };
	sriov.n_vfs = 1;
	d.config = &sriov;
	ASSERT_OK(vf_pool_open(&sriov, &fx.fs, &d.pool, &error));
	ASSERT_OK(vf_pool_reserve(d.pool, "vm1", &vf));
	ASSERT_OK(vm_hold_vf(v, vf));
	memset(&sent, 0, sizeof(sent));
	vf_steering_set_ops(&recorder);

	ASSERT_OK(vf_activate_start(&d, "vm1", on_done, NULL));
	agent_handshake();
	/*
	 * While the guest probes it, the NIC must go on sending the VM's frames to the standby: the
	 * MAC comes with the agent's answer that the VF is the active slave, once.
	 */
	agent_answer("bond-activate-vf", NULL, NULL, ACTIVATED("400", "2000", "2410"));
	agent_answer("announce", NULL, NULL, ANNOUNCED);
	ASSERT_EQ(sent.n, 1);
	ASSERT_STREQ(sent.calls[0], "vf 0 mac=56");
	run_until_done();
	ASSERT_EQ(seen.error, 0);
	ASSERT_EQ(sent.n, 1);

	/* An activation the guest refuses: no MAC given. */
	memset(&seen, 0, sizeof(seen));
	sent.n = 0;
	ASSERT_OK(vf_activate_start(&d, "vm1", on_done, NULL));
	agent_answer("bond-activate-vf", NULL, NULL, ERROR("unavailable", "bond0 does not exist"));
	run_until_done();
	ASSERT_TRUE(seen.error < 0);
	ASSERT_EQ(sent.n, 0);

	vf_steering_set_ops(NULL);
	vf_pool_release(d.pool, vm_get_vf(v), "vm1");
	vm_drop_vf(v);
	vf_pool_free(d.pool);
	d.pool = NULL;
	d.config = loaded;
	teardown();
	fx_cleanup(&fx);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	ASSERT_TRUE(mkdtemp(tmp) != NULL);
	RUN_TEST(one_request_and_the_agents_waits_are_the_devices);
	RUN_TEST(the_request_is_timed_from_its_going_out);
	RUN_TEST(a_slow_nic_is_asked_for_again);
	RUN_TEST(a_not_found_after_the_whole_wait_is_an_absent_vf);
	RUN_TEST(a_refusal_ends_it_with_the_agents_words);
	RUN_TEST(lies_end_it);
	RUN_TEST(no_agent_to_ask);
	RUN_TEST(the_vf_gets_the_mac_once_the_guest_made_it_active);
	/* What the daemon wrote under tmp (mkdtemp's name: no shell metacharacters). */
	char rm[64];

	snprintf(rm, sizeof(rm), "rm -rf %s", tmp);
	ASSERT_EQ(system(rm), 0);
	return 0;
}
