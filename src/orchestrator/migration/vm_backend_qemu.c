// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The QEMU backend (vm_backend.h): a VM that dmigrated started itself, driven over its QMP
 * monitor. An operation is a short sequence of QMP commands, sent one after the other; the
 * first refusal ends it. QEMU's events (DEVICE_DELETED, MIGRATION), which vm.c hands to the
 * VM's job, are turned here into the job's backend-neutral hooks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "migration/migration_job.h"
#include "migration/vm_backend.h"
#include "host/qemu_argv.h"
#include "host/qemu_tls.h"

#define QMP_TIMEOUT_MS 10000
#define UNLIMITED_BANDWIDTH_MIBPS 100000ULL
/* At most this many QMP commands in one operation. */
#define QEMU_OP_MAX_COMMANDS 3

/* What a command's "Duplicate ID" refusal means: an error, nothing (it is there already, as
 * wanted), or -EEXIST (the caller wants to know it never left). */
enum { DUP_FAILS, DUP_IGNORED, DUP_EXISTS };

typedef struct qemu_command {
	const char *name;
	json_object *args;
	uint64_t timeout_ms;
	int duplicate;
} qemu_command;

typedef struct qemu_op {
	vm *v;
	qemu_command cmds[QEMU_OP_MAX_COMMANDS];
	size_t n, next;
	vm_backend_cb cb;
	void *userdata;
} qemu_op;

static void qemu_op_free(qemu_op *op)
{
	for (size_t i = op->next; i < op->n; i++)
		json_object_put(op->cmds[i].args);
	free(op);
}

static int qemu_op_send(qemu_op *op);

static void qemu_op_on_reply(qmp_client *c, int error, json_object *ret, const char *cls,
			     const char *desc, void *userdata)
{
	qemu_op *op = userdata;
	const qemu_command *cmd = &op->cmds[op->next - 1];
	int r;

	if (error == -EREMOTEIO && desc && strstr(desc, "Duplicate")) {
		if (cmd->duplicate == DUP_IGNORED)
			error = 0;
		else if (cmd->duplicate == DUP_EXISTS)
			error = -EEXIST;
	}
	if (error < 0 || op->next == op->n) {
		op->cb(error, ret, desc, op->userdata);
		qemu_op_free(op);
		return;
	}
	r = qemu_op_send(op);
	if (r < 0) {
		op->cb(r, NULL, NULL, op->userdata);
		qemu_op_free(op);
	}
}

/* Send the next command; its args are consumed whatever happens. */
static int qemu_op_send(qemu_op *op)
{
	qmp_client *q = vm_qmp(op->v);
	qemu_command *cmd = &op->cmds[op->next++];

	if (!q) {
		json_object_put(cmd->args);
		return -ENOTCONN;
	}
	return qmp_client_execute(q, cmd->name, cmd->args, cmd->timeout_ms, qemu_op_on_reply, op);
}

static qemu_op *qemu_op_new(vm *v, vm_backend_cb cb, void *userdata)
{
	qemu_op *op = calloc(1, sizeof(*op));

	if (op)
		*op = (qemu_op){ .v = v, .cb = cb, .userdata = userdata };
	return op;
}

/* Add a command (args: one reference taken, also on failure); false when out of memory. */
static bool qemu_op_add(qemu_op *op, const char *name, json_object *args, uint64_t timeout_ms,
			int duplicate, bool args_needed)
{
	if (!op || (args_needed && !args)) {
		json_object_put(args);
		return false;
	}
	op->cmds[op->n++] = (qemu_command){ name, args, timeout_ms, duplicate };
	return true;
}

/* Send the first command; on failure the operation is freed and cb never runs. */
static int qemu_op_start(qemu_op *op, bool ok)
{
	int r;

	if (!op)
		return -ENOMEM;
	r = ok ? qemu_op_send(op) : -ENOMEM;
	if (r < 0)
		qemu_op_free(op);
	return r;
}

static int qemu_one(vm *v, const char *name, json_object *args, vm_backend_cb cb, void *userdata)
{
	qemu_op *op = qemu_op_new(v, cb, userdata);

	return qemu_op_start(op, qemu_op_add(op, name, args, QMP_TIMEOUT_MS, DUP_FAILS, false));
}

static int qemu_query_status(vm *v, vm_backend_cb cb, void *userdata)
{
	return qemu_one(v, "query-status", NULL, cb, userdata);
}

