// SPDX-License-Identifier: GPL-2.0-or-later
#include "agent_server.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "agent_bond.h"
#include "agent_channel.h"
#include "agent_fault.h"
#include "json_stream.h"
#include "log.h"
#include "macro.h"

#ifndef DMIGRATE_VERSION
#define DMIGRATE_VERSION "unknown"
#endif

struct agent_job {
	agent_server *server;
	bool has_id;
	int64_t id;
	const agent_command_def *cmd;
	json_object *msg; /* holds the args */
};

struct agent_server {
	uv_loop_t *loop;
	agent_server_backend be;
	agent_bond *bond;
	agent_channel *channel;
	json_stream *stream;
	unsigned in_flight;
};

static void server_send(agent_server *s, json_object *msg, bool sync_byte)
{
	_cleanup_free_ char *line = NULL;
	size_t len;
	int r;

	if (!msg)
		return;
	r = json_stream_format(msg, AGENT_PROTOCOL_MAX_MESSAGE, &line, &len);
	json_object_put(msg);
	if (r < 0) {
		log_warning_errno(r, "Failed to format a message for the host: %m");
		return;
	}
	if (!s->channel)
		return;
	if (sync_byte) {
		/* Ends whatever line an earlier writer of this port may have left half-written. */
		const char sync = (char)JSON_STREAM_SYNC_BYTE;

		r = agent_channel_write(s->channel, &sync, 1);
		if (r < 0)
			return;
	}
	r = agent_channel_write(s->channel, line, len);
	if (r < 0)
		/* A reply lost here leaves a host waiting out its request's bound: worth a line. */
		log_info_errno(r, "Dropped a message for the host: %m");
}

static void server_reply_error(agent_server *s, bool has_id, int64_t id, agent_error_code code,
			       const char *message)
{
	log_debug("Request %lld failed: %s: %s", has_id ? (long long)id : -1LL,
		  agent_error_code_to_string(code), message);
	server_send(s, agent_reply_new_error(has_id, id, code, message), false);
}

static void job_free(agent_job *j)
{
	j->server->in_flight--;
	json_object_put(j->msg);
	free(j);
}

void agent_job_return(agent_job *j, json_object *ret)
{
	log_debug("Request %lld (%s) done", (long long)j->id, j->cmd->name);
	server_send(j->server, agent_reply_new_return(j->id, ret), j->cmd->id == AGENT_CMD_SYNC);
	job_free(j);
}

void agent_job_return_then(agent_job *j, json_object *ret, void (*written)(void *userdata, int status),
			   void *userdata)
{
	agent_server *s = j->server;

	agent_job_return(j, ret);
	if (!s->channel)
		return written(userdata, -ENOTCONN);
	agent_channel_when_written(s->channel, written, userdata);
}

/* A va_list formatter: the attribute lets the compiler check its callers' formats instead. */
_printf_(3, 0)
static void job_vfail(agent_job *j, agent_error_code code, const char *fmt, va_list ap)
{
	char message[AGENT_PROTOCOL_MAX_ERROR_MESSAGE];

	vsnprintf(message, sizeof(message), fmt, ap);
	server_reply_error(j->server, j->has_id, j->id, code, message);
	job_free(j);
}

void agent_job_fail(agent_job *j, agent_error_code code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	job_vfail(j, code, fmt, ap);
	va_end(ap);
}

void agent_job_fail_errno(agent_job *j, int error, const char *fmt, ...)
{
	agent_error_code code;
	va_list ap;

	switch (-abs(error)) {
	case -ENODEV:
		code = AGENT_ERROR_UNAVAILABLE;
		break;
	case -ENOENT:
		code = AGENT_ERROR_NOT_FOUND;
		break;
	case -EBUSY:
		code = AGENT_ERROR_BUSY;
		break;
	case -ETIMEDOUT:
		code = AGENT_ERROR_TIMEOUT;
		break;
	case -EOPNOTSUPP:
		code = AGENT_ERROR_UNSUPPORTED;
		break;
	default:
		code = AGENT_ERROR_FAILED;
		break;
	}
	va_start(ap, fmt);
	job_vfail(j, code, fmt, ap);
	va_end(ap);
}

