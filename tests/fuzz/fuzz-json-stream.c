// SPDX-License-Identifier: GPL-2.0-or-later
/* The framer in front of every parser: arbitrary bytes, fed in arbitrary pieces. */
#include <stdint.h>

#include "json_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int consume(void *userdata, json_stream_event event, json_object *msg)
{
	json_object_put(msg);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_stream *js;
	size_t step;

	if (size == 0 || json_stream_new(32, &js) < 0)
		return 0;
	/* The first byte picks the read size, so partial reads get fuzzed too. */
	step = (size_t)data[0] % 7 + 1;
	for (size_t off = 1; off < size; off += step)
		json_stream_feed(js, data + off, off + step <= size ? step : size - off, consume, NULL);
	json_stream_free(js);
	return 0;
}
