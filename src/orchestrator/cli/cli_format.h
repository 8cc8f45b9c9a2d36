/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Showing the daemon's answers to a person: tolerant field access (a field that is missing or of
 * the wrong type reads as absent, never crashes and never prints garbage), text made safe for a
 * terminal, and human units.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

/* Room for a field's text after cli_format_field(): long values are cut, marked with "...". */
#define CLI_FIELD_SIZE 256

/* The string at key, or NULL when absent or not a string. */
const char *cli_json_string(json_object *o, const char *key);
/* A non-negative integer (or a whole-number double) at key; false when absent or unusable. */
bool cli_json_uint(json_object *o, const char *key, uint64_t *ret);
/* The boolean at key, or false. */
bool cli_json_bool(json_object *o, const char *key);

/* The string at key made safe to print (see cli_quote()), or fallback when absent. */
const char *cli_format_field(json_object *o, const char *key, const char *fallback, char *buf,
			     size_t size);
/* 512 B, 12.0 KiB, 412.3 MiB, 1.50 GiB */
const char *cli_format_bytes(uint64_t bytes, char *buf, size_t size);
/* 850 ms, 1.25 s, 2 min 05 s, 3 h 02 min */
const char *cli_format_ms(uint64_t ms, char *buf, size_t size);

/* o as one line of compact JSON, for --json. */
void cli_json_print(FILE *out, json_object *o);