json_object *agent_job_args(agent_job *j)
{
	json_object *args;

	if (!json_object_object_get_ex(j->msg, "args", &args) || !json_object_is_type(args, json_type_object))
		return NULL;
	return args;
}

agent_command_id agent_job_command(agent_job *j)
{
	return j->cmd->id;
}

uv_loop_t *agent_job_loop(agent_job *j)
{
	return j->server->loop;
}

static json_object *names_array(size_t n, const char *(*name)(size_t i))
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < n; i++)
		json_object_array_add(a, json_object_new_string(name(i)));
	return a;
}

static const char *command_name(size_t i)
{
	return agent_commands[i].name;
}

static const char *event_name(size_t i)
{
	return agent_events[i].name;
}

static void server_hello(agent_server *s, agent_job *j)
{
	json_object *args = agent_job_args(j), *o;
	int64_t lo = agent_args_get_int(args, "min-version", 0), hi = agent_args_get_int(args, "max-version", 0);
	int64_t version = hi < AGENT_PROTOCOL_VERSION_MAX ? hi : AGENT_PROTOCOL_VERSION_MAX;

	if (version < lo || version < AGENT_PROTOCOL_VERSION_MIN)
		return agent_job_fail(j, AGENT_ERROR_INCOMPATIBLE,
				      "The agent speaks versions %d to %d, the host %lld to %lld",
				      AGENT_PROTOCOL_VERSION_MIN, AGENT_PROTOCOL_VERSION_MAX, (long long)lo,
				      (long long)hi);
	log_info("Host '%s' connected, protocol version %lld",
		 agent_args_get_string(args, "client", "unnamed"), (long long)version);
	o = json_object_new_object();
	if (!o)
		return agent_job_fail(j, AGENT_ERROR_FAILED, "Out of memory");
	json_object_object_add(o, "version", json_object_new_int64(version));
	json_object_object_add(o, "agent", json_object_new_string("dmigrate-agent " DMIGRATE_VERSION));
	json_object_object_add(o, "commands", names_array(_AGENT_CMD_MAX, command_name));
	json_object_object_add(o, "events", names_array(_AGENT_EVENT_MAX, event_name));
	json_object_object_add(o, "max-message", json_object_new_int(AGENT_PROTOCOL_MAX_MESSAGE));
	agent_job_return(j, o);
}

static void server_dispatch(agent_server *s, agent_job *j)
{
	switch (j->cmd->id) {
	case AGENT_CMD_SYNC:
		return agent_job_return(j, NULL);
	case AGENT_CMD_HELLO:
		return server_hello(s, j);
	case AGENT_CMD_BOND_STATUS:
	case AGENT_CMD_BOND_SET_ACTIVE:
	case AGENT_CMD_BOND_ACTIVATE_VF:
	case AGENT_CMD_BOND_RELEASE:
	case AGENT_CMD_ANNOUNCE:
		if (!s->bond)
			return agent_job_fail(j, AGENT_ERROR_UNAVAILABLE, "This agent was started without networking");
		return agent_bond_run(s->bond, j);
	case AGENT_CMD_DID_STATUS:
	case AGENT_CMD_DID_ENABLE:
	case AGENT_CMD_DID_DISABLE:
		if (!s->be.did)
			return agent_job_fail(j, AGENT_ERROR_UNAVAILABLE, "This agent was started without DID");
		return agent_did_run(s->be.did, s->be.did_ctx, j);
	case AGENT_CMD_FAULT:
		return agent_fault_run(j, s->be.allow_faults);
	case _AGENT_CMD_MAX:
		break;
	}
	agent_job_fail(j, AGENT_ERROR_UNKNOWN_COMMAND, "'%s' is not implemented", j->cmd->name);
}

