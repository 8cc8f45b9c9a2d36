/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the operator typed, checked strictly before anything is sent to the daemon, and quoted
 * safely in messages: an argument may be huge or hold terminal escape sequences.
 *
 * The cli_option_*() and cli_check_*() helpers are the CLI's boundary: on a bad value they log
 * one message that quotes it and says what to give instead, and return -EINVAL.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Enough for any quoted argument: cli_quote() keeps this much of it. */
#define CLI_QUOTE_SIZE 128

/*
 * A decimal number in [min, max]: digits only, no sign, blanks, prefix or suffix (strtoull()
 * would take " -1" and "12abc"). -EINVAL when it is not such a number, -ERANGE when it is out of
 * range or overflows.
 */
int cli_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/*
 * s for a message: control characters (C0, DEL and UTF-8-encoded C1) become '?', and a string
 * too long for buf is cut at a character boundary and ends with "... (N bytes)". Returns buf.
 */
const char *cli_quote(const char *s, char *buf, size_t size);

/* The value of option (e.g. "--multifd"); unit names what the number counts, for the message. */
int cli_option_uint(const char *option, const char *value, uint64_t min, uint64_t max,
		    const char *unit, uint64_t *ret);
/* A VM name as VM specs define them: 1 to VM_SPEC_NAME_MAX of a-z, 0-9 and '-', no leading '-'. */
int cli_check_vm_name(const char *name);
/* A peer host name from dmigrated's configuration: printable, not empty, no leading '-'. */
int cli_check_host_name(const char *name);

/*
 * After getopt_long() (called with opterr = 0 and an optstring starting with ':') returned '?'
 * or ':': name the unknown option or the one missing its value, and point to cmd's --help.
 * Returns the usage exit code.
 */
int cli_option_error(const char *cmd, int c, char **argv);
/* An argument where none (or no more) was expected. Returns the usage exit code. */
int cli_argument_error(const char *cmd, const char *arg);
/*
 * The one positional argument cmd takes, after getopt_long(): argv[optind]. NULL, after logging
 * `missing` or naming the extra argument, when there is not exactly one.
 */
const char *cli_single_argument(const char *cmd, int argc, char **argv, const char *missing);
