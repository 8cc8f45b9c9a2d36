/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The SSH peer link: a blocking handshake in the caller's worker thread, then a pump thread that
 * copies bytes between a direct-streamlocal channel and one end of a socketpair (see peer_ssh.h).
 *
 * We connect the TCP socket ourselves and hand it to libssh (SSH_OPTIONS_FD): that gives a real
 * errno for "refused" or "unreachable" and a timeout we control, where libssh would only give a
 * string. libssh's own channel<->fd pump (ssh_connector, 0.10) is not used: it closes the fd on
 * channel EOF instead of half-closing it, loops on partial writes to a full fd, and drops errors,
 * so a dead sshd would leave the daemon waiting forever.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libssh/libssh.h>

/* Who closes an SSH_OPTIONS_FD socket changed in 0.10 (see peer_ssh_free()). */
#if LIBSSH_VERSION_INT < SSH_VERSION_INT(0, 10, 0)
#error "peer_ssh needs libssh 0.10 or later"
#endif

#include "log.h"
#include "macro.h"
#include "transport/peer_ssh.h"

#define PEER_SSH_DEFAULT_PORT 22
#define PEER_SSH_DEFAULT_TIMEOUT_MS 10000
/* One buffer per direction; libssh itself queues at most one SSH window on top of these. */
#define PEER_SSH_BUFFER_SIZE (64 * 1024)
/* After both EOFs, how long the pump may spend flushing the last packets to a slow sshd. */
#define PEER_SSH_LINGER_MS 5000
/* A silent peer host is noticed by TCP keepalive after idle + count * interval seconds, and
 * unacknowledged data gives up after the user timeout. */
#define PEER_SSH_KEEPALIVE_IDLE_S 10
#define PEER_SSH_KEEPALIVE_INTERVAL_S 5
#define PEER_SSH_KEEPALIVE_COUNT 4
#define PEER_SSH_USER_TIMEOUT_MS 30000

struct peer_ssh {
	ssh_session session;
	ssh_channel channel;
	ssh_event event;
	int fd; /* the pump's end of the socketpair; the pump closes it when the link ends */
	int wake_fd; /* eventfd: peer_ssh_close() tells the pump to stop */
	bool cut; /* ... and to shut the TCP connection down first (written before the wake) */
	pthread_t thread;
	bool thread_started;

	/* The pump's state, touched by the pump thread only. */
	uint8_t to_local[PEER_SSH_BUFFER_SIZE];
	size_t to_local_off, to_local_len;
	uint8_t to_remote[PEER_SSH_BUFFER_SIZE];
	size_t to_remote_off, to_remote_len;
	bool remote_eof; /* the channel said EOF */
	bool local_shut; /* ... and we passed it on with shutdown(SHUT_WR) */
	bool local_eof; /* the daemon said EOF (or its end is gone) */
	bool eof_sent; /* ... and we passed it on to the channel */
	bool local_hup; /* the daemon closed its end */
	bool closing; /* both ways done: flushing the last packets */
	const char *end_reason; /* why the pump stopped early, for the debug log */
};

static int peer_ssh_init_result;
static pthread_once_t peer_ssh_init_once = PTHREAD_ONCE_INIT;

