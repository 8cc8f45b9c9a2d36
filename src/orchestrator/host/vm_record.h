/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A VM's record in the registry, STATE_DIR/vms/NAME.json: what the next daemon needs to find
 * the VM again (its spec, where its sockets are, its QEMU's pid, the VF it holds). The file is
 * read back after a crash or by a newer daemon, so it is checked like any other input: a record
 * that does not parse is ignored with a message saying which field is wrong. Unknown fields are
 * ignored, so that an older daemon can read a newer one's records.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "host/cpumap.h"
#include "host/vm_spec.h"

/* The kernel's largest pid (PID_MAX_LIMIT on 64-bit). */
#define VM_RECORD_PID_MAX (4 * 1024 * 1024)
#define VM_RECORD_VF_MAX 64

typedef struct vm_record {
	vm_spec *spec;
	char *run_dir; /* absolute, without . or .. components */
	pid_t pid;     /* 0: not running */
	char *vf;      /* the VF it holds from the pool, or NULL */
	bool vf_plugged;
	bool incoming;
	cpumap *pinned; /* the CPUs it was pinned to, or NULL */
	/* A damaged CPU map does not cost the VM its record (its QEMU still runs): it is unpinned. */
	bool pinned_damaged;
} vm_record;

/*
 * Parse a record; origin (the file) names it in messages. On error returns -EBADMSG or -ENOMEM
 * and, for -EBADMSG, *error (malloc()ed): "ORIGIN: field: what is wrong".
 */
int vm_record_parse(json_object *o, const char *origin, vm_record *ret, char **error);
/* The record as JSON, which vm_record_parse() reads back equal. */
int vm_record_to_json(const vm_record *r, json_object **ret);
/* Free what vm_record_parse() allocated. */
void vm_record_clear(vm_record *r);
