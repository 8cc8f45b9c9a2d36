// SPDX-License-Identifier: GPL-2.0-or-later
#include "migration/migration_journal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "migration/migration_job.h"
#include "daemon/state_file.h"
#include "host/vm_spec.h"

static char *journal_dir(host_daemon *d)
{
	char *p;

	return asprintf(&p, "%s/jobs", d->config->state_dir) < 0 ? NULL : p;
}

static char *journal_path(host_daemon *d, const char *vm_name)
{
	char *p;

	return asprintf(&p, "%s/jobs/%s.json", d->config->state_dir, vm_name) < 0 ? NULL : p;
}

json_object *migration_journal_to_json(const migration_journal *j)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "vm", json_object_new_string(j->vm));
	json_object_object_add(o, "role", json_object_new_string(j->role));
	json_object_object_add(o, "peer", json_object_new_string(j->peer));
	json_object_object_add(o, "phase",
			       json_object_new_string(!strcmp(j->role, "source") ?
							      migration_phase_name(j->phase) :
							      dest_phase_name(j->phase)));
	json_object_object_add(o, "rolling_back", json_object_new_boolean(j->rolling_back));
	json_object_object_add(o, "did_available", json_object_new_boolean(j->did_available));
	json_object_object_add(o, "degraded", json_object_new_boolean(j->degraded));
	if (j->resumed)
		json_object_object_add(o, "resumed", json_object_new_boolean(true));
	if (j->lost)
		json_object_object_add(o, "lost", json_object_new_boolean(true));
	if (j->deadline_ms)
		json_object_object_add(o, "deadline_ms", json_object_new_uint64(j->deadline_ms));
	if (j->fault.kind != FAULT_NONE)
		json_object_object_add(o, "fault", migration_fault_to_json(&j->fault));
	if (j->hook)
		json_object_object_add(o, "hook", json_object_new_boolean(true));
	if (j->vf)
		json_object_object_add(o, "vf", json_object_new_string(j->vf));
	return o;
}

int migration_journal_write(host_daemon *d, const migration_journal *j)
{
	_cleanup_free_ char *dir = journal_dir(d), *path = journal_path(d, j->vm);
	_cleanup_json_ json_object *o = migration_journal_to_json(j);
	int r;

	if (!dir || !path || !o)
		return -ENOMEM;
	r = state_dir_create(dir);
	if (r < 0)
		return r;
	return state_file_write(path, o);
}

int migration_journal_remove(host_daemon *d, const char *vm_name)
{
	_cleanup_free_ char *path = journal_path(d, vm_name);

	return path ? state_file_remove(path) : -ENOMEM;
}

/* A string field that must be present; its text stays owned by o. */
static int journal_string(json_object *o, const char *key, size_t max_len, const char **ret,
			  char **error)
{
	json_object *v;
	const char *s;
	size_t len;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return asprintf(error, "'%s' is missing or not a string", key) < 0 ? -ENOMEM : -EBADMSG;
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len == 0 || len > max_len || strlen(s) != len)
		return asprintf(error, "'%s' must be 1 to %zu characters without NUL", key, max_len) < 0
			       ? -ENOMEM
			       : -EBADMSG;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return asprintf(error, "'%s' holds a control character", key) < 0 ? -ENOMEM
											  : -EBADMSG;
	*ret = s;
	return 0;
}

/* An optional flag: absent is false, anything but a JSON boolean is an error. */
static int journal_flag(json_object *o, const char *key, bool *ret, char **error)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v)) {
		*ret = false;
		return 0;
	}
	if (!json_object_is_type(v, json_type_boolean))
		return asprintf(error, "'%s' must be true or false", key) < 0 ? -ENOMEM : -EBADMSG;
	*ret = json_object_get_boolean(v);
	return 0;
}