static void peer_ssh_init(void)
{
	peer_ssh_init_result = ssh_init();
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int error_set(char **ret_error, int r, const char *fmt, ...) _printf_(3, 4);
static int error_set(char **ret_error, int r, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	*ret_error = s;
	return r;
}

static void peer_ssh_tcp_keepalive(int fd)
{
	int on = 1, idle = PEER_SSH_KEEPALIVE_IDLE_S, intvl = PEER_SSH_KEEPALIVE_INTERVAL_S,
	    cnt = PEER_SSH_KEEPALIVE_COUNT, user_timeout = PEER_SSH_USER_TIMEOUT_MS;

	/* Best effort: without them a vanished host is noticed later, not never (TCP retries). */
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof(user_timeout));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

/* Nonblocking connect to one address, waiting at most until deadline. */
static int peer_ssh_tcp_connect_one(const struct addrinfo *ai, uint64_t deadline, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	struct pollfd pfd;
	socklen_t len;
	int r, err;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0)
		return -errno;

	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS)
			return -errno;

		pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
		for (;;) {
			uint64_t now = now_ms();

			if (now >= deadline)
				return -ETIMEDOUT;
			r = poll(&pfd, 1, (int)(deadline - now));
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return -errno;
			if (r > 0)
				break;
		}
		len = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			return -errno;
		if (err != 0)
			return -err;
	}

	peer_ssh_tcp_keepalive(fd);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static int peer_ssh_tcp_connect(const char *host, unsigned port, unsigned timeout_ms, int *ret_fd,
				char **ret_error)
{
	const struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	uint64_t deadline = now_ms() + timeout_ms;
	char service[16];
	int r = -EHOSTUNREACH;

	snprintf(service, sizeof(service), "%u", port);
	r = getaddrinfo(host, service, &hints, &ai);
	if (r == EAI_MEMORY)
		return -ENOMEM;
	if (r != 0)
		return error_set(ret_error, -EHOSTUNREACH, "Cannot resolve peer host '%s': %s", host,
				 r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));

	r = -EHOSTUNREACH;
	for (const struct addrinfo *a = ai; a; a = a->ai_next) {
		r = peer_ssh_tcp_connect_one(a, deadline, ret_fd);
		if (r >= 0 || r == -ETIMEDOUT)
			break;
	}
	freeaddrinfo(ai);

	if (r == -ETIMEDOUT)
		return error_set(ret_error, r,
				 "Cannot connect to sshd on '%s' port %u: no answer within %u ms", host,
				 port, timeout_ms);
	if (r < 0)
		return error_set(ret_error, r, "Cannot connect to sshd on '%s' port %u: %s", host,
				 port, strerror(-r));
	return 0;
}

/* "ED25519 SHA256:..." for messages; NULL when libssh cannot say. */
static char *peer_ssh_server_key_describe(ssh_session session)
{
	ssh_key key = NULL;
	unsigned char *hash = NULL;
	size_t hash_len;
	char *fp = NULL, *s = NULL;

	if (ssh_get_server_publickey(session, &key) != SSH_OK)
		return NULL;
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hash_len) == 0) {
		fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hash_len);
		if (fp && asprintf(&s, "%s %s", ssh_key_type_to_char(ssh_key_type(key)), fp) < 0)
			s = NULL;
	}
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
	ssh_key_free(key);
	return s;
}

static int peer_ssh_host_key_verify(ssh_session session, const peer_ssh_options *o,
				    unsigned port, char **ret_error)
{
	_cleanup_free_ char *key = NULL;
	enum ssh_known_hosts_e state;
	const char *k;

	state = ssh_session_is_known_server(session);
	if (state == SSH_KNOWN_HOSTS_OK)
		return 0;

	key = peer_ssh_server_key_describe(session);
	k = key ?: "unknown key";
	/* libssh says UNKNOWN for a missing file too; the fix differs, so tell them apart. */
	if ((state == SSH_KNOWN_HOSTS_UNKNOWN || state == SSH_KNOWN_HOSTS_NOT_FOUND) &&
	    access(o->known_hosts_file, F_OK) < 0)
		state = SSH_KNOWN_HOSTS_NOT_FOUND;

	switch (state) {
	case SSH_KNOWN_HOSTS_CHANGED:
		return error_set(ret_error, -EKEYREJECTED,
				 "Host key of '%s' does not match %s: possible impersonation; fix "
				 "known_hosts if the key was changed on purpose (the host offers %s)",
				 o->host, o->known_hosts_file, k);
	case SSH_KNOWN_HOSTS_OTHER:
		return error_set(ret_error, -EKEYREJECTED,
				 "Host key of '%s' (%s) is of another type than the one %s holds for "
				 "it: possible impersonation; fix known_hosts if the key was changed "
				 "on purpose",
				 o->host, k, o->known_hosts_file);
	case SSH_KNOWN_HOSTS_UNKNOWN:
		return error_set(ret_error, -ENOKEY,
				 "Host key of '%s' is not in %s: check its fingerprint (%s) and add "
				 "it, e.g. with ssh-keyscan -p %u %s",
				 o->host, o->known_hosts_file, k, port, o->host);
	case SSH_KNOWN_HOSTS_NOT_FOUND:
		return error_set(ret_error, -ENOKEY,
				 "Cannot verify the host key of '%s': %s does not exist; create it "
				 "with the host's key after checking its fingerprint (%s)",
				 o->host, o->known_hosts_file, k);
	default:
		return error_set(ret_error, -EIO, "Cannot verify the host key of '%s' with %s: %s",
				 o->host, o->known_hosts_file, ssh_get_error(session));
	}
}

