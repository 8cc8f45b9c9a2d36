/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A scripted stand-in for dmigrated in the CLI tests. It listens on a Unix socket on the test's
 * own libuv loop and speaks the daemon protocol through the real rpc_conn (server side). It
 * answers hello itself and hands every other request to the test's handler, which may send
 * events, reply, reply with an error, close the connection, or hold the request unanswered.
 * It records what it saw so that tests can check what the CLI sent.
 *
 *     fake_daemon_new(loop, "/tmp/x/sock", handle, &script, &d);
 *     ... spawn `dmigrate ... --socket /tmp/x/sock`, run the loop until it exits ...
 *     ASSERT_STREQ(fake_daemon_last_cmd(d), "migrate");
 *     fake_daemon_free(d);   closes everything: run the loop afterwards to let it go
 */
#pragma once

#include <json-c/json.h>
#include <uv.h>

#include "transport/rpc_conn.h"

typedef struct fake_daemon fake_daemon;

/* args is borrowed for the call; req must be answered, or given to fake_daemon_hold(). */
typedef void (*fake_daemon_handler)(fake_daemon *d, rpc_request *req, const char *cmd,
				    json_object *args, void *userdata);

int fake_daemon_new(uv_loop_t *loop, const char *path, fake_daemon_handler handler,
		    void *userdata, fake_daemon **ret);
void fake_daemon_free(fake_daemon *d);

/* The protocol version hello answers with (default: CONTROL_PROTOCOL_VERSION). */
void fake_daemon_set_version(fake_daemon *d, int version);
/* Break off: close req's connection without answering, as a dying daemon would. */
void fake_daemon_disconnect(fake_daemon *d, rpc_request *req);
/* Keep req unanswered until its connection closes (then it is released). */
void fake_daemon_hold(fake_daemon *d, rpc_request *req);

unsigned fake_daemon_connections(const fake_daemon *d);
/* Connections the client closed (or broke) while the daemon was still listening. */
unsigned fake_daemon_disconnects(const fake_daemon *d);
/* Held requests whose connection closed before they were answered. */
unsigned fake_daemon_abandoned(const fake_daemon *d);
/* Every command received, hello included, space-separated: "hello migrate". */
const char *fake_daemon_commands(const fake_daemon *d);
/* The last command other than hello and its args (a reference the daemon keeps), or NULL. */
const char *fake_daemon_last_cmd(const fake_daemon *d);
json_object *fake_daemon_last_args(const fake_daemon *d);
/* The args of the first hello. */
json_object *fake_daemon_hello_args(const fake_daemon *d);
