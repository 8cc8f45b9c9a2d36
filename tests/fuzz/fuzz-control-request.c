// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The daemon's side of the daemon protocol: each line is a request as a client or a peer sends
 * it, checked as dmigrated checks it (proto/control_protocol.h) on both sockets. What the check
 * accepts must hold up: the command is served on that socket, every required argument is there
 * and every argument passes its own field check again; hello's version range gives a version in
 * both ranges or none. Anything else aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control_protocol.h"
#include "fuzz-messages.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_request(const control_command *cmd, json_object *args)
{
	char errbuf[256];
	json_object *v;

	if (control_args_validate(cmd, args, errbuf, sizeof(errbuf)) < 0)
		return;
	if (args && json_object_is_type(args, json_type_null))
		args = NULL;
	for (const control_field *f = cmd->args; f->name; f++) {
		if (!args || !json_object_object_get_ex(args, f->name, &v)) {
			if (f->required)
				abort();
			continue;
		}
		if (control_field_check(f, v, f->name, errbuf, sizeof(errbuf)) < 0)
			abort();
		if (f->type == CONTROL_NAME && !control_name_valid(json_object_get_string(v),
								    (size_t)json_object_get_string_len(v)))
			abort();
	}
	if (args) {
		json_object_object_foreach(args, key, val) {
			bool known = false;

			(void)val;
			for (const control_field *f = cmd->args; f->name; f++)
				known |= !strcmp(f->name, key);
			if (!known)
				abort();
		}
	}
	if (cmd->id == CONTROL_CMD_HELLO) {
		int64_t max = json_object_get_int64(json_object_object_get(args, "version"));
		int64_t min = json_object_object_get_ex(args, "min_version", &v) ? json_object_get_int64(v) : max;

		for (control_side side = CONTROL_SIDE_CLI; side <= CONTROL_SIDE_PEER; side++) {
			int version = control_version_negotiate(side, min, max);

			if (version >= 0 && (version < min || version > max || version > CONTROL_PROTOCOL_VERSION ||
					     version < CONTROL_PROTOCOL_VERSION_MIN ||
					     (side == CONTROL_SIDE_PEER && version < CONTROL_PROTOCOL_VERSION_MIN_PEER)))
				abort();
		}
	}
}

static void check_message(json_object *msg)
{
	const control_command *cmd;
	json_object *name, *args = NULL;

	if (json_object_is_type(msg, json_type_object) && json_object_object_get_ex(msg, "cmd", &name) &&
	    json_object_is_type(name, json_type_string)) {
		cmd = control_command_find(json_object_get_string(name));
		json_object_object_get_ex(msg, "args", &args);
		if (cmd) {
			if (!control_command_served_on(cmd, CONTROL_SIDE_CLI) &&
			    !control_command_served_on(cmd, CONTROL_SIDE_PEER))
				abort();
			check_request(cmd, args);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_messages(data, size, CONTROL_MAX_MESSAGE, check_message);
}
