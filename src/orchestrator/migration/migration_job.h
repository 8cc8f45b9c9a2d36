/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A migration, as the eleven phases of ../shared/DESIGN.md, split like libvirt's into a source
 * half (migration_source.c, which drives) and a destination half (migration_dest.c, which answers
 * the peer-* commands). Both record where they are in a journal on disk, so a restarted daemon
 * finishes or undoes the job (migration_recover.c).
 */
#pragma once

#include <stdint.h>

#include <json-c/json.h>

#include "migration/migration_fault.h"
#include "migration/migration_phase.h"
#include "transport/rpc_conn.h"
#include "host/vm.h"

/* Start migrating v to the peer named `to`; req gets events and, at the end, the result. */
int migration_source_start(vm *v, const char *to, json_object *settings,
			   const migration_fault *fault, rpc_request *req);
/* Finish or undo the source jobs a previous daemon left in its journal. */
int migration_source_recover(host_daemon *d);

/* The destination's peer-* commands. */
void migration_dest_handle(host_daemon *d, rpc_request *req, const char *cmd, json_object *args);
/* peer-fault: a drill's fault that lives on the destination (migration_fault.h). */
void migration_dest_fault(host_daemon *d, rpc_request *req, json_object *args);

/* Hooks vm.c calls for a VM that takes part in a job. */
void migration_job_qmp_event(struct migration_job *j, const char *event, json_object *data);
void migration_job_vm_exited(struct migration_job *j);
