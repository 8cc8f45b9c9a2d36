// SPDX-License-Identifier: GPL-2.0-or-later
/* The QMP client against the scripted mock QEMU (mock_qmp.h), all on one loop. */
#include "transport/qmp_client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "macro.h"
#include "mock_qmp.h"
#include "test.h"

#define WAIT_MS 5000

/* What the client's callbacks saw, in order, as one readable trace: "ready reply:0 event:STOP". */
typedef struct trace {
	qmp_client *client;
	char log[4096];
	bool ready, disconnected;
	int disconnect_error, disconnects;
	int replies_at_disconnect;
	int replies;
	bool close_on_reply, close_on_event, close_on_ready, close_on_disconnect;
	int close_after_replies; /* with close_on_reply: close at this reply count */
} trace;

typedef struct reply {
	trace *t;
	bool done;
	int calls, error;
	char ret[256], error_class[64], error_desc[128];
} reply;

static void trace_add(trace *t, const char *fmt, ...) _printf_(2, 3);
static void trace_add(trace *t, const char *fmt, ...)
{
	size_t len = strlen(t->log);
	va_list ap;

	if (len > 0 && len < sizeof(t->log) - 1)
		t->log[len++] = ' ';
	va_start(ap, fmt);
	vsnprintf(t->log + len, sizeof(t->log) - len, fmt, ap);
	va_end(ap);
}

static void on_ready(qmp_client *c, void *userdata)
{
	trace *t = userdata;

	ASSERT_TRUE(c == t->client);
	ASSERT_TRUE(qmp_client_is_ready(c));
	t->ready = true;
	trace_add(t, "ready");
	if (t->close_on_ready)
		qmp_client_close(c);
}

static void on_event(qmp_client *c, const char *name, json_object *data, json_object *timestamp,
		     void *userdata)
{
	trace *t = userdata;

	trace_add(t, "event:%s%s", name, data ? json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN) : "");
	/* Events from the mock always carry a timestamp, QEMU's way. */
	ASSERT_TRUE(json_object_is_type(timestamp, json_type_object));
	if (t->close_on_event)
		qmp_client_close(c);
}

static void on_disconnected(qmp_client *c, int error, void *userdata)
{
	trace *t = userdata;

	t->disconnected = true;
	t->disconnects++;
	t->disconnect_error = error;
	t->replies_at_disconnect = t->replies;
	trace_add(t, "disconnected:%d", error);
	if (t->close_on_disconnect)
		qmp_client_close(c);
}

static const qmp_client_callbacks callbacks = {
	.ready = on_ready,
	.event = on_event,
	.disconnected = on_disconnected,
};

static void on_reply(qmp_client *c, int error, json_object *ret, const char *error_class,
		     const char *error_desc, void *userdata)
{
	reply *r = userdata;
	trace *t = r->t;

	r->calls++;
	r->done = true;
	r->error = error;
	t->replies++;
	if (error == 0) {
		ASSERT_TRUE(ret != NULL);
		ASSERT_TRUE(!error_class && !error_desc);
		snprintf(r->ret, sizeof(r->ret), "%s", json_object_to_json_string_ext(ret, JSON_C_TO_STRING_PLAIN));
	} else if (error == -EREMOTEIO) {
		ASSERT_TRUE(!ret && error_class && error_desc);
		snprintf(r->error_class, sizeof(r->error_class), "%s", error_class);
		snprintf(r->error_desc, sizeof(r->error_desc), "%s", error_desc);
	} else {
		ASSERT_TRUE(!ret && !error_class && !error_desc);
	}
	trace_add(t, "reply:%d", error);
	if (t->close_on_reply && t->replies == t->close_after_replies)
		qmp_client_close(c);
}

typedef struct fixture {
	uv_loop_t loop;
	mock_qmp *mock;
	trace t;
} fixture;

static void fixture_open(fixture *f)
{
	int fd;

	memset(f, 0, sizeof(*f));
	ASSERT_OK(uv_loop_init(&f->loop));
	ASSERT_OK(mock_qmp_new(&f->loop, &f->mock, &fd));
	ASSERT_OK(qmp_client_open_fd(&f->loop, fd, &callbacks, &f->t, &f->t.client));
}

