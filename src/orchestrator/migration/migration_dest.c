// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The destination half of a migration: the peer-* commands the source daemon sends. Each runs a
 * short chain of QMP and agent calls for one VM and answers once. They are idempotent where the
 * recovery of an interrupted migration may send them again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control_protocol.h"
#include "log.h"
#include "migration/migration_fault.h"
#include "migration/migration_job.h"
#include "host/qemu_argv.h"
#include "migration/vf_activate.h"

#define DEST_QMP_TIMEOUT_MS 10000
#define DEST_AGENT_TIMEOUT_MS 5000
#define DEST_RUNNING_TIMEOUT_MS 30000
#define DEST_POLL_MS 50
/* An error code of our own: the incoming QEMU is gone, so the source may resume safely. */
#define DEST_ERR_NOT_RUNNING "not-running"

typedef struct dest_op {
	host_daemon *d;
	char *vm;
	rpc_request *req;
	int step;
	uint64_t waited_ms;
	uv_timer_t *timer;
	bool multifd; /* peer-prepare: the source migrates with multifd, so must we */
	json_object *result;
	bool (*run)(struct dest_op *op); /* start the current step; false when done */
} dest_op;

static void dest_op_timer_free(uv_handle_t *h)
{
	free(h);
}

static void dest_op_free(dest_op *op)
{
	if (op->timer)
		uv_close((uv_handle_t *)op->timer, dest_op_timer_free);
	json_object_put(op->result);
	free(op->vm);
	free(op);
}

static void dest_op_fail(dest_op *op, const char *code, const char *fmt, ...) _printf_(3, 4);
static void dest_op_fail(dest_op *op, const char *code, const char *fmt, ...)
{
	_cleanup_free_ char *message = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&message, fmt, ap) < 0)
		message = NULL;
	va_end(ap);
	log_warning("%s: %s", op->vm, message ? message : code);
	rpc_request_reply_error(op->req, code, "%s", message ? message : code);
	dest_op_free(op);
}

static void dest_op_next(dest_op *op)
{
	op->step++;
	if (!op->run(op)) {
		rpc_request_reply(op->req, TAKE_PTR(op->result));
		dest_op_free(op);
	}
}

static vm *dest_op_vm(dest_op *op)
{
	vm *v = vm_find(op->d, op->vm);

	if (!v)
		dest_op_fail(op, CONTROL_ERR_NOT_FOUND, "No VM named '%s' on %s", op->vm,
			     op->d->config->name);
	return v;
}

static void dest_on_qmp(qmp_client *c, int error, json_object *ret, const char *cls,
			const char *desc, void *userdata)
{
	dest_op *op = userdata;

	/* "Duplicate ID": a repeated plug finds the VF in place already. */
	if (error < 0 && !(error == -EREMOTEIO && desc && strstr(desc, "Duplicate"))) {
		dest_op_fail(op, CONTROL_ERR_FAILED, "QEMU: %s", desc ? desc : strerror(-error));
		return;
	}
	dest_op_next(op);
}

static bool dest_qmp(dest_op *op, const char *cmd, json_object *args, qmp_reply_cb cb)
{
	vm *v = dest_op_vm(op);
	qmp_client *q = v ? vm_qmp(v) : NULL;
	int r;

	if (!v)
		return true; /* dest_op_vm() answered and freed op: nothing more to do */
	if (!q) {
		json_object_put(args);
		dest_op_fail(op, DEST_ERR_NOT_RUNNING, "QEMU of '%s' is not running", op->vm);
		return true;
	}
	r = qmp_client_execute(q, cmd, args, DEST_QMP_TIMEOUT_MS, cb ? cb : dest_on_qmp, op);
	if (r < 0)
		dest_op_fail(op, CONTROL_ERR_FAILED, "Cannot send '%s' to QEMU: %s", cmd,
			     strerror(-r));
	return true;
}

static void dest_on_agent(agent_client *c, int error, json_object *ret, const char *code,
			  const char *message, void *userdata)
{
	dest_op *op = userdata;

	if (error < 0) {
		dest_op_fail(op, CONTROL_ERR_FAILED, "guest agent: %s",
			     message ? message : strerror(-error));
		return;
	}
	dest_op_next(op);
}

