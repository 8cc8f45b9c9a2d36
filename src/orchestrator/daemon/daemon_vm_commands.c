// SPDX-License-Identifier: GPL-2.0-or-later
/* The commands the CLI sends: list, status, start, stop, migrate (hello: daemon_control.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control_protocol.h"
#include "daemon/daemon.h"
#include "log.h"
#include "migration/migration_job.h"
#include "migration/vm_backend.h"
#include "transport/agent_reply_check.h"
#include "transport/rpc_conn.h"
#include "host/cpu_pinning.h"
#include "host/vf_steering.h"
#include "host/vm.h"
#ifdef HAVE_LIBVIRT
#include "libvirt/vm_backend_libvirt.h"
#endif

/* status asks the guest agent too, briefly: a stalled agent must not stall the answer. */
#define STATUS_AGENT_TIMEOUT_MS 2000

const char *daemon_arg_string(rpc_request *req, json_object *args, const char *key)
{
	json_object *v;

	if (!args || !json_object_object_get_ex(args, key, &v) ||
	    !json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0) {
		rpc_request_reply_error(req, CONTROL_ERR_INVALID,
					"Argument '%s' is missing or not a non-empty string", key);
		return NULL;
	}
	return json_object_get_string(v);
}

static vm *daemon_arg_vm(host_daemon *d, rpc_request *req, json_object *args)
{
	const char *name = daemon_arg_string(req, args, "vm");
	vm *v;

	if (!name)
		return NULL;
	v = vm_find(d, name);
	if (!v)
		rpc_request_reply_error(req, CONTROL_ERR_NOT_FOUND,
					"No VM named '%.64s' on %s; 'dmigrate list' shows the VMs here",
					name, d->config->name);
	return v;
}

void daemon_cmd_list(host_daemon *d, rpc_request *req, json_object *args)
{
	_cleanup_json_ json_object *ret = json_object_new_object(), *vms = json_object_new_array();

	for (vm *v = vm_first(d); vms && v; v = vm_next(v)) {
		json_object *summary = vm_summary(v);

		if (!summary || json_object_array_add(vms, summary) < 0) {
			json_object_put(summary);
			json_object_put(TAKE_PTR(vms));
		}
	}
	if (!ret || !vms || json_object_object_add(ret, "vms", TAKE_PTR(vms)) < 0) {
		rpc_request_reply_error(req, CONTROL_ERR_FAILED, "Out of memory");
		return;
	}
	rpc_request_reply(req, TAKE_PTR(ret));
}

/* What the guest says, for status: is its agent answering, and which slave carries traffic. */
typedef struct status_op {
	rpc_request *req;
	json_object *ret;
} status_op;

static void status_reply(status_op *op, json_object *guest)
{
	if (!op->ret || !guest || json_object_object_add(op->ret, "guest", guest) < 0) {
		json_object_put(guest);
		json_object_put(op->ret);
		rpc_request_reply_error(op->req, CONTROL_ERR_FAILED, "Out of memory");
	} else
		rpc_request_reply(op->req, op->ret);
	free(op);
}

static void status_on_bond(agent_client *c, int error, json_object *bond, const char *code,
			   const char *message, void *userdata)
{
	static const char *const keys[] = { "bond", "active", "active-role" };
	json_object *g = json_object_new_object(), *v;

	if (!g)
		return status_reply(userdata, NULL);
	json_object_object_add(g, "agent", json_object_new_string(error < 0 ? "not answering" :
									       "answering"));
	if (error < 0)
		json_object_object_add(g, "message",
				       json_object_new_string(message ?: strerror(-error)));
	else {
		for (size_t i = 0; i < ELEMENTSOF(keys); i++)
			if (json_object_object_get_ex(bond, keys[i], &v))
				json_object_object_add(g, keys[i], json_object_get(v));
		/* What preflight would refuse, said before anyone asks for a migration. */
		if (!agent_bond_slave_with_role(bond, "standby"))
			json_object_object_add(g, "problem", json_object_new_string(
				"the bond has no standby (virtio) slave: a migration would be refused (is the guest's standby interface configured and present?)"));
	}
	status_reply(userdata, g);
}

