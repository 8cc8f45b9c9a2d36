// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The daemon-protocol connection: two rpc_conns on the ends of a socketpair on one loop, or one
 * rpc_conn against a hand-scripted peer (raw bytes on the other end) for what a well-behaved
 * rpc_conn would never send. Every test ends with uv_loop_close() succeeding, so a handle left
 * open is a failure, and LeakSanitizer checks that nothing allocated is left behind.
 */
#include "transport/rpc_conn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control_protocol.h"
#include "macro.h"
#include "test.h"

#define WAIT_MS 5000

/* One end of the connection and everything its callbacks saw, as a readable trace. */
typedef struct side {
	rpc_conn *conn;
	bool gone; /* closed by us, or `closed` ran: conn must not be touched any more */
	bool no_handler;
	int closed, closed_error;
	int requests;
	rpc_request *held[64];
	size_t n_held;
	char log[8192];
} side;

typedef struct call {
	side *s;
	int calls, error;
	bool close_on_reply, close_on_event;
	int call_again_result; /* what rpc_conn_call() returned from inside the reply callback */
	bool call_again; /* once, from the next reply callback */
	char ret[512], code[64], message[256], events[512];
} call;

typedef struct fixture {
	uv_loop_t loop;
	uv_timer_t tick;
	side a, b;
	int raw; /* a's fd when a is scripted by hand, else -1 */
	char rbuf[4096];
	size_t rlen;
} fixture;

static void trace_add(char *log, size_t size, const char *fmt, ...) _printf_(3, 4);
static void trace_add(char *log, size_t size, const char *fmt, ...)
{
	size_t len = strlen(log);
	va_list ap;

	if (len > 0 && len < size - 1)
		log[len++] = ' ';
	va_start(ap, fmt);
	vsnprintf(log + len, size - len, fmt, ap);
	va_end(ap);
}

static const char *plain(json_object *o)
{
	return o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "(none)";
}

static void on_request(rpc_conn *c, rpc_request *req, const char *cmd, json_object *args,
		       void *userdata)
{
	side *s = userdata;

	ASSERT_TRUE(c == s->conn);
	ASSERT_TRUE(rpc_request_conn(req) == c);
	s->requests++;
	trace_add(s->log, sizeof(s->log), "req:%s", cmd);
	if (!strcmp(cmd, "echo")) {
		rpc_request_reply(req, args ? json_object_get(args) : NULL);
	} else if (!strcmp(cmd, "fail")) {
		rpc_request_reply_error(req, CONTROL_ERR_NOT_FOUND, "No VM named '%s' on %s", "vm9",
					"hostA");
	} else if (!strcmp(cmd, "count")) {
		for (int i = 1; i <= 3; i++) {
			json_object *data = json_object_new_object();

			json_object_object_add(data, "n", json_object_new_int(i));
			rpc_request_event(req, "tick", data);
		}
		rpc_request_event(req, "bare", NULL);
		rpc_request_reply(req, NULL);
	} else if (!strcmp(cmd, "close-me")) {
		/* The handler hangs up on its caller, then answers: the answer goes nowhere. */
		rpc_conn_close(c);
		s->gone = true;
		ASSERT_TRUE(rpc_request_conn(req) == NULL);
		rpc_request_event(req, "tick", json_object_new_object());
		rpc_request_reply(req, json_object_new_object());
	} else {
		ASSERT_TRUE(s->n_held < ELEMENTSOF(s->held));
		s->held[s->n_held++] = req;
	}
}

static void on_closed(rpc_conn *c, int error, void *userdata)
{
	side *s = userdata;

	ASSERT_TRUE(c == s->conn);
	ASSERT_TRUE(!s->gone);
	s->closed++;
	s->closed_error = error;
	s->gone = true;
	trace_add(s->log, sizeof(s->log), "closed:%d", error);
}

static const rpc_conn_callbacks callbacks = { .request = on_request, .closed = on_closed };
static const rpc_conn_callbacks callbacks_no_handler = { .closed = on_closed };

static void on_event(rpc_conn *c, const char *event, json_object *data, void *userdata)
{
	call *k = userdata;

	ASSERT_TRUE(c == k->s->conn);
	ASSERT_EQ(k->calls, 0);
	trace_add(k->events, sizeof(k->events), "%s:%s", event, plain(data));
	if (k->close_on_event) {
		rpc_conn_close(c);
		k->s->gone = true;
	}
}

