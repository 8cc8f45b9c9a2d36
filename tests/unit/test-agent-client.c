// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The host-side agent client: against the real agent request loop (fake kernel behind it) over
 * a socketpair, and against a scripted peer that misbehaves: garbage, stale replies, silence,
 * an incompatible version, hanging up.
 */
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent-fake.h"
#include "transport/agent_client.h"
#include "agent_server.h"
#include "test.h"

static uv_loop_t loop;

static struct seen {
	int ready, disconnected, disconnect_error, events;
	char last_event[64];
	int replies, error;
	char code[64], active[16];
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

/* Answer the handshake: stale noise first, then the real answers. */
static void peer_handshake(void)
{
	char line[256];
	int64_t id = peer_expect("sync", true);

	peer_send("garbage that is not json\n{\"id\":1,\"return\":{\"active\":\"stale\"}}\n");
	snprintf(line, sizeof(line), "\xff{\"id\":%lld,\"return\":{}}\n", (long long)id);
	peer_send(line);
	id = peer_expect("hello", false);
	snprintf(line, sizeof(line),
		 "{\"id\":%lld,\"return\":{\"version\":1,\"agent\":\"scripted\",\"commands\":[\"did-status\"],"
		 "\"events\":[],\"max-message\":16384}}\n",
		 (long long)id);
	peer_send(line);
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

TEST(unanswered_sync_is_retried)
{
	agent_client *c = peer_setup();
	int64_t first, second;

	/* A guest still booting: the first sync goes unanswered, the client tries again. */
	first = peer_expect("sync", true);
	second = peer_expect("sync", true);
	ASSERT_TRUE(first != second);
	ASSERT_EQ(seen.ready, 0);
	peer_handshake();
	run_until(&seen.ready, 1);
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
	RUN_TEST(unanswered_sync_is_retried);
	RUN_TEST(incompatible_agent);
	RUN_TEST(hangup_and_close);
	RUN_TEST(connect_errors);
	return 0;
}
