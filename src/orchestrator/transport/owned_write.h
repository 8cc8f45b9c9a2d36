/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A write of a malloc()ed buffer that the stream owns until libuv is done with it, for the
 * clients that queue a line and go on (QMP, the guest agent): the buffer and its request are
 * freed in one place, whatever became of the write.
 */
#pragma once

#include <stddef.h>

#include <uv.h>

/* A write that failed with status (< 0); not called for UV_ECANCELED, the stream being closed. */
typedef void (*owned_write_error_fn)(int status, void *userdata);

/*
 * Queue buf's len bytes on stream. Takes ownership of buf, on success and on failure. on_error
 * (may be NULL: a write error then shows up as a read error or EOF soon after) hears a write
 * that failed later. Returns 0 or libuv's error.
 */
int owned_write(uv_stream_t *stream, char *buf, size_t len, owned_write_error_fn on_error,
		void *userdata);