static void on_reply(rpc_conn *c, int error, json_object *ret, const char *code,
		     const char *message, void *userdata)
{
	call *k = userdata;

	ASSERT_TRUE(c == k->s->conn);
	k->calls++;
	k->error = error;
	snprintf(k->ret, sizeof(k->ret), "%s", plain(ret));
	snprintf(k->code, sizeof(k->code), "%s", code ? code : "");
	snprintf(k->message, sizeof(k->message), "%s", message ? message : "");
	trace_add(k->s->log, sizeof(k->s->log), "reply:%d", error);
	/* A pending call's error is exactly one of those the header promises. */
	if (error)
		ASSERT_TRUE(error == -EREMOTEIO || error == -ETIMEDOUT || error == -ECONNRESET ||
			    error == -ECANCELED);
	/* Only an error reply carries code and message. */
	ASSERT_EQ(!!code, error == -EREMOTEIO);
	ASSERT_EQ(!!message, error == -EREMOTEIO);
	if (k->call_again) {
		k->call_again = false;
		k->call_again_result = rpc_conn_call(c, "echo", json_object_new_object(), 0, NULL,
						     on_reply, k);
	}
	if (k->close_on_reply) {
		rpc_conn_close(c);
		k->s->gone = true;
	}
}

static void on_tick(uv_timer_t *t)
{
	/* Only there so that UV_RUN_ONCE returns and run_until() can check its deadline. */
}

static void fixture_open(fixture *f, bool raw_a, bool b_no_handler)
{
	int sv[2];

	memset(f, 0, sizeof(*f));
	f->raw = -1;
	ASSERT_OK(uv_loop_init(&f->loop));
	ASSERT_OK(uv_timer_init(&f->loop, &f->tick));
	ASSERT_OK(uv_timer_start(&f->tick, on_tick, 5, 5));
	ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	f->b.no_handler = b_no_handler;
	ASSERT_OK(rpc_conn_new(&f->loop, sv[1], b_no_handler ? &callbacks_no_handler : &callbacks,
			       &f->b, &f->b.conn));
	if (raw_a) {
		f->raw = sv[0];
		f->a.gone = true;
		ASSERT_OK(fcntl(f->raw, F_SETFL, O_NONBLOCK));
	} else {
		ASSERT_OK(rpc_conn_new(&f->loop, sv[0], &callbacks, &f->a, &f->a.conn));
	}
}

static void side_finish(side *s)
{
	/* Requests still held are answered now, whether or not their connection lives. */
	for (size_t i = 0; i < s->n_held; i++)
		rpc_request_reply(s->held[i], NULL);
	s->n_held = 0;
	if (!s->gone) {
		rpc_conn_close(s->conn);
		s->gone = true;
	}
}

static void fixture_close(fixture *f)
{
	side_finish(&f->a);
	side_finish(&f->b);
	if (f->raw >= 0)
		close(f->raw);
	uv_close((uv_handle_t *)&f->tick, NULL);
	ASSERT_OK(uv_run(&f->loop, UV_RUN_DEFAULT));
	/* Fails with -EBUSY if any handle (a pipe, a call's timer) was left open. */
	ASSERT_OK(uv_loop_close(&f->loop));
}