/* Closes what is left, checks the script was played, and that nothing leaked on the loop. */
static void fixture_close(fixture *f, bool close_client)
{
	if (close_client)
		qmp_client_close(f->t.client);
	mock_qmp_free(f->mock);
	ASSERT_OK(uv_run(&f->loop, UV_RUN_DEFAULT));
	ASSERT_OK(uv_loop_close(&f->loop));
}

static void run_until(fixture *f, const bool *flag)
{
	mock_qmp_run_until(&f->loop, flag, WAIT_MS);
}

static void execute(fixture *f, const char *cmd, json_object *args, uint64_t timeout_ms, reply *r)
{
	memset(r, 0, sizeof(*r));
	r->t = &f->t;
	ASSERT_OK(qmp_client_execute(f->t.client, cmd, args, timeout_ms, on_reply, r));
}

TEST(handshake_and_version)
{
	fixture f;
	unsigned major, minor, micro;
	qmp_client_stats st;

	fixture_open(&f);
	ASSERT_ERRNO(qmp_client_get_version(f.t.client, &major, &minor, &micro), ENODATA);
	ASSERT_TRUE(!qmp_client_is_ready(f.t.client));
	mock_qmp_handshake(f.mock);
	run_until(&f, &f.t.ready);
	ASSERT_OK(qmp_client_get_version(f.t.client, &major, &minor, &micro));
	ASSERT_EQ(major, 7);
	ASSERT_EQ(minor, 2);
	ASSERT_EQ(micro, 0);
	ASSERT_EQ(mock_qmp_commands_received(f.mock), 1);
	qmp_client_get_stats(f.t.client, &st);
	ASSERT_EQ(st.ignored, 0);
	ASSERT_EQ(st.replies, 1);
	ASSERT_STREQ(f.t.log, "ready");
	fixture_close(&f, true);
}

TEST(execute_ok_and_error)
{
	fixture f;
	reply a, b;

	fixture_open(&f);
	mock_qmp_handshake(f.mock);
	mock_qmp_expect(f.mock, "query-status", "{}");
	mock_qmp_reply(f.mock, "{\"status\": \"running\", \"singlestep\": false, \"running\": true}");
	mock_qmp_expect(f.mock, "device_del", "{\"id\": \"vf0\"}");
	mock_qmp_reply_error(f.mock, "DeviceNotFound", "Device 'vf0' not found");
	run_until(&f, &f.t.ready);

	execute(&f, "query-status", NULL, 1000, &a);
	execute(&f, "device_del", qmp_args_new("id", "vf0", NULL), 1000, &b);
	run_until(&f, &b.done);
	ASSERT_EQ(a.calls, 1);
	ASSERT_EQ(a.error, 0);
	ASSERT_STREQ(a.ret, "{\"status\":\"running\",\"singlestep\":false,\"running\":true}");
	ASSERT_EQ(b.calls, 1);
	ASSERT_ERRNO(b.error, EREMOTEIO);
	ASSERT_STREQ(b.error_class, "DeviceNotFound");
	ASSERT_STREQ(b.error_desc, "Device 'vf0' not found");
	ASSERT_STREQ(f.t.log, "ready reply:0 reply:-121");
	fixture_close(&f, true);
}

/* Commands issued before the handshake wait for it, and go out in order after qmp_capabilities. */
TEST(queued_before_ready)
{
	fixture f;
	reply a, b;

	fixture_open(&f);
	execute(&f, "stop", NULL, 1000, &a);
	execute(&f, "cont", NULL, 1000, &b);
	mock_qmp_handshake(f.mock);
	mock_qmp_expect(f.mock, "stop", NULL);
	mock_qmp_reply(f.mock, "{}");
	mock_qmp_expect(f.mock, "cont", NULL);
	mock_qmp_reply(f.mock, "{}");
	run_until(&f, &b.done);
	ASSERT_EQ(a.error, 0);
	ASSERT_EQ(b.error, 0);
	ASSERT_STREQ(f.t.log, "ready reply:0 reply:0");
	fixture_close(&f, true);
}

