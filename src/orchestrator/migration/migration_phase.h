/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The phases of a migration, by number and by name (docs/design.md, "The migration: eleven phases"): the eleven the
 * source drives, and the seven the destination records in its own journal.
 */
#pragma once

typedef enum migration_phase {
	PHASE_PREFLIGHT,
	PHASE_PREPARE,
	PHASE_STANDBY,
	PHASE_DID_OFF,
	PHASE_UNPLUG,
	PHASE_MIGRATE,
	PHASE_SWITCHOVER, /* the point of no return: from here on the source never runs again */
	PHASE_PLUG,
	PHASE_ACTIVE,
	PHASE_DID_ON,
	PHASE_COMMIT,
	_PHASE_MAX,
} migration_phase;

const char *migration_phase_name(migration_phase p);
int migration_phase_from_name(const char *name);

/*
 * The destination's own phases. `incoming` spans the source's standby..migrate: its QEMU waits
 * for the stream. From `switchover` on the destination owns the job: it plugs, activates and
 * turns DID on by itself, and finishes them after a restart, whatever became of the source.
 */
typedef enum dest_phase {
	DEST_PREPARE,
	DEST_INCOMING,
	DEST_SWITCHOVER,
	DEST_PLUG,
	DEST_ACTIVE,
	DEST_DID_ON,
	DEST_COMMIT,
	_DEST_PHASE_MAX,
} dest_phase;

const char *dest_phase_name(dest_phase p);
int dest_phase_from_name(const char *name);

/*
 * Where one phase of a job stands, as the job's record keeps it and its result and the peer
 * replies name it ("pending" is never sent: a phase not reached has no record).
 */
typedef enum phase_state {
	PHASE_STATE_PENDING, /* not finished, or not reached */
	PHASE_STATE_DONE,
	PHASE_STATE_SKIPPED, /* nothing to do: no DID in the guest */
	PHASE_STATE_FAILED,
	PHASE_STATE_UNDONE,
	_PHASE_STATE_MAX,
} phase_state;

const char *phase_state_name(phase_state s);
int phase_state_from_name(const char *name); /* -1 if unknown */