static bool dest_agent(dest_op *op, const char *cmd, json_object *args, uint64_t timeout,
		       agent_reply_cb cb)
{
	vm *v = dest_op_vm(op);
	agent_client *a = v ? vm_agent(v) : NULL;
	int r;

	if (!v)
		return true;
	if (!a) {
		json_object_put(args);
		dest_op_fail(op, CONTROL_ERR_FAILED, "Cannot reach the guest agent of '%s'", op->vm);
		return true;
	}
	r = agent_client_call(a, cmd, args, timeout, cb ? cb : dest_on_agent, op);
	if (r < 0)
		dest_op_fail(op, CONTROL_ERR_FAILED, "Cannot send '%s' to the guest agent: %s", cmd,
			     strerror(-r));
	return true;
}

static int dest_op_new(host_daemon *d, rpc_request *req, json_object *args, bool (*run)(dest_op *),
		       dest_op **ret)
{
	const char *name = daemon_arg_string(req, args, "vm");
	dest_op *op;

	if (!name)
		return -EINVAL;
	op = calloc(1, sizeof(*op));
	if (!op || !(op->vm = strdup(name))) {
		free(op);
		rpc_request_reply_error(req, CONTROL_ERR_FAILED, "Out of memory");
		return -ENOMEM;
	}
	op->d = d;
	op->req = req;
	op->run = run;
	op->step = -1;
	*ret = op;
	return 0;
}

/* Parse the spec the source sent. */
static int dest_parse_spec(dest_op *op, json_object *args, vm_spec **ret)
{
	_cleanup_free_ char *error = NULL;
	json_object *spec;
	const char *text;
	int r;

	if (!args || !json_object_object_get_ex(args, "spec", &spec) ||
	    !json_object_is_type(spec, json_type_object)) {
		dest_op_fail(op, CONTROL_ERR_INVALID, "No VM spec in the request");
		return -EINVAL;
	}
	text = json_object_to_json_string(spec);
	r = vm_spec_parse(text, strlen(text), "the source's spec", "/", ret, &error);
	if (r < 0) {
		dest_op_fail(op, CONTROL_ERR_INVALID, "%s", error ? error : "bad spec");
		return r;
	}
	if ((*ret)->boot == VM_BOOT_KERNEL && access((*ret)->kernel, R_OK) < 0) {
		dest_op_fail(op, CONTROL_ERR_FAILED, "%s cannot read the kernel '%s' the VM boots from",
			     op->d->config->name, (*ret)->kernel);
		vm_spec_free(*ret);
		return -ENOENT;
	}
	return 0;
}

/* --- peer-check --- */

/* A drill's no-free-vf: the source asks us to behave as if the pool were full. */
static bool dest_fault_no_free_vf(host_daemon *d, json_object *args)
{
	_cleanup_free_ char *error = NULL;
	migration_fault f;
	json_object *o;

	if (!d->config->fault_injection || !json_object_object_get_ex(args, "fault", &o) ||
	    migration_fault_from_json(o, &f, &error) < 0 || f.kind != FAULT_NO_FREE_VF)
		return false;
	log_info("Fault no-free-vf: answering as if every VF were taken");
	return true;
}

static void dest_check(host_daemon *d, rpc_request *req, json_object *args)
{
	vm_spec *spec;
	dest_op *op;

	if (dest_op_new(d, req, args, NULL, &op) < 0)
		return;
	if (vm_find(d, op->vm)) {
		dest_op_fail(op, CONTROL_ERR_INVALID, "%s runs a VM named '%s' already",
			     d->config->name, op->vm);
		return;
	}
	if (vf_pool_count_free(d->pool) == 0 || dest_fault_no_free_vf(d, args)) {
		dest_op_fail(op, CONTROL_ERR_FAILED, "%s has no free passthrough device (%zu configured)",
			     d->config->name, d->config->n_vfs);
		return;
	}
	if (dest_parse_spec(op, args, &spec) < 0)
		return;
	vm_spec_free(spec);
	op->result = json_object_new_object();
	json_object_object_add(op->result, "free_vfs",
			       json_object_new_uint64(vf_pool_count_free(d->pool)));
	rpc_request_reply(req, TAKE_PTR(op->result));
	dest_op_free(op);
}

/* --- peer-prepare: start the incoming QEMU without its VF --- */

