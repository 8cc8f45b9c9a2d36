// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli/pinger.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/param.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"

/* The payload: which probe this is, so that late replies land in the right window. */
typedef struct ping_payload {
	uint64_t counter;
	uint64_t magic;
} ping_payload;

#define PINGER_MAGIC 0x646d696772617465ULL /* "dmigrate" */

struct pinger {
	int fd;
	bool raw; /* a raw socket sees every ICMP packet: ours carry our id */
	uint16_t id;
	struct sockaddr_in to;
	unsigned interval_ms;
	int wake_fd;
	pthread_t thread;

	pthread_mutex_t lock; /* the counters below */
	uint64_t sent_total;
	uint64_t window_first; /* the first probe of the window */
	uint64_t window_start_ms;
	uint64_t last_reply_ms;
	uint64_t received;
	uint64_t max_gap_ms;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint16_t icmp_checksum(const void *data, size_t len)
{
	const uint8_t *b = data;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static void pinger_send(pinger *p)
{
	struct {
		struct icmphdr h;
		ping_payload payload;
	} pkt = { 0 };
	uint64_t counter;

	pthread_mutex_lock(&p->lock);
	counter = p->sent_total++;
	pthread_mutex_unlock(&p->lock);
	pkt.h.type = ICMP_ECHO;
	pkt.h.un.echo.id = htons(p->id);
	pkt.h.un.echo.sequence = htons((uint16_t)counter);
	pkt.payload = (ping_payload){ counter, PINGER_MAGIC };
	pkt.h.checksum = icmp_checksum(&pkt, sizeof(pkt));
	/* A failed send (no route while the VM moves) is a probe without a reply: that is the gap. */
	(void)sendto(p->fd, &pkt, sizeof(pkt), MSG_DONTWAIT, (struct sockaddr *)&p->to,
		     sizeof(p->to));
}

static void pinger_receive(pinger *p)
{
	uint8_t buf[1500];
	ssize_t n;

	while ((n = recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		const uint8_t *icmp = buf;
		size_t len = (size_t)n, hl;
		struct icmphdr h;
		ping_payload payload;
		uint64_t t;

		if (p->raw) {
			/* A raw socket hands us the IP header too. */
			hl = (size_t)(buf[0] & 0x0f) * 4;
			if (hl < sizeof(struct iphdr) || len < hl)
				continue;
			icmp += hl;
			len -= hl;
		}
		if (len < sizeof(h) + sizeof(payload))
			continue;
		memcpy(&h, icmp, sizeof(h));
		memcpy(&payload, icmp + sizeof(h), sizeof(payload));
		if (h.type != ICMP_ECHOREPLY || payload.magic != PINGER_MAGIC ||
		    (p->raw && ntohs(h.un.echo.id) != p->id))
			continue;
		t = now_ms();
		pthread_mutex_lock(&p->lock);
		if (payload.counter >= p->window_first && payload.counter < p->sent_total) {
			uint64_t since = MAX(p->last_reply_ms, p->window_start_ms);

			p->received++;
			p->max_gap_ms = MAX(p->max_gap_ms, t - since);
			p->last_reply_ms = t;
		}
		pthread_mutex_unlock(&p->lock);
	}
}

static void *pinger_thread(void *userdata)
{
	pinger *p = userdata;
	uint64_t next = now_ms();

	for (;;) {
		struct pollfd pfd[2] = { { .fd = p->fd, .events = POLLIN },
					 { .fd = p->wake_fd, .events = POLLIN } };
		uint64_t now = now_ms();

		if (now >= next) {
			pinger_send(p);
			/* Behind schedule (a stalled thread): carry on from now, do not burst. */
			next = MAX(next + p->interval_ms, now);
		}
		if (poll(pfd, 2, (int)(next > now ? next - now : 0)) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents)
			break;
		if (pfd[0].revents)
			pinger_receive(p);
	}
	return NULL;
}

static int pinger_socket(bool *ret_raw)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_ICMP);

	*ret_raw = false;
	if (fd >= 0)
		return fd;
	fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	*ret_raw = true;
	return fd < 0 ? -errno : fd;
}

int pinger_start(const char *ipv4_address, unsigned interval_ms, pinger **ret, char **ret_error)
{
	pinger *p;
	sigset_t all, saved;
	int r;

	*ret_error = NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->to.sin_family = AF_INET;
	if (inet_pton(AF_INET, ipv4_address, &p->to.sin_addr) != 1) {
		free(p);
		if (asprintf(ret_error, "'%s' is not an IPv4 address", ipv4_address) < 0)
			*ret_error = NULL;
		return -EINVAL;
	}
	p->interval_ms = interval_ms ? interval_ms : 10;
	p->id = (uint16_t)getpid();
	p->fd = pinger_socket(&p->raw);
	if (p->fd < 0) {
		r = p->fd;
		free(p);
		if (asprintf(ret_error,
			     "Cannot open an ICMP socket to ping %s: %s (run as root, or allow ping "
			     "sockets with sysctl net.ipv4.ping_group_range)",
			     ipv4_address, strerror(-r)) < 0)
			*ret_error = NULL;
		return r;
	}
	p->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&p->lock, NULL);
	p->window_start_ms = now_ms();
	/* The thread takes no signals: the CLI's handlers run in its own loop. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	r = p->wake_fd < 0 ? -errno : -pthread_create(&p->thread, NULL, pinger_thread, p);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (r < 0) {
		if (p->wake_fd >= 0)
			close(p->wake_fd);
		close(p->fd);
		pthread_mutex_destroy(&p->lock);
		free(p);
		if (asprintf(ret_error, "Cannot start pinging %s: %s", ipv4_address, strerror(-r)) < 0)
			*ret_error = NULL;
		return r;
	}
	*ret = p;
	return 0;
}

void pinger_window_begin(pinger *p)
{
	pthread_mutex_lock(&p->lock);
	p->window_first = p->sent_total;
	p->window_start_ms = now_ms();
	p->last_reply_ms = 0;
	p->received = 0;
	p->max_gap_ms = 0;
	pthread_mutex_unlock(&p->lock);
}

void pinger_window_stats(pinger *p, pinger_stats *ret)
{
	uint64_t now = now_ms();

	pthread_mutex_lock(&p->lock);
	ret->sent = p->sent_total - p->window_first;
	ret->received = p->received;
	ret->max_gap_ms = MAX(p->max_gap_ms, now - MAX(p->last_reply_ms, p->window_start_ms));
	pthread_mutex_unlock(&p->lock);
}

void pinger_stop(pinger *p)
{
	uint64_t one = 1;

	if (!p)
		return;
	(void)!write(p->wake_fd, &one, sizeof(one));
	pthread_join(p->thread, NULL);
	close(p->wake_fd);
	close(p->fd);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