static int qemu_vf_unplug(vm *v, vm_backend_cb cb, void *userdata)
{
	return qemu_one(v, "device_del", qmp_args_new("id", QEMU_ID_VF, NULL), cb, userdata);
}

static int qemu_vf_unplug_finish(vm *v, vm_backend_cb cb, void *userdata)
{
	qemu_op *op;

	/* Only the emulated VF has a netdev of its own. */
	if (vm_get_spec(v)->passthrough != VM_PASSTHROUGH_EMULATED)
		return 1;
	op = qemu_op_new(v, cb, userdata);
	return qemu_op_start(op, qemu_op_add(op, "netdev_del",
					     qmp_args_new("id", QEMU_ID_VF_NETDEV, NULL),
					     QMP_TIMEOUT_MS, DUP_FAILS, true));
}

static int qemu_vf_plug(vm *v, vm_backend_cb cb, void *userdata)
{
	json_object *netdev = NULL, *device = NULL;
	qemu_op *op;
	bool ok = true;
	int r;

	r = qemu_vf_plug_args(vm_get_spec(v), vm_get_vf(v), &netdev, &device);
	if (r < 0)
		return r;
	op = qemu_op_new(v, cb, userdata);
	/* A netdev still there from before is the one we want; a device still there never left. */
	if (netdev)
		ok = qemu_op_add(op, "netdev_add", netdev, QMP_TIMEOUT_MS, DUP_IGNORED, true);
	ok = qemu_op_add(op, "device_add", device, QEMU_VF_PLUG_TIMEOUT_MS, DUP_EXISTS, true) && ok;
	return qemu_op_start(op, ok);
}

static json_object *capability(const char *name, bool on)
{
	json_object *o = json_object_new_object();

	if (o) {
		json_object_object_add(o, "capability", json_object_new_string(name));
		json_object_object_add(o, "state", json_object_new_boolean(on));
	}
	return o;
}

