// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli/cli_client.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <uv.h>

#include "cli/cli.h"
#include "cli/cli_args.h"
#include "control_protocol.h"
#include "log.h"
#include "transport/rpc_conn.h"

/* A daemon's message is shown, not dumped: a few lines at most. */
#define CLI_MESSAGE_SHOWN 2048

typedef struct cli_client {
	uv_loop_t loop;
	rpc_conn *conn; /* NULL once closed */
	const char *path;
	const cli_call *call;
	uv_signal_t sigint, sigterm;
	bool signals_on;
	bool done;
	bool interrupted;
	const char *waiting_for; /* the command whose reply we wait for, for messages */
	uint64_t waiting_ms;
	int error;      /* how the session ended: 0, -errno, -EREMOTEIO (error reply) */
	int conn_error; /* why the daemon's end broke the connection, if it did */
	char *code, *message;
	json_object *result;
} cli_client;

const char *cli_socket_path(const char *option)
{
	const char *env;

	if (option)
		return option;
	env = getenv(CLI_SOCKET_ENV);
	return env && *env ? env : CLI_SOCKET_DEFAULT;
}

int cli_exit_code_for_error(const char *code)
{
	if (code && (!strcmp(code, CONTROL_ERR_INVALID) || !strcmp(code, CONTROL_ERR_NOT_FOUND)))
		return CLI_EXIT_USAGE;
	return CLI_EXIT_FAILED;
}

static int cli_socket_connect(const char *path, int *ret_fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path));
	/* Non-blocking: a daemon whose listen queue is full makes connect() fail, not hang. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static void cli_client_finish(cli_client *cl, int error)
{
	if (cl->done)
		return;
	cl->done = true;
	cl->error = error;
	if (cl->conn) {
		rpc_conn_close(cl->conn);
		cl->conn = NULL;
	}
	if (cl->signals_on) {
		uv_close((uv_handle_t *)&cl->sigint, NULL);
		uv_close((uv_handle_t *)&cl->sigterm, NULL);
		cl->signals_on = false;
	}
}

static void cli_client_keep_error(cli_client *cl, const char *code, const char *message)
{
	cl->code = strdup(code);
	cl->message = strdup(message);
}

static void cli_on_event(rpc_conn *c, const char *event, json_object *data, void *userdata)
{
	cli_client *cl = userdata;

	if (cl->call->on_event && !cl->done)
		cl->call->on_event(event, data, cl->call->userdata);
}

static void cli_on_reply(rpc_conn *c, int error, json_object *ret, const char *code,
			 const char *message, void *userdata)
{
	cli_client *cl = userdata;

	if (cl->done)
		return;
	if (error == -EREMOTEIO)
		cli_client_keep_error(cl, code, message);
	else if (error == 0)
		cl->result = json_object_get(ret);
	cli_client_finish(cl, error);
}

static void cli_on_hello(rpc_conn *c, int error, json_object *ret, const char *code,
			 const char *message, void *userdata)
{
	cli_client *cl = userdata;
	json_object *v;
	int64_t version = -1;
	int r;

	if (cl->done)
		return;
	if (error < 0) {
		if (error == -EREMOTEIO)
			cli_client_keep_error(cl, code, message);
		cli_client_finish(cl, error);
		return;
	}
	if (json_object_object_get_ex(ret, "version", &v) && json_object_is_type(v, json_type_int))
		version = json_object_get_int64(v);
	if (version < CONTROL_PROTOCOL_VERSION_MIN || version > CONTROL_PROTOCOL_VERSION ||
	    control_reply_validate(&control_commands[CONTROL_CMD_HELLO], ret, NULL, 0) < 0) {
		char text[160];

		snprintf(text, sizeof(text),
			 "dmigrated speaks daemon protocol version %" PRId64
			 ", this dmigrate speaks versions %d to %d; install matching versions",
			 version, CONTROL_PROTOCOL_VERSION_MIN, CONTROL_PROTOCOL_VERSION);
		cli_client_keep_error(cl, CONTROL_ERR_PROTOCOL, text);
		cli_client_finish(cl, -EPROTONOSUPPORT);
		return;
	}

	cl->waiting_for = cl->call->cmd;
	cl->waiting_ms = cl->call->timeout_ms;
	r = rpc_conn_call(c, cl->call->cmd, json_object_get(cl->call->args), cl->call->timeout_ms,
			  cli_on_event, cli_on_reply, cl);
	if (r < 0)
		cli_client_finish(cl, r);
}

static void cli_on_closed(rpc_conn *c, int error, void *userdata)
{
	cli_client *cl = userdata;

	/* Pending calls were already told (-ECONNRESET); keep the cause for the message. */
	cl->conn = NULL;
	cl->conn_error = error;
	cli_client_finish(cl, -ECONNRESET);
}

static void cli_on_signal(uv_signal_t *s, int signum)
{
	cli_client *cl = s->data;

	if (cl->done)
		return;
	cl->interrupted = true;
	cl->call->on_interrupt(cl->call->userdata);
	cli_client_finish(cl, -EINTR);
}

