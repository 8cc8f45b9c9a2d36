// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The host-side agent client. One timer serves every deadline (calls and the handshake): with at
 * most AGENT_CLIENT_MAX_PENDING calls a linear scan is cheaper than a timer per call, and it
 * keeps freeing simple (a call owns no libuv handle).
 */
#include "transport/agent_client.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/sockios.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <time.h>

#include "agent_protocol.h"
#include "json_stream.h"
#include "log.h"
#include "transport/agent_reply_check.h"
#include "transport/call_queue.h"
#include "transport/owned_write.h"
#include "unix_connect.h"

#define AGENT_CLIENT_SYNC_TIMEOUT_MS 3000
/*
 * Unanswered handshakes in a row before the client says so at info level (and every this many
 * after): a booting guest's agent leaves a few unanswered, a link that stays silent for longer
 * is worth a line in the daemon's log (a phase's "no answer" is then explained there).
 */
#define AGENT_CLIENT_SILENT_HANDSHAKES_LOGGED 3
/*
 * Bytes read from the agent per turn of the loop: libuv would read up to 32 buffers at once,
 * and a guest that floods would hold the loop (every other VM's timers and sockets) for as
 * long as parsing them takes. The rest waits for the next turn.
 */
#define AGENT_CLIENT_READ_PER_TURN 8192
/* Sync ids come from here up; call ids count up from 1 and never reach it. */
#define AGENT_CLIENT_SYNC_ID_BASE (INT64_C(1) << 40)

typedef enum agent_client_state {
	AGENT_CLIENT_SYNCING,      /* 0xFF + sync and hello sent, discarding until the sync's reply */
	AGENT_CLIENT_HELLO,        /* the sync answered, hello's reply awaited */
	AGENT_CLIENT_READY,
	AGENT_CLIENT_DISCONNECTED, /* EOF, I/O error or incompatible agent */
} agent_client_state;

typedef struct agent_call {
	call_node node; /* first: the queue's node is the call; its line waits for READY */
	const agent_command_def *cmd;
	json_object *args; /* as sent, to check the answer against (agent_reply_check.h) */
	agent_reply_cb cb;
	void *userdata;
	uint64_t sent_ms; /* uv_now() when its line went out */
} agent_call;

struct agent_client {
	uv_loop_t *loop;
	uv_pipe_t pipe;
	uv_timer_t timer;
	uv_check_t turn_end; /* resumes reading once the turn's budget is spent */
	size_t turn_bytes;
	unsigned handles_open;
	bool closing;

	agent_client_callbacks cbs;
	void *userdata;

	json_stream *stream;
	char rbuf[4096];

	agent_client_state state;
	int64_t sync_id, hello_id;
	uint64_t handshake_deadline;
	uint64_t sync_timeout_ms;
	unsigned unanswered_handshakes; /* in a row, since the last one answered */
	uint64_t bytes_read;            /* since the link opened */
	/* When the link opened, and the syncs sent since: how long its first handshake took is
	 * logged (an agent link made again after a migration waits for the resumed guest). */
	uint64_t opened_ms;
	unsigned syncs_sent;
	bool was_ready;

	call_queue calls; /* in the order they were made */
	int64_t next_id;
	uint64_t reply_sent_ms; /* during a reply callback: when its request went out */

	unsigned version;
	char *agent;
	json_object *commands; /* the array from hello */
};

static void client_fail_calls(agent_client *c, int error);
static void call_free(agent_call *call);
static void client_sync_start(agent_client *c);
static void client_timer_update(agent_client *c);

static int64_t client_sync_id_new(void)
{
	uint64_t r;

	/* Unpredictable, so that no stale reply in the pipe can match it by accident. */
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		r = (uint64_t)ts.tv_nsec * 2654435761u ^ (uint64_t)ts.tv_sec;
	}
	return AGENT_CLIENT_SYNC_ID_BASE + (int64_t)(r % (UINT64_C(1) << 52));
}

static void call_free(agent_call *call)
{
	free(call->node.line);
	json_object_put(call->args);
	free(call);
}

static void call_freep(agent_call **call)
{
	if (*call)
		call_free(*call);
}

