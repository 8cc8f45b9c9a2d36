// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Hook mode (docs/hooks.md): `dmigrate detach VM [--undo]` before an engine migrates VM by
 * itself, `dmigrate attach VM [--from HOST]` after it. The daemon owns each job as it owns a
 * migration; these commands follow it to its end like `dmigrate migrate`, and exit 0 only when
 * the VM is where the engine's hook expects it: detached, attached, or (--undo) on its VF again.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_args.h"
#include "cli/cli_client.h"
#include "cli/cli_commands.h"
#include "cli/cli_format.h"
#include "cli/cli_watch.h"
#include "log.h"
#include "migration/migration_hook.h"
#include "migration/migration_outcome.h"

static void cli_detach_usage(FILE *f)
{
	fprintf(f,
		"Usage: dmigrate detach VM [--undo] [--json] [--socket PATH]\n\n"
		"Before an engine (virsh, VDSM, Nova, ...) migrates VM by itself: move the guest's\n"
		"traffic to its virtio standby, turn DID off and unplug its passthrough NIC, as the first\n"
		"phases of 'dmigrate migrate' do. The NIC stays reserved for VM on this host until\n"
		"'dmigrate attach VM' on the host the engine moved it to frees it. Safe to run again.\n\n"
		"Options:\n"
		"  --undo         the engine's migration did not happen: plug the kept NIC back where\n"
		"                 VM runs and make it active again\n"
		"  --json         print only the result, one JSON object\n"
		"  --socket PATH  dmigrated's socket (default: $%s, else %s)\n"
		"  -h, --help     show this help\n\n"
		"Exit codes:\n"
		"  0  detached (with --undo: the passthrough NIC is back)\n"
		"  1  failed and undone: VM runs here on its passthrough NIC as before; or dmigrated\n"
		"     could not be reached\n"
		"  2  usage error, or no such VM here\n",
		CLI_SOCKET_ENV, CLI_SOCKET_DEFAULT);
}

static void cli_attach_usage(FILE *f)
{
	fprintf(f,
		"Usage: dmigrate attach VM [--from HOST] [--json] [--socket PATH]\n\n"
		"After an engine migrated VM by itself, on the host where it runs now: plug a passthrough\n"
		"NIC of this host, make it the bond's active slave and turn DID on, then free the NIC\n"
		"kept for VM on the host it came from. Run on the host that detached VM while VM still\n"
		"runs there (the engine's migration failed), it is 'dmigrate detach --undo VM'.\n"
		"Safe to run again.\n\n"
		"Options:\n"
		"  --from HOST    the peer VM came from (default: every peer is asked)\n"
		"  --json         print only the result, one JSON object\n"
		"  --socket PATH  dmigrated's socket (default: $%s, else %s)\n"
		"  -h, --help     show this help\n\n"
		"Exit codes:\n"
		"  0  attached (or, on the source, the passthrough NIC is back)\n"
		"  1  dmigrated could not be reached, or refused (see the message)\n"
		"  2  usage error, or no such VM here\n"
		"  3  degraded: VM runs here without its passthrough NIC or DID\n",
		CLI_SOCKET_ENV, CLI_SOCKET_DEFAULT);
}

/* What the engine's hook may go on with: exit 0 only for the outcome it asked for. attach on the
 * source undoes the detach there: its success is the VF back (`rolled-back`). */
static int cli_hook_exit_code(const char *want, const char *outcome)
{
	migration_outcome o = migration_outcome_from_name(outcome);

	if (!strcmp(outcome, want) ||
	    (!strcmp(want, HOOK_OUTCOME_ATTACHED) && o == OUTCOME_ROLLED_BACK))
		return CLI_EXIT_OK;
	return o == OUTCOME_DEGRADED ? CLI_EXIT_DEGRADED : CLI_EXIT_FAILED;
}

static int cli_hook_run(const char *cmd, json_object *args, const char *socket, bool json,
			const char *want, const char *vm_name)
{
	_cleanup_json_ json_object *result = NULL;
	char follow[256];
	json_object *o;
	const char *outcome, *runs_on;
	int rc;

	snprintf(follow, sizeof(follow), "run 'dmigrate %s %s' again to see how it ended", cmd,
		 vm_name);
	rc = cli_watch_job(&(cli_watch){ .socket = socket,
					 .cmd = cmd,
					 .args = args,
					 .json = json,
					 .vm = vm_name,
					 .job_noun = cmd,
					 .follow_hint = follow },
			   &result);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (!json_object_object_get_ex(result, "outcome", &o) ||
	    !(outcome = json_object_get_string(o))) {
		log_error("dmigrated's answer to %s has no outcome; check the VM with "
			  "'dmigrate status %s'.", cmd, vm_name);
		return CLI_EXIT_FAILED;
	}
	if (json) {
		cli_json_print(stdout, result);
	} else {
		runs_on = json_object_object_get_ex(result, "runs_on", &o) ? json_object_get_string(o) :
									       "unknown";
		printf("%s: %s, runs on %s", vm_name, outcome, runs_on);
		if (json_object_object_get_ex(result, "message", &o))
			printf(": %s", json_object_get_string(o));
		printf("\n");
	}
	return cli_hook_exit_code(want, outcome);
}

static int cli_hook_main(int argc, char **argv, bool attach)
{
	static const struct option options[] = {
		{ "undo", no_argument, NULL, 'u' },
		{ "from", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	_cleanup_json_ json_object *args = json_object_new_object();
	const char *cmd = attach ? "attach" : "detach", *socket = NULL, *from = NULL, *vm_name;
	bool undo = false, json = false;
	int c;

	if (!args) {
		log_error("Out of memory");
		return CLI_EXIT_FAILED;
	}
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
		switch (c) {
		case 'u':
			if (attach)
				return cli_argument_error(cmd, "--undo (it is detach's: dmigrate detach --undo VM)");
			undo = true;
			break;
		case 'f':
			if (!attach)
				return cli_argument_error(cmd, "--from (it is attach's)");
			from = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 's':
			socket = optarg;
			break;
		case 'h':
			(attach ? cli_attach_usage : cli_detach_usage)(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_option_error(cmd, c, argv);
		}
	}
	vm_name = cli_single_argument(cmd, argc, argv,
				 attach ? "Missing the VM; usage: dmigrate attach VM [--from HOST]." :
					  "Missing the VM; usage: dmigrate detach VM [--undo].");
	if (!vm_name || cli_check_vm_name(vm_name) < 0)
		return CLI_EXIT_USAGE;
	if (from && cli_check_host_name(from) < 0)
		return CLI_EXIT_USAGE;
	json_object_object_add(args, "vm", json_object_new_string(vm_name));
	if (undo)
		json_object_object_add(args, "undo", json_object_new_boolean(true));
	if (from)
		json_object_object_add(args, "from", json_object_new_string(from));
	/* On the source, attach undoes the detach: its success is the VF back there. */
	return cli_hook_run(cmd, args, socket, json,
			    attach ? HOOK_OUTCOME_ATTACHED :
			    undo   ? migration_outcome_name(OUTCOME_ROLLED_BACK) :
				     HOOK_OUTCOME_DETACHED,
			    vm_name);
}

int cli_detach(int argc, char **argv)
{
	return cli_hook_main(argc, argv, false);
}

int cli_attach(int argc, char **argv)
{
	return cli_hook_main(argc, argv, true);
}
