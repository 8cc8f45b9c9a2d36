/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A daemon-protocol connection to a peer daemon's peer socket: peer_ssh's blocking handshake runs
 * on a libuv worker thread, then the pipe it returns becomes an rpc_conn and `hello` settles the
 * version and features (its reply checked by peer_reply_hello()).
 */
#pragma once

#include "daemon/daemon.h"
#include "transport/peer_reply.h"
#include "transport/rpc_conn.h"

typedef struct peer_link peer_link;

/* conn is NULL on failure, with message saying why (borrowed for the call). */
typedef void (*peer_link_cb)(peer_link *l, rpc_conn *conn, int error, const char *message,
			     void *userdata);

int peer_link_open(host_daemon *d, const peer_config *peer, peer_link_cb cb, void *userdata,
		   peer_link **ret);
/* The open connection, or NULL before the handshake and after it broke. */
rpc_conn *peer_link_conn(peer_link *l);
/* What the peer said in hello (version, host, features in effect); NULL while not open. */
const peer_hello *peer_link_hello(peer_link *l);
/* Safe at any time, also while the handshake runs (cb is then never called). */
void peer_link_close(peer_link *l);
/* Close it as a network failure would (peer_ssh_cut()): drills' drop-ssh. */
void peer_link_cut(peer_link *l);

/*
 * Keep a link to each of d's peers open between migrations, opened now in the background and
 * again (1 s, doubling to 60 s) whenever it could not open or closed. No SSH handshake then
 * delays a migration's preflight.
 */
void peer_links_keep(host_daemon *d);
/* The kept link to peer, open, now the caller's; NULL when there is none open (open one). */
peer_link *peer_link_take(host_daemon *d, const peer_config *peer);
/* A migration's link at its end (NULL if it has none): kept if it is open and the peer's kept
 * link is missing, closed otherwise. Takes it either way. */
void peer_link_give_back(host_daemon *d, const peer_config *peer, peer_link *l);
