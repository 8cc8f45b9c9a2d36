/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The CLI's side of the daemon protocol (proto/control-protocol.md): connect to dmigrated's Unix
 * socket, say hello, run one command to its reply on a private libuv loop, and turn whatever went
 * wrong into one message and an exit code. Every subcommand that talks to the daemon uses this.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#define CLI_SOCKET_DEFAULT "/run/dmigrate/dmigrated.sock"
#define CLI_SOCKET_ENV "DMIGRATE_SOCKET"
/* hello is answered at once by a live daemon. */
#define CLI_HELLO_TIMEOUT_MS 10000
/* list, status: the daemon answers from memory. */
#define CLI_QUERY_TIMEOUT_MS 30000
/* start, stop: QEMU has to come up or go away; the daemon bounds both itself. */
#define CLI_ACTION_TIMEOUT_MS 120000

/*
 * The exit code when the operator interrupted a command that detaches (migrate): the job goes
 * on in the daemon and its outcome is not known here. 128 + SIGINT, as shells report it.
 */
#define CLI_EXIT_DETACHED 130

/* data is borrowed for the call. */
typedef void (*cli_event_fn)(const char *event, json_object *data, void *userdata);

typedef struct cli_call {
	const char *socket; /* --socket, or NULL: $DMIGRATE_SOCKET, else CLI_SOCKET_DEFAULT */
	const char *cmd;
	json_object *args;   /* borrowed; NULL for none */
	uint64_t timeout_ms; /* 0: none (a long job whose events show it is alive) */
	cli_event_fn on_event;
	/*
	 * Set: SIGINT and SIGTERM do not kill us; on_interrupt says what happens to the job, the
	 * connection is closed (the daemon goes on) and the run returns CLI_EXIT_DETACHED.
	 */
	void (*on_interrupt)(void *userdata);
	void *userdata;
	/* Set: told whether the daemon's end went away after hello, before the reply (the daemon
	 * died under the request, or the connection broke). */
	bool *lost;
} cli_call;

/* Where the daemon listens: option, else $DMIGRATE_SOCKET (if not empty), else the default. */
const char *cli_socket_path(const char *option);

/*
 * Connect, hello, run call. Returns CLI_EXIT_OK with *ret (the reply's return value; the caller
 * owns the reference), or, after logging why once, CLI_EXIT_USAGE for an error reply the daemon
 * marks as bad input (invalid-argument, not-found) or an unusable socket path, CLI_EXIT_DETACHED
 * (see on_interrupt), or CLI_EXIT_FAILED for anything else: daemon not running, timeout,
 * connection lost, protocol mismatch, other error replies.
 */
int cli_client_run(const cli_call *call, json_object **ret);

/* The exit code for an error reply's code (control_protocol.h CONTROL_ERR_*). */
int cli_exit_code_for_error(const char *code);