#define run_until(f, cond)                                                                         \
	do {                                                                                       \
		uint64_t _end_ = uv_now(&(f)->loop) + WAIT_MS;                                     \
		while (!(cond)) {                                                                  \
			if (uv_now(&(f)->loop) > _end_)                                            \
				TEST_FAIL("timed out waiting for %s", #cond);                      \
			uv_run(&(f)->loop, UV_RUN_ONCE);                                           \
		}                                                                                  \
	} while (0)

/* Let the loop run for a while, for things that must NOT happen. */
static void run_for(fixture *f, uint64_t ms)
{
	uint64_t end = uv_now(&f->loop) + ms;

	while (uv_now(&f->loop) < end)
		uv_run(&f->loop, UV_RUN_ONCE);
}

static void call_start(fixture *f, side *s, call *k, const char *cmd, json_object *args,
		       uint64_t timeout_ms)
{
	k->s = s;
	ASSERT_OK(rpc_conn_call(s->conn, cmd, args, timeout_ms, on_event, on_reply, k));
}

/* The hand-scripted peer: raw bytes out, whole lines in. */
static void raw_send_len(fixture *f, const char *p, size_t len)
{
	uint64_t end = uv_now(&f->loop) + WAIT_MS;

	while (len > 0) {
		ssize_t n = send(f->raw, p, len, MSG_NOSIGNAL);

		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			return; /* the other side hung up on us, which some tests want */
		if (n < 0) {
			ASSERT_TRUE(errno == EAGAIN);
			ASSERT_TRUE(uv_now(&f->loop) < end);
			uv_run(&f->loop, UV_RUN_ONCE);
			continue;
		}
		p += n;
		len -= (size_t)n;
	}
}

static void raw_send(fixture *f, const char *text)
{
	raw_send_len(f, text, strlen(text));
}

/* The next line from the rpc_conn, parsed; NULL at EOF. */
static json_object *raw_read_msg(fixture *f)
{
	uint64_t end = uv_now(&f->loop) + WAIT_MS;

	for (;;) {
		char *nl = memchr(f->rbuf, '\n', f->rlen);
		ssize_t n;

		if (nl) {
			json_object *msg;

			*nl = '\0';
			msg = json_tokener_parse(f->rbuf);
			ASSERT_TRUE(msg != NULL);
			f->rlen -= (size_t)(nl + 1 - f->rbuf);
			memmove(f->rbuf, nl + 1, f->rlen);
			return msg;
		}
		ASSERT_TRUE(f->rlen < sizeof(f->rbuf));
		n = recv(f->raw, f->rbuf + f->rlen, sizeof(f->rbuf) - f->rlen, MSG_DONTWAIT);
		/* A Unix socket closed with our bytes unread reports ECONNRESET rather than EOF. */
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return NULL;
		if (n > 0) {
			f->rlen += (size_t)n;
			continue;
		}
		ASSERT_TRUE(errno == EAGAIN);
		if (uv_now(&f->loop) > end)
			TEST_FAIL("timed out waiting for a line from the rpc_conn");
		uv_run(&f->loop, UV_RUN_ONCE);
	}
}

static const char *field_str(json_object *o, const char *k1, const char *k2)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k1, &v))
		return NULL;
	if (k2 && !json_object_object_get_ex(v, k2, &v))
		return NULL;
	return json_object_get_string(v);
}

TEST(call_and_reply)
{
	fixture f;
	call k = { 0 };
	json_object *args = json_object_new_object();

	fixture_open(&f, false, false);
	json_object_object_add(args, "vm", json_object_new_string("vm1"));
	call_start(&f, &f.a, &k, "echo", args, 1000);
	run_until(&f, k.calls > 0);
	ASSERT_EQ(k.error, 0);
	ASSERT_STREQ(k.ret, "{\"vm\":\"vm1\"}");
	ASSERT_STREQ(f.b.log, "req:echo");
	/* Both sides may call: the other direction works on the same connection. */
	memset(&k, 0, sizeof(k));
	call_start(&f, &f.b, &k, "echo", NULL, 1000);
	run_until(&f, k.calls > 0);
	ASSERT_EQ(k.error, 0);
	ASSERT_STREQ(k.ret, "{}");
	ASSERT_STREQ(f.a.log, "reply:0 req:echo");
	run_for(&f, 20);
	ASSERT_EQ(k.calls, 1);
	fixture_close(&f);
}

TEST(call_and_error_reply)
{
	fixture f;
	call k = { 0 };

	fixture_open(&f, false, false);
	call_start(&f, &f.a, &k, "fail", NULL, 1000);
	run_until(&f, k.calls > 0);
	ASSERT_ERRNO(k.error, EREMOTEIO);
	ASSERT_STREQ(k.code, "not-found");
	ASSERT_STREQ(k.message, "No VM named 'vm9' on hostA");
	ASSERT_STREQ(k.ret, "(none)");
	fixture_close(&f);
}

