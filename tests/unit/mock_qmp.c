// SPDX-License-Identifier: GPL-2.0-or-later
#include "mock_qmp.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <json-c/json.h>

#include "json_stream.h"
#include "macro.h"
#include "test.h"

/* What the mock accepts from the client: far more than any command a test sends. */
#define MOCK_QMP_MAX_MESSAGE (1024 * 1024)

typedef enum mock_step_type {
	MOCK_STEP_SEND,
	MOCK_STEP_REPLY,
	MOCK_STEP_EXPECT,
	MOCK_STEP_DELAY,
	MOCK_STEP_HANGUP,
} mock_step_type;

typedef struct mock_step {
	mock_step_type type;
	char *command;     /* EXPECT */
	json_object *args; /* EXPECT: NULL when not checked */
	json_object *body; /* REPLY: the reply without its id */
	char *bytes;       /* SEND */
	size_t len;
	uint64_t ms; /* DELAY */
} mock_step;

typedef struct mock_responder {
	char *command;
	json_object *ret;
} mock_responder;

typedef struct mock_write {
	uv_write_t req;
	mock_qmp *mock;
	char *buf;
} mock_write;

struct mock_qmp {
	uv_loop_t *loop;
	uv_pipe_t listener;
	uv_pipe_t conn;
	uv_timer_t kick;  /* plays the script on the next loop iteration */
	uv_timer_t delay; /* MOCK_STEP_DELAY */
	uv_idle_t trickle; /* chunked writes, one piece per iteration */
	unsigned handles_open;
	bool listening, accepted, connected, delaying;
	char *path; /* the listening socket, removed on free */

	json_stream *stream;
	char read_buf[64 * 1024];

	mock_step *steps;
	size_t n_steps, cursor;
	json_object **inbox; /* commands received, not yet consumed by an expect step */
	size_t n_inbox;
	json_object **unanswered; /* ids of expected commands not answered yet, oldest first */
	size_t n_unanswered;
	mock_responder *responders;
	size_t n_responders;
	unsigned commands_received;
	void (*on_command)(const char *command, void *userdata);
	void *on_command_data;

	size_t chunk;
	char *out; /* bytes waiting to be trickled out */
	size_t out_len, out_off;
	unsigned writes_in_flight;
};

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p)
		TEST_FAIL("mock_qmp: out of memory");
	return p;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		TEST_FAIL("mock_qmp: out of memory");
	return d;
}

static json_object *parse_or_fail(const char *json)
{
	json_object *o = json_tokener_parse(json);

	if (!o)
		TEST_FAIL("mock_qmp: the script holds invalid JSON: %s", json);
	return o;
}

static void mock_advance(mock_qmp *m);

static void mock_on_kick(uv_timer_t *t)
{
	mock_advance(t->data);
}

static void mock_kick(mock_qmp *m)
{
	uv_timer_start(&m->kick, mock_on_kick, 0, 0);
}

static mock_step *mock_add_step(mock_qmp *m, mock_step_type type)
{
	mock_step *s;

	m->steps = xrealloc(m->steps, (m->n_steps + 1) * sizeof(*m->steps));
	s = &m->steps[m->n_steps++];
	*s = (mock_step){.type = type};
	mock_kick(m);
	return s;
}

static void mock_on_written(uv_write_t *req, int status)
{
	mock_write *w = req->data;
	mock_qmp *m = w->mock;

	free(w->buf);
	free(w);
	m->writes_in_flight--;
	/* A hangup or delay may be waiting for the bytes to leave. */
	if (m->connected)
		mock_advance(m);
}

static void mock_write_now(mock_qmp *m, const char *bytes, size_t len)
{
	mock_write *w = xrealloc(NULL, sizeof(*w));
	uv_buf_t b;

	w->mock = m;
	w->buf = xrealloc(NULL, len ? len : 1);
	memcpy(w->buf, bytes, len);
	w->req.data = w;
	b = uv_buf_init(w->buf, (unsigned)len);
	if (uv_write(&w->req, (uv_stream_t *)&m->conn, &b, 1, mock_on_written) < 0) {
		free(w->buf);
		free(w);
		return;
	}
	m->writes_in_flight++;
}

