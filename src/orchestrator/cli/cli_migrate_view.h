/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What `dmigrate migrate` shows while the daemon migrates, and how it ends. On a terminal: one
 * status line redrawn in place (phase, RAM sent and left, dirty rate, speed, ETA) and a line per
 * finished phase with its duration. Elsewhere (a pipe, a file): nothing until the one-line
 * summary. The output stream is a parameter so that tests can read what a person would see.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <json-c/json.h>

typedef struct cli_migrate_view {
	FILE *out;
	bool live;        /* out is a terminal: show progress */
	unsigned columns; /* its width; the status line is cut to fit (0: assume 80) */
	bool line_shown;  /* a status line is on screen, to be erased before other output */
	char phase[32];   /* the phase running now */
} cli_migrate_view;

/* A `phase` or `progress` event of the migrate command (proto/control-protocol.md). */
void cli_migrate_view_event(cli_migrate_view *v, const char *event, json_object *data);
/* Erase the status line, so that what follows starts on a clean line. */
void cli_migrate_view_clear(cli_migrate_view *v);

/* The status line for a progress event, at most size - 1 bytes. */
void cli_migrate_progress_format(const char *phase, json_object *progress, char *buf, size_t size);

/* The exit code for the result's outcome: 0 migrated, 3 degraded, 1 rolled back or unknown. */
int cli_migrate_exit_code(json_object *result);
/* One line: what happened, why (if not migrated), and where the VM runs now. */
void cli_migrate_summary_print(FILE *out, json_object *result);
