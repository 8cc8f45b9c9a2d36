/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A command's options as a table, parsed the same way for every command: each option sets a
 * flag, keeps its value (the last one given) or hands it to a handler (an option that may come
 * several times, or is checked as it comes); --help prints the command's usage; an unknown
 * option, or one missing its value, is named with a pointer to --help (cli_option_error()).
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

typedef struct cli_opt {
	const char *name;   /* --NAME; NULL ends the table */
	bool *flag;         /* no value: set true when given */
	const char **value; /* a value: kept here */
	/* a value: handed over, in argv (writable: the handler may split it, and keep pointers
	 * into it); < 0 (after saying why) is a usage error */
	int (*add)(char *value, void *userdata);
	void *userdata;
} cli_opt;

#define CLI_OPTS_MAX 24

typedef struct cli_command_line {
	const char *cmd;        /* "stop", for messages */
	void (*usage)(FILE *f); /* --help */
	const cli_opt *opts;
} cli_command_line;

/*
 * Parse argv's options (getopt_long() order: options and operands may mix, `--` ends them). true:
 * go on, the operands are argv[optind..argc); false: stop with *exit_code (--help printed: 0; a
 * bad option, said: the usage code).
 */
bool cli_parse_options(const cli_command_line *cl, int argc, char **argv, int *exit_code);

/*
 * The one operand of a command that takes a VM: exactly one, a valid VM name (cli_check_vm_name()).
 * NULL, after logging `missing`, naming the extra argument or the bad name.
 */
const char *cli_vm_operand(const char *cmd, int argc, char **argv, const char *missing);
