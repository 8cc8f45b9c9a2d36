// SPDX-License-Identifier: GPL-2.0-or-later
#include "transport/rpc_conn.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_protocol.h"
#include "json_stream.h"
#include "log.h"

/* A reader that stops reading cannot make us queue replies without bound. */
#define RPC_MAX_WRITE_QUEUE (4u * 1024 * 1024)
#define RPC_MAX_CALLS_IN_FLIGHT 64

typedef struct rpc_call {
	rpc_conn *conn;
	uint64_t id;
	uv_timer_t timer;
	rpc_event_cb on_event;
	rpc_reply_cb on_reply;
	void *userdata;
	struct rpc_call *next;
} rpc_call;

struct rpc_request {
	rpc_conn *conn; /* NULL once the connection is gone */
	json_object *id;
	struct rpc_request *next;
};

struct rpc_conn {
	uv_pipe_t pipe;
	json_stream *reader;
	rpc_conn_callbacks cbs;
	void *userdata;
	uint64_t next_id;
	rpc_call *calls;
	unsigned n_calls;
	rpc_request *requests;
	unsigned n_requests;
	int closing;
	bool closed_by_owner; /* rpc_conn_close() ran, maybe from a callback during a teardown */
};

static void rpc_call_free_cb(uv_handle_t *h)
{
	free(h->data);
}

/* Unlink the call and hand it its one and only reply. */
static void rpc_call_finish(rpc_call *call, int error, json_object *ret, const char *code,
			    const char *message)
{
	rpc_conn *c = call->conn;

	for (rpc_call **p = &c->calls; *p; p = &(*p)->next)
		if (*p == call) {
			*p = call->next;
			c->n_calls--;
			break;
		}
	uv_timer_stop(&call->timer);
	call->on_reply(c, error, ret, code, message, call->userdata);
	uv_close((uv_handle_t *)&call->timer, rpc_call_free_cb);
}

static void rpc_conn_free_cb(uv_handle_t *h)
{
	rpc_conn *c = h->data;

	json_stream_free(c->reader);
	free(c);
}

static void rpc_conn_teardown(rpc_conn *c, int call_error)
{
	if (c->closing)
		return;
	c->closing = 1;
	while (c->calls)
		rpc_call_finish(c->calls, call_error, NULL, NULL, NULL);
	for (rpc_request *r = c->requests; r; r = r->next)
		r->conn = NULL;
	c->requests = NULL;
	uv_close((uv_handle_t *)&c->pipe, rpc_conn_free_cb);
}

void rpc_conn_close(rpc_conn *c)
{
	if (!c)
		return;
	c->closed_by_owner = true;
	rpc_conn_teardown(c, -ECANCELED);
}

/* The other side is gone or misbehaved: tell the owner once. */
static void rpc_conn_fail(rpc_conn *c, int error)
{
	if (c->closing)
		return;
	rpc_conn_teardown(c, -ECONNRESET);
	/* A pending call's callback may have closed (and freed its owner): then say nothing. */
	if (c->cbs.closed && !c->closed_by_owner)
		c->cbs.closed(c, error, c->userdata);
}

void rpc_conn_set_userdata(rpc_conn *c, void *userdata)
{
	c->userdata = userdata;
}

static void rpc_write_done(uv_write_t *w, int status)
{
	free(w->data);
	free(w);
}

static int rpc_conn_send(rpc_conn *c, json_object *msg)
{
	_cleanup_free_ char *text = NULL;
	uv_write_t *w;
	uv_buf_t buf;
	size_t len;
	int r;

	if (c->closing)
		return -ECONNRESET;
	r = json_stream_format(msg, CONTROL_MAX_MESSAGE, &text, &len);
	if (r < 0)
		return r;
	if (c->pipe.write_queue_size + len > RPC_MAX_WRITE_QUEUE)
		return -ENOBUFS;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	buf = uv_buf_init(text, (unsigned)len);
	w->data = text;
	r = uv_write(w, (uv_stream_t *)&c->pipe, &buf, 1, rpc_write_done);
	if (r < 0) {
		free(w);
		return r;
	}
	TAKE_PTR(text);
	return 0;
}

static void rpc_call_timeout(uv_timer_t *t)
{
	rpc_call_finish(t->data, -ETIMEDOUT, NULL, NULL, NULL);
}

