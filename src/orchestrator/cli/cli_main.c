// SPDX-License-Identifier: GPL-2.0-or-later
/* `dmigrate`: the operator's command. Subcommands live one per file; this only dispatches. */
#include <stdio.h>
#include <string.h>

#include "cli/cli_commands.h"
#include "log.h"

static const cli_command commands[] = {
	{ "migrate", cli_migrate, "live-migrate a VM to another host" },
	{ "cancel", cli_cancel, "cancel a migration before its switchover (it is undone)" },
	{ "list", cli_list, "list the VMs on this host" },
	{ "status", cli_status, "show a VM, its passthrough device and the host's pool" },
	{ "start", cli_start, "start a VM from a VM spec file" },
	{ "stop", cli_stop, "stop a VM" },
	{ "doctor", cli_doctor, "check this host (and a peer) for VF passthrough and migration" },
	{ "drill", cli_drill, "run a failover drill: migrations with injected faults, checked" },
	{ "spec", cli_spec, "check a VM spec, show it, print its QEMU command line" },
	{ "agent", cli_agent, "send one request to a guest agent's socket (tests, operators)" },
	{ "version", cli_version, "print the version" },
};

static void cli_usage(FILE *f)
{
	fprintf(f, "Usage: dmigrate COMMAND [ARGS...]\n"
		   "       dmigrate VM --to HOST        (short for: dmigrate migrate VM --to HOST)\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nRun 'dmigrate COMMAND --help' for a command's options.\n\n"
		   "Exit codes:\n"
		   "  0  done\n"
		   "  1  failed; a migration was rolled back and the VM runs on the source\n"
		   "  2  usage or input error; nothing was changed\n"
		   "  3  migrated, but the VM runs on the destination degraded (no VF or no DID)\n"
		   "  4  migrated, then lost: the destination's QEMU died after the switchover\n"
		   "  130  migrate interrupted (Ctrl-C): dmigrate stopped watching, the migration\n"
		   "       goes on in dmigrated ('dmigrate status VM' follows it)\n");
}

int main(int argc, char **argv)
{
	log_set_ident("dmigrate");
	if (argc < 2) {
		cli_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		cli_usage(stdout);
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	/* `dmigrate VM --to HOST ...`: argv[0] stands in for the subcommand's name. */
	if (argc >= 3 && (!strcmp(argv[2], "--to") || !strncmp(argv[2], "--to=", 5)))
		return cli_migrate(argc, argv);

	log_error("Unknown command '%s'. Run 'dmigrate --help' for the list.", argv[1]);
	return CLI_EXIT_USAGE;
}
