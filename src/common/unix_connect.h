/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Connecting to a local peer's Unix stream socket (QEMU's monitor, the guest agent's chardev; in
 * the agent, a port given as a socket) the way a libuv client needs it: non-blocking and
 * close-on-exec, in one place.
 */
#pragma once

/*
 * A connected socket (non-blocking, close-on-exec; the caller owns it), or -errno:
 * -ENAMETOOLONG for a path that does not fit a sockaddr_un, -EAGAIN when the peer's backlog is
 * full (a Unix connect() completes at once or fails, so it never hangs the caller).
 */
int unix_connect(const char *path);
