// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The host-side agent client: against the real agent request loop (fake kernel behind it) over
 * a socketpair, and against a scripted peer that misbehaves: garbage, stale replies, silence,
 * an incompatible version, hanging up, and a hostile guest: lies in its answers, floods of
 * events and replies, oversized lines, never reading. The host must bound what it holds, keep
 * its loop responsive and end each call with a clear error.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent-fake.h"
#include "transport/agent_client.h"
#include "transport/agent_reply_check.h"
#include "agent_server.h"
#include "test.h"

static uv_loop_t loop;

static struct seen {
	int ready, disconnected, disconnect_error, events;
	char last_event[64];
	int replies, error;
	char code[64], active[16], message[256];
} seen;

static void on_ready(agent_client *c, void *userdata)
{
	seen.ready++;
}

static void on_event(agent_client *c, const char *event, json_object *data, void *userdata)
{
	seen.events++;
	snprintf(seen.last_event, sizeof(seen.last_event), "%s", event);
}

static void on_disconnected(agent_client *c, int error, void *userdata)
{
	seen.disconnected++;
	seen.disconnect_error = error;
}

static const agent_client_callbacks cbs = {
	.ready = on_ready,
	.event = on_event,
	.disconnected = on_disconnected,
};

static void on_reply(agent_client *c, int error, json_object *ret, const char *code, const char *message,
		     void *userdata)
{
	json_object *v;

	seen.replies++;
	seen.error = error;
	snprintf(seen.code, sizeof(seen.code), "%s", code ?: "");
	snprintf(seen.message, sizeof(seen.message), "%s", message ?: "");
	seen.active[0] = '\0';
	if (ret && json_object_object_get_ex(ret, "active", &v))
		snprintf(seen.active, sizeof(seen.active), "%s", json_object_get_string(v));
	/* A failure always says why; a success never carries an error. */
	ASSERT_TRUE(error == 0 ? ret && !code && !message : !ret);
	if (code)
		ASSERT_TRUE(message && *message);
}

/* Run the loop until *counter reaches want, or fail after 5 s. */
static void run_until(int *counter, int want)
{
	for (int i = 0; i < 5000 && *counter < want; i++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		if (*counter < want)
			usleep(1000);
	}
	ASSERT_EQ(*counter, want);
}

TEST(against_the_agent)
{
	agent_server *server;
	agent_client *c;
	int sv[2];

	memset(&seen, 0, sizeof(seen));
	fake_reset();
	ASSERT_OK(uv_loop_init(&loop));
	ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_OK(agent_server_new(&loop, &fake_backend, &server));
	ASSERT_OK(agent_server_attach_fd(server, sv[0]));
	ASSERT_OK(agent_client_open_fd(&loop, sv[1], &cbs, NULL, &c));
	ASSERT_TRUE(!agent_client_is_ready(c));

	/* Made before the handshake is done: queued, then sent. */
	ASSERT_OK(agent_client_call(c, "bond-status", NULL, 5000, on_reply, NULL));
	run_until(&seen.replies, 1);
	ASSERT_EQ(seen.ready, 1);
	ASSERT_EQ(seen.error, 0);
	ASSERT_STREQ(seen.active, "eth0");
	ASSERT_EQ(agent_client_get_version(c), 1);
	ASSERT_TRUE(!strncmp(agent_client_get_agent(c), "dmigrate-agent ", 15));
	ASSERT_TRUE(agent_client_has_command(c, "did-enable"));
	ASSERT_TRUE(!agent_client_has_command(c, "format-disk"));

	/* Refused before anything is sent. */
	ASSERT_ERRNO(agent_client_call(c, "bond-status", json_tokener_parse("{\"bond\":1}"), 1000, on_reply, NULL),
		     EINVAL);
	ASSERT_ERRNO(agent_client_call(c, "no-such-thing", NULL, 1000, on_reply, NULL), EOPNOTSUPP);
	ASSERT_ERRNO(agent_client_call(c, "sync", NULL, 1000, on_reply, NULL), EINVAL);
	ASSERT_ERRNO(agent_client_call(c, "bond-status", NULL, 0, on_reply, NULL), EINVAL);

	/* The agent's error comes back as errno plus the protocol's code. */
	ASSERT_OK(agent_client_call(c, "bond-set-active", json_tokener_parse("{\"ifname\":\"lo\"}"), 5000, on_reply,
				    NULL));
	run_until(&seen.replies, 2);
	ASSERT_EQ(seen.error, -ENOENT);
	ASSERT_STREQ(seen.code, "not-found");

	ASSERT_OK(agent_client_call(c, "bond-set-active", json_tokener_parse("{\"role\":\"standby\"}"), 5000,
				    on_reply, NULL));
	run_until(&seen.replies, 3);
	ASSERT_EQ(seen.error, 0);
	ASSERT_STREQ(seen.active, "vf0");
	agent_server_links_changed(server);
	run_until(&seen.events, 1);
	ASSERT_STREQ(seen.last_event, "active-changed");

	/* A late resync (after migration, say) keeps the connection working. */
	agent_client_resync(c);
	run_until(&seen.ready, 2);
	ASSERT_OK(agent_client_call(c, "did-status", NULL, 5000, on_reply, NULL));
	run_until(&seen.replies, 4);
	ASSERT_EQ(seen.error, 0);

	agent_client_close(c);
	agent_server_free(server);
	uv_run(&loop, UV_RUN_DEFAULT);
	ASSERT_EQ(seen.disconnected, 0);
	ASSERT_OK(uv_loop_close(&loop));
}