int rpc_conn_call(rpc_conn *c, const char *cmd, json_object *args, uint64_t timeout_ms,
		  rpc_event_cb on_event, rpc_reply_cb on_reply, void *userdata)
{
	_cleanup_json_ json_object *msg = json_object_new_object();
	rpc_call *call;
	int r;

	if (c->closing) {
		json_object_put(args);
		return -ECONNRESET;
	}
	if (c->n_calls >= RPC_MAX_CALLS_IN_FLIGHT) {
		json_object_put(args);
		return -EBUSY;
	}
	call = calloc(1, sizeof(*call));
	if (!call || !msg) {
		free(call);
		json_object_put(args);
		return -ENOMEM;
	}
	call->conn = c;
	call->id = ++c->next_id;
	call->on_event = on_event;
	call->on_reply = on_reply;
	call->userdata = userdata;

	json_object_object_add(msg, "id", json_object_new_uint64(call->id));
	json_object_object_add(msg, "cmd", json_object_new_string(cmd));
	json_object_object_add(msg, "args", args ? args : json_object_new_object());
	r = rpc_conn_send(c, msg);
	if (r < 0) {
		free(call);
		return r;
	}

	uv_timer_init(c->pipe.loop, &call->timer);
	call->timer.data = call;
	if (timeout_ms)
		uv_timer_start(&call->timer, rpc_call_timeout, timeout_ms, 0);
	call->next = c->calls;
	c->calls = call;
	c->n_calls++;
	return 0;
}

static rpc_call *rpc_conn_find_call(rpc_conn *c, json_object *id)
{
	uint64_t n;

	if (!json_object_is_type(id, json_type_int))
		return NULL;
	n = json_object_get_uint64(id);
	for (rpc_call *call = c->calls; call; call = call->next)
		if (call->id == n)
			return call;
	return NULL;
}

static void rpc_request_unlink(rpc_request *req)
{
	rpc_conn *c = req->conn;

	if (!c)
		return;
	for (rpc_request **p = &c->requests; *p; p = &(*p)->next)
		if (*p == req) {
			*p = req->next;
			c->n_requests--;
			break;
		}
}

static void rpc_request_answer(rpc_request *req, const char *key, json_object *value)
{
	_cleanup_json_ json_object *msg = json_object_new_object();

	if (req->conn && msg) {
		json_object_object_add(msg, "id", json_object_get(req->id));
		json_object_object_add(msg, key, value);
		value = NULL;
		if (rpc_conn_send(req->conn, msg) < 0)
			log_debug("Dropped the reply to a request: the connection cannot take it");
	}
	json_object_put(value);
	rpc_request_unlink(req);
	json_object_put(req->id);
	free(req);
}

void rpc_request_reply(rpc_request *req, json_object *ret)
{
	rpc_request_answer(req, "return", ret ? ret : json_object_new_object());
}

void rpc_request_reply_error(rpc_request *req, const char *code, const char *fmt, ...)
{
	json_object *err = json_object_new_object();
	char *message = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&message, fmt, ap) < 0)
		message = NULL;
	va_end(ap);
	json_object_object_add(err, "code", json_object_new_string(code));
	json_object_object_add(err, "message", json_object_new_string(message ? message : code));
	free(message);
	rpc_request_answer(req, "error", err);
}

void rpc_request_event(rpc_request *req, const char *event, json_object *data)
{
	_cleanup_json_ json_object *msg = json_object_new_object();

	if (!req->conn || !msg) {
		json_object_put(data);
		return;
	}
	json_object_object_add(msg, "id", json_object_get(req->id));
	json_object_object_add(msg, "event", json_object_new_string(event));
	json_object_object_add(msg, "data", data ? data : json_object_new_object());
	(void)rpc_conn_send(req->conn, msg);
}

rpc_conn *rpc_request_conn(rpc_request *req)
{
	return req->conn;
}

