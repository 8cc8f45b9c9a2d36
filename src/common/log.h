/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logging, systemd style: library code logs at debug level at most and returns -errno; the
 * boundary (a main, a job that reports to the user) logs once with the value and the cause:
 *
 *     return log_error_errno(r, "Failed to unplug '%s' from '%s': %m", dev, vm);
 *
 * The *_errno variants set errno from the error so that %m prints it, and return -|error|.
 */
#pragma once

#include <stdbool.h>
#include <syslog.h>

#include "macro.h"

void log_set_max_level(int level);
int log_get_max_level(void);
/* Prefix every line with this program's name (default: none). */
void log_set_ident(const char *ident);
/* Prefix every line with a monotonic timestamp in seconds. */
void log_set_timestamps(bool on);

int log_internal(int level, int error, const char *fmt, ...) _printf_(3, 4);

#define log_full_errno(level, error, ...)                                                          \
	({                                                                                         \
		int _e_ = (error);                                                                 \
		(log_get_max_level() >= (level)) ? log_internal((level), _e_, __VA_ARGS__)        \
						 : -abs(_e_);                                      \
	})
#define log_full(level, ...) ((void)log_full_errno((level), 0, __VA_ARGS__))

#define log_debug(...) log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(error, ...) log_full_errno(LOG_DEBUG, (error), __VA_ARGS__)
#define log_info_errno(error, ...) log_full_errno(LOG_INFO, (error), __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, (error), __VA_ARGS__)
#define log_error_errno(error, ...) log_full_errno(LOG_ERR, (error), __VA_ARGS__)