/* The scripted peer's side of the socketpair. */
static int peer = -1;
static agent_client *c_hostile;
static char pbuf[65536];
static size_t plen;

static json_object *peer_recv(unsigned *ret_ff)
{
	unsigned ff = 0;

	for (int i = 0; i < 5000; i++) {
		char *nl = memchr(pbuf, '\n', plen);
		struct pollfd p = { .fd = peer, .events = POLLIN };
		ssize_t n;

		if (nl) {
			size_t start = 0, len = (size_t)(nl - pbuf);
			json_object *o;

			while (start < len && (unsigned char)pbuf[start] == 0xFF) {
				start++;
				ff++;
			}
			*nl = '\0';
			o = json_tokener_parse(pbuf + start);
			memmove(pbuf, nl + 1, plen - len - 1);
			plen -= len + 1;
			ASSERT_TRUE(o);
			if (ret_ff)
				*ret_ff = ff;
			return o;
		}
		uv_run(&loop, UV_RUN_NOWAIT);
		n = read(peer, pbuf + plen, sizeof(pbuf) - plen);
		if (n > 0)
			plen += (size_t)n;
		else
			poll(&p, 1, 1);
	}
	TEST_FAIL("no message from the client within 5 s");
}

static void peer_send(const char *s)
{
	ASSERT_EQ(write(peer, s, strlen(s)), (ssize_t)strlen(s));
}

static int64_t peer_expect(const char *cmd, bool want_ff)
{
	unsigned ff = 0;
	json_object *o = peer_recv(&ff);
	int64_t id;

	ASSERT_STREQ(json_object_get_string(json_object_object_get(o, "cmd")), cmd);
	ASSERT_EQ(ff, want_ff ? 1 : 0);
	id = json_object_get_int64(json_object_object_get(o, "id"));
	json_object_put(o);
	return id;
}

/* Answer a handshake: stale noise first, then the real answers. */
static void peer_answer_handshake(int64_t sync_id, int64_t hello_id)
{
	char line[256];

	peer_send("garbage that is not json\n{\"id\":1,\"return\":{\"active\":\"stale\"}}\n");
	snprintf(line, sizeof(line), "\xff{\"id\":%lld,\"return\":{}}\n", (long long)sync_id);
	peer_send(line);
	snprintf(line, sizeof(line),
		 "{\"id\":%lld,\"return\":{\"version\":1,\"agent\":\"scripted\",\"commands\":[\"did-status\"],"
		 "\"events\":[],\"max-message\":16384}}\n",
		 (long long)hello_id);
	peer_send(line);
}

/* The handshake as the client sends it: hello right behind the sync, before its answer. */
static void peer_handshake(void)
{
	int64_t sync_id = peer_expect("sync", true);
	int64_t hello_id = peer_expect("hello", false);

	peer_answer_handshake(sync_id, hello_id);
}

