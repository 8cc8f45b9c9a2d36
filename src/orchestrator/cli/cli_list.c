// SPDX-License-Identifier: GPL-2.0-or-later
/* `dmigrate list`: the VMs this host's dmigrated runs, as a table or as JSON. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_args.h"
#include "cli/cli_client.h"
#include "cli/cli_options.h"
#include "cli/cli_commands.h"
#include "cli/cli_format.h"
#include "log.h"

/* A longer name is cut in the table (--json has it whole). */
#define CLI_LIST_NAME_WIDTH_MAX 32

static void cli_list_usage(FILE *f)
{
	fprintf(f,
		"Usage: dmigrate list [--json] [--socket PATH]\n\n"
		"List the VMs this host's dmigrated runs: NAME, STATE (starting, running, paused,\n"
		"incoming, migrating, postmigrate, shutoff), PID of QEMU, and the passthrough device\n"
		"(VF) the VM holds.\n\n"
		"Options:\n"
		"  --json         print the daemon's answer, one JSON object {\"vms\": [...]}\n"
		"  --socket PATH  dmigrated's socket (default: $%s, else %s)\n"
		"  -h, --help     show this help\n\n"
		"Exit codes:\n"
		"  0  listed\n"
		"  1  dmigrated could not be reached or failed\n"
		"  2  usage error\n",
		CLI_SOCKET_ENV, CLI_SOCKET_DEFAULT);
}

/* The VF column: the device, marked when it is reserved but not plugged into the guest. */
static const char *cli_list_vf(json_object *vm, char *buf, size_t size)
{
	char vf[64];

	if (!cli_json_string(vm, "vf"))
		return "-";
	cli_format_field(vm, "vf", "", vf, sizeof(vf));
	snprintf(buf, size, "%s%s", vf, cli_json_bool(vm, "vf_plugged") ? "" : " (unplugged)");
	return buf;
}

static void cli_list_print(FILE *out, json_object *vms)
{
	size_t n = json_object_array_length(vms);
	int width = 4;

	for (size_t i = 0; i < n; i++) {
		const char *name = cli_json_string(json_object_array_get_idx(vms, i), "name");

		if (name && (int)strlen(name) > width)
			width = (int)strlen(name);
	}
	if (width > CLI_LIST_NAME_WIDTH_MAX)
		width = CLI_LIST_NAME_WIDTH_MAX;

	fprintf(out, "%-*s  %-11s  %8s  %s\n", width, "NAME", "STATE", "PID", "VF");
	for (size_t i = 0; i < n; i++) {
		json_object *vm = json_object_array_get_idx(vms, i);
		char name[CLI_LIST_NAME_WIDTH_MAX + 1], state[32], pid[24], vf[96];
		uint64_t p;

		cli_format_field(vm, "name", "?", name, sizeof(name));
		cli_format_field(vm, "state", "?", state, sizeof(state));
		if (cli_json_uint(vm, "pid", &p) && p > 0)
			snprintf(pid, sizeof(pid), "%" PRIu64, p);
		else
			snprintf(pid, sizeof(pid), "-");
		fprintf(out, "%-*s  %-11s  %8s  %s\n", width, name, state, pid,
			cli_list_vf(vm, vf, sizeof(vf)));
	}
}

int cli_list(int argc, char **argv)
{
	_cleanup_json_ json_object *result = NULL;
	json_object *vms = NULL;
	const char *socket = NULL;
	bool json = false;
	const cli_opt opts[] = { { "json", .flag = &json }, { "socket", .value = &socket }, {} };
	int rc;

	if (!cli_parse_options(&(cli_command_line){ "list", cli_list_usage, opts }, argc, argv, &rc))
		return rc;
	if (optind < argc)
		return cli_argument_error("list", argv[optind]);

	rc = cli_client_run(&(cli_call){ .socket = socket,
					 .cmd = "list",
					 .timeout_ms = CLI_QUERY_TIMEOUT_MS },
			    &result);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (!json_object_is_type(result, json_type_object) ||
	    !json_object_object_get_ex(result, "vms", &vms) ||
	    !json_object_is_type(vms, json_type_array)) {
		log_error("dmigrated's answer to list has no 'vms' array; is it a matching version?");
		return CLI_EXIT_FAILED;
	}
	if (json)
		cli_json_print(stdout, result);
	else
		cli_list_print(stdout, vms);
	return CLI_EXIT_OK;
}
