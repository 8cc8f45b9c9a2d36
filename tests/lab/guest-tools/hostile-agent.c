/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostile-agent: a deliberately broken guest agent for the lab (tests/lab/test-hostile-agent),
 * shipped in the lab image as /usr/bin/hostile-agent and started instead of dmigrate-agent by
 * tests/lab/guest/agent when the guest asks for it (/run/dmigrate-hostile, or dmigrate.hostile=
 * on the kernel command line). It holds the agent's virtio-serial port and misbehaves in one of
 * the ways a compromised or buggy guest could (proto/agent-protocol.md is what it breaks):
 *
 *   hostile-agent garbage|flood|lie|silent
 *
 *   garbage  every request gets bytes that are no protocol: binary noise, a line far over the
 *            size cap, JSON that is no reply, a reply whose id is a string; never a real answer.
 *   flood    sync and hello are answered, then events and replies to no request are written as
 *            fast as the port takes them, without end; no other request is answered.
 *   lie      sync and hello are answered; every other request gets a well-formed reply that is
 *            false: an active slave that is not among the slaves, a negative wait, a VF that
 *            does not exist, success for a change it never made.
 *   silent   reads every request and answers none, not even sync or hello.
 *
 * It does not parse JSON: it finds "id" and "cmd" in a request's text, which is all a liar needs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PORT_NAME "org.dmigrate.agent.0"
#define LINE_MAX_BYTES (64 * 1024)
#define OVERSIZED_BYTES (64 * 1024) /* four times the protocol's cap (16 KiB) */

static int port_fd = -1;

/* The port's /dev node: the virtio-ports entry whose name is the agent's. */
static int port_open(void)
{
	DIR *d = opendir("/sys/class/virtio-ports");
	struct dirent *de;
	char path[512], name[128];
	int fd = -1;

	if (!d)
		return -1;
	while (fd < 0 && (de = readdir(d))) {
		FILE *f;

		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", de->d_name);
		if (!(f = fopen(path, "re")))
			continue;
		if (fgets(name, sizeof(name), f) && !strncmp(name, PORT_NAME, strlen(PORT_NAME))) {
			snprintf(path, sizeof(path), "/dev/%s", de->d_name);
			fd = open(path, O_RDWR | O_CLOEXEC);
		}
		fclose(f);
	}
	closedir(d);
	return fd;
}

static void put(const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(port_fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			exit(1); /* the host closed the port: the supervisor starts us again */
		p += n;
		len -= (size_t)n;
	}
}

