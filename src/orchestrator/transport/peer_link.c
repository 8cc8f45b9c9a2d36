// SPDX-License-Identifier: GPL-2.0-or-later
#include "transport/peer_link.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control_protocol.h"
#include "log.h"
#include "transport/peer_reply.h"
#include "transport/peer_ssh.h"

#define PEER_HELLO_TIMEOUT_MS 10000
/* A kept link that could not open, or closed, is opened again after this, doubling to the max. */
#define PEER_KEEP_RETRY_MS 1000
#define PEER_KEEP_RETRY_MAX_MS 60000

typedef struct peer_keep peer_keep;

struct peer_link {
	host_daemon *d;
	const peer_config *peer;
	peer_ssh_options opts;
	peer_hello hello;
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
	peer_keep *keep; /* set while it is the peer's kept link, idle or lent to a migration */
	struct stat known_hosts; /* the file the peer's host key was checked against, as it was */
};

/*
 * The link to each peer, kept open between migrations (peer_links_keep()): a migration takes
 * it (peer_link_take()) instead of paying the SSH handshake in its preflight, and gives it
 * back at its end. One per peer of a daemon; a second migration to the same peer at the same
 * time opens its own link, closed at its end.
 */
struct peer_keep {
	peer_keep *next;
	host_daemon *d;
	const peer_config *peer;
	peer_link *idle;    /* open and nobody's */
	peer_link *opening; /* the handshake in flight */
	uv_timer_t *retry;
	uint64_t retry_ms;
};

static peer_keep *keeps;

static void peer_keep_lost(peer_keep *k);

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
	char problem[256];
	peer_error e;

	if (error == -ECANCELED)
		return;
	if (error < 0) {
		peer_error_clean(code, message ? message : strerror(-error), &e);
		if (asprintf(&why, "Peer daemon %s at '%s' refused hello (%s): %s", l->peer->name,
			     l->opts.host, e.code, e.message) < 0)
			why = NULL;
		peer_link_fail(l, error, why);
		return;
	}
	if (peer_reply_hello(ret, l->peer->name, &l->hello, problem, sizeof(problem)) < 0) {
		if (asprintf(&why, "Peer daemon %s at '%s': its reply to hello is refused: %s", l->peer->name,
			     l->opts.host, problem) < 0)
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
	if (l->keep && l->keep->idle == l)
		peer_keep_lost(l->keep);
}

/* We offer every feature we know; the peer answers those it knows too. */
static json_object *peer_hello_args(host_daemon *d)
{
	_cleanup_json_ json_object *args = json_object_new_object();
	json_object *features = json_object_new_array();

	if (!args || !features ||
	    json_object_object_add(args, "features", features) < 0) {
		json_object_put(features);
		return NULL;
	}
	for (size_t i = 0; i < control_n_features; i++) {
		json_object *name = json_object_new_string(control_features[i].name);

		if (!name || json_object_array_add(features, name) < 0) {
			json_object_put(name);
			return NULL;
		}
	}
	if (json_object_object_add(args, "version", json_object_new_int(CONTROL_PROTOCOL_VERSION)) < 0 ||
	    json_object_object_add(args, "min_version",
				   json_object_new_int(CONTROL_PROTOCOL_VERSION_MIN_PEER)) < 0 ||
	    json_object_object_add(args, "client", json_object_new_string(d->config->name)) < 0)
		return NULL;
	return TAKE_PTR(args);
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
		/*
		 * A link that did not open carries no word of the peer's daemon, and its users
		 * read -EREMOTEIO as that daemon's error reply (rpc_conn.h) and give up: sshd
		 * refusing the channel to the peer's socket (peer_ssh.h: its daemon restarting)
		 * is nobody listening, as for a local link: -ECONNREFUSED, retried.
		 */
		peer_link_fail(l, l->error == -EREMOTEIO ? -ECONNREFUSED : l->error, l->message);
		return;
	}
	r = rpc_conn_new(l->d->loop, l->fd, &cbs, l, &l->conn);
	if (r < 0) {
		l->conn = NULL;
		peer_link_fail(l, r, "Cannot set up the peer link");
		return;
	}
	args = peer_hello_args(l->d);
	if (!args) {
		peer_link_fail(l, -ENOMEM, "Out of memory");
		return;
	}
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
	l->peer = peer;
	l->cb = cb;
	l->userdata = userdata;
	l->fd = -1;
	l->opts = (peer_ssh_options){
		.host = peer->address,
		.port = peer->port,
		.user = d->config->ssh_user,
		.identity_file = d->config->ssh_identity_file,
		.known_hosts_file = d->config->ssh_known_hosts_file,
		.remote_socket = peer->peer_socket,
		.connect_timeout_ms = 10000,
	};
	l->local = peer->local;
	if (!l->local && stat(l->opts.known_hosts_file, &l->known_hosts) < 0)
		memset(&l->known_hosts, 0, sizeof(l->known_hosts));
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

