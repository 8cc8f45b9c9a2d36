/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The `dmigrate` command line: one subcommand per file (cli_NAME.c), dispatched from the table
 * in cli_main.c. Each takes the arguments after its own name (argv[0] is the subcommand) and
 * returns the process exit code (see CLI_EXIT_*).
 */
#pragma once

/* Exit codes, documented in `dmigrate --help` and the README. */
enum {
	CLI_EXIT_OK = 0,       /* done */
	CLI_EXIT_FAILED = 1,   /* failed; for a migration: rolled back, the VM is safe on the source */
	CLI_EXIT_USAGE = 2,    /* usage or input error: nothing was changed */
	CLI_EXIT_DEGRADED = 3, /* migrated, but runs on the destination without its VF or DID */
	CLI_EXIT_LOST = 4,     /* the destination's QEMU died after the switchover: the VM runs nowhere */
};

typedef struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} cli_command;