static agent_client *peer_setup(void)
{
	agent_client *c;
	int sv[2];

	memset(&seen, 0, sizeof(seen));
	plen = 0;
	ASSERT_OK(uv_loop_init(&loop));
	ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	peer = sv[0];
	ASSERT_OK(fcntl(peer, F_SETFL, O_NONBLOCK));
	ASSERT_OK(agent_client_open_fd(&loop, sv[1], &cbs, NULL, &c));
	agent_client_set_sync_timeout(c, 200);
	return c;
}

static void peer_teardown(agent_client *c)
{
	agent_client_close(c);
	close(peer);
	uv_run(&loop, UV_RUN_DEFAULT);
	ASSERT_OK(uv_loop_close(&loop));
}

TEST(silence_times_out_then_resyncs)
{
	agent_client *c = peer_setup();
	char line[128];
	int64_t id;

	peer_handshake();
	run_until(&seen.ready, 1);
	/* The stale reply with id 1 must not have answered anything. */
	ASSERT_EQ(seen.replies, 0);

	ASSERT_OK(agent_client_call(c, "did-status", NULL, 50, on_reply, NULL));
	id = peer_expect("did-status", false);
	ASSERT_EQ(id, 1);
	run_until(&seen.replies, 1);
	ASSERT_EQ(seen.error, -ETIMEDOUT);
	ASSERT_TRUE(!agent_client_is_ready(c));

	/* The timeout made the client resync: 0xFF + a fresh sync, then hello again. */
	peer_handshake();
	run_until(&seen.ready, 2);
	/* The late answer to the timed-out call goes nowhere. */
	snprintf(line, sizeof(line), "{\"id\":%lld,\"return\":{}}\n", (long long)id);
	peer_send(line);
	ASSERT_OK(agent_client_call(c, "did-status", NULL, 5000, on_reply, NULL));
	id = peer_expect("did-status", false);
	snprintf(line, sizeof(line), "{\"id\":%lld,\"error\":{\"code\":\"unavailable\",\"message\":\"no\"}}\n",
		 (long long)id);
	peer_send(line);
	run_until(&seen.replies, 2);
	ASSERT_EQ(seen.error, -ENODEV);
	ASSERT_STREQ(seen.code, "unavailable");
	peer_teardown(c);
}

/* A caller that asks again when its call times out, as the destination's did-on does. */
static agent_client *c_retrying;

static void on_reply_ask_again(agent_client *c, int error, json_object *ret, const char *code,
			       const char *message, void *userdata)
{
	on_reply(c, error, ret, code, message, userdata);
	if (error == -ETIMEDOUT)
		ASSERT_OK(agent_client_call(c_retrying, "did-status", NULL, 5000, on_reply, NULL));
}

TEST(a_call_made_again_on_timeout_waits_for_the_resync)
{
	agent_client *c = peer_setup();
	char line[128];
	int64_t id;

	c_retrying = c;
	peer_handshake();
	run_until(&seen.ready, 1);
	ASSERT_OK(agent_client_call(c, "did-status", NULL, 50, on_reply_ask_again, NULL));
	peer_expect("did-status", false);
	run_until(&seen.replies, 1);
	ASSERT_EQ(seen.error, -ETIMEDOUT);
	/* It went out: a silent agent, told apart from a link that never finished its handshake. */
	ASSERT_STREQ(seen.message, "");
	/*
	 * The sync comes first: had the call made again gone out before it, the agent's answer
	 * would have come back during the sync and been dropped, the call would have timed out,
	 * been made again before the next sync, and so on (a stalled agent held the destination's
	 * did-on for its whole 65 s bound this way).
	 */
	peer_handshake();
	run_until(&seen.ready, 2);
	id = peer_expect("did-status", false);
	snprintf(line, sizeof(line),
		 "{\"id\":%lld,\"error\":{\"code\":\"unavailable\",\"message\":\"no\"}}\n",
		 (long long)id);
	peer_send(line);
	run_until(&seen.replies, 2);
	ASSERT_EQ(seen.error, -ENODEV);
	peer_teardown(c);
}

TEST(unanswered_sync_is_retried)
{
	agent_client *c = peer_setup();
	int64_t first, second;

	/* A guest still booting: the first sync goes unanswered, the client tries again. */
	first = peer_expect("sync", true);
	peer_expect("hello", false);
	second = peer_expect("sync", true);
	ASSERT_TRUE(first != second);
	ASSERT_EQ(seen.ready, 0);
	/* The first handshake's answers, late: they make nothing ready, the next one's do. */
	peer_answer_handshake(first, peer_expect("hello", false));
	peer_handshake();
	run_until(&seen.ready, 1);
	peer_teardown(c);
}