static void mock_on_trickle(uv_idle_t *idle)
{
	mock_qmp *m = idle->data;
	size_t n = m->out_len - m->out_off;

	if (n > m->chunk)
		n = m->chunk;
	if (m->connected)
		mock_write_now(m, m->out + m->out_off, n);
	m->out_off += n;
	if (m->out_off == m->out_len) {
		m->out_off = m->out_len = 0;
		uv_idle_stop(&m->trickle);
	}
}

static void mock_send_bytes_now(mock_qmp *m, const char *bytes, size_t len)
{
	if (!m->connected)
		return;
	if (m->chunk == 0) {
		mock_write_now(m, bytes, len);
		return;
	}
	m->out = xrealloc(m->out, m->out_len + len + 1);
	memcpy(m->out + m->out_len, bytes, len);
	m->out_len += len;
	uv_idle_start(&m->trickle, mock_on_trickle);
}

static void mock_send_json_now(mock_qmp *m, json_object *msg)
{
	char *text;
	size_t len;

	if (json_stream_format(msg, SIZE_MAX / 2, &text, &len) < 0)
		TEST_FAIL("mock_qmp: cannot format a message");
	mock_send_bytes_now(m, text, len);
	free(text);
}

static void mock_on_handle_closed(uv_handle_t *h);

static void mock_disconnect(mock_qmp *m)
{
	if (!m->connected)
		return;
	m->connected = false;
	uv_idle_stop(&m->trickle);
	m->out_off = m->out_len = 0;
	uv_close((uv_handle_t *)&m->conn, mock_on_handle_closed);
}

static bool mock_flushed(const mock_qmp *m)
{
	return m->out_off == m->out_len && m->writes_in_flight == 0;
}

static void mock_on_delay(uv_timer_t *t)
{
	mock_qmp *m = t->data;

	m->delaying = false;
	mock_advance(m);
}

static void mock_reply_now(mock_qmp *m, json_object *body, json_object *id)
{
	_cleanup_json_ json_object *msg = NULL;

	/* A deep copy, so that the step's object stays as the script wrote it. */
	if (json_object_deep_copy(body, &msg, NULL) < 0 ||
	    json_object_object_add(msg, "id", json_object_get(id)) < 0)
		TEST_FAIL("mock_qmp: out of memory");
	mock_send_json_now(m, msg);
}

static void mock_expect_now(mock_qmp *m, const mock_step *s, json_object *cmd)
{
	json_object *name, *args = NULL, *id;
	_cleanup_json_ json_object *empty = json_object_new_object();

	json_object_object_get_ex(cmd, "execute", &name);
	json_object_object_get_ex(cmd, "id", &id);
	if (strcmp(json_object_get_string(name), s->command) != 0)
		TEST_FAIL("mock_qmp: expected command '%s', got: %s", s->command,
			  json_object_to_json_string(cmd));
	if (s->args) {
		if (!json_object_object_get_ex(cmd, "arguments", &args))
			args = empty;
		if (!json_object_equal(args, s->args))
			TEST_FAIL("mock_qmp: '%s' expected arguments %s, got: %s", s->command,
				  json_object_to_json_string(s->args), json_object_to_json_string(cmd));
	}
	m->unanswered = xrealloc(m->unanswered, (m->n_unanswered + 1) * sizeof(*m->unanswered));
	m->unanswered[m->n_unanswered++] = json_object_get(id);
}

static void mock_advance(mock_qmp *m)
{
	while (m->connected && !m->delaying && m->cursor < m->n_steps) {
		mock_step *s = &m->steps[m->cursor];

		switch (s->type) {
		case MOCK_STEP_SEND:
			mock_send_bytes_now(m, s->bytes, s->len);
			break;
		case MOCK_STEP_REPLY:
			if (m->n_unanswered == 0)
				TEST_FAIL("mock_qmp: a reply step (#%zu) with no command to answer",
					  m->cursor);
			mock_reply_now(m, s->body, m->unanswered[0]);
			json_object_put(m->unanswered[0]);
			memmove(m->unanswered, m->unanswered + 1,
				--m->n_unanswered * sizeof(*m->unanswered));
			break;
		case MOCK_STEP_EXPECT:
			if (m->n_inbox == 0)
				return;
			mock_expect_now(m, s, m->inbox[0]);
			json_object_put(m->inbox[0]);
			memmove(m->inbox, m->inbox + 1, --m->n_inbox * sizeof(*m->inbox));
			break;
		case MOCK_STEP_DELAY:
			if (!mock_flushed(m))
				return;
			m->delaying = true;
			uv_timer_start(&m->delay, mock_on_delay, s->ms, 0);
			break;
		case MOCK_STEP_HANGUP:
			if (!mock_flushed(m))
				return;
			mock_disconnect(m);
			break;
		}
		m->cursor++;
	}
	if (m->cursor == m->n_steps && m->n_inbox > 0)
		TEST_FAIL("mock_qmp: unexpected command after the end of the script: %s",
			  json_object_to_json_string(m->inbox[0]));
}

