/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Typed access to the fields of a JSON configuration file with errors a user can act on:
 *
 *     /etc/dmigrate/dmigrated.json: field 'peers.hostB.port': expected an integer 1..65535, got "ssh"
 *
 * A cfg_reader remembers the file name and the first error; every getter returns 0 on success,
 * -ENOENT for an optional field that is absent (the output is left alone, so callers preset
 * defaults), and -EINVAL with the message recorded for anything else.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

typedef struct cfg_reader {
	const char *file;
	char *error; /* malloc()ed; the first error only */
} cfg_reader;

/* Read and parse a whole file (at most max_size bytes) into a JSON object. */
int cfg_load(cfg_reader *r, const char *path, size_t max_size, json_object **ret);
void cfg_reader_done(cfg_reader *r);
int cfg_fail(cfg_reader *r, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* field is the dotted path used in messages; key is looked up in obj. */
int cfg_string(cfg_reader *r, json_object *obj, const char *field, const char *key, bool required,
	       const char **ret);
int cfg_uint(cfg_reader *r, json_object *obj, const char *field, const char *key, bool required,
	     uint64_t min, uint64_t max, uint64_t *ret);
int cfg_bool(cfg_reader *r, json_object *obj, const char *field, const char *key, bool required,
	     bool *ret);
int cfg_object(cfg_reader *r, json_object *obj, const char *field, const char *key, bool required,
	       json_object **ret);
/* Unknown keys are errors: a misspelt option must not be silently ignored. */
int cfg_no_unknown(cfg_reader *r, json_object *obj, const char *field, const char *const *known);
