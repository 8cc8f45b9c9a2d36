// SPDX-License-Identifier: GPL-2.0-or-later
#include "host/vm_record.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "host/cpu_pinning.h"
#include "macro.h"

_printf_(3, 4)
static int record_fail(char **error, const char *origin, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = errbuf_vset_alloc(error, -EBADMSG, fmt, ap, "%s", origin);
	va_end(ap);
	return r;
}

static bool has_control_chars(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

/* Absolute, and every component a real name: no empty, "." or ".." component. */
static bool path_is_plain_absolute(const char *s)
{
	if (s[0] != '/')
		return false;
	for (const char *c = s + 1;;) {
		size_t n = strcspn(c, "/");

		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return s[1] == '\0'; /* only "/" itself may end in its slash */
		if (c[n] == '\0')
			return true;
		c += n + 1;
	}
}

static int record_flag(json_object *o, const char *origin, const char *key, bool *ret,
		       char **error)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return record_fail(error, origin, "'%s' must be true or false", key);
	*ret = json_object_get_boolean(v);
	return 0;
}

static int record_parse_spec(json_object *o, const char *origin, vm_record *r, char **error)
{
	json_object *v;
	const char *text;
	size_t len;
	int e;

	if (!json_object_object_get_ex(o, "spec", &v) || !json_object_is_type(v, json_type_object))
		return record_fail(error, origin, "'spec' is missing or not an object");
	text = json_object_to_json_string_length(v, JSON_C_TO_STRING_PLAIN, &len);
	if (!text)
		return -ENOMEM;
	/* The spec parser's message names the origin and the field already. */
	e = vm_spec_parse(text, len, origin, "/", &r->spec, error);
	return e == -ENOMEM ? e : e < 0 ? -EBADMSG : 0;
}

static int record_parse_run_dir(json_object *o, const char *origin, vm_record *r, char **error)
{
	json_object *v;
	const char *s;
	size_t len;

	if (!json_object_object_get_ex(o, "run_dir", &v) || !json_object_is_type(v, json_type_string))
		return record_fail(error, origin, "'run_dir' is missing or not a string");
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len > VM_SPEC_PATH_MAX || strlen(s) != len || has_control_chars(s, len) ||
	    !path_is_plain_absolute(s))
		return record_fail(error, origin,
				   "'run_dir' must be an absolute path of at most %d characters, "
				   "without . or .. components",
				   VM_SPEC_PATH_MAX);
	r->run_dir = strdup(s);
	return r->run_dir ? 0 : -ENOMEM;
}

static int record_parse_pid(json_object *o, const char *origin, vm_record *r, char **error)
{
	json_object *v;
	int64_t pid;

	if (!json_object_object_get_ex(o, "pid", &v))
		return 0;
	pid = json_object_get_int64(v);
	if (!json_object_is_type(v, json_type_int) || pid < 0 || pid > VM_RECORD_PID_MAX)
		return record_fail(error, origin, "'pid' must be a number from 0 to %d",
				   VM_RECORD_PID_MAX);
	r->pid = (pid_t)pid;
	return 0;
}

static int record_parse_vf(json_object *o, const char *origin, vm_record *r, char **error)
{
	json_object *v;
	const char *s;
	size_t len;

	if (!json_object_object_get_ex(o, "vf", &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return record_fail(error, origin, "'vf' must be a string or null");
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len == 0 || len > VM_RECORD_VF_MAX || strlen(s) != len || has_control_chars(s, len))
		return record_fail(error, origin,
				   "'vf' must be 1 to %d characters without control characters",
				   VM_RECORD_VF_MAX);
	r->vf = strdup(s);
	return r->vf ? 0 : -ENOMEM;
}

static int record_parse_pinned(json_object *o, vm_record *r)
{
	json_object *v;
	cpumap m;

	if (!json_object_object_get_ex(o, "pinned", &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (cpumap_from_json(v, &m) < 0) {
		r->pinned_damaged = true;
		return 0;
	}
	r->pinned = malloc(sizeof(m));
	if (!r->pinned)
		return -ENOMEM;
	*r->pinned = m;
	return 0;
}

int vm_record_parse(json_object *o, const char *origin, vm_record *ret, char **error)
{
	vm_record r = { 0 };
	int e;

	*error = NULL;
	if (!json_object_is_type(o, json_type_object))
		e = record_fail(error, origin, "not a JSON object");
	else if ((e = record_parse_spec(o, origin, &r, error)) >= 0 &&
		 (e = record_parse_run_dir(o, origin, &r, error)) >= 0 &&
		 (e = record_parse_pid(o, origin, &r, error)) >= 0 &&
		 (e = record_parse_vf(o, origin, &r, error)) >= 0 &&
		 (e = record_flag(o, origin, "vf_plugged", &r.vf_plugged, error)) >= 0 &&
		 (e = record_flag(o, origin, "incoming", &r.incoming, error)) >= 0)
		e = record_parse_pinned(o, &r);
	if (e < 0) {
		vm_record_clear(&r);
		return e;
	}
	*ret = r;
	return 0;
}

int vm_record_to_json(const vm_record *r, json_object **ret)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	json_object *spec;
	int e;

	if (!o)
		return -ENOMEM;
	e = vm_spec_to_json(r->spec, &spec);
	if (e < 0)
		return e;
	if (json_object_object_add(o, "spec", spec) < 0) {
		json_object_put(spec);
		return -ENOMEM;
	}
	if (json_object_object_add(o, "run_dir", json_object_new_string(r->run_dir)) < 0 ||
	    json_object_object_add(o, "pid", json_object_new_int64(r->pid)) < 0 ||
	    json_object_object_add(o, "vf", r->vf ? json_object_new_string(r->vf) : NULL) < 0 ||
	    json_object_object_add(o, "vf_plugged", json_object_new_boolean(r->vf_plugged)) < 0 ||
	    json_object_object_add(o, "incoming", json_object_new_boolean(r->incoming)) < 0 ||
	    (r->pinned && json_object_object_add(o, "pinned", cpumap_to_json(r->pinned)) < 0))
		return -ENOMEM;
	*ret = TAKE_PTR(o);
	return 0;
}

void vm_record_clear(vm_record *r)
{
	vm_spec_free(r->spec);
	free(r->run_dir);
	free(r->vf);
	free(r->pinned);
	*r = (vm_record){ 0 };
}
