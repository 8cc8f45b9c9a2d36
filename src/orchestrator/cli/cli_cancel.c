// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `dmigrate cancel VM`: stop a migration of VM from this host and undo it. Before the switchover
 * the daemon stops it (the copy is cancelled, the VF plugged back) and the `dmigrate migrate`
 * that started it reports it rolled back; after it the daemon refuses and says why.
 */
#include <stdio.h>

#include "cli/cli_client.h"
#include "cli/cli_commands.h"
#include "cli/cli_vm_request.h"
#include "macro.h"

static void cli_cancel_usage(FILE *f)
{
	fprintf(f,
		"Usage: dmigrate cancel VM [--socket PATH]\n\n"
		"Cancel the migration of VM that this host's dmigrated runs. Before the switchover it is\n"
		"stopped and undone: the VM goes on running here with its passthrough NIC, and the\n"
		"'dmigrate migrate' that started it reports it rolled back. After the switchover the VM\n"
		"runs on the destination and the source may never run again: cancel is refused.\n\n"
		"Options:\n"
		"  --socket PATH  dmigrated's socket (default: $%s, else %s)\n"
		"  -h, --help     show this help\n\n"
		"Exit codes:\n"
		"  0  the migration is being undone\n"
		"  1  refused (past the switchover, or being undone already), or dmigrated could not\n"
		"     be reached\n"
		"  2  usage error, no such VM here, or no migration of it runs\n",
		CLI_SOCKET_ENV, CLI_SOCKET_DEFAULT);
}

int cli_cancel(int argc, char **argv)
{
	_cleanup_json_ json_object *result = NULL;
	const char *socket = NULL, *vm;
	const cli_opt opts[] = { { "socket", .value = &socket }, {} };
	const cli_vm_request req = {
		.line = { "cancel", cli_cancel_usage, opts },
		.socket = &socket,
		.missing = "Missing the VM; usage: dmigrate cancel VM (see 'dmigrate list').",
		.timeout_ms = CLI_ACTION_TIMEOUT_MS,
	};
	int rc;

	if (!cli_vm_request_run(&req, argc, argv, &vm, &result, &rc))
		return rc;
	printf("Cancelling the migration of %s: it is being undone; the 'dmigrate migrate' that "
	       "started it reports the outcome.\n", vm);
	return CLI_EXIT_OK;
}