/* Takes ownership of buf. Write errors show up as a read error or EOF soon after. */
static int client_write(agent_client *c, char *buf, size_t len)
{
	return owned_write((uv_stream_t *)&c->pipe, buf, len, NULL, NULL);
}

static int client_format(json_object *msg, bool sync_byte, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *line = NULL;
	size_t len;
	char *out;
	int r;

	r = json_stream_format(msg, AGENT_PROTOCOL_MAX_MESSAGE, &line, &len);
	if (r < 0)
		return r;
	if (!sync_byte) {
		*ret = TAKE_PTR(line);
		*ret_len = len;
		return 0;
	}
	out = malloc(len + 1);
	if (!out)
		return -ENOMEM;
	out[0] = (char)JSON_STREAM_SYNC_BYTE;
	memcpy(out + 1, line, len);
	*ret = out;
	*ret_len = len + 1;
	return 0;
}

static void client_disconnect(agent_client *c, int error)
{
	if (c->state == AGENT_CLIENT_DISCONNECTED)
		return;
	c->state = AGENT_CLIENT_DISCONNECTED;
	uv_read_stop((uv_stream_t *)&c->pipe);
	uv_check_stop(&c->turn_end);
	uv_timer_stop(&c->timer);
	client_fail_calls(c, -ECONNRESET);
	if (!c->closing && c->cbs.disconnected)
		c->cbs.disconnected(c, error, c->userdata);
}

/* Bytes we wrote that the other end has not read yet (SIOCOUTQ of a Unix socket), or 0. */
static int client_unread_bytes(agent_client *c)
{
	uv_os_fd_t fd;
	int unread = 0;

	if (uv_fileno((uv_handle_t *)&c->pipe, &fd) < 0 || ioctl(fd, SIOCOUTQ, &unread) < 0)
		return 0;
	return unread;
}

/*
 * True when our last handshake still waits to be read: by the client's own queue, or in the
 * socket, where QEMU leaves it while the guest's port is closed (the guest paused, migrating in,
 * booting, or its agent not running). Another handshake would only pile up behind it.
 */
static bool client_handshake_unread(agent_client *c)
{
	return c->sync_id &&
	       (uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) > 0 || client_unread_bytes(c) > 0);
}

static json_object *client_hello_args(void)
{
	json_object *args = json_object_new_object();

	if (args) {
		json_object_object_add(args, "min-version", json_object_new_int(AGENT_PROTOCOL_VERSION_MIN));
		json_object_object_add(args, "max-version", json_object_new_int(AGENT_PROTOCOL_VERSION_MAX));
		json_object_object_add(args, "client", json_object_new_string("dmigrate"));
	}
	return args;
}

/*
 * Sends 0xFF + sync with hello right behind it, and arms the handshake's deadline. Hello does
 * not wait for the sync's answer: the agent answers in the order it reads, so the reply to
 * hello follows the reply to the sync, and the link is ready after one round trip instead of
 * two. That round trip is into a guest that may have just resumed, where it costs tens of ms
 * (BENCHMARKS.md, issue 18). Whatever arrives before the sync's reply is still discarded.
 */
static void client_handshake_send(agent_client *c)
{
	_cleanup_json_ json_object *sync = NULL, *hello = NULL;
	char *line;
	size_t len;
	int r;

	c->handshake_deadline = uv_now(c->loop) + c->sync_timeout_ms;
	if (client_handshake_unread(c)) {
		log_debug("agent client: the last handshake is not read yet; not sent again");
		client_timer_update(c);
		return;
	}
	c->syncs_sent++;
	c->sync_id = client_sync_id_new();
	c->hello_id = client_sync_id_new();
	sync = agent_request_new(c->sync_id, "sync", NULL);
	hello = agent_request_new(c->hello_id, "hello", client_hello_args());
	/* Two writes on one stream go out in order, hello right behind the sync. */
	r = sync && hello ? 0 : -ENOMEM;
	if (r >= 0)
		r = client_format(sync, true, &line, &len);
	if (r >= 0)
		r = client_write(c, line, len);
	if (r >= 0)
		r = client_format(hello, false, &line, &len);
	if (r >= 0)
		r = client_write(c, line, len);
	if (r < 0) {
		log_debug_errno(r, "agent client: failed to send the handshake: %m");
		client_disconnect(c, r);
		return;
	}
	client_timer_update(c);
}

