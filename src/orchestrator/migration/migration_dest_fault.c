// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `peer-fault`: the destination's half of a drill's injected fault (migration_fault.h). The
 * source daemon sends it when its job enters the fault's phase and the fault lives here: the
 * incoming QEMU, the guest agent once the VM runs here, the plugged VF's link.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control_protocol.h"
#include "log.h"
#include "migration/migration_fault.h"
#include "migration/migration_job.h"
#include "host/qemu_argv.h"
#include "host/vf_steering.h"

#define FAULT_QMP_TIMEOUT_MS 10000

/* The VF's link comes back up after the fault's duration, whatever became of the request. */
typedef struct link_restore {
	host_daemon *d;
	char *vm;
	uv_timer_t timer;
} link_restore;

static void link_restore_free(uv_handle_t *h)
{
	link_restore *lr = h->data;

	free(lr->vm);
	free(lr);
}

static void link_restore_on_reply(qmp_client *c, int error, json_object *ret, const char *cls,
				  const char *desc, void *userdata)
{
	if (error < 0)
		log_warning("Fault vf-link-down: cannot bring the VF's link up again: %s",
			    desc ? desc : strerror(-error));
}

static void link_restore_fire(uv_timer_t *t)
{
	link_restore *lr = t->data;
	vm *v = vm_find(lr->d, lr->vm);
	qmp_client *q = v ? vm_qmp(v) : NULL;
	const char *message;
	int r;

	if (v && vm_get_spec(v)->passthrough == VM_PASSTHROUGH_VFIO && vm_get_vf(v)) {
		r = vf_steering_link(v, false, &message);
		if (r < 0)
			log_warning_errno(
				r,
				"Fault vf-link-down: cannot give VF %s its link back through its PF: %s: %m",
				vm_get_vf(v), message);
		else
			log_info(
				"%s: fault vf-link-down over: VF %s has its pool's link state again",
				lr->vm, vm_get_vf(v));
	} else if (q) {
		log_info("%s: fault vf-link-down over: VF link up again", lr->vm);
		json_object *args = qmp_args_new("name", QEMU_ID_VF, NULL);

		json_object_object_add(args, "up", json_object_new_boolean(true));
		(void)qmp_client_execute(q, "set_link", args, FAULT_QMP_TIMEOUT_MS,
					 link_restore_on_reply, NULL);
	}
	uv_close((uv_handle_t *)&lr->timer, link_restore_free);
}

typedef struct fault_op {
	host_daemon *d;
	char *vm;
	migration_fault fault;
	migration_dest_fault_cb cb;
	void *userdata;
} fault_op;

static void fault_op_done(fault_op *op, int error, const char *message)
{
	if (error < 0)
		log_warning("%s: fault %s not injected: %s", op->vm,
			    migration_fault_name(op->fault.kind), message);
	else
		log_info("%s: fault %s injected", op->vm, migration_fault_name(op->fault.kind));
	op->cb(error, error < 0 ? message : NULL, op->userdata);
	free(op->vm);
	free(op);
}

static void fault_on_agent(agent_client *c, int error, json_object *ret, const char *code,
			   const char *message, void *userdata)
{
	fault_op *op = userdata;

	fault_op_done(op, error, message ? message : strerror(-error));
}

/* The link comes back after the fault's duration. */
static void link_restore_schedule(fault_op *op)
{
	link_restore *lr = calloc(1, sizeof(*lr));

	if (!lr || !(lr->vm = strdup(op->vm))) {
		free(lr);
		log_error("%s: out of memory: the VF's link stays down until it is set up by hand",
			  op->vm);
		return;
	}
	lr->d = op->d;
	uv_timer_init(op->d->loop, &lr->timer);
	lr->timer.data = lr;
	uv_timer_start(&lr->timer, link_restore_fire, op->fault.duration_ms, 0);
}

static void fault_on_set_link(qmp_client *c, int error, json_object *ret, const char *cls,
			      const char *desc, void *userdata)
{
	fault_op *op = userdata;

	if (error >= 0)
		link_restore_schedule(op);
	fault_op_done(op, error, desc ? desc : strerror(-error));
}

/* A vfio VF's link is held down by its PF, as `ip link set PF vf N state disable` does. */
static void fault_vf_link_down_pf(fault_op *op, vm *v)
{
	char message[256];
	const char *why;
	int r;

	r = vf_steering_link(v, true, &why);
	if (r < 0) {
		snprintf(message, sizeof(message),
			 "the PF of VF %s cannot hold its link down (IFLA_VF_LINK_STATE: %s): %s",
			 vm_get_vf(v), strerror(-r), why);
		fault_op_done(op, r, message);
		return;
	}
	link_restore_schedule(op);
	fault_op_done(op, 0, NULL);
}

