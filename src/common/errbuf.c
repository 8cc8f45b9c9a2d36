// SPDX-License-Identifier: GPL-2.0-or-later
#include "errbuf.h"

#include <stdarg.h>
#include <stdio.h>

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