static const mock_responder *mock_find_responder(const mock_qmp *m, const char *command)
{
	for (size_t i = 0; i < m->n_responders; i++)
		if (strcmp(m->responders[i].command, command) == 0)
			return &m->responders[i];
	return NULL;
}

static void mock_on_command(mock_qmp *m, json_object *cmd)
{
	json_object *name, *id;
	const mock_responder *r;
	const mock_step *next = m->cursor < m->n_steps ? &m->steps[m->cursor] : NULL;

	if (!json_object_is_type(cmd, json_type_object) ||
	    !json_object_object_get_ex(cmd, "execute", &name) ||
	    !json_object_is_type(name, json_type_string))
		TEST_FAIL("mock_qmp: not a QMP command: %s", json_object_to_json_string(cmd));
	if (!json_object_object_get_ex(cmd, "id", &id))
		TEST_FAIL("mock_qmp: a command without an id: %s", json_object_to_json_string(cmd));
	m->commands_received++;
	if (m->on_command)
		m->on_command(json_object_get_string(name), m->on_command_data);

	r = mock_find_responder(m, json_object_get_string(name));
	if (r && !(next && next->type == MOCK_STEP_EXPECT &&
		   strcmp(next->command, json_object_get_string(name)) == 0)) {
		_cleanup_json_ json_object *body = json_object_new_object();

		json_object_object_add(body, "return", json_object_get(r->ret));
		mock_reply_now(m, body, id);
		return;
	}
	m->inbox = xrealloc(m->inbox, (m->n_inbox + 1) * sizeof(*m->inbox));
	m->inbox[m->n_inbox++] = json_object_get(cmd);
	mock_advance(m);
}

static int mock_on_stream(void *userdata, json_stream_event event, json_object *msg)
{
	mock_qmp *m = userdata;

	if (event != JSON_STREAM_MESSAGE)
		TEST_FAIL("mock_qmp: the client sent a bad line (json_stream event %d)", event);
	mock_on_command(m, msg);
	json_object_put(msg);
	return m->connected ? 0 : -ECANCELED;
}

static void mock_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	mock_qmp *m = h->data;

	*buf = uv_buf_init(m->read_buf, sizeof(m->read_buf));
}

static void mock_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	mock_qmp *m = s->data;

	if (nread < 0)
		mock_disconnect(m); /* the client closed: what is left of the script says if that is ok */
	else if (nread > 0)
		json_stream_feed(m->stream, buf->base, (size_t)nread, mock_on_stream, m);
}

static void mock_start_conn(mock_qmp *m)
{
	m->conn.data = m;
	m->accepted = true;
	m->connected = true;
	if (uv_read_start((uv_stream_t *)&m->conn, mock_on_alloc, mock_on_read) < 0)
		TEST_FAIL("mock_qmp: uv_read_start failed");
	mock_kick(m);
}

static int mock_alloc(uv_loop_t *loop, mock_qmp **ret)
{
	mock_qmp *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	r = json_stream_new(MOCK_QMP_MAX_MESSAGE, &m->stream);
	if (r < 0) {
		free(m);
		return r;
	}
	m->loop = loop;
	uv_timer_init(loop, &m->kick);
	uv_timer_init(loop, &m->delay);
	uv_idle_init(loop, &m->trickle);
	m->kick.data = m->delay.data = m->trickle.data = m;
	m->handles_open = 3;
	*ret = m;
	return 0;
}

int mock_qmp_new(uv_loop_t *loop, mock_qmp **ret, int *ret_fd)
{
	mock_qmp *m;
	int sv[2], r;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	r = mock_alloc(loop, &m);
	if (r < 0) {
		close(sv[0]);
		close(sv[1]);
		return r;
	}
	if (uv_pipe_init(loop, &m->conn, 0) < 0 || uv_pipe_open(&m->conn, sv[0]) < 0)
		TEST_FAIL("mock_qmp: cannot set up the socketpair");
	m->handles_open++;
	mock_start_conn(m);
	*ret = m;
	*ret_fd = sv[1];
	return 0;
}