/* Replies are matched by id, not by order; a reply to an id nobody waits for is dropped. */
TEST(replies_matched_by_id)
{
	fixture f;
	reply a, b;
	qmp_client_stats st;

	fixture_open(&f);
	mock_qmp_handshake(f.mock);
	run_until(&f, &f.t.ready);
	/* qmp_capabilities took id 1, so these are 2 and 3. */
	execute(&f, "query-name", NULL, 1000, &a);
	execute(&f, "query-uuid", NULL, 1000, &b);
	mock_qmp_expect(f.mock, "query-name", NULL);
	mock_qmp_expect(f.mock, "query-uuid", NULL);
	mock_qmp_send(f.mock, "{\"return\": {\"UUID\": \"u\"}, \"id\": 3}\n"
			      "{\"return\": {\"name\": \"x\"}, \"id\": 77}\n"
			      "{\"return\": {\"name\": \"vm1\"}, \"id\": 2}\n");
	run_until(&f, &a.done);
	ASSERT_STREQ(b.ret, "{\"UUID\":\"u\"}");
	ASSERT_STREQ(a.ret, "{\"name\":\"vm1\"}");
	ASSERT_STREQ(f.t.log, "ready reply:0 reply:0");
	qmp_client_get_stats(f.t.client, &st);
	ASSERT_EQ(st.ignored, 1);
	ASSERT_EQ(st.replies, 3);
	fixture_close(&f, true);
}

TEST(events_interleaved_in_order)
{
	fixture f;
	reply a, b;
	qmp_client_stats st;

	fixture_open(&f);
	mock_qmp_handshake(f.mock);
	mock_qmp_event(f.mock, "RESUME", NULL);
	mock_qmp_expect(f.mock, "device_del", "{\"id\": \"vf0\"}");
	mock_qmp_event(f.mock, "STOP", NULL);
	mock_qmp_reply(f.mock, "{}");
	mock_qmp_event(f.mock, "DEVICE_DELETED", "{\"device\": \"vf0\"}");
	mock_qmp_expect(f.mock, "query-status", NULL);
	mock_qmp_reply(f.mock, "{}");
	execute(&f, "device_del", qmp_args_new("id", "vf0", NULL), 1000, &a);
	execute(&f, "query-status", NULL, 1000, &b);
	run_until(&f, &b.done);
	ASSERT_STREQ(f.t.log, "ready event:RESUME event:STOP reply:0 "
			      "event:DEVICE_DELETED{\"device\":\"vf0\"} reply:0");
	qmp_client_get_stats(f.t.client, &st);
	ASSERT_EQ(st.events, 3);
	fixture_close(&f, true);
}

/* Everything the mock sends arrives one byte per read. */
TEST(byte_by_byte)
{
	fixture f;
	reply a;
	qmp_client_stats st;

	fixture_open(&f);
	mock_qmp_set_write_chunk(f.mock, 1);
	mock_qmp_handshake(f.mock);
	mock_qmp_expect(f.mock, "query-status", NULL);
	mock_qmp_event(f.mock, "STOP", NULL);
	mock_qmp_reply(f.mock, "{\"status\": \"paused\", \"running\": false}");
	execute(&f, "query-status", NULL, 5000, &a);
	run_until(&f, &a.done);
	ASSERT_EQ(a.error, 0);
	ASSERT_STREQ(a.ret, "{\"status\":\"paused\",\"running\":false}");
	ASSERT_STREQ(f.t.log, "ready event:STOP reply:0");
	qmp_client_get_stats(f.t.client, &st);
	ASSERT_EQ(st.ignored, 0);
	fixture_close(&f, true);
}

static char *line_of_size(size_t total)
{
	/* {"return": {"s": "xxx..."}, "id": 2}\n with the string filling up to total bytes. */
	static const char head[] = "{\"return\": {\"s\": \"", tail[] = "\"}, \"id\": 2}";
	char *line = malloc(total + 2);

	ASSERT_TRUE(line && total > sizeof(head) + sizeof(tail));
	memcpy(line, head, sizeof(head) - 1);
	memset(line + sizeof(head) - 1, 'x', total - (sizeof(head) - 1) - (sizeof(tail) - 1));
	memcpy(line + total - (sizeof(tail) - 1), tail, sizeof(tail) - 1);
	line[total] = '\n';
	line[total + 1] = '\0';
	return line;
}

