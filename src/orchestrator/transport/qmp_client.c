// SPDX-License-Identifier: GPL-2.0-or-later
#include "transport/qmp_client.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "json_stream.h"
#include "log.h"
#include "macro.h"
#include "transport/call_queue.h"
#include "transport/owned_write.h"
#include "unix_connect.h"

typedef enum qmp_client_state {
	QMP_CLIENT_GREETING,    /* waiting for QEMU to speak first */
	QMP_CLIENT_NEGOTIATING, /* qmp_capabilities sent, waiting for its reply */
	QMP_CLIENT_READY,
	QMP_CLIENT_DISCONNECTED,
} qmp_client_state;

typedef struct qmp_command {
	call_node node; /* first: the queue's node is the command */
	qmp_reply_cb cb;
	void *userdata;
} qmp_command;

struct qmp_client {
	uv_loop_t *loop;
	uv_pipe_t pipe;
	uv_timer_t timer;
	unsigned handles_open; /* the struct is freed when this is 0 and closed is set */
	bool closed;
	qmp_client_state state;

	qmp_client_callbacks cbs;
	void *userdata;

	json_stream *stream;
	char read_buf[64 * 1024];

	/* Commands waiting for a reply, in id order; those without a line were sent. */
	call_queue pending;
	int64_t next_id;
	int64_t capabilities_id;
	uint64_t handshake_deadline;

	bool have_version;
	unsigned version[3];
	qmp_client_stats stats;
};

static uint64_t deadline_after(uv_loop_t *loop, uint64_t timeout_ms)
{
	uint64_t now = uv_now(loop);

	return timeout_ms > UINT64_MAX - now ? UINT64_MAX : now + timeout_ms;
}

static void qmp_command_free(qmp_command *cmd)
{
	free(cmd->node.line);
	free(cmd);
}

static void qmp_client_on_handle_closed(uv_handle_t *h)
{
	qmp_client *c = h->data;

	if (--c->handles_open == 0 && c->closed) {
		json_stream_free(c->stream);
		free(c);
	}
}

static void qmp_client_close_pipe(qmp_client *c)
{
	if (!uv_is_closing((uv_handle_t *)&c->pipe)) {
		uv_read_stop((uv_stream_t *)&c->pipe);
		uv_close((uv_handle_t *)&c->pipe, qmp_client_on_handle_closed);
	}
}

static void qmp_client_on_timer(uv_timer_t *t);

/* The earliest deadline of anything we wait for, or the timer stopped when there is none. */
static void qmp_client_arm_timer(qmp_client *c)
{
	uint64_t deadline = UINT64_MAX, now;

	if (c->closed)
		return;
	if (c->state == QMP_CLIENT_GREETING || c->state == QMP_CLIENT_NEGOTIATING)
		deadline = c->handshake_deadline;
	deadline = call_queue_next_deadline(&c->pending, deadline);
	if (deadline == UINT64_MAX) {
		uv_timer_stop(&c->timer);
		return;
	}
	now = uv_now(c->loop);
	uv_timer_start(&c->timer, qmp_client_on_timer, deadline > now ? deadline - now : 0, 0);
}

/* Hands every pending command its callback with error; each runs exactly once. */
static void qmp_client_fail_all(qmp_client *c, int error)
{
	call_queue list = c->pending;
	qmp_command *cmd;

	/* Detach first: the callbacks may execute new commands or close the client. */
	c->pending = (call_queue){ 0 };
	while ((cmd = (qmp_command *)call_queue_pop(&list))) {
		cmd->cb(c, error, NULL, NULL, NULL, cmd->userdata);
		qmp_command_free(cmd);
	}
}

static void qmp_client_disconnect(qmp_client *c, int error)
{
	if (c->closed || c->state == QMP_CLIENT_DISCONNECTED)
		return;
	log_debug_errno(error, "QMP: disconnecting: %m");
	c->state = QMP_CLIENT_DISCONNECTED;
	qmp_client_close_pipe(c);
	uv_timer_stop(&c->timer);
	qmp_client_fail_all(c, -ECONNRESET);
	if (!c->closed && c->cbs.disconnected)
		c->cbs.disconnected(c, error, c->userdata);
}

/* QEMU's end of a write broke: the monitor is lost. */
static void qmp_client_on_write_error(int status, void *userdata)
{
	qmp_client_disconnect(userdata, status);
}

/* Takes ownership of buf, on success and on failure. */
static int qmp_client_write(qmp_client *c, char *buf, size_t len)
{
	return owned_write((uv_stream_t *)&c->pipe, buf, len, qmp_client_on_write_error, c);
}

