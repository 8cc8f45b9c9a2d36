// SPDX-License-Identifier: GPL-2.0-or-later
#include "agent_udev.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A net device's entry is a few hundred bytes; the flag, when there, is among its properties. */
#define UDEV_DB_READ_MAX 16384

/* Whether text holds the line, whole. */
static bool has_line(const char *text, size_t len, const char *line)
{
	size_t n = strlen(line);

	for (size_t i = 0; i + n <= len; i++)
		if ((i == 0 || text[i - 1] == '\n') && !memcmp(text + i, line, n) &&
		    (i + n == len || text[i + n] == '\n'))
			return true;
	return false;
}

bool agent_udev_db_busy(const char *text, size_t len)
{
	return has_line(text, len, "E:ID_RENAMING=1") || has_line(text, len, "E:ID_PROCESSING=1");
}

bool agent_udev_link_pending(int ifindex)
{
	char path[64], text[UDEV_DB_READ_MAX];
	ssize_t len;
	int fd;

	if (access("/run/udev/control", F_OK) < 0)
		return false;
	snprintf(path, sizeof(path), "/run/udev/data/n%d", ifindex);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	len = read(fd, text, sizeof(text));
	close(fd);
	/* Unreadable: as good as missing, udev is not done with it for us. */
	if (len < 0)
		return true;
	return agent_udev_db_busy(text, (size_t)len);
}
