/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * For targets whose parser takes one message off a stream (a daemon's request, a peer's reply):
 * the input read as the stream the daemons read (json_stream, messages of at most max bytes),
 * each whole message handed to check(), which borrows it.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "json_stream.h"

typedef void (*fuzz_message_fn)(json_object *msg);

typedef struct fuzz_message_check {
	fuzz_message_fn check;
} fuzz_message_check;

static inline int fuzz_message_dispatch(void *userdata, json_stream_event event, json_object *msg)
{
	const fuzz_message_check *c = userdata;

	if (event == JSON_STREAM_MESSAGE) {
		c->check(msg);
		json_object_put(msg);
	}
	return 0;
}

/* The whole body of such a target's LLVMFuzzerTestOneInput(). */
static inline int fuzz_messages(const uint8_t *data, size_t size, size_t max, fuzz_message_fn check)
{
	fuzz_message_check c = { check };
	json_stream *js;

	if (json_stream_new(max, &js) < 0)
		return 0;
	json_stream_feed(js, data, size, fuzz_message_dispatch, &c);
	json_stream_free(js);
	return 0;
}
