// SPDX-License-Identifier: GPL-2.0-or-later
#include "unix_connect.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "macro.h"

int unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* EINPROGRESS is not expected from a Unix socket; it would mean "try again" all the same. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return errno == EINPROGRESS ? -EAGAIN : -errno;
	return TAKE_FD(fd);
}
