// SPDX-License-Identifier: GPL-2.0-or-later
#include "agent_port.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"

/* Reads a sysfs attribute of at most 255 bytes, without its trailing newline. */
static int attr_read(const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = -1;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	return 0;
}

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

int agent_port_find(const char *root, const char *name, char **ret_path)
{
	_cleanup_(closedirp) DIR *d = NULL;
	_cleanup_free_ char *path = NULL, *dir = NULL;
	struct dirent *de;
	char value[256];

	if (asprintf(&path, "%s/dev/virtio-ports/%s", root, name) < 0)
		return -ENOMEM;
	if (access(path, F_OK) == 0) {
		*ret_path = TAKE_PTR(path);
		return 0;
	}
	if (asprintf(&dir, "%s/sys/class/virtio-ports", root) < 0)
		return -ENOMEM;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? -ENOENT : -errno;
	while ((de = readdir(d))) {
		_cleanup_free_ char *attr = NULL;

		/* Only names the kernel gives ports: no "..", no slashes. */
		if (strncmp(de->d_name, "vport", 5) || strchr(de->d_name, '/'))
			continue;
		if (asprintf(&attr, "%s/%s/name", dir, de->d_name) < 0)
			return -ENOMEM;
		if (attr_read(attr, value, sizeof(value)) < 0 || strcmp(value, name))
			continue;
		free(path);
		if (asprintf(&path, "%s/dev/%s", root, de->d_name) < 0) {
			path = NULL;
			return -ENOMEM;
		}
		*ret_path = TAKE_PTR(path);
		return 0;
	}
	return -ENOENT;
}
