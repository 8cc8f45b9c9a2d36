// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The daemon-protocol connection as its peer sees it: arbitrary bytes from the other end of a
 * socketpair, in arbitrary pieces, into a real rpc_conn on a real loop. Three calls wait for
 * replies (ids 1, 2, 3), and the callbacks do what the daemon and the CLI do — answer at once,
 * send events, hold a request to answer later, start another call from a reply, close from a
 * reply, an event or a request — so id matching, the in-flight limit and every close path are
 * fuzzed along with the parsing. The loop then runs until the peer's EOF is seen and every
 * handle is closed: ASan/LSan report anything left behind.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control_protocol.h"
#include "fuzz-socket.h"
#include "macro.h"
#include "transport/rpc_conn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fuzz_state {
	rpc_conn *conn;
	bool gone;  /* `closed` ran, or a callback closed it: not ours to close any more */
	int budget; /* calls a reply may still start, so a loop of replies ends */
	bool close_on_reset; /* the owner closes when a call hears the connection reset */
	rpc_request *held[CONTROL_MAX_IN_FLIGHT + 1];
	size_t n_held;
} fuzz_state;

static void fuzz_close(fuzz_state *s)
{
	if (!s->gone) {
		rpc_conn_close(s->conn);
		s->gone = true;
	}
}

static void on_reply(rpc_conn *c, int error, json_object *ret, const char *code,
		     const char *message, void *userdata);

static void on_event(rpc_conn *c, const char *event, json_object *data, void *userdata)
{
	fuzz_state *s = userdata;

	/* Touch what we were handed, so the sanitizers check it is valid. */
	(void)json_object_to_json_string(data);
	if (!strcmp(event, "close"))
		fuzz_close(s);
}

static void on_reply(rpc_conn *c, int error, json_object *ret, const char *code,
		     const char *message, void *userdata)
{
	fuzz_state *s = userdata;

	if ((code != NULL) != (error == -EREMOTEIO) || (message != NULL) != (error == -EREMOTEIO))
		abort();
	if ((code && !strcmp(code, "close")) || (error == -ECONNRESET && s->close_on_reset))
		fuzz_close(s);
	if (message)
		(void)strlen(message);
	(void)json_object_to_json_string(ret);
	if (error == 0 && json_object_object_get_ex(ret, "again", NULL) && s->budget-- > 0)
		rpc_conn_call(c, "again", NULL, 0, on_event, on_reply, s);
}

static void on_request(rpc_conn *c, rpc_request *req, const char *cmd, json_object *args,
		       void *userdata)
{
	fuzz_state *s = userdata;

	if (args && !json_object_is_type(args, json_type_object))
		abort(); /* rpc_conn refuses those itself */
	if (!strcmp(cmd, "hold") && s->n_held < ELEMENTSOF(s->held)) {
		s->held[s->n_held++] = req;
	} else if (!strcmp(cmd, "close")) {
		fuzz_close(s);
		rpc_request_reply(req, NULL);
	} else if (!strcmp(cmd, "event")) {
		rpc_request_event(req, "progress", args ? json_object_get(args) : NULL);
		rpc_request_reply(req, args ? json_object_get(args) : NULL);
	} else if (!strcmp(cmd, "fail")) {
		rpc_request_reply_error(req, CONTROL_ERR_FAILED, "'%s' failed", cmd);
	} else if (!strcmp(cmd, "release") && s->n_held > 0) {
		/* Answer one held request: the slot it used must become free again. */
		rpc_request_reply(s->held[--s->n_held], NULL);
		rpc_request_reply(req, NULL);
	} else {
		rpc_request_reply(req, args ? json_object_get(args) : NULL);
	}
}

static void on_closed(rpc_conn *c, int error, void *userdata)
{
	fuzz_state *s = userdata;

	if (s->gone || error >= 0)
		abort(); /* once, and only with a reason */
	s->gone = true;
}

static const rpc_conn_callbacks callbacks = { .request = on_request, .closed = on_closed };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_state s = { .budget = 8 };
	fuzz_socket fs;

	if (size == 0 || !fuzz_socket_open(&fs))
		return 0;
	if (rpc_conn_new(&fs.loop, fs.ours, &callbacks, &s, &s.conn) < 0) {
		fuzz_socket_abandon(&fs);
		return 0;
	}
	rpc_conn_call(s.conn, "hello", NULL, 0, on_event, on_reply, &s);
	rpc_conn_call(s.conn, "migrate", json_object_new_object(), 0, on_event, on_reply, &s);
	rpc_conn_call(s.conn, "peer-check", NULL, 60000, on_event, on_reply, &s);

	/* The first byte picks the piece size, and its top bit whether the owner closes from a
	 * reply callback while the connection breaks. */
	s.close_on_reset = data[0] & 0x80;
	fuzz_socket_feed(&fs, data + 1, size - 1, fuzz_socket_step(data[0] & 0x7f), &s.gone);
	/* The peer hangs up: the connection must notice and end every call. */
	fuzz_socket_hang_up(&fs, &s.gone);
	if (!s.gone)
		abort(); /* EOF must end the connection */
	/* Requests still held are answered after the end: dropped, and freed. */
	for (size_t i = 0; i < s.n_held; i++)
		rpc_request_reply(s.held[i], json_object_new_object());
	uv_run(&fs.loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&fs.loop) < 0)
		abort(); /* a handle was left open */
	return 0;
}