static int server_message(void *userdata, json_stream_event event, json_object *msg)
{
	_cleanup_json_ json_object *owned = msg;
	agent_server *s = userdata;
	char errbuf[256];
	agent_error_code code;
	agent_request req;
	agent_job *j;

	switch (event) {
	case JSON_STREAM_RESYNC:
		return 0;
	case JSON_STREAM_TOO_BIG:
		server_reply_error(s, false, 0, AGENT_ERROR_TOO_BIG, "The message exceeds the size cap");
		return 0;
	case JSON_STREAM_BAD_JSON:
		server_reply_error(s, false, 0, AGENT_ERROR_BAD_JSON, "The line is not one JSON value");
		return 0;
	case JSON_STREAM_MESSAGE:
		break;
	}
	if (agent_request_parse(msg, &req, &code, errbuf, sizeof(errbuf)) < 0) {
		server_reply_error(s, req.has_id, req.id, code, errbuf);
		return 0;
	}
	/* sync stays possible however busy the agent is: it is how the host recovers. */
	if (s->in_flight >= AGENT_PROTOCOL_MAX_IN_FLIGHT && req.cmd->id != AGENT_CMD_SYNC) {
		server_reply_error(s, true, req.id, AGENT_ERROR_BUSY, "Too many requests in flight");
		return 0;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		server_reply_error(s, true, req.id, AGENT_ERROR_FAILED, "Out of memory");
		return 0;
	}
	j->server = s;
	j->has_id = true;
	j->id = req.id;
	j->cmd = req.cmd;
	j->msg = TAKE_PTR(owned);
	s->in_flight++;
	log_debug("Request %lld: %s", (long long)j->id, j->cmd->name);
	server_dispatch(s, j);
	return 0;
}

static void server_data(void *userdata, const char *buf, size_t len)
{
	agent_server *s = userdata;

	json_stream_feed(s->stream, buf, len, server_message, s);
}

static void server_connected(void *userdata)
{
	agent_server *s = userdata;

	/* A partial line from the previous host must not prefix the new host's first request. */
	json_stream_reset(s->stream);
}

static const agent_channel_callbacks server_channel_cbs = {
	.data = server_data,
	.connected = server_connected,
	.hangup = server_connected,
};

int agent_server_new(uv_loop_t *loop, const agent_server_backend *backend, agent_server **ret)
{
	agent_server *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->be = *backend;
	r = json_stream_new(AGENT_PROTOCOL_MAX_MESSAGE, &s->stream);
	if (r >= 0 && s->be.net)
		r = agent_bond_new(loop, s->be.net, s->be.net_ctx, s, &s->bond);
	if (r < 0) {
		json_stream_free(s->stream);
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

int agent_server_attach_fd(agent_server *s, int fd)
{
	if (s->channel) {
		close(fd);
		return -EBUSY;
	}
	return agent_channel_new_fd(s->loop, fd, &server_channel_cbs, s, &s->channel);
}

int agent_server_attach_port(agent_server *s, const char *path)
{
	if (s->channel)
		return -EBUSY;
	return agent_channel_new_port(s->loop, path, &server_channel_cbs, s, &s->channel);
}

void agent_server_links_changed(agent_server *s)
{
	if (s->bond)
		agent_bond_links_changed(s->bond);
}

void agent_server_event(agent_server *s, agent_event_id event, json_object *data)
{
	log_debug("Event %s", agent_events[event].name);
	server_send(s, agent_event_new(event, data), false);
}

void agent_server_free(agent_server *s)
{
	if (!s)
		return;
	/* The bond first: it fails its waiting jobs, whose replies still need the channel. */
	agent_bond_free(s->bond);
	agent_channel_free(s->channel);
	json_stream_free(s->stream);
	free(s);
}