TEST(a_call_that_never_went_out_says_so)
{
	agent_client *c = peer_setup();

	/* The agent answers no sync: the call waits for the handshake and times out unsent. */
	ASSERT_OK(agent_client_call(c, "did-status", NULL, 50, on_reply, NULL));
	peer_expect("sync", true);
	peer_expect("hello", false);
	run_until(&seen.replies, 1);
	ASSERT_EQ(plen, 0);
	ASSERT_EQ(seen.error, -ETIMEDOUT);
	ASSERT_TRUE(strstr(seen.message, "never finished its handshake") != NULL);
	peer_teardown(c);
}

TEST(incompatible_agent)
{
	agent_client *c = peer_setup();
	char line[256];
	int64_t id;

	ASSERT_OK(agent_client_call(c, "did-status", NULL, 5000, on_reply, NULL));
	id = peer_expect("sync", true);
	snprintf(line, sizeof(line), "\xff{\"id\":%lld,\"return\":{}}\n", (long long)id);
	peer_send(line);
	id = peer_expect("hello", false);
	snprintf(line, sizeof(line), "{\"id\":%lld,\"error\":{\"code\":\"incompatible\",\"message\":\"v9 only\"}}\n",
		 (long long)id);
	peer_send(line);
	run_until(&seen.disconnected, 1);
	ASSERT_EQ(seen.disconnect_error, -EPROTONOSUPPORT);
	ASSERT_EQ(seen.replies, 1);
	ASSERT_EQ(seen.error, -ECONNRESET);
	ASSERT_ERRNO(agent_client_call(c, "did-status", NULL, 5000, on_reply, NULL), ENOTCONN);
	peer_teardown(c);
}

TEST(hangup_and_close)
{
	agent_client *c = peer_setup();

	peer_handshake();
	run_until(&seen.ready, 1);
	ASSERT_OK(agent_client_call(c, "did-status", NULL, 5000, on_reply, NULL));
	peer_expect("did-status", false);
	close(peer);
	run_until(&seen.disconnected, 1);
	ASSERT_EQ(seen.disconnect_error, -ECONNRESET);
	ASSERT_EQ(seen.error, -ECONNRESET);
	agent_client_close(c);
	uv_run(&loop, UV_RUN_DEFAULT);
	ASSERT_OK(uv_loop_close(&loop));

	/* Closing with calls pending cancels them, exactly once each. */
	c = peer_setup();
	ASSERT_OK(agent_client_call(c, "did-status", NULL, 5000, on_reply, NULL));
	ASSERT_OK(agent_client_call(c, "did-status", NULL, 5000, on_reply, NULL));
	agent_client_close(c);
	ASSERT_EQ(seen.replies, 2);
	ASSERT_EQ(seen.error, -ECANCELED);
	close(peer);
	uv_run(&loop, UV_RUN_DEFAULT);
	ASSERT_EQ(seen.replies, 2);
	ASSERT_OK(uv_loop_close(&loop));
}

