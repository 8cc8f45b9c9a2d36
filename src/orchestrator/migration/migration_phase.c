// SPDX-License-Identifier: GPL-2.0-or-later
#include <string.h>

#include "migration/migration_phase.h"

static const char *const phase_names[_PHASE_MAX] = {
	[PHASE_PREFLIGHT] = "preflight", [PHASE_PREPARE] = "prepare",
	[PHASE_STANDBY] = "standby",     [PHASE_DID_OFF] = "did-off",
	[PHASE_UNPLUG] = "unplug",       [PHASE_MIGRATE] = "migrate",
	[PHASE_SWITCHOVER] = "switchover", [PHASE_PLUG] = "plug",
	[PHASE_ACTIVE] = "active",       [PHASE_DID_ON] = "did-on",
	[PHASE_COMMIT] = "commit",
};

static const char *const dest_phase_names[_DEST_PHASE_MAX] = {
	[DEST_PREPARE] = "prepare", [DEST_INCOMING] = "incoming", [DEST_SWITCHOVER] = "switchover",
	[DEST_PLUG] = "plug",       [DEST_ACTIVE] = "active",     [DEST_DID_ON] = "did-on",
	[DEST_COMMIT] = "commit",
};

static const char *const phase_state_names[_PHASE_STATE_MAX] = {
	[PHASE_STATE_PENDING] = "pending", [PHASE_STATE_DONE] = "done",
	[PHASE_STATE_SKIPPED] = "skipped", [PHASE_STATE_FAILED] = "failed",
	[PHASE_STATE_UNDONE] = "undone",
};

static int name_index(const char *const *names, int n, const char *name)
{
	for (int i = 0; name && i < n; i++)
		if (!strcmp(names[i], name))
			return i;
	return -1;
}

const char *migration_phase_name(migration_phase p)
{
	return (unsigned)p < _PHASE_MAX ? phase_names[p] : "done";
}

int migration_phase_from_name(const char *name)
{
	return name_index(phase_names, _PHASE_MAX, name);
}

const char *dest_phase_name(dest_phase p)
{
	return (unsigned)p < _DEST_PHASE_MAX ? dest_phase_names[p] : "done";
}

int dest_phase_from_name(const char *name)
{
	return name_index(dest_phase_names, _DEST_PHASE_MAX, name);
}

const char *phase_state_name(phase_state s)
{
	return (unsigned)s < _PHASE_STATE_MAX ? phase_state_names[s] : "unknown";
}

int phase_state_from_name(const char *name)
{
	return name_index(phase_state_names, _PHASE_STATE_MAX, name);
}
