// SPDX-License-Identifier: GPL-2.0-or-later
#include "migration/migration_fault.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"

/* Why a fault means nothing at a phase: asking for it there is refused with this reason. */
#define NO_DEST_QEMU "no destination QEMU exists yet: prepare starts it"
#define NO_LINK "no peer link is open yet: the preflight opens it"
#define GUEST_PAUSED "the guest is paused at the switchover on both hosts: no agent runs to break"
#define AGENT_GONE_COMMIT "at commit the guest's part is over (it runs on the destination, its agent untouched by the commit)"
#define QEMU_GONE_COMMIT "at commit the VM runs on the destination and the job only lets the source's copy go: a destination QEMU killed then is a crash of a running VM, not a migration fault"
#define NO_VF_YET "the destination's VF is not plugged before the active phase"
#define VF_DONE "the destination's VF is active already: its link is the running VM's business"
#define POOL_CHECKED "the destination's pool is only asked at the preflight; from prepare on the VF is reserved"

#ifdef DMIGRATE_COVERAGE
/* gcc's coverage runtime: writes the counters out, as exit() would. */
void __gcov_dump(void);
#endif

_Noreturn void migration_fault_kill_self(void)
{
#ifdef DMIGRATE_COVERAGE
	__gcov_dump();
#endif
	for (;;)
		(void)kill(getpid(), SIGKILL);
}

/*
 * Where each fault means something: every phase whose `refused` entry is NULL. Otherwise the
 * entry says why, and a request for the fault there is refused with it (docs/fault-matrix.md
 * lists them).
 */
static const struct fault_def {
	const char *name;
	bool has_duration;
	const char *refused[_PHASE_MAX];
} fault_defs[_FAULT_MAX] = {
	[FAULT_NONE] = { "none", false, {} },
	[FAULT_KILL_DEST_QEMU] = { "kill-dest-qemu", false,
				   { [PHASE_PREFLIGHT] = NO_DEST_QEMU,
				     [PHASE_PREPARE] = "prepare is starting the destination QEMU: it does not exist until the phase ends (a QEMU that dies starting fails the phase as any start failure)",
				     [PHASE_COMMIT] = QEMU_GONE_COMMIT } },
	[FAULT_KILL_AGENT] = { "kill-agent", false,
			       { [PHASE_SWITCHOVER] = GUEST_PAUSED,
				 [PHASE_COMMIT] = AGENT_GONE_COMMIT } },
	[FAULT_STALL_AGENT] = { "stall-agent", true,
				{ [PHASE_SWITCHOVER] = GUEST_PAUSED,
				  [PHASE_COMMIT] = AGENT_GONE_COMMIT } },
	[FAULT_DROP_SSH] = { "drop-ssh", false, { [PHASE_PREFLIGHT] = NO_LINK } },
	[FAULT_VF_LINK_DOWN] = { "vf-link-down", true,
				 { [PHASE_PREFLIGHT] = NO_VF_YET, [PHASE_PREPARE] = NO_VF_YET,
				   [PHASE_STANDBY] = NO_VF_YET, [PHASE_DID_OFF] = NO_VF_YET,
				   [PHASE_UNPLUG] = NO_VF_YET, [PHASE_MIGRATE] = NO_VF_YET,
				   [PHASE_SWITCHOVER] = NO_VF_YET,
				   [PHASE_PLUG] = "the VF is being plugged: its link is not up to be held down before the active phase brings it up",
				   [PHASE_DID_ON] = VF_DONE, [PHASE_COMMIT] = VF_DONE } },
	[FAULT_NO_FREE_VF] = { "no-free-vf", false,
			       { [PHASE_PREPARE] = POOL_CHECKED, [PHASE_STANDBY] = POOL_CHECKED,
				 [PHASE_DID_OFF] = POOL_CHECKED, [PHASE_UNPLUG] = POOL_CHECKED,
				 [PHASE_MIGRATE] = POOL_CHECKED, [PHASE_SWITCHOVER] = POOL_CHECKED,
				 [PHASE_PLUG] = POOL_CHECKED, [PHASE_ACTIVE] = POOL_CHECKED,
				 [PHASE_DID_ON] = POOL_CHECKED, [PHASE_COMMIT] = POOL_CHECKED } },
	[FAULT_KILL_SOURCE_DAEMON] = { "kill-source-daemon", false, {} },
	[FAULT_KILL_DEST_DAEMON] = { "kill-dest-daemon", false, {} },
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
	int only = -1;

	if ((unsigned)kind >= _FAULT_MAX)
		return -1;
	/* Only a fault with a single possible phase needs none named. */
	for (int p = 0; p < _PHASE_MAX; p++)
		if (!fault_defs[kind].refused[p]) {
			if (only >= 0)
				return -1;
			only = p;
		}
	return only;
}

const char *migration_fault_refused(migration_fault_kind kind, migration_phase phase)
{
	if ((unsigned)kind >= _FAULT_MAX || (unsigned)phase >= _PHASE_MAX)
		return "unknown fault or phase";
	return fault_defs[kind].refused[phase];
}

int migration_fault_check(const migration_fault *f, char **error)
{
	const struct fault_def *def;
	const char *why;

	why = migration_fault_refused(f->kind, f->phase);
	if (why) {
		if ((unsigned)f->kind >= _FAULT_MAX || (unsigned)f->phase >= _PHASE_MAX) {
			if (asprintf(error, "%s", why) < 0)
				*error = NULL;
		} else if (asprintf(error, "fault '%s' cannot fire at '%s': %s",
				    fault_defs[f->kind].name, migration_phase_name(f->phase), why) < 0) {
			*error = NULL;
		}
		return -EINVAL;
	}
	def = &fault_defs[f->kind];
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
