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
#include "fuzz-socket.h"
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
	fuzz_socket fs;
	size_t step;

	log_set_max_level(LOG_ERR);
	if (size == 0)
		return 0;
	fake_reset();
	if (!fuzz_socket_open(&fs))
		return 0;
	if (agent_server_new(&fs.loop, &fake_backend, &server) < 0 ||
	    agent_server_attach_fd(server, fs.ours) < 0) {
		agent_server_free(server);
		fuzz_socket_abandon(&fs);
		return 0;
	}

	/* The first byte picks the piece size; a piece that names "links-changed" also changes
	 * the links, so this loop is its own rather than fuzz_socket_feed(). */
	step = fuzz_socket_step(data[0]);
	for (size_t off = 1; off < size; off += step) {
		size_t n = off + step <= size ? step : size - off;
		const void *mark = memmem(data + off, n, "links-changed", 13);

		if (send(fs.peer, data + off, n, MSG_NOSIGNAL) != (ssize_t)n)
			break;
		uv_run(&fs.loop, UV_RUN_NOWAIT);
		/* The VF appears (or its carrier comes) while a command waits for it. */
		if (mark) {
			agent_link *vf = fake_link("eth1") ?: fake_link_add(5, "eth1", "e1000e", "pci", false);

			vf->carrier = !vf->carrier;
			agent_server_links_changed(server);
		}
		drain(fs.peer);
	}
	/* The host goes away; the agent fails what still waits and frees. */
	close(fs.peer);
	uv_run(&fs.loop, UV_RUN_NOWAIT);
	agent_server_free(server);
	uv_run(&fs.loop, UV_RUN_DEFAULT);
	uv_loop_close(&fs.loop);
	return 0;
}
