// SPDX-License-Identifier: GPL-2.0-or-later
/* `dmigrate stop VM`: have this host's dmigrated stop a VM (QMP quit, or a kill with --force). */
#include <stdio.h>

#include "cli/cli_args.h"
#include "cli/cli_client.h"
#include "cli/cli_options.h"
#include "cli/cli_commands.h"
#include "log.h"

static void cli_stop_usage(FILE *f)
{
	fprintf(f,
		"Usage: dmigrate stop VM [--force] [--socket PATH]\n\n"
		"Stop VM: ask QEMU to quit, wait until it is gone and release its passthrough device.\n\n"
		"Options:\n"
		"  --force        kill QEMU instead of asking it to quit\n"
		"  --socket PATH  dmigrated's socket (default: $%s, else %s)\n"
		"  -h, --help     show this help\n\n"
		"Exit codes:\n"
		"  0  stopped\n"
		"  1  dmigrated could not be reached, or failed to stop the VM (e.g. a migration runs)\n"
		"  2  usage error, or no such VM on this host\n",
		CLI_SOCKET_ENV, CLI_SOCKET_DEFAULT);
}

int cli_stop(int argc, char **argv)
{
	_cleanup_json_ json_object *args = json_object_new_object();
	_cleanup_json_ json_object *result = NULL;
	const char *socket = NULL, *vm;
	bool force = false;
	const cli_opt opts[] = { { "force", .flag = &force }, { "socket", .value = &socket }, {} };
	int rc;

	if (!args) {
		log_error("Out of memory");
		return CLI_EXIT_FAILED;
	}
	if (!cli_parse_options(&(cli_command_line){ "stop", cli_stop_usage, opts }, argc, argv, &rc))
		return rc;
	vm = cli_vm_operand("stop", argc, argv,
			    "Missing the VM; usage: dmigrate stop VM [--force] (see 'dmigrate list').");
	if (!vm)
		return CLI_EXIT_USAGE;

	json_object_object_add(args, "vm", json_object_new_string(vm));
	if (force)
		json_object_object_add(args, "force", json_object_new_boolean(1));
	rc = cli_client_run(&(cli_call){ .socket = socket,
					 .cmd = "stop",
					 .args = args,
					 .timeout_ms = CLI_ACTION_TIMEOUT_MS },
			    &result);
	if (rc != CLI_EXIT_OK)
		return rc;
	printf("%s %s.\n", force ? "Killed" : "Stopped", vm);
	return CLI_EXIT_OK;
}