static void prepare_on_query(qmp_client *c, int error, json_object *ret, const char *cls,
			     const char *desc, void *userdata)
{
	dest_op *op = userdata;
	json_object *addrs, *a, *port;
	char *uri;

	if (error < 0 || !json_object_object_get_ex(ret, "socket-address", &addrs) ||
	    !(a = json_object_array_get_idx(addrs, 0)) ||
	    !json_object_object_get_ex(a, "port", &port)) {
		dest_op_fail(op, CONTROL_ERR_FAILED, "QEMU did not say which port it listens on");
		return;
	}
	if (asprintf(&uri, "tcp:%s:%s", op->d->config->migration_address,
		     json_object_get_string(port)) < 0) {
		dest_op_fail(op, CONTROL_ERR_FAILED, "Out of memory");
		return;
	}
	json_object_object_add(op->result, "uri", json_object_new_string(uri));
	log_info("%s: incoming migration listens on %s", op->vm, uri);
	free(uri);
	dest_op_next(op);
}

static bool prepare_run(dest_op *op)
{
	json_object *args, *caps, *cap;
	char *uri;

	switch (op->step) {
	case 0:
		/* multifd must be on at both ends; everything else is the source's business. */
		caps = json_object_new_array();
		cap = json_object_new_object();
		json_object_object_add(cap, "capability", json_object_new_string("multifd"));
		json_object_object_add(cap, "state", json_object_new_boolean(op->multifd));
		json_object_array_add(caps, cap);
		args = json_object_new_object();
		json_object_object_add(args, "capabilities", caps);
		return dest_qmp(op, "migrate-set-capabilities", args, NULL);
	case 1:
		if (asprintf(&uri, "tcp:%s:0", op->d->config->migration_address) < 0)
			return dest_op_fail(op, CONTROL_ERR_FAILED, "Out of memory"), true;
		args = qmp_args_new("uri", uri, NULL);
		free(uri);
		return dest_qmp(op, "migrate-incoming", args, NULL);
	case 2:
		return dest_qmp(op, "query-migrate", NULL, prepare_on_query);
	}
	return false;
}

static void prepare_on_started(vm *v, int error, const char *message, void *userdata)
{
	dest_op *op = userdata;

	if (error < 0) {
		dest_op_fail(op, CONTROL_ERR_FAILED, "%s", message ? message : "QEMU did not start");
		vm_forget(v);
		return;
	}
	log_info("%s: incoming QEMU started (pid %d), VF %s reserved", op->vm, (int)v->pid, v->vf);
	dest_op_next(op);
}

static void dest_prepare(host_daemon *d, rpc_request *req, json_object *args)
{
	json_object *settings, *mf;
	const char *vf;
	vm_spec *spec;
	dest_op *op;
	vm *v;
	int r;

	if (dest_op_new(d, req, args, prepare_run, &op) < 0)
		return;
	if (vm_find(d, op->vm)) {
		dest_op_fail(op, CONTROL_ERR_INVALID, "%s runs a VM named '%s' already",
			     d->config->name, op->vm);
		return;
	}
	if (dest_parse_spec(op, args, &spec) < 0)
		return;
	r = vm_new(d, spec, &v);
	if (r < 0) {
		dest_op_fail(op, CONTROL_ERR_FAILED, "Cannot register '%s': %s", op->vm, strerror(-r));
		return;
	}
	r = vf_pool_reserve(d->pool, v->name, &vf);
	if (r < 0) {
		vm_forget(v);
		dest_op_fail(op, CONTROL_ERR_FAILED, "%s has no free passthrough device",
			     d->config->name);
		return;
	}
	v->vf = strdup(vf);
	if (v->spec->passthrough == VM_PASSTHROUGH_VFIO) {
		free(v->spec->vfio_host);
		v->spec->vfio_host = strdup(vf);
	}
	v->incoming = true;
	vm_save(v);

	op->result = json_object_new_object();
	json_object_object_add(op->result, "vf", json_object_new_string(vf));
	op->multifd = json_object_object_get_ex(args, "settings", &settings) &&
		      json_object_object_get_ex(settings, "multifd_channels", &mf) &&
		      json_object_get_int(mf) > 0;
	r = vm_start_qemu(v, QEMU_ARGV_NO_VF | QEMU_ARGV_INCOMING, prepare_on_started, op);
	if (r < 0) {
		vm_forget(v);
		dest_op_fail(op, CONTROL_ERR_FAILED, "Cannot start QEMU for '%s': %s", op->vm,
			     strerror(-r));
	}
}

