// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The guest agent as the host (or whatever holds the host end of its port) sees it: arbitrary
 * bytes, in arbitrary pieces, into the real request loop (agent_server) on a real libuv loop,
 * with the unit tests' fake kernel behind it (tests/unit/agent-fake.h): framing, request
 * parsing and the command table, then every command handler — bond, DID, hello, sync — as the
 * agent runs them, with the links changing under it when the input says "links-changed".
 *
 * `fault` is refused here, as in every agent started without --allow-faults: a crash or a stall
 * would stop the fuzzer, not find a bug.
 */
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent-fake.h"
#include "agent_server.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read and drop what the agent answered, so that it never blocks on a full socket. */
static void drain(int fd)
{
	char buf[4096];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	agent_server *server;
	uv_loop_t loop;
	size_t step;
	int sv[2];

	log_set_max_level(LOG_ERR);
	if (size == 0 || uv_loop_init(&loop) < 0)
		return 0;
	fake_reset();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		uv_loop_close(&loop);
		return 0;
	}
	if (agent_server_new(&loop, &fake_backend, &server) < 0 ||
	    agent_server_attach_fd(server, sv[0]) < 0) {
		agent_server_free(server);
		close(sv[1]);
		uv_run(&loop, UV_RUN_DEFAULT);
		uv_loop_close(&loop);
		return 0;
	}

	/* The first byte picks the piece size, so partial reads get fuzzed too. */
	step = (size_t)data[0] % 13 + 1;
	for (size_t off = 1; off < size; off += step) {
		size_t n = off + step <= size ? step : size - off;
		const void *mark = memmem(data + off, n, "links-changed", 13);

		if (send(sv[1], data + off, n, MSG_NOSIGNAL) != (ssize_t)n)
			break;
		uv_run(&loop, UV_RUN_NOWAIT);
		/* The VF appears (or its carrier comes) while a command waits for it. */
		if (mark) {
			agent_link *vf = fake_link("eth1") ?: fake_link_add(5, "eth1", "e1000e", "pci", false);

			vf->carrier = !vf->carrier;
			agent_server_links_changed(server);
		}
		drain(sv[1]);
	}
	/* The host goes away; the agent fails what still waits and frees. */
	close(sv[1]);
	uv_run(&loop, UV_RUN_NOWAIT);
	agent_server_free(server);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	return 0;
}
