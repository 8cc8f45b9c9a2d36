// SPDX-License-Identifier: GPL-2.0-or-later
/* `dmigrate`: the operator's command. Subcommands live one per file; this only dispatches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_client.h"
#include "cli/cli_commands.h"
#include "log.h"
#include "macro.h"

static const cli_command commands[] = {
	{ "migrate", cli_migrate, "live-migrate a VM to another host" },
	{ "cancel", cli_cancel, "cancel a migration before its switchover (it is undone)" },
	{ "evacuate", cli_evacuate, "move every VM of this host to its peers, N at a time" },
	{ "detach", cli_detach, "hook mode: unplug a VM's NIC before an engine migrates it" },
	{ "attach", cli_attach, "hook mode: plug a NIC where an engine's migration left a VM" },
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
	fprintf(f, "Usage: dmigrate [GLOBAL OPTIONS] COMMAND [ARGS...]\n"
		   "       dmigrate [GLOBAL OPTIONS] VM --to HOST   (short for: dmigrate migrate VM --to HOST)\n\n"
		   "Global options (before the command, or after it as the command's own):\n"
		   "  --json         print the command's result as JSON (list, status, start, migrate,\n"
		   "                 doctor, drill run)\n"
		   "  --socket PATH  dmigrated's socket (default: $%s,\n"
		   "                 else %s)\n"
		   "  --version      print the version\n"
		   "  -h, --help     show this help\n\n"
		   "Commands:\n",
		CLI_SOCKET_ENV, CLI_SOCKET_DEFAULT);
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

/*
 * The options every command that talks to dmigrated takes may also come before the command, as
 * virsh accepts them: `dmigrate --json vm1 --to hostB`. They are handed to the command right
 * after its name, so each command still parses and checks them itself (one that has no such
 * option says so), and the same option typed after the command wins. Returns the index of the
 * command in argv, or -1 after printing what to do (*exit_code is set).
 */
static int cli_take_global_options(int argc, char **argv, char **globals, int *n_globals,
				   int *exit_code)
{
	int i;

	*n_globals = 0;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			cli_usage(stdout);
			*exit_code = CLI_EXIT_OK;
			return -1;
		}
		if (!strcmp(a, "--version")) {
			*exit_code = cli_version(1, (char *[]){ "version", NULL });
			return -1;
		}
		if (!strcmp(a, "--json") || !strncmp(a, "--socket=", 9)) {
			globals[(*n_globals)++] = argv[i];
			continue;
		}
		if (!strcmp(a, "--socket") && i + 1 < argc) {
			globals[(*n_globals)++] = argv[i];
			globals[(*n_globals)++] = argv[++i];
			continue;
		}
		if (!strcmp(a, "--socket"))
			log_error("Option '--socket' needs a value; see 'dmigrate --help'.");
		else
			log_error("Unknown option '%s' before the command; the options every command takes "
				  "are listed by 'dmigrate --help', a command's own by 'dmigrate COMMAND --help'.",
				  a);
		*exit_code = CLI_EXIT_USAGE;
		return -1;
	}
	if (i >= argc) {
		cli_usage(stderr);
		*exit_code = CLI_EXIT_USAGE;
		return -1;
	}
	return i;
}

/* first, the global options, then argv[from..argc). */
static char **cli_command_argv(const char *first, int from, int argc, char **argv, char **globals,
			       int n_globals, int *n)
{
	char **v = calloc((size_t)(argc - from + n_globals + 2), sizeof(*v));
	int k = 0;

	if (!v)
		return NULL;
	v[k++] = (char *)first;
	for (int g = 0; g < n_globals; g++)
		v[k++] = globals[g];
	for (int i = from; i < argc; i++)
		v[k++] = argv[i];
	*n = k;
	return v;
}

int main(int argc, char **argv)
{
	/* At most: --json, --socket PATH, repeated as often as they were typed. */
	_cleanup_free_ char **globals = calloc((size_t)argc, sizeof(*globals));
	_cleanup_free_ char **cmd_argv = NULL;
	int cmd, n_globals, n, exit_code;

	log_set_ident("dmigrate");
	if (!globals) {
		log_error("Out of memory");
		return CLI_EXIT_FAILED;
	}
	cmd = cli_take_global_options(argc, argv, globals, &n_globals, &exit_code);
	if (cmd < 0)
		return exit_code;
	if (!strcmp(argv[cmd], "help")) {
		cli_usage(stdout);
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		if (!strcmp(argv[cmd], commands[i].name)) {
			cmd_argv = cli_command_argv(argv[cmd], cmd + 1, argc, argv, globals, n_globals, &n);
			if (!cmd_argv) {
				log_error("Out of memory");
				return CLI_EXIT_FAILED;
			}
			return commands[i].run(n, cmd_argv);
		}
	/* `dmigrate VM --to HOST ...`: the program's name stands in for the subcommand's. */
	if (cmd + 1 < argc && (!strcmp(argv[cmd + 1], "--to") || !strncmp(argv[cmd + 1], "--to=", 5))) {
		cmd_argv = cli_command_argv(argv[0], cmd, argc, argv, globals, n_globals, &n);
		if (!cmd_argv) {
			log_error("Out of memory");
			return CLI_EXIT_FAILED;
		}
		return cli_migrate(n, cmd_argv);
	}

	log_error("Unknown command '%s'. Run 'dmigrate --help' for the list.", argv[cmd]);
	return CLI_EXIT_USAGE;
}
