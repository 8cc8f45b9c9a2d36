/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Drives peer_ssh against a real sshd for tests/lab/test-peer-ssh. One scenario per run:
 *
 *   peer-ssh-check SCENARIO HOST PORT USER IDENTITY KNOWN_HOSTS SOCKET [ARG]
 *
 *   echo          SOCKET echoes: a line, then 1 MiB both ways at once, then our EOF comes back
 *   remote-eof    SOCKET sends "hello\n" and closes: we read it, then EOF, with our side open
 *   stall         SOCKET sends ARG bytes: we read nothing for a while (no CPU may burn, the
 *                 link must stay bounded), then everything arrives, then EOF
 *   drop          SOCKET echoes; ARG is a shell command that kills the sshd session: our fd
 *                 must then read EOF within seconds
 *   vanish        the same, but ARG makes the host vanish silently: EOF within a minute
 *   abort         peer_ssh_close() with the link busy and the fd still open returns at once
 *   error         the open must fail with errno ARG (e.g. ENOKEY) and a message naming HOST
 *   bench         open and close ARG links, print the open times
 *
 * Every scenario checks that no fd leaks (the TCP socket is libssh's to close).
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "transport/peer_ssh.h"
#include "test.h"

#define BULK_SIZE (1024 * 1024)
/* How long any wait on the link may take before the test fails. */
static int io_timeout_ms = 20000;

static peer_ssh_options opts;

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	ASSERT_TRUE(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static peer_ssh *link_open(int *ret_fd, uint64_t *ret_us)
{
	peer_ssh *p = NULL;
	char *error = NULL;
	uint64_t t = now_us();
	int r;

	r = peer_ssh_open(&opts, &p, ret_fd, &error);
	if (r < 0)
		TEST_FAIL("peer_ssh_open: %s (%s)", strerror(-r), error ?: "no message");
	ASSERT_TRUE(p);
	ASSERT_TRUE(*ret_fd >= 0);
	ASSERT_TRUE(!error);
	if (ret_us)
		*ret_us = now_us() - t;
	return p;
}

/* Wait for events on fd; fails the test after io_timeout_ms. */
static short wait_fd(int fd, short events)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int r = poll(&pfd, 1, io_timeout_ms);

	if (r == 0)
		TEST_FAIL("no event 0x%x on the link within %d ms", events, io_timeout_ms);
	ASSERT_TRUE(r == 1);
	return pfd.revents;
}

/* Read until EOF, up to cap bytes; returns the count. A reset counts as the end too (flagged). */
static size_t read_to_eof(int fd, uint8_t *buf, size_t cap, bool *reset)
{
	size_t got = 0;

	*reset = false;
	for (;;) {
		ssize_t n;

		wait_fd(fd, POLLIN);
		n = recv(fd, buf + got, cap - got, 0);
		if (n == 0)
			return got;
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n < 0 && errno == ECONNRESET) {
			*reset = true;
			return got;
		}
		ASSERT_TRUE(n > 0);
		got += (size_t)n;
		if (got == cap)
			TEST_FAIL("more than %zu bytes before EOF", cap);
	}
}

static void pattern_fill(uint8_t *b, size_t n)
{
	uint32_t x = 2463534242u;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		b[i] = (uint8_t)x;
	}
}

