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

/* Longest peer name a journal may hold. */
#define MIGRATION_JOURNAL_PEER_MAX 255

int migration_journal_write(host_daemon *d, const migration_journal *j);
int migration_journal_remove(host_daemon *d, const char *vm);
/*
 * A journal as read back from its file, checked: a VM name, a role of "source" or
 * "destination", a peer name, a phase by name, and flags that are booleans when present. The
 * strings point into o. On error *error (malloc()ed) says which field is wrong and why.
 */
int migration_journal_parse(json_object *o, migration_journal *ret, char **error);
/* Calls fn for each journal left on disk; one that does not parse is logged and skipped. */
int migration_journal_foreach(host_daemon *d, void (*fn)(host_daemon *d, const migration_journal *j));
