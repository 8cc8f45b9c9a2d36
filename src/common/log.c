// SPDX-License-Identifier: GPL-2.0-or-later
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int max_level = LOG_INFO;
static const char *log_ident;
static bool log_timestamps;

void log_set_max_level(int level)
{
	max_level = level;
}

int log_get_max_level(void)
{
	return max_level;
}

void log_set_ident(const char *ident)
{
	log_ident = ident;
}

void log_set_timestamps(bool on)
{
	log_timestamps = on;
}

int log_internal(int level, int error, const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	error = abs(error);
	if (level <= max_level) {
		flockfile(stderr);
		if (log_timestamps) {
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			fprintf(stderr, "[%5lld.%03ld] ", (long long)ts.tv_sec, ts.tv_nsec / 1000000);
		}
		if (log_ident)
			fprintf(stderr, "%s: ", log_ident);
		/* %m in fmt prints the error we were given, not whatever errno happens to hold. */
		errno = error;
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
		funlockfile(stderr);
	}
	errno = saved_errno;
	return -error;
}