void daemon_cmd_status(host_daemon *d, rpc_request *req, json_object *args)
{
	vm *v = daemon_arg_vm(d, req, args);
	agent_client *agent;
	json_object *spec, *g;
	status_op *op;

	if (!v)
		return;
	op = calloc(1, sizeof(*op));
	if (!op) {
		rpc_request_reply_error(req, CONTROL_ERR_FAILED, "Out of memory");
		return;
	}
	op->req = req;
	op->ret = vm_summary(v);
	if (!op->ret)
		return status_reply(op, NULL);
	if (vm_spec_to_json(vm_get_spec(v), &spec) >= 0)
		json_object_object_add(op->ret, "spec", spec);
	json_object_object_add(op->ret, "vf_pool", vf_pool_to_json(d->pool));
	json_object_object_add(op->ret, "vf_pool_problems", vf_pool_problems_to_json(d->pool));
	agent = vm_get_status(v) == VM_RUNNING ? vm_agent(v) : NULL;
	if (agent && agent_client_call(agent, "bond-status", NULL, STATUS_AGENT_TIMEOUT_MS,
				       status_on_bond, op) >= 0)
		return;
	g = json_object_new_object();
	if (g)
		json_object_object_add(g, "agent", json_object_new_string("not connected"));
	status_reply(op, g);
}

static void daemon_on_started(vm *v, int error, const char *message, void *userdata)
{
	rpc_request *req = userdata;

	if (error < 0) {
		rpc_request_reply_error(req, CONTROL_ERR_FAILED, "%s",
					message ? message : "QEMU did not start");
		vm_forget(v);
		return;
	}
	log_info("Started VM '%s' (pid %d, VF %s)", vm_get_name(v), (int)vm_get_pid(v),
		 vm_get_vf(v) ? vm_get_vf(v) : "none");
	vm_cpus_pin(v);
	rpc_request_reply(req, vm_summary(v));
}

/*
 * A VM whose spec names a libvirt domain: libvirtd runs it already, so starting it means taking
 * it over (docs/libvirt.md), its VF out of this host's pool.
 */
static void daemon_adopt_domain(host_daemon *d, rpc_request *req, vm *v)
{
#ifdef HAVE_LIBVIRT
	char why[512];
	const char *vf, *pci;
	int r;

	r = virt_backend_adopt(v, why, sizeof(why));
	if (r < 0) {
		rpc_request_reply_error(req, CONTROL_ERR_FAILED,
					"Cannot take over libvirt domain '%s' as VM '%s': %s",
					vm_get_spec(v)->libvirt_domain, vm_get_name(v), why);
		vm_forget(v);
		return;
	}
	/* A passed-through VF is that device of the pool; an emulated one any free entry. */
	pci = virt_backend_vf_host_pci(v);
	r = pci ? vf_pool_claim(d->pool, pci, vm_get_name(v))
		: vf_pool_reserve(d->pool, vm_get_name(v), &vf);
	if (r < 0) {
		if (pci)
			rpc_request_reply_error(
				req, CONTROL_ERR_FAILED,
				"Domain '%s' holds VF %s, which is not a free passthrough device of %s (see 'passthrough' in %s)",
				vm_get_spec(v)->libvirt_domain, pci, d->config->name,
				d->config->path);
		else
			rpc_request_reply_error(
				req, CONTROL_ERR_FAILED,
				"No free passthrough device on %s for '%s' (%zu configured, all taken)",
				d->config->name, vm_get_name(v), d->config->n_vfs);
		vm_forget(v);
		return;
	}
	if (pci && (r = vf_steering_check_taken_over(v, pci, why, sizeof(why))) < 0) {
		rpc_request_reply_error(req, CONTROL_ERR_FAILED,
					"Cannot take over libvirt domain '%s' as VM '%s': %s",
					vm_get_spec(v)->libvirt_domain, vm_get_name(v), why);
		vf_pool_release(d->pool, pci, vm_get_name(v));
		vm_forget(v);
		return;
	}
	if (vm_hold_vf(v, pci ? pci : vf) < 0) {
		rpc_request_reply_error(req, CONTROL_ERR_FAILED, "Out of memory");
		vm_forget(v);
		return;
	}
	vm_set_status(v, VM_RUNNING);
	/* A domain an engine moved between detach and attach arrives without its VF device: the
	 * VF reserved here is plugged by `dmigrate attach` (docs/hooks.md). */
	vm_set_vf_plugged(v, !virt_backend_vf_unplugged(v));
	vm_save(v);
	log_info("Took over libvirt domain '%s' as VM '%s' (VF %s%s)", vm_get_spec(v)->libvirt_domain,
		 vm_get_name(v), vm_get_vf(v), vm_is_vf_plugged(v) ? "" : ", not plugged yet");
	rpc_request_reply(req, vm_summary(v));
#else
	rpc_request_reply_error(req, CONTROL_ERR_INVALID,
				"'%s' names libvirt domain '%s', but this dmigrated was built without libvirt (meson setup -Dlibvirt=enabled, with libvirt-dev and libxml2-dev)",
				vm_get_spec(v)->origin, vm_get_spec(v)->libvirt_domain);
	vm_forget(v);
#endif
}

