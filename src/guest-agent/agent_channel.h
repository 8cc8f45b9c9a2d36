/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The agent's byte pipe to the host: the virtio-serial port, a path given with --port (a pty or
 * a Unix socket, for tests), or an already connected fd.
 *
 * virtio-serial semantics (drivers/char/virtio_console.c): while no host process has the
 * chardev open, read() returns 0 and poll() reports POLLHUP, and write() would block. So an
 * end-of-file on the port means "the host went away", not "the port is gone": the channel keeps
 * the fd, stops polling (POLLHUP would spin the loop), and looks again after a back-off, or at
 * once when the port raises SIGIO (O_ASYNC), which it does when the host connects. Bytes queued
 * for the host survive such an EOF (see channel_lost() for the race that needs it). Other kinds
 * of paths are closed and reopened after the back-off. A bare fd is served until its EOF.
 */
#pragma once

#include <stddef.h>

#include <uv.h>

typedef struct agent_channel agent_channel;

typedef struct agent_channel_callbacks {
	void (*data)(void *userdata, const char *buf, size_t len);
	/* The host went away. */
	void (*hangup)(void *userdata);
	/* Bytes from a new connection follow: forget any partial message. */
	void (*connected)(void *userdata);
} agent_channel_callbacks;

#define AGENT_CHANNEL_BACKOFF_MIN_MS 50
#define AGENT_CHANNEL_BACKOFF_MAX_MS 2000
/* Bytes queued for a host that does not read before messages are dropped. */
#define AGENT_CHANNEL_MAX_QUEUED (256 * 1024)

/* Takes fd over, on success and on failure. */
int agent_channel_new_fd(uv_loop_t *loop, int fd, const agent_channel_callbacks *cbs, void *userdata,
			 agent_channel **ret);
/* path NULL: find the port named AGENT_PROTOCOL_PORT_NAME. Never fails for a missing port. */
int agent_channel_new_port(uv_loop_t *loop, const char *path, const agent_channel_callbacks *cbs,
			   void *userdata, agent_channel **ret);
/*
 * Queue bytes for the host (copied). -ENOTCONN while no host is connected, -ENOBUFS when the
 * host has not read AGENT_CHANNEL_MAX_QUEUED bytes: either way the message is dropped, and the
 * host's next sync recovers.
 */
int agent_channel_write(agent_channel *ch, const char *buf, size_t len);
/*
 * Call done exactly once: with 0 when every byte queued so far has been written to the fd,
 * with a negative errno when they were dropped (no host, the connection failed, the channel
 * was freed, no memory). At once when nothing is queued; else later, from the loop or from a
 * write that flushes the queue.
 */
void agent_channel_when_written(agent_channel *ch, void (*done)(void *userdata, int status), void *userdata);
void agent_channel_free(agent_channel *ch);
