/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A daemon-protocol connection to a peer daemon: peer_ssh's blocking handshake runs on a libuv
 * worker thread, then the pipe it returns becomes an rpc_conn and `hello` checks the version.
 */
#pragma once

#include "daemon/daemon.h"
#include "transport/rpc_conn.h"

typedef struct peer_link peer_link;

/* conn is NULL on failure, with message saying why (borrowed for the call). */
typedef void (*peer_link_cb)(peer_link *l, rpc_conn *conn, int error, const char *message,
			     void *userdata);

int peer_link_open(host_daemon *d, const peer_config *peer, peer_link_cb cb, void *userdata,
		   peer_link **ret);
/* The open connection, or NULL before the handshake and after it broke. */
rpc_conn *peer_link_conn(peer_link *l);
/* Safe at any time, also while the handshake runs (cb is then never called). */
void peer_link_close(peer_link *l);
/* Close it as a network failure would (peer_ssh_cut()): drills' drop-ssh. */
void peer_link_cut(peer_link *l);
