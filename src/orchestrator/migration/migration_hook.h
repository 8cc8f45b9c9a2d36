/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hook mode, for engines that migrate VMs by themselves (libvirt's `virsh migrate`, oVirt's
 * VDSM, OpenStack Nova, Proxmox): dmigrate does the passthrough part around the engine's copy
 * (docs/hooks.md), on the same phases, journals and backends as its own migrations.
 *
 *  - `detach VM` on the source: the source's phases up to unplug (migration_source.c in hook
 *    mode: this host's preflight checks, standby, did-off, unplug), journalled; the VF stays
 *    reserved for the VM, even once its QEMU has left this host, until it is attached
 *    elsewhere or the detach is undone.
 *  - `attach VM` on the host where the engine's migration left the VM: the destination's phases
 *    plug (a VF reserved and plugged), active, did-on, journalled (role "attach"), then commit:
 *    the source's kept VF is freed through the peer (peer-hook-release).
 *  - `detach --undo VM`, or `attach VM` on the source while the VM still runs there (the
 *    engine's migration failed): the detach undone, the kept VF plugged back.
 *
 * Every step is idempotent: a command run again does what is left and answers as the first run
 * did; a daemon restarted mid-way undoes a detach it had not finished, keeps a finished one,
 * and runs an attach again.
 */
#pragma once

#include <stdbool.h>

#include <json-c/json.h>

#include "daemon/daemon.h"
#include "host/vm.h"
#include "migration/migration_journal.h"

/* The outcomes of hook mode's results, beside a migration's (migration_outcome.h): the detach
 * done, the VM waiting for the engine; the attach done, the VM on this host's VF. */
#define HOOK_OUTCOME_DETACHED "detached"
#define HOOK_OUTCOME_ATTACHED "attached"

/* The pool owner that keeps a detached VM's VF: `VM@detached` (VM names have no '@'). */
#define HOOK_VF_OWNER_SUFFIX "@detached"

/* The control commands (proto/control_protocol.c). */
void daemon_cmd_detach(host_daemon *d, rpc_request *req, json_object *args);
void daemon_cmd_attach(host_daemon *d, rpc_request *req, json_object *args);
/* peer-hook-release: the VM was attached on the asking peer; free the VF kept for it here. */
void migration_hook_peer_release(host_daemon *d, rpc_request *req, json_object *args);

/* Whether vm_name is detached here (a finished detach's journal): it may not migrate. */
bool migration_hook_detached(host_daemon *d, const char *vm_name);
/* Move v's VF from v to its keeper (v no longer holds it, the pool still does), and back. */
int migration_hook_vf_to_owner(host_daemon *d, vm *v);
int migration_hook_vf_to_vm(host_daemon *d, vm *v, const char *vf);

/* A detached VM's journal after a restart: keep its VF again. false: not a finished detach. */
bool migration_hook_recover_parked(host_daemon *d, const migration_journal *jr);
/* Run again the attaches a previous daemon left in its journal. */
int migration_hook_recover(host_daemon *d);
