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
#include <uv.h>

#include "transport/agent_client.h"
#include "daemon/daemon.h"
#include "transport/qmp_client.h"
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

struct vm {
	host_daemon *daemon;
	char *name;
	vm_spec *spec;
	char *run_dir;
	pid_t pid;      /* 0 while not running */
	char *vf;       /* the passthrough device it holds (from the pool), or NULL */
	cpumap *pinned; /* the host CPUs its vCPUs own here (host/cpu_pinning.h), or NULL */
	bool vf_plugged;
	bool incoming;  /* this host is the destination of an unfinished migration */
	vm_status status; /* set through vm_set_status() */
	qmp_client *qmp;
	agent_client *agent;
	struct migration_job *job; /* the migration this VM takes part in as its source, if any */
	struct dest_job *incoming_job; /* ... or as its destination */
	/* Who hears the guest agent's events (vf-added, link-up, ...) now: vm_agent_listen().
	 * "ready" (data NULL): the agent (re)connected, and may have missed what happened. */
	void (*agent_event)(vm *v, const char *event, json_object *data, void *userdata);
	void *agent_event_userdata;

	int pidfd;
	uv_poll_t *pid_watch;
	vm_done_cb stop_done; /* a stop in progress */
	void *stop_userdata;
	uv_timer_t *stop_timer;
	struct vm *next;
};


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
/* Hear the agent's events until called again with NULL (one listener at a time). */
void vm_agent_listen(vm *v,
		     void (*cb)(vm *v, const char *event, json_object *data, void *userdata),
		     void *userdata);
/* Drop the agent link (e.g. after the VM moved): the next vm_agent() reconnects. */
void vm_agent_reset(vm *v);

json_object *vm_summary(vm *v);
/* What QEMU's run state is now, as the caller just made it (a resume, a start). */
void vm_set_status(vm *v, vm_status status);
