/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The options that set a migration's settings (--downtime-limit, --bandwidth, --multifd,
 * --auto-converge, --xbzrle), read into the `settings` object of a migrate request: shared by
 * `dmigrate migrate` and the `-- OPTIONS` of a drill's steps.
 */
#pragma once

#include <getopt.h>
#include <stddef.h>

#include <json-c/json.h>

#define CLI_MIGRATE_SETTINGS_OPTIONS                                                               \
	{ "downtime-limit", required_argument, NULL, 'd' },                                        \
		{ "bandwidth", required_argument, NULL, 'b' },                                     \
		{ "multifd", required_argument, NULL, 'm' },                                       \
		{ "auto-converge", no_argument, NULL, 'a' },                                       \
		{ "xbzrle", no_argument, NULL, 'x' },                                              \
		{ "migrate-timeout", required_argument, NULL, 'T' }

#define CLI_MIGRATE_SETTINGS_HELP                                                                  \
	"  --downtime-limit MS  the longest pause QEMU may take to switch over (%d to %d)\n"      \
	"  --bandwidth MIBPS    cap the migration stream at MIBPS MiB/s (0 to %d; 0: QEMU's\n"   \
	"                       default)\n"                                                        \
	"  --multifd N          migrate over N parallel channels (0 to %d; 0: one channel)\n"    \
	"  --auto-converge      throttle the guest's vCPUs if it dirties memory too fast\n"        \
	"  --xbzrle             send deltas (XBZRLE) of pages that were dirtied again\n"       \
	"  --migrate-timeout MS cancel and undo the migration if QEMU's copy has not completed\n" \
	"                       within MS ms (1000 to 86400000)\n"

/* The getopt value c of one of the options above, with its argument: 0 when stored,
 * -EINVAL after logging what is wrong with the value, 1 when c is none of them. */
int cli_migrate_setting(int c, const char *arg, json_object *settings);

/* Words such as {"--bandwidth", "8"}: every word must be one of the options above.
 * -EINVAL after logging which word is wrong, naming `where` (e.g. "drill.txt:4"). */
int cli_migrate_settings_parse(char *const *words, size_t n, const char *where,
			       json_object *settings);
