/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `dmigrate CMD VM [options]` for the commands that ask this host's dmigrated one thing about one
 * VM (cancel, status, stop): they differ only in their options, in what they add to the request
 * and in what they print of the reply, so the command line, the VM operand and the request itself
 * are done here once.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "cli/cli_options.h"

typedef struct cli_vm_request {
	cli_command_line line; /* line.cmd is also the command the daemon is sent */
	const char **socket;   /* where line.opts keeps --socket's value */
	const char *missing;   /* said when the VM is not given */
	uint64_t timeout_ms;
	/*
	 * Set: adds the command's own arguments, from its options (parsed by now), to the request's
	 * {"vm": VM}.
	 */
	void (*add_args)(json_object *args, void *userdata);
	void *userdata;
} cli_vm_request;

/*
 * Parse argv, check that its one operand is a VM name and send the daemon line.cmd with
 * {"vm": VM}. true: *vm (in argv) and *result, the reply's return value (the caller owns it);
 * false: stop with *exit_code (--help printed: 0; the rest said once, as cli_parse_options() and
 * cli_client_run() do).
 */
bool cli_vm_request_run(const cli_vm_request *req, int argc, char **argv, const char **vm,
			json_object **result, int *exit_code);
