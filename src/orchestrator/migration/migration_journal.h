/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A migration's journal: STATE_DIR/jobs/VM.json, rewritten atomically whenever the job enters a
 * phase or changes direction, removed when the job ends. Each half keeps its own (docs/design.md,
 * "Journals"): the source in its phase names, the destination in its own (migration_phase.h). It
 * holds what a restarted daemon needs to finish or undo the job.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "daemon/daemon.h"
#include "migration/migration_fault.h"

typedef struct migration_journal {
	char *vm;
	char *role; /* "source" or "destination" */
	char *peer;
	int phase;  /* migration_phase for the source, dest_phase for the destination */
	bool rolling_back;
	bool did_available;
	bool degraded;
	/* Destination only: when an incoming VM whose source went quiet is given up (CLOCK_REALTIME,
	 * ms; 0: none), and the drill fault it fires at one of its phases (kind FAULT_NONE: none). */
	uint64_t deadline_ms;
	migration_fault fault;
} migration_journal;

int migration_journal_write(host_daemon *d, const migration_journal *j);
int migration_journal_remove(host_daemon *d, const char *vm);
/* Calls fn for each journal left on disk. */
int migration_journal_foreach(host_daemon *d, void (*fn)(host_daemon *d, const migration_journal *j));