/* A reply of exactly the cap is fine; one byte more disconnects with -EMSGSIZE. */
TEST(message_size_cap)
{
	fixture f;
	reply a, b;
	char *fits = line_of_size(QMP_CLIENT_MAX_MESSAGE);
	char *too_big = line_of_size(QMP_CLIENT_MAX_MESSAGE + 1);

	fixture_open(&f);
	mock_qmp_handshake(f.mock);
	run_until(&f, &f.t.ready);
	execute(&f, "query-big", NULL, 5000, &a);
	mock_qmp_expect(f.mock, "query-big", NULL);
	mock_qmp_send(f.mock, fits);
	run_until(&f, &a.done);
	ASSERT_EQ(a.error, 0);
	ASSERT_EQ(strlen(a.ret), sizeof(a.ret) - 1); /* truncated copy of a huge reply */

	execute(&f, "query-bigger", NULL, 5000, &b);
	mock_qmp_expect(f.mock, "query-bigger", NULL);
	mock_qmp_send(f.mock, too_big);
	run_until(&f, &f.t.disconnected);
	ASSERT_ERRNO(f.t.disconnect_error, EMSGSIZE);
	ASSERT_EQ(b.calls, 1);
	ASSERT_ERRNO(b.error, ECONNRESET);
	free(fits);
	free(too_big);
	fixture_close(&f, true);
}

/* Input that QEMU never sends is counted and dropped; the conversation goes on. */
TEST(garbage_is_ignored)
{
	static const char garbage[] = "not json\n"
				      "[1, 2]\n"
				      "42\n"
				      "\"QMP\"\n"
				      "{\"half\": \xff"
				      "{}\n"
				      "{\"return\": {}}\n"
				      "{\"return\": {}, \"id\": \"2\"}\n"
				      "{\"return\": {}, \"id\": 2.0}\n"
				      "{\"return\": {}, \"id\": 99}\n"
				      "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error\"}}\n"
				      "{\"event\": 5}\n"
				      "{\"event\": null, \"data\": {}}\n"
				      "{\"QMP\": {\"version\": {}}}\n"
				      "{\"timestamp\": {}}\n";
	fixture f;
	reply a;
	qmp_client_stats st;

	fixture_open(&f);
	mock_qmp_handshake(f.mock);
	mock_qmp_expect(f.mock, "query-status", NULL);
	mock_qmp_send(f.mock, garbage);
	mock_qmp_reply(f.mock, "{\"status\": \"running\"}");
	execute(&f, "query-status", NULL, 1000, &a);
	run_until(&f, &a.done);
	ASSERT_EQ(a.error, 0);
	ASSERT_TRUE(!f.t.disconnected);
	qmp_client_get_stats(f.t.client, &st);
	/* 15 lines above, and the 0xFF marker: one each. */
	ASSERT_EQ(st.ignored, 15);
	ASSERT_EQ(st.events, 0);
	ASSERT_STREQ(f.t.log, "ready reply:0");
	fixture_close(&f, true);
}

/* A reply to a command we wait for, but malformed: that command fails with -EBADMSG at once. */
TEST(malformed_replies)
{
	static const char *const bodies[] = {
		"{\"error\": 5}",
		"{\"error\": {\"class\": 1, \"desc\": \"x\"}}",
		"{\"error\": {\"class\": \"GenericError\"}}",
		"{\"error\": {\"class\": \"GenericError\", \"desc\": [\"x\"]}}",
		"{\"return\": {}, \"error\": {\"class\": \"GenericError\", \"desc\": \"x\"}}",
		"{\"return\": null}",
	};
	reply r[ELEMENTSOF(bodies)];
	fixture f;

	fixture_open(&f);
	mock_qmp_handshake(f.mock);
	for (size_t i = 0; i < ELEMENTSOF(bodies); i++) {
		execute(&f, "query-status", NULL, 60000, &r[i]);
		mock_qmp_expect(f.mock, "query-status", NULL);
		mock_qmp_reply_json(f.mock, bodies[i]);
	}
	run_until(&f, &r[ELEMENTSOF(bodies) - 1].done);
	for (size_t i = 0; i < ELEMENTSOF(bodies); i++) {
		ASSERT_EQ(r[i].calls, 1);
		ASSERT_ERRNO(r[i].error, EBADMSG);
	}
	ASSERT_TRUE(!f.t.disconnected);
	fixture_close(&f, true);
}

