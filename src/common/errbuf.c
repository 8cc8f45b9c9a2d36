// SPDX-License-Identifier: GPL-2.0-or-later
#include "errbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int errbuf_set(char *buf, size_t size, int r, const char *fmt, ...)
{
	va_list ap;

	if (size > 0) {
		va_start(ap, fmt);
		vsnprintf(buf, size, fmt, ap);
		va_end(ap);
	}
	return r;
}

int errbuf_vset_alloc(char **error, int r, const char *fmt, va_list ap, const char *where_fmt, ...)
{
	_cleanup_free_ char *why = NULL, *where = NULL;
	va_list where_ap;
	int n;

	free(*error);
	*error = NULL;
	if (vasprintf(&why, fmt, ap) < 0) {
		why = NULL; /* undefined after a failed vasprintf() */
		return -ENOMEM;
	}
	va_start(where_ap, where_fmt);
	n = vasprintf(&where, where_fmt, where_ap);
	va_end(where_ap);
	if (n < 0) {
		where = NULL;
		return -ENOMEM;
	}
	if (asprintf(error, "%s: %s", where, why) < 0) {
		*error = NULL;
		return -ENOMEM;
	}
	return r;
}
