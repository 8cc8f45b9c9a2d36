/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A migration's journal: STATE_DIR/jobs/VM.json, rewritten atomically whenever the job enters a
 * phase or changes direction, removed when the job ends. Each half keeps its own (docs/design.md,
 * "The destination's half"): the source in its phase names, the destination in its own (migration_phase.h). It
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
	bool resumed; /* destination: `cont` was sent, the VM may have run there */
	bool lost;    /* destination: ... and its QEMU died: kept until the source hears it */
	/* Hook mode (migration_hook.h): the source's `detach` (role "source"), or the `attach`
	 * where an engine's migration left the VM (role "attach", in the destination's phases). */
	bool hook;
	char *vf; /* hook mode: the VF the job holds for the VM (NULL: none yet) */
} migration_journal;

/* Longest peer name a journal may hold. */
#define MIGRATION_JOURNAL_PEER_MAX 255

int migration_journal_write(host_daemon *d, const migration_journal *j);
/* The file's content, as written: what migration_journal_parse() reads back equal. */
json_object *migration_journal_to_json(const migration_journal *j);
int migration_journal_remove(host_daemon *d, const char *vm);
/*
 * A journal as read back from its file, checked: a VM name, a role of "source",
 * "destination" or "attach", a peer name, a phase of that role by name, flags that are booleans, and the
 * destination's deadline and drill fault when present. The strings point into o. On error *error (malloc()ed) says which field is wrong and why.
 */
int migration_journal_parse(json_object *o, migration_journal *ret, char **error);
/* vm_name's journal on this host, parsed (its strings point into *ret_o, which the caller puts);
 * -ENOENT when there is none, -EBADMSG (logged) when it does not parse. */
int migration_journal_read(host_daemon *d, const char *vm_name, json_object **ret_o,
			   migration_journal *ret);
/* Calls fn for each journal left on disk; one that does not parse is logged and skipped. */
int migration_journal_foreach(host_daemon *d, void (*fn)(host_daemon *d, const migration_journal *j));
