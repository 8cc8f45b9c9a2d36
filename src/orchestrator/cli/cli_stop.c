// SPDX-License-Identifier: GPL-2.0-or-later
/* `dmigrate stop VM`: have this host's dmigrated stop a VM (QMP quit, or a kill with --force). */
#include <stdio.h>

#include "cli/cli_client.h"
#include "cli/cli_commands.h"
#include "cli/cli_vm_request.h"
#include "macro.h"

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

/* --force goes to the daemon only when given: without it the daemon asks QEMU to quit. */
static void cli_stop_add_force(json_object *args, void *force)
{
	if (*(bool *)force)
		json_object_object_add(args, "force", json_object_new_boolean(1));
}

int cli_stop(int argc, char **argv)
{
	_cleanup_json_ json_object *result = NULL;
	const char *socket = NULL, *vm;
	bool force = false;
	const cli_opt opts[] = { { "force", .flag = &force }, { "socket", .value = &socket }, {} };
	const cli_vm_request req = {
		.line = { "stop", cli_stop_usage, opts },
		.socket = &socket,
		.missing = "Missing the VM; usage: dmigrate stop VM [--force] (see 'dmigrate list').",
		.timeout_ms = CLI_ACTION_TIMEOUT_MS,
		.add_args = cli_stop_add_force,
		.userdata = &force,
	};
	int rc;

	if (!cli_vm_request_run(&req, argc, argv, &vm, &result, &rc))
		return rc;
	printf("%s %s.\n", force ? "Killed" : "Stopped", vm);
	return CLI_EXIT_OK;
}
