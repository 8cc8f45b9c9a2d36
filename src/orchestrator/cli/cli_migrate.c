// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `dmigrate migrate VM --to HOST` (and its short form `dmigrate VM --to HOST`): ask the local
 * dmigrated to migrate a VM and follow it to the end. The daemon owns the job; interrupting this
 * command only stops watching it.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli_args.h"
#include "cli/cli_client.h"
#include "cli/cli_commands.h"
#include "cli/cli_format.h"
#include "control_protocol.h"
#include "cli/cli_migrate_settings.h"
#include "cli/cli_migrate_view.h"
#include "cli/cli_watch.h"
#include "log.h"

static void cli_migrate_usage(FILE *f)
{
	fprintf(f,
		"Usage: dmigrate migrate VM --to HOST [OPTIONS]\n"
		"       dmigrate VM --to HOST [OPTIONS]\n\n"
		"Live-migrate VM from this host to HOST, a peer in dmigrated's configuration: move the\n"
		"guest's traffic to its virtio standby, unplug its passthrough NIC, migrate it with QEMU,\n"
		"plug a NIC on HOST and make it active again. On a terminal, progress is shown live;\n"
		"otherwise only a one-line summary is printed.\n\n"
		"Options:\n"
		"  --to HOST            the destination host (required)\n"
		"  --json               print only the result, one JSON object: outcome, phases with\n"
		"                       start and duration, QEMU downtime and total time, runs_on\n"
		CLI_MIGRATE_SETTINGS_HELP
		"  --socket PATH        dmigrated's socket (default: $%s, else %s)\n"
		"  -h, --help           show this help\n\n"
		"Settings not given take the defaults of dmigrated's configuration.\n"
		"Ctrl-C stops watching, not the migration: dmigrated finishes or rolls it back on its\n"
		"own; follow it with 'dmigrate status VM'.\n\n"
		"Exit codes:\n"
		"  0    migrated: VM runs on HOST with its passthrough NIC\n"
		"  1    failed and rolled back: VM runs on this host as before; or dmigrated could not\n"
		"       be reached or did not answer\n"
		"  2    usage or input error (bad option, unknown VM or host): nothing was changed\n"
		"  3    migrated but degraded: VM runs on HOST without its passthrough NIC or DID\n"
		"  4    lost: HOST's QEMU died after the switchover; the VM runs nowhere\n"
		"  %d  interrupted: dmigrate stopped watching, the migration goes on\n",
		MIGRATE_DOWNTIME_MIN_MS, MIGRATE_DOWNTIME_MAX_MS, MIGRATE_BANDWIDTH_MAX_MIBPS,
		MIGRATE_MULTIFD_MAX, CLI_SOCKET_ENV, CLI_SOCKET_DEFAULT, CLI_EXIT_DETACHED);
}

int cli_migrate(int argc, char **argv)
{
	static const struct option options[] = {
		{ "to", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		CLI_MIGRATE_SETTINGS_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	_cleanup_json_ json_object *settings = json_object_new_object();
	_cleanup_json_ json_object *args = json_object_new_object();
	_cleanup_json_ json_object *result = NULL;
	char headline[512], follow[256];
	const char *vm, *to = NULL, *socket = NULL;
	bool json = false;
	int c, r = 0, rc;

	if (!settings || !args) {
		log_error("Out of memory");
		return CLI_EXIT_FAILED;
	}
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
		switch (c) {
		case 't':
			to = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 's':
			socket = optarg;
			break;
		case 'h':
			cli_migrate_usage(stdout);
			return CLI_EXIT_OK;
		default:
			r = cli_migrate_setting(c, optarg, settings);
			if (r > 0)
				return cli_option_error("migrate", c, argv);
		}
		if (r < 0)
			return CLI_EXIT_USAGE;
	}
	vm = cli_single_argument("migrate", argc, argv,
				     "Missing the VM to migrate; usage: dmigrate migrate VM --to HOST "
				     "(see 'dmigrate migrate --help').");
	if (!vm)
		return CLI_EXIT_USAGE;
	if (cli_check_vm_name(vm) < 0)
		return CLI_EXIT_USAGE;
	if (!to) {
		log_error("Missing --to HOST: say where '%s' goes, e.g. dmigrate %s --to hostB.",
			  vm, vm);
		return CLI_EXIT_USAGE;
	}
	if (cli_check_host_name(to) < 0)
		return CLI_EXIT_USAGE;

	json_object_object_add(args, "vm", json_object_new_string(vm));
	json_object_object_add(args, "to", json_object_new_string(to));
	if (json_object_object_length(settings) > 0)
		json_object_object_add(args, "settings", TAKE_PTR(settings));

	snprintf(headline, sizeof(headline), "Migrating %s to %s", vm, to);
	snprintf(follow, sizeof(follow), "follow it with 'dmigrate status %s'", vm);
	rc = cli_watch_job(&(cli_watch){ .socket = socket,
					 .cmd = "migrate",
					 .args = args,
					 .json = json,
					 .vm = vm,
					 .headline = headline,
					 .job_noun = "migration",
					 .follow_hint = follow },
			   &result);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (json)
		cli_json_print(stdout, result);
	else
		cli_migrate_summary_print(stdout, result);
	return cli_migrate_exit_code(result);
}