static void client_sync_start(agent_client *c)
{
	if (c->state == AGENT_CLIENT_DISCONNECTED)
		return;
	c->state = AGENT_CLIENT_SYNCING;
	client_handshake_send(c);
}

static void client_queue_flush(agent_client *c)
{
	uint64_t now = uv_now(c->loop);

	for (call_node *call = c->calls.head; call; call = call->next) {
		char *line;
		int r;

		/*
		 * Past its deadline already (the handshake ended in the same turn): it times out
		 * unsent; sent, its timeout would look like an unanswered request and resync again.
		 */
		if (!call->line || call->deadline <= now)
			continue;
		line = TAKE_PTR(call->line);
		((agent_call *)call)->sent_ms = now;
		r = client_write(c, line, call->len);
		if (r < 0) {
			client_disconnect(c, r);
			return;
		}
	}
}

static int client_hello_done(agent_client *c, json_object *ret)
{
	json_object *v, *agent, *commands;
	int64_t version;

	if (!json_object_object_get_ex(ret, "version", &v) || !json_object_is_type(v, json_type_int) ||
	    !json_object_object_get_ex(ret, "agent", &agent) || !json_object_is_type(agent, json_type_string) ||
	    !json_object_object_get_ex(ret, "commands", &commands) ||
	    !json_object_is_type(commands, json_type_array))
		return -EPROTO;
	version = json_object_get_int64(v);
	if (version < AGENT_PROTOCOL_VERSION_MIN || version > AGENT_PROTOCOL_VERSION_MAX)
		return -EPROTONOSUPPORT;

	free(c->agent);
	c->agent = strndup(json_object_get_string(agent), 128);
	json_object_put(c->commands);
	c->commands = json_object_get(commands);
	c->version = (unsigned)version;
	return c->agent ? 0 : -ENOMEM;
}

static agent_call *client_call_take(agent_client *c, int64_t id)
{
	return (agent_call *)call_queue_take_sent(&c->calls, id);
}

static void client_reply(agent_client *c, const agent_message *m)
{
	char why[AGENT_PROTOCOL_MAX_ERROR_MESSAGE];
	agent_call *call;
	int r;

	if (c->state == AGENT_CLIENT_SYNCING && m->id == c->sync_id) {
		/* hello is on its way already (client_handshake_send()) */
		if (m->kind == AGENT_MESSAGE_RETURN)
			c->state = AGENT_CLIENT_HELLO;
		return;
	}
	if (c->state == AGENT_CLIENT_HELLO && m->id == c->hello_id) {
		c->unanswered_handshakes = 0;
		r = m->kind == AGENT_MESSAGE_RETURN ? client_hello_done(c, m->value) : agent_error_to_errno(m->name);
		if (r < 0) {
			log_debug_errno(r, "agent client: hello refused (%s): %m", m->message ?: "bad reply");
			client_disconnect(c, r);
			return;
		}
		c->state = AGENT_CLIENT_READY;
		if (!c->was_ready)
			log_info("agent client: the link is ready %" PRIu64 " ms after it opened (%u handshake%s sent)",
				 uv_now(c->loop) - c->opened_ms, c->syncs_sent, c->syncs_sent == 1 ? "" : "s");
		c->was_ready = true;
		client_timer_update(c);
		client_queue_flush(c);
		if (c->state == AGENT_CLIENT_READY && c->cbs.ready)
			c->cbs.ready(c, c->userdata);
		return;
	}
	/* Until the sync reply, whatever arrives may be the tail of an older exchange. */
	if (c->state == AGENT_CLIENT_SYNCING || !m->has_id)
		return;
	call = client_call_take(c, m->id);
	if (!call)
		return;
	client_timer_update(c);
	c->reply_sent_ms = call->sent_ms;
	if (m->kind == AGENT_MESSAGE_ERROR)
		call->cb(c, agent_error_to_errno(m->name), NULL, m->name, m->message, call->userdata);
	else if (agent_reply_check(call->cmd, call->args, m->value, why, sizeof(why)) < 0) {
		log_warning("Guest agent answered falsely: %s", why);
		call->cb(c, -EBADMSG, NULL, NULL, why, call->userdata);
	} else
		call->cb(c, 0, m->value, NULL, NULL, call->userdata);
	call_free(call);
}

