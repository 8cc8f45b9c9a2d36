// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dmigrated's Unix sockets: accept connections and dispatch the daemon protocol's commands. The
 * control socket serves the CLI's commands, the peer socket the peer-* commands; which commands a
 * connection may send is fixed by the socket it came in on (control_protocol.h), never by what it
 * says. Every request is checked against the protocol table before a handler sees it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control_protocol.h"
#include "daemon/daemon.h"
#include "log.h"
#include "migration/migration_hook.h"
#include "migration/migration_job.h"
#include "transport/rpc_conn.h"

/* Connections at once: the CLI and peers use one each; this bounds a runaway client. */
#define DAEMON_MAX_CONNECTIONS 128

static unsigned n_connections;

/* What one connection settled on in hello. */
typedef struct daemon_conn {
	host_daemon *d;
	control_side side;
	int version; /* 0 until hello */
	bool fault_injection; /* the feature is in effect */
} daemon_conn;

typedef void (*daemon_handler)(host_daemon *d, rpc_request *req, json_object *args);

/* The CLI's commands; the peer-* commands go to the destination half (migration_dest.c). */
static const daemon_handler cli_handlers[_CONTROL_CMD_MAX] = {
	[CONTROL_CMD_LIST] = daemon_cmd_list,
	[CONTROL_CMD_STATUS] = daemon_cmd_status,
	[CONTROL_CMD_START] = daemon_cmd_start,
	[CONTROL_CMD_STOP] = daemon_cmd_stop,
	[CONTROL_CMD_MIGRATE] = daemon_cmd_migrate,
	[CONTROL_CMD_CANCEL] = daemon_cmd_cancel,
	[CONTROL_CMD_DOCTOR] = daemon_cmd_doctor,
	[CONTROL_CMD_EVACUATE] = daemon_cmd_evacuate,
	[CONTROL_CMD_DETACH] = daemon_cmd_detach,
	[CONTROL_CMD_ATTACH] = daemon_cmd_attach,
};

/* The features this daemon offers: those its config allows. */
static bool daemon_offers(host_daemon *d, const char *feature)
{
	return !strcmp(feature, CONTROL_FEATURE_FAULT_INJECTION) && d->config->fault_injection;
}

static void daemon_hello(daemon_conn *dc, rpc_request *req, json_object *args)
{
	json_object *v, *features;
	_cleanup_json_ json_object *ret = json_object_new_object(), *agreed = json_object_new_array();
	int64_t max = 0, min;
	int version;

	json_object_object_get_ex(args, "version", &v);
	max = json_object_get_int64(v);
	min = json_object_object_get_ex(args, "min_version", &v) ? json_object_get_int64(v) : max;
	version = control_version_negotiate(dc->side, min, max);
	if (version < 0 || min > max) {
		rpc_request_reply_error(req, CONTROL_ERR_INCOMPATIBLE,
					"%s speaks daemon protocol versions %d to %d on its %s socket, the client "
					"%lld to %lld: install the same dmigrate release on both ends",
					dc->d->config->name,
					dc->side == CONTROL_SIDE_PEER ? CONTROL_PROTOCOL_VERSION_MIN_PEER :
									CONTROL_PROTOCOL_VERSION_MIN,
					CONTROL_PROTOCOL_VERSION, dc->side == CONTROL_SIDE_PEER ? "peer" : "control",
					(long long)min, (long long)max);
		return;
	}
	if (!ret || !agreed) {
		rpc_request_reply_error(req, CONTROL_ERR_FAILED, "Out of memory");
		return;
	}
	if (json_object_object_get_ex(args, "features", &features))
		for (size_t i = 0; i < json_object_array_length(features); i++) {
			json_object *f = json_object_array_get_idx(features, i);

			if (!daemon_offers(dc->d, json_object_get_string(f)))
				continue;
			json_object_array_add(agreed, json_object_get(f));
			if (!strcmp(json_object_get_string(f), CONTROL_FEATURE_FAULT_INJECTION))
				dc->fault_injection = true;
		}
	if (json_object_object_add(ret, "version", json_object_new_int(version)) < 0 ||
	    json_object_object_add(ret, "host", json_object_new_string(dc->d->config->name)) < 0 ||
	    json_object_object_add(ret, "qemu", json_object_new_string(dc->d->qemu_version)) < 0 ||
	    json_object_object_add(ret, "features", TAKE_PTR(agreed)) < 0) {
		rpc_request_reply_error(req, CONTROL_ERR_FAILED, "Out of memory");
		return;
	}
	dc->version = version;
	rpc_request_reply(req, TAKE_PTR(ret));
}

static bool daemon_feature_on(const daemon_conn *dc, const char *feature)
{
	return !strcmp(feature, CONTROL_FEATURE_FAULT_INJECTION) && dc->fault_injection;
}