/* Tell the agent of the VM here to crash or stall itself (dmigrate-agent --allow-faults). */
static int fault_agent(fault_op *op, vm *v)
{
	agent_client *a = vm_agent(v);
	json_object *args = json_object_new_object();

	if (!a) {
		json_object_put(args);
		return -ENOTCONN;
	}
	json_object_object_add(args, "kind", json_object_new_string(op->fault.kind == FAULT_KILL_AGENT ?
									     "crash" : "stall"));
	if (op->fault.duration_ms)
		json_object_object_add(args, "ms", json_object_new_uint64(op->fault.duration_ms));
	return agent_client_call(a, "fault", args, op->d->config->agent_timeout_ms, fault_on_agent,
				 op);
}

int migration_dest_fault_inject(host_daemon *d, const char *vm_name, const migration_fault *f,
				migration_dest_fault_cb cb, void *userdata)
{
	fault_op *op = calloc(1, sizeof(*op));
	vm *v;
	int r;

	if (!op || !(op->vm = strdup(vm_name))) {
		free(op);
		return -ENOMEM;
	}
	op->d = d;
	op->fault = *f;
	op->cb = cb;
	op->userdata = userdata;
	if (f->kind == FAULT_KILL_DEST_DAEMON) {
		/* As a crash would: no reply, no cleanup; the journal on disk is all that is left. */
		log_warning("Fault kill-dest-daemon: %s kills itself (SIGKILL), as the drill asked",
			    d->config->name);
		migration_fault_kill_self();
	}
	v = vm_find(d, op->vm);
	if (!v) {
		fault_op_done(op, -ENOENT, "no such VM here");
		return 0;
	}
	switch (op->fault.kind) {
	case FAULT_KILL_DEST_QEMU:
		r = vm_signal_qemu(v, SIGKILL);
		fault_op_done(op, r < 0 ? -ESRCH : 0, "its QEMU is not running");
		return 0;
	case FAULT_KILL_AGENT:
	case FAULT_STALL_AGENT:
		r = fault_agent(op, v);
		if (r < 0)
			fault_op_done(op, r, "the guest agent cannot be reached");
		return 0;
	case FAULT_VF_LINK_DOWN: {
		qmp_client *q = vm_qmp(v);
		json_object *a;

		/* QEMU's link switch exists on emulated NICs only; a vfio VF's link is the PF's. */
		if (vm_get_spec(v)->passthrough == VM_PASSTHROUGH_VFIO && vm_get_vf(v)) {
			fault_vf_link_down_pf(op, v);
			return 0;
		}
		if (!q) {
			fault_op_done(op, -ENOTCONN, "cannot talk to QEMU");
			return 0;
		}
		a = qmp_args_new("name", QEMU_ID_VF, NULL);
		json_object_object_add(a, "up", json_object_new_boolean(false));
		r = qmp_client_execute(q, "set_link", a, FAULT_QMP_TIMEOUT_MS, fault_on_set_link, op);
		if (r < 0)
			fault_op_done(op, r, "cannot talk to QEMU");
		return 0;
	}
	default:
		fault_op_done(op, -EINVAL, "this fault is not injected by the destination");
		return 0;
	}
}

static void fault_request_done(int error, const char *message, void *userdata)
{
	rpc_request *req = userdata;

	if (error < 0)
		rpc_request_reply_error(req, CONTROL_ERR_FAILED, "%s", message);
	else
		rpc_request_reply(req, NULL);
}

void migration_dest_fault(host_daemon *d, rpc_request *req, json_object *args)
{
	_cleanup_free_ char *error = NULL;
	json_object *f = NULL;
	migration_fault fault;
	const char *name;
	int r;

	if (!d->config->fault_injection) {
		rpc_request_reply_error(req, CONTROL_ERR_INVALID,
					"%s does not inject faults: set fault_injection in %s (drills only)",
					d->config->name, d->config->path);
		return;
	}
	if (!args || !json_object_object_get_ex(args, "fault", &f) ||
	    migration_fault_from_json(f, &fault, &error) < 0) {
		rpc_request_reply_error(req, CONTROL_ERR_INVALID, "Bad fault: %s",
					error ?: "no fault");
		return;
	}
	name = daemon_arg_string(req, args, "vm");
	if (!name)
		return;
	r = migration_dest_fault_inject(d, name, &fault, fault_request_done, req);
	if (r < 0)
		rpc_request_reply_error(req, CONTROL_ERR_FAILED, "%s: %s", d->config->name,
					strerror(-r));
}