/* A failed blocking libssh call: a timeout if it used up its time, else a broken session. */
static int peer_ssh_step_failed(ssh_session session, const peer_ssh_options *o, unsigned port,
				const char *step, uint64_t start, unsigned timeout_ms,
				char **ret_error)
{
	if (now_ms() - start >= timeout_ms)
		return error_set(ret_error, -ETIMEDOUT,
				 "sshd on '%s' port %u did not complete %s within %u ms", o->host,
				 port, step, timeout_ms);
	return error_set(ret_error, -EPROTO, "Failed at %s with sshd on '%s' port %u: %s", step,
			 o->host, port, ssh_get_error(session));
}

/* Only what we pass counts: no ~/.ssh/config, no default identities, no agent, and the given
 * known_hosts file as both the user and the global one. */
static int peer_ssh_session_configure(ssh_session session, const peer_ssh_options *o,
				      unsigned port, unsigned timeout_ms, int tcp_fd,
				      char **ret_error)
{
	long timeout_s = timeout_ms / 1000, timeout_us = (timeout_ms % 1000) * 1000L;
	int verbosity = SSH_LOG_NOLOG;
	bool no = false;

	if (ssh_options_set(session, SSH_OPTIONS_PROCESS_CONFIG, &no) < 0 ||
	    ssh_options_set(session, SSH_OPTIONS_LOG_VERBOSITY, &verbosity) < 0 ||
	    ssh_options_set(session, SSH_OPTIONS_HOST, o->host) < 0 ||
	    ssh_options_set(session, SSH_OPTIONS_PORT, &port) < 0 ||
	    (o->user && ssh_options_set(session, SSH_OPTIONS_USER, o->user) < 0) ||
	    ssh_options_set(session, SSH_OPTIONS_KNOWNHOSTS, o->known_hosts_file) < 0 ||
	    ssh_options_set(session, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, o->known_hosts_file) < 0 ||
	    ssh_options_set(session, SSH_OPTIONS_TIMEOUT, &timeout_s) < 0 ||
	    ssh_options_set(session, SSH_OPTIONS_TIMEOUT_USEC, &timeout_us) < 0 ||
	    ssh_options_set(session, SSH_OPTIONS_FD, &tcp_fd) < 0)
		return error_set(ret_error, -EINVAL, "Peer link to '%s': invalid SSH option: %s",
				 o->host, ssh_get_error(session));
	return 0;
}

static int peer_ssh_authenticate(ssh_session session, const peer_ssh_options *o, unsigned port,
				 unsigned timeout_ms, ssh_key identity, char **ret_error)
{
	uint64_t start = now_ms();
	int r;

	r = ssh_userauth_publickey(session, NULL, identity);
	if (r == SSH_AUTH_SUCCESS)
		return 0;
	if (r == SSH_AUTH_DENIED || r == SSH_AUTH_PARTIAL)
		return error_set(ret_error, -EACCES,
				 "sshd on '%s' refused the key in %s for user '%s': add its public "
				 "key to that user's authorized_keys on '%s'",
				 o->host, o->identity_file, o->user ?: "(this user)", o->host);
	/* SSH_AUTH_AGAIN: blocking libssh gave up waiting, i.e. our timeout. */
	return peer_ssh_step_failed(session, o, port, "authentication",
				    r == SSH_AUTH_AGAIN ? 0 : start, timeout_ms, ret_error);
}