static json_object *capabilities(const char *const *names, const bool *on, size_t n)
{
	json_object *caps = json_object_new_array(), *args = json_object_new_object();

	if (!caps || !args) {
		json_object_put(caps);
		json_object_put(args);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		json_object_array_add(caps, capability(names[i], on[i]));
	json_object_object_add(args, "capabilities", caps);
	return args;
}

static int qemu_migrate_start(vm *v, const peer_config *peer, const char *uri,
			      const migration_settings *s, vm_backend_cb cb, void *userdata)
{
	static const char *const names[] = { "events", "auto-converge", "xbzrle", "multifd" };
	const bool on[] = { true, s->auto_converge, s->xbzrle, s->multifd_channels > 0 };
	qemu_op *op = qemu_op_new(v, cb, userdata);
	json_object *params = json_object_new_object();
	bool ok;

	ok = qemu_op_add(op, "migrate-set-capabilities", capabilities(names, on, ELEMENTSOF(names)),
			 QMP_TIMEOUT_MS, DUP_FAILS, true);
	if (params) {
		json_object_object_add(params, "downtime-limit",
				       json_object_new_uint64(s->downtime_limit_ms));
		/* 0 means no limit: QEMU's own default (32 MiB/s) would make every migration slow. */
		json_object_object_add(params, "max-bandwidth",
				       json_object_new_uint64((s->max_bandwidth_mibps ?
								       s->max_bandwidth_mibps :
								       UNLIMITED_BANDWIDTH_MIBPS)
							      << 20));
		if (s->multifd_channels)
			json_object_object_add(params, "multifd-channels",
					       json_object_new_uint64(s->multifd_channels));
		/*
		 * The destination's certificate must come from our CA and name the peer. Without
		 * TLS, none: a QEMU that came in over TLS holds the server's credentials as its
		 * migration's (qemu_argv_add_tls()), useless for leaving.
		 */
		json_object_object_add(params, "tls-creds",
				       json_object_new_string(s->tls_hostname ? QEMU_TLS_CLIENT_ID :
										""));
		if (s->tls_hostname)
			json_object_object_add(params, "tls-hostname",
					       json_object_new_string(s->tls_hostname));
	}
	ok = qemu_op_add(op, "migrate-set-parameters", params, QMP_TIMEOUT_MS, DUP_FAILS, true) &&
	     ok;
	ok = qemu_op_add(op, "migrate", qmp_args_new("uri", uri, NULL), QMP_TIMEOUT_MS, DUP_FAILS,
			 true) && ok;
	return qemu_op_start(op, ok);
}

static int qemu_migrate_set_bandwidth(vm *v, uint64_t mibps, vm_backend_cb cb, void *userdata)
{
	json_object *args = json_object_new_object();

	if (args)
		json_object_object_add(args, "max-bandwidth", json_object_new_uint64(mibps << 20));
	return qemu_one(v, "migrate-set-parameters", args, cb, userdata);
}

static int qemu_migrate_query(vm *v, vm_backend_cb cb, void *userdata)
{
	return qemu_one(v, "query-migrate", NULL, cb, userdata);
}

static int qemu_migrate_cancel(vm *v, vm_backend_cb cb, void *userdata)
{
	return qemu_one(v, "migrate_cancel", NULL, cb, userdata);
}

static int qemu_resume(vm *v, vm_backend_cb cb, void *userdata)
{
	return qemu_one(v, "cont", NULL, cb, userdata);
}

static int qemu_incoming_start(vm *v, vm_done_cb done, void *userdata)
{
	return vm_start_qemu(v, QEMU_ARGV_NO_VF | QEMU_ARGV_VF_NETDEV | QEMU_ARGV_INCOMING, done,
			     userdata);
}

static int qemu_incoming_listen(vm *v, const char *uri, bool multifd, vm_backend_cb cb,
				void *userdata)
{
	/* multifd must be on at both ends; events tell us the copy completed. */
	static const char *const names[] = { "multifd", "events" };
	const bool on[] = { multifd, true };
	qemu_op *op = qemu_op_new(v, cb, userdata);
	bool ok;

	ok = qemu_op_add(op, "migrate-set-capabilities", capabilities(names, on, ELEMENTSOF(names)),
			 QMP_TIMEOUT_MS, DUP_FAILS, true);
	ok = qemu_op_add(op, "migrate-incoming", qmp_args_new("uri", uri, NULL), QMP_TIMEOUT_MS,
			 DUP_FAILS, true) && ok;
	ok = qemu_op_add(op, "query-migrate", NULL, QMP_TIMEOUT_MS, DUP_FAILS, false) && ok;
	return qemu_op_start(op, ok);
}

static int qemu_announce(vm *v, vm_backend_cb cb, void *userdata)
{
	json_object *args = json_object_new_object();

	if (!args)
		return -ENOMEM;
	json_object_object_add(args, "initial", json_object_new_int(50));
	json_object_object_add(args, "max", json_object_new_int(550));
	json_object_object_add(args, "rounds", json_object_new_int(5));
	json_object_object_add(args, "step", json_object_new_int(100));
	return qemu_one(v, "announce-self", args, cb, userdata);
}

static bool qemu_arrived(const vm *v)
{
	/* The registry forgets a VM whose QEMU it does not find running (vm.c). */
	return vm_get_pid(v) > 0;
}

const vm_backend vm_backend_qemu = {
	.name = "QEMU",
	.query_status = qemu_query_status,
	.vf_unplug = qemu_vf_unplug,
	.vf_unplug_finish = qemu_vf_unplug_finish,
	.vf_plug = qemu_vf_plug,
	.migrate_start = qemu_migrate_start,
	.migrate_query = qemu_migrate_query,
	.migrate_set_bandwidth = qemu_migrate_set_bandwidth,
	.migrate_cancel = qemu_migrate_cancel,
	.resume = qemu_resume,
	.incoming_start = qemu_incoming_start,
	.incoming_listen = qemu_incoming_listen,
	.announce = qemu_announce,
	.arrived = qemu_arrived,
	.stop = vm_stop_qemu,
};

/* --- QEMU's events, as the jobs' hooks (vm.c hands them over) --- */

void migration_job_qmp_event(struct migration_job *j, const char *event, json_object *data)
{
	json_object *o;

	if (!strcmp(event, "MIGRATION") && json_object_object_get_ex(data, "status", &o) &&
	    json_object_is_type(o, json_type_string)) {
		migration_job_migrate_status(j, json_object_get_string(o));
		return;
	}
	if (!strcmp(event, "DEVICE_DELETED") && json_object_object_get_ex(data, "device", &o) &&
	    !strcmp(json_object_get_string(o), QEMU_ID_VF))
		migration_job_vf_removed(j);
}

void migration_dest_qmp_event(struct dest_job *j, const char *event, json_object *data)
{
	json_object *status;

	if (!strcmp(event, "MIGRATION") && json_object_object_get_ex(data, "status", &status) &&
	    !strcmp(json_object_get_string(status), "completed"))
		migration_dest_migrate_completed(j);
}
