/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host side of the agent protocol (proto/agent-protocol.md): an asynchronous client on a
 * libuv loop, over the QEMU chardev Unix socket behind the guest's `org.dmigrate.agent.0`
 * virtio-serial port, or over any connected stream fd (tests use a socketpair).
 *
 * Life of a connection:
 *  - On open the client resynchronises (0xFF + `sync` with a random id; everything up to the
 *    matching reply is thrown away) and negotiates the version with `hello`, sent right behind
 *    the sync. When both are answered, callbacks->ready runs. Calls made before that wait in
 *    a queue; their timeouts run from the moment agent_client_call() was called.
 *  - A handshake that nothing has read from the socket yet (QEMU leaves it there while the
 *    guest does not run or its agent has not opened the port) is not sent again.
 *  - A call that times out gets -ETIMEDOUT and makes the client resynchronise (sync + hello
 *    again, then ready runs again): the agent may have died, been restarted or upgraded, or the
 *    VM may have been migrated. A sync that is not answered is retried for as long as the
 *    client is open, so a guest that boots or an agent that restarts is picked up by itself.
 *  - Reconnecting is the caller's job: after callbacks->disconnected, close this client and
 *    make a new one. A QEMU chardev serves one client at a time; a second connection sits in
 *    the listen backlog and never gets an answer.
 *
 * Callbacks run on the loop, never from inside the call that caused them (except the
 * -ECANCELED replies that agent_client_close() delivers). agent_client_close() may be called
 * from inside any callback.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>
#include <uv.h>

typedef struct agent_client agent_client;

/*
 * The outcome of one call, delivered exactly once:
 *  - error == 0: ret is the agent's "return" object (borrowed: take a reference to keep it);
 *    error_code and message are NULL.
 *  - the agent answered with an error: error is the errno that matches the protocol's error
 *    code (agent_error_to_errno() in proto/agent_protocol.h: invalid-argument → -EINVAL,
 *    unavailable → -ENODEV, timeout → -ETIMEDOUT, ...); error_code is the protocol's code
 *    ("invalid-argument") and message the agent's text, both borrowed; ret is NULL.
 *  - the agent answered "success" with something the protocol rules out (agent_reply_check.h:
 *    an active slave that is not a slave, a negative wait, ...): error is -EBADMSG, message
 *    says what was wrong; error_code and ret are NULL.
 *  - a local failure: error is -ETIMEDOUT (no answer in time), -ECANCELED (client closed),
 *    -ECONNRESET (the connection was lost); error_code and ret are NULL, and so is message but
 *    for a request that timed out unsent, the link's handshake never done: message says so.
 */
typedef void (*agent_reply_cb)(agent_client *c, int error, json_object *ret, const char *error_code,
			       const char *message, void *userdata);

typedef struct agent_client_callbacks {
	/* Sync and hello succeeded (again): agent_client_get_version() and friends are valid. */
	void (*ready)(agent_client *c, void *userdata);
	/* An event pushed by the agent ("vf-added", ...); data is borrowed, never NULL. */
	void (*event)(agent_client *c, const char *event, json_object *data, void *userdata);
	/*
	 * The connection is gone (error: -ECONNRESET on EOF, or the read/write error); pending
	 * calls have already received -ECONNRESET. The client stays allocated until closed.
	 */
	void (*disconnected)(agent_client *c, int error, void *userdata);
} agent_client_callbacks;

/* Any callback may be NULL. cbs is copied. */
int agent_client_connect(uv_loop_t *loop, const char *socket_path, const agent_client_callbacks *cbs,
			 void *userdata, agent_client **ret);
/* Takes ownership of fd (a connected stream socket) on success and on failure. */
int agent_client_open_fd(uv_loop_t *loop, int fd, const agent_client_callbacks *cbs, void *userdata,
			 agent_client **ret);

/*
 * Send cmd with args (a JSON object or NULL for none; one reference is taken on success and on
 * failure). The args are checked against the protocol table before anything is sent, so a
 * malformed call fails here with -EINVAL, and an unknown command with -EOPNOTSUPP. timeout_ms
 * must be > 0. Returns 0 and calls cb exactly once later, or a negative errno and never calls
 * cb: -EBUSY when AGENT_CLIENT_MAX_PENDING calls are in flight, -ENOTCONN after a disconnect.
 *
 * What a hostile or stalled agent can make the host hold is bounded: one line of
 * AGENT_PROTOCOL_MAX_MESSAGE bytes being read, AGENT_CLIENT_MAX_PENDING calls, and no more
 * than one unread sync (the client sends no new one while its last is still unread).
 */
#define AGENT_CLIENT_MAX_PENDING 64
int agent_client_call(agent_client *c, const char *cmd, json_object *args, uint64_t timeout_ms,
		      agent_reply_cb cb, void *userdata);

/*
 * Resynchronise now (sync + hello), e.g. after the VM was resumed on another host. Pending
 * calls stay pending: a late answer to one is still delivered, matched by id.
 */
void agent_client_resync(agent_client *c);

/* How long a sync or hello may take before it is retried (also the one under way). Default 3000 ms. */
void agent_client_set_sync_timeout(agent_client *c, uint64_t timeout_ms);

/*
 * Inside a reply callback for the agent's answer (error 0, or an error with its code): the loop
 * time (uv_now()) its request was written to the link, later than the call when the call waited
 * for the handshake. How long the request itself waited is then told apart from how long the
 * agent took (vf_activate.h). Meaningless for a timeout or a lost link.
 */
uint64_t agent_client_reply_sent_ms(const agent_client *c);

bool agent_client_is_ready(const agent_client *c);
/* The negotiated protocol version, 0 before the first ready. */
unsigned agent_client_get_version(const agent_client *c);
/* The agent's self-description from hello ("dmigrate-agent 0.1.0"), NULL before ready. */
const char *agent_client_get_agent(const agent_client *c);
/* Whether the agent announced cmd in its hello (false before ready). */
bool agent_client_has_command(const agent_client *c, const char *cmd);

/* Fails pending calls with -ECANCELED and frees the client once the loop has closed its handle. */
void agent_client_close(agent_client *c);