static int client_message(void *userdata, json_stream_event event, json_object *msg)
{
	_cleanup_json_ json_object *owned = msg;
	agent_client *c = userdata;
	agent_message m;

	if (event != JSON_STREAM_MESSAGE) {
		if (event != JSON_STREAM_RESYNC)
			log_debug("agent client: dropped a malformed or oversized line from the agent");
		return 0;
	}
	if (agent_message_parse(owned, &m) < 0) {
		log_debug("agent client: ignored a message that is neither a reply nor an event");
		return 0;
	}
	if (m.kind == AGENT_MESSAGE_EVENT) {
		if (c->cbs.event)
			c->cbs.event(c, m.name, m.value, c->userdata);
	} else
		client_reply(c, &m);
	/* A callback may have closed us: stop reading what is left of the buffer. */
	return c->closing || c->state == AGENT_CLIENT_DISCONNECTED ? -ECANCELED : 0;
}

static void client_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	agent_client *c = h->data;

	*buf = uv_buf_init(c->rbuf, sizeof(c->rbuf));
}

static void client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

static void client_turn_end(uv_check_t *h)
{
	agent_client *c = h->data;

	uv_check_stop(h);
	c->turn_bytes = 0;
	if (!c->closing && c->state != AGENT_CLIENT_DISCONNECTED)
		uv_read_start((uv_stream_t *)&c->pipe, client_alloc, client_read);
}

static void client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	agent_client *c = s->data;
	int r;

	if (n == 0)
		return;
	if (n < 0) {
		client_disconnect(c, n == UV_EOF ? -ECONNRESET : (int)n);
		return;
	}
	c->bytes_read += (uint64_t)n;
	r = json_stream_feed(c->stream, buf->base, (size_t)n, client_message, c);
	if (r < 0 && r != -ECANCELED) {
		client_disconnect(c, r);
		return;
	}
	c->turn_bytes += (size_t)n;
	if (c->turn_bytes >= AGENT_CLIENT_READ_PER_TURN && !c->closing &&
	    c->state != AGENT_CLIENT_DISCONNECTED) {
		uv_read_stop((uv_stream_t *)&c->pipe);
		uv_check_start(&c->turn_end, client_turn_end);
	}
}

static void client_timer_fire(uv_timer_t *t)
{
	agent_client *c = t->data;
	uint64_t now = uv_now(c->loop);

	/*
	 * A request that went out unanswered: the stream can no longer be trusted. The sync goes
	 * out before the callbacks run: a call that one of them makes again then waits for the
	 * handshake. Written first, its answer would arrive while we sync and be thrown away, it
	 * would time out in turn, and every retry would do the same for as long as they go on.
	 */
	if (c->state == AGENT_CLIENT_READY && call_queue_sent_expired(&c->calls, now)) {
		client_sync_start(c);
		if (c->state == AGENT_CLIENT_DISCONNECTED)
			return;
	}
	for (;;) {
		agent_call *call = (agent_call *)call_queue_pop_expired(&c->calls, now);

		if (!call)
			break;
		/* Two different faults: a link that never finished its handshake, a silent agent. */
		call->cb(c, -ETIMEDOUT, NULL, NULL,
			 call->node.line ? "no answer: the link to the agent never finished its handshake, "
					   "so the request was never sent" : NULL,
			 call->userdata);
		call_free(call);
		if (c->closing || c->state == AGENT_CLIENT_DISCONNECTED)
			return;
	}
	if (c->state != AGENT_CLIENT_READY && c->handshake_deadline <= now) {
		unsigned n = ++c->unanswered_handshakes;
		bool logged = n >= AGENT_CLIENT_SILENT_HANDSHAKES_LOGGED &&
			      n % AGENT_CLIENT_SILENT_HANDSHAKES_LOGGED == 0;

		if (client_handshake_unread(c))
			/* Not the agent's silence: nothing took the handshake from the socket yet. */
			log_full(logged ? LOG_INFO : LOG_DEBUG,
				 "agent client: the handshake is still unread %" PRIu64 " ms after the link "
				 "opened: the guest does not run, or its agent has not opened its port",
				 now - c->opened_ms);
		else if (logged)
			log_info("agent client: the agent has answered none of the last %u handshakes "
				 "(%" PRIu64 " bytes read since the link opened): syncing again", n, c->bytes_read);
		else
			log_debug("agent client: no answer to %s, syncing again",
				  c->state == AGENT_CLIENT_SYNCING ? "sync" : "hello");
		client_sync_start(c);
	}
	client_timer_update(c);
}

