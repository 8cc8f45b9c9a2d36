// SPDX-License-Identifier: GPL-2.0-or-later
#include "migration/migration_fault.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

/*
 * Where each fault means something: a destination QEMU exists from `standby` on (prepare
 * started it); the SSH link is open once the preflight reached the peer; the destination's VF
 * is plugged once `active` starts; a full pool is found by the preflight.
 */
static const struct fault_def {
	const char *name;
	migration_phase first, last;
	bool has_duration;
} fault_defs[_FAULT_MAX] = {
	[FAULT_NONE] = { "none", PHASE_PREFLIGHT, PHASE_COMMIT, false },
	[FAULT_KILL_DEST_QEMU] = { "kill-dest-qemu", PHASE_STANDBY, PHASE_DID_ON, false },
	[FAULT_KILL_AGENT] = { "kill-agent", PHASE_PREFLIGHT, PHASE_DID_ON, false },
	[FAULT_STALL_AGENT] = { "stall-agent", PHASE_PREFLIGHT, PHASE_DID_ON, true },
	[FAULT_DROP_SSH] = { "drop-ssh", PHASE_PREPARE, PHASE_COMMIT, false },
	[FAULT_VF_LINK_DOWN] = { "vf-link-down", PHASE_ACTIVE, PHASE_ACTIVE, true },
	[FAULT_NO_FREE_VF] = { "no-free-vf", PHASE_PREFLIGHT, PHASE_PREFLIGHT, false },
};

const char *migration_fault_name(migration_fault_kind kind)
{
	return (unsigned)kind < _FAULT_MAX ? fault_defs[kind].name : "unknown";
}

int migration_fault_from_name(const char *name)
{
	for (int i = 0; name && i < _FAULT_MAX; i++)
		if (!strcmp(fault_defs[i].name, name))
			return i;
	return -1;
}

const char *migration_fault_names(void)
{
	static char names[256];

	/* Built from the table once, so a new fault cannot be missing from the messages. */
	if (!names[0])
		for (int i = FAULT_NONE + 1; i < _FAULT_MAX; i++)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
				 i > FAULT_NONE + 1 ? " " : "", fault_defs[i].name);
	return names;
}

bool migration_fault_has_duration(migration_fault_kind kind)
{
	return (unsigned)kind < _FAULT_MAX && fault_defs[kind].has_duration;
}

int migration_fault_default_phase(migration_fault_kind kind)
{
	if ((unsigned)kind >= _FAULT_MAX)
		return -1;
	/* Only a fault with a single possible phase needs none named. */
	return fault_defs[kind].first == fault_defs[kind].last ? (int)fault_defs[kind].first : -1;
}

int migration_fault_check(const migration_fault *f, char **error)
{
	const struct fault_def *def;

	if ((unsigned)f->kind >= _FAULT_MAX || (unsigned)f->phase >= _PHASE_MAX) {
		if (asprintf(error, "unknown fault or phase") < 0)
			*error = NULL;
		return -EINVAL;
	}
	def = &fault_defs[f->kind];
	if (f->phase < def->first || f->phase > def->last) {
		if (def->first == def->last) {
			if (asprintf(error, "fault '%s' can only fire at '%s', not at '%s'", def->name,
				     migration_phase_name(def->first), migration_phase_name(f->phase)) < 0)
				*error = NULL;
		} else if (asprintf(error, "fault '%s' can fire from '%s' to '%s', not at '%s'",
				    def->name, migration_phase_name(def->first),
				    migration_phase_name(def->last), migration_phase_name(f->phase)) < 0) {
			*error = NULL;
		}
		return -EINVAL;
	}
	if (f->duration_ms > MIGRATION_FAULT_MAX_DURATION_MS ||
	    (def->has_duration && f->duration_ms == 0) || (!def->has_duration && f->duration_ms)) {
		if (asprintf(error,
			     def->has_duration ?
				     "fault '%s' needs a duration of 1 ms to %d s" :
				     "fault '%s' takes no duration (only stall-agent and vf-link-down do; at most %d s)",
			     def->name, MIGRATION_FAULT_MAX_DURATION_MS / 1000) < 0)
			*error = NULL;
		return -EINVAL;
	}
	return 0;
}

json_object *migration_fault_to_json(const migration_fault *f)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(migration_fault_name(f->kind)));
	json_object_object_add(o, "phase", json_object_new_string(migration_phase_name(f->phase)));
	if (f->duration_ms)
		json_object_object_add(o, "duration_ms", json_object_new_uint64(f->duration_ms));
	return o;
}

int migration_fault_from_json(json_object *o, migration_fault *ret, char **error)
{
	json_object *name, *phase, *duration = NULL;
	migration_fault f = { 0 };
	int kind, p;

	*error = NULL;
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "name", &name) ||
	    !json_object_is_type(name, json_type_string) ||
	    !json_object_object_get_ex(o, "phase", &phase) ||
	    !json_object_is_type(phase, json_type_string)) {
		if (asprintf(error, "a fault is {\"name\": NAME, \"phase\": PHASE[, \"duration_ms\": N]}") < 0)
			*error = NULL;
		return -EINVAL;
	}
	kind = migration_fault_from_name(json_object_get_string(name));
	if (kind <= FAULT_NONE) {
		if (asprintf(error, "unknown fault '%.64s' (known: %s)", json_object_get_string(name),
			     migration_fault_names()) < 0)
			*error = NULL;
		return -EINVAL;
	}
	p = migration_phase_from_name(json_object_get_string(phase));
	if (p < 0) {
		if (asprintf(error, "unknown phase '%.64s'", json_object_get_string(phase)) < 0)
			*error = NULL;
		return -EINVAL;
	}
	if (json_object_object_get_ex(o, "duration_ms", &duration) &&
	    (!json_object_is_type(duration, json_type_int) || json_object_get_int64(duration) < 0)) {
		if (asprintf(error, "a fault's duration_ms is a number of milliseconds") < 0)
			*error = NULL;
		return -EINVAL;
	}
	f.kind = kind;
	f.phase = p;
	f.duration_ms = duration ? (uint64_t)json_object_get_int64(duration) : 0;
	if (migration_fault_check(&f, error) < 0)
		return -EINVAL;
	*ret = f;
	return 0;
}