/* A command that gets no answer times out; its late answer is dropped; the next one works. */
TEST(timeout_and_late_reply)
{
	fixture f;
	reply a, b;
	qmp_client_stats st;
	uint64_t start;

	fixture_open(&f);
	mock_qmp_handshake(f.mock);
	run_until(&f, &f.t.ready);
	start = uv_now(&f.loop);
	execute(&f, "migrate_cancel", NULL, 50, &a);
	mock_qmp_expect(f.mock, "migrate_cancel", NULL);
	mock_qmp_delay(f.mock, 300);
	mock_qmp_reply(f.mock, "{}");
	run_until(&f, &a.done);
	/* ETIMEDOUT rather than 0 also says it came before the reply. */
	ASSERT_ERRNO(a.error, ETIMEDOUT);
	ASSERT_TRUE(uv_now(&f.loop) - start >= 50);

	execute(&f, "query-status", NULL, 5000, &b);
	mock_qmp_expect(f.mock, "query-status", NULL);
	mock_qmp_reply(f.mock, "{\"status\": \"running\"}");
	run_until(&f, &b.done);
	ASSERT_EQ(b.error, 0);
	ASSERT_EQ(a.calls, 1);
	qmp_client_get_stats(f.t.client, &st);
	ASSERT_EQ(st.ignored, 1);
	fixture_close(&f, true);
}

/* QEMU dies with three commands in flight: each gets -ECONNRESET once, then disconnected runs. */
TEST(qemu_dies_mid_command)
{
	fixture f;
	reply r[3];

	fixture_open(&f);
	mock_qmp_handshake(f.mock);
	execute(&f, "migrate", qmp_args_new("uri", "unix:/tmp/x", NULL), 5000, &r[0]);
	execute(&f, "query-migrate", NULL, 5000, &r[1]);
	execute(&f, "query-status", NULL, 5000, &r[2]);
	mock_qmp_expect(f.mock, "migrate", "{\"uri\": \"unix:/tmp/x\"}");
	mock_qmp_expect(f.mock, "query-migrate", NULL);
	mock_qmp_expect(f.mock, "query-status", NULL);
	mock_qmp_hangup(f.mock);
	run_until(&f, &f.t.disconnected);
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(r[i].calls, 1);
		ASSERT_ERRNO(r[i].error, ECONNRESET);
	}
	ASSERT_EQ(f.t.replies_at_disconnect, 3);
	ASSERT_ERRNO(f.t.disconnect_error, ECONNRESET);
	ASSERT_STREQ(f.t.log, "ready reply:-104 reply:-104 reply:-104 disconnected:-104");
	ASSERT_ERRNO(qmp_client_execute(f.t.client, "cont", NULL, 1000, on_reply, &r[0]), ENOTCONN);
	ASSERT_TRUE(!qmp_client_is_ready(f.t.client));
	/* Let the loop settle: nothing may run twice. */
	uv_run(&f.loop, UV_RUN_NOWAIT);
	ASSERT_EQ(f.t.disconnects, 1);
	ASSERT_EQ(f.t.replies, 3);
	fixture_close(&f, true);
}

/* Closing from inside a reply callback: the others get -ECANCELED once, nothing else runs. */
TEST(close_from_reply_callback)
{
	fixture f;
	reply r[3];

	fixture_open(&f);
	f.t.close_on_reply = true;
	f.t.close_after_replies = 1;
	mock_qmp_handshake(f.mock);
	for (int i = 0; i < 3; i++) {
		execute(&f, "query-status", NULL, 5000, &r[i]);
		mock_qmp_expect(f.mock, "query-status", NULL);
	}
	/* Two replies and an event, likely in one read: the client must stop at the close. */
	mock_qmp_reply(f.mock, "{}");
	mock_qmp_reply(f.mock, "{}");
	mock_qmp_event(f.mock, "STOP", NULL);
	run_until(&f, &r[0].done);
	ASSERT_EQ(r[0].error, 0);
	for (int i = 1; i < 3; i++) {
		ASSERT_EQ(r[i].calls, 1);
		ASSERT_ERRNO(r[i].error, ECANCELED);
	}
	ASSERT_STREQ(f.t.log, "ready reply:0 reply:-125 reply:-125");
	fixture_close(&f, false);
	ASSERT_EQ(f.t.replies, 3);
	ASSERT_TRUE(!f.t.disconnected);
}

TEST(close_from_event_callback)
{
	fixture f;
	reply a;

	fixture_open(&f);
	f.t.close_on_event = true;
	mock_qmp_handshake(f.mock);
	mock_qmp_expect(f.mock, "query-status", NULL);
	mock_qmp_event(f.mock, "STOP", NULL);
	mock_qmp_reply(f.mock, "{}");
	execute(&f, "query-status", NULL, 5000, &a);
	run_until(&f, &a.done);
	ASSERT_ERRNO(a.error, ECANCELED);
	ASSERT_STREQ(f.t.log, "ready event:STOP reply:-125");
	fixture_close(&f, false);
}

