/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A migration's journal: STATE_DIR/jobs/VM.json, rewritten atomically whenever the job enters a
 * phase or changes direction, removed when the job ends. It holds what a restarted daemon needs
 * to finish or undo the job: the role, the peer, the phase and direction, and what was reserved.
 */
#pragma once

#include <stdbool.h>

#include <json-c/json.h>

#include "daemon/daemon.h"

typedef struct migration_journal {
	char *vm;
	char *role; /* "source" or "destination" */
	char *peer;
	int phase;  /* migration_phase */
	bool rolling_back;
	bool did_available;
	bool degraded;
} migration_journal;

int migration_journal_write(host_daemon *d, const migration_journal *j);
int migration_journal_remove(host_daemon *d, const char *vm);
/* Calls fn for each journal left on disk. */
int migration_journal_foreach(host_daemon *d, void (*fn)(host_daemon *d, const migration_journal *j));
