/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A host daemon for the tests that drive its command handlers without starting dmigrated: a
 * config in a fresh temporary directory (hostA, one emulated slot, sockets and state below the
 * directory), loaded as dmigrated loads it, its state directory and VF pool open. No socket is
 * listening: a test serves one end of a socketpair with daemon_control_serve_fd().
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "daemon/daemon.h"
#include "transport/rpc_conn.h"

/* tmp: a mkdtemp() template, made into the directory. Asserts on any failure. */
void daemon_fixture_open(host_daemon *d, uv_loop_t *loop, char *tmp);
/* The same with the config's "peers" member, a JSON object (dmigrated.json(5)). */
void daemon_fixture_open_peers(host_daemon *d, uv_loop_t *loop, char *tmp, const char *peers);

/* What one request on a control or peer connection answered, kept whole for the test to read. */
typedef struct daemon_fixture_answer {
	bool done;
	int error;
	char code[64], message[512], ret[1024];
} daemon_fixture_answer;

/*
 * Send cmd with args_json (NULL: none) on c and run loop until it answers; asserts that it does
 * within timeout_ms.
 */
daemon_fixture_answer daemon_fixture_call(uv_loop_t *loop, rpc_conn *c, const char *cmd,
					  const char *args_json, uint64_t timeout_ms);