static void scenario_echo(void)
{
	static uint8_t out[BULK_SIZE], in[BULK_SIZE + 1];
	const char line[] = "dmigrate peer hello\n";
	size_t sent = 0, got = 0;
	uint64_t open_us, t;
	bool reset;
	peer_ssh *p;
	int fd;

	p = link_open(&fd, &open_us);
	printf("open: %.1f ms\n", open_us / 1000.0);

	/* A small message comes back whole. */
	ASSERT_EQ(send(fd, line, strlen(line), 0), strlen(line));
	while (got < strlen(line)) {
		ssize_t n;

		wait_fd(fd, POLLIN);
		n = recv(fd, in + got, sizeof(in) - got, 0);
		ASSERT_TRUE(n > 0);
		got += (size_t)n;
	}
	ASSERT_EQ(got, strlen(line));
	ASSERT_TRUE(memcmp(in, line, got) == 0);

	/* Request/response latency, the daemon protocol's pattern. */
	t = now_us();
	for (int i = 0; i < 200; i++) {
		ASSERT_EQ(send(fd, line, strlen(line), 0), strlen(line));
		for (got = 0; got < strlen(line);) {
			ssize_t n;

			wait_fd(fd, POLLIN);
			n = recv(fd, in + got, sizeof(in) - got, 0);
			ASSERT_TRUE(n > 0);
			got += (size_t)n;
		}
	}
	printf("small round trip: %.2f ms mean over 200\n", (now_us() - t) / 200 / 1000.0);

	/* 1 MiB both ways at once: neither side may wait for the other to drain. */
	pattern_fill(out, sizeof(out));
	got = 0;
	t = now_us();
	while (got < sizeof(out)) {
		short ev = wait_fd(fd, POLLIN | (sent < sizeof(out) ? POLLOUT : 0));
		ssize_t n;

		if ((ev & POLLOUT) && sent < sizeof(out)) {
			n = send(fd, out + sent, sizeof(out) - sent, MSG_DONTWAIT);
			ASSERT_TRUE(n > 0 || errno == EAGAIN);
			if (n > 0)
				sent += (size_t)n;
		}
		if (ev & POLLIN) {
			n = recv(fd, in + got, sizeof(in) - got, MSG_DONTWAIT);
			ASSERT_TRUE(n > 0 || (n < 0 && errno == EAGAIN));
			if (n > 0)
				got += (size_t)n;
		}
	}
	ASSERT_EQ(got, sizeof(out));
	ASSERT_TRUE(memcmp(in, out, sizeof(out)) == 0);
	printf("1 MiB echoed in %.1f ms\n", (now_us() - t) / 1000.0);

	/* Our EOF reaches the echo server, which ends, and its EOF comes back. */
	ASSERT_OK(shutdown(fd, SHUT_WR));
	ASSERT_EQ(read_to_eof(fd, in, sizeof(in), &reset), 0);
	ASSERT_TRUE(!reset);

	close(fd);
	peer_ssh_close(p);
}

static void scenario_remote_eof(void)
{
	uint8_t in[64];
	bool reset;
	peer_ssh *p;
	int fd;

	p = link_open(&fd, NULL);
	ASSERT_EQ(read_to_eof(fd, in, sizeof(in), &reset), 6);
	ASSERT_TRUE(!reset);
	ASSERT_TRUE(memcmp(in, "hello\n", 6) == 0);
	close(fd);
	peer_ssh_close(p);
}

static void scenario_stall(size_t expected)
{
	static uint8_t buf[256 * 1024];
	uint64_t c0, w0, cpu, wall;
	size_t got = 0;
	peer_ssh *p;
	int fd;

	p = link_open(&fd, NULL);

	/* The server pushes; we do not read. The pump must park, not spin. */
	w0 = now_us();
	c0 = cpu_us();
	usleep(1500 * 1000);
	cpu = cpu_us() - c0;
	wall = now_us() - w0;
	printf("stalled reader: %.1f ms CPU in %.1f ms\n", cpu / 1000.0, wall / 1000.0);
	ASSERT_TRUE(cpu * 10 < wall);

	for (;;) {
		ssize_t n;

		wait_fd(fd, POLLIN);
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0)
			break;
		ASSERT_TRUE(n > 0);
		got += (size_t)n;
	}
	ASSERT_EQ(got, expected);
	close(fd);
	peer_ssh_close(p);
}

/* kill_cmd ends the connection: loudly (sshd killed: the kernel resets it) or silently (the
 * host vanishes: only TCP's own timeouts can tell, with our data unacknowledged). */
static void scenario_drop(const char *kill_cmd, bool silent)
{
	uint8_t in[64];
	uint64_t t;
	bool reset;
	peer_ssh *p;
	size_t n;
	int fd;

	p = link_open(&fd, NULL);
	ASSERT_EQ(send(fd, "ping\n", 5, 0), 5);
	wait_fd(fd, POLLIN);
	ASSERT_EQ(recv(fd, in, sizeof(in), 0), 5);

	ASSERT_EQ(system(kill_cmd), 0);
	t = now_us();
	if (silent) {
		io_timeout_ms = 60000;
		ASSERT_EQ(send(fd, "ping\n", 5, 0), 5);
	}
	n = read_to_eof(fd, in, sizeof(in), &reset);
	ASSERT_EQ(n, 0);
	ASSERT_TRUE(!reset);
	printf("connection loss seen as EOF after %.1f ms\n", (now_us() - t) / 1000.0);
	/* Writes fail now instead of vanishing. */
	ASSERT_TRUE(send(fd, "x", 1, MSG_NOSIGNAL) < 0);
	close(fd);
	peer_ssh_close(p);
}