void daemon_cmd_start(host_daemon *d, rpc_request *req, json_object *args)
{
	const char *path = daemon_arg_string(req, args, "spec");
	_cleanup_free_ char *error = NULL;
	json_object *adopt;
	const char *vf, *why;
	char reason[256];
	bool adopting;
	vm_spec *spec;
	vm *v;
	int r;

	if (!path)
		return;
	r = vm_spec_load(path, &spec, &error);
	if (r < 0) {
		rpc_request_reply_error(req, CONTROL_ERR_INVALID, "%s", error ? error : path);
		return;
	}
	/* Asked before vm_new(), which frees the spec it refuses. */
	if (vm_find(d, spec->name)) {
		rpc_request_reply_error(req, CONTROL_ERR_INVALID,
					"A VM named '%s' exists on %s already", spec->name,
					d->config->name);
		vm_spec_free(spec);
		return;
	}
	r = vm_new(d, spec, &v);
	if (r < 0)
		goto fail;
	if (vm_get_spec(v)->libvirt_domain) {
		daemon_adopt_domain(d, req, v);
		return;
	}
	if (vm_cpus_plan(v, true, reason, sizeof(reason)) < 0) {
		rpc_request_reply_error(req, CONTROL_ERR_INVALID, "Cannot start '%s' on %s: %s",
					vm_get_name(v), d->config->name, reason);
		vm_forget(v);
		return;
	}
	r = vf_pool_reserve(d->pool, vm_get_name(v), &vf);
	if (r == -ENOSPC) {
		rpc_request_reply_error(
			req, CONTROL_ERR_FAILED,
			"No free passthrough device on %s for '%s' (%zu configured, all taken)",
			d->config->name, vm_get_name(v), d->config->n_vfs);
		vm_forget(v);
		return;
	}
	if (r < 0)
		goto fail_vm;
	adopting = args && json_object_object_get_ex(args, "adopt", &adopt);
	r = vm_hold_vf(v, vf);
	if (r < 0)
		goto fail_vm;
	vm_set_vf_plugged(v, true);
	if (!adopting && (r = vf_steering_apply(v, VF_EVENT_PREPARE, &why)) < 0) {
		rpc_request_reply_error(req, CONTROL_ERR_FAILED,
					"Cannot set up VF %s for '%s': %s: %s", vm_get_vf(v),
					vm_get_name(v), why, strerror(-r));
		vm_forget(v);
		return;
	}
	if (adopting) {
		/* A QEMU started by someone else from this spec: take it over, VF included. */
		r = json_object_is_type(adopt, json_type_string) ?
			    vm_adopt_qemu(v, json_object_get_string(adopt)) : -EINVAL;
		if (r < 0) {
			rpc_request_reply_error(
				req, CONTROL_ERR_FAILED,
				"Cannot adopt '%s' from '%s': %s (is its QEMU running with "
				"its QMP socket there?)",
				vm_get_name(v), json_object_get_string(adopt), strerror(-r));
			vm_forget(v);
			return;
		}
		log_info("Adopted VM '%s' (pid %d, VF %s)", vm_get_name(v), (int)vm_get_pid(v),
			 vm_get_vf(v));
		vm_cpus_pin(v);
		rpc_request_reply(req, vm_summary(v));
		return;
	}
	r = vm_save(v);
	if (r < 0)
		goto fail_vm;
	r = vm_start_qemu(v, 0, daemon_on_started, req);
	if (r < 0)
		goto fail_vm;
	return;

fail_vm:
	vm_forget(v);
fail:
	rpc_request_reply_error(req, CONTROL_ERR_FAILED, "Failed to start '%s': %s", path,
				strerror(-r));
}

