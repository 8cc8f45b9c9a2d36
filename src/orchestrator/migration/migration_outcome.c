// SPDX-License-Identifier: GPL-2.0-or-later
#include <string.h>

#include "migration/migration_outcome.h"

static const char *const outcome_names[_OUTCOME_MAX] = {
	[OUTCOME_MIGRATED] = "migrated", [OUTCOME_ROLLED_BACK] = "rolled-back",
	[OUTCOME_DEGRADED] = "degraded", [OUTCOME_FAILED] = "failed",
	[OUTCOME_LOST] = "lost",
};

const char *migration_outcome_name(migration_outcome o)
{
	return (unsigned)o < _OUTCOME_MAX ? outcome_names[o] : "unknown";
}

migration_outcome migration_outcome_from_name(const char *name)
{
	for (int i = 0; name && i < _OUTCOME_MAX; i++)
		if (!strcmp(outcome_names[i], name))
			return (migration_outcome)i;
	return OUTCOME_INVALID;
}
