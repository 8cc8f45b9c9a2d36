// SPDX-License-Identifier: GPL-2.0-or-later
#include "agent_channel.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "agent_port.h"
#include "agent_protocol.h"
#include "log.h"
#include "macro.h"
#include "unix_connect.h"

typedef struct channel_fd {
	uv_poll_t poll;
	int fd;
} channel_fd;

typedef struct queued {
	struct queued *next;
	size_t len, off;
	/*
	 * A marker from agent_channel_when_written(): no data, called when it reaches the head.
	 * It counts as sizeof(queued) bytes against AGENT_CHANNEL_MAX_QUEUED.
	 */
	void (*done)(void *userdata, int status);
	void *done_userdata;
	char data[];
} queued;

struct agent_channel {
	uv_loop_t *loop;
	agent_channel_callbacks cbs;
	void *userdata;

	bool reopen;   /* a port: look again after EOF, never give up */
	char *path;    /* --port PATH; NULL: find the port by name */
	channel_fd *cur;
	bool keep_on_eof; /* a virtio-serial port: EOF means no host, keep the fd */
	bool polling;
	bool connected;   /* data came from the host since the last EOF */
	unsigned backoff_ms;
	uv_timer_t timer;
	uv_signal_t sigio;
	bool has_timer, has_sigio;
	unsigned handles_open;

	queued *q_head;
	size_t q_bytes;
};

static void channel_backoff_arm(agent_channel *ch);

static void queued_free(queued *q, int status)
{
	void (*done)(void *userdata, int status) = q->done;
	void *userdata = q->done_userdata;

	free(q);
	if (done)
		done(userdata, status);
}

static void channel_queue_drop(agent_channel *ch, int status)
{
	while (ch->q_head) {
		queued *q = ch->q_head;

		ch->q_head = q->next;
		queued_free(q, status);
	}
	ch->q_bytes = 0;
}

static void channel_fd_closed(uv_handle_t *h)
{
	channel_fd *cf = h->data;

	close(cf->fd);
	free(cf);
}

static void channel_fd_close(agent_channel *ch)
{
	if (!ch->cur)
		return;
	ch->cur->poll.data = ch->cur;
	uv_close((uv_handle_t *)&ch->cur->poll, channel_fd_closed);
	ch->cur = NULL;
	ch->polling = false;
}

static void channel_poll_cb(uv_poll_t *p, int status, int events);

static void channel_poll_update(agent_channel *ch)
{
	int events = UV_READABLE;

	if (!ch->cur)
		return;
	if (ch->q_head)
		events |= UV_WRITABLE;
	if (uv_poll_start(&ch->cur->poll, events, channel_poll_cb) >= 0)
		ch->polling = true;
}

static void channel_lost(agent_channel *ch, int error)
{
	bool was_connected = ch->connected;

	ch->connected = false;
	if (error != 0 || !ch->keep_on_eof || !ch->reopen) {
		channel_queue_drop(ch, error ?: -ECONNRESET);
		channel_fd_close(ch);
	} else if (ch->cur) {
		/*
		 * Keep what is queued. The guest driver learns that the host connected from a
		 * control message handled in a workqueue, after the host's first bytes may already
		 * be readable: until then poll() says POLLHUP and read() EOF, and dropping the
		 * reply to the host's sync here would cost it a whole sync timeout. If the host
		 * really left, a later host discards the stale bytes: it syncs first.
		 */
		uv_poll_stop(&ch->cur->poll);
		ch->polling = false;
	}
	if (error != 0)
		log_debug_errno(error, "Agent channel failed: %m");
	if (was_connected) {
		log_info("Host disconnected from the agent's port");
		if (ch->cbs.hangup)
			ch->cbs.hangup(ch->userdata);
	}
	if (ch->reopen)
		channel_backoff_arm(ch);
}

static int channel_flush(agent_channel *ch)
{
	while (ch->q_head && ch->cur) {
		queued *q = ch->q_head;

		if (q->off < q->len) {
			ssize_t n = write(ch->cur->fd, q->data + q->off, q->len - q->off);

			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN)
					return 0;
				return -errno;
			}
			q->off += (size_t)n;
			ch->q_bytes -= (size_t)n;
			if (q->off < q->len)
				continue;
		}
		ch->q_head = q->next;
		if (q->done)
			ch->q_bytes -= sizeof(*q);
		queued_free(q, 0);
	}
	return 0;
}