/* --- peer-abort: only an incoming VM that never ran --- */

static void abort_on_stopped(vm *v, int error, const char *message, void *userdata)
{
	dest_op *op = userdata;

	log_info("%s: incoming VM aborted", op->vm);
	vm_forget(v);
	rpc_request_reply(op->req, NULL);
	dest_op_free(op);
}

static void dest_abort(host_daemon *d, rpc_request *req, json_object *args)
{
	dest_op *op;
	vm *v;

	if (dest_op_new(d, req, args, NULL, &op) < 0)
		return;
	v = vm_find(d, op->vm);
	if (!v) {
		/* Nothing (left) to abort: what a repeated abort finds. */
		rpc_request_reply(req, NULL);
		dest_op_free(op);
		return;
	}
	if (!v->incoming || !strcmp(v->status, "running")) {
		dest_op_fail(op, CONTROL_ERR_INVALID,
			     "'%s' runs on %s: refusing to abort a VM that is not an unfinished incoming migration",
			     op->vm, d->config->name);
		return;
	}
	if (vm_stop_qemu(v, true, abort_on_stopped, op) < 0)
		dest_op_fail(op, CONTROL_ERR_FAILED, "Cannot stop the incoming QEMU of '%s'", op->vm);
}

/* --- peer-switchover: wait for the VM to run here, then announce it --- */

static void switchover_poll(uv_timer_t *t);

static void switchover_give_up(vm *v, int error, const char *message, void *userdata)
{
	dest_op *op = userdata;

	vm_forget(v);
	dest_op_fail(op, DEST_ERR_NOT_RUNNING,
		     "'%s' did not start running on %s; its incoming QEMU was stopped", op->vm,
		     op->d->config->name);
}

static void switchover_on_status(qmp_client *c, int error, json_object *ret, const char *cls,
				 const char *desc, void *userdata)
{
	dest_op *op = userdata;
	json_object *status;
	vm *v;

	if (error == 0 && json_object_object_get_ex(ret, "status", &status) &&
	    !strcmp(json_object_get_string(status), "running")) {
		dest_op_next(op);
		return;
	}
	op->waited_ms += DEST_POLL_MS;
	if (error == 0 && op->waited_ms < DEST_RUNNING_TIMEOUT_MS) {
		uv_timer_start(op->timer, switchover_poll, DEST_POLL_MS, 0);
		return;
	}
	/* Make "not running" definitive before saying so: then the source may resume. */
	v = vm_find(op->d, op->vm);
	if (!v || vm_stop_qemu(v, true, switchover_give_up, op) < 0)
		dest_op_fail(op, DEST_ERR_NOT_RUNNING, "'%s' is not running on %s", op->vm,
			     op->d->config->name);
}

static void switchover_poll(uv_timer_t *t)
{
	dest_op *op = t->data;
	vm *v = vm_find(op->d, op->vm);
	qmp_client *q = v ? vm_qmp(v) : NULL;

	if (!q || qmp_client_execute(q, "query-status", NULL, DEST_QMP_TIMEOUT_MS,
				     switchover_on_status, op) < 0)
		dest_op_fail(op, DEST_ERR_NOT_RUNNING, "'%s' is not running on %s", op->vm,
			     op->d->config->name);
}

static bool switchover_run(dest_op *op)
{
	json_object *args;
	vm *v;

	switch (op->step) {
	case 0:
		op->timer = calloc(1, sizeof(*op->timer));
		uv_timer_init(op->d->loop, op->timer);
		op->timer->data = op;
		switchover_poll(op->timer);
		return true;
	case 1:
		/* Tell the switches where the VM's MAC lives now, before the guest says anything. */
		args = json_object_new_object();
		json_object_object_add(args, "initial", json_object_new_int(50));
		json_object_object_add(args, "max", json_object_new_int(550));
		json_object_object_add(args, "rounds", json_object_new_int(5));
		json_object_object_add(args, "step", json_object_new_int(100));
		return dest_qmp(op, "announce-self", args, NULL);
	case 2:
		v = vm_find(op->d, op->vm);
		if (v) {
			free(v->status);
			v->status = strdup("running");
			/* The agent link was made before the guest ran here: start afresh. */
			vm_agent_reset(v);
		}
		return false;
	}
	return false;
}