static void scenario_abort(void)
{
	static uint8_t out[256 * 1024];
	uint64_t t;
	peer_ssh *p;
	int fd;

	p = link_open(&fd, NULL);
	/* Fill the link in both directions, then stop without reading: close must not wait. */
	for (int i = 0; i < 20; i++)
		(void)send(fd, out, sizeof(out), MSG_DONTWAIT);
	t = now_us();
	peer_ssh_close(p);
	printf("close of a busy link: %.1f ms\n", (now_us() - t) / 1000.0);
	ASSERT_TRUE(now_us() - t < 1000 * 1000);
	/* Our end is still ours; the pump's end is gone. */
	wait_fd(fd, POLLIN);
	close(fd);
}

static int errno_from_name(const char *name)
{
	static const struct {
		const char *name;
		int value;
	} table[] = {
		{ "EINVAL", EINVAL },		{ "ECONNREFUSED", ECONNREFUSED },
		{ "EHOSTUNREACH", EHOSTUNREACH }, { "ETIMEDOUT", ETIMEDOUT },
		{ "EPROTO", EPROTO },		{ "ENOKEY", ENOKEY },
		{ "EKEYREJECTED", EKEYREJECTED }, { "EBADMSG", EBADMSG },
		{ "EACCES", EACCES },		{ "EREMOTEIO", EREMOTEIO },
	};

	for (size_t i = 0; i < ELEMENTSOF(table); i++)
		if (strcmp(table[i].name, name) == 0)
			return table[i].value;
	TEST_FAIL("unknown errno name %s", name);
}

static void scenario_error(const char *name)
{
	int expected = errno_from_name(name), fd = -7, r;
	peer_ssh *p = (peer_ssh *)&opts; /* must stay untouched */
	char *error = NULL;
	uint64_t t = now_us();

	r = peer_ssh_open(&opts, &p, &fd, &error);
	printf("%s after %.1f ms: %s\n", name, (now_us() - t) / 1000.0, error ?: "(no message)");
	ASSERT_ERRNO(r, expected);
	ASSERT_TRUE(p == (peer_ssh *)&opts);
	ASSERT_EQ(fd, -7);
	ASSERT_TRUE(error);
	ASSERT_TRUE(strstr(error, opts.host));
	free(error);
}

static void scenario_bench(unsigned n)
{
	uint64_t min = UINT64_MAX, max = 0, sum = 0;

	for (unsigned i = 0; i < n; i++) {
		uint64_t us;
		peer_ssh *p;
		int fd;

		p = link_open(&fd, &us);
		close(fd);
		peer_ssh_close(p);
		min = us < min ? us : min;
		max = us > max ? us : max;
		sum += us;
	}
	printf("open (connect + key exchange + auth + channel) x%u: min %.1f ms, mean %.1f ms, "
	       "max %.1f ms\n",
	       n, min / 1000.0, sum / 1000.0 / n, max / 1000.0);
}

int main(int argc, char **argv)
{
	const char *scenario;
	int fds_before;

	if (argc < 8 || argc > 9) {
		fprintf(stderr,
			"usage: %s SCENARIO HOST PORT USER IDENTITY KNOWN_HOSTS SOCKET [ARG]\n",
			argv[0]);
		return 2;
	}
	scenario = argv[1];
	opts = (peer_ssh_options){
		.host = argv[2],
		.port = (unsigned)strtoul(argv[3], NULL, 10),
		.user = argv[4],
		.identity_file = argv[5],
		.known_hosts_file = argv[6],
		.remote_socket = argv[7],
		.connect_timeout_ms = 3000,
	};
	/* The daemon ignores SIGPIPE; so do we, and the link must not depend on it either way. */
	signal(SIGPIPE, SIG_IGN);

	fds_before = fd_count();
	if (strcmp(scenario, "echo") == 0)
		scenario_echo();
	else if (strcmp(scenario, "remote-eof") == 0)
		scenario_remote_eof();
	else if (strcmp(scenario, "stall") == 0 && argc == 9)
		scenario_stall(strtoul(argv[8], NULL, 10));
	else if (strcmp(scenario, "drop") == 0 && argc == 9)
		scenario_drop(argv[8], false);
	else if (strcmp(scenario, "vanish") == 0 && argc == 9)
		scenario_drop(argv[8], true);
	else if (strcmp(scenario, "abort") == 0)
		scenario_abort();
	else if (strcmp(scenario, "error") == 0 && argc == 9)
		scenario_error(argv[8]);
	else if (strcmp(scenario, "bench") == 0 && argc == 9)
		scenario_bench((unsigned)strtoul(argv[8], NULL, 10));
	else
		TEST_FAIL("unknown scenario or missing argument: %s", scenario);
	if (fd_count() != fds_before) {
		fprintf(stderr, "fd leak, open now:\n");
		(void)!system("ls -l /proc/$PPID/fd >&2");
	}
	ASSERT_EQ(fd_count(), fds_before);
	printf("%s: ok\n", scenario);
	return 0;
}
