// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The host's agent client as a hostile guest sees it: arbitrary bytes from the agent's port, in
 * arbitrary pieces, into a real agent_client on a real loop. The client's handshake ids are
 * random, so the input names them: "$S" in a line stands for the id of the last sync the client
 * sent, "$H" for its last hello (substituted line by line, after reading what the client wrote).
 * Once ready, four calls wait (ids 1 to 4: did-status, bond-status, bond-set-active to the
 * standby, bond-activate-vf), so the id matching, the answer checks (agent_reply_check.c), the
 * state machine and the close paths are fuzzed along with the parsing. A reply or an event may
 * close the client, as its owner does when it gives up on a guest.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz-socket.h"
#include "log.h"
#include "transport/agent_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fuzz_state {
	agent_client *client;
	bool gone;   /* disconnected, or closed by a callback */
	bool closed; /* closed by a callback */
	bool called;
	long long sync_id, hello_id;
} fuzz_state;

static void on_reply(agent_client *c, int error, json_object *ret, const char *code,
		     const char *message, void *userdata)
{
	fuzz_state *s = userdata;

	/* Touch everything handed to us, so the sanitizers check it is valid. */
	(void)json_object_to_json_string(ret);
	if (code)
		(void)strlen(code);
	if (message)
		(void)strlen(message);
	if (error == 0 && json_object_object_get_ex(ret, "close", NULL) && !s->gone) {
		agent_client_close(c);
		s->gone = s->closed = true;
	}
}

static void on_ready(agent_client *c, void *userdata)
{
	fuzz_state *s = userdata;

	(void)agent_client_get_agent(c);
	(void)agent_client_has_command(c, "did-status");
	if (s->called)
		return;
	s->called = true;
	agent_client_call(c, "did-status", NULL, 1000, on_reply, s);
	agent_client_call(c, "bond-status", NULL, 1000, on_reply, s);
	agent_client_call(c, "bond-set-active", json_tokener_parse("{\"role\":\"standby\"}"), 1000,
			  on_reply, s);
	agent_client_call(c, "bond-activate-vf", json_tokener_parse("{\"timeout-ms\":5000}"), 1000,
			  on_reply, s);
}

static void on_event(agent_client *c, const char *event, json_object *data, void *userdata)
{
	fuzz_state *s = userdata;

	(void)json_object_to_json_string(data);
	if (!strcmp(event, "vf-removed") && !s->gone) {
		agent_client_close(c);
		s->gone = s->closed = true;
	}
}

static void on_disconnected(agent_client *c, int error, void *userdata)
{
	fuzz_state *s = userdata;

	s->gone = true;
}

static const agent_client_callbacks callbacks = {
	.ready = on_ready,
	.event = on_event,
	.disconnected = on_disconnected,
};

/* Learn the handshake ids from what the client wrote so far. */
static void read_client(int fd, fuzz_state *s)
{
	char buf[4096];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT)) > 0) {
		buf[n] = '\0';
		for (char *p = buf; (p = strstr(p, "{\"id\":")); p++) {
			long long id = strtoll(p + 6, NULL, 10);

			if (!strncmp(strchr(p, ',') ?: "", ",\"cmd\":\"sync\"", 13))
				s->sync_id = id;
			else if (!strncmp(strchr(p, ',') ?: "", ",\"cmd\":\"hello\"", 14))
				s->hello_id = id;
		}
	}
}

/* One line of input with $S and $H replaced, in *out (malloc()ed). */
static size_t substitute(const uint8_t *line, size_t len, const fuzz_state *s, char **out)
{
	char *o = malloc(len * 10 + 1); /* "$S" (2 bytes) becomes at most 20 digits */
	size_t n = 0;

	*out = o;
	if (!o)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (line[i] == '$' && i + 1 < len && (line[i + 1] == 'S' || line[i + 1] == 'H')) {
			n += (size_t)sprintf(o + n, "%lld", line[i + 1] == 'S' ? s->sync_id : s->hello_id);
			i++;
		} else
			o[n++] = (char)line[i];
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_state s = { 0 };
	fuzz_socket fs;
	size_t step;

	/* What a hostile guest makes the client log is not news here, and slows the fuzzing. */
	log_set_max_level(LOG_ERR);
	if (size == 0 || !fuzz_socket_open(&fs))
		return 0;
	if (agent_client_open_fd(&fs.loop, fs.ours, &callbacks, &s, &s.client) < 0) {
		fuzz_socket_abandon(&fs);
		return 0;
	}

	/* The first byte picks the piece size. */
	step = fuzz_socket_step(data[0]);
	for (size_t start = 1; start < size && !s.gone;) {
		const uint8_t *nl = memchr(data + start, '\n', size - start);
		size_t len = nl ? (size_t)(nl - (data + start)) + 1 : size - start, n;
		char *line;

		uv_run(&fs.loop, UV_RUN_NOWAIT);
		read_client(fs.peer, &s);
		n = substitute(data + start, len, &s, &line);
		fuzz_socket_feed(&fs, line, n, step, &s.gone);
		free(line);
		start += len;
	}
	/* The guest goes away: EOF. */
	fuzz_socket_hang_up(&fs, &s.gone);
	/* Unless a callback closed it already, it is ours to close. */
	if (!s.closed)
		agent_client_close(s.client);
	uv_run(&fs.loop, UV_RUN_DEFAULT);
	uv_loop_close(&fs.loop);
	return 0;
}