static void client_timer_update(agent_client *c)
{
	uint64_t next = UINT64_MAX, now = uv_now(c->loop);

	if (c->closing || c->state == AGENT_CLIENT_DISCONNECTED)
		return;
	if (c->state != AGENT_CLIENT_READY)
		next = c->handshake_deadline;
	next = call_queue_next_deadline(&c->calls, next);
	if (next == UINT64_MAX)
		uv_timer_stop(&c->timer);
	else
		uv_timer_start(&c->timer, client_timer_fire, next > now ? next - now : 0, 0);
}

static void client_fail_calls(agent_client *c, int error)
{
	agent_call *call;

	/* One at a time from the head: a callback may make new calls or close the client. */
	while ((call = (agent_call *)call_queue_pop(&c->calls))) {
		call->cb(c, error, NULL, NULL, NULL, call->userdata);
		call_free(call);
	}
}

int agent_client_open_fd(uv_loop_t *loop, int fd, const agent_client_callbacks *cbs, void *userdata,
			 agent_client **ret)
{
	agent_client *c;
	int r;

	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	r = json_stream_new(AGENT_PROTOCOL_MAX_MESSAGE, &c->stream);
	if (r < 0) {
		free(c);
		close(fd);
		return r;
	}
	r = uv_pipe_init(loop, &c->pipe, 0);
	if (r >= 0) {
		r = uv_pipe_open(&c->pipe, fd);
		if (r < 0) {
			/* The handle is initialised: it must be closed through the loop. */
			close(fd);
			c->handles_open = 1;
			c->pipe.data = c;
			agent_client_close(c);
			return r;
		}
	}
	if (r < 0) {
		json_stream_free(c->stream);
		free(c);
		close(fd);
		return r;
	}
	uv_timer_init(loop, &c->timer);
	uv_check_init(loop, &c->turn_end);
	c->handles_open = 3;
	c->loop = loop;
	c->pipe.data = c;
	c->timer.data = c;
	c->turn_end.data = c;
	if (cbs)
		c->cbs = *cbs;
	c->userdata = userdata;
	c->next_id = 1;
	c->sync_timeout_ms = AGENT_CLIENT_SYNC_TIMEOUT_MS;
	c->opened_ms = uv_now(loop);

	r = uv_read_start((uv_stream_t *)&c->pipe, client_alloc, client_read);
	if (r < 0) {
		agent_client_close(c);
		return r;
	}
	client_sync_start(c);
	*ret = c;
	return 0;
}

int agent_client_connect(uv_loop_t *loop, const char *socket_path, const agent_client_callbacks *cbs,
			 void *userdata, agent_client **ret)
{
	/* A chardev that already serves another client and has a full backlog: -EAGAIN. */
	int fd = unix_connect(socket_path);

	if (fd < 0)
		return fd;
	return agent_client_open_fd(loop, fd, cbs, userdata, ret);
}