static void channel_poll_cb(uv_poll_t *p, int status, int events)
{
	agent_channel *ch = p->data;
	char buf[4096];
	ssize_t n;
	int r;

	if (status < 0)
		return channel_lost(ch, status);
	if (events & UV_READABLE)
		for (;;) {
			n = read(ch->cur->fd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == EAGAIN)
				break;
			if (n < 0)
				return channel_lost(ch, -errno);
			if (n == 0)
				return channel_lost(ch, 0);
			/* A host that just wrote is there: look again soon if it seems to vanish. */
			ch->backoff_ms = 0;
			if (!ch->connected) {
				ch->connected = true;
				log_info("Host connected to the agent's port");
				if (ch->cbs.connected)
					ch->cbs.connected(ch->userdata);
			}
			ch->cbs.data(ch->userdata, buf, (size_t)n);
			/* A reply written from the callback may have failed the fd. */
			if (!ch->cur)
				return;
		}
	r = channel_flush(ch);
	if (r < 0)
		return channel_lost(ch, r);
	channel_poll_update(ch);
}

static int channel_fd_attach(agent_channel *ch, int fd)
{
	channel_fd *cf = calloc(1, sizeof(*cf));
	int r;

	if (!cf) {
		close(fd);
		return -ENOMEM;
	}
	cf->fd = fd;
	r = uv_poll_init(ch->loop, &cf->poll, fd);
	if (r < 0) {
		close(fd);
		free(cf);
		return r;
	}
	/* The poll callback finds the channel here; channel_fd_close() repoints it at cf. */
	cf->poll.data = ch;
	ch->cur = cf;
	channel_poll_update(ch);
	return 0;
}

static int channel_path_open(agent_channel *ch, const char *path)
{
	_cleanup_close_ int fd = -1;
	struct termios t;
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISSOCK(st.st_mode)) {
		fd = unix_connect(path);
		if (fd < 0)
			return fd;
		ch->keep_on_eof = false;
		return TAKE_FD(fd);
	}
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (tcgetattr(fd, &t) == 0) {
		/* A pty in tests: raw, or the line discipline would eat 0xFF and rewrite '\n'. */
		cfmakeraw(&t);
		if (tcsetattr(fd, TCSANOW, &t) < 0)
			return -errno;
		ch->keep_on_eof = false;
	} else if (S_ISCHR(st.st_mode)) {
		ch->keep_on_eof = true;
		/* SIGIO when the host connects: no need to wait for the back-off. */
		if (fcntl(fd, F_SETOWN, getpid()) < 0 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC) < 0)
			log_debug_errno(errno, "Failed to ask '%s' for SIGIO, relying on the back-off: %m", path);
	} else
		ch->keep_on_eof = false;
	return TAKE_FD(fd);
}

static int channel_open(agent_channel *ch)
{
	_cleanup_free_ char *found = NULL;
	const char *path = ch->path;
	int fd, r;

	if (!path) {
		r = agent_port_find("", AGENT_PROTOCOL_PORT_NAME, &found);
		if (r < 0)
			return r;
		path = found;
	}
	fd = channel_path_open(ch, path);
	if (fd < 0)
		return log_debug_errno(fd, "Failed to open '%s': %m", path);
	log_debug("Opened the agent's port '%s'", path);
	return channel_fd_attach(ch, fd);
}

static void channel_timer_fire(uv_timer_t *t)
{
	agent_channel *ch = t->data;
	int r;

	if (ch->cur) {
		/* The fd was kept (no host): poll again; EOF again means still no host. */
		channel_poll_update(ch);
		return;
	}
	r = channel_open(ch);
	if (r < 0)
		channel_backoff_arm(ch);
}

static void channel_backoff_arm(agent_channel *ch)
{
	ch->backoff_ms = ch->backoff_ms == 0 ? AGENT_CHANNEL_BACKOFF_MIN_MS : ch->backoff_ms * 2;
	if (ch->backoff_ms > AGENT_CHANNEL_BACKOFF_MAX_MS)
		ch->backoff_ms = AGENT_CHANNEL_BACKOFF_MAX_MS;
	uv_timer_start(&ch->timer, channel_timer_fire, ch->backoff_ms, 0);
}

static void channel_sigio(uv_signal_t *s, int signum)
{
	agent_channel *ch = s->data;

	if (ch->cur && !ch->polling) {
		uv_timer_stop(&ch->timer);
		channel_poll_update(ch);
	}
}

