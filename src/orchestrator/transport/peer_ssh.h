/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The peer link's transport: an SSH connection to the other host's sshd (host key checked
 * against a known_hosts file, public-key authentication with one identity file, no password,
 * no agent, no ~/.ssh/config), then a `direct-streamlocal` channel to the peer daemon's Unix
 * socket. Nothing runs on the remote host but sshd and the peer daemon itself.
 *
 * libssh is simplest to use blocking, and a libuv loop must never block, so the link is split:
 * peer_ssh_open() does the blocking handshake (call it from a worker, e.g. uv_queue_work), then
 * hands the session to a pump thread that copies bytes between the channel and one end of a
 * socketpair. The caller gets the other end as a plain stream fd (uv_pipe_open() it) and never
 * sees libssh again. The session lives in the pump thread only (libssh's rule: one session, one
 * thread at a time).
 *
 * The fd behaves like a stream socket to the peer daemon:
 *   - shutdown(fd, SHUT_WR) on our side sends the channel EOF; the peer daemon reads EOF;
 *   - the peer daemon closing (or half-closing) its side makes our fd read EOF;
 *   - the SSH connection failing later (sshd killed, host gone: TCP keepalive notices within
 *     about 30 s of silence) makes our fd read EOF; it is never left hanging;
 *   - closing the fd ends the link: the pump closes the channel and the session.
 * The pump's buffers are fixed; the SSH windows bound what libssh may queue.
 *
 * The remote sshd (OpenSSH 9.2) needs `AllowStreamLocalForwarding yes` (or `local`) and must not
 * have `AllowTcpForwarding no` or `DisableForwarding yes`: both also deny stream-local channels.
 * Its user must be able to connect() to remote_socket.
 */
#pragma once

#include "macro.h"

typedef struct peer_ssh_options {
	const char *host; /* address (or /etc/hosts name: DNS is not bounded by the timeout) of
			     the peer's sshd; also its key in known_hosts */
	unsigned port; /* 0: 22 */
	const char *user; /* NULL: the user this process runs as */
	const char *identity_file; /* private key, not encrypted */
	const char *known_hosts_file; /* the only file host keys are checked against */
	const char *remote_socket; /* the peer daemon's Unix socket path on the remote host */
	unsigned connect_timeout_ms; /* bounds each step: TCP connect, key exchange, auth, channel
					open; 0: 10000 */
} peer_ssh_options;

typedef struct peer_ssh peer_ssh;

/*
 * Connect, verify the host key, authenticate and open the channel; blocking. On success *ret is
 * the link, *ret_fd our end of the byte stream (O_CLOEXEC, O_NONBLOCK, owned by the caller: close
 * it or hand it to uv_pipe_open), and 0 is returned. On failure, a negative errno and
 * *ret_error a malloc()ed message naming the host (and file or socket) that a user can act on
 * (NULL only when even that allocation failed); *ret and *ret_fd are untouched. The errno says which failure it was:
 *
 *   -EINVAL        bad options (missing host, identity, known_hosts file or remote socket)
 *   -ECONNREFUSED, -EHOSTUNREACH, -ENETUNREACH ...
 *                  the TCP connection to sshd failed (the errno of connect(); a name that
 *                  does not resolve is -EHOSTUNREACH)
 *   -ETIMEDOUT     no TCP connection, or sshd did not complete a step, within the timeout
 *   -EPROTO        the other end does not speak SSH, or the SSH session failed
 *   -ENOKEY        the host's key is not in known_hosts (or the file does not exist)
 *   -EKEYREJECTED  the host's key differs from the one in known_hosts: possible impersonation
 *   -EBADMSG       the identity file cannot be read or is not a usable private key
 *   -EACCES        the server refused our key
 *   -EREMOTEIO     the channel to remote_socket was refused: no such socket, nobody listening,
 *                  or the server forbids stream-local forwarding
 *   -ENOMEM, -EMFILE, -EAGAIN ...  local resources
 */
int peer_ssh_open(const peer_ssh_options *o, peer_ssh **ret, int *ret_fd, char **ret_error);

/* Stop the pump thread, close the channel and the session, free everything. Does not close the
 * caller's fd. NULL is fine. */
void peer_ssh_close(peer_ssh *p);
/* Like peer_ssh_close(), but first shut the TCP connection down without a word to sshd, as a
 * network failure would: the fault a drill's drop-ssh injects. */
void peer_ssh_cut(peer_ssh *p);

static inline void peer_ssh_closep(peer_ssh **p)
{
	peer_ssh_close(*p);
}
#define _cleanup_peer_ssh_ _cleanup_(peer_ssh_closep)
