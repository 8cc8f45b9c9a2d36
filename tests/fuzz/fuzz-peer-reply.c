// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What a hostile peer daemon can send the source: each line is a reply, {"return": ...} or
 * {"error": {"code": ..., "message": ...}}, and every peer reply parser (transport/peer_reply.h)
 * reads every "return", so each parser sees every input. What a parser accepts must be what the
 * source may use without another check: a port in 1..65535, names of the name syntax, an error
 * message free of control characters and within its bound, an active phase's held request no
 * longer than its device wait. Anything else aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-messages.h"
#include "transport/peer_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(const char *s)
{
	if (!control_name_valid(s, strlen(s)))
		abort();
}

static void parse_return(json_object *ret)
{
	static const struct {
		control_command_id cmd;
		const char *phase;
	} phases[] = {
		{ CONTROL_CMD_PEER_SWITCHOVER, "switchover" }, { CONTROL_CMD_PEER_PLUG, "plug" },
		{ CONTROL_CMD_PEER_ACTIVATE, "active" },       { CONTROL_CMD_PEER_DID_ON, "did-on" },
		{ CONTROL_CMD_PEER_COMMIT, "commit" },
	};
	static const control_command_id empty[] = { CONTROL_CMD_PEER_ABORT, CONTROL_CMD_PEER_FAULT };
	peer_hello hello;
	peer_check_reply check;
	peer_prepare_reply prepare;
	peer_phase_reply phase;
	char errbuf[256];

	if (peer_reply_hello(ret, "hostB", &hello, errbuf, sizeof(errbuf)) == 0 &&
	    (hello.version < CONTROL_PROTOCOL_VERSION_MIN_PEER || hello.version > CONTROL_PROTOCOL_VERSION ||
	     strcmp(hello.host, "hostB")))
		abort();
	if (peer_reply_hello(ret, NULL, &hello, errbuf, sizeof(errbuf)) == 0)
		check_name(hello.host);
	if (peer_reply_check(ret, &check, errbuf, sizeof(errbuf)) == 0 &&
	    (check.free_vfs < 1 || check.free_vfs > 256))
		abort();
	if (peer_reply_prepare(ret, &prepare, errbuf, sizeof(errbuf)) == 0 && prepare.port < 1)
		abort();
	for (size_t i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
		if (peer_reply_phase(phases[i].cmd, phases[i].phase, ret, &phase, errbuf, sizeof(errbuf)) < 0)
			continue;
		/* Only the phase asked about, in a state the source knows. */
		if (strcmp(json_object_get_string(json_object_object_get(ret, "phase")), phases[i].phase) ||
		    phase.device_wait_ms > 10 * 60 * 1000 || phase.request_held_ms > phase.device_wait_ms ||
		    (phases[i].cmd != CONTROL_CMD_PEER_ACTIVATE &&
		     (phase.device_wait_ms || phase.request_held_ms)))
			abort();
	}
	for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++)
		if (peer_reply_empty(empty[i], ret, errbuf, sizeof(errbuf)) == 0 &&
		    !json_object_is_type(ret, json_type_object))
			abort();
	/* A command with members cannot be read as empty. */
	if (peer_reply_empty(CONTROL_CMD_PEER_PREPARE, ret, errbuf, sizeof(errbuf)) == 0)
		abort();
}

static void parse_error(json_object *err)
{
	json_object *code = NULL, *message = NULL;
	peer_error e;

	json_object_object_get_ex(err, "code", &code);
	json_object_object_get_ex(err, "message", &message);
	peer_error_clean(json_object_is_type(code, json_type_string) ? json_object_get_string(code) : NULL,
			 json_object_is_type(message, json_type_string) ? json_object_get_string(message) : NULL,
			 &e);
	if (!control_error_find(e.code) || strlen(e.message) > CONTROL_MAX_ERROR_MESSAGE)
		abort();
	for (const char *c = e.message; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			abort();
}

static void check_message(json_object *msg)
{
	json_object *v;

	if (json_object_is_type(msg, json_type_object)) {
		if (json_object_object_get_ex(msg, "return", &v))
			parse_return(v);
		if (json_object_object_get_ex(msg, "error", &v))
			parse_error(v);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_messages(data, size, CONTROL_MAX_MESSAGE, check_message);
}
