// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdio.h>

#include "cli/cli_commands.h"

int cli_version(int argc, char **argv)
{
	printf("dmigrate %s\n", DMIGRATE_VERSION);
	return CLI_EXIT_OK;
}
