// SPDX-License-Identifier: GPL-2.0-or-later
#include "transport/peer_link.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control_protocol.h"
#include "log.h"
#include "transport/peer_ssh.h"

#define PEER_HELLO_TIMEOUT_MS 10000

struct peer_link {
	host_daemon *d;
	peer_ssh_options opts;
	peer_link_cb cb;
	void *userdata;
	uv_work_t work;
	bool working;
	bool closed;
	bool local;
	/* Written by the worker, read after it finished. */
	peer_ssh *ssh;
	int fd;
	int error;
	char *message;
	rpc_conn *conn;
};

static void peer_link_free(peer_link *l, bool cut)
{
	if (l->conn)
		rpc_conn_close(l->conn);
	if (cut)
		peer_ssh_cut(l->ssh);
	else
		peer_ssh_close(l->ssh);
	free(l->message);
	free(l);
}

/* A peer whose socket is on this machine (config `link: local`, tests): no SSH in between. */
static int peer_link_connect_local(peer_link *l)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(l->opts.remote_socket) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, l->opts.remote_socket);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		if (asprintf(&l->message, "Cannot connect to the peer daemon's socket '%s': %s",
			     l->opts.remote_socket, strerror(-r)) < 0)
			l->message = NULL;
		return r;
	}
	l->fd = fd;
	return 0;
}

static void peer_link_work(uv_work_t *w)
{
	peer_link *l = w->data;

	l->error = l->local ? peer_link_connect_local(l) :
			      peer_ssh_open(&l->opts, &l->ssh, &l->fd, &l->message);
}

static void peer_link_fail(peer_link *l, int error, const char *message)
{
	peer_link_cb cb = l->cb;

	l->cb = NULL;
	if (cb)
		cb(l, NULL, error, message, l->userdata);
}

static void peer_on_hello(rpc_conn *c, int error, json_object *ret, const char *code,
			  const char *message, void *userdata)
{
	peer_link *l = userdata;
	_cleanup_free_ char *why = NULL;
	json_object *v;

	if (error == -ECANCELED)
		return;
	if (error < 0) {
		if (asprintf(&why, "Peer daemon at '%s' did not answer hello: %s", l->opts.host,
			     message ? message : strerror(-error)) < 0)
			why = NULL;
		peer_link_fail(l, error, why);
		return;
	}
	if (!json_object_object_get_ex(ret, "version", &v) ||
	    json_object_get_int(v) != CONTROL_PROTOCOL_VERSION) {
		if (asprintf(&why, "Peer daemon at '%s' speaks protocol version %s, we speak %d",
			     l->opts.host, json_object_get_string(v), CONTROL_PROTOCOL_VERSION) < 0)
			why = NULL;
		peer_link_fail(l, -EPROTONOSUPPORT, why);
		return;
	}
	if (l->cb) {
		peer_link_cb cb = l->cb;

		l->cb = NULL;
		cb(l, l->conn, 0, NULL, l->userdata);
	}
}

static void peer_on_closed(rpc_conn *c, int error, void *userdata)
{
	peer_link *l = userdata;

	/* The owner's pending calls got -ECONNRESET already; only a handshake in flight needs this. */
	l->conn = NULL;
	peer_link_fail(l, error, "The peer link closed during the handshake");
}

static void peer_link_after_work(uv_work_t *w, int status)
{
	static const rpc_conn_callbacks cbs = { .closed = peer_on_closed };
	peer_link *l = w->data;
	json_object *args;
	int r;

	l->working = false;
	if (l->closed) {
		if (l->error >= 0)
			close(l->fd);
		peer_link_free(l, false);
		return;
	}
	if (l->error < 0) {
		peer_link_fail(l, l->error, l->message);
		return;
	}
	r = rpc_conn_new(l->d->loop, l->fd, &cbs, l, &l->conn);
	if (r < 0) {
		l->conn = NULL;
		peer_link_fail(l, r, "Cannot set up the peer link");
		return;
	}
	args = json_object_new_object();
	json_object_object_add(args, "version", json_object_new_int(CONTROL_PROTOCOL_VERSION));
	json_object_object_add(args, "client", json_object_new_string(l->d->config->name));
	json_object_object_add(args, "features", json_object_new_array());
	r = rpc_conn_call(l->conn, "hello", args, PEER_HELLO_TIMEOUT_MS, NULL, peer_on_hello, l);
	if (r < 0)
		peer_link_fail(l, r, "Cannot send hello to the peer");
}

int peer_link_open(host_daemon *d, const peer_config *peer, peer_link_cb cb, void *userdata,
		   peer_link **ret)
{
	peer_link *l = calloc(1, sizeof(*l));
	int r;

	if (!l)
		return -ENOMEM;
	l->d = d;
	l->cb = cb;
	l->userdata = userdata;
	l->fd = -1;
	l->opts = (peer_ssh_options){
		.host = peer->address,
		.port = peer->port,
		.user = d->config->ssh_user,
		.identity_file = d->config->ssh_identity_file,
		.known_hosts_file = d->config->ssh_known_hosts_file,
		.remote_socket = peer->control_socket,
		.connect_timeout_ms = 10000,
	};
	l->local = peer->local;
	l->work.data = l;
	r = uv_queue_work(d->loop, &l->work, peer_link_work, peer_link_after_work);
	if (r < 0) {
		free(l);
		return r;
	}
	l->working = true;
	*ret = l;
	return 0;
}

rpc_conn *peer_link_conn(peer_link *l)
{
	return l->cb ? NULL : l->conn;
}

static void peer_link_stop(peer_link *l, bool cut)
{
	if (!l)
		return;
	l->cb = NULL;
	if (l->working) {
		/* The worker cannot be interrupted; its completion frees the link. */
		l->closed = true;
		return;
	}
	peer_link_free(l, cut);
}

void peer_link_close(peer_link *l)
{
	peer_link_stop(l, false);
}

void peer_link_cut(peer_link *l)
{
	peer_link_stop(l, true);
}
