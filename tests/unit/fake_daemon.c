// SPDX-License-Identifier: GPL-2.0-or-later
#include "fake_daemon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control_protocol.h"
#include "test.h"

#define FAKE_MAX_CONNS 8
#define FAKE_MAX_HELD 8

typedef struct fake_held {
	rpc_request *req;
	rpc_conn *conn;
} fake_held;

struct fake_daemon {
	int fd;
	uv_poll_t listener;
	fake_daemon_handler handler;
	void *userdata;
	int version;
	rpc_conn *conns[FAKE_MAX_CONNS];
	fake_held held[FAKE_MAX_HELD];
	unsigned n_connections, n_disconnects, n_abandoned;
	char commands[1024];
	char *last_cmd;
	json_object *last_args, *hello_args;
	json_object *hello_ret; /* fake_daemon_set_hello(), or NULL for the default */
};

static void fake_conn_forget(fake_daemon *d, rpc_conn *c)
{
	for (size_t i = 0; i < FAKE_MAX_CONNS; i++)
		if (d->conns[i] == c)
			d->conns[i] = NULL;
	/* What the CLI left unanswered: the reply goes nowhere, and frees the request. */
	for (size_t i = 0; i < FAKE_MAX_HELD; i++)
		if (d->held[i].req && d->held[i].conn == c) {
			rpc_request_reply(d->held[i].req, NULL);
			d->held[i].req = NULL;
			d->n_abandoned++;
		}
}

static void fake_on_closed(rpc_conn *c, int error, void *userdata)
{
	fake_daemon *d = userdata;

	d->n_disconnects++;
	fake_conn_forget(d, c);
}

static void fake_on_request(rpc_conn *c, rpc_request *req, const char *cmd, json_object *args,
			    void *userdata)
{
	fake_daemon *d = userdata;
	size_t len = strlen(d->commands);

	snprintf(d->commands + len, sizeof(d->commands) - len, "%s%s", len ? " " : "", cmd);
	if (!strcmp(cmd, "hello")) {
		json_object *ret = json_object_new_object();

		if (!d->hello_args)
			d->hello_args = json_object_get(args);
		if (d->hello_ret) {
			json_object_put(ret);
			rpc_request_reply(req, json_object_get(d->hello_ret));
			return;
		}
		json_object_object_add(ret, "version", json_object_new_int(d->version));
		json_object_object_add(ret, "host", json_object_new_string("hostA"));
		json_object_object_add(ret, "qemu", json_object_new_string("7.2.0"));
		json_object_object_add(ret, "features", json_object_new_array());
		rpc_request_reply(req, ret);
		return;
	}
	free(d->last_cmd);
	d->last_cmd = strdup(cmd);
	json_object_put(d->last_args);
	d->last_args = json_object_get(args);
	d->handler(d, req, cmd, args, d->userdata);
}

static void fake_on_accept(uv_poll_t *p, int status, int events)
{
	static const rpc_conn_callbacks cbs = { .request = fake_on_request,
						.closed = fake_on_closed };
	fake_daemon *d = p->data;
	size_t slot;
	int fd;

	fd = accept4(d->fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (slot = 0; slot < FAKE_MAX_CONNS && d->conns[slot]; slot++)
		;
	if (slot == FAKE_MAX_CONNS)
		TEST_FAIL("fake daemon: more than %d connections at once", FAKE_MAX_CONNS);
	ASSERT_OK(rpc_conn_new(p->loop, fd, &cbs, d, &d->conns[slot]));
	d->n_connections++;
}

int fake_daemon_new(uv_loop_t *loop, const char *path, fake_daemon_handler handler,
		    void *userdata, fake_daemon **ret)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	fake_daemon *d;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path));
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->handler = handler;
	d->userdata = userdata;
	d->version = CONTROL_PROTOCOL_VERSION;
	d->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (d->fd < 0 || bind(d->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(d->fd, 8) < 0) {
		int r = -errno;

		if (d->fd >= 0)
			close(d->fd);
		free(d);
		return r;
	}
	uv_poll_init(loop, &d->listener, d->fd);
	d->listener.data = d;
	uv_poll_start(&d->listener, UV_READABLE, fake_on_accept);
	*ret = d;
	return 0;
}

static void fake_daemon_free_cb(uv_handle_t *h)
{
	fake_daemon *d = h->data;

	close(d->fd);
	free(d->last_cmd);
	json_object_put(d->last_args);
	json_object_put(d->hello_args);
	json_object_put(d->hello_ret);
	free(d);
}

void fake_daemon_free(fake_daemon *d)
{
	for (size_t i = 0; i < FAKE_MAX_CONNS; i++)
		if (d->conns[i]) {
			rpc_conn *c = d->conns[i];

			fake_conn_forget(d, c);
			rpc_conn_close(c);
		}
	uv_close((uv_handle_t *)&d->listener, fake_daemon_free_cb);
}

void fake_daemon_set_hello(fake_daemon *d, const char *return_json)
{
	json_object_put(d->hello_ret);
	d->hello_ret = json_tokener_parse(return_json);
	if (!d->hello_ret)
		TEST_FAIL("fake_daemon_set_hello: not JSON: %s", return_json);
}

void fake_daemon_set_version(fake_daemon *d, int version)
{
	d->version = version;
}

void fake_daemon_disconnect(fake_daemon *d, rpc_request *req)
{
	rpc_conn *c = rpc_request_conn(req);

	fake_conn_forget(d, c);
	rpc_conn_close(c);
	rpc_request_reply(req, NULL); /* detached by the close: only frees req */
}

void fake_daemon_hold(fake_daemon *d, rpc_request *req)
{
	for (size_t i = 0; i < FAKE_MAX_HELD; i++)
		if (!d->held[i].req) {
			d->held[i].req = req;
			d->held[i].conn = rpc_request_conn(req);
			return;
		}
	TEST_FAIL("fake daemon: more than %d held requests", FAKE_MAX_HELD);
}

unsigned fake_daemon_connections(const fake_daemon *d)
{
	return d->n_connections;
}

unsigned fake_daemon_disconnects(const fake_daemon *d)
{
	return d->n_disconnects;
}

unsigned fake_daemon_abandoned(const fake_daemon *d)
{
	return d->n_abandoned;
}

const char *fake_daemon_commands(const fake_daemon *d)
{
	return d->commands;
}

const char *fake_daemon_last_cmd(const fake_daemon *d)
{
	return d->last_cmd;
}

json_object *fake_daemon_last_args(const fake_daemon *d)
{
	return d->last_args;
}

json_object *fake_daemon_hello_args(const fake_daemon *d)
{
	return d->hello_args;
}