/*
 * Open the direct-streamlocal channel, nonblocking so that we can keep TCP_QUICKACK on while we
 * wait: after auth, sshd sends a hostkeys-00 request that we do not answer, and Nagle on its side
 * holds the channel confirmation until that is acknowledged; our delayed ACK would add 40 ms.
 * Leaves the session nonblocking. Returns SSH_OK, SSH_ERROR, or SSH_AGAIN at the deadline.
 */
static int peer_ssh_channel_open(ssh_session session, ssh_channel channel, const char *path,
				 uint64_t deadline)
{
	int one = 1, r;

	ssh_set_blocking(session, 0);
	for (;;) {
		struct pollfd pfd = { .fd = ssh_get_fd(session), .events = POLLIN };
		uint64_t now;

		/* The originator address and port are informational for stream-local channels. */
		r = ssh_channel_open_forward_unix(channel, path, "127.0.0.1", 0);
		if (r != SSH_AGAIN || pfd.fd < 0)
			return r;
		now = now_ms();
		if (now >= deadline)
			return SSH_AGAIN;
		(void)setsockopt(pfd.fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
		if (ssh_get_poll_flags(session) & SSH_WRITE_PENDING)
			pfd.events |= POLLOUT;
		if (poll(&pfd, 1, (int)(deadline - now)) < 0 && errno != EINTR)
			return SSH_ERROR;
	}
}

static int peer_ssh_options_check(const peer_ssh_options *o, char **ret_error)
{
	if (!o->host || !o->host[0])
		return error_set(ret_error, -EINVAL, "Peer link: no host given");
	if (o->port > 65535)
		return error_set(ret_error, -EINVAL, "Peer link to '%s': invalid port %u", o->host,
				 o->port);
	if (!o->identity_file || !o->identity_file[0])
		return error_set(ret_error, -EINVAL, "Peer link to '%s': no identity file given",
				 o->host);
	if (!o->known_hosts_file || !o->known_hosts_file[0])
		return error_set(ret_error, -EINVAL, "Peer link to '%s': no known_hosts file given",
				 o->host);
	if (!o->remote_socket || !o->remote_socket[0])
		return error_set(ret_error, -EINVAL, "Peer link to '%s': no remote socket given",
				 o->host);
	return 0;
}

static void peer_ssh_free(peer_ssh *p)
{
	if (!p)
		return;
	if (p->event) {
		if (p->session)
			ssh_event_remove_session(p->event, p->session);
		ssh_event_free(p->event);
	}
	if (p->channel)
		ssh_channel_free(p->channel);
	if (p->session) {
		/* The TCP socket is ours (SSH_OPTIONS_FD): since 0.10 ssh_disconnect() and ssh_free()
		 * leave it open, but libssh still closes it itself after a socket error and then
		 * forgets the number. So close it only if libssh still has it. */
		int tcp_fd = ssh_get_fd(p->session);

		ssh_disconnect(p->session);
		ssh_free(p->session);
		if (tcp_fd >= 0)
			close(tcp_fd);
	}
	if (p->fd >= 0)
		close(p->fd);
	if (p->wake_fd >= 0)
		close(p->wake_fd);
	free(p);
}

static void peer_ssh_freep(peer_ssh **p)
{
	peer_ssh_free(*p);
}

static void ssh_keyp(ssh_key *k)
{
	ssh_key_free(*k);
}

/* End our side of the socketpair so that the daemon reads EOF. Shut both ways first (its writes
 * fail from now on), then drop what it had sent: closing a Unix socket with unread data would
 * turn the daemon's EOF into ECONNRESET. */
static void peer_ssh_local_close(peer_ssh *p)
{
	char discard[4096];

	if (p->fd < 0)
		return;
	(void)shutdown(p->fd, SHUT_RDWR);
	while (recv(p->fd, discard, sizeof(discard), MSG_DONTWAIT) > 0)
		;
	close(p->fd);
	p->fd = -1;
}

/* The channel -> socketpair direction. Returns false when the link must end. */
static bool peer_ssh_pump_to_local(peer_ssh *p, bool *progress)
{
	ssize_t n;
	int r;

	if (p->to_local_len == 0 && !p->remote_eof) {
		r = ssh_channel_read_nonblocking(p->channel, p->to_local, sizeof(p->to_local), 0);
		if (r == SSH_EOF) {
			p->remote_eof = *progress = true;
		} else if (r < 0) {
			p->end_reason = "SSH connection lost while reading";
			return false;
		} else if (r > 0) {
			p->to_local_off = 0;
			p->to_local_len = (size_t)r;
			*progress = true;
		}
	}

	if (p->to_local_len > 0) {
		n = send(p->fd, p->to_local + p->to_local_off, p->to_local_len,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			p->end_reason = "local end closed with data still to deliver";
			return false;
		}
		if (n > 0) {
			p->to_local_off += (size_t)n;
			p->to_local_len -= (size_t)n;
			*progress = true;
		}
	}

	if (p->remote_eof && p->to_local_len == 0 && !p->local_shut) {
		(void)shutdown(p->fd, SHUT_WR);
		p->local_shut = *progress = true;
	}
	return true;
}

/* The socketpair -> channel direction. Returns false when the link must end. */
static bool peer_ssh_pump_to_remote(peer_ssh *p, bool *progress)
{
	uint32_t window;
	ssize_t n;
	int r;

	if (p->to_remote_len == 0 && !p->local_eof) {
		n = recv(p->fd, p->to_remote, sizeof(p->to_remote), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			p->local_eof = *progress = true;
		} else if (n > 0) {
			p->to_remote_off = 0;
			p->to_remote_len = (size_t)n;
			*progress = true;
		}
	}

	/* Never more than the peer's window: libssh would otherwise wait for it to grow. */
	window = ssh_channel_window_size(p->channel);
	if (p->to_remote_len > 0 && window > 0) {
		r = ssh_channel_write(p->channel, p->to_remote + p->to_remote_off,
				      (uint32_t)(p->to_remote_len < window ? p->to_remote_len : window));
		if (r < 0) {
			p->end_reason = "SSH connection lost while writing";
			return false;
		}
		if (r > 0) {
			p->to_remote_off += (size_t)r;
			p->to_remote_len -= (size_t)r;
			*progress = true;
		}
	}

	if (p->local_eof && p->to_remote_len == 0 && !p->eof_sent) {
		if (ssh_channel_send_eof(p->channel) != SSH_OK) {
			p->end_reason = "SSH connection lost while sending EOF";
			return false;
		}
		p->eof_sent = *progress = true;
	}
	return true;
}

/*
 * The pump: one pass moves what can move without blocking, then poll() waits on the SSH socket,
 * our socketpair end (only for what we have room for) and the wake eventfd. The link ends when
 * both directions saw EOF, when the channel or connection goes away, or when asked to.
 */
static void *peer_ssh_pump(void *userdata)
{
	peer_ssh *p = userdata;
	uint64_t linger_deadline = 0;

	for (;;) {
		struct pollfd pfd[3];
		bool progress = false;
		int timeout, r;

		/* libssh reads and writes its socket only inside its own poll: let it, whatever the
		 * channel's buffers hold (ssh_channel_poll would skip it when data is waiting). */
		if (ssh_event_dopoll(p->event, 0) == SSH_ERROR ||
		    (ssh_get_status(p->session) & (SSH_CLOSED | SSH_CLOSED_ERROR))) {
			p->end_reason = "SSH connection lost";
			break;
		}

		if (!p->closing) {
			if (!peer_ssh_pump_to_local(p, &progress) ||
			    !peer_ssh_pump_to_remote(p, &progress))
				break;

			/* Both directions done, or nobody left to send to: say goodbye. */
			if ((p->local_shut || p->local_hup) &&
			    (p->eof_sent || ssh_channel_is_closed(p->channel))) {
				p->closing = true;
				peer_ssh_local_close(p);
				if (!ssh_channel_is_closed(p->channel))
					(void)ssh_channel_close(p->channel);
				linger_deadline = now_ms() + PEER_SSH_LINGER_MS;
			}
		}

		if (p->closing) {
			uint64_t now = now_ms();

			if (!(ssh_get_poll_flags(p->session) & SSH_WRITE_PENDING))
				break;
			if (now >= linger_deadline) {
				p->end_reason = "sshd did not take the last bytes in time";
				break;
			}
			timeout = (int)(linger_deadline - now);
		} else {
			timeout = progress ? 0 : -1;
		}

		pfd[0] = (struct pollfd){ .fd = ssh_get_fd(p->session), .events = POLLIN };
		if (ssh_get_poll_flags(p->session) & SSH_WRITE_PENDING)
			pfd[0].events |= POLLOUT;
		pfd[1] = (struct pollfd){ .fd = (p->closing || p->local_hup) ? -1 : p->fd };
		if (p->to_remote_len == 0 && !p->local_eof)
			pfd[1].events |= POLLIN;
		if (p->to_local_len > 0)
			pfd[1].events |= POLLOUT;
		pfd[2] = (struct pollfd){ .fd = p->wake_fd, .events = POLLIN };

		r = poll(pfd, ELEMENTSOF(pfd), timeout);
		if (r < 0 && errno != EINTR) {
			p->end_reason = "poll() failed";
			break;
		}
		if (r <= 0)
			continue;
		if (pfd[2].revents) {
			p->end_reason = "closed by its owner";
			/* Here, not in the owner's thread: libssh may have closed the number already. */
			if (p->cut && ssh_get_fd(p->session) >= 0)
				(void)shutdown(ssh_get_fd(p->session), SHUT_RDWR);
			break;
		}
		/* A hang-up is reported whether asked for or not: stop polling the fd (or this would
		 * spin) and let the passes drain what it had sent. */
		if (pfd[1].revents & (POLLHUP | POLLERR))
			p->local_hup = true;
	}

	log_debug("Peer link pump ended: %s", p->end_reason ?: "both sides closed");
	peer_ssh_local_close(p);
	return NULL;
}

int peer_ssh_open(const peer_ssh_options *o, peer_ssh **ret, int *ret_fd, char **ret_error)
{
	_cleanup_(peer_ssh_freep) peer_ssh *p = NULL;
	_cleanup_(ssh_keyp) ssh_key identity = NULL;
	_cleanup_close_ int tcp_fd = -1, caller_fd = -1;
	_cleanup_free_ char *error = NULL;
	unsigned port, timeout_ms;
	sigset_t all, saved;
	int sv[2], r;
	uint64_t start;

	r = peer_ssh_options_check(o, &error);
	if (r < 0)
		goto fail;
	port = o->port ?: PEER_SSH_DEFAULT_PORT;
	timeout_ms = o->connect_timeout_ms ?: PEER_SSH_DEFAULT_TIMEOUT_MS;

	pthread_once(&peer_ssh_init_once, peer_ssh_init);
	if (peer_ssh_init_result < 0) {
		r = error_set(&error, -EIO, "Cannot initialise libssh");
		goto fail;
	}

	/* Before any network traffic: a key we cannot use makes the rest pointless. */
	if (ssh_pki_import_privkey_file(o->identity_file, NULL, NULL, NULL, &identity) != SSH_OK) {
		r = error_set(&error, -EBADMSG,
			      "Cannot use identity file %s for '%s': missing, unreadable, "
			      "passphrase-protected or not a private key",
			      o->identity_file, o->host);
		goto fail;
	}

	p = calloc(1, sizeof(*p));
	if (!p) {
		r = -ENOMEM;
		goto fail;
	}
	p->fd = p->wake_fd = -1;

	r = peer_ssh_tcp_connect(o->host, port, timeout_ms, &tcp_fd, &error);
	if (r < 0)
		goto fail;

	p->session = ssh_new();
	if (!p->session) {
		r = -ENOMEM;
		goto fail;
	}
	r = peer_ssh_session_configure(p->session, o, port, timeout_ms, tcp_fd, &error);
	if (r < 0)
		goto fail;
	/* From now on peer_ssh_free() closes it, unless libssh did after an error. */
	TAKE_FD(tcp_fd);

	start = now_ms();
	if (ssh_connect(p->session) != SSH_OK) {
		r = peer_ssh_step_failed(p->session, o, port, "the key exchange", start, timeout_ms,
					 &error);
		goto fail;
	}

	r = peer_ssh_host_key_verify(p->session, o, port, &error);
	if (r < 0)
		goto fail;

	r = peer_ssh_authenticate(p->session, o, port, timeout_ms, identity, &error);
	if (r < 0)
		goto fail;

	p->channel = ssh_channel_new(p->session);
	if (!p->channel) {
		r = -ENOMEM;
		goto fail;
	}
	start = now_ms();
	r = peer_ssh_channel_open(p->session, p->channel, o->remote_socket, start + timeout_ms);
	if (r != SSH_OK) {
		if (r == SSH_ERROR && ssh_get_error_code(p->session) == SSH_REQUEST_DENIED)
			r = error_set(&error, -EREMOTEIO,
				      "sshd on '%s' could not connect to %s: is the peer daemon "
				      "running there, and stream-local forwarding allowed? (%s)",
				      o->host, o->remote_socket, ssh_get_error(p->session));
		else
			r = peer_ssh_step_failed(p->session, o, port, "opening the channel", start,
						 timeout_ms, &error);
		goto fail;
	}

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0) {
		r = -errno;
		goto fail;
	}
	p->fd = sv[0];
	caller_fd = sv[1];
	p->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->wake_fd < 0) {
		r = -errno;
		goto fail;
	}

	p->event = ssh_event_new();
	if (!p->event || ssh_event_add_session(p->event, p->session) != SSH_OK) {
		r = -ENOMEM;
		goto fail;
	}

	/* The pump takes no signals: the daemon's handlers belong to its loop thread, and a
	 * SIGPIPE must not kill the process. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	r = -pthread_create(&p->thread, NULL, peer_ssh_pump, p);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (r < 0)
		goto fail;
	p->thread_started = true;

	log_debug("Peer link to '%s' port %u open: channel to %s", o->host, port,
		  o->remote_socket);
	*ret = TAKE_PTR(p);
	*ret_fd = TAKE_FD(caller_fd);
	return 0;

fail:
	if (!error)
		(void)error_set(&error, r, "Peer link to '%s': %s", o->host ?: "(none)",
				strerror(-r));
	*ret_error = TAKE_PTR(error);
	return r;
}

static void peer_ssh_stop(peer_ssh *p, bool cut)
{
	uint64_t one = 1;

	if (!p)
		return;
	p->cut = cut;
	if (p->thread_started) {
		/* An eventfd write of 1 cannot fail short of an overflow, and nobody else writes. */
		(void)!write(p->wake_fd, &one, sizeof(one));
		pthread_join(p->thread, NULL);
	}
	peer_ssh_free(p);
}

void peer_ssh_close(peer_ssh *p)
{
	peer_ssh_stop(p, false);
}

void peer_ssh_cut(peer_ssh *p)
{
	peer_ssh_stop(p, true);
}