TEST(events_before_reply_in_order)
{
	fixture f;
	call k = { 0 };

	fixture_open(&f, false, false);
	call_start(&f, &f.a, &k, "count", NULL, 1000);
	run_until(&f, k.calls > 0);
	ASSERT_EQ(k.error, 0);
	ASSERT_STREQ(k.events, "tick:{\"n\":1} tick:{\"n\":2} tick:{\"n\":3} bare:{}");
	fixture_close(&f);
}

TEST(timeout_then_late_reply_dropped)
{
	fixture f;
	call k = { 0 }, after = { 0 };
	uint64_t t0;

	fixture_open(&f, false, false);
	t0 = uv_now(&f.loop);
	call_start(&f, &f.a, &k, "hold", NULL, 60);
	run_until(&f, k.calls > 0);
	ASSERT_ERRNO(k.error, ETIMEDOUT);
	ASSERT_TRUE(uv_now(&f.loop) - t0 >= 60);
	ASSERT_EQ(f.b.n_held, 1);

	/* The answer comes late; the stream is ordered, so once `after` is answered it was read. */
	rpc_request_reply(f.b.held[0], json_object_new_object());
	f.b.n_held = 0;
	call_start(&f, &f.a, &after, "echo", NULL, 1000);
	run_until(&f, after.calls > 0);
	ASSERT_EQ(after.error, 0);
	ASSERT_EQ(k.calls, 1);
	ASSERT_ERRNO(k.error, ETIMEDOUT);
	ASSERT_EQ(f.a.closed, 0);
	fixture_close(&f);
}

TEST(no_timeout_means_none)
{
	fixture f;
	call k = { 0 };

	fixture_open(&f, false, false);
	call_start(&f, &f.a, &k, "hold", NULL, 0);
	run_for(&f, 100);
	ASSERT_EQ(k.calls, 0);
	rpc_request_reply(f.b.held[0], NULL);
	f.b.n_held = 0;
	run_until(&f, k.calls > 0);
	ASSERT_EQ(k.error, 0);
	fixture_close(&f);
}

TEST(peer_closes_pending_calls_reset)
{
	fixture f;
	call k1 = { 0 }, k2 = { .call_again = true };

	fixture_open(&f, false, false);
	call_start(&f, &f.a, &k1, "hold", NULL, 0);
	call_start(&f, &f.a, &k2, "hold", NULL, 5000);
	run_until(&f, f.b.n_held == 2);

	rpc_conn_close(f.b.conn);
	f.b.gone = true;
	run_until(&f, f.a.closed > 0);
	ASSERT_EQ(k1.calls, 1);
	ASSERT_ERRNO(k1.error, ECONNRESET);
	ASSERT_EQ(k2.calls, 1);
	ASSERT_ERRNO(k2.error, ECONNRESET);
	/* A new call from inside the reply callback of a dying connection is refused. */
	ASSERT_ERRNO(k2.call_again_result, ECONNRESET);
	/* The pending calls hear about it first, then the owner, once. */
	ASSERT_STREQ(f.a.log, "reply:-104 reply:-104 closed:-104");
	run_for(&f, 50);
	ASSERT_EQ(f.a.closed, 1);
	/* The side that closed is not told about its own close. */
	ASSERT_EQ(f.b.closed, 0);

	/* B's handler still holds both requests: answering them now is harmless. */
	ASSERT_TRUE(rpc_request_conn(f.b.held[0]) == NULL);
	rpc_request_event(f.b.held[0], "tick", json_object_new_object());
	rpc_request_reply_error(f.b.held[0], CONTROL_ERR_FAILED, "too late");
	rpc_request_reply(f.b.held[1], json_object_new_object());
	f.b.n_held = 0;
	fixture_close(&f);
}

TEST(close_inside_reset_reply_callback)
{
	fixture f;
	call k = { .close_on_reply = true };

	/*
	 * The peer hangs up; the pending call hears -ECONNRESET and its owner closes (and would
	 * free itself, as a migration job ending does). `closed` must not run after that: its
	 * userdata may be gone.
	 */
	fixture_open(&f, false, false);
	call_start(&f, &f.a, &k, "hold", NULL, 0);
	run_until(&f, f.b.n_held == 1);
	rpc_conn_close(f.b.conn);
	f.b.gone = true;
	run_until(&f, k.calls > 0);
	ASSERT_ERRNO(k.error, ECONNRESET);
	run_for(&f, 20);
	ASSERT_EQ(f.a.closed, 0);
	fixture_close(&f);
}

