// SPDX-License-Identifier: GPL-2.0-or-later
#include "host/qemu_tap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The "iff:" line of one descriptor's fdinfo; -ENOENT when it has none. */
static int qemu_tap_fdinfo_iff(const sysfs *fs, pid_t pid, const char *fd, char *ifname)
{
	_cleanup_free_ char *path = sysfs_path(fs, "proc/%d/fdinfo/%s", (int)pid, fd);
	char line[256];
	FILE *f;
	int r = -ENOENT;

	if (!path)
		return -ENOMEM;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char name[64];

		if (sscanf(line, "iff: %63s", name) == 1 && strlen(name) < IF_NAMESIZE &&
		    !strchr(name, '/')) {
			strcpy(ifname, name);
			r = 0;
			break;
		}
	}
	fclose(f);
	return r;
}

int qemu_tap_find(const sysfs *fs, pid_t pid, char ifname[static IF_NAMESIZE], int *ret_ifindex)
{
	_cleanup_names_ char **fds = NULL;
	char found[IF_NAMESIZE] = "";
	unsigned long ifindex;
	int r, n = 0;

	r = sysfs_list(fs, &fds, "proc/%d/fd", (int)pid);
	if (r < 0)
		return r;
	for (size_t i = 0; fds[i]; i++) {
		_cleanup_free_ char *path = sysfs_path(fs, "proc/%d/fd/%s", (int)pid, fds[i]);
		char link[64], name[IF_NAMESIZE];
		ssize_t len = path ? readlink(path, link, sizeof(link) - 1) : -1;

		if (len <= 0)
			continue;
		link[len] = '\0';
		if (strcmp(link, "/dev/net/tun") || qemu_tap_fdinfo_iff(fs, pid, fds[i], name) < 0)
			continue;
		/* A multiqueue tap has one descriptor per queue, all on one interface. */
		if (n && !strcmp(found, name))
			continue;
		strcpy(found, name);
		n++;
	}
	if (n == 0)
		return -ENOENT;
	if (n > 1)
		return -EEXIST;
	r = sysfs_read_ulong(fs, &ifindex, "sys/class/net/%s/ifindex", found);
	if (r < 0)
		return r;
	strcpy(ifname, found);
	*ret_ifindex = (int)ifindex;
	return 0;
}
