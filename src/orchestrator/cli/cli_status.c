// SPDX-License-Identifier: GPL-2.0-or-later
/* `dmigrate status VM`: one VM as this host's dmigrated sees it, and the host's passthrough pool. */
#include <inttypes.h>
#include <stdio.h>

#include "cli/cli_args.h"
#include "cli/cli_client.h"
#include "cli/cli_commands.h"
#include "cli/cli_format.h"
#include "cli/cli_vm_request.h"
#include "log.h"

static void cli_status_usage(FILE *f)
{
	fprintf(f,
		"Usage: dmigrate status VM [--json] [--socket PATH]\n\n"
		"Show VM as this host's dmigrated sees it: its state (during a migration: migrating,\n"
		"incoming, postmigrate), QEMU's PID, its passthrough device, and which of the host's\n"
		"passthrough devices are free.\n\n"
		"Options:\n"
		"  --json         print the daemon's answer, one JSON object (with the VM's spec)\n"
		"  --socket PATH  dmigrated's socket (default: $%s, else %s)\n"
		"  -h, --help     show this help\n\n"
		"Exit codes:\n"
		"  0  shown\n"
		"  1  dmigrated could not be reached or failed\n"
		"  2  usage error, or no such VM on this host\n",
		CLI_SOCKET_ENV, CLI_SOCKET_DEFAULT);
}

/* {"vf0": "vm1", "vf1": null}: who holds each of the host's passthrough devices. */
static void cli_status_print_pool(FILE *out, json_object *pool)
{
	char vf[64], owner[64];

	if (!json_object_is_type(pool, json_type_object))
		return;
	fprintf(out, "  %-10s", "pool:");
	if (json_object_object_length(pool) == 0)
		fprintf(out, " (no passthrough devices)");
	json_object_object_foreach(pool, key, val) {
		cli_quote(key, vf, sizeof(vf));
		if (json_object_is_type(val, json_type_string))
			fprintf(out, " %s=%s", vf,
				cli_quote(json_object_get_string(val), owner, sizeof(owner)));
		else
			fprintf(out, " %s=free", vf);
	}
	fputc('\n', out);
}

/* [[0, 2], [1, 3]]: which host CPU each vCPU thread is pinned to. */
static void cli_status_print_cpumap(FILE *out, json_object *map)
{
	if (!json_object_is_type(map, json_type_array))
		return;
	fprintf(out, "  %-10s", "cpus:");
	for (size_t i = 0; i < json_object_array_length(map); i++) {
		json_object *pair = json_object_array_get_idx(map, i);

		if (json_object_is_type(pair, json_type_array) && json_object_array_length(pair) == 2)
			fprintf(out, " vCPU%d->CPU%d",
				json_object_get_int(json_object_array_get_idx(pair, 0)),
				json_object_get_int(json_object_array_get_idx(pair, 1)));
	}
	fputc('\n', out);
}

/* {"0000:07:10.3": "why"}: the pool's VFs that cannot be handed out, one line each. */
static void cli_status_print_problems(FILE *out, json_object *problems)
{
	char vf[64], why[512];

	if (!json_object_is_type(problems, json_type_object))
		return;
	json_object_object_foreach(problems, key, val) {
		if (!json_object_is_type(val, json_type_string))
			continue;
		fprintf(out, "  %-10s %s: %s\n", "unusable:", cli_quote(key, vf, sizeof(vf)),
			cli_quote(json_object_get_string(val), why, sizeof(why)));
	}
}

static void cli_status_print(FILE *out, json_object *st)
{
	char name[64], host[CLI_FIELD_SIZE], state[32], vf[64], agent[32], bond[32], active[32],
		role[16];
	json_object *pool = NULL, *guest;
	uint64_t pid;

	cli_format_field(st, "name", "?", name, sizeof(name));
	cli_format_field(st, "host", "this host", host, sizeof(host));
	cli_format_field(st, "state", "?", state, sizeof(state));
	fprintf(out, "%s on %s\n", name, host);
	fprintf(out, "  %-10s %s\n", "state:", state);
	if (cli_json_uint(st, "pid", &pid) && pid > 0)
		fprintf(out, "  %-10s %" PRIu64 "\n", "pid:", pid);
	else
		fprintf(out, "  %-10s -\n", "pid:");
	if (cli_json_string(st, "vf"))
		fprintf(out, "  %-10s %s (%s)\n", "vf:", cli_format_field(st, "vf", "", vf, sizeof(vf)),
			cli_json_bool(st, "vf_plugged") ? "plugged" : "not plugged");
	else
		fprintf(out, "  %-10s none\n", "vf:");
	if (json_object_object_get_ex(st, "cpumap", &pool))
		cli_status_print_cpumap(out, pool);
	if (json_object_object_get_ex(st, "guest", &guest)) {
		cli_format_field(guest, "agent", "?", agent, sizeof(agent));
		if (cli_json_string(guest, "active"))
			fprintf(out, "  %-10s agent %s; bond %s active on %s (%s)\n", "guest:", agent,
				cli_format_field(guest, "bond", "?", bond, sizeof(bond)),
				cli_format_field(guest, "active", "?", active, sizeof(active)),
				cli_format_field(guest, "active-role", "?", role, sizeof(role)));
		else
			fprintf(out, "  %-10s agent %s\n", "guest:", agent);
		if (cli_json_string(guest, "problem"))
			fprintf(out, "  %-10s %s\n", "problem:", cli_json_string(guest, "problem"));
	}
	if (json_object_object_get_ex(st, "vf_pool", &pool))
		cli_status_print_pool(out, pool);
	if (json_object_object_get_ex(st, "vf_pool_problems", &pool))
		cli_status_print_problems(out, pool);
}

int cli_status(int argc, char **argv)
{
	_cleanup_json_ json_object *result = NULL;
	const char *socket = NULL, *vm;
	bool json = false;
	const cli_opt opts[] = { { "json", .flag = &json }, { "socket", .value = &socket }, {} };
	const cli_vm_request req = {
		.line = { "status", cli_status_usage, opts },
		.socket = &socket,
		.missing = "Missing the VM; usage: dmigrate status VM (see 'dmigrate list').",
		.timeout_ms = CLI_QUERY_TIMEOUT_MS,
	};
	int rc;

	if (!cli_vm_request_run(&req, argc, argv, &vm, &result, &rc))
		return rc;
	if (!json_object_is_type(result, json_type_object)) {
		log_error("dmigrated's answer to status is not an object; is it a matching version?");
		return CLI_EXIT_FAILED;
	}
	if (json)
		cli_json_print(stdout, result);
	else
		cli_status_print(stdout, result);
	return CLI_EXIT_OK;
}
