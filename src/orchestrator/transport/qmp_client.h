/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An asynchronous QMP client on a libuv loop: QEMU's monitor socket (`-qmp unix:PATH,server=on`)
 * or any connected stream fd (tests use a socketpair and tests/unit/mock_qmp.h).
 *
 * Life of a connection:
 *  - QEMU speaks first with its greeting ({"QMP": {"version": ..., "capabilities": [...]}}); the
 *    client answers with `qmp_capabilities` (no optional capability: no OOB) and, once QEMU has
 *    accepted it, callbacks->ready runs. The whole handshake must finish within the handshake
 *    timeout (QMP_CLIENT_HANDSHAKE_TIMEOUT_MS unless changed), else the client disconnects with
 *    -ETIMEDOUT. Commands executed before ready wait in a queue; their timeouts run from the
 *    moment qmp_client_execute() was called.
 *  - Every command carries a numeric "id" that QEMU echoes; replies are matched by it, so a late
 *    reply to a command that already timed out is recognised and dropped.
 *  - Events are delivered in the order QEMU sent them, interleaved with replies as on the wire.
 *  - Connecting is one non-blocking connect(): a QEMU that has not created its socket yet gives
 *    -ENOENT, one that is not listening (yet) -ECONNREFUSED, a full backlog -EAGAIN, at once.
 *    Retrying is the caller's job.
 *
 * Hostile or broken input (QEMU never sends it, but the socket may be anything):
 *  - Disconnects, with callbacks->disconnected(error):
 *      -EMSGSIZE  a line longer than QMP_CLIENT_MAX_MESSAGE (1 MiB; QEMU's largest usual reply,
 *                 query-qmp-schema, is a few hundred KiB): something is badly wrong, and dropping
 *                 it could silently lose a reply;
 *      -EPROTO    the first message is not a greeting, or QEMU rejected `qmp_capabilities`;
 *      -ETIMEDOUT no greeting + capabilities within the handshake timeout;
 *      -ECONNRESET EOF; or the read/write error from the socket.
 *  - Counted in qmp_client_stats.ignored and dropped, the stream goes on: a line that is not JSON
 *    or not an object, a 0xFF resync byte, an object with none of "QMP", "return", "error",
 *    "event", a reply whose id is missing, not an integer, or not one we are waiting for, an
 *    event whose name is not a string, a second greeting.
 *  - A reply whose id we are waiting for but whose body is malformed (both or neither of "return"
 *    and "error", "return" null, "error" not an object, "class" or "desc" not strings) completes
 *    that command with -EBADMSG, rather than leaving it to time out.
 *
 * Callbacks run on the loop, never from inside the call that caused them (except the -ECANCELED
 * replies that qmp_client_close() delivers). qmp_client_close() may be called from inside any
 * callback; the callback's own arguments stay valid until it returns.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>
#include <uv.h>

/* The longest line accepted from QEMU or sent to it, without the '\n'. */
#define QMP_CLIENT_MAX_MESSAGE (1024 * 1024)
/* Commands queued or in flight at once; qmp_client_execute() says -EBUSY beyond. */
#define QMP_CLIENT_MAX_PENDING 64
#define QMP_CLIENT_HANDSHAKE_TIMEOUT_MS 10000

typedef struct qmp_client qmp_client;

/*
 * The outcome of one command, delivered exactly once:
 *  - error == 0: ret is QEMU's "return" value, never NULL (usually an object, an array for some
 *    query-* commands; borrowed: take a reference to keep it); error_class and error_desc are
 *    NULL.
 *  - error == -EREMOTEIO: QEMU answered with an error; error_class ("GenericError",
 *    "CommandNotFound", "DeviceNotFound", ...) and error_desc (QEMU's text) are borrowed and
 *    never NULL; ret is NULL.
 *  - a local failure: -ETIMEDOUT (no reply in time), -ECONNRESET (QEMU went away or the
 *    connection was dropped before the reply), -ECANCELED (qmp_client_close()), -EBADMSG (a
 *    malformed reply, see above); ret, error_class and error_desc are NULL.
 */
typedef void (*qmp_reply_cb)(qmp_client *c, int error, json_object *ret, const char *error_class,
			     const char *error_desc, void *userdata);

typedef struct qmp_client_callbacks {
	/* Greeting seen and `qmp_capabilities` accepted: commands are now sent as they come. */
	void (*ready)(qmp_client *c, void *userdata);
	/*
	 * An event (name: "STOP", "DEVICE_DELETED", "MIGRATION", ...). data is its "data" member
	 * and timestamp its "timestamp" member ({"seconds": S, "microseconds": US}); both are
	 * borrowed and may be NULL (QEMU omits data for some events).
	 */
	void (*event)(qmp_client *c, const char *name, json_object *data, json_object *timestamp,
		      void *userdata);
	/*
	 * The connection is gone (error: see the list above). Every pending command has already
	 * received -ECONNRESET. Runs at most once, never after qmp_client_close(). The client
	 * stays allocated until closed.
	 */
	void (*disconnected)(qmp_client *c, int error, void *userdata);
} qmp_client_callbacks;

/* Any callback may be NULL. cbs is copied. */
int qmp_client_connect(uv_loop_t *loop, const char *socket_path, const qmp_client_callbacks *cbs,
		       void *userdata, qmp_client **ret);
/* Takes ownership of fd (a connected stream socket) on success and on failure. */
int qmp_client_open_fd(uv_loop_t *loop, int fd, const qmp_client_callbacks *cbs, void *userdata,
		       qmp_client **ret);

/*
 * Send command with args (a JSON object or NULL for none; one reference is taken on success and
 * on failure). timeout_ms must be > 0. Returns 0 and calls cb exactly once later, or a negative
 * errno and never calls cb: -EINVAL (bad arguments), -EBUSY (QMP_CLIENT_MAX_PENDING commands
 * pending), -EMSGSIZE (the command would exceed QMP_CLIENT_MAX_MESSAGE), -ENOTCONN (after a
 * disconnect, or after qmp_client_close() from inside a callback), -ENOMEM.
 */
int qmp_client_execute(qmp_client *c, const char *command, json_object *args, uint64_t timeout_ms,
		       qmp_reply_cb cb, void *userdata);

/*
 * Build the arguments of a command from key/value string pairs, NULL-terminated:
 *     qmp_client_execute(c, "device_del", qmp_args_new("id", "vf0", NULL), 10000, cb, ud);
 * Returns a new object, or NULL when out of memory.
 * Arguments of other types: build them with json_object_new_object() and friends.
 */
json_object *qmp_args_new(const char *key, ...) __attribute__((sentinel));

/* Change the handshake timeout; restarts it from now if the handshake is still going on. */
void qmp_client_set_handshake_timeout(qmp_client *c, uint64_t timeout_ms);

bool qmp_client_is_ready(const qmp_client *c);
/* QEMU's version from the greeting ("version" → "qemu"); -ENODATA before the greeting. */
int qmp_client_get_version(const qmp_client *c, unsigned *ret_major, unsigned *ret_minor,
			   unsigned *ret_micro);

typedef struct qmp_client_stats {
	uint64_t ignored; /* messages dropped as described above */
	uint64_t events;  /* events delivered */
	uint64_t replies; /* replies matched to a command */
} qmp_client_stats;
void qmp_client_get_stats(const qmp_client *c, qmp_client_stats *ret);

/* Fails pending commands with -ECANCELED and frees the client once the loop has closed its handles. */
void qmp_client_close(qmp_client *c);
