/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A migration, as the phases of docs/design.md, split like libvirt's into a source half
 * (migration_source.c, which drives the phases up to the switchover) and a destination half
 * (migration_dest.c, which answers the peer-* commands and owns the phases after the
 * switchover). Each records where it is in its own journal on disk (migration_journal.h), so a
 * restarted daemon finishes or undoes its half.
 */
#pragma once

#include <stdint.h>

#include <json-c/json.h>

#include "control_protocol.h"
#include "migration/migration_fault.h"
#include "migration/migration_phase.h"
#include "transport/rpc_conn.h"
#include "host/vm.h"

/* An error code of the destination's: its incoming QEMU is gone, so the source may resume. */
#define DEST_ERR_NOT_RUNNING CONTROL_ERR_NOT_RUNNING
/* An error code of the destination's: the VM ran here after the switchover and its QEMU died. */
#define DEST_ERR_LOST CONTROL_ERR_VM_LOST

/* Start migrating v to the peer named `to`; req gets events and, at the end, the result. */
int migration_source_start(vm *v, const char *to, json_object *settings,
			   const migration_fault *fault, rpc_request *req);
/* Finish or undo the source jobs a previous daemon left in its journal. */
int migration_source_recover(host_daemon *d);
/*
 * Hook mode (migration_hook.h): the source's phases up to unplug, for an engine that migrates
 * by itself; the result's outcome is `detached` and the VF stays kept for the VM. With parked
 * (the journal of such a detach), undo it instead: the VF is plugged back where v runs.
 */
struct migration_journal;
int migration_source_detach(vm *v, const struct migration_journal *parked, rpc_request *req);
/*
 * `dmigrate cancel`: stop the migration of v and undo it. Refused after the switchover (the
 * source may never run again); *why says so. 0 when the undo has begun.
 */
int migration_source_cancel(vm *v, const char **why);

/* The phase v's source job is in ("migrate"), or NULL when none runs. */
const char *migration_source_phase(const vm *v);

/* The destination's peer-* commands. */
void migration_dest_handle(host_daemon *d, rpc_request *req, const char *cmd, json_object *args);
/* Finish or undo the destination jobs a previous daemon left in its journal. */
int migration_dest_recover(host_daemon *d);
/* peer-fault: a drill's fault that lives on the destination (migration_fault.h). */
void migration_dest_fault(host_daemon *d, rpc_request *req, json_object *args);
/* The same fault, from the destination's own phase hook; cb gets the outcome (message borrowed). */
typedef void (*migration_dest_fault_cb)(int error, const char *message, void *userdata);
int migration_dest_fault_inject(host_daemon *d, const char *vm_name, const migration_fault *f,
				migration_dest_fault_cb cb, void *userdata);

/* Hooks vm.c calls for a VM that takes part in a job; the QMP events go to its backend
 * (vm_backend_qemu.c), which calls the hooks below. The VM ended (its QEMU exited, its libvirt
 * domain stopped): how says so, for the job's result ("the source QEMU exited", "its QEMU
 * exited"). */
void migration_job_qmp_event(struct migration_job *j, const char *event, json_object *data);
void migration_job_vm_exited(struct migration_job *j, const char *how);
void migration_dest_qmp_event(struct dest_job *j, const char *event, json_object *data);
void migration_dest_vm_exited(struct dest_job *j, const char *how);

/* What a VM's backend (vm_backend.h) reports without being asked: the guest released the VF;
 * the outgoing copy's status changed ("active", "completed", "failed", "cancelled", ...); the
 * incoming copy completed. */
void migration_job_vf_removed(struct migration_job *j);
/* ... or it said the guest will not release it (libvirt's DEVICE_REMOVAL_FAILED). */
void migration_job_vf_removal_failed(struct migration_job *j);
void migration_job_migrate_status(struct migration_job *j, const char *status);
void migration_dest_migrate_completed(struct dest_job *j);