TEST(close_inside_reply_callback)
{
	fixture f;
	call k1 = { .close_on_reply = true }, k2 = { 0 }, k3 = { 0 };

	fixture_open(&f, false, false);
	call_start(&f, &f.a, &k1, "hold", NULL, 0);
	call_start(&f, &f.a, &k2, "hold", NULL, 1000);
	call_start(&f, &f.a, &k3, "hold", NULL, 0);
	run_until(&f, f.b.n_held == 3);

	/* Two replies back to back: the first one's callback closes, the second is never read. */
	rpc_request_reply(f.b.held[0], NULL);
	rpc_request_reply(f.b.held[1], NULL);
	f.b.held[0] = f.b.held[2];
	f.b.n_held = 1;
	run_until(&f, k1.calls > 0);
	ASSERT_EQ(k1.error, 0);
	ASSERT_EQ(k2.calls, 1);
	ASSERT_ERRNO(k2.error, ECANCELED);
	ASSERT_EQ(k3.calls, 1);
	ASSERT_ERRNO(k3.error, ECANCELED);
	ASSERT_EQ(f.a.closed, 0);

	run_until(&f, f.b.closed > 0);
	ASSERT_ERRNO(f.b.closed_error, ECONNRESET);
	run_for(&f, 50);
	ASSERT_EQ(k1.calls, 1);
	ASSERT_EQ(k2.calls, 1);
	ASSERT_EQ(f.a.closed, 0);
	ASSERT_EQ(f.b.closed, 1);
	fixture_close(&f);
}

TEST(close_inside_reply_callback_stops_reading)
{
	fixture f;
	call k = { .close_on_reply = true };
	json_object *msg;

	fixture_open(&f, true, false);
	call_start(&f, &f.b, &k, "hold", NULL, 0);
	msg = raw_read_msg(&f);
	json_object_put(msg);
	/* One write, so one read: what follows the reply must not be looked at once closed. */
	raw_send(&f, "{\"id\":1,\"return\":{}}\n{\"id\":9,\"cmd\":\"echo\"}\n");
	run_until(&f, k.calls > 0);
	run_for(&f, 20);
	ASSERT_EQ(k.error, 0);
	ASSERT_EQ(f.b.requests, 0);
	ASSERT_EQ(f.b.closed, 0);
	ASSERT_TRUE(raw_read_msg(&f) == NULL);
	fixture_close(&f);
}

TEST(close_inside_event_callback)
{
	fixture f;
	call k = { .close_on_event = true };

	fixture_open(&f, false, false);
	call_start(&f, &f.a, &k, "count", NULL, 1000);
	run_until(&f, k.calls > 0);
	/* Closed at the first event: no more events, and the reply is a cancellation. */
	ASSERT_STREQ(k.events, "tick:{\"n\":1}");
	ASSERT_ERRNO(k.error, ECANCELED);
	run_until(&f, f.b.closed > 0);
	ASSERT_EQ(f.a.closed, 0);
	fixture_close(&f);
}

TEST(close_inside_request_handler)
{
	fixture f;
	call k = { 0 };

	fixture_open(&f, false, false);
	call_start(&f, &f.a, &k, "close-me", NULL, 1000);
	run_until(&f, f.a.closed > 0);
	ASSERT_EQ(k.calls, 1);
	ASSERT_ERRNO(k.error, ECONNRESET);
	ASSERT_STREQ(k.events, "");
	ASSERT_EQ(f.b.closed, 0);
	fixture_close(&f);
}

