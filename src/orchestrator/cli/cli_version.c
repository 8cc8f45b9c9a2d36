// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdio.h>
#include <string.h>

#include "cli/cli_args.h"
#include "cli/cli_commands.h"

int cli_version(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("Usage: dmigrate version\n"
		       "       dmigrate --version\n\n"
		       "Print the version of dmigrate.\n\n"
		       "Options:\n"
		       "  -h, --help  show this help\n");
		return CLI_EXIT_OK;
	}
	if (argc > 1)
		return cli_argument_error("version", argv[1]);
	printf("dmigrate %s\n", DMIGRATE_VERSION);
	return CLI_EXIT_OK;
}
