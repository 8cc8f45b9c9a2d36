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

const char *migration_phase_name(migration_phase p)
{
	return (unsigned)p < _PHASE_MAX ? phase_names[p] : "done";
}

int migration_phase_from_name(const char *name)
{
	for (int i = 0; name && i < _PHASE_MAX; i++)
		if (!strcmp(phase_names[i], name))
			return i;
	return -1;
}