TEST(args_not_an_object_refused)
{
	static const char *const bad[] = { "[1]", "\"vm1\"", "7", "null", "true" };
	fixture f;
	json_object *msg;

	fixture_open(&f, true, false);
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		char line[128];

		snprintf(line, sizeof(line), "{\"id\":\"x%zu\",\"cmd\":\"echo\",\"args\":%s}\n", i,
			 bad[i]);
		raw_send(&f, line);
		msg = raw_read_msg(&f);
		ASSERT_TRUE(msg != NULL);
		snprintf(line, sizeof(line), "x%zu", i);
		ASSERT_STREQ(field_str(msg, "id", NULL), line);
		ASSERT_STREQ(field_str(msg, "error", "code"), CONTROL_ERR_INVALID);
		ASSERT_TRUE(strstr(field_str(msg, "error", "message"), "'echo'") != NULL);
		ASSERT_TRUE(!json_object_object_get_ex(msg, "return", NULL));
		json_object_put(msg);
	}
	ASSERT_EQ(f.b.requests, 0);

	/* No args at all is fine; the id comes back as it was sent, whatever its type. */
	raw_send(&f, "{\"id\":{\"k\":[1,2]},\"cmd\":\"echo\"}\n");
	msg = raw_read_msg(&f);
	ASSERT_STREQ(plain(msg), "{\"id\":{\"k\":[1,2]},\"return\":{}}");
	json_object_put(msg);
	ASSERT_EQ(f.b.requests, 1);
	ASSERT_EQ(f.b.closed, 0);
	fixture_close(&f);
}

TEST(too_many_in_flight_busy)
{
	fixture f;
	call k[CONTROL_MAX_IN_FLIGHT + 1] = { 0 }, again = { 0 }, more = { 0 };

	fixture_open(&f, false, false);
	for (int i = 0; i <= CONTROL_MAX_IN_FLIGHT; i++)
		call_start(&f, &f.a, &k[i], "hold", NULL, 0);
	run_until(&f, k[CONTROL_MAX_IN_FLIGHT].calls > 0);
	ASSERT_EQ(f.b.n_held, CONTROL_MAX_IN_FLIGHT);
	ASSERT_ERRNO(k[CONTROL_MAX_IN_FLIGHT].error, EREMOTEIO);
	ASSERT_STREQ(k[CONTROL_MAX_IN_FLIGHT].code, CONTROL_ERR_BUSY);
	for (int i = 0; i < CONTROL_MAX_IN_FLIGHT; i++)
		ASSERT_EQ(k[i].calls, 0);

	/* Still full: one more is refused too. */
	call_start(&f, &f.a, &more, "echo", NULL, 0);
	run_until(&f, more.calls > 0);
	ASSERT_STREQ(more.code, CONTROL_ERR_BUSY);

	/* Answering one makes room for exactly one: the busy refusals did not count. */
	rpc_request_reply(f.b.held[0], NULL);
	f.b.held[0] = f.b.held[--f.b.n_held];
	run_until(&f, k[0].calls > 0);
	ASSERT_EQ(k[0].error, 0);
	call_start(&f, &f.a, &again, "echo", NULL, 0);
	run_until(&f, again.calls > 0);
	ASSERT_EQ(again.error, 0);
	fixture_close(&f);
	/* Closing answered the rest: with -ECANCELED, since a closed first. */
	for (int i = 1; i < CONTROL_MAX_IN_FLIGHT; i++)
		ASSERT_ERRNO(k[i].error, ECANCELED);
}

TEST(no_request_handler_unknown_command)
{
	fixture f;
	call k = { 0 };

	fixture_open(&f, false, true);
	call_start(&f, &f.a, &k, "hello", NULL, 1000);
	run_until(&f, k.calls > 0);
	ASSERT_ERRNO(k.error, EREMOTEIO);
	ASSERT_STREQ(k.code, CONTROL_ERR_UNKNOWN_COMMAND);
	ASSERT_TRUE(strstr(k.message, "'hello'") != NULL);
	ASSERT_EQ(f.b.closed, 0);
	fixture_close(&f);
}

/* b calls the scripted peer, which answers with `input`: b must hang up and say so once. */
static void expect_protocol_close(const char *input, size_t len)
{
	fixture f;
	call k = { 0 };
	json_object *msg;

	fixture_open(&f, true, false);
	call_start(&f, &f.b, &k, "hold", NULL, 0);
	msg = raw_read_msg(&f);
	ASSERT_STREQ(plain(msg), "{\"id\":1,\"cmd\":\"hold\",\"args\":{}}");
	json_object_put(msg);

	raw_send_len(&f, input, len);
	run_until(&f, f.b.closed > 0);
	ASSERT_ERRNO(f.b.closed_error, EPROTO);
	ASSERT_EQ(k.calls, 1);
	ASSERT_ERRNO(k.error, ECONNRESET);
	ASSERT_STREQ(f.b.log, "reply:-104 closed:-71");
	/* The socket really is closed: the scripted peer reads EOF. */
	ASSERT_TRUE(raw_read_msg(&f) == NULL);
	run_for(&f, 20);
	ASSERT_EQ(f.b.closed, 1);
	fixture_close(&f);
}

