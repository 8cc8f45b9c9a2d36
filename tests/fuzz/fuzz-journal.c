// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A migration journal (STATE_DIR/jobs/VM.json) as a restarted daemon reads it back: arbitrary
 * file content through state_file_read() and migration_journal_parse(). A refusal must say why;
 * what is accepted must be what recovery can act on (a VM name, a known role, a phase of that
 * role, a peer name without control characters, a fault the runner can inject, a hook's VF by
 * a device name), and must read
 * back the same once written as the daemon writes it.
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
	_cleanup_json_ json_object *o = migration_journal_to_json(j);
	_cleanup_free_ char *error = NULL;
	bool source = !strcmp(j->role, "source");
	migration_journal again;

	if (!vm_spec_name_valid(j->vm) ||
	    (!source && strcmp(j->role, "destination") && strcmp(j->role, "attach")) ||
	    j->phase < 0 || j->phase >= (source ? _PHASE_MAX : _DEST_PHASE_MAX) || !*j->peer ||
	    strlen(j->peer) > MIGRATION_JOURNAL_PEER_MAX)
		abort();
	for (const char *c = j->peer; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			abort();
	if (j->fault.kind != FAULT_NONE && migration_fault_check(&j->fault, &error) < 0)
		abort();
	if (j->vf && (!*j->vf || strspn(j->vf, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					    "0123456789:._-") != strlen(j->vf)))
		abort();
	/* Written as migration_journal_write() writes it, it reads back the same. */
	if (!o || migration_journal_parse(o, &again, &error) < 0 || strcmp(again.vm, j->vm) ||
	    strcmp(again.role, j->role) || strcmp(again.peer, j->peer) || again.phase != j->phase ||
	    again.rolling_back != j->rolling_back || again.did_available != j->did_available ||
	    again.degraded != j->degraded || again.resumed != j->resumed || again.lost != j->lost ||
	    again.deadline_ms != j->deadline_ms ||
	    memcmp(&again.fault, &j->fault, sizeof(j->fault)) != 0 || again.hook != j->hook ||
	    !again.vf != !j->vf || (j->vf && strcmp(again.vf, j->vf)))
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