static int qmp_format_command(const char *command, json_object *args, int64_t id, char **ret,
			      size_t *ret_len)
{
	_cleanup_json_ json_object *msg = json_object_new_object();
	json_object *name, *jid;

	if (!msg)
		return -ENOMEM;
	name = json_object_new_string(command);
	if (json_object_object_add(msg, "execute", name) < 0) {
		json_object_put(name);
		return -ENOMEM;
	}
	if (args && json_object_object_add(msg, "arguments", json_object_get(args)) < 0) {
		json_object_put(args);
		return -ENOMEM;
	}
	jid = json_object_new_int64(id);
	if (json_object_object_add(msg, "id", jid) < 0) {
		json_object_put(jid);
		return -ENOMEM;
	}
	return json_stream_format(msg, QMP_CLIENT_MAX_MESSAGE, ret, ret_len);
}

/* Sends what was queued during the handshake, in order. */
static void qmp_client_flush(qmp_client *c)
{
	for (call_node *cmd = c->pending.head; cmd; cmd = cmd->next) {
		int r;

		if (!cmd->line)
			continue;
		r = qmp_client_write(c, TAKE_PTR(cmd->line), cmd->len);
		if (r < 0) {
			qmp_client_disconnect(c, r);
			return;
		}
	}
}

static int qmp_client_on_greeting(qmp_client *c, json_object *qmp)
{
	json_object *version, *qemu;
	char *wire;
	size_t len;
	int r;

	if (!json_object_is_type(qmp, json_type_object))
		return -EPROTO;
	if (json_object_object_get_ex(qmp, "version", &version) &&
	    json_object_object_get_ex(version, "qemu", &qemu)) {
		static const char *const parts[] = {"major", "minor", "micro"};
		bool ok = true;

		for (size_t i = 0; i < ELEMENTSOF(parts); i++) {
			json_object *n;
			int64_t v;

			if (!json_object_object_get_ex(qemu, parts[i], &n) ||
			    !json_object_is_type(n, json_type_int)) {
				ok = false;
				break;
			}
			v = json_object_get_int64(n);
			if (v < 0 || v > 0xffff) {
				ok = false;
				break;
			}
			c->version[i] = (unsigned)v;
		}
		c->have_version = ok;
	}

	c->capabilities_id = c->next_id++;
	r = qmp_format_command("qmp_capabilities", NULL, c->capabilities_id, &wire, &len);
	if (r < 0)
		return r;
	r = qmp_client_write(c, wire, len);
	if (r < 0)
		return r;
	c->state = QMP_CLIENT_NEGOTIATING;
	return 0;
}

static void qmp_client_on_capabilities(qmp_client *c, bool accepted)
{
	if (!accepted) {
		qmp_client_disconnect(c, -EPROTO);
		return;
	}
	c->state = QMP_CLIENT_READY;
	qmp_client_flush(c);
	if (c->state != QMP_CLIENT_READY)
		return;
	qmp_client_arm_timer(c);
	if (c->cbs.ready)
		c->cbs.ready(c, c->userdata);
}

static void qmp_client_on_event(qmp_client *c, json_object *msg, json_object *name)
{
	json_object *data = NULL, *timestamp = NULL;

	if (!json_object_is_type(name, json_type_string)) {
		c->stats.ignored++;
		log_debug("QMP: ignoring an event whose name is not a string");
		return;
	}
	json_object_object_get_ex(msg, "data", &data);
	json_object_object_get_ex(msg, "timestamp", &timestamp);
	c->stats.events++;
	if (c->cbs.event)
		c->cbs.event(c, json_object_get_string(name), data, timestamp, c->userdata);
}

static void qmp_client_on_reply(qmp_client *c, json_object *msg)
{
	json_object *id, *ret = NULL, *error = NULL, *class = NULL, *desc = NULL;
	bool has_return, has_error, well_formed;
	qmp_command *cmd;
	int64_t n;

	if (!json_object_object_get_ex(msg, "id", &id) || !json_object_is_type(id, json_type_int)) {
		c->stats.ignored++;
		log_debug("QMP: ignoring a reply without a numeric id");
		return;
	}
	n = json_object_get_int64(id);

	has_return = json_object_object_get_ex(msg, "return", &ret);
	has_error = json_object_object_get_ex(msg, "error", &error);
	well_formed = has_return != has_error &&
		      (has_return ? ret != NULL
				  : json_object_is_type(error, json_type_object) &&
					    json_object_object_get_ex(error, "class", &class) &&
					    json_object_is_type(class, json_type_string) &&
					    json_object_object_get_ex(error, "desc", &desc) &&
					    json_object_is_type(desc, json_type_string));

	if (c->state == QMP_CLIENT_NEGOTIATING && n == c->capabilities_id) {
		c->stats.replies++;
		qmp_client_on_capabilities(c, well_formed && has_return);
		return;
	}

	cmd = (qmp_command *)call_queue_take_sent(&c->pending, n);
	if (!cmd) {
		/* Most likely the late reply to a command that timed out. */
		c->stats.ignored++;
		log_debug("QMP: ignoring a reply to unknown id %" PRId64, n);
		return;
	}
	qmp_client_arm_timer(c);
	c->stats.replies++;
	if (!well_formed)
		cmd->cb(c, -EBADMSG, NULL, NULL, NULL, cmd->userdata);
	else if (has_error)
		cmd->cb(c, -EREMOTEIO, NULL, json_object_get_string(class), json_object_get_string(desc),
			cmd->userdata);
	else
		cmd->cb(c, 0, ret, NULL, NULL, cmd->userdata);
	qmp_command_free(cmd);
}