TEST(garbage_closes)
{
	static const char *const bad[] = {
		"this is not json\n",
		"[1,2]\n",
		"\"just a string\"\n",
		"{\"cmd\":\"echo\"}\n",                  /* no id */
		"{\"id\":1,\"return\":{}} trailing\n",   /* more than one value */
		"{\"id\":1,\"error\":\"no object\"}\n",  /* a reply to our call, malformed */
		"{\"id\":1}\n",                          /* neither request, event nor reply */
		"{\"id\":1,\"return\":{}\n",             /* truncated */
	};

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		fprintf(stderr, "   input %zu\n", i);
		expect_protocol_close(bad[i], strlen(bad[i]));
	}
}

TEST(oversized_message_closes)
{
	size_t len = CONTROL_MAX_MESSAGE + 1;
	_cleanup_free_ char *big = malloc(len);

	ASSERT_TRUE(big != NULL);
	memset(big, 'x', len);
	expect_protocol_close(big, len);
}

TEST(largest_message_accepted)
{
	static const char head[] = "{\"id\":1,\"cmd\":\"echo\",\"args\":{\"k\":1}";
	_cleanup_free_ char *line = malloc(CONTROL_MAX_MESSAGE + 1);
	fixture f;
	json_object *msg;

	/* Exactly CONTROL_MAX_MESSAGE bytes before the newline, padded with blanks. */
	ASSERT_TRUE(line != NULL);
	memset(line, ' ', CONTROL_MAX_MESSAGE);
	memcpy(line, head, strlen(head));
	line[CONTROL_MAX_MESSAGE - 1] = '}';
	line[CONTROL_MAX_MESSAGE] = '\n';
	fixture_open(&f, true, false);
	raw_send_len(&f, line, CONTROL_MAX_MESSAGE + 1);
	msg = raw_read_msg(&f);
	ASSERT_STREQ(plain(msg), "{\"id\":1,\"return\":{\"k\":1}}");
	json_object_put(msg);
	ASSERT_EQ(f.b.closed, 0);
	fixture_close(&f);
}

TEST(resync_byte_is_not_fatal)
{
	fixture f;
	json_object *msg;

	fixture_open(&f, true, false);
	raw_send(&f, "{\"id\":1,\"cmd\":\"ec\xff{\"id\":2,\"cmd\":\"echo\"}\n");
	msg = raw_read_msg(&f);
	ASSERT_STREQ(plain(msg), "{\"id\":2,\"return\":{}}");
	json_object_put(msg);
	ASSERT_EQ(f.b.requests, 1);
	ASSERT_EQ(f.b.closed, 0);
	fixture_close(&f);
}

TEST(reply_to_unknown_id_ignored)
{
	fixture f;
	call k = { 0 };
	json_object *msg;

	fixture_open(&f, true, false);
	call_start(&f, &f.b, &k, "hold", NULL, 0);
	msg = raw_read_msg(&f);
	ASSERT_STREQ(field_str(msg, "id", NULL), "1");
	json_object_put(msg);

	raw_send(&f, "{\"id\":999,\"return\":{\"wrong\":1}}\n"
		     "{\"id\":\"1\",\"return\":{\"wrong\":2}}\n"
		     "{\"id\":1.0,\"return\":{\"wrong\":3}}\n"
		     "{\"id\":-1,\"error\":{\"code\":\"failed\",\"message\":\"wrong 4\"}}\n"
		     "{\"id\":998,\"event\":\"tick\",\"data\":{\"wrong\":5}}\n"
		     "{\"id\":1,\"event\":\"tick\",\"data\":{\"right\":1}}\n");
	run_for(&f, 50);
	ASSERT_EQ(k.calls, 0);
	ASSERT_EQ(f.b.closed, 0);
	raw_send(&f, "{\"id\":1,\"return\":{\"right\":2}}\n");
	run_until(&f, k.calls > 0);
	ASSERT_EQ(k.error, 0);
	ASSERT_STREQ(k.events, "tick:{\"right\":1}");
	ASSERT_STREQ(k.ret, "{\"right\":2}");
	/* And once answered, a repeated answer is a stale one. */
	raw_send(&f, "{\"id\":1,\"return\":{\"again\":1}}\n{\"id\":5,\"cmd\":\"echo\"}\n");
	msg = raw_read_msg(&f);
	ASSERT_STREQ(plain(msg), "{\"id\":5,\"return\":{}}");
	json_object_put(msg);
	ASSERT_EQ(k.calls, 1);
	ASSERT_EQ(f.b.closed, 0);
	fixture_close(&f);
}

