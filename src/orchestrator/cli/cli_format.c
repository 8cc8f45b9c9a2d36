// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli/cli_format.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "cli/cli_args.h"

const char *cli_json_string(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

bool cli_json_uint(json_object *o, const char *key, uint64_t *ret)
{
	json_object *v;
	double d;

	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
		return false;
	if (json_object_is_type(v, json_type_int)) {
		/* json-c keeps values above INT64_MAX as unsigned; get_int64 caps them. */
		if (json_object_get_int64(v) < 0)
			return false;
		*ret = json_object_get_uint64(v);
		return true;
	}
	if (json_object_is_type(v, json_type_double)) {
		d = json_object_get_double(v);
		if (!isfinite(d) || d < 0 || d >= 18446744073709551616.0)
			return false;
		*ret = (uint64_t)d;
		return true;
	}
	return false;
}

bool cli_json_bool(json_object *o, const char *key)
{
	json_object *v;

	return json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, key, &v) &&
	       json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

const char *cli_format_field(json_object *o, const char *key, const char *fallback, char *buf,
			     size_t size)
{
	const char *s = cli_json_string(o, key);

	return cli_quote(s ? s : fallback, buf, size);
}

const char *cli_format_bytes(uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)bytes;
	size_t i = 0;

	if (bytes < 1024) {
		snprintf(buf, size, "%" PRIu64 " B", bytes);
		return buf;
	}
	v /= 1024;
	while (v >= 1024 && i + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		i++;
	}
	snprintf(buf, size, "%.*f %s", v < 10 ? 2 : 1, v, units[i]);
	return buf;
}

const char *cli_format_ms(uint64_t ms, char *buf, size_t size)
{
	uint64_t s = ms / 1000;

	if (ms < 1000)
		snprintf(buf, size, "%" PRIu64 " ms", ms);
	else if (ms < 60000)
		snprintf(buf, size, "%.2f s", (double)ms / 1000);
	else if (s < 3600)
		snprintf(buf, size, "%" PRIu64 " min %02" PRIu64 " s", s / 60, s % 60);
	else
		snprintf(buf, size, "%" PRIu64 " h %02" PRIu64 " min", s / 3600, s / 60 % 60);
	return buf;
}

void cli_json_print(FILE *out, json_object *o)
{
	fprintf(out, "%s\n",
		json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
}
