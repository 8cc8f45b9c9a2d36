/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * How a migration ended, as the source's result says it in .outcome (proto/control-protocol.md)
 * and as the CLI, a drill and an evacuation read it back: one enum and one table of names, so
 * that no one compares outcome strings.
 */
#pragma once

typedef enum migration_outcome {
	OUTCOME_MIGRATED,    /* runs on the destination, on its VF */
	OUTCOME_ROLLED_BACK, /* runs on the source as before */
	OUTCOME_DEGRADED,    /* runs on the destination, without its VF or DID */
	OUTCOME_FAILED,      /* stopped half-way, journal kept: where it runs is unknown */
	OUTCOME_LOST,        /* runs nowhere: the destination's copy died after the switchover, or
			      * the source's before the VM ran on the destination */
	_OUTCOME_MAX,
	OUTCOME_INVALID = -1,
} migration_outcome;

/* "migrated", "rolled-back", "degraded", "failed", "lost"; "unknown" for anything else. */
const char *migration_outcome_name(migration_outcome o);
/* OUTCOME_INVALID for an unknown name or NULL. */
migration_outcome migration_outcome_from_name(const char *name);