static void daemon_on_stopped(vm *v, int error, const char *message, void *userdata)
{
	rpc_request *req = userdata;

	log_info("Stopped VM '%s'", vm_get_name(v));
	vm_forget(v);
	rpc_request_reply(req, NULL);
}

void daemon_cmd_stop(host_daemon *d, rpc_request *req, json_object *args)
{
	vm *v = daemon_arg_vm(d, req, args);
	json_object *force;
	int r;

	if (!v)
		return;
	if (vm_get_job(v)) {
		rpc_request_reply_error(
			req, CONTROL_ERR_BUSY,
			"VM '%s' is being migrated; stop it when the migration ends",
			vm_get_name(v));
		return;
	}
	/* QEMU quits, or libvirt destroys the domain. */
	r = vm_backend_of(v)->stop(v, args && json_object_object_get_ex(args, "force", &force) &&
					      json_object_get_boolean(force),
				   daemon_on_stopped, req);
	if (r < 0)
		rpc_request_reply_error(req, CONTROL_ERR_FAILED, "Failed to stop '%s': %s",
					vm_get_name(v), strerror(-r));
}

void daemon_cmd_cancel(host_daemon *d, rpc_request *req, json_object *args)
{
	vm *v = daemon_arg_vm(d, req, args);
	const char *why = NULL;
	json_object *o;
	int r;

	if (!v)
		return;
	r = migration_source_cancel(v, &why);
	if (r == -ENOENT) {
		rpc_request_reply_error(req, CONTROL_ERR_INVALID, "Cannot cancel '%s': %s",
					vm_get_name(v), why);
		return;
	}
	if (r < 0) {
		rpc_request_reply_error(req, CONTROL_ERR_FAILED, "Cannot cancel '%s': %s",
					vm_get_name(v), why);
		return;
	}
	/* The migrate request that started the job gets the outcome: rolled back. */
	o = json_object_new_object();
	if (o) {
		json_object_object_add(o, "vm", json_object_new_string(vm_get_name(v)));
		json_object_object_add(o, "state", json_object_new_string("cancelling"));
	}
	/* Out of memory the cancel still runs; its reply is then {} */
	rpc_request_reply(req, o);
}

void daemon_cmd_migrate(host_daemon *d, rpc_request *req, json_object *args)
{
	_cleanup_free_ char *error = NULL;
	migration_fault fault = { FAULT_NONE };
	const char *to;
	json_object *settings = NULL, *f;
	vm *v = daemon_arg_vm(d, req, args);
	int r;

	if (!v || !(to = daemon_arg_string(req, args, "to")))
		return;
	if (vm_get_job(v)) {
		rpc_request_reply_error(req, CONTROL_ERR_BUSY, "VM '%s' is being migrated already",
					vm_get_name(v));
		return;
	}
	if (!strcmp(to, d->config->name)) {
		rpc_request_reply_error(req, CONTROL_ERR_INVALID, "VM '%s' runs on %s already",
					vm_get_name(v), to);
		return;
	}
	if (!host_config_find_peer(d->config, to)) {
		rpc_request_reply_error(req, CONTROL_ERR_NOT_FOUND,
					"Unknown host '%.64s': it is not among the peers in %s", to,
					d->config->path);
		return;
	}
	if (args && json_object_object_get_ex(args, "fault", &f)) {
		if (!d->config->fault_injection) {
			rpc_request_reply_error(req, CONTROL_ERR_INVALID,
						"%s does not inject faults: set fault_injection in %s (drills only)",
						d->config->name, d->config->path);
			return;
		}
		if (migration_fault_from_json(f, &fault, &error) < 0) {
			rpc_request_reply_error(req, CONTROL_ERR_INVALID, "Bad fault: %s", error);
			return;
		}
	}
	if (args)
		json_object_object_get_ex(args, "settings", &settings);
	r = migration_source_start(v, to, settings, fault.kind != FAULT_NONE ? &fault : NULL, req);
	if (r < 0)
		log_debug_errno(r, "Migration of '%s' did not start: %m", vm_get_name(v));
}