static void qmp_client_dispatch(qmp_client *c, json_object *msg)
{
	json_object *v;

	if (!json_object_is_type(msg, json_type_object)) {
		if (c->state == QMP_CLIENT_GREETING)
			qmp_client_disconnect(c, -EPROTO);
		else
			c->stats.ignored++;
		return;
	}

	if (json_object_object_get_ex(msg, "QMP", &v)) {
		int r;

		if (c->state != QMP_CLIENT_GREETING) {
			c->stats.ignored++;
			log_debug("QMP: ignoring a second greeting");
			return;
		}
		r = qmp_client_on_greeting(c, v);
		if (r < 0)
			qmp_client_disconnect(c, r);
		return;
	}
	if (c->state == QMP_CLIENT_GREETING) {
		log_debug("QMP: the first message is not a greeting");
		qmp_client_disconnect(c, -EPROTO);
		return;
	}

	if (json_object_object_get_ex(msg, "event", &v))
		qmp_client_on_event(c, msg, v);
	else if (json_object_object_get_ex(msg, "return", NULL) ||
		 json_object_object_get_ex(msg, "error", NULL))
		qmp_client_on_reply(c, msg);
	else
		c->stats.ignored++;
}

static int qmp_client_on_stream(void *userdata, json_stream_event event, json_object *msg)
{
	qmp_client *c = userdata;

	switch (event) {
	case JSON_STREAM_MESSAGE:
		qmp_client_dispatch(c, msg);
		json_object_put(msg);
		break;
	case JSON_STREAM_TOO_BIG:
		qmp_client_disconnect(c, -EMSGSIZE);
		break;
	case JSON_STREAM_RESYNC:
	case JSON_STREAM_BAD_JSON:
		c->stats.ignored++;
		if (c->state == QMP_CLIENT_GREETING)
			qmp_client_disconnect(c, -EPROTO);
		break;
	}
	/* Stop reading the buffer once a callback closed the client or we disconnected. */
	return c->closed || c->state == QMP_CLIENT_DISCONNECTED ? -ECANCELED : 0;
}

static void qmp_client_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	qmp_client *c = h->data;

	*buf = uv_buf_init(c->read_buf, sizeof(c->read_buf));
}

static void qmp_client_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	qmp_client *c = s->data;

	if (nread == UV_EOF)
		qmp_client_disconnect(c, -ECONNRESET);
	else if (nread < 0)
		qmp_client_disconnect(c, (int)nread);
	else if (nread > 0)
		json_stream_feed(c->stream, buf->base, (size_t)nread, qmp_client_on_stream, c);
}

static void qmp_client_on_timer(uv_timer_t *t)
{
	qmp_client *c = t->data;
	uint64_t now = uv_now(c->loop);

	if ((c->state == QMP_CLIENT_GREETING || c->state == QMP_CLIENT_NEGOTIATING) &&
	    c->handshake_deadline <= now) {
		qmp_client_disconnect(c, -ETIMEDOUT);
		return;
	}
	/* One at a time: each callback may execute, complete or close anything. */
	while (!c->closed) {
		qmp_command *cmd = (qmp_command *)call_queue_pop_expired(&c->pending, now);

		if (!cmd)
			break;
		cmd->cb(c, -ETIMEDOUT, NULL, NULL, NULL, cmd->userdata);
		qmp_command_free(cmd);
	}
	qmp_client_arm_timer(c);
}

