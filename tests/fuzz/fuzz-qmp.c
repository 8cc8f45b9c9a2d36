// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The QMP client as QEMU's peer sees it: arbitrary bytes from the monitor socket, in arbitrary
 * pieces, into a real qmp_client on a real loop. Three commands wait for replies (ids 2, 3, 4
 * once the handshake took id 1); the callbacks do what callers do — execute more from a reply,
 * close from an event — so the id matching, the state machine and the close paths are fuzzed
 * along with the parsing.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "fuzz-socket.h"
#include "transport/qmp_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fuzz_state {
	qmp_client *client;
	bool gone;   /* disconnected, or closed by a callback */
	bool closed; /* closed by a callback */
	int budget; /* commands a reply may still start, so a loop of replies ends */
} fuzz_state;

static void on_reply(qmp_client *c, int error, json_object *ret, const char *error_class,
		     const char *error_desc, void *userdata)
{
	fuzz_state *s = userdata;

	/* Touch everything handed to us, so the sanitizers check it is valid. */
	if (error_class)
		(void)strlen(error_class);
	if (error_desc)
		(void)strlen(error_desc);
	if (error == 0 && json_object_object_get_ex(ret, "again", NULL) && s->budget-- > 0)
		qmp_client_execute(c, "query-status", NULL, 1000, on_reply, s);
}

static void on_ready(qmp_client *c, void *userdata)
{
	fuzz_state *s = userdata;

	qmp_client_execute(c, "query-status", NULL, 1000, on_reply, s);
	qmp_client_execute(c, "device_del", qmp_args_new("id", "vf0", NULL), 1000, on_reply, s);
	qmp_client_execute(c, "query-migrate", NULL, 1000, on_reply, s);
}

static void on_event(qmp_client *c, const char *name, json_object *data, json_object *timestamp,
		     void *userdata)
{
	fuzz_state *s = userdata;

	(void)json_object_to_json_string(data);
	(void)json_object_to_json_string(timestamp);
	if (strcmp(name, "SHUTDOWN") == 0) {
		qmp_client_close(c);
		s->gone = s->closed = true;
	}
}

static void on_disconnected(qmp_client *c, int error, void *userdata)
{
	fuzz_state *s = userdata;

	s->gone = true;
}

static const qmp_client_callbacks callbacks = {
	.ready = on_ready,
	.event = on_event,
	.disconnected = on_disconnected,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_state s = {.budget = 8};
	fuzz_socket fs;

	if (size == 0 || !fuzz_socket_open(&fs))
		return 0;
	if (qmp_client_open_fd(&fs.loop, fs.ours, &callbacks, &s, &s.client) < 0) {
		fuzz_socket_abandon(&fs);
		return 0;
	}

	/* The first byte picks the piece size. */
	fuzz_socket_feed(&fs, data + 1, size - 1, fuzz_socket_step(data[0]), &s.gone);
	/* QEMU exits: EOF. */
	fuzz_socket_hang_up(&fs, &s.gone);
	/* Unless a SHUTDOWN event closed it already, it is ours to close. */
	if (!s.closed)
		qmp_client_close(s.client);
	uv_run(&fs.loop, UV_RUN_DEFAULT);
	uv_loop_close(&fs.loop);
	return 0;
}
