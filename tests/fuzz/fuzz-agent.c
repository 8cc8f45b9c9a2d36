// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The agent's side of the protocol: bytes from the host, framed, parsed as requests and checked
 * against the command table, then answered with the builders the agent uses.
 *
 * No agent_server runs here (this target links proto only, see meson.build), so nothing is
 * dispatched: a `fault` request (corpus/agent/fault) is parsed, checked and echoed like any
 * other and can neither kill nor stall the fuzzer. The agent itself would refuse it anyway
 * unless started with --allow-faults.
 */
#include <stdint.h>
#include <stdlib.h>

#include "agent_protocol.h"
#include "json_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int handle(void *userdata, json_stream_event event, json_object *msg)
{
	agent_error_code code;
	agent_request req;
	char errbuf[256];
	json_object *reply;
	char *line;
	size_t len;

	if (event != JSON_STREAM_MESSAGE)
		return 0;
	if (agent_request_parse(msg, &req, &code, errbuf, sizeof(errbuf)) < 0)
		reply = agent_reply_new_error(req.has_id, req.id, code, errbuf);
	else {
		/* Every accessor on every argument the command knows. */
		for (const agent_arg_def *a = req.cmd->args; a->name; a++) {
			(void)agent_args_get_string(req.args, a->name, NULL);
			(void)agent_args_get_int(req.args, a->name, 0);
			(void)agent_args_get_bool(req.args, a->name, false);
		}
		reply = agent_reply_new_return(req.id, json_object_get(req.args));
	}
	if (reply && json_stream_format(reply, AGENT_PROTOCOL_MAX_MESSAGE, &line, &len) >= 0)
		free(line);
	json_object_put(reply);
	json_object_put(msg);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_stream *js;
	size_t step;

	if (size == 0 || json_stream_new(AGENT_PROTOCOL_MAX_MESSAGE, &js) < 0)
		return 0;
	/* The first byte picks the read size, so partial reads get fuzzed too. */
	step = (size_t)data[0] % 13 + 1;
	for (size_t off = 1; off < size; off += step)
		json_stream_feed(js, data + off, off + step <= size ? step : size - off, handle, NULL);
	json_stream_free(js);
	return 0;
}