static void daemon_on_request(rpc_conn *c, rpc_request *req, const char *name, json_object *args,
			      void *userdata)
{
	daemon_conn *dc = userdata;
	const control_command *cmd = control_command_find(name);
	char error[256];

	/* Another side's command is answered as if it did not exist: there it does not. */
	if (!cmd || !control_command_served_on(cmd, dc->side)) {
		rpc_request_reply_error(req, CONTROL_ERR_UNKNOWN_COMMAND,
					"Unknown command '%.64s' on %s's %s socket", name, dc->d->config->name,
					dc->side == CONTROL_SIDE_PEER ? "peer" : "control");
		return;
	}
	if ((cmd->id == CONTROL_CMD_HELLO) == (dc->version != 0)) {
		rpc_request_reply_error(req, CONTROL_ERR_PROTOCOL,
					dc->version ? "'hello' was sent twice on one connection" :
						      "The first request on a connection must be 'hello', not '%.64s'",
					name);
		return;
	}
	if (control_args_validate(cmd, args, error, sizeof(error)) < 0) {
		rpc_request_reply_error(req, CONTROL_ERR_INVALID, "%s", error);
		return;
	}
	if (cmd->id == CONTROL_CMD_HELLO) {
		daemon_hello(dc, req, args);
		return;
	}
	if ((int)cmd->since > dc->version || (cmd->feature && !daemon_feature_on(dc, cmd->feature))) {
		rpc_request_reply_error(req, CONTROL_ERR_UNKNOWN_COMMAND,
					"'%s' needs protocol version %u%s%s, this connection settled on %d%s", name,
					cmd->since, cmd->feature ? " and feature " : "",
					cmd->feature ? cmd->feature : "", dc->version,
					cmd->feature && !daemon_offers(dc->d, cmd->feature) ?
						" (this daemon does not offer the feature)" : "");
		return;
	}
	/* A peer's doctor is always this host's own: no asking on to another peer. */
	if (cmd->id == CONTROL_CMD_PEER_DOCTOR)
		daemon_cmd_doctor(dc->d, req, NULL);
	else if (cmd->id == CONTROL_CMD_PEER_HOOK_RELEASE)
		migration_hook_peer_release(dc->d, req, args);
	else if (cmd->side == CONTROL_SIDE_PEER)
		migration_dest_handle(dc->d, req, name, args);
	else
		cli_handlers[cmd->id](dc->d, req, args);
}

static void daemon_on_closed(rpc_conn *c, int error, void *userdata)
{
	n_connections--;
	free(userdata);
}

int daemon_control_serve_fd(host_daemon *d, control_side side, int fd)
{
	static const rpc_conn_callbacks cbs = {
		.request = daemon_on_request,
		.closed = daemon_on_closed,
	};
	daemon_conn *dc;
	rpc_conn *c;
	int r;

	if (n_connections >= DAEMON_MAX_CONNECTIONS) {
		log_warning("Refusing a connection: %d are open already", DAEMON_MAX_CONNECTIONS);
		close(fd);
		return -EMFILE;
	}
	dc = calloc(1, sizeof(*dc));
	if (!dc) {
		close(fd);
		return -ENOMEM;
	}
	dc->d = d;
	dc->side = side;
	r = rpc_conn_new(d->loop, fd, &cbs, dc, &c);
	if (r < 0) {
		free(dc);
		return r;
	}
	n_connections++;
	return 0;
}

static void daemon_on_connection(uv_poll_t *h, int status, int events)
{
	daemon_listener *l = h->data;
	int fd;

	fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warning_errno(errno, "Failed to accept a connection on '%s': %m", l->path);
		return;
	}
	(void)daemon_control_serve_fd(l->d, l->side, fd);
}

static int daemon_listen_one(host_daemon *d, daemon_listener *l, control_side side, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	*l = (daemon_listener){ .d = d, .side = side, .path = path, .fd = -1 };
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* A socket left by a killed daemon: nothing listens on it any more. */
	unlink(path);
	/* Root only: whoever can talk to the daemon can start and move VMs. */
	{
		mode_t old = umask(0077);

		r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
		umask(old);
	}
	if (r < 0 || listen(fd, 64) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	l->fd = fd;
	uv_poll_init(d->loop, &l->poll, fd);
	l->poll.data = l;
	return uv_poll_start(&l->poll, UV_READABLE, daemon_on_connection);
}

static void daemon_listener_close(daemon_listener *l)
{
	if (l->fd < 0)
		return;
	uv_poll_stop(&l->poll);
	uv_close((uv_handle_t *)&l->poll, NULL);
	close(l->fd);
	l->fd = -1;
	unlink(l->path);
}

int daemon_control_listen(host_daemon *d)
{
	int r;

	r = daemon_listen_one(d, &d->control, CONTROL_SIDE_CLI, d->config->control_socket);
	if (r < 0)
		return r;
	r = daemon_listen_one(d, &d->peer, CONTROL_SIDE_PEER, d->config->peer_socket);
	if (r < 0)
		daemon_listener_close(&d->control);
	return r;
}

void daemon_control_close(host_daemon *d)
{
	daemon_listener_close(&d->control);
	daemon_listener_close(&d->peer);
}
