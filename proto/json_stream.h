/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The framing every dmigrate stream uses (agent, QMP, daemon control socket, peer link):
 * one JSON value per line, '\n'-terminated, at most max_size bytes.
 *
 * A 0xFF byte can never occur in UTF-8 JSON, so it is the resynchronisation marker, as in
 * qemu-ga's guest-sync-delimited: on 0xFF the reader throws away the partial line it holds and
 * reports JSON_STREAM_RESYNC. A line longer than max_size is discarded up to its newline and
 * reported once as JSON_STREAM_TOO_BIG, so a peer cannot make us buffer without bound, and the
 * stream carries on with the next line.
 */
#pragma once

#include <stddef.h>

#include <json-c/json.h>

#define JSON_STREAM_SYNC_BYTE 0xFF

typedef enum json_stream_event {
	JSON_STREAM_MESSAGE, /* msg is a parsed value; the handler owns the reference */
	JSON_STREAM_RESYNC,  /* a 0xFF marker: any partial line was dropped */
	JSON_STREAM_TOO_BIG, /* a line exceeded max_size and was dropped */
	JSON_STREAM_BAD_JSON, /* a complete line that is not one JSON value */
} json_stream_event;

/*
 * Called for each event, in stream order. Return 0 to go on, or a negative errno to stop
 * json_stream_feed() at once (for example because the handler closed the connection);
 * json_stream_feed() then returns that value and the rest of the buffer is not looked at.
 */
typedef int (*json_stream_handler)(void *userdata, json_stream_event event, json_object *msg);

typedef struct json_stream json_stream;

int json_stream_new(size_t max_size, json_stream **ret);
json_stream *json_stream_free(json_stream *s);
/* Forget any partial line, as if a 0xFF had been read (without reporting it). */
void json_stream_reset(json_stream *s);
int json_stream_feed(json_stream *s, const void *buf, size_t len, json_stream_handler handler,
		     void *userdata);

/*
 * Serialise one message for the wire: compact JSON and a trailing '\n' (json-c escapes control
 * characters inside strings, so the newline is the only one). Returns -EMSGSIZE if the result
 * would exceed max_size. On success *ret is malloc()ed and *ret_len excludes the NUL.
 */
int json_stream_format(json_object *msg, size_t max_size, char **ret, size_t *ret_len);
