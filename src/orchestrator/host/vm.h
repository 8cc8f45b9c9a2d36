/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The VMs a daemon runs: the registry, each VM's QEMU process, and its QMP and agent links.
 *
 * QEMU runs daemonized in its own session, so VMs outlive a daemon restart; the record in
 * STATE_DIR/vms/NAME.json lets the next daemon find them again. The daemon notices a QEMU exit
 * through a pidfd on its loop, without polling.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "transport/agent_client.h"
#include "daemon/daemon.h"
#include "transport/qmp_client.h"
#include "host/cpumap.h"
#include "host/vm_spec.h"

struct migration_job;
struct dest_job;

typedef void (*vm_done_cb)(vm *v, int error, const char *message, void *userdata);

/* QEMU's run state as this daemon last saw it (its events, and what we asked of it). */
typedef enum vm_status {
	VM_SHUTOFF,
	VM_STARTING,
	VM_INMIGRATE, /* started with -incoming, waiting for the stream */
	VM_RUNNING,
	VM_PAUSED,
	VM_SHUTDOWN,
	_VM_STATUS_MAX,
} vm_status;

/* "shutoff", "starting", "inmigrate", "running", "paused", "shutdown": `status`'s .state. */
const char *vm_status_name(vm_status s);

vm *vm_find(host_daemon *d, const char *name);
/* Create and register a VM record (not started). Takes ownership of spec. */
int vm_new(host_daemon *d, vm_spec *spec, vm **ret);
/* Forget a VM: stop watching, close links, remove its record and release its VF. */
void vm_forget(vm *v);
int vm_save(vm *v);
/* Record that v holds the passthrough device vf (reserved in the pool by the caller); a vfio
 * spec's host address becomes vf. -ENOMEM leaves v as it was and gives vf back to the pool. */
int vm_hold_vf(vm *v, const char *vf);
/* Load every record from STATE_DIR/vms and reattach to the QEMUs still running. */
int vm_registry_load(host_daemon *d);

/*
 * Start QEMU for v (flags: qemu_argv_flags). done runs when QEMU is up and its QMP socket
 * exists, or with the reason it failed (QEMU's own last words included).
 */
int vm_start_qemu(vm *v, unsigned flags, vm_done_cb done, void *userdata);
/*
 * Take over a QEMU that runs already, started from v's spec with its sockets in run_dir (as
 * qemu_argv_build() lays them out): its pid comes from the QMP socket's peer credentials.
 */
int vm_adopt_qemu(vm *v, const char *run_dir);
/* Ask QEMU to quit (or SIGKILL it if force); done runs once the process is gone. */
int vm_stop_qemu(vm *v, bool force, vm_done_cb done, void *userdata);

/* The VM's QMP client, connected on first use. */
qmp_client *vm_qmp(vm *v);
/* The VM's agent client, connected on first use. */
agent_client *vm_agent(vm *v);
/* Drop the agent link (e.g. after the VM moved): the next vm_agent() reconnects. */
void vm_agent_reset(vm *v);

json_object *vm_summary(vm *v);

/*
 * A VM's state is the registry's: others read it through these and change it through the
 * setters below, so that what vm_save() records is what the registry holds.
 */
/* The registry's VMs, in no particular order: for (vm *v = vm_first(d); v; v = vm_next(v)). */
vm *vm_first(host_daemon *d);
vm *vm_next(const vm *v);
host_daemon *vm_get_daemon(const vm *v);
const char *vm_get_name(const vm *v);
/* The VM's spec; the VM owns it (a backend that learns the VM's MAC, VF or memory may fill it
 * in). */
vm_spec *vm_get_spec(const vm *v);
/* Where its QEMU's sockets are (its run directory). */
const char *vm_get_run_dir(const vm *v);
/* Its QEMU's pid, 0 while not running. */
pid_t vm_get_pid(const vm *v);
vm_status vm_get_status(const vm *v);
/* The passthrough device it holds (from the pool), or NULL. */
const char *vm_get_vf(const vm *v);
bool vm_is_vf_plugged(const vm *v);
/* This host is the destination of an unfinished migration of it. */
bool vm_is_incoming(const vm *v);
/* The host CPUs its vCPUs own here (host/cpu_pinning.h), or NULL. */
const cpumap *vm_get_pinned(const vm *v);
/* The migration it takes part in as its source, or NULL. */
struct migration_job *vm_get_job(const vm *v);
/* ... or as its destination. */
struct dest_job *vm_get_incoming_job(const vm *v);

/* What QEMU's run state is now, as the caller just made it (a resume, a start). */
void vm_set_status(vm *v, vm_status status);
void vm_set_vf_plugged(vm *v, bool plugged);
void vm_set_incoming(vm *v, bool incoming);
/* Takes ownership of pinned (NULL: not pinned). */
void vm_set_pinned(vm *v, cpumap *pinned);
void vm_set_job(vm *v, struct migration_job *job);
void vm_set_incoming_job(vm *v, struct dest_job *job);
/* The process that runs the VM, as when adopted (a unit test stands a process in for QEMU). */
void vm_set_pid(vm *v, pid_t pid);
/* v no longer holds its VF, which the caller gave to another owner in the pool: unplugged. */
void vm_drop_vf(vm *v);
/* Send sig to its QEMU through the pidfd the daemon watches; -ESRCH if it runs none. */
int vm_signal_qemu(vm *v, int sig);
/* Open the VM's agent link on fd, connected already, as vm_agent() opens its socket (a unit
 * test's scripted agent over a socketpair). */
int vm_agent_open_fd(vm *v, int fd);