int agent_client_call(agent_client *c, const char *cmd, json_object *args, uint64_t timeout_ms,
		      agent_reply_cb cb, void *userdata)
{
	_cleanup_json_ json_object *msg = NULL;
	_cleanup_(call_freep) agent_call *call = NULL;
	const agent_command_def *def;
	char errbuf[256];
	char *line;
	size_t len;
	int r;

	if (c->closing || c->state == AGENT_CLIENT_DISCONNECTED) {
		json_object_put(args);
		return -ENOTCONN;
	}
	def = agent_command_find(cmd);
	if (!def) {
		json_object_put(args);
		return -EOPNOTSUPP;
	}
	/* sync and hello belong to the client: a second hello would race with its own. */
	if (def->id == AGENT_CMD_SYNC || def->id == AGENT_CMD_HELLO || timeout_ms == 0 || !cb) {
		json_object_put(args);
		return -EINVAL;
	}
	r = agent_args_validate(def, args, errbuf, sizeof(errbuf));
	if (r < 0) {
		json_object_put(args);
		return log_debug_errno(r, "agent client: refusing '%s': %s", cmd, errbuf);
	}
	if (c->calls.n >= AGENT_CLIENT_MAX_PENDING) {
		json_object_put(args);
		return -EBUSY;
	}

	call = calloc(1, sizeof(*call));
	if (!call) {
		json_object_put(args);
		return -ENOMEM;
	}
	call->node.id = c->next_id;
	call->cmd = def;
	call->args = json_object_get(args);
	msg = agent_request_new(call->node.id, cmd, args);
	if (!msg)
		return -ENOMEM;
	r = client_format(msg, false, &line, &len);
	if (r < 0)
		return r;
	/*
	 * Before READY the request waits: only an agent that answered the handshake gets one.
	 * Sent behind the handshake, it would be run late by an agent that stalls, and lost to
	 * the guest's port reopening as the host connects (tests/lab's drills and hook-qmp).
	 */
	if (c->state == AGENT_CLIENT_READY) {
		r = client_write(c, line, len);
		if (r < 0)
			return r;
		call->sent_ms = uv_now(c->loop);
	} else {
		call->node.line = line;
		call->node.len = len;
	}
	c->next_id++;
	call->node.deadline = uv_now(c->loop) + timeout_ms;
	call->cb = cb;
	call->userdata = userdata;

	/* Appended, so that queued requests go out in the order they were made. */
	call_queue_append(&c->calls, &TAKE_PTR(call)->node);
	client_timer_update(c);
	return 0;
}

void agent_client_resync(agent_client *c)
{
	if (c->closing || c->state == AGENT_CLIENT_DISCONNECTED)
		return;
	client_sync_start(c);
}

void agent_client_set_sync_timeout(agent_client *c, uint64_t timeout_ms)
{
	c->sync_timeout_ms = timeout_ms > 0 ? timeout_ms : AGENT_CLIENT_SYNC_TIMEOUT_MS;
	/* Applies to the handshake under way too: the first sync went out in agent_client_open_fd(). */
	if (c->state == AGENT_CLIENT_SYNCING || c->state == AGENT_CLIENT_HELLO) {
		c->handshake_deadline = uv_now(c->loop) + c->sync_timeout_ms;
		client_timer_update(c);
	}
}

uint64_t agent_client_reply_sent_ms(const agent_client *c)
{
	return c->reply_sent_ms;
}

bool agent_client_is_ready(const agent_client *c)
{
	return c->state == AGENT_CLIENT_READY && !c->closing;
}

unsigned agent_client_get_version(const agent_client *c)
{
	return c->version;
}

const char *agent_client_get_agent(const agent_client *c)
{
	return c->agent;
}

bool agent_client_has_command(const agent_client *c, const char *cmd)
{
	if (!c->commands)
		return false;
	for (size_t i = 0; i < json_object_array_length(c->commands); i++) {
		json_object *e = json_object_array_get_idx(c->commands, i);

		if (json_object_is_type(e, json_type_string) && !strcmp(json_object_get_string(e), cmd))
			return true;
	}
	return false;
}

static void client_handle_closed(uv_handle_t *h)
{
	agent_client *c = h->data;

	if (--c->handles_open > 0)
		return;
	json_stream_free(c->stream);
	json_object_put(c->commands);
	free(c->agent);
	free(c);
}

void agent_client_close(agent_client *c)
{
	/* Also reached from the callbacks client_fail_calls() runs below. */
	if (!c || c->closing)
		return;
	c->closing = true;
	client_fail_calls(c, -ECANCELED);
	uv_close((uv_handle_t *)&c->pipe, client_handle_closed);
	if (c->handles_open == 3) {
		uv_close((uv_handle_t *)&c->timer, client_handle_closed);
		uv_close((uv_handle_t *)&c->turn_end, client_handle_closed);
	}
}