const peer_hello *peer_link_hello(peer_link *l)
{
	return l && !l->cb && l->conn ? &l->hello : NULL;
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

/* --- links kept open between migrations --- */

static peer_keep *peer_keep_find(host_daemon *d, const peer_config *peer)
{
	for (peer_keep *k = keeps; k; k = k->next)
		if (k->d == d && k->peer == peer)
			return k;
	return NULL;
}

static void peer_keep_open(peer_keep *k);

static void peer_keep_on_timer(uv_timer_t *t)
{
	peer_keep *k = t->data;

	/* An idle link that closed is let go here, out of its connection's own callback. */
	if (k->idle && !peer_link_conn(k->idle)) {
		peer_link_close(k->idle);
		k->idle = NULL;
	}
	if (!k->idle && !k->opening)
		peer_keep_open(k);
}

static void peer_keep_retry(peer_keep *k)
{
	uv_timer_start(k->retry, peer_keep_on_timer, k->retry_ms, 0);
	k->retry_ms = k->retry_ms * 2 > PEER_KEEP_RETRY_MAX_MS ? PEER_KEEP_RETRY_MAX_MS : k->retry_ms * 2;
}

static void peer_keep_lost(peer_keep *k)
{
	log_info("The link to peer %s closed; opening it again", k->peer->name);
	peer_keep_retry(k);
}

static void peer_keep_on_open(peer_link *l, rpc_conn *conn, int error, const char *message,
			      void *userdata)
{
	peer_keep *k = userdata;

	k->opening = NULL;
	if (error < 0) {
		/* The peer's daemon may not run yet: a migration opens its own link meanwhile. */
		log_debug("Cannot open the link to peer %s yet (%s); trying again in %llu ms",
			  k->peer->name, message ? message : strerror(-error),
			  (unsigned long long)k->retry_ms);
		peer_link_close(l);
		peer_keep_retry(k);
		return;
	}
	l->keep = k;
	k->idle = l;
	k->retry_ms = PEER_KEEP_RETRY_MS;
}

static void peer_keep_open(peer_keep *k)
{
	if (peer_link_open(k->d, k->peer, peer_keep_on_open, k, &k->opening) < 0) {
		k->opening = NULL;
		peer_keep_retry(k);
	}
}

void peer_links_keep(host_daemon *d)
{
	for (size_t i = 0; i < d->config->n_peers; i++) {
		const peer_config *peer = &d->config->peers[i];
		peer_keep *k;

		if (peer_keep_find(d, peer))
			continue;
		k = calloc(1, sizeof(*k));
		if (k)
			k->retry = calloc(1, sizeof(*k->retry));
		if (!k || !k->retry) {
			free(k);
			log_warning("Out of memory: the link to peer %s opens with each migration", peer->name);
			continue;
		}
		k->d = d;
		k->peer = peer;
		k->retry_ms = PEER_KEEP_RETRY_MS;
		uv_timer_init(d->loop, k->retry);
		k->retry->data = k;
		/* The timer must not keep a loop alive that has nothing else to do. */
		uv_unref((uv_handle_t *)k->retry);
		k->next = keeps;
		keeps = k;
		peer_keep_open(k);
	}
}

/* Whether known_hosts is not the file l's host key was checked against (rewritten, replaced,
 * removed). */
static bool known_hosts_changed(const peer_link *l)
{
	struct stat st;

	if (stat(l->opts.known_hosts_file, &st) < 0)
		return true;
	return st.st_dev != l->known_hosts.st_dev || st.st_ino != l->known_hosts.st_ino ||
	       st.st_size != l->known_hosts.st_size ||
	       st.st_mtim.tv_sec != l->known_hosts.st_mtim.tv_sec ||
	       st.st_mtim.tv_nsec != l->known_hosts.st_mtim.tv_nsec ||
	       st.st_ctim.tv_sec != l->known_hosts.st_ctim.tv_sec ||
	       st.st_ctim.tv_nsec != l->known_hosts.st_ctim.tv_nsec;
}

peer_link *peer_link_take(host_daemon *d, const peer_config *peer)
{
	peer_keep *k = peer_keep_find(d, peer);
	peer_link *l;

	if (!k || !k->idle || !peer_link_conn(k->idle))
		return NULL;
	l = TAKE_PTR(k->idle);
	if (!l->local && known_hosts_changed(l)) {
		/* An operator who edits known_hosts (a host re-keyed, or one no longer trusted)
		 * expects the next migration to be checked against it, not against the file as it
		 * was when this link opened: the migration opens its own link. */
		log_info("%s changed since the link to peer %s was opened: opening a new one",
			 l->opts.known_hosts_file, peer->name);
		l->keep = NULL;
		peer_link_close(l);
		return NULL;
	}
	return l;
}

void peer_link_give_back(host_daemon *d, const peer_config *peer, peer_link *l)
{
	peer_keep *k = peer_keep_find(d, peer);

	if (k && !k->idle && !k->opening && l && peer_link_conn(l)) {
		l->keep = k;
		k->idle = l;
		return;
	}
	if (l && k && l->keep == k)
		l->keep = NULL;
	peer_link_close(l);
	/* The migration's link broke (a drill cut it, the peer restarted): open the kept one again. */
	if (k && !k->idle && !k->opening && !uv_is_active((uv_handle_t *)k->retry))
		peer_keep_open(k);
}
