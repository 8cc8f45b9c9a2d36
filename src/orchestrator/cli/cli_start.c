// SPDX-License-Identifier: GPL-2.0-or-later
/* `dmigrate start SPEC`: have this host's dmigrated start the VM a spec file describes. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cli/cli_args.h"
#include "cli/cli_client.h"
#include "cli/cli_options.h"
#include "cli/cli_commands.h"
#include "cli/cli_format.h"
#include "log.h"

static void cli_start_usage(FILE *f)
{
	fprintf(f,
		"Usage: dmigrate start SPEC [--adopt RUN_DIR] [--json] [--socket PATH]\n\n"
		"Start the VM that the spec file SPEC describes, under this host's dmigrated, with a\n"
		"passthrough device from the host's pool. The daemon reads SPEC itself (it is sent as\n"
		"an absolute path); 'dmigrate spec check SPEC' validates it first.\n\n"
		"Options:\n"
		"  --adopt RUN_DIR  do not start QEMU: take over the one already running from SPEC\n"
		"                 whose QMP and agent sockets are in RUN_DIR (qmp.sock, agent.sock)\n"
		"  --json         print the daemon's answer, one JSON object (the VM's summary)\n"
		"  --socket PATH  dmigrated's socket (default: $%s, else %s)\n"
		"  -h, --help     show this help\n\n"
		"Exit codes:\n"
		"  0  started\n"
		"  1  dmigrated could not be reached, or QEMU failed to start\n"
		"  2  usage or input error (no such file, invalid spec, VM exists): nothing was changed\n",
		CLI_SOCKET_ENV, CLI_SOCKET_DEFAULT);
}

/* The spec's absolute path, checked to be a file, or -errno after saying what is wrong. */
static int cli_start_spec_path(const char *arg, char **ret)
{
	_cleanup_free_ char *path = NULL;
	char q[CLI_QUOTE_SIZE];
	struct stat st;

	cli_quote(arg, q, sizeof(q));
	if (!arg[0]) {
		log_error("The VM spec path is empty; give the path of a VM spec file.");
		return -EINVAL;
	}
	path = realpath(arg, NULL);
	if (!path)
		return log_error_errno(errno, "Cannot use VM spec '%s': %m; give the path of a VM "
					      "spec file.",
				       q);
	if (stat(path, &st) < 0)
		return log_error_errno(errno, "Cannot use VM spec '%s': %m", q);
	if (!S_ISREG(st.st_mode)) {
		log_error("VM spec '%s' is not a regular file; give the path of a VM spec file.", q);
		return -EINVAL;
	}
	*ret = TAKE_PTR(path);
	return 0;
}

int cli_start(int argc, char **argv)
{
	_cleanup_json_ json_object *args = json_object_new_object();
	_cleanup_json_ json_object *result = NULL;
	_cleanup_free_ char *spec = NULL, *adopt = NULL;
	const char *socket = NULL, *arg, *adopt_dir = NULL;
	char name[64], vf[64];
	bool json = false;
	const cli_opt opts[] = { { "adopt", .value = &adopt_dir },
				 { "json", .flag = &json },
				 { "socket", .value = &socket },
				 {} };
	uint64_t pid;
	int rc;

	if (!args) {
		log_error("Out of memory");
		return CLI_EXIT_FAILED;
	}
	if (!cli_parse_options(&(cli_command_line){ "start", cli_start_usage, opts }, argc, argv, &rc))
		return rc;
	if (adopt_dir && !(adopt = realpath(adopt_dir, NULL))) {
		char q[CLI_QUOTE_SIZE];

		cli_quote(adopt_dir, q, sizeof(q));
		log_error_errno(errno, "Cannot adopt from '%s': %m; give the directory holding the VM's qmp.sock.", q);
		return CLI_EXIT_USAGE;
	}
	arg = cli_single_argument("start", argc, argv,
				  "Missing the VM spec; usage: dmigrate start SPEC "
				  "(see 'dmigrate start --help').");
	if (!arg || cli_start_spec_path(arg, &spec) < 0)
		return CLI_EXIT_USAGE;

	json_object_object_add(args, "spec", json_object_new_string(spec));
	if (adopt)
		json_object_object_add(args, "adopt", json_object_new_string(adopt));
	rc = cli_client_run(&(cli_call){ .socket = socket,
					 .cmd = "start",
					 .args = args,
					 .timeout_ms = CLI_ACTION_TIMEOUT_MS },
			    &result);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (json) {
		cli_json_print(stdout, result);
		return CLI_EXIT_OK;
	}
	cli_format_field(result, "name", "the VM", name, sizeof(name));
	printf("%s %s", adopt ? "Adopted" : "Started", name);
	if (cli_json_uint(result, "pid", &pid) && pid > 0)
		printf(" (QEMU pid %" PRIu64 ")", pid);
	if (cli_json_string(result, "vf"))
		printf(" with passthrough device %s.\n", cli_format_field(result, "vf", "", vf,
									  sizeof(vf)));
	else
		printf(" without a passthrough device.\n");
	return CLI_EXIT_OK;
}
