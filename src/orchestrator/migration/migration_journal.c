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

int migration_journal_write(host_daemon *d, const migration_journal *j)
{
	_cleanup_free_ char *dir = journal_dir(d), *path = journal_path(d, j->vm);
	_cleanup_json_ json_object *o = json_object_new_object();
	int r;

	if (!dir || !path || !o)
		return -ENOMEM;
	r = state_dir_create(dir);
	if (r < 0)
		return r;
	json_object_object_add(o, "vm", json_object_new_string(j->vm));
	json_object_object_add(o, "role", json_object_new_string(j->role));
	json_object_object_add(o, "peer", json_object_new_string(j->peer));
	json_object_object_add(o, "phase",
			       json_object_new_string(strcmp(j->role, "destination") ?
							      migration_phase_name(j->phase) :
							      dest_phase_name(j->phase)));
	json_object_object_add(o, "rolling_back", json_object_new_boolean(j->rolling_back));
	json_object_object_add(o, "did_available", json_object_new_boolean(j->did_available));
	json_object_object_add(o, "degraded", json_object_new_boolean(j->degraded));
	if (j->deadline_ms)
		json_object_object_add(o, "deadline_ms", json_object_new_uint64(j->deadline_ms));
	if (j->fault.kind != FAULT_NONE)
		json_object_object_add(o, "fault", migration_fault_to_json(&j->fault));
	return state_file_write(path, o);
}

int migration_journal_remove(host_daemon *d, const char *vm_name)
{
	_cleanup_free_ char *path = journal_path(d, vm_name);

	return path ? state_file_remove(path) : -ENOMEM;
}

static int journal_parse(json_object *o, migration_journal *j)
{
	json_object *v;
	int phase;

	if (!json_object_object_get_ex(o, "vm", &v) || !json_object_is_type(v, json_type_string))
		return -EBADMSG;
	j->vm = (char *)json_object_get_string(v);
	if (!json_object_object_get_ex(o, "role", &v) || !json_object_is_type(v, json_type_string))
		return -EBADMSG;
	j->role = (char *)json_object_get_string(v);
	if (strcmp(j->role, "source") && strcmp(j->role, "destination"))
		return -EBADMSG;
	if (!json_object_object_get_ex(o, "peer", &v) || !json_object_is_type(v, json_type_string))
		return -EBADMSG;
	j->peer = (char *)json_object_get_string(v);
	if (!json_object_object_get_ex(o, "phase", &v) || !json_object_is_type(v, json_type_string))
		return -EBADMSG;
	phase = strcmp(j->role, "source") ? dest_phase_from_name(json_object_get_string(v)) :
					    migration_phase_from_name(json_object_get_string(v));
	if (phase < 0)
		return -EBADMSG;
	j->phase = phase;
	if (json_object_object_get_ex(o, "rolling_back", &v))
		j->rolling_back = json_object_get_boolean(v);
	if (json_object_object_get_ex(o, "did_available", &v))
		j->did_available = json_object_get_boolean(v);
	if (json_object_object_get_ex(o, "degraded", &v))
		j->degraded = json_object_get_boolean(v);
	if (json_object_object_get_ex(o, "deadline_ms", &v)) {
		if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
			return -EBADMSG;
		j->deadline_ms = (uint64_t)json_object_get_int64(v);
	}
	if (json_object_object_get_ex(o, "fault", &v)) {
		_cleanup_free_ char *error = NULL;

		if (migration_fault_from_json(v, &j->fault, &error) < 0)
			return -EBADMSG;
	}
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
		_cleanup_free_ char *path = NULL;
		_cleanup_json_ json_object *o = NULL;
		migration_journal j = { 0 };
		size_t len = strlen(de->d_name);

		if (len < 6 || strcmp(de->d_name + len - 5, ".json"))
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
			break;
		if (state_file_read(path, &o) < 0 || journal_parse(o, &j) < 0) {
			log_warning("Ignoring unreadable migration journal '%s'", path);
			continue;
		}
		fn(d, &j);
	}
	closedir(dp);
	return 0;
}