static void mock_on_connection(uv_stream_t *listener, int status)
{
	mock_qmp *m = listener->data;

	if (status < 0)
		TEST_FAIL("mock_qmp: accepting failed: %s", uv_strerror(status));
	if (m->accepted)
		TEST_FAIL("mock_qmp: a second client connected");
	if (uv_pipe_init(m->loop, &m->conn, 0) < 0 || uv_accept(listener, (uv_stream_t *)&m->conn) < 0)
		TEST_FAIL("mock_qmp: cannot accept");
	m->handles_open++;
	mock_start_conn(m);
}

int mock_qmp_new_listen(uv_loop_t *loop, const char *path, mock_qmp **ret)
{
	mock_qmp *m;
	int r;

	r = mock_alloc(loop, &m);
	if (r < 0)
		return r;
	uv_pipe_init(loop, &m->listener, 0);
	m->listener.data = m;
	m->handles_open++;
	m->listening = true;
	r = uv_pipe_bind(&m->listener, path);
	if (r >= 0)
		m->path = xstrdup(path);
	if (r >= 0)
		r = uv_listen((uv_stream_t *)&m->listener, 1, mock_on_connection);
	if (r < 0) {
		mock_qmp_free(m);
		return r;
	}
	*ret = m;
	return 0;
}

static void mock_release(mock_qmp *m)
{
	for (size_t i = 0; i < m->n_steps; i++) {
		free(m->steps[i].command);
		json_object_put(m->steps[i].args);
		json_object_put(m->steps[i].body);
		free(m->steps[i].bytes);
	}
	free(m->steps);
	for (size_t i = 0; i < m->n_inbox; i++)
		json_object_put(m->inbox[i]);
	free(m->inbox);
	for (size_t i = 0; i < m->n_unanswered; i++)
		json_object_put(m->unanswered[i]);
	free(m->unanswered);
	for (size_t i = 0; i < m->n_responders; i++) {
		free(m->responders[i].command);
		json_object_put(m->responders[i].ret);
	}
	free(m->responders);
	free(m->out);
	free(m->path);
	json_stream_free(m->stream);
	free(m);
}

static void mock_on_handle_closed(uv_handle_t *h)
{
	mock_qmp *m = h->data;

	if (--m->handles_open == 0)
		mock_release(m);
}

void mock_qmp_free(mock_qmp *m)
{
	if (!m)
		return;
	if (m->cursor < m->n_steps)
		TEST_FAIL("mock_qmp: %zu script step(s) left unplayed (next: #%zu, type %d%s%s)",
			  m->n_steps - m->cursor, m->cursor, m->steps[m->cursor].type,
			  m->steps[m->cursor].command ? ", command " : "",
			  m->steps[m->cursor].command ? m->steps[m->cursor].command : "");
	if (m->n_inbox > 0)
		TEST_FAIL("mock_qmp: commands received that no step expected: %s",
			  json_object_to_json_string(m->inbox[0]));
	if (m->listening)
		uv_close((uv_handle_t *)&m->listener, mock_on_handle_closed);
	if (m->path)
		unlink(m->path);
	mock_disconnect(m);
	uv_close((uv_handle_t *)&m->kick, mock_on_handle_closed);
	uv_close((uv_handle_t *)&m->delay, mock_on_handle_closed);
	uv_close((uv_handle_t *)&m->trickle, mock_on_handle_closed);
}

void mock_qmp_greet(mock_qmp *m)
{
	mock_qmp_send(m, "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, "
			 "\"package\": \"Debian 1:7.2+dfsg-7+deb12u18\"}, \"capabilities\": [\"oob\"]}}\r\n");
}

void mock_qmp_handshake(mock_qmp *m)
{
	mock_qmp_greet(m);
	mock_qmp_expect(m, "qmp_capabilities", "{}");
	mock_qmp_reply(m, "{}");
}

void mock_qmp_expect(mock_qmp *m, const char *command, const char *args_json)
{
	mock_step *s = mock_add_step(m, MOCK_STEP_EXPECT);

	s->command = xstrdup(command);
	s->args = args_json ? parse_or_fail(args_json) : NULL;
}

