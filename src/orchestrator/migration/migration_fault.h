/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Faults a migration can be told to inject into itself, for failover drills
 * (examples/drills/README.md): the `fault` member of a `migrate` request. The daemons carry them
 * out themselves, at the moment the job enters the named phase, so a drill needs no access to the
 * hosts' processes. Both daemons must allow it (`fault_injection` in dmigrated.json) and, for the
 * agent faults, the guest agent too (`dmigrate-agent --allow-faults`).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "migration/migration_phase.h"

typedef enum migration_fault_kind {
	FAULT_NONE,
	FAULT_KILL_DEST_QEMU, /* SIGKILL to the destination's QEMU */
	FAULT_KILL_AGENT,     /* the guest agent kills itself (its supervisor restarts it) */
	FAULT_STALL_AGENT,    /* the guest agent stops answering for duration_ms */
	FAULT_DROP_SSH,       /* the source cuts its SSH connection to the destination */
	FAULT_VF_LINK_DOWN,   /* the destination VF's link is held down for duration_ms */
	FAULT_NO_FREE_VF,     /* the destination behaves as if its VF pool were full */
	FAULT_KILL_SOURCE_DAEMON, /* the source's dmigrated SIGKILLs itself (restarted, it recovers) */
	FAULT_KILL_DEST_DAEMON,   /* the destination's dmigrated SIGKILLs itself (likewise) */
	_FAULT_MAX,
} migration_fault_kind;

typedef struct migration_fault {
	migration_fault_kind kind;
	migration_phase phase;
	uint64_t duration_ms; /* stall-agent and vf-link-down only */
} migration_fault;

#define MIGRATION_FAULT_DEFAULT_DURATION_MS 30000
#define MIGRATION_FAULT_MAX_DURATION_MS (10 * 60 * 1000)

const char *migration_fault_name(migration_fault_kind kind);
int migration_fault_from_name(const char *name);
/* "kill-dest-qemu kill-agent ...": for error messages. */
const char *migration_fault_names(void);
/* Whether the fault has a duration, and its default phase when the drill names none (-1: none). */
bool migration_fault_has_duration(migration_fault_kind kind);
int migration_fault_default_phase(migration_fault_kind kind);

/* Why the fault means nothing at phase (so is refused there), or NULL when it can fire there. */
const char *migration_fault_refused(migration_fault_kind kind, migration_phase phase);
/* Whether the fault can fire at its phase, with a valid duration; *error says why not. */
int migration_fault_check(const migration_fault *f, char **error);

/* The kill-*-daemon faults: SIGKILL to this process, as a crash would. A coverage build first
 * writes its counters out (a SIGKILLed process writes none), so that the fault matrix's daemons
 * count in tests/coverage. */
_Noreturn void migration_fault_kill_self(void);

json_object *migration_fault_to_json(const migration_fault *f);
/* {"name": ..., "phase": ..., "duration_ms": ...}, checked; *error names what is wrong. */
int migration_fault_from_json(json_object *o, migration_fault *ret, char **error);
