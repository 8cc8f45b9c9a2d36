// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VM spec parser on arbitrary bytes; what it accepts is also turned into a QEMU command
 * line, the VF's QMP arguments and JSON again, which must parse back. A spec naming a libvirt
 * domain has no command line (libvirt starts its QEMU): refused as such.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "host/qemu_argv.h"
#include "host/vm_spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_vm_spec_ vm_spec *spec = NULL, *again = NULL;
	_cleanup_json_ json_object *obj = NULL, *netdev = NULL, *device = NULL;
	_cleanup_argv_ char **argv = NULL;
	_cleanup_free_ char *error = NULL;
	const char *text;

	if (vm_spec_parse((const char *)data, size, "fuzz.json", "/fuzz", &spec, &error) < 0) {
		/* Every refusal explains itself. */
		if (!error || strncmp(error, "fuzz.json: ", 11) != 0)
			abort();
		return 0;
	}
	if (spec->libvirt_domain) {
		if (qemu_argv_build(spec, "/run/fuzz", QEMU_ARGV_INCOMING, &argv) != -EOPNOTSUPP)
			abort();
		goto json;
	}
	if (qemu_argv_build(spec, "/run/fuzz", QEMU_ARGV_INCOMING, &argv) < 0)
		abort();
	/* One argument per line in `dmigrate spec qemu-args`: no argument may hold a newline. */
	for (char **a = argv; *a; a++)
		if (strchr(*a, '\n'))
			abort();
	if (qemu_vf_plug_args(spec, NULL, &netdev, &device) < 0)
		abort();
json:
	if (vm_spec_to_json(spec, &obj) < 0)
		abort();
	text = json_object_to_json_string(obj);
	if (vm_spec_parse(text, strlen(text), "again", "/fuzz", &again, NULL) < 0)
		abort();
	return 0;
}