TEST(close_from_ready_and_disconnected)
{
	fixture f;
	reply a;

	/*
	 * In ready, with a command queued: queued commands go out before ready runs (so they keep
	 * their place ahead of whatever ready sends); the close cancels it.
	 */
	fixture_open(&f);
	f.t.close_on_ready = true;
	execute(&f, "query-status", NULL, 5000, &a);
	mock_qmp_handshake(f.mock);
	mock_qmp_expect(f.mock, "query-status", NULL);
	run_until(&f, &a.done);
	ASSERT_ERRNO(a.error, ECANCELED);
	ASSERT_STREQ(f.t.log, "ready reply:-125");
	fixture_close(&f, false);

	/* In disconnected. */
	fixture_open(&f);
	f.t.close_on_disconnect = true;
	mock_qmp_handshake(f.mock);
	mock_qmp_hangup(f.mock);
	run_until(&f, &f.t.disconnected);
	fixture_close(&f, false);
	ASSERT_EQ(f.t.disconnects, 1);
}

TEST(handshake_failures)
{
	fixture f;
	reply a;

	/* Not a greeting first. */
	fixture_open(&f);
	execute(&f, "query-status", NULL, 5000, &a);
	mock_qmp_event(f.mock, "STOP", NULL);
	run_until(&f, &f.t.disconnected);
	ASSERT_ERRNO(f.t.disconnect_error, EPROTO);
	ASSERT_ERRNO(a.error, ECONNRESET);
	ASSERT_STREQ(f.t.log, "reply:-104 disconnected:-71");
	fixture_close(&f, true);

	/* Garbage first. */
	fixture_open(&f);
	mock_qmp_send(f.mock, "SSH-2.0-OpenSSH_9.2\r\n");
	run_until(&f, &f.t.disconnected);
	ASSERT_ERRNO(f.t.disconnect_error, EPROTO);
	fixture_close(&f, true);

	/* A greeting whose "QMP" is not an object. */
	fixture_open(&f);
	mock_qmp_send(f.mock, "{\"QMP\": 1}\n");
	run_until(&f, &f.t.disconnected);
	ASSERT_ERRNO(f.t.disconnect_error, EPROTO);
	fixture_close(&f, true);

	/* qmp_capabilities refused. */
	fixture_open(&f);
	mock_qmp_greet(f.mock);
	mock_qmp_expect(f.mock, "qmp_capabilities", NULL);
	mock_qmp_reply_error(f.mock, "CommandNotFound", "nope");
	run_until(&f, &f.t.disconnected);
	ASSERT_ERRNO(f.t.disconnect_error, EPROTO);
	ASSERT_TRUE(!f.t.ready);
	fixture_close(&f, true);

	/* Silence: the handshake times out; so does a greeting without the capabilities reply. */
	fixture_open(&f);
	qmp_client_set_handshake_timeout(f.t.client, 50);
	run_until(&f, &f.t.disconnected);
	ASSERT_ERRNO(f.t.disconnect_error, ETIMEDOUT);
	fixture_close(&f, true);

	fixture_open(&f);
	qmp_client_set_handshake_timeout(f.t.client, 50);
	mock_qmp_greet(f.mock);
	mock_qmp_expect(f.mock, "qmp_capabilities", NULL);
	run_until(&f, &f.t.disconnected);
	ASSERT_ERRNO(f.t.disconnect_error, ETIMEDOUT);
	fixture_close(&f, true);
}

