// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A migration journal (STATE_DIR/jobs/VM.json) as a restarted daemon reads it back: arbitrary
 * file content through state_file_read() and migration_journal_parse(). A refusal must say why;
 * what is accepted must be what recovery can act on (a VM name, a known role, a phase, a peer
 * name without control characters), and must read back the same once written as the daemon
 * writes it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/state_file.h"
#include "fuzz-file.h"
#include "host/vm_spec.h"
#include "macro.h"
#include "migration/migration_journal.h"
#include "migration/migration_phase.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_accepted(const migration_journal *j)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	_cleanup_free_ char *error = NULL;
	migration_journal again;

	if (!vm_spec_name_valid(j->vm) || (strcmp(j->role, "source") && strcmp(j->role, "destination")) ||
	    j->phase < 0 || j->phase >= _PHASE_MAX || !*j->peer ||
	    strlen(j->peer) > MIGRATION_JOURNAL_PEER_MAX)
		abort();
	for (const char *c = j->peer; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			abort();
	/* The fields as migration_journal_write() lays them out. */
	json_object_object_add(o, "vm", json_object_new_string(j->vm));
	json_object_object_add(o, "role", json_object_new_string(j->role));
	json_object_object_add(o, "peer", json_object_new_string(j->peer));
	json_object_object_add(o, "phase", json_object_new_string(migration_phase_name(j->phase)));
	json_object_object_add(o, "rolling_back", json_object_new_boolean(j->rolling_back));
	json_object_object_add(o, "did_available", json_object_new_boolean(j->did_available));
	json_object_object_add(o, "degraded", json_object_new_boolean(j->degraded));
	if (migration_journal_parse(o, &again, &error) < 0 || strcmp(again.vm, j->vm) ||
	    strcmp(again.role, j->role) || strcmp(again.peer, j->peer) || again.phase != j->phase ||
	    again.rolling_back != j->rolling_back || again.did_available != j->did_available ||
	    again.degraded != j->degraded)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_json_ json_object *o = NULL;
	char path[FUZZ_FILE_PATH_MAX], *error = NULL;
	migration_journal j;
	int fd = fuzz_file(data, size, path);

	if (fd < 0)
		return 0;
	if (state_file_read(path, &o) >= 0) {
		if (migration_journal_parse(o, &j, &error) < 0) {
			if (!error || !*error)
				abort();
		} else {
			if (error)
				abort();
			check_accepted(&j);
		}
		free(error);
	}
	close(fd);
	return 0;
}