TEST(error_reply_without_fields)
{
	fixture f;
	call k = { 0 };
	json_object *msg;

	fixture_open(&f, true, false);
	call_start(&f, &f.b, &k, "hold", NULL, 0);
	msg = raw_read_msg(&f);
	json_object_put(msg);
	raw_send(&f, "{\"id\":1,\"error\":{\"code\":7}}\n");
	run_until(&f, k.calls > 0);
	ASSERT_ERRNO(k.error, EREMOTEIO);
	ASSERT_STREQ(k.code, CONTROL_ERR_FAILED);
	ASSERT_TRUE(k.message[0] != '\0');
	fixture_close(&f);
}

TEST(reply_after_close_is_dropped)
{
	fixture f;
	call k = { 0 };
	rpc_request *req;

	fixture_open(&f, false, false);
	call_start(&f, &f.a, &k, "hold", NULL, 0);
	run_until(&f, f.b.n_held == 1);
	req = f.b.held[0];
	f.b.n_held = 0;

	/* The caller goes away; b learns it, its connection is freed on the loop's next turn. */
	rpc_conn_close(f.a.conn);
	f.a.gone = true;
	ASSERT_EQ(k.calls, 1);
	ASSERT_ERRNO(k.error, ECANCELED);
	run_until(&f, f.b.closed > 0);
	run_for(&f, 20);
	ASSERT_TRUE(rpc_request_conn(req) == NULL);
	rpc_request_event(req, "tick", json_object_new_object());
	rpc_request_reply(req, json_object_new_object());
	ASSERT_EQ(k.calls, 1);
	fixture_close(&f);
}

TEST(call_on_closed_connection_refused)
{
	fixture f;
	call k = { .close_on_reply = true, .call_again = true };

	fixture_open(&f, false, false);
	call_start(&f, &f.a, &k, "echo", NULL, 0);
	run_until(&f, k.calls > 0);
	/* call_again ran before close_on_reply: it was accepted, then cancelled by the close. */
	ASSERT_EQ(k.call_again_result, 0);
	ASSERT_EQ(k.calls, 2);
	ASSERT_ERRNO(k.error, ECANCELED);
	fixture_close(&f);
}

int main(void)
{
	/* As the daemon and the CLI do: a write to a closed socket is an error, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	RUN_TEST(call_and_reply);
	RUN_TEST(call_and_error_reply);
	RUN_TEST(events_before_reply_in_order);
	RUN_TEST(timeout_then_late_reply_dropped);
	RUN_TEST(no_timeout_means_none);
	RUN_TEST(peer_closes_pending_calls_reset);
	RUN_TEST(close_inside_reply_callback);
	RUN_TEST(close_inside_reset_reply_callback);
	RUN_TEST(close_inside_reply_callback_stops_reading);
	RUN_TEST(close_inside_event_callback);
	RUN_TEST(close_inside_request_handler);
	RUN_TEST(args_not_an_object_refused);
	RUN_TEST(too_many_in_flight_busy);
	RUN_TEST(no_request_handler_unknown_command);
	RUN_TEST(garbage_closes);
	RUN_TEST(oversized_message_closes);
	RUN_TEST(largest_message_accepted);
	RUN_TEST(resync_byte_is_not_fatal);
	RUN_TEST(reply_to_unknown_id_ignored);
	RUN_TEST(error_reply_without_fields);
	RUN_TEST(reply_after_close_is_dropped);
	RUN_TEST(call_on_closed_connection_refused);
	return 0;
}