static const char *json_get_string(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int rpc_conn_handle_request(rpc_conn *c, json_object *msg, json_object *id, const char *cmd)
{
	json_object *args = NULL;
	rpc_request *req;

	req = calloc(1, sizeof(*req));
	if (!req)
		return -ENOMEM;
	req->conn = c;
	req->id = json_object_get(id);
	req->next = c->requests;
	c->requests = req;
	c->n_requests++;

	if (c->n_requests > CONTROL_MAX_IN_FLIGHT) {
		rpc_request_reply_error(req, CONTROL_ERR_BUSY,
					"Too many requests in flight on one connection (limit %d)",
					CONTROL_MAX_IN_FLIGHT);
		return 0;
	}
	if (json_object_object_get_ex(msg, "args", &args) &&
	    !json_object_is_type(args, json_type_object)) {
		rpc_request_reply_error(req, CONTROL_ERR_INVALID,
					"'args' of '%s' must be a JSON object", cmd);
		return 0;
	}
	if (!c->cbs.request) {
		rpc_request_reply_error(req, CONTROL_ERR_UNKNOWN_COMMAND,
					"This side takes no requests (got '%s')", cmd);
		return 0;
	}
	/* Keep args alive even if the handler closes the connection (which frees msg's owner). */
	json_object_get(msg);
	c->cbs.request(c, req, cmd, args, c->userdata);
	json_object_put(msg);
	return 0;
}

static int rpc_conn_handle_message(rpc_conn *c, json_object *msg)
{
	json_object *id = NULL, *v;
	const char *cmd, *event;
	rpc_call *call;

	if (!json_object_is_type(msg, json_type_object) || !json_object_object_get_ex(msg, "id", &id))
		return -EBADMSG;

	cmd = json_get_string(msg, "cmd");
	if (cmd)
		return rpc_conn_handle_request(c, msg, id, cmd);

	/* Anything else answers one of our calls; a stale id (the call timed out) is dropped. */
	call = rpc_conn_find_call(c, id);
	if (!call)
		return 0;
	event = json_get_string(msg, "event");
	if (event) {
		if (call->on_event) {
			json_object_object_get_ex(msg, "data", &v);
			call->on_event(c, event, v, call->userdata);
		}
		return 0;
	}
	if (json_object_object_get_ex(msg, "return", &v)) {
		rpc_call_finish(call, 0, v, NULL, NULL);
		return 0;
	}
	if (json_object_object_get_ex(msg, "error", &v) && json_object_is_type(v, json_type_object)) {
		const char *code = json_get_string(v, "code"), *message = json_get_string(v, "message");

		rpc_call_finish(call, -EREMOTEIO, NULL, code ? code : CONTROL_ERR_FAILED,
				message ? message : "(no message)");
		return 0;
	}
	return -EBADMSG;
}

static int rpc_conn_on_frame(void *userdata, json_stream_event event, json_object *msg)
{
	rpc_conn *c = userdata;
	int r;

	if (event != JSON_STREAM_MESSAGE)
		return event == JSON_STREAM_RESYNC ? 0 : -EBADMSG;
	r = rpc_conn_handle_message(c, msg);
	json_object_put(msg);
	if (r < 0)
		return r;
	/* A callback may have closed the connection: stop looking at its buffer. */
	return c->closing ? -ECANCELED : 0;
}

static void rpc_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static char scratch[64 * 1024];

	/* The framer copies what it keeps, so one static buffer serves every connection. */
	*buf = uv_buf_init(scratch, sizeof(scratch));
}

static void rpc_on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	rpc_conn *c = s->data;
	int r;

	if (n == 0)
		return;
	if (n < 0) {
		rpc_conn_fail(c, n == UV_EOF ? -ECONNRESET : (int)n);
		return;
	}
	r = json_stream_feed(c->reader, buf->base, (size_t)n, rpc_conn_on_frame, c);
	if (r < 0 && r != -ECANCELED) {
		log_debug_errno(r, "Closing a daemon-protocol connection after a malformed message: %m");
		rpc_conn_fail(c, -EPROTO);
	}
}

int rpc_conn_new(uv_loop_t *loop, int fd, const rpc_conn_callbacks *cbs, void *userdata,
		 rpc_conn **ret)
{
	rpc_conn *c;
	int r;

	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	r = json_stream_new(CONTROL_MAX_MESSAGE, &c->reader);
	if (r < 0) {
		free(c);
		close(fd);
		return r;
	}
	c->cbs = *cbs;
	c->userdata = userdata;
	uv_pipe_init(loop, &c->pipe, 0);
	c->pipe.data = c;
	r = uv_pipe_open(&c->pipe, fd);
	if (r < 0)
		close(fd); /* still ours: uv_close() below only closes an opened pipe's fd */
	else
		r = uv_read_start((uv_stream_t *)&c->pipe, rpc_alloc, rpc_on_read);
	if (r < 0) {
		c->closing = 1;
		uv_close((uv_handle_t *)&c->pipe, rpc_conn_free_cb);
		return r;
	}
	*ret = c;
	return 0;
}
