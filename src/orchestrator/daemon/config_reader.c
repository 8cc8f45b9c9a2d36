// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/config_reader.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

int cfg_fail(cfg_reader *r, const char *field, const char *fmt, ...)
{
	_cleanup_free_ char *what = NULL;
	va_list ap;

	if (r->error)
		return -EINVAL;
	va_start(ap, fmt);
	if (vasprintf(&what, fmt, ap) < 0)
		what = NULL;
	va_end(ap);
	if (field && *field) {
		if (asprintf(&r->error, "%s: field '%s': %s", r->file, field, what ? what : "invalid") < 0)
			r->error = NULL;
	} else if (asprintf(&r->error, "%s: %s", r->file, what ? what : "invalid") < 0) {
		r->error = NULL;
	}
	return -EINVAL;
}

void cfg_reader_done(cfg_reader *r)
{
	free(r->error);
	r->error = NULL;
}

int cfg_load(cfg_reader *r, const char *path, size_t max_size, json_object **ret)
{
	_cleanup_free_ char *buf = NULL;
	FILE *f;
	size_t n, n_end;
	json_tokener *tok;
	json_object *obj;

	r->file = path;
	f = fopen(path, "re");
	if (!f)
		return cfg_fail(r, NULL, "cannot open: %s", strerror(errno));
	buf = malloc(max_size + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, max_size + 1, f);
	fclose(f);
	if (n > max_size)
		return cfg_fail(r, NULL, "larger than %zu bytes", max_size);
	buf[n] = '\0';

	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	obj = json_tokener_parse_ex(tok, buf, (int)n + 1);
	if (!obj) {
		int e = cfg_fail(r, NULL, "not valid JSON: %s near byte %zu",
				 json_tokener_error_desc(json_tokener_get_error(tok)),
				 json_tokener_get_parse_end(tok));
		json_tokener_free(tok);
		return e;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		json_tokener_free(tok);
		return cfg_fail(r, NULL, "expected a JSON object at the top level");
	}
	/* An object ends at its '}': only blanks may follow (a NUL byte counts as garbage). */
	n_end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (n_end + strspn(buf + n_end, " \t\r\n") != n) {
		json_object_put(obj);
		return cfg_fail(r, NULL, "not valid JSON: unexpected data after the object at byte %zu",
				n_end);
	}
	*ret = obj;
	return 0;
}

static const char *cfg_describe(json_object *v)
{
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

static int cfg_lookup(cfg_reader *r, json_object *obj, const char *field, const char *key,
		      bool required, json_object **ret)
{
	if (!json_object_object_get_ex(obj, key, ret))
		return required ? cfg_fail(r, field, "missing (required)") : -ENOENT;
	return 0;
}

int cfg_string(cfg_reader *r, json_object *obj, const char *field, const char *key, bool required,
	       const char **ret)
{
	json_object *v;
	int e = cfg_lookup(r, obj, field, key, required, &v);

	if (e < 0)
		return e;
	if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0)
		return cfg_fail(r, field, "expected a non-empty string, got %s", cfg_describe(v));
	if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
		return cfg_fail(r, field, "contains a NUL character");
	*ret = json_object_get_string(v);
	return 0;
}

int cfg_uint(cfg_reader *r, json_object *obj, const char *field, const char *key, bool required,
	     uint64_t min, uint64_t max, uint64_t *ret)
{
	json_object *v;
	int64_t n;
	int e = cfg_lookup(r, obj, field, key, required, &v);

	if (e < 0)
		return e;
	n = json_object_get_int64(v);
	if (!json_object_is_type(v, json_type_int) || n < 0 || (uint64_t)n < min ||
	    (uint64_t)n > max)
		return cfg_fail(r, field, "expected an integer %" PRIu64 "..%" PRIu64 ", got %s",
				min, max, cfg_describe(v));
	*ret = (uint64_t)n;
	return 0;
}

int cfg_bool(cfg_reader *r, json_object *obj, const char *field, const char *key, bool required,
	     bool *ret)
{
	json_object *v;
	int e = cfg_lookup(r, obj, field, key, required, &v);

	if (e < 0)
		return e;
	if (!json_object_is_type(v, json_type_boolean))
		return cfg_fail(r, field, "expected true or false, got %s", cfg_describe(v));
	*ret = json_object_get_boolean(v);
	return 0;
}

int cfg_object(cfg_reader *r, json_object *obj, const char *field, const char *key, bool required,
	       json_object **ret)
{
	json_object *v;
	int e = cfg_lookup(r, obj, field, key, required, &v);

	if (e < 0)
		return e;
	if (!json_object_is_type(v, json_type_object))
		return cfg_fail(r, field, "expected a JSON object, got %s", cfg_describe(v));
	*ret = v;
	return 0;
}

int cfg_no_unknown(cfg_reader *r, json_object *obj, const char *field, const char *const *known)
{
	if (!json_object_is_type(obj, json_type_object)) /* foreach would dereference NULL */
		return cfg_fail(r, field, "expected a JSON object, got %s", cfg_describe(obj));
	json_object_object_foreach(obj, key, val) {
		bool found = false;

		(void)val;
		for (const char *const *k = known; *k && !found; k++)
			found = !strcmp(*k, key);
		if (!found) {
			_cleanup_free_ char *path = NULL;

			if (asprintf(&path, "%s%s%s", field && *field ? field : "",
				     field && *field ? "." : "", key) < 0)
				return -ENOMEM;
			return cfg_fail(r, path, "unknown field (check its spelling)");
		}
	}
	return 0;
}
