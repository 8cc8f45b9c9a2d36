/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Follow a job that dmigrated owns (migrate, detach, attach) to its end: its phase and progress
 * events drawn by cli_migrate_view on a terminal, nothing but the result elsewhere. Ctrl-C stops
 * watching, not the job, and says how to follow it from there.
 */
#pragma once

#include <stdbool.h>

#include <json-c/json.h>

typedef struct cli_watch {
	const char *socket; /* --socket, or NULL */
	const char *cmd;    /* the control command that runs the job */
	json_object *args;  /* borrowed */
	bool json;          /* --json: stdout keeps the result object alone */
	const char *vm;
	/* Printed first on a terminal ("Migrating vm1 to hostB"), or NULL. */
	const char *headline;
	/* On Ctrl-C: what goes on without us ("migration") and how to follow it from there
	 * ("follow it with 'dmigrate status vm1'"). */
	const char *job_noun, *follow_hint;
} cli_watch;

/*
 * Run w's command and show its events until it ends. Returns CLI_EXIT_OK with *ret_result (a
 * JSON object, the caller's), or the exit code cli_client_run() gave, or CLI_EXIT_FAILED (with
 * why) if dmigrated's answer is not an object.
 */
int cli_watch_job(const cli_watch *w, json_object **ret_result);
