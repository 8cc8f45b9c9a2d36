// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A VM's record in the registry (STATE_DIR/vms/NAME.json) as a restarted daemon reads it back:
 * arbitrary file content through state_file_read() and vm_record_parse(). A refusal must name
 * the file; what is accepted must be safe to act on (a valid spec, a plain absolute run
 * directory, a pid in the kernel's range) and must read back equal once written as vm_save()
 * writes it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/state_file.h"
#include "fuzz-file.h"
#include "host/vm_record.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_accepted(const vm_record *r)
{
	_cleanup_json_ json_object *o = NULL, *spec_a = NULL, *spec_b = NULL;
	_cleanup_free_ char *error = NULL;
	vm_record again;

	if (!r->spec || !vm_spec_name_valid(r->spec->name) || r->run_dir[0] != '/' ||
	    strstr(r->run_dir, "/../") || strstr(r->run_dir, "/./") || strstr(r->run_dir, "//") ||
	    r->pid < 0 || r->pid > VM_RECORD_PID_MAX || (r->vf && !*r->vf))
		abort();
	if (vm_record_to_json(r, &o) < 0 || vm_record_parse(o, "again", &again, &error) < 0)
		abort();
	if (vm_spec_to_json(r->spec, &spec_a) < 0 || vm_spec_to_json(again.spec, &spec_b) < 0 ||
	    !json_object_equal(spec_a, spec_b) || strcmp(again.run_dir, r->run_dir) ||
	    again.pid != r->pid || !again.vf != !r->vf || (r->vf && strcmp(again.vf, r->vf)) ||
	    again.vf_plugged != r->vf_plugged || again.incoming != r->incoming ||
	    !again.pinned != !r->pinned || again.pinned_damaged ||
	    (r->pinned && (again.pinned->n != r->pinned->n ||
			   memcmp(again.pinned->pcpu, r->pinned->pcpu, r->pinned->n * sizeof(int)))))
		abort();
	vm_record_clear(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_json_ json_object *o = NULL;
	char path[FUZZ_FILE_PATH_MAX], prefix[FUZZ_FILE_PATH_MAX + 2], *error = NULL;
	vm_record r;
	int fd = fuzz_file(data, size, path);

	if (fd < 0)
		return 0;
	if (state_file_read(path, &o) >= 0) {
		snprintf(prefix, sizeof(prefix), "%s:", path);
		if (vm_record_parse(o, path, &r, &error) < 0) {
			if (!error || strncmp(error, prefix, strlen(prefix)))
				abort();
		} else {
			if (error)
				abort();
			check_accepted(&r);
			vm_record_clear(&r);
		}
		free(error);
	}
	close(fd);
	return 0;
}
