/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdarg.h>
#include <stddef.h>

#include "macro.h"

/*
 * How a validator refuses: it writes why into buf (cut to size; nothing when size is 0) and
 * returns r, so that a refusal is one line: return errbuf_set(buf, size, -EINVAL, "...", ...).
 */
_printf_(4, 5) int errbuf_set(char *buf, size_t size, int r, const char *fmt, ...);

/*
 * How a parser that hands its caller an allocated message refuses: *error (freed first) becomes
 * "WHERE: WHY", WHY from fmt and ap (the parser's own arguments, so that it stays variadic) and
 * WHERE from where_fmt (a file, a file and line, a field), and r is returned; -ENOMEM, *error
 * NULL, when there is no memory for the message.
 */
_printf_(3, 0) _printf_(5, 6) int errbuf_vset_alloc(char **error, int r, const char *fmt, va_list ap,
						     const char *where_fmt, ...);