static int cli_client_start(cli_client *cl)
{
	static const rpc_conn_callbacks cbs = { .closed = cli_on_closed };
	_cleanup_json_ json_object *hello = json_object_new_object();
	int fd = -1, r;

	if (!hello)
		return -ENOMEM;
	json_object_object_add(hello, "version", json_object_new_int(CONTROL_PROTOCOL_VERSION));
	json_object_object_add(hello, "min_version", json_object_new_int(CONTROL_PROTOCOL_VERSION_MIN));
	json_object_object_add(hello, "client", json_object_new_string("dmigrate"));
	json_object_object_add(hello, "features", json_object_new_array());
	/* Catch the operator's interrupt before the daemon can start anything for us. */
	if (cl->call->on_interrupt) {
		uv_signal_init(&cl->loop, &cl->sigint);
		uv_signal_init(&cl->loop, &cl->sigterm);
		cl->sigint.data = cl->sigterm.data = cl;
		cl->signals_on = true;
		uv_signal_start(&cl->sigint, cli_on_signal, SIGINT);
		uv_signal_start(&cl->sigterm, cli_on_signal, SIGTERM);
	}

	r = cli_socket_connect(cl->path, &fd);
	if (r < 0)
		return r;
	r = rpc_conn_new(&cl->loop, fd, &cbs, cl, &cl->conn);
	if (r < 0)
		return r;

	cl->waiting_for = "hello";
	cl->waiting_ms = CLI_HELLO_TIMEOUT_MS;
	return rpc_conn_call(cl->conn, "hello", TAKE_PTR(hello), CLI_HELLO_TIMEOUT_MS, NULL,
			     cli_on_hello, cl);
}

/* One message for whatever ended the session early; returns the exit code. */
static int cli_client_report(cli_client *cl)
{
	char q[CLI_QUOTE_SIZE], m[CLI_MESSAGE_SHOWN];
	int r = cl->error;

	if (cl->interrupted)
		return CLI_EXIT_DETACHED;
	if (r == -EREMOTEIO || r == -EPROTONOSUPPORT) {
		log_error("%s", cli_quote(cl->message ? cl->message : "(no message)", m, sizeof(m)));
		/* Only the command's own verdict on our input is a usage error, not hello's. */
		return strcmp(cl->waiting_for, "hello") ? cli_exit_code_for_error(cl->code)
							: CLI_EXIT_FAILED;
	}
	cli_quote(cl->path, q, sizeof(q));
	switch (r) {
	case -ENAMETOOLONG:
		log_error("The daemon socket path '%s' is too long for a Unix socket (at most %zu "
			  "bytes); give a shorter --socket or %s.",
			  q, sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1, CLI_SOCKET_ENV);
		return CLI_EXIT_USAGE;
	case -ENOENT:
	case -ECONNREFUSED:
	case -ENOTSOCK:
		log_error_errno(r, "Cannot reach dmigrated at '%s': %m; is the daemon running?", q);
		break;
	case -EACCES:
	case -EPERM:
		log_error_errno(r, "Cannot reach dmigrated at '%s': %m; its socket is for root only.",
				q);
		break;
	case -EAGAIN:
		log_error("dmigrated at '%s' accepts no more connections right now (its queue is "
			  "full); try again.",
			  q);
		break;
	case -ETIMEDOUT:
		log_error("dmigrated at '%s' did not answer '%s' within %" PRIu64 " s.", q,
			  cl->waiting_for, cl->waiting_ms / 1000);
		break;
	case -ECONNRESET:
		if (cl->conn_error == -EPROTO)
			log_error("dmigrated at '%s' sent a message this dmigrate cannot read while "
				  "answering '%s'; the connection was dropped.",
				  q, cl->waiting_for);
		else
			log_error("Lost the connection to dmigrated at '%s' before it answered '%s': "
				  "the daemon may have stopped. Once it runs again, check with "
				  "'dmigrate list'.",
				  q, cl->waiting_for);
		break;
	default:
		log_error_errno(r, "Failed to talk to dmigrated at '%s' ('%s'): %m", q,
				cl->waiting_for ? cl->waiting_for : "connect");
		break;
	}
	return CLI_EXIT_FAILED;
}

int cli_client_run(const cli_call *call, json_object **ret)
{
	cli_client cl = { .path = cli_socket_path(call->socket), .call = call };
	int r, rc;

	if (!cl.path[0]) {
		log_error("The daemon socket path is empty; give --socket PATH, or leave it out for "
			  "the default (%s).",
			  CLI_SOCKET_DEFAULT);
		return CLI_EXIT_USAGE;
	}
	/* A daemon that goes away while we write must give an error, not kill us silently. */
	signal(SIGPIPE, SIG_IGN);
	r = uv_loop_init(&cl.loop);
	if (r < 0) {
		log_error_errno(r, "Failed to set up an event loop: %m");
		return CLI_EXIT_FAILED;
	}

	r = cli_client_start(&cl);
	if (r < 0)
		cli_client_finish(&cl, r);
	/* Runs until the reply, an interrupt or a failure closed every handle. */
	uv_run(&cl.loop, UV_RUN_DEFAULT);
	if (call->lost)
		*call->lost = cl.error == -ECONNRESET && cl.conn_error != -EPROTO && cl.waiting_for &&
			      strcmp(cl.waiting_for, "hello");
	if (uv_loop_close(&cl.loop) < 0)
		log_debug("The CLI's event loop still had handles at exit");

	if (!cl.done)
		cl.error = -ECONNRESET;
	if (cl.done && cl.error == 0 && cl.result) {
		*ret = TAKE_PTR(cl.result);
		rc = CLI_EXIT_OK;
	} else {
		if (cl.error == 0)
			cl.error = -EBADMSG;
		rc = cli_client_report(&cl);
	}
	json_object_put(cl.result);
	free(cl.code);
	free(cl.message);
	return rc;
}
