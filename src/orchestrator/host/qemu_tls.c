// SPDX-License-Identifier: GPL-2.0-or-later
#include "host/qemu_tls.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errbuf.h"

const char *const qemu_tls_files[] = {
	"ca-cert.pem",	   "server-cert.pem", "server-key.pem",
	"client-cert.pem", "client-key.pem",  NULL,
};

int qemu_tls_dir_check(const char *dir, char *why, size_t size)
{
	size_t len = strlen(dir);
	struct stat st;

	if (dir[0] != '/')
		return errbuf_set(why, size, -EINVAL, "expected an absolute path, got \"%s\"", dir);
	if (len > QEMU_TLS_DIR_MAX)
		return errbuf_set(why, size, -EINVAL, "a path of at most %d characters, got %zu",
				  QEMU_TLS_DIR_MAX, len);
	for (const char *s = dir; *s; s++)
		/* A comma would end QEMU's dir= option and start one of the attacker's choice. */
		if (*s == ',' || (unsigned char)*s < 0x20 || *s == 0x7f)
			return errbuf_set(why, size, -EINVAL,
					  "\"%s\" holds a comma or a control character: name a "
					  "directory without them",
					  dir);
	if (stat(dir, &st) < 0) {
		int e = errno;

		return errbuf_set(why, size, -e, "\"%s\": %s (make the CA and this host's "
				  "certificates there, see dmigrated.json(5))",
				  dir, strerror(e));
	}
	if (!S_ISDIR(st.st_mode))
		return errbuf_set(why, size, -ENOTDIR, "\"%s\" is not a directory", dir);
	for (size_t i = 0; qemu_tls_files[i]; i++) {
		char path[QEMU_TLS_DIR_MAX + 32];

		snprintf(path, sizeof(path), "%s/%s", dir, qemu_tls_files[i]);
		if (stat(path, &st) < 0 || access(path, R_OK) < 0) {
			int e = errno;

			return errbuf_set(why, size, -e, "\"%s\": %s (the directory needs %s, "
					  "%s, %s, %s and %s)",
					  path, strerror(e), qemu_tls_files[0], qemu_tls_files[1],
					  qemu_tls_files[2], qemu_tls_files[3], qemu_tls_files[4]);
		}
		if (!S_ISREG(st.st_mode))
			return errbuf_set(why, size, -EINVAL, "\"%s\" is not a regular file", path);
	}
	return 0;
}
