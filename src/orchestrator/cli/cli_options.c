// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli/cli_options.h"

#include <getopt.h>

#include "cli/cli.h"
#include "cli/cli_args.h"
#include "log.h"

/* getopt_long()'s value for opts[i]: above every character, so that no short option clashes. */
#define OPT_BASE 256
#define OPT_HELP (OPT_BASE - 1)

bool cli_parse_options(const cli_command_line *cl, int argc, char **argv, int *exit_code)
{
	struct option options[CLI_OPTS_MAX + 2] = {};
	size_t n = 0;
	int c;

	for (; cl->opts && cl->opts[n].name; n++) {
		if (n == CLI_OPTS_MAX) {
			log_error("dmigrate %s: more than %d options (CLI_OPTS_MAX)", cl->cmd, CLI_OPTS_MAX);
			*exit_code = CLI_EXIT_FAILED;
			return false;
		}
		options[n] = (struct option){ cl->opts[n].name,
					      cl->opts[n].flag ? no_argument : required_argument, NULL,
					      OPT_BASE + (int)n };
	}
	options[n] = (struct option){ "help", no_argument, NULL, OPT_HELP };

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
		const cli_opt *o = c >= OPT_BASE && c < OPT_BASE + (int)n ? &cl->opts[c - OPT_BASE] : NULL;

		if (c == OPT_HELP || c == 'h') {
			cl->usage(stdout);
			*exit_code = CLI_EXIT_OK;
			return false;
		}
		if (!o) {
			*exit_code = cli_option_error(cl->cmd, c, argv);
			return false;
		}
		if (o->flag)
			*o->flag = true;
		else if (o->value)
			*o->value = optarg;
		else if (o->add(optarg, o->userdata) < 0) {
			*exit_code = CLI_EXIT_USAGE;
			return false;
		}
	}
	return true;
}

const char *cli_vm_operand(const char *cmd, int argc, char **argv, const char *missing)
{
	const char *vm = cli_single_argument(cmd, argc, argv, missing);

	return vm && cli_check_vm_name(vm) == 0 ? vm : NULL;
}