int migration_journal_parse(json_object *o, migration_journal *ret, char **error)
{
	migration_journal j = { 0 };
	const char *name, *role, *peer, *phase;
	json_object *v;
	int r, p;

	*error = NULL;
	if (!json_object_is_type(o, json_type_object))
		return asprintf(error, "not a JSON object") < 0 ? -ENOMEM : -EBADMSG;
	if ((r = journal_string(o, "vm", VM_SPEC_NAME_MAX, &name, error)) < 0 ||
	    (r = journal_string(o, "role", 16, &role, error)) < 0 ||
	    (r = journal_string(o, "peer", MIGRATION_JOURNAL_PEER_MAX, &peer, error)) < 0 ||
	    (r = journal_string(o, "phase", 32, &phase, error)) < 0 ||
	    (r = journal_flag(o, "rolling_back", &j.rolling_back, error)) < 0 ||
	    (r = journal_flag(o, "did_available", &j.did_available, error)) < 0 ||
	    (r = journal_flag(o, "degraded", &j.degraded, error)) < 0 ||
	    (r = journal_flag(o, "resumed", &j.resumed, error)) < 0 ||
	    (r = journal_flag(o, "lost", &j.lost, error)) < 0 ||
	    (r = journal_flag(o, "hook", &j.hook, error)) < 0)
		return r;
	if (!vm_spec_name_valid(name))
		return asprintf(error, "'vm' is not a VM name: '%s'", name) < 0 ? -ENOMEM : -EBADMSG;
	if (strcmp(role, "source") && strcmp(role, "destination") && strcmp(role, "attach"))
		return asprintf(error, "'role' must be \"source\", \"destination\" or \"attach\", not '%s'",
				role) < 0
			       ? -ENOMEM
			       : -EBADMSG;
	/* Each half journals its own phases (migration_phase.h). */
	p = strcmp(role, "source") ? dest_phase_from_name(phase) : migration_phase_from_name(phase);
	if (p < 0)
		return asprintf(error, "'phase' is not a phase of the %s: '%s'", role, phase) < 0
			       ? -ENOMEM
			       : -EBADMSG;
	if (json_object_object_get_ex(o, "deadline_ms", &v)) {
		if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
			return asprintf(error, "'deadline_ms' must be a time in ms since the epoch") < 0
				       ? -ENOMEM
				       : -EBADMSG;
		j.deadline_ms = (uint64_t)json_object_get_int64(v);
	}
	if (json_object_object_get_ex(o, "fault", &v) &&
	    migration_fault_from_json(v, &j.fault, error) < 0)
		return *error ? -EBADMSG : -ENOMEM;
	/* The VF a hook job holds: a pool's device name (vf0, or a PCI address), nothing else. */
	if (json_object_object_get_ex(o, "vf", &v)) {
		const char *vf;

		if ((r = journal_string(o, "vf", 64, &vf, error)) < 0)
			return r;
		if (strspn(vf, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:._-") !=
		    strlen(vf))
			return asprintf(error, "'vf' is not a device name: '%s'", vf) < 0 ? -ENOMEM
											   : -EBADMSG;
		j.vf = (char *)vf;
	}
	j.vm = (char *)name;
	j.role = (char *)role;
	j.peer = (char *)peer;
	j.phase = p;
	*ret = j;
	return 0;
}

int migration_journal_read(host_daemon *d, const char *vm_name, json_object **ret_o,
			   migration_journal *ret)
{
	_cleanup_free_ char *path = journal_path(d, vm_name), *error = NULL;
	json_object *o = NULL;
	int r;

	if (!path)
		return -ENOMEM;
	r = state_file_read(path, &o);
	if (r < 0)
		return r;
	r = migration_journal_parse(o, ret, &error);
	if (r < 0 || strcmp(ret->vm, vm_name)) {
		log_warning("Ignoring migration journal '%s': %s", path,
			    error ? error : r < 0 ? strerror(-r) : "it is another VM's");
		json_object_put(o);
		return -EBADMSG;
	}
	*ret_o = o;
	return 0;
}

int migration_journal_foreach(host_daemon *d, void (*fn)(host_daemon *d, const migration_journal *j))
{
	_cleanup_free_ char *dir = journal_dir(d);
	struct dirent *de;
	DIR *dp;

	if (!dir)
		return -ENOMEM;
	dp = opendir(dir);
	if (!dp)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(dp))) {
		_cleanup_free_ char *path = NULL, *error = NULL;
		_cleanup_json_ json_object *o = NULL;
		migration_journal j = { 0 };
		size_t len = strlen(de->d_name);
		int r;

		if (len < 6 || strcmp(de->d_name + len - 5, ".json"))
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
			break;
		r = state_file_read(path, &o);
		if (r < 0) {
			log_warning_errno(r, "Ignoring unreadable migration journal '%s': %m", path);
			continue;
		}
		r = migration_journal_parse(o, &j, &error);
		if (r == 0 && (strlen(j.vm) != len - 5 || strncmp(j.vm, de->d_name, len - 5)))
			r = asprintf(&error, "it is the journal of '%s'", j.vm) < 0 ? -ENOMEM : -EBADMSG;
		if (r < 0) {
			log_warning("Ignoring migration journal '%s': %s; remove it once no migration "
				    "of that VM runs", path, error ? error : strerror(-r));
			continue;
		}
		fn(d, &j);
	}
	closedir(dp);
	return 0;
}
