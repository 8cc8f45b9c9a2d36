/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The eleven phases of a migration (../shared/DESIGN.md), by number and by name. */
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