/* --- peer-plug, peer-activate, peer-did-on, peer-commit --- */

static bool plug_run(dest_op *op)
{
	json_object *netdev = NULL, *device = NULL;
	vm *v = dest_op_vm(op);

	if (!v)
		return true;
	if (op->step == 2) {
		v->vf_plugged = true;
		vm_save(v);
		return false;
	}
	if (qemu_vf_plug_args(v->spec, v->vf, &netdev, &device) < 0)
		return dest_op_fail(op, CONTROL_ERR_FAILED, "Cannot describe the VF"), true;
	if (op->step == 0) {
		vm_vf_mac(v, false);
		json_object_put(device);
		if (!netdev)
			return dest_op_next(op), true;
		return dest_qmp(op, "netdev_add", netdev, NULL);
	}
	json_object_put(netdev);
	return dest_qmp(op, "device_add", device, NULL);
}

static void activate_done(int error, const char *message, uint64_t device_wait_ms,
			  void *userdata)
{
	dest_op *op = userdata;

	if (error < 0) {
		dest_op_fail(op, CONTROL_ERR_FAILED, "%s", message);
		return;
	}
	op->result = json_object_new_object();
	json_object_object_add(op->result, "device_wait_ms", json_object_new_uint64(device_wait_ms));
	dest_op_next(op);
}

static bool activate_run(dest_op *op)
{
	int r;

	if (op->step > 0)
		return false;
	r = vf_activate_start(op->d, op->vm, activate_done, op);
	if (r < 0)
		dest_op_fail(op, CONTROL_ERR_FAILED, "Cannot activate the VF: %s", strerror(-r));
	return true;
}

static void did_on_reply(agent_client *c, int error, json_object *ret, const char *code,
			 const char *message, void *userdata)
{
	dest_op *op = userdata;

	if (error < 0 && !(code && !strcmp(code, "unavailable"))) {
		dest_op_fail(op, CONTROL_ERR_FAILED, "guest agent: %s",
			     message ? message : strerror(-error));
		return;
	}
	op->result = json_object_new_object();
	json_object_object_add(op->result, "skipped", json_object_new_boolean(error < 0));
	dest_op_next(op);
}

static bool did_on_run(dest_op *op)
{
	if (op->step > 0)
		return false;
	return dest_agent(op, "did-enable", NULL, DEST_AGENT_TIMEOUT_MS, did_on_reply);
}

static bool commit_run(dest_op *op)
{
	vm *v = dest_op_vm(op);

	if (!v)
		return true;
	v->incoming = false;
	vm_save(v);
	log_info("%s: migration committed; the VM is %s's now", op->vm, op->d->config->name);
	return false;
}

static void dest_chain(host_daemon *d, rpc_request *req, json_object *args, bool (*run)(dest_op *))
{
	dest_op *op;

	if (dest_op_new(d, req, args, run, &op) < 0)
		return;
	if (!vm_find(d, op->vm)) {
		dest_op_fail(op, CONTROL_ERR_NOT_FOUND, "No VM named '%s' on %s", op->vm,
			     d->config->name);
		return;
	}
	dest_op_next(op);
}

void migration_dest_handle(host_daemon *d, rpc_request *req, const char *cmd, json_object *args)
{
	static const struct {
		const char *name;
		bool (*run)(dest_op *op);
	} chains[] = {
		{ "peer-switchover", switchover_run },
		{ "peer-plug", plug_run },
		{ "peer-activate", activate_run },
		{ "peer-did-on", did_on_run },
		{ "peer-commit", commit_run },
	};

	if (!strcmp(cmd, "peer-check"))
		return dest_check(d, req, args);
	if (!strcmp(cmd, "peer-prepare"))
		return dest_prepare(d, req, args);
	if (!strcmp(cmd, "peer-abort"))
		return dest_abort(d, req, args);
	if (!strcmp(cmd, "peer-fault"))
		return migration_dest_fault(d, req, args);
	for (size_t i = 0; i < ELEMENTSOF(chains); i++)
		if (!strcmp(cmd, chains[i].name))
			return dest_chain(d, req, args, chains[i].run);
	rpc_request_reply_error(req, CONTROL_ERR_UNKNOWN_COMMAND, "Unknown command '%.64s'", cmd);
}
