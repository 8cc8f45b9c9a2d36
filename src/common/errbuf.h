/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>

#include "macro.h"

/*
 * How a validator refuses: it writes why into buf (cut to size; nothing when size is 0) and
 * returns r, so that a refusal is one line: return errbuf_set(buf, size, -EINVAL, "...", ...).
 */
_printf_(4, 5) int errbuf_set(char *buf, size_t size, int r, const char *fmt, ...);
