// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli/cli_vm_request.h"

#include "cli/cli.h"
#include "cli/cli_client.h"
#include "log.h"
#include "macro.h"

bool cli_vm_request_run(const cli_vm_request *req, int argc, char **argv, const char **vm,
			json_object **result, int *exit_code)
{
	_cleanup_json_ json_object *args = json_object_new_object();

	if (!args) {
		log_error("Out of memory");
		*exit_code = CLI_EXIT_FAILED;
		return false;
	}
	if (!cli_parse_options(&req->line, argc, argv, exit_code))
		return false;
	*vm = cli_vm_operand(req->line.cmd, argc, argv, req->missing);
	if (!*vm) {
		*exit_code = CLI_EXIT_USAGE;
		return false;
	}

	json_object_object_add(args, "vm", json_object_new_string(*vm));
	if (req->add_args)
		req->add_args(args, req->userdata);
	*exit_code = cli_client_run(&(cli_call){ .socket = *req->socket,
						 .cmd = req->line.cmd,
						 .args = args,
						 .timeout_ms = req->timeout_ms },
				    result);
	return *exit_code == CLI_EXIT_OK;
}
