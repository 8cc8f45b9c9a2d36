// SPDX-License-Identifier: GPL-2.0-or-later
/* dmigrated's Unix socket: accept connections and dispatch the daemon protocol's commands. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control_protocol.h"
#include "daemon/daemon.h"
#include "log.h"
#include "migration/migration_job.h"
#include "transport/rpc_conn.h"

/* Connections at once: the CLI and peers use one each; this bounds a runaway client. */
#define DAEMON_MAX_CONNECTIONS 128

static unsigned n_connections;

static const struct {
	const char *name;
	void (*run)(host_daemon *d, rpc_request *req, json_object *args);
} daemon_commands[] = {
	{ "hello", daemon_cmd_hello },
	{ "list", daemon_cmd_list },
	{ "status", daemon_cmd_status },
	{ "start", daemon_cmd_start },
	{ "stop", daemon_cmd_stop },
	{ "migrate", daemon_cmd_migrate },
	{ "doctor", daemon_cmd_doctor },
	{ "cancel", daemon_cmd_cancel },
};

static void daemon_on_request(rpc_conn *c, rpc_request *req, const char *cmd, json_object *args,
			      void *userdata)
{
	host_daemon *d = userdata;

	for (size_t i = 0; i < ELEMENTSOF(daemon_commands); i++)
		if (!strcmp(cmd, daemon_commands[i].name)) {
			daemon_commands[i].run(d, req, args);
			return;
		}
	if (!strncmp(cmd, "peer-", 5)) {
		migration_dest_handle(d, req, cmd, args);
		return;
	}
	rpc_request_reply_error(req, CONTROL_ERR_UNKNOWN_COMMAND, "Unknown command '%.64s'", cmd);
}

static void daemon_on_closed(rpc_conn *c, int error, void *userdata)
{
	n_connections--;
}

static void daemon_on_connection(uv_poll_t *h, int status, int events)
{
	static const rpc_conn_callbacks cbs = {
		.request = daemon_on_request,
		.closed = daemon_on_closed,
	};
	host_daemon *d = h->data;
	rpc_conn *c;
	int fd;

	fd = accept4(d->control_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warning_errno(errno, "Failed to accept a connection: %m");
		return;
	}
	if (n_connections >= DAEMON_MAX_CONNECTIONS) {
		log_warning("Refusing a connection: %d are open already", DAEMON_MAX_CONNECTIONS);
		close(fd);
		return;
	}
	if (rpc_conn_new(d->loop, fd, &cbs, d, &c) < 0)
		return;
	n_connections++;
}

int daemon_control_listen(host_daemon *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = d->config->control_socket;
	int fd, r;

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
	d->control_fd = fd;
	uv_poll_init(d->loop, &d->control, fd);
	d->control.data = d;
	return uv_poll_start(&d->control, UV_READABLE, daemon_on_connection);
}

void daemon_control_close(host_daemon *d)
{
	if (d->control_fd < 0)
		return;
	uv_poll_stop(&d->control);
	uv_close((uv_handle_t *)&d->control, NULL);
	close(d->control_fd);
	d->control_fd = -1;
	unlink(d->config->control_socket);
}