int qmp_client_open_fd(uv_loop_t *loop, int fd, const qmp_client_callbacks *cbs, void *userdata,
		       qmp_client **ret)
{
	_cleanup_close_ int owned_fd = fd;
	qmp_client *c;
	int r;

	if (!loop || fd < 0 || !ret)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	r = json_stream_new(QMP_CLIENT_MAX_MESSAGE, &c->stream);
	if (r < 0) {
		free(c);
		return r;
	}
	r = uv_pipe_init(loop, &c->pipe, 0);
	if (r < 0) {
		json_stream_free(c->stream);
		free(c);
		return r;
	}
	uv_timer_init(loop, &c->timer);
	c->loop = loop;
	c->pipe.data = c;
	c->timer.data = c;
	c->handles_open = 2;
	if (cbs)
		c->cbs = *cbs;
	c->userdata = userdata;
	c->next_id = 1;
	c->state = QMP_CLIENT_GREETING;

	r = uv_pipe_open(&c->pipe, owned_fd);
	if (r >= 0) {
		TAKE_FD(owned_fd);
		r = uv_read_start((uv_stream_t *)&c->pipe, qmp_client_on_alloc, qmp_client_on_read);
	}
	if (r < 0) {
		/* The close callbacks free c. */
		c->closed = true;
		uv_close((uv_handle_t *)&c->pipe, qmp_client_on_handle_closed);
		uv_close((uv_handle_t *)&c->timer, qmp_client_on_handle_closed);
		return r;
	}
	c->handshake_deadline = deadline_after(loop, QMP_CLIENT_HANDSHAKE_TIMEOUT_MS);
	uv_timer_start(&c->timer, qmp_client_on_timer, QMP_CLIENT_HANDSHAKE_TIMEOUT_MS, 0);
	*ret = c;
	return 0;
}

int qmp_client_connect(uv_loop_t *loop, const char *socket_path, const qmp_client_callbacks *cbs,
		       void *userdata, qmp_client **ret)
{
	int fd;

	if (!socket_path)
		return -EINVAL;
	fd = unix_connect(socket_path);
	if (fd < 0)
		return fd;
	return qmp_client_open_fd(loop, fd, cbs, userdata, ret);
}

int qmp_client_execute(qmp_client *c, const char *command, json_object *args, uint64_t timeout_ms,
		       qmp_reply_cb cb, void *userdata)
{
	_cleanup_json_ json_object *owned_args = args;
	qmp_command *cmd;
	int r;

	if (!c || !command || !*command || !cb || timeout_ms == 0 ||
	    (args && !json_object_is_type(args, json_type_object)))
		return -EINVAL;
	if (c->closed || c->state == QMP_CLIENT_DISCONNECTED)
		return -ENOTCONN;
	if (c->pending.n >= QMP_CLIENT_MAX_PENDING)
		return -EBUSY;

	cmd = calloc(1, sizeof(*cmd));
	if (!cmd)
		return -ENOMEM;
	cmd->node.id = c->next_id++;
	cmd->node.deadline = deadline_after(c->loop, timeout_ms);
	cmd->cb = cb;
	cmd->userdata = userdata;
	r = qmp_format_command(command, owned_args, cmd->node.id, &cmd->node.line, &cmd->node.len);
	if (r < 0) {
		free(cmd);
		return r;
	}
	if (c->state == QMP_CLIENT_READY) {
		r = qmp_client_write(c, TAKE_PTR(cmd->node.line), cmd->node.len);
		if (r < 0) {
			free(cmd);
			return r;
		}
	}

	call_queue_append(&c->pending, &cmd->node);
	qmp_client_arm_timer(c);
	return 0;
}

json_object *qmp_args_new(const char *key, ...)
{
	_cleanup_json_ json_object *args = json_object_new_object();
	va_list ap;

	if (!args)
		return NULL;
	va_start(ap, key);
	for (const char *k = key; k; k = va_arg(ap, const char *)) {
		const char *value = va_arg(ap, const char *);
		json_object *v = value ? json_object_new_string(value) : NULL;

		if (!v || json_object_object_add(args, k, v) < 0) {
			json_object_put(v);
			va_end(ap);
			return NULL;
		}
	}
	va_end(ap);
	return TAKE_PTR(args);
}

void qmp_client_set_handshake_timeout(qmp_client *c, uint64_t timeout_ms)
{
	if (c->closed || (c->state != QMP_CLIENT_GREETING && c->state != QMP_CLIENT_NEGOTIATING))
		return;
	c->handshake_deadline = deadline_after(c->loop, timeout_ms);
	qmp_client_arm_timer(c);
}

bool qmp_client_is_ready(const qmp_client *c)
{
	return !c->closed && c->state == QMP_CLIENT_READY;
}

int qmp_client_get_version(const qmp_client *c, unsigned *ret_major, unsigned *ret_minor,
			   unsigned *ret_micro)
{
	if (!c->have_version)
		return -ENODATA;
	if (ret_major)
		*ret_major = c->version[0];
	if (ret_minor)
		*ret_minor = c->version[1];
	if (ret_micro)
		*ret_micro = c->version[2];
	return 0;
}

void qmp_client_get_stats(const qmp_client *c, qmp_client_stats *ret)
{
	*ret = c->stats;
}

void qmp_client_close(qmp_client *c)
{
	if (!c || c->closed)
		return;
	c->closed = true;
	qmp_client_close_pipe(c);
	uv_close((uv_handle_t *)&c->timer, qmp_client_on_handle_closed);
	qmp_client_fail_all(c, -ECANCELED);
}
