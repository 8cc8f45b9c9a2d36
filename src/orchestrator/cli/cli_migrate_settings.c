// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli/cli_migrate_settings.h"

#include <errno.h>
#include <stdlib.h>

#include "cli/cli_args.h"
#include "control_protocol.h"
#include "daemon/host_config.h"
#include "log.h"

static int cli_migrate_number(json_object *settings, const char *key, const char *option,
			      const char *value, uint64_t min, uint64_t max, const char *unit)
{
	uint64_t n;

	if (cli_option_uint(option, value, min, max, unit, &n) < 0)
		return -EINVAL;
	json_object_object_add(settings, key, json_object_new_uint64(n));
	return 0;
}

int cli_migrate_setting(int c, const char *arg, json_object *settings)
{
	switch (c) {
	case 'd':
		return cli_migrate_number(settings, "downtime_limit_ms", "--downtime-limit", arg,
					  MIGRATE_DOWNTIME_MIN_MS, MIGRATE_DOWNTIME_MAX_MS,
					  "milliseconds");
	case 'b':
		return cli_migrate_number(settings, "max_bandwidth_mibps", "--bandwidth", arg, 0,
					  MIGRATE_BANDWIDTH_MAX_MIBPS, "MiB/s");
	case 'm':
		return cli_migrate_number(settings, "multifd_channels", "--multifd", arg, 0,
					  MIGRATE_MULTIFD_MAX, "channels");
	case 'a':
		json_object_object_add(settings, "auto_converge", json_object_new_boolean(1));
		return 0;
	case 'x':
		json_object_object_add(settings, "xbzrle", json_object_new_boolean(1));
		return 0;
	case 'T':
		return cli_migrate_number(settings, "migrate_timeout_ms", "--migrate-timeout", arg,
					  MIGRATE_TIMEOUT_MIN_MS, MIGRATE_TIMEOUT_MAX_MS,
					  "milliseconds");
	}
	return 1;
}

int cli_migrate_settings_parse(char *const *words, size_t n, const char *where,
			       json_object *settings)
{
	static const struct option options[] = { CLI_MIGRATE_SETTINGS_OPTIONS, {} };
	_cleanup_free_ char **argv = calloc(n + 2, sizeof(*argv));
	int c, r;

	if (!argv)
		return -ENOMEM;
	argv[0] = (char *)"dmigrate";
	for (size_t i = 0; i < n; i++)
		argv[i + 1] = words[i];
	opterr = 0;
	optind = 1;
	while ((c = getopt_long((int)n + 1, argv, ":", options, NULL)) >= 0) {
		if (c == '?' || c == ':') {
			log_error("%s: '%s' %s (the migration options are --downtime-limit, "
				  "--bandwidth, --multifd, --auto-converge, --xbzrle, --migrate-timeout)",
				  where, argv[optind - 1],
				  c == ':' ? "needs a value" : "is not a migration option");
			return -EINVAL;
		}
		r = cli_migrate_setting(c, optarg, settings);
		if (r < 0)
			return r;
	}
	if (optind < (int)n + 1) {
		log_error("%s: unexpected '%s': only migration options may follow '--'", where,
			  argv[optind]);
		return -EINVAL;
	}
	return 0;
}
