// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The host client's side of the protocol: bytes from a guest (which the host must not trust),
 * framed and classified as replies and events, error codes mapped to errno.
 */
#include <stdint.h>

#include "agent_protocol.h"
#include "json_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int handle(void *userdata, json_stream_event event, json_object *msg)
{
	agent_message m;

	if (event == JSON_STREAM_MESSAGE && agent_message_parse(msg, &m) >= 0) {
		if (m.kind == AGENT_MESSAGE_ERROR)
			(void)agent_error_to_errno(m.name);
		if (m.kind == AGENT_MESSAGE_EVENT || m.kind == AGENT_MESSAGE_RETURN)
			(void)json_object_object_length(m.value);
	}
	json_object_put(msg);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_stream *js;
	size_t step;

	if (size == 0 || json_stream_new(AGENT_PROTOCOL_MAX_MESSAGE, &js) < 0)
		return 0;
	step = (size_t)data[0] % 13 + 1;
	for (size_t off = 1; off < size; off += step)
		json_stream_feed(js, data + off, off + step <= size ? step : size - off, handle, NULL);
	json_stream_free(js);
	return 0;
}
