// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The fault object of a `migrate` request ({"name", "phase", "duration_ms"}), as a client sends
 * it: arbitrary JSON into migration_fault_from_json(). A refusal must say why and leave *ret
 * alone; an accepted fault must be one the runner can inject (migration_fault_check()), and
 * must read back the same from migration_fault_to_json().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "migration/migration_fault.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const migration_fault untouched = { .kind = _FAULT_MAX, .duration_ms = 12345 };
	_cleanup_json_ json_object *o = NULL, *back = NULL;
	migration_fault f = untouched, again;
	json_tokener *tok = json_tokener_new();
	char *error = NULL;

	if (!tok)
		return 0;
	o = json_tokener_parse_ex(tok, (const char *)data, (int)(size < INT32_MAX ? size : INT32_MAX));
	json_tokener_free(tok);
	if (!o)
		return 0;
	if (migration_fault_from_json(o, &f, &error) < 0) {
		if (!error || !*error || memcmp(&f, &untouched, sizeof(f)) != 0)
			abort();
		free(error);
		return 0;
	}
	if (error || f.kind <= FAULT_NONE || f.kind >= _FAULT_MAX ||
	    migration_fault_check(&f, &error) < 0 ||
	    f.duration_ms > MIGRATION_FAULT_MAX_DURATION_MS ||
	    (f.duration_ms > 0) != migration_fault_has_duration(f.kind))
		abort();
	back = migration_fault_to_json(&f);
	if (migration_fault_from_json(back, &again, &error) < 0 || memcmp(&again, &f, sizeof(f)) != 0)
		abort();
	return 0;
}