static void putf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void putf(const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* The request's id (-1: none) and command ("" if none), from its text. */
static long long request_id(const char *line)
{
	const char *p = strstr(line, "\"id\":");

	return p ? strtoll(p + 5, NULL, 10) : -1;
}

static void request_cmd(const char *line, char *cmd, size_t size)
{
	const char *p = strstr(line, "\"cmd\":\"");
	size_t n = 0;

	if (p)
		for (p += 7; *p && *p != '"' && n + 1 < size; p++)
			cmd[n++] = *p;
	cmd[n] = '\0';
}

/* sync and hello as the real agent answers them: a hostile agent looks healthy at first. */
static int answer_handshake(long long id, const char *cmd)
{
	if (!strcmp(cmd, "sync")) {
		put("\xff", 1);
		putf("{\"id\":%lld,\"return\":{}}\n", id);
		return 1;
	}
	if (!strcmp(cmd, "hello")) {
		putf("{\"id\":%lld,\"return\":{\"version\":1,\"agent\":\"hostile-agent\","
		     "\"commands\":[\"sync\",\"hello\",\"bond-status\",\"bond-set-active\","
		     "\"bond-activate-vf\",\"bond-release\",\"announce\",\"did-status\",\"did-enable\","
		     "\"did-disable\"],\"events\":[\"vf-added\",\"vf-removed\",\"link-up\","
		     "\"link-down\",\"active-changed\"],\"max-message\":16384}}\n", id);
		return 1;
	}
	return 0;
}

static void garbage(long long id)
{
	static char noise[4096];
	static char big[OVERSIZED_BYTES];

	for (size_t i = 0; i < sizeof(noise); i++)
		noise[i] = (char)(rand() % 255 + 1); /* no NUL; 0xFF (a sync marker) included */
	put(noise, sizeof(noise));
	put("\n{not json at all\n", 18);
	memset(big, 'A', sizeof(big));
	putf("{\"id\":%lld,\"return\":{\"x\":\"", id);
	put(big, sizeof(big));
	put("\"}}\n", 4);
	putf("{\"id\":\"%lld\",\"return\":{}}\n", id);
	putf("[%lld, \"return\"]\n", id);
}

static const char *const flood_lines[] = {
	"{\"event\":\"link-up\",\"data\":{\"ifname\":\"eth1\",\"role\":\"vf\"}}\n",
	"{\"event\":\"active-changed\",\"data\":{\"bond\":\"bond0\",\"active\":\"eth9\",\"role\":\"vf\",\"previous\":null}}\n",
	"{\"event\":\"no-such-event\",\"data\":{}}\n",
	"{\"id\":123456789,\"return\":{}}\n",
	"{\"event\":\"vf-removed\",\"data\":{\"ifname\":\"eth1\"}}\n",
};

static void lie(long long id, const char *cmd)
{
	if (!strcmp(cmd, "bond-status"))
		putf("{\"id\":%lld,\"return\":{\"bond\":\"bond0\",\"mode\":\"active-backup\","
		     "\"mac\":\"52:54:00:00:00:12\",\"carrier\":true,\"active\":\"eth9\","
		     "\"active-role\":\"vf\",\"slaves\":[{\"ifname\":\"eth0\",\"role\":\"standby\","
		     "\"driver\":\"virtio_net\",\"mac\":\"52:54:00:00:00:12\","
		     "\"perm-mac\":\"52:54:00:00:00:12\",\"carrier\":true,\"active\":false}],"
		     "\"free-vfs\":[\"eth7\",\"eth8\"]}}\n", id);
	else if (!strcmp(cmd, "bond-set-active"))
		putf("{\"id\":%lld,\"return\":{\"bond\":\"bond0\",\"active\":\"eth9\",\"role\":\"vf\","
		     "\"previous\":\"eth9\"}}\n", id);
	else if (!strcmp(cmd, "bond-activate-vf"))
		putf("{\"id\":%lld,\"return\":{\"bond\":\"bond0\",\"ifname\":\"eth9\",\"previous\":null,"
		     "\"device-ms\":-5,\"carrier-ms\":0,\"took-ms\":0}}\n", id);
	else if (!strcmp(cmd, "bond-release"))
		putf("{\"id\":%lld,\"return\":{\"bond\":\"bond0\",\"released\":\"eth9\"}}\n", id);
	else if (!strcmp(cmd, "announce"))
		putf("{\"id\":%lld,\"return\":{\"bond\":\"bond0\",\"ifname\":\"eth9\",\"arp\":-1,"
		     "\"na\":-1}}\n", id);
	else /* the DID commands and anything else: an answer to the next id, not this one */
		putf("{\"id\":%lld,\"return\":{\"state\":\"on\",\"changed\":true}}\n", id + 1);
}

int main(int argc, char **argv)
{
	static char line[LINE_MAX_BYTES];
	const char *mode = argc == 2 ? argv[1] : "";
	size_t len = 0, flood_next = 0;
	bool flooding = false;

	if (strcmp(mode, "garbage") && strcmp(mode, "flood") && strcmp(mode, "lie") &&
	    strcmp(mode, "silent")) {
		fprintf(stderr, "usage: hostile-agent garbage|flood|lie|silent\n");
		return 2;
	}
	if ((port_fd = port_open()) < 0) {
		fprintf(stderr, "hostile-agent: no virtio-serial port named %s\n", PORT_NAME);
		return 1;
	}
	fprintf(stderr, "hostile-agent: %s on the agent's port\n", mode);
	for (;;) {
		struct pollfd p = { .fd = port_fd, .events = POLLIN };
		ssize_t n;

		if (flooding) {
			/* Between floods, a glance at the port for requests, without waiting. */
			put(flood_lines[flood_next], strlen(flood_lines[flood_next]));
			flood_next = (flood_next + 1) % (sizeof(flood_lines) / sizeof(flood_lines[0]));
			if (poll(&p, 1, 0) <= 0)
				continue;
		}
		n = read(port_fd, line + len, sizeof(line) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* No host on the port yet (or gone): wait for it. */
			usleep(100000);
			continue;
		}
		len += (size_t)n;
		line[len] = '\0';
		for (char *nl; (nl = strchr(line, '\n'));) {
			char cmd[64];
			long long id;

			*nl = '\0';
			id = request_id(line);
			request_cmd(line, cmd, sizeof(cmd));
			if (strcmp(mode, "silent") && strcmp(mode, "garbage") &&
			    answer_handshake(id, cmd)) {
				flooding = !strcmp(mode, "flood") && !strcmp(cmd, "hello");
			} else if (!strcmp(mode, "garbage")) {
				garbage(id);
			} else if (!strcmp(mode, "lie")) {
				lie(id, cmd);
			}
			len -= (size_t)(nl + 1 - line);
			memmove(line, nl + 1, len + 1);
		}
		if (len == sizeof(line) - 1)
			len = 0; /* a request over the buffer: dropped, as any line too long */
	}
}
