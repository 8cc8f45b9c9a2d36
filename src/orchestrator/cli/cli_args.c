// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli/cli_args.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "log.h"
#include "host/vm_spec.h"

/* The longest host name DNS allows; peer names are host names in practice. */
#define CLI_HOST_NAME_MAX 253

int cli_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return -EINVAL;
	for (const char *p = s; *p; p++) {
		unsigned digit = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - digit) / 10)
			return -ERANGE;
		v = v * 10 + digit;
	}
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

/* Bytes a terminal would act on rather than show. */
static size_t cli_control_len(const unsigned char *p)
{
	if (*p < 0x20 || *p == 0x7f)
		return 1;
	if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) /* C1, e.g. U+009B (CSI) */
		return 2;
	return 0;
}

const char *cli_quote(const char *s, char *buf, size_t size)
{
	static const char cut_fmt[] = "... (%zu bytes)";
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), room, n = 0;
	char tail[48];

	if (size == 0)
		return buf;
	tail[0] = '\0';
	room = size - 1;
	if (len > room) {
		snprintf(tail, sizeof(tail), cut_fmt, len);
		room = room > strlen(tail) ? room - strlen(tail) : 0;
	}
	while (*p && n < room) {
		size_t ctl = cli_control_len(p);

		if (ctl) {
			buf[n++] = '?';
			p += ctl;
			continue;
		}
		buf[n++] = (char)*p++;
	}
	/* Cut inside a UTF-8 character (the next byte continues it): drop its first bytes too. */
	if ((*p & 0xc0) == 0x80) {
		while (n > 0 && ((unsigned char)buf[n - 1] & 0xc0) == 0x80)
			n--;
		if (n > 0 && ((unsigned char)buf[n - 1] & 0xc0) == 0xc0)
			n--;
	}
	buf[n] = '\0';
	if (*p)
		snprintf(buf + n, size - n, "%s", tail);
	return buf;
}

int cli_option_uint(const char *option, const char *value, uint64_t min, uint64_t max,
		    const char *unit, uint64_t *ret)
{
	char q[CLI_QUOTE_SIZE];
	int r;

	r = cli_parse_uint(value, min, max, ret);
	if (r == -ERANGE)
		log_error("Invalid %s '%s': out of range; give a whole number of %s from %" PRIu64
			  " to %" PRIu64 ".",
			  option, cli_quote(value, q, sizeof(q)), unit, min, max);
	else if (r < 0)
		log_error("Invalid %s '%s': not a number; give a whole number of %s from %" PRIu64
			  " to %" PRIu64 " (digits only).",
			  option, cli_quote(value, q, sizeof(q)), unit, min, max);
	return r < 0 ? -EINVAL : 0;
}

int cli_check_vm_name(const char *name)
{
	char q[CLI_QUOTE_SIZE];
	bool ok = name[0] != '\0' && name[0] != '-' && strlen(name) <= VM_SPEC_NAME_MAX;

	for (const char *c = name; ok && *c; c++)
		ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-';
	if (ok)
		return 0;
	if (!name[0])
		log_error("The VM name is empty; give the name of a VM on this host (see 'dmigrate list').");
	else
		log_error("Invalid VM name '%s': a VM name has 1 to %d characters a-z, 0-9 and '-', "
			  "not starting with '-'; see 'dmigrate list' for the VMs on this host.",
			  cli_quote(name, q, sizeof(q)), VM_SPEC_NAME_MAX);
	return -EINVAL;
}

int cli_check_host_name(const char *name)
{
	char q[CLI_QUOTE_SIZE];
	bool ok = name[0] != '\0' && name[0] != '-' && strlen(name) <= CLI_HOST_NAME_MAX;

	for (const unsigned char *c = (const unsigned char *)name; ok && *c; c++)
		ok = *c > 0x20 && *c < 0x7f;
	if (ok)
		return 0;
	if (!name[0])
		log_error("The destination host is empty; give a peer from dmigrated's configuration, "
			  "e.g. --to hostB.");
	else
		log_error("Invalid destination host '%s': give a peer name from dmigrated's "
			  "configuration (printable, no spaces, at most %d characters), e.g. --to hostB.",
			  cli_quote(name, q, sizeof(q)), CLI_HOST_NAME_MAX);
	return -EINVAL;
}

int cli_option_error(const char *cmd, int c, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	char q[CLI_QUOTE_SIZE], shortopt[3] = { '-', (char)optopt, '\0' };

	/* An unknown letter inside a cluster such as -jx: argv[optind - 1] is not the option. */
	if (c == '?' && optopt > 0 && strncmp(arg, "--", 2))
		arg = shortopt;
	if (c == ':')
		log_error("Option '%s' needs a value; see 'dmigrate %s --help'.",
			  cli_quote(arg, q, sizeof(q)), cmd);
	else
		log_error("Unknown or malformed option '%s' for 'dmigrate %s'; see 'dmigrate %s --help'.",
			  cli_quote(arg, q, sizeof(q)), cmd, cmd);
	return CLI_EXIT_USAGE;
}

int cli_argument_error(const char *cmd, const char *arg)
{
	char q[CLI_QUOTE_SIZE];

	log_error("Unexpected argument '%s' for 'dmigrate %s'; see 'dmigrate %s --help'.",
		  cli_quote(arg, q, sizeof(q)), cmd, cmd);
	return CLI_EXIT_USAGE;
}

const char *cli_single_argument(const char *cmd, int argc, char **argv, const char *missing)
{
	if (optind >= argc) {
		log_error("%s", missing);
		return NULL;
	}
	if (optind + 1 < argc) {
		cli_argument_error(cmd, argv[optind + 1]);
		return NULL;
	}
	return argv[optind];
}