void mock_qmp_reply_json(mock_qmp *m, const char *object_json)
{
	json_object *body = parse_or_fail(object_json);

	if (!json_object_is_type(body, json_type_object))
		TEST_FAIL("mock_qmp: a reply must be an object: %s", object_json);
	mock_add_step(m, MOCK_STEP_REPLY)->body = body;
}

void mock_qmp_reply(mock_qmp *m, const char *return_json)
{
	json_object *body = json_object_new_object();

	json_object_object_add(body, "return", parse_or_fail(return_json));
	mock_add_step(m, MOCK_STEP_REPLY)->body = body;
}

void mock_qmp_reply_error(mock_qmp *m, const char *error_class, const char *desc)
{
	json_object *body = json_object_new_object(), *error = json_object_new_object();

	json_object_object_add(error, "class", json_object_new_string(error_class));
	json_object_object_add(error, "desc", json_object_new_string(desc));
	json_object_object_add(body, "error", error);
	mock_add_step(m, MOCK_STEP_REPLY)->body = body;
}

void mock_qmp_event(mock_qmp *m, const char *name, const char *data_json)
{
	_cleanup_json_ json_object *msg = json_object_new_object();
	json_object *ts = json_object_new_object();
	struct timespec now;
	mock_step *s;

	clock_gettime(CLOCK_REALTIME, &now);
	json_object_object_add(ts, "seconds", json_object_new_int64(now.tv_sec));
	json_object_object_add(ts, "microseconds", json_object_new_int64(now.tv_nsec / 1000));
	json_object_object_add(msg, "event", json_object_new_string(name));
	if (data_json)
		json_object_object_add(msg, "data", parse_or_fail(data_json));
	json_object_object_add(msg, "timestamp", ts);

	s = mock_add_step(m, MOCK_STEP_SEND);
	if (json_stream_format(msg, SIZE_MAX / 2, &s->bytes, &s->len) < 0)
		TEST_FAIL("mock_qmp: cannot format an event");
}

void mock_qmp_send_bytes(mock_qmp *m, const void *bytes, size_t len)
{
	mock_step *s = mock_add_step(m, MOCK_STEP_SEND);

	s->bytes = xrealloc(NULL, len ? len : 1);
	memcpy(s->bytes, bytes, len);
	s->len = len;
}

void mock_qmp_send(mock_qmp *m, const char *text)
{
	mock_qmp_send_bytes(m, text, strlen(text));
}

void mock_qmp_delay(mock_qmp *m, uint64_t ms)
{
	mock_add_step(m, MOCK_STEP_DELAY)->ms = ms;
}

void mock_qmp_hangup(mock_qmp *m)
{
	mock_add_step(m, MOCK_STEP_HANGUP);
}

void mock_qmp_respond_always(mock_qmp *m, const char *command, const char *return_json)
{
	mock_responder *r = (mock_responder *)mock_find_responder(m, command);

	if (!r) {
		m->responders = xrealloc(m->responders, (m->n_responders + 1) * sizeof(*m->responders));
		r = &m->responders[m->n_responders++];
		r->command = xstrdup(command);
	} else {
		json_object_put(r->ret);
	}
	r->ret = parse_or_fail(return_json);
}

void mock_qmp_set_write_chunk(mock_qmp *m, size_t n)
{
	m->chunk = n;
}

bool mock_qmp_done(const mock_qmp *m)
{
	return m->cursor == m->n_steps;
}

unsigned mock_qmp_commands_received(const mock_qmp *m)
{
	return m->commands_received;
}

void mock_qmp_on_command(mock_qmp *m, void (*cb)(const char *command, void *userdata),
			 void *userdata)
{
	m->on_command = cb;
	m->on_command_data = userdata;
}

static void mock_on_deadline(uv_timer_t *t)
{
	*(bool *)t->data = true;
}

void mock_qmp_run_until(uv_loop_t *loop, const bool *flag, uint64_t timeout_ms)
{
	uv_timer_t deadline;
	bool expired = false;

	uv_timer_init(loop, &deadline);
	deadline.data = &expired;
	uv_timer_start(&deadline, mock_on_deadline, timeout_ms, 0);
	while (!*flag && !expired)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&deadline, NULL);
	/* The closing phase of one iteration lets the handle on our stack go. */
	uv_run(loop, UV_RUN_NOWAIT);
	if (!*flag)
		TEST_FAIL("timed out after %" PRIu64 " ms", timeout_ms);
}
