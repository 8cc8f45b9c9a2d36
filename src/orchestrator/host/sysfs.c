// SPDX-License-Identifier: GPL-2.0-or-later
#include "host/sysfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *sysfs_vpath(const sysfs *fs, const char *fmt, va_list ap) _printf_(2, 0);
static char *sysfs_vpath(const sysfs *fs, const char *fmt, va_list ap)
{
	_cleanup_free_ char *rel = NULL;
	char *abs;
	size_t n;

	if (vasprintf(&rel, fmt, ap) < 0) {
		rel = NULL;
		return NULL;
	}
	n = strlen(fs->root);
	if (asprintf(&abs, "%s%s%s", fs->root, n && fs->root[n - 1] == '/' ? "" : "/", rel) < 0)
		return NULL;
	return abs;
}

char *sysfs_path(const sysfs *fs, const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = sysfs_vpath(fs, fmt, ap);
	va_end(ap);
	return p;
}

static int sysfs_read_path(const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = -1;
	ssize_t n;

	if (size == 0)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	do
		n = read(fd, buf, size - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int sysfs_read(const sysfs *fs, char *buf, size_t size, const char *fmt, ...)
{
	_cleanup_free_ char *path = NULL;
	va_list ap;

	va_start(ap, fmt);
	path = sysfs_vpath(fs, fmt, ap);
	va_end(ap);
	if (!path)
		return -ENOMEM;
	return sysfs_read_path(path, buf, size);
}

int sysfs_read_ulong(const sysfs *fs, unsigned long *ret, const char *fmt, ...)
{
	_cleanup_free_ char *path = NULL;
	char buf[64], *end;
	unsigned long v;
	va_list ap;
	int r;

	va_start(ap, fmt);
	path = sysfs_vpath(fs, fmt, ap);
	va_end(ap);
	if (!path)
		return -ENOMEM;
	r = sysfs_read_path(path, buf, sizeof(buf));
	if (r < 0)
		return r;
	if (buf[0] < '0' || buf[0] > '9')
		return -EBADMSG;
	errno = 0;
	v = strtoul(buf, &end, 0);
	if (errno || *end)
		return -EBADMSG;
	*ret = v;
	return 0;
}

int sysfs_write(const sysfs *fs, const char *value, const char *fmt, ...)
{
	_cleanup_free_ char *path = NULL, *rel = NULL;
	_cleanup_close_ int fd = -1;
	size_t len = strlen(value);
	va_list ap;
	ssize_t n;

	va_start(ap, fmt);
	path = sysfs_vpath(fs, fmt, ap);
	va_end(ap);
	if (!path)
		return -ENOMEM;
	/* O_TRUNC means nothing to sysfs; a fixture's file must lose its old value. */
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	do
		n = write(fd, value, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EIO;
	if (!fs->on_write)
		return 0;
	rel = strdup(path + strlen(fs->root) + (fs->root[strlen(fs->root) - 1] == '/' ? 0 : 1));
	if (!rel)
		return -ENOMEM;
	return fs->on_write(fs, rel, value, fs->userdata);
}

int sysfs_link_name(const sysfs *fs, char *buf, size_t size, const char *fmt, ...)
{
	_cleanup_free_ char *path = NULL;
	char target[4096];
	const char *slash;
	va_list ap;
	ssize_t n;

	va_start(ap, fmt);
	path = sysfs_vpath(fs, fmt, ap);
	va_end(ap);
	if (!path)
		return -ENOMEM;
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	slash = strrchr(target, '/');
	slash = slash ? slash + 1 : target;
	if (strlen(slash) >= size || !*slash)
		return -ENAMETOOLONG;
	strcpy(buf, slash);
	return 0;
}

bool sysfs_exists(const sysfs *fs, const char *fmt, ...)
{
	_cleanup_free_ char *path = NULL;
	va_list ap;

	va_start(ap, fmt);
	path = sysfs_vpath(fs, fmt, ap);
	va_end(ap);
	return path && access(path, F_OK) == 0;
}

static int sysfs_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **sysfs_list_free(char **names)
{
	for (size_t i = 0; names && names[i]; i++)
		free(names[i]);
	free(names);
	return NULL;
}

int sysfs_list(const sysfs *fs, char ***ret, const char *fmt, ...)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_names_ char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	va_list ap;
	DIR *d;
	int r = 0;

	va_start(ap, fmt);
	path = sysfs_vpath(fs, fmt, ap);
	va_end(ap);
	if (!path)
		return -ENOMEM;
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n >= SYSFS_LIST_MAX) {
			r = -E2BIG;
			break;
		}
		if (n + 2 > cap) {
			char **bigger = realloc(names, (cap = cap ? cap * 2 : 16) * sizeof(char *));

			if (!bigger) {
				r = -ENOMEM;
				break;
			}
			names = bigger;
		}
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			r = -ENOMEM;
			break;
		}
		names[++n] = NULL;
	}
	closedir(d);
	if (r < 0)
		return r;
	if (!names && !(names = calloc(1, sizeof(char *))))
		return -ENOMEM;
	qsort(names, n, sizeof(char *), sysfs_name_cmp);
	*ret = TAKE_PTR(names);
	return 0;
}