static int channel_alloc(uv_loop_t *loop, const agent_channel_callbacks *cbs, void *userdata,
			 agent_channel **ret)
{
	agent_channel *ch = calloc(1, sizeof(*ch));

	if (!ch)
		return -ENOMEM;
	ch->loop = loop;
	ch->cbs = *cbs;
	ch->userdata = userdata;
	uv_timer_init(loop, &ch->timer);
	ch->timer.data = ch;
	ch->has_timer = true;
	ch->handles_open = 1;
	*ret = ch;
	return 0;
}

int agent_channel_new_fd(uv_loop_t *loop, int fd, const agent_channel_callbacks *cbs, void *userdata,
			 agent_channel **ret)
{
	agent_channel *ch;
	int r;

	r = channel_alloc(loop, cbs, userdata, &ch);
	if (r < 0) {
		close(fd);
		return r;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		r = -errno;
		close(fd);
		agent_channel_free(ch);
		return r;
	}
	r = channel_fd_attach(ch, fd);
	if (r < 0) {
		agent_channel_free(ch);
		return r;
	}
	*ret = ch;
	return 0;
}

int agent_channel_new_port(uv_loop_t *loop, const char *path, const agent_channel_callbacks *cbs,
			   void *userdata, agent_channel **ret)
{
	agent_channel *ch;
	int r;

	r = channel_alloc(loop, cbs, userdata, &ch);
	if (r < 0)
		return r;
	ch->reopen = true;
	if (path && !(ch->path = strdup(path))) {
		agent_channel_free(ch);
		return -ENOMEM;
	}
	/* Before any fd gets O_ASYNC: SIGIO's default action would kill us. */
	r = uv_signal_init(loop, &ch->sigio);
	if (r >= 0) {
		ch->has_sigio = true;
		ch->handles_open++;
		ch->sigio.data = ch;
		r = uv_signal_start(&ch->sigio, channel_sigio, SIGIO);
	}
	if (r < 0) {
		agent_channel_free(ch);
		return r;
	}
	r = channel_open(ch);
	if (r < 0) {
		log_info_errno(r, "No agent port yet (%m), looking again later");
		channel_backoff_arm(ch);
	}
	*ret = ch;
	return 0;
}

int agent_channel_write(agent_channel *ch, const char *buf, size_t len)
{
	queued *q, **p;
	int r;

	if (!ch->cur || !ch->connected)
		return -ENOTCONN;
	if (ch->q_bytes + len > AGENT_CHANNEL_MAX_QUEUED)
		return -ENOBUFS;
	q = malloc(sizeof(*q) + len);
	if (!q)
		return -ENOMEM;
	memcpy(q->data, buf, len);
	q->len = len;
	q->off = 0;
	q->next = NULL;
	q->done = NULL;
	for (p = &ch->q_head; *p; p = &(*p)->next)
		;
	*p = q;
	ch->q_bytes += len;
	/* Write now if we can; errors surface through the poll callback, not here. */
	r = channel_flush(ch);
	if (r < 0)
		log_debug_errno(r, "Agent channel write failed: %m");
	if (ch->polling)
		channel_poll_update(ch);
	return 0;
}

void agent_channel_when_written(agent_channel *ch, void (*done)(void *userdata, int status), void *userdata)
{
	queued *q, **p;

	if (!ch->q_head)
		return done(userdata, ch->cur && ch->connected ? 0 : -ENOTCONN);
	/* A host that does not read must not make us pile up markers either. */
	if (ch->q_bytes + sizeof(*q) > AGENT_CHANNEL_MAX_QUEUED)
		return done(userdata, -ENOBUFS);
	q = calloc(1, sizeof(*q));
	if (!q)
		return done(userdata, -ENOMEM);
	q->done = done;
	q->done_userdata = userdata;
	for (p = &ch->q_head; *p; p = &(*p)->next)
		;
	*p = q;
	ch->q_bytes += sizeof(*q);
}

static void channel_handle_closed(uv_handle_t *h)
{
	agent_channel *ch = h->data;

	if (--ch->handles_open > 0)
		return;
	free(ch->path);
	free(ch);
}

void agent_channel_free(agent_channel *ch)
{
	if (!ch)
		return;
	channel_queue_drop(ch, -ECANCELED);
	channel_fd_close(ch);
	if (ch->has_sigio)
		uv_close((uv_handle_t *)&ch->sigio, channel_handle_closed);
	uv_close((uv_handle_t *)&ch->timer, channel_handle_closed);
}
