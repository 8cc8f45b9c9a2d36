// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The evacuation journal (STATE_DIR/evacuation.json) as a restarted daemon reads it back:
 * arbitrary file content through state_file_read() and evacuation_journal_check(), for a daemon
 * whose peers are hostB and hostC. A refusal must say why; what is accepted must be what the
 * recovery uses without further checks: each VM a valid name in a known state, each peer one of
 * the config's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control_protocol.h"
#include "daemon/evacuation.h"
#include "daemon/state_file.h"
#include "fuzz-file.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_accepted(json_object *o, const host_config *c)
{
	json_object *vms = json_object_object_get(o, "vms"), *to = json_object_object_get(o, "to");
	int parallel = json_object_get_int(json_object_object_get(o, "parallel"));

	if (parallel < 1 || parallel > EVACUATE_PARALLEL_MAX || !json_object_is_type(vms, json_type_array))
		abort();
	for (size_t i = 0; i < json_object_array_length(to); i++)
		if (!host_config_find_peer(c, json_object_get_string(json_object_array_get_idx(to, i))))
			abort();
	for (size_t i = 0; i < json_object_array_length(vms); i++) {
		json_object *e = json_object_array_get_idx(vms, i), *v;
		const char *name = json_object_get_string(json_object_object_get(e, "vm"));

		if (!name || !control_name_valid(name, strlen(name)))
			abort();
		if (json_object_object_get_ex(e, "to", &v) && v &&
		    !host_config_find_peer(c, json_object_get_string(v)))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	peer_config peers[] = { { .name = (char *)"hostB" }, { .name = (char *)"hostC" } };
	host_config c = { .path = (char *)"dmigrated.json", .name = (char *)"hostA",
			  .peers = peers, .n_peers = 2 };
	_cleanup_json_ json_object *o = NULL;
	char path[FUZZ_FILE_PATH_MAX], why[256] = "";
	int fd = fuzz_file(data, size, path);

	if (fd < 0)
		return 0;
	if (state_file_read(path, &o) >= 0) {
		if (evacuation_journal_check(o, &c, why, sizeof(why)) < 0) {
			if (!*why)
				abort(); /* a refusal says why */
		} else
			check_accepted(o, &c);
	}
	close(fd);
	return 0;
}
