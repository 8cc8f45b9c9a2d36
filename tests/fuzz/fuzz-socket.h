/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * For targets whose code reads a socket (QMP, the guest agent's port, the daemon protocol): the
 * code under test on a real libuv loop at one end of a socketpair, the input sent from the other
 * end in small pieces, with the loop run between them, so that partial reads get fuzzed too.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

typedef struct fuzz_socket {
	uv_loop_t loop;
	int ours; /* the end the code under test is given */
	int peer; /* the end the input comes from */
} fuzz_socket;

/* The loop and the pair; false, with nothing to undo, when either cannot be made. */
static inline bool fuzz_socket_open(fuzz_socket *fs)
{
	int sv[2];

	if (uv_loop_init(&fs->loop) < 0)
		return false;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		uv_loop_close(&fs->loop);
		return false;
	}
	fs->ours = sv[0];
	fs->peer = sv[1];
	return true;
}

/* The code under test refused its end (closing it): hang up and let the loop finish. */
static inline void fuzz_socket_abandon(fuzz_socket *fs)
{
	close(fs->peer);
	uv_run(&fs->loop, UV_RUN_DEFAULT);
	uv_loop_close(&fs->loop);
}

/* The piece size, 1 to 13 bytes, from a byte of the input: so the fuzzer picks it too. */
static inline size_t fuzz_socket_step(uint8_t byte)
{
	return (size_t)byte % 13 + 1;
}

/* Send data in pieces of step bytes, the loop run after each, until it is all sent or *stop. */
static inline void fuzz_socket_feed(fuzz_socket *fs, const void *data, size_t size, size_t step,
				    const bool *stop)
{
	for (size_t off = 0; off < size && !*stop; off += step) {
		size_t n = off + step <= size ? step : size - off;

		if (send(fs->peer, (const char *)data + off, n, MSG_NOSIGNAL) != (ssize_t)n)
			break;
		uv_run(&fs->loop, UV_RUN_NOWAIT);
	}
}

/* The peer hangs up (EOF): the loop runs until the code under test is *gone or has no more to do. */
static inline void fuzz_socket_hang_up(fuzz_socket *fs, const bool *gone)
{
	close(fs->peer);
	while (!*gone && uv_run(&fs->loop, UV_RUN_ONCE))
		;
}