/* Write all of buf to the client, running its loop while the socket is full. */
static void peer_send_all(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(peer, buf, len);

		if (n < 0) {
			ASSERT_TRUE(errno == EAGAIN);
			uv_run(&loop, UV_RUN_NOWAIT);
			continue;
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* Make a call and answer it with success, `ret` as the "return" object. */
static void call_answered(const char *cmd, const char *args, const char *ret)
{
	char line[1024];
	int want = seen.replies + 1;
	int64_t id;

	ASSERT_OK(agent_client_call(c_hostile, cmd, args ? json_tokener_parse(args) : NULL, 5000,
				    on_reply, NULL));
	id = peer_expect(cmd, false);
	snprintf(line, sizeof(line), "{\"id\":%lld,\"return\":%s}\n", (long long)id, ret);
	peer_send(line);
	run_until(&seen.replies, want);
}

/* What preflight refuses and status warns about: the bond's standby, found by its role. */
TEST(bond_slave_with_role)
{
	json_object *b = json_tokener_parse(
		"{\"bond\":\"bond0\",\"slaves\":[{\"ifname\":\"enp1s0\",\"role\":\"vf\"},"
		"{\"ifname\":\"enp0s2\",\"role\":\"standby\"}]}");

	ASSERT_STREQ(agent_bond_slave_with_role(b, "standby"), "enp0s2");
	ASSERT_STREQ(agent_bond_slave_with_role(b, "vf"), "enp1s0");
	json_object_put(b);
	/* networkd's standby .network named an interface the guest lacks: only the VF is in. */
	b = json_tokener_parse("{\"bond\":\"bond0\",\"slaves\":[{\"ifname\":\"enp1s0\",\"role\":\"vf\"}]}");
	ASSERT_TRUE(!agent_bond_slave_with_role(b, "standby"));
	json_object_put(b);
	b = json_tokener_parse("{\"bond\":\"bond0\"}");
	ASSERT_TRUE(!agent_bond_slave_with_role(b, "vf"));
	json_object_put(b);
}

TEST(lies_fail_the_call)
{
	c_hostile = peer_setup();
	peer_handshake();
	run_until(&seen.ready, 1);

	/* An active slave that does not exist. */
	call_answered("bond-status", NULL,
		      "{\"bond\":\"bond0\",\"active\":\"eth9\",\"active-role\":\"vf\","
		      "\"slaves\":[{\"ifname\":\"eth0\",\"role\":\"vf\"},{\"ifname\":\"eth1\",\"role\":\"standby\"}]}");
	ASSERT_EQ(seen.error, -EBADMSG);
	ASSERT_STREQ(seen.message, "bond-status: active slave 'eth9' is not among the slaves of 'bond0'");
	/* An active slave whose role is not the one the list gives it. */
	call_answered("bond-status", NULL,
		      "{\"bond\":\"bond0\",\"active\":\"eth1\",\"active-role\":\"vf\","
		      "\"slaves\":[{\"ifname\":\"eth0\",\"role\":\"vf\"},{\"ifname\":\"eth1\",\"role\":\"standby\"}]}");
	ASSERT_EQ(seen.error, -EBADMSG);
	/* The truth passes. */
	call_answered("bond-status", NULL,
		      "{\"bond\":\"bond0\",\"active\":\"eth1\",\"active-role\":\"standby\","
		      "\"slaves\":[{\"ifname\":\"eth0\",\"role\":\"vf\"},{\"ifname\":\"eth1\",\"role\":\"standby\"}]}");
	ASSERT_EQ(seen.error, 0);
	ASSERT_STREQ(seen.active, "eth1");

	/* Asked for the standby, says it made the VF active. */
	call_answered("bond-set-active", "{\"role\":\"standby\"}",
		      "{\"bond\":\"bond0\",\"active\":\"eth0\",\"role\":\"vf\"}");
	ASSERT_EQ(seen.error, -EBADMSG);
	ASSERT_STREQ(seen.message, "bond-set-active: asked for the standby slave, the agent made 'eth0' (vf) active");
	/* An interface name no kernel gives. */
	call_answered("bond-set-active", "{\"role\":\"standby\"}",
		      "{\"bond\":\"bond0\",\"active\":\"../../x\",\"role\":\"standby\"}");
	ASSERT_EQ(seen.error, -EBADMSG);

	/* A negative wait, one far beyond the timeout asked for, more waiting than the answer took. */
	call_answered("bond-activate-vf", "{\"timeout-ms\":5000}",
		      "{\"bond\":\"bond0\",\"ifname\":\"eth0\",\"previous\":\"eth1\","
		      "\"device-ms\":-5,\"carrier-ms\":0,\"took-ms\":1}");
	ASSERT_EQ(seen.error, -EBADMSG);
	ASSERT_STREQ(seen.message, "bond-activate-vf: 'device-ms' is -5 ms, which is not within 0 to 7000 ms");
	call_answered("bond-activate-vf", "{\"timeout-ms\":5000}",
		      "{\"bond\":\"bond0\",\"ifname\":\"eth0\",\"previous\":null,"
		      "\"device-ms\":0,\"carrier-ms\":9223372036854775807,\"took-ms\":1}");
	ASSERT_EQ(seen.error, -EBADMSG);
	call_answered("bond-activate-vf", NULL,
		      "{\"bond\":\"bond0\",\"ifname\":\"eth0\",\"previous\":null,"
		      "\"device-ms\":600,\"carrier-ms\":500,\"took-ms\":1000}");
	ASSERT_EQ(seen.error, -EBADMSG);
	ASSERT_STREQ(seen.message, "bond-activate-vf: waited 600 + 500 ms in an answer that took 1000 ms");
	/* The truth passes. */
	call_answered("bond-activate-vf", NULL,
		      "{\"bond\":\"bond0\",\"ifname\":\"eth0\",\"previous\":null,"
		      "\"device-ms\":600,\"carrier-ms\":300,\"took-ms\":1000}");
	ASSERT_EQ(seen.error, 0);
	/* Released another slave than the one named. */
	call_answered("bond-release", "{\"ifname\":\"eth1\"}",
		      "{\"bond\":\"bond0\",\"released\":\"eth0\"}");
	ASSERT_EQ(seen.error, -EBADMSG);
	/* A "return" that is no object is no reply at all (agent_message_parse()): the call times out. */
	ASSERT_OK(agent_client_call(c_hostile, "did-status", NULL, 100, on_reply, NULL));
	{
		char line[128];

		snprintf(line, sizeof(line), "{\"id\":%lld,\"return\":[1]}\n",
			 (long long)peer_expect("did-status", false));
		peer_send(line);
	}
	run_until(&seen.replies, 11);
	ASSERT_EQ(seen.error, -ETIMEDOUT);

	/* A lie ends the call, not the connection. */
	ASSERT_EQ(seen.disconnected, 0);
	peer_teardown(c_hostile);
}

TEST(garbage_and_oversized_lines)
{
	static const char noise[] =
		"\n[1,2,3]\n\"text\"\n{\"event\":\"vf-added\",\"data\":[]}\n{\"event\":7}\n"
		"{\"id\":424242,\"return\":{}}\n{\"id\":-1,\"error\":{}}\n";
	size_t big = 4 * 1024 * 1024;
	char *junk = malloc(big);

	c_hostile = peer_setup();
	peer_handshake();
	run_until(&seen.ready, 1);

	/* 4 MiB without a newline: dropped on the way, never held (lines are capped). */
	ASSERT_TRUE(junk != NULL);
	memset(junk, 'x', big);
	peer_send_all(junk, big);
	peer_send_all("\n", 1);
	/* Binary noise, JSON that is no message, events that break the rules, stray replies. */
	for (size_t i = 0; i < big; i++)
		junk[i] = (char)(i * 2654435761u >> 13);
	for (size_t i = 0; i < big; i++)
		if (junk[i] == (char)0xff)
			junk[i] = 'y'; /* a sync byte would only start the line again */
	peer_send_all(junk, 64 * 1024);
	peer_send_all(noise, strlen(noise));
	free(junk);

	/* The client still works: a call made now is answered. */
	call_answered("did-status", NULL, "{\"state\":\"off\"}");
	ASSERT_EQ(seen.error, 0);
	ASSERT_EQ(seen.replies, 1);
	ASSERT_EQ(seen.disconnected, 0);
	peer_teardown(c_hostile);
}

/* Events delivered per turn of the loop: what one flooding guest can make a turn cost. */
static int turn_events_last, turn_events_worst;

static void on_turn(uv_check_t *h)
{
	if (seen.events - turn_events_last > turn_events_worst)
		turn_events_worst = seen.events - turn_events_last;
	turn_events_last = seen.events;
}

TEST(flood_keeps_the_loop_responsive)
{
	/* 168 bytes: two events and a stray reply. */
	static const char flood[] =
		"{\"event\":\"link-up\",\"data\":{\"ifname\":\"eth0\",\"role\":\"vf\"}}\n"
		"{\"id\":999,\"return\":{}}\n"
		"{\"event\":\"active-changed\",\"data\":{\"bond\":\"bond0\",\"active\":\"eth9\"}}\n";
	uv_check_t turn;
	uint64_t start;
	pid_t child;

	c_hostile = peer_setup();
	peer_handshake();
	run_until(&seen.ready, 1);

	/* The guest floods events and stray replies as fast as it can, and answers nothing. */
	child = fork();
	ASSERT_TRUE(child >= 0);
	if (child == 0) {
		for (;;) {
			struct pollfd p = { .fd = peer, .events = POLLOUT };

			if (write(peer, flood, sizeof(flood) - 1) < 0 && errno != EAGAIN)
				_exit(0);
			if (errno == EAGAIN)
				poll(&p, 1, 10);
		}
	}

	turn_events_last = turn_events_worst = 0;
	uv_check_init(&loop, &turn);
	uv_check_start(&turn, on_turn);
	start = uv_hrtime() / 1000000;
	ASSERT_OK(agent_client_call(c_hostile, "did-status", NULL, 500, on_reply, NULL));
	while (seen.replies < 1 && uv_hrtime() / 1000000 - start < 5000)
		uv_run(&loop, UV_RUN_ONCE);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);

	/*
	 * The call ends by its own timeout, and no turn of the loop parsed more than the client's
	 * budget (AGENT_CLIENT_READ_PER_TURN, plus the one buffer that crossed it): every other
	 * handle on the loop gets its turn soon. Reading as libuv would (32 buffers of 4 KiB a
	 * turn) would deliver ~1500 events in one turn.
	 */
	ASSERT_EQ(seen.replies, 1);
	ASSERT_EQ(seen.error, -ETIMEDOUT);
	ASSERT_TRUE(uv_hrtime() / 1000000 - start < 3000);
	ASSERT_TRUE(seen.events > 100);
	ASSERT_TRUE(turn_events_worst <= (8192 + 4096) / 168 * 2 + 2);
	uv_close((uv_handle_t *)&turn, NULL);
	peer_teardown(c_hostile);
}

TEST(an_agent_that_reads_nothing)
{
	int sndbuf = 4096, sv[2], syncs = 0;
	uint64_t start;

	/* A small socket buffer, so that what the client keeps back shows quickly. */
	memset(&seen, 0, sizeof(seen));
	plen = 0;
	ASSERT_OK(uv_loop_init(&loop));
	ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_OK(setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)));
	peer = sv[0];
	ASSERT_OK(fcntl(peer, F_SETFL, O_NONBLOCK));
	ASSERT_OK(agent_client_open_fd(&loop, sv[1], &cbs, NULL, &c_hostile));
	agent_client_set_sync_timeout(c_hostile, 2);

	/* 1 s of unanswered handshakes, one due every 2 ms, none read (as when QEMU holds them
	 * while the guest migrates in). */
	start = uv_hrtime() / 1000000;
	while (uv_hrtime() / 1000000 - start < 1000)
		uv_run(&loop, UV_RUN_ONCE);
	/* Now read everything it wrote (no more retries meanwhile): the first handshake only, a
	 * sync and its hello, since the socket said none of it was read. */
	agent_client_set_sync_timeout(c_hostile, 60000);
	for (int quiet = 0; quiet < 50;) {
		ssize_t n = read(peer, pbuf, sizeof(pbuf));

		if (n > 0) {
			for (ssize_t i = 0; i < n; i++)
				syncs += pbuf[i] == '\n';
			quiet = 0;
		} else {
			uv_run(&loop, UV_RUN_NOWAIT);
			usleep(1000);
			quiet++;
		}
	}
	ASSERT_EQ(syncs, 2);
	peer_teardown(c_hostile);
}

TEST(connect_errors)
{
	agent_client *c;

	ASSERT_OK(uv_loop_init(&loop));
	ASSERT_ERRNO(agent_client_connect(&loop, "/nonexistent/agent.sock", &cbs, NULL, &c), ENOENT);
	ASSERT_OK(uv_loop_close(&loop));
}

int main(void)
{
	RUN_TEST(against_the_agent);
	RUN_TEST(silence_times_out_then_resyncs);
	RUN_TEST(a_call_made_again_on_timeout_waits_for_the_resync);
	RUN_TEST(unanswered_sync_is_retried);
	RUN_TEST(a_call_that_never_went_out_says_so);
	RUN_TEST(incompatible_agent);
	RUN_TEST(hangup_and_close);
	RUN_TEST(bond_slave_with_role);
	RUN_TEST(lies_fail_the_call);
	RUN_TEST(garbage_and_oversized_lines);
	RUN_TEST(flood_keeps_the_loop_responsive);
	RUN_TEST(an_agent_that_reads_nothing);
	RUN_TEST(connect_errors);
	return 0;
}
