/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A drill file (examples/drills/README.md): the VM, an address to ping, how many times to run
 * the steps, and the steps — migrations, some with a fault injected at a named phase, each with
 * the outcome it must end in and the host the VM must run on afterwards:
 *
 *     vm vm1
 *     ping 198.18.0.11
 *     repeat 3
 *     migrate hostA hostB fault kill-dest-qemu at migrate expect rolled-back -- --bandwidth 8
 *     migrate hostA hostB expect migrated
 *
 * The file is written by people and comes from outside, so parsing is strict and bounded, and
 * every error reads "FILE:LINE: message" naming the offending value and what is allowed. The
 * fault vocabulary is migration_fault's; the options after `--` are only split into words here
 * (the runner checks them as `dmigrate` options).
 */
#pragma once

#include <stddef.h>

#include "migration/migration_fault.h"
#include "migration/migration_outcome.h"

/* Limits, also quoted in the error messages. */
#define DRILL_FILE_MAX 65536
#define DRILL_LINE_MAX 1024 /* bytes, without the line ending */
#define DRILL_NAME_MAX 64   /* the VM's and the hosts' names */
#define DRILL_STEPS_MAX 100
#define DRILL_REPEAT_MAX 99
#define DRILL_OPTIONS_MAX 16
#define DRILL_OPTION_MAX 256 /* bytes in one option word */
#define DRILL_FAULT_SECONDS_MAX (MIGRATION_FAULT_MAX_DURATION_MS / 1000)


typedef struct drill_step {
	unsigned line; /* where it was written, for reports */
	char *from, *to;
	char *on; /* where the VM must run afterwards: unless written, TO (FROM if rolled-back) */
	migration_fault fault; /* .kind == FAULT_NONE: nothing injected */
	migration_outcome expect; /* the names `dmigrate --json` reports in .outcome */
	char **options; /* the words after `--`, NULL-terminated (never NULL itself) */
	size_t n_options;
} drill_step;

typedef struct drill {
	char *vm;
	char *ping; /* an IPv4 address; NULL: no ping statement */
	unsigned repeat;
	drill_step *steps;
	size_t n_steps; /* 1..DRILL_STEPS_MAX */
} drill;

/*
 * Parse `size` bytes of `text` (no NUL needed or allowed); `filename` only names the file in
 * errors. Returns 0, or -EINVAL (bad content), -EFBIG (over DRILL_FILE_MAX) or -ENOMEM with
 * *error malloc()ed ("FILE:LINE: message"; NULL only when out of memory). *ret is written only
 * on success.
 */
int drill_parse(const char *text, size_t size, const char *filename, drill **ret, char **error);
/* Read the file at `path` (at most DRILL_FILE_MAX bytes) and parse it; errors name `path`. */
int drill_load(const char *path, drill **ret, char **error);
void drill_free(drill *d);