TEST(limits_and_bad_arguments)
{
	fixture f;
	reply r[QMP_CLIENT_MAX_PENDING + 1];
	json_object *array = json_object_new_array();

	fixture_open(&f);
	ASSERT_ERRNO(qmp_client_execute(f.t.client, "x", NULL, 0, on_reply, &r[0]), EINVAL);
	ASSERT_ERRNO(qmp_client_execute(f.t.client, "", NULL, 10, on_reply, &r[0]), EINVAL);
	ASSERT_ERRNO(qmp_client_execute(f.t.client, "x", NULL, 10, NULL, NULL), EINVAL);
	/* The reference is taken on failure too: ASan's leak check holds us to it. */
	ASSERT_ERRNO(qmp_client_execute(f.t.client, "x", array, 10, on_reply, &r[0]), EINVAL);
	ASSERT_ERRNO(qmp_client_execute(f.t.client, "x", qmp_args_new("s", "v", NULL), 0, on_reply, &r[0]),
		     EINVAL);

	/* A command bigger than the cap is refused before anything is queued. */
	{
		char *huge = malloc(QMP_CLIENT_MAX_MESSAGE);

		ASSERT_TRUE(huge);
		memset(huge, 'x', QMP_CLIENT_MAX_MESSAGE - 1);
		huge[QMP_CLIENT_MAX_MESSAGE - 1] = '\0';
		ASSERT_ERRNO(qmp_client_execute(f.t.client, "x", qmp_args_new("s", huge, NULL), 10,
						on_reply, &r[0]),
			     EMSGSIZE);
		free(huge);
	}

	for (int i = 0; i < QMP_CLIENT_MAX_PENDING; i++)
		execute(&f, "query-status", NULL, 5000, &r[i]);
	ASSERT_ERRNO(qmp_client_execute(f.t.client, "query-status", NULL, 5000, on_reply,
					&r[QMP_CLIENT_MAX_PENDING]),
		     EBUSY);
	qmp_client_close(f.t.client);
	for (int i = 0; i < QMP_CLIENT_MAX_PENDING; i++) {
		ASSERT_EQ(r[i].calls, 1);
		ASSERT_ERRNO(r[i].error, ECANCELED);
	}
	fixture_close(&f, false);
}

TEST(args_helper)
{
	json_object *args = qmp_args_new("driver", "vfio-pci", "host", "0000:01:00.1", "id", "vf0", NULL);

	ASSERT_STREQ(json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN),
		     "{\"driver\":\"vfio-pci\",\"host\":\"0000:01:00.1\",\"id\":\"vf0\"}");
	json_object_put(args);
	/* A key without a value is a caller bug: no object rather than a wrong one. */
	ASSERT_TRUE(qmp_args_new("id", NULL, NULL) == NULL);
}

TEST(connect)
{
	uv_loop_t loop;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[] = "/tmp/test-qmp-XXXXXX", path[sizeof(sa.sun_path)];
	trace t = {0};
	qmp_client *c;
	mock_qmp *m;
	int fd;

	ASSERT_OK(uv_loop_init(&loop));
	ASSERT_TRUE(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/qmp.sock", dir);

	/* No socket yet: QEMU is still starting. */
	ASSERT_ERRNO(qmp_client_connect(&loop, path, &callbacks, &t, &c), ENOENT);

	/* A socket nobody listens on: QEMU died and left it behind. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_OK(fd);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ASSERT_OK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_ERRNO(qmp_client_connect(&loop, path, &callbacks, &t, &c), ECONNREFUSED);
	close(fd);
	unlink(path);

	/* A listening mock. */
	ASSERT_OK(mock_qmp_new_listen(&loop, path, &m));
	mock_qmp_handshake(m);
	ASSERT_OK(qmp_client_connect(&loop, path, &callbacks, &t, &t.client));
	mock_qmp_run_until(&loop, &t.ready, WAIT_MS);
	qmp_client_close(t.client);
	mock_qmp_free(m);
	ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
	ASSERT_OK(uv_loop_close(&loop));
	/* The mock removed its socket. */
	ASSERT_TRUE(access(path, F_OK) < 0 && errno == ENOENT);
	ASSERT_OK(rmdir(dir));
}

int main(void)
{
	RUN_TEST(handshake_and_version);
	RUN_TEST(execute_ok_and_error);
	RUN_TEST(queued_before_ready);
	RUN_TEST(replies_matched_by_id);
	RUN_TEST(events_interleaved_in_order);
	RUN_TEST(byte_by_byte);
	RUN_TEST(message_size_cap);
	RUN_TEST(garbage_is_ignored);
	RUN_TEST(malformed_replies);
	RUN_TEST(timeout_and_late_reply);
	RUN_TEST(qemu_dies_mid_command);
	RUN_TEST(close_from_reply_callback);
	RUN_TEST(close_from_event_callback);
	RUN_TEST(close_from_ready_and_disconnected);
	RUN_TEST(handshake_failures);
	RUN_TEST(limits_and_bad_arguments);
	RUN_TEST(args_helper);
	RUN_TEST(connect);
	return 0;
}
