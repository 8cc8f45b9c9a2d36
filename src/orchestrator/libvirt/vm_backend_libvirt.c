// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The libvirt backend (vm_backend_libvirt.h). A call copies what it needs (its own reference
 * on the domain, strings), runs its libvirt calls in a libuv worker, and reports on the loop.
 * The copy itself (virDomainMigrateToURI3) holds a worker for as long as it runs; its end is
 * reported to the VM's job like QEMU's MIGRATION event, and its figures are kept for
 * migrate_query.
 */
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "log.h"
#include "macro.h"
#include "migration/migration_job.h"
#include "libvirt/virt_connection.h"
#include "libvirt/virt_domain.h"
#include "libvirt/virt_job_stats.h"
#include "libvirt/virt_migrate_params.h"
#include "libvirt/vm_backend_libvirt.h"

/* A VM bound to its domain. Freed once unbound and no call holds it. */
typedef struct virt_vm {
	vm *v; /* NULL once unbound */
	virConnectPtr conn;
	virt_domain dom;
	bool persist;
	unsigned refs;
	int event_cb[4]; /* libvirt's ids of the callbacks bind registered (domain_events) */
	bool left; /* the domain stopped here while a call was in flight (domain_left()) */
	int left_detail; /* ... its VIR_DOMAIN_EVENT_STOPPED_* */
	bool ended; /* the domain stopped here: a stop has nothing to destroy */
	bool stopping; /* dmigrated destroys it: its stop's caller ends the VM */
	bool migrating;
	json_object *final_stats; /* the last copy's outcome and figures */
	json_object *completed_stats; /* the figures libvirt's JOB_COMPLETED event gave */
	struct virt_vm *next;
} virt_vm;

static virt_vm *bound;

static virt_vm *virt_vm_of(const vm *v)
{
	for (virt_vm *vv = bound; vv; vv = vv->next)
		if (vv->v == v)
			return vv;
	return NULL;
}

bool virt_backend_drives(const vm *v)
{
	return v && (virt_vm_of(v) || (vm_get_spec(v) && vm_get_spec(v)->libvirt_domain));
}

const char *virt_backend_agent_path(const vm *v)
{
	virt_vm *vv = virt_vm_of(v);

	return vv ? vv->dom.dev.agent_path : NULL;
}

const char *virt_backend_vf_host_pci(const vm *v)
{
	virt_vm *vv = virt_vm_of(v);

	return vv ? vv->dom.dev.vf_pci : NULL;
}

bool virt_backend_vf_unplugged(const vm *v)
{
	virt_vm *vv = virt_vm_of(v);

	return vv && vv->dom.dev.vf_unplugged;
}

/*
 * Keep the VF's element in the domain's metadata (domain_xml.h): it goes with the domain to a
 * destination, which plugs its own VF in its place. Called where libvirt may be slow (bind, a
 * worker). flags: live, and config for a persistent domain.
 */
static int keep_vf_in_metadata(virDomainPtr dom, const char *vf_xml, unsigned int flags,
			       char *err, size_t err_size)
{
	_cleanup_free_ char *meta = NULL;
	char why[256];

	if (domain_xml_vf_metadata(vf_xml, &meta) < 0)
		return -ENOMEM;
	if (virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, meta,
				 DOMAIN_XML_VF_METADATA_PREFIX, DOMAIN_XML_VF_METADATA_NS, flags) < 0) {
		snprintf(err, err_size,
			 "cannot keep the VF's element in the domain's metadata (%s): %s",
			 DOMAIN_XML_VF_METADATA_NS, virt_last_error(why, sizeof(why)));
		return -EIO;
	}
	return 0;
}

static void virt_vm_unref(virt_vm *vv)
{
	if (--vv->refs)
		return;
	virt_domain_close(&vv->dom);
	json_object_put(vv->final_stats);
	json_object_put(vv->completed_stats);
	free(vv);
}

/* --- libvirt's events for the bound domains (on the loop thread: virt_event.h) --- */

static void on_device_removed(virConnectPtr c, virDomainPtr dom, const char *alias, void *opaque)
{
	virt_vm *vv = opaque;

	if (vv->v && vm_get_job(vv->v) && vv->dom.dev.vf_alias && alias &&
	    !strcmp(alias, vv->dom.dev.vf_alias))
		migration_job_vf_removed(vm_get_job(vv->v));
}

static void on_device_removal_failed(virConnectPtr c, virDomainPtr dom, const char *alias,
				     void *opaque)
{
	virt_vm *vv = opaque;

	if (vv->v && vm_get_job(vv->v) && vv->dom.dev.vf_alias && alias &&
	    !strcmp(alias, vv->dom.dev.vf_alias))
		migration_job_vf_removal_failed(vm_get_job(vv->v));
}

/* A STOPPED event's detail, in words for a job's result. */
static const char *stopped_how(int detail)
{
	switch (detail) {
	case VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN:
		return "shut down";
	case VIR_DOMAIN_EVENT_STOPPED_DESTROYED:
		return "destroyed";
	case VIR_DOMAIN_EVENT_STOPPED_CRASHED:
		return "crashed";
	case VIR_DOMAIN_EVENT_STOPPED_MIGRATED:
		return "migrated away";
	case VIR_DOMAIN_EVENT_STOPPED_SAVED:
		return "saved";
	case VIR_DOMAIN_EVENT_STOPPED_FAILED:
		return "failed";
	default:
		return "stopped";
	}
}

/*
 * libvirt's own confirm step removes the source's domain once the copy dmigrate asked for
 * completed: that end is the migration's, which its job learns from the copy's outcome. The
 * event may come before or after the job moved past the copy.
 */
static bool migrated_by_job(const vm *v, int detail)
{
	const char *phase = migration_source_phase(v);

	return detail == VIR_DOMAIN_EVENT_STOPPED_MIGRATED && phase &&
	       migration_phase_from_name(phase) >= PHASE_MIGRATE;
}

/*
 * The domain stopped here behind dmigrated's back: another tool migrated it away (`virsh
 * migrate` between a hook mode's detach and attach, docs/hooks.md), or it was destroyed, or
 * the guest shut down or crashed. As for a QEMU that exited (vm.c): a job that drives the VM
 * (a migration's source, an incoming migration's destination) is told, and ends by its rules
 * instead of waiting for a bound; with no job the VM is gone from this host: its record and VF
 * are released (a detached VM's kept VF stays reserved for the peer's attach), and
 * peer-hook-release finds it gone. A call in flight still refers to the VM (and a destination
 * that loses the VM forgets it at once), so the decision waits for the last one (call_after()).
 */
static void domain_left(virt_vm *vv, int detail)
{
	vm *v = vv->v;
	char how[160];

	if (!v || vv->stopping || (vm_get_job(v) && migrated_by_job(v, detail)))
		return;
	if (vv->refs > 1) {
		vv->left = true;
		vv->left_detail = detail;
		return;
	}
	vv->left = false;
	if (vm_get_job(v) || vm_get_incoming_job(v)) {
		vm_set_status(v, VM_SHUTOFF);
		vm_set_vf_plugged(v, false);
		vm_agent_reset(v);
		snprintf(how, sizeof(how), "%s libvirt domain '%s' was %s",
			 vm_get_job(v) ? "the source's" : "its", vm_get_spec(v)->libvirt_domain,
			 stopped_how(detail));
		if (vm_get_job(v))
			migration_job_vm_exited(vm_get_job(v), how);
		else
			migration_dest_vm_exited(vm_get_incoming_job(v), how);
		return;
	}
	log_warning("VM '%s': libvirt domain '%s' no longer runs on this host; its record and VF are released",
		    vm_get_name(v), vm_get_spec(v)->libvirt_domain);
	vm_forget(v);
}

static void on_lifecycle(virConnectPtr c, virDomainPtr dom, int event, int detail, void *opaque)
{
	virt_vm *vv = opaque;

	/* STOPPED comes for every end of the domain here: migrated, destroyed, shut down,
	 * crashed, failed to restore; an undefine alone leaves it running. */
	if (event == VIR_DOMAIN_EVENT_STARTED) {
		/* Started again (virsh start): it runs, and a stop destroys it. */
		vv->ended = false;
		vv->left = false;
	}
	if (event != VIR_DOMAIN_EVENT_STOPPED)
		return;
	vv->ended = true;
	domain_left(vv, detail);
}

/* The keys of from that into lacks, added to it, and so in the objects both have ("ram"). */
static void stats_fill(json_object *into, json_object *from)
{
	json_object *have;

	json_object_object_foreach(from, key, val) {
		if (!json_object_object_get_ex(into, key, &have))
			json_object_object_add(into, key, json_object_get(val));
		else if (json_object_is_type(have, json_type_object) &&
			 json_object_is_type(val, json_type_object))
			stats_fill(have, val);
	}
}

/*
 * A peer-to-peer migration's source domain is gone once virDomainMigrateToURI3() returns, and
 * with it the completed job's figures (downtime, total time, bytes) that the worker then asks
 * for; libvirt hands them to this event first, on the loop. Whichever comes second fills the
 * copy's outcome (final_stats: the job's result holds that very object).
 */
static void on_job_completed(virConnectPtr c, virDomainPtr dom, virTypedParameterPtr params,
			     int nparams, void *opaque)
{
	virt_vm *vv = opaque;

	json_object_put(vv->completed_stats);
	vv->completed_stats = virt_job_stats_to_json(VIR_DOMAIN_JOB_COMPLETED, params, nparams);
	if (vv->completed_stats && vv->final_stats && !vv->migrating)
		stats_fill(vv->final_stats, vv->completed_stats);
}

/* The events bind registers, in virt_vm's event_cb order. */
static const struct {
	int id;
	virConnectDomainEventGenericCallback cb;
} domain_events[] = {
	{ VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, VIR_DOMAIN_EVENT_CALLBACK(on_device_removed) },
	{ VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED, VIR_DOMAIN_EVENT_CALLBACK(on_device_removal_failed) },
	{ VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle) },
	{ VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, VIR_DOMAIN_EVENT_CALLBACK(on_job_completed) },
};

_Static_assert(ELEMENTSOF(domain_events) == ELEMENTSOF(((virt_vm *)0)->event_cb),
	       "one callback id per event");

static void domain_events_deregister(virt_vm *vv)
{
	for (size_t i = 0; i < ELEMENTSOF(domain_events); i++)
		if (vv->event_cb[i] >= 0)
			virConnectDomainEventDeregisterAny(vv->conn, vv->event_cb[i]);
}

int virt_backend_bind(vm *v, virConnectPtr conn, const char *domain, bool persist, char *err,
		      size_t err_size)
{
	char why[256];
	virt_vm *vv;
	int r;

	if (virt_vm_of(v))
		return -EEXIST;
	vv = calloc(1, sizeof(*vv));
	if (!vv)
		return -ENOMEM;
	r = virt_domain_open(conn, domain, persist, &vv->dom, err, err_size);
	if (r < 0) {
		free(vv);
		return r;
	}
	if (!vv->dom.dev.vf_alias) {
		/* A live domain's devices all have one: without it DEVICE_REMOVED names nothing. */
		virt_domain_close(&vv->dom);
		free(vv);
		snprintf(err, err_size, "domain '%s': its VF has no alias in the live XML", domain);
		return -EINVAL;
	}
	if (!vv->dom.dev.vf_unplugged) {
		char meta_why[384];

		r = keep_vf_in_metadata(vv->dom.dom, vv->dom.dev.vf_xml,
					VIR_DOMAIN_AFFECT_LIVE |
						(vv->dom.persistent ? VIR_DOMAIN_AFFECT_CONFIG : 0),
					meta_why, sizeof(meta_why));
		if (r < 0) {
			snprintf(err, err_size, "domain '%s': %s", domain, meta_why);
			virt_domain_close(&vv->dom);
			free(vv);
			return r;
		}
	}
	/* The bond's MAC, for the VF's steering on an SR-IOV host (vf_steering.h). */
	if (vm_get_spec(v) && strlen(vv->dom.dev.standby_mac) < sizeof(vm_get_spec(v)->mac))
		for (size_t i = 0; i <= strlen(vv->dom.dev.standby_mac); i++)
			vm_get_spec(v)->mac[i] = (char)tolower((unsigned char)vv->dom.dev.standby_mac[i]);
	/* The guest's RAM, which a libvirt spec leaves to the domain: an evacuation places the VM
	 * by it (0: the XML did not say it readably, and the plan says so). */
	if (vm_get_spec(v))
		vm_get_spec(v)->memory_mib = (unsigned)vv->dom.dev.memory_mib; /* below 2^32 */
	vv->v = v;
	vv->conn = conn;
	vv->persist = persist;
	vv->refs = 1;
	r = 0;
	for (size_t i = 0; i < ELEMENTSOF(domain_events); i++) {
		vv->event_cb[i] = virConnectDomainEventRegisterAny(conn, vv->dom.dom, domain_events[i].id,
								   domain_events[i].cb, vv, NULL);
		if (vv->event_cb[i] < 0)
			r = -EIO;
	}
	if (r < 0) {
		snprintf(err, err_size, "domain '%s': cannot hear libvirt's domain events: %s",
			 domain, virt_last_error(why, sizeof(why)));
		vv->v = NULL;
		domain_events_deregister(vv);
		virt_vm_unref(vv);
		return -EIO;
	}
	vv->next = bound;
	bound = vv;
	return 0;
}

int virt_backend_adopt(vm *v, char *err, size_t err_size)
{
	virConnectPtr conn;
	int r;

	if (!vm_get_spec(v)->libvirt_domain)
		return -EINVAL;
	r = virt_connection_get(vm_get_spec(v)->libvirt_uri, &conn, err, err_size);
	if (r < 0)
		return r;
	return virt_backend_bind(v, conn, vm_get_spec(v)->libvirt_domain, vm_get_spec(v)->libvirt_persist, err,
				 err_size);
}

void virt_backend_unbind(vm *v)
{
	virt_vm **p, *vv = virt_vm_of(v);

	if (!vv)
		return;
	for (p = &bound; *p != vv; p = &(*p)->next)
		;
	*p = vv->next;
	vv->v = NULL;
	domain_events_deregister(vv);
	virt_vm_unref(vv);
}

/* --- calls in the worker pool --- */

typedef struct virt_call virt_call;
struct virt_call {
	uv_work_t work;
	virt_vm *vv;
	vm *v;
	virDomainPtr dom; /* a reference of the call's own; NULL before the domain is here */
	virConnectPtr conn; /* a VM not bound yet: its host's libvirt (a destination's) */
	char *domain;       /* ... and the domain's name there */
	int (*run)(virt_call *c); /* in the worker: 0 or a negative errno, why in message */
	void (*done)(virt_call *c); /* on the loop, before cb */
	vm_backend_cb cb;
	vm_done_cb stop_cb;
	void *userdata;
	int error;
	char message[512];
	json_object *ret;
	/* arguments */
	char *xml;
	unsigned int flags;
	char *dconnuri;
	char *stream_uri;
	migration_settings settings;
	bool persist; /* define it on the destination, undefine it here */
	domain_devices fresh; /* a plug's result: the devices as they are now */
};

static int fail(virt_call *c, int error, const char *what)
{
	char why[384];

	snprintf(c->message, sizeof(c->message), "%s: %s", what,
		 virt_last_error(why, sizeof(why)));
	return error;
}

static void call_work(uv_work_t *w)
{
	virt_call *c = w->data;

	c->error = c->run ? c->run(c) : 0;
}

static void call_free(virt_call *c)
{
	json_object_put(c->ret);
	if (c->dom)
		virDomainFree(c->dom);
	free(c->xml);
	free(c->dconnuri);
	free(c->stream_uri);
	free(c->domain);
	domain_devices_done(&c->fresh);
	if (c->vv)
		virt_vm_unref(c->vv);
	free(c);
}

static void call_after(uv_work_t *w, int status)
{
	virt_call *c = w->data;
	virt_vm *vv = c->vv;
	bool left;

	if (c->done)
		c->done(c);
	if (c->cb)
		c->cb(c->error, c->ret, c->message[0] ? c->message : NULL, c->userdata);
	else if (c->stop_cb)
		c->stop_cb(c->v, c->error, c->message[0] ? c->message : NULL, c->userdata);
	/* vv outlives the call's own reference, for a stop it heard of meanwhile. */
	if (vv)
		vv->refs++;
	call_free(c);
	if (!vv)
		return;
	left = vv->left && vv->v && vv->refs == 2;
	virt_vm_unref(vv);
	if (left)
		domain_left(vv, vv->left_detail);
}

/* A call on v's bound domain; NULL with errno ENOTCONN when v is not bound. */
static virt_call *call_new(vm *v, int (*run)(virt_call *c))
{
	virt_vm *vv = virt_vm_of(v);
	virt_call *c;

	if (!vv) {
		errno = ENOTCONN;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	c->vv = vv;
	vv->refs++;
	c->v = v;
	c->run = run;
	c->work.data = c;
	c->dom = vv->dom.dom;
	virDomainRef(c->dom);
	return c;
}

/*
 * A call for a VM whose domain is not bound (yet): a destination's, before libvirt's migration
 * brought the domain here. NULL with errno set.
 */
static virt_call *call_new_unbound(vm *v, int (*run)(virt_call *c))
{
	char err[384];
	virt_call *c;
	int r;

	if (!vm_get_spec(v) || !vm_get_spec(v)->libvirt_domain) {
		errno = ENOTCONN;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c || !(c->domain = strdup(vm_get_spec(v)->libvirt_domain))) {
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	r = virt_connection_get(vm_get_spec(v)->libvirt_uri, &c->conn, err, sizeof(err));
	if (r < 0) {
		log_error("%s: %s", vm_get_name(v), err);
		free(c->domain);
		free(c);
		errno = -r;
		return NULL;
	}
	c->v = v;
	c->run = run;
	c->work.data = c;
	return c;
}

static int call_start(virt_call *c, vm_backend_cb cb, void *userdata)
{
	int r;

	if (!c)
		return errno == ENOTCONN ? -ENOTCONN : -ENOMEM;
	c->cb = cb;
	c->userdata = userdata;
	r = uv_queue_work(vm_get_daemon(c->v)->loop, &c->work, call_work, call_after);
	if (r < 0) {
		c->cb = NULL;
		call_free(c);
		return -ENOMEM;
	}
	return 0;
}

/* --- the operations --- */

static int run_state(virt_call *c)
{
	static const char *const names[] = {
		[VIR_DOMAIN_NOSTATE] = "unknown",   [VIR_DOMAIN_RUNNING] = "running",
		[VIR_DOMAIN_BLOCKED] = "running",   [VIR_DOMAIN_PAUSED] = "paused",
		[VIR_DOMAIN_SHUTDOWN] = "shutdown", [VIR_DOMAIN_SHUTOFF] = "shutoff",
		[VIR_DOMAIN_CRASHED] = "crashed",   [VIR_DOMAIN_PMSUSPENDED] = "suspended",
	};
	int state, reason;

	if (virDomainGetState(c->dom, &state, &reason, 0) < 0)
		return fail(c, -EIO, "cannot read the domain's state");
	c->ret = json_object_new_object();
	if (!c->ret)
		return -ENOMEM;
	json_object_object_add(c->ret, "status",
			       json_object_new_string(state >= 0 && (size_t)state < ELEMENTSOF(names) &&
							      names[state] ? names[state] : "unknown"));
	return 0;
}

static int lv_query_status(vm *v, vm_backend_cb cb, void *userdata)
{
	return call_start(call_new(v, run_state), cb, userdata);
}

/* Live, and the definition too for a domain that has one: the VF does not come back at boot. */
static unsigned int affect_flags(const virt_vm *vv)
{
	return VIR_DOMAIN_AFFECT_LIVE | (vv->dom.persistent ? VIR_DOMAIN_AFFECT_CONFIG : 0);
}

static int run_detach(virt_call *c)
{
	if (virDomainDetachDeviceFlags(c->dom, c->xml, c->flags) < 0)
		return fail(c, -EIO, "libvirt refused to detach the VF");
	return 0;
}

static int lv_vf_unplug(vm *v, vm_backend_cb cb, void *userdata)
{
	virt_call *c = call_new(v, run_detach);

	if (c) {
		c->xml = strdup(c->vv->dom.dev.vf_xml);
		c->flags = affect_flags(c->vv);
		if (!c->xml) {
			call_free(c);
			return -ENOMEM;
		}
	}
	return call_start(c, cb, userdata);
}

static int lv_vf_unplug_finish(vm *v, vm_backend_cb cb, void *userdata)
{
	return 1; /* libvirt frees what the VF used with the device */
}

/*
 * The VF never left the running domain (its removal was never confirmed), but the unplug took it
 * out of a persistent domain's definition at once: put it back there, so that it is there at the
 * next boot. -EEXIST (it never left) when that is done.
 */
static int restore_config(virt_call *c)
{
	_cleanup_free_ char *inactive = NULL;
	domain_devices d = { 0 };
	char why[256];
	int r;

	if (!(c->flags & VIR_DOMAIN_AFFECT_CONFIG))
		return -EEXIST;
	inactive = virDomainGetXMLDesc(c->dom, VIR_DOMAIN_XML_INACTIVE);
	if (!inactive)
		return fail(c, -EIO, "cannot read the domain's definition");
	r = domain_xml_parse(inactive, strlen(inactive), &d, why, sizeof(why));
	if (r == 0 && d.vf_unplugged &&
	    virDomainAttachDeviceFlags(c->dom, c->xml, VIR_DOMAIN_AFFECT_CONFIG) < 0)
		r = fail(c, -EIO, "libvirt refused to put the VF back in the domain's definition");
	domain_devices_done(&d);
	return r < 0 && c->message[0] ? r : -EEXIST;
}

static int run_attach(virt_call *c)
{
	_cleanup_free_ char *live = virDomainGetXMLDesc(c->dom, 0), *now = NULL;
	domain_devices d = { 0 };
	char why[384];
	int r;

	if (!live)
		return fail(c, -EIO, "cannot read the domain's XML");
	/* A VF in the live XML already: it never left, or a repeated plug put it there. */
	if (domain_xml_parse(live, strlen(live), &d, why, sizeof(why)) == 0 && !d.vf_unplugged) {
		domain_devices_done(&d);
		return restore_config(c);
	}
	domain_devices_done(&d);
	if (virDomainAttachDeviceFlags(c->dom, c->xml, c->flags) < 0)
		return fail(c, -EIO, "libvirt refused to attach the VF");
	/* What the next unplug detaches is the element as libvirt has it now (this host's VF,
	 * its alias), and what the next destination plugs is kept in the metadata. */
	now = virDomainGetXMLDesc(c->dom, 0);
	if (!now)
		return fail(c, -EIO, "cannot read the domain's XML after the VF's plug");
	r = domain_xml_parse(now, strlen(now), &c->fresh, why, sizeof(why));
	if (r < 0 || c->fresh.vf_unplugged) {
		snprintf(c->message, sizeof(c->message), "the domain after the VF's plug: %s",
			 r < 0 ? why : "no VF device");
		return r < 0 ? r : -EIO;
	}
	r = keep_vf_in_metadata(c->dom, c->fresh.vf_xml, c->flags, why, sizeof(why));
	if (r < 0)
		snprintf(c->message, sizeof(c->message), "%s", why);
	return r;
}

static void attach_done(virt_call *c)
{
	if (c->error < 0 || !c->fresh.vf_xml || !c->vv->v)
		return;
	domain_devices_done(&c->vv->dom.dev);
	c->vv->dom.dev = c->fresh;
	c->fresh = (domain_devices){ 0 };
}

static int lv_vf_plug(vm *v, vm_backend_cb cb, void *userdata)
{
	virt_call *c = call_new(v, run_attach);
	int r;

	if (!c)
		return -errno;
	/* The VF this host holds for v (its pool's), or the emulated element as it was. */
	r = domain_xml_vf_for_host(c->vv->dom.dev.vf_xml,
				   c->vv->dom.dev.vf_kind == DOMAIN_VF_EMULATED ? NULL : vm_get_vf(v),
				   &c->xml, c->message, sizeof(c->message));
	if (r < 0) {
		log_error("%s: %s", vm_get_name(v), c->message);
		call_free(c);
		return r;
	}
	c->flags = affect_flags(c->vv);
	c->done = attach_done;
	return call_start(c, cb, userdata);
}

/*
 * How the domain ended here, when it did by other hands than a migration (destroyed, shut
 * down, crashed), or NULL: a copy that failed names that, whichever of its failure and the
 * lifecycle event (which waits for the copy's call, domain_left()) comes first. In a worker.
 */
static const char *domain_ended_how(virDomainPtr dom)
{
	int state, reason;

	if (virDomainGetState(dom, &state, &reason, 0) < 0)
		return virGetLastError() && virGetLastError()->code == VIR_ERR_NO_DOMAIN ?
			       "removed" : NULL;
	if (state == VIR_DOMAIN_CRASHED)
		return "crashed";
	if (state != VIR_DOMAIN_SHUTOFF)
		return NULL;
	switch (reason) {
	case VIR_DOMAIN_SHUTOFF_SHUTDOWN:
		return "shut down";
	case VIR_DOMAIN_SHUTOFF_DESTROYED:
		return "destroyed";
	case VIR_DOMAIN_SHUTOFF_CRASHED:
		return "crashed";
	case VIR_DOMAIN_SHUTOFF_MIGRATED:
		return NULL;
	default:
		return "stopped";
	}
}

/* The copy, in its worker for as long as it runs. */
static int run_migrate(virt_call *c)
{
	_cleanup_free_ char *live = NULL, *inactive = NULL, *dest = NULL, *persist = NULL;
	virTypedParameterPtr params = NULL, stats = NULL;
	virt_migrate_args a = { .settings = &c->settings, .stream_uri = c->stream_uri };
	int n = 0, nstats = 0, type, r;
	char why[448];

	live = virDomainGetXMLDesc(c->dom, VIR_DOMAIN_XML_MIGRATABLE);
	if (!live)
		return fail(c, -EIO, "cannot read the domain's XML");
	if (domain_xml_without_vf(live, strlen(live), &dest, why, sizeof(why)) < 0) {
		snprintf(c->message, sizeof(c->message), "the destination's XML: %s", why);
		return -EINVAL;
	}
	a.dest_xml = dest;
	if (c->persist) {
		inactive = virDomainGetXMLDesc(c->dom, VIR_DOMAIN_XML_INACTIVE |
							       VIR_DOMAIN_XML_MIGRATABLE);
		if (!inactive)
			return fail(c, -EIO, "cannot read the domain's definition");
		if (domain_xml_without_vf(inactive, strlen(inactive), &persist, why,
					  sizeof(why)) < 0) {
			snprintf(c->message, sizeof(c->message), "the destination's definition: %s",
				 why);
			return -EINVAL;
		}
		a.persist_xml = persist;
	}
	r = virt_migrate_params(&a, &params, &n, &c->flags);
	if (r < 0)
		return r;
	if (virDomainMigrateSetMaxDowntime(c->dom, c->settings.downtime_limit_ms, 0) < 0)
		log_warning("cannot set the migration's downtime limit: %s",
			    virt_last_error(why, sizeof(why)));
	r = virDomainMigrateToURI3(c->dom, c->dconnuri, params, (unsigned int)n, c->flags);
	if (r < 0) {
		virErrorPtr e = virGetLastError();

		const char *ended;

		virt_migrate_error_text(e ? e->domain : VIR_FROM_NONE, e ? e->message : NULL, why,
					sizeof(why));
		ended = domain_ended_how(c->dom);
		if (ended)
			snprintf(c->message, sizeof(c->message),
				 "libvirt's migration failed: the domain was %s here during the copy (libvirt: %.400s)",
				 ended, why);
		else
			snprintf(c->message, sizeof(c->message), "libvirt's migration failed: %s",
				 why);
	}
	virTypedParamsFree(params, n);
	if (r < 0) {
		/* libvirt's words were taken first: its next API call resets them. */
		c->ret = virt_job_stats_to_json(VIR_DOMAIN_JOB_FAILED, NULL, 0);
		if (c->ret)
			json_object_object_add(c->ret, "error-desc",
					       json_object_new_string(c->message));
		return -EIO;
	}
	/* The figures of the completed job; without them, the outcome alone. */
	if (virDomainGetJobStats(c->dom, &type, &stats, &nstats,
				 VIR_DOMAIN_JOB_STATS_COMPLETED) < 0)
		type = VIR_DOMAIN_JOB_COMPLETED, nstats = 0, stats = NULL;
	c->ret = virt_job_stats_to_json(VIR_DOMAIN_JOB_COMPLETED, stats, nstats);
	virTypedParamsFree(stats, nstats);
	return c->ret ? 0 : -ENOMEM;
}

static void migrate_done(virt_call *c)
{
	json_object *status;

	json_object_put(c->vv->final_stats);
	c->vv->final_stats = json_object_get(c->ret);
	c->vv->migrating = false;
	if (c->ret && c->vv->completed_stats)
		stats_fill(c->ret, c->vv->completed_stats);
	if (!c->vv->v || !vm_get_job(c->vv->v) || !c->ret ||
	    !json_object_object_get_ex(c->ret, "status", &status))
		return;
	migration_job_migrate_status(vm_get_job(c->vv->v), json_object_get_string(status));
}

/* The port of the destination's incoming address tcp:HOST:PORT (migration_uri_new()), or 0. */
static unsigned uri_port(const char *uri)
{
	const char *p = uri ? strrchr(uri, ':') : NULL;
	char *end;
	unsigned long n;

	if (!p || !p[1])
		return 0;
	errno = 0;
	n = strtoul(p + 1, &end, 10);
	return errno || *end || n > 65535 ? 0 : (unsigned)n;
}

static int lv_migrate_start(vm *v, const peer_config *peer, const char *uri,
			    const migration_settings *s, vm_backend_cb cb, void *userdata)
{
	virt_call *c = call_new(v, run_migrate), *started;
	int r;

	if (!c)
		return -ENOMEM;
	c->settings = *s;
	c->persist = c->vv->persist && c->vv->dom.persistent;
	r = virt_peer_uri(vm_get_daemon(v)->config, peer, &c->dconnuri);
	if (r >= 0)
		r = virt_stream_uri(peer, uri_port(uri), &c->stream_uri);
	if (r < 0) {
		log_error("%s: cannot name %s's libvirtd (ssh user, identity and known_hosts files, plain paths)",
			  vm_get_name(v), peer->name);
		call_free(c);
		return r;
	}
	c->done = migrate_done;
	/* The copy reports its end unasked; the caller hears at once that it started. */
	started = call_new(v, NULL);
	if (!started) {
		call_free(c);
		return -ENOMEM;
	}
	r = uv_queue_work(vm_get_daemon(v)->loop, &c->work, call_work, call_after);
	if (r < 0) {
		call_free(c);
		call_free(started);
		return -ENOMEM;
	}
	c->vv->migrating = true;
	json_object_put(TAKE_PTR(c->vv->final_stats));
	json_object_put(TAKE_PTR(c->vv->completed_stats));
	return call_start(started, cb, userdata);
}

static int run_job_stats(virt_call *c)
{
	virTypedParameterPtr stats = NULL;
	int type, n = 0;

	if (virDomainGetJobStats(c->dom, &type, &stats, &n, 0) < 0)
		return fail(c, -EIO, "cannot read the migration's progress");
	c->ret = virt_job_stats_to_json(type, stats, n);
	virTypedParamsFree(stats, n);
	return c->ret ? 0 : -ENOMEM;
}

static void job_stats_done(virt_call *c)
{
	/* The copy may have ended while we asked: its own outcome is the one that counts. */
	if (!c->vv->migrating && c->vv->final_stats) {
		json_object_put(c->ret);
		c->ret = json_object_get(c->vv->final_stats);
		c->error = 0;
		c->message[0] = '\0';
	}
}

/*
 * Where libvirt's migration of the incoming domain d stands (NULL: not here yet): libvirt's
 * migration creates the domain here paused (reason "migration") and, once it finished, leaves
 * it paused for the switchover (VIR_MIGRATE_PAUSED). "setup", "active" (copying), "completed"
 * (arrived: paused otherwise, or running), "failed"; NULL when libvirt cannot say (its error
 * is the thread's).
 */
static const char *arrival_status(virDomainPtr d)
{
	virDomainJobInfo job;
	int state, reason;

	if (!d)
		return "setup";
	if (virDomainGetState(d, &state, &reason, 0) < 0)
		return NULL;
	/* Paused for the migration with libvirt's incoming job still on: copying. Its reason
	 * alone does not tell (libvirt may keep it after a PAUSED migration). */
	if (state == VIR_DOMAIN_PAUSED && reason == VIR_DOMAIN_PAUSED_MIGRATION &&
	    (virDomainGetJobInfo(d, &job) < 0 || job.type != VIR_DOMAIN_JOB_NONE))
		return "active";
	if (state == VIR_DOMAIN_PAUSED || state == VIR_DOMAIN_RUNNING)
		return "completed";
	return "failed";
}

/* The incoming domain's name on conn: NULL with no error when it is not here (yet). */
static virDomainPtr incoming_lookup(virConnectPtr conn, const char *domain)
{
	virDomainPtr d = virDomainLookupByName(conn, domain);

	if (!d && virGetLastError() && virGetLastError()->code == VIR_ERR_NO_DOMAIN)
		virResetLastError();
	return d;
}

/* A destination's view of the copy, bound or not: ret is {"status": arrival_status()}. */
static int run_arrival(virt_call *c)
{
	virDomainPtr d = incoming_lookup(c->conn, c->domain);
	const char *status;

	if (!d && virGetLastError())
		return fail(c, -EIO, "cannot look for the incoming domain");
	status = arrival_status(d);
	if (!status) {
		/* libvirt's words first: virDomainFree() resets them. */
		int r = fail(c, -EIO, "cannot read the incoming domain's state");

		virDomainFree(d);
		return r;
	}
	if (d)
		virDomainFree(d);
	c->ret = json_object_new_object();
	if (!c->ret)
		return -ENOMEM;
	json_object_object_add(c->ret, "status", json_object_new_string(status));
	return 0;
}

/*
 * The domain arrived: from now on it is v's. Bound without the persistence check (libvirt's
 * migration defined it here or not, as the source asked); its next migration persists it as
 * the spec says (it is persistent here if it was there).
 */
static int bind_arrived(vm *v, virConnectPtr conn, char *err, size_t err_size)
{
	int r = virt_backend_bind(v, conn, vm_get_spec(v)->libvirt_domain, false, err, err_size);

	if (r == 0)
		virt_vm_of(v)->persist = vm_get_spec(v)->libvirt_persist;
	return r;
}

static void arrival_done(virt_call *c)
{
	json_object *status;
	int r;

	if (c->error < 0 || virt_vm_of(c->v) ||
	    !json_object_object_get_ex(c->ret, "status", &status) ||
	    strcmp(json_object_get_string(status), "completed"))
		return;
	r = bind_arrived(c->v, c->conn, c->message, sizeof(c->message));
	if (r < 0) {
		c->error = r;
		log_error("%s: the domain that arrived: %s", vm_get_name(c->v), c->message);
	}
}

int virt_backend_rebind_incoming(vm *v, char *err, size_t err_size)
{
	const char *status;
	virConnectPtr conn;
	virDomainPtr d;
	char why[256];
	int r;

	if (virt_vm_of(v))
		return -EEXIST;
	if (!vm_get_spec(v)->libvirt_domain)
		return -EINVAL;
	r = virt_connection_get(vm_get_spec(v)->libvirt_uri, &conn, err, err_size);
	if (r < 0)
		return r;
	d = incoming_lookup(conn, vm_get_spec(v)->libvirt_domain);
	if (!d && virGetLastError()) {
		snprintf(err, err_size, "cannot look for the incoming domain '%s': %s",
			 vm_get_spec(v)->libvirt_domain, virt_last_error(why, sizeof(why)));
		return -EIO;
	}
	status = arrival_status(d);
	if (!status)
		snprintf(err, err_size, "cannot read the state of the incoming domain '%s': %s",
			 vm_get_spec(v)->libvirt_domain, virt_last_error(why, sizeof(why)));
	if (d)
		virDomainFree(d);
	if (!status)
		return -EIO;
	if (strcmp(status, "completed"))
		return 0;
	r = bind_arrived(v, conn, err, err_size);
	return r < 0 ? r : 1;
}

static int lv_migrate_query(vm *v, vm_backend_cb cb, void *userdata)
{
	virt_call *c;

	/* A destination's copy is libvirt's between the two libvirtds: the domain's state here
	 * says where it stands, whether the domain is bound yet or not (a restarted daemon binds
	 * one that arrived while it was down: virt_backend_rebind_incoming()). */
	if (vm_is_incoming(v)) {
		c = call_new_unbound(v, run_arrival);
		if (c)
			c->done = arrival_done;
		return call_start(c, cb, userdata);
	}
	c = call_new(v, run_job_stats);
	if (c)
		c->done = job_stats_done;
	return call_start(c, cb, userdata);
}

static int run_set_bandwidth(virt_call *c)
{
	/* libvirt's migration bandwidth is in MiB/s, as the share is. */
	if (virDomainMigrateSetMaxSpeed(c->dom, c->settings.max_bandwidth_mibps, 0) < 0)
		return fail(c, -EIO, "libvirt could not change the migration's bandwidth");
	return 0;
}

static int lv_migrate_set_bandwidth(vm *v, uint64_t mibps, vm_backend_cb cb, void *userdata)
{
	virt_call *c = call_new(v, run_set_bandwidth);

	if (c)
		c->settings.max_bandwidth_mibps = mibps;
	return call_start(c, cb, userdata);
}

static int run_abort(virt_call *c)
{
	if (virDomainAbortJob(c->dom) < 0) {
		virErrorPtr e = virGetLastError();

		/* No job to abort: the copy ended already, which the query after this tells. */
		if (e && e->code == VIR_ERR_OPERATION_INVALID)
			return 0;
		return fail(c, -EIO, "libvirt could not abort the migration");
	}
	return 0;
}

static int lv_migrate_cancel(vm *v, vm_backend_cb cb, void *userdata)
{
	return call_start(call_new(v, run_abort), cb, userdata);
}

static int run_resume(virt_call *c)
{
	int state, reason;

	if (virDomainGetState(c->dom, &state, &reason, 0) == 0 && state == VIR_DOMAIN_RUNNING)
		return 0;
	if (virDomainResume(c->dom) < 0)
		return fail(c, -EIO, "libvirt could not resume the domain");
	return 0;
}

static int lv_resume(vm *v, vm_backend_cb cb, void *userdata)
{
	return call_start(call_new(v, run_resume), cb, userdata);
}

/* Queue c, whose outcome goes to a vm_done_cb. */
static int call_start_done(virt_call *c, vm_done_cb done, void *userdata)
{
	int r;

	if (!c)
		return errno == ENOTCONN ? -ENOTCONN : -ENOMEM;
	c->stop_cb = done;
	c->userdata = userdata;
	r = uv_queue_work(vm_get_daemon(c->v)->loop, &c->work, call_work, call_after);
	if (r < 0) {
		c->stop_cb = NULL;
		call_free(c);
		return -ENOMEM;
	}
	return 0;
}

/* Nothing in the way of the domain libvirt's migration is to create here. */
static int run_incoming_check(virt_call *c)
{
	virDomainPtr d = virDomainLookupByName(c->conn, c->domain);

	if (d) {
		virDomainFree(d);
		snprintf(c->message, sizeof(c->message),
			 "libvirt on this host has a domain named '%s' already (virsh list --all): the incoming domain would take its place; undefine it or migrate another VM",
			 c->domain);
		return -EEXIST;
	}
	if (virGetLastError() && virGetLastError()->code != VIR_ERR_NO_DOMAIN)
		return fail(c, -EIO, "cannot ask libvirt for the incoming domain's name");
	return 0;
}

static int lv_incoming_start(vm *v, vm_done_cb done, void *userdata)
{
	/* libvirt's peer-to-peer migration creates the incoming domain itself (the source's
	 * libvirtd asks ours); here only its name is checked to be free. */
	if (virt_vm_of(v))
		return -EALREADY;
	return call_start_done(call_new_unbound(v, run_incoming_check), done, userdata);
}

/* A free TCP port on the migration address, for the incoming domain's QEMU to listen on. */
static int run_pick_port(virt_call *c)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_PASSIVE,
				  .ai_socktype = SOCK_STREAM },
			*ai = NULL;
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	json_object *addrs, *a;
	char port[8];
	int fd, r;

	r = getaddrinfo(c->xml, "0", &hints, &ai);
	if (r != 0) {
		snprintf(c->message, sizeof(c->message), "migration address '%s': %s", c->xml,
			 gai_strerror(r));
		return -EINVAL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	r = fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
			    getsockname(fd, (struct sockaddr *)&sa, &len) < 0 ?
		    -errno :
		    0;
	freeaddrinfo(ai);
	if (fd >= 0)
		close(fd);
	if (r < 0) {
		snprintf(c->message, sizeof(c->message), "no free port on '%s': %s", c->xml,
			 strerror(-r));
		return r;
	}
	snprintf(port, sizeof(port), "%u",
		 ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port :
						  ((struct sockaddr_in *)&sa)->sin_port));
	c->ret = json_object_new_object();
	addrs = json_object_new_array();
	a = json_object_new_object();
	if (!c->ret || !addrs || !a) {
		json_object_put(addrs);
		json_object_put(a);
		return -ENOMEM;
	}
	json_object_object_add(a, "port", json_object_new_string(port));
	json_object_array_add(addrs, a);
	json_object_object_add(c->ret, "status", json_object_new_string("setup"));
	json_object_object_add(c->ret, "socket-address", addrs);
	return 0;
}

static int lv_incoming_listen(vm *v, const char *uri, bool multifd, vm_backend_cb cb,
			      void *userdata)
{
	virt_call *c = call_new_unbound(v, run_pick_port);

	if (c && !(c->xml = strdup(vm_get_daemon(v)->config->migration_address))) {
		call_free(c);
		return -ENOMEM;
	}
	return call_start(c, cb, userdata);
}

static int lv_announce(vm *v, vm_backend_cb cb, void *userdata)
{
	/* QEMU announces an incoming VM's MACs by itself when it resumes (its announce-*
	 * defaults); libvirt's API has no call of its own for it. */
	return call_start(call_new(v, NULL), cb, userdata);
}

static int run_destroy(virt_call *c)
{
	int active = virDomainIsActive(c->dom);

	/* After a completed migration libvirt removed the source's domain already. */
	if (active <= 0)
		return 0;
	if (virDomainDestroy(c->dom) < 0)
		return fail(c, -EIO, "libvirt could not stop the domain");
	return 0;
}

/* A destroy libvirt refused leaves the domain running: its later end is heard again. */
static void destroy_done(virt_call *c)
{
	if (c->error < 0)
		c->vv->stopping = false;
}

static int lv_stop(vm *v, bool force, vm_done_cb done, void *userdata)
{
	virt_call *c;
	int r;

	/* A destination before the domain arrived: the source's libvirt cleans up what its
	 * failed migration left here. */
	if (!virt_vm_of(v))
		return call_start_done(call_new_unbound(v, NULL), done, userdata);
	/* It stopped here already (destroyed, crashed): nothing is left to destroy or keep. */
	if (virt_vm_of(v)->ended)
		return call_start_done(call_new(v, NULL), done, userdata);
	/*
	 * Arrived, not yet resumed: libvirt's migration completed, so the source's domain is
	 * gone (libvirt has no paused source to go back to, unlike QEMU's). Destroying this one
	 * would lose the VM: it stays, paused, for the operator (docs/libvirt.md).
	 */
	if (vm_is_incoming(v)) {
		log_error("%s: refusing to stop domain '%s': libvirt moved it here and removed it from its source; resume it here (virsh resume %s)",
			  vm_get_name(v), vm_get_spec(v)->libvirt_domain, vm_get_spec(v)->libvirt_domain);
		return -EBUSY;
	}
	c = call_new(v, run_destroy);
	if (c)
		c->done = destroy_done;
	r = call_start_done(c, done, userdata);
	/* Queued: its events come on this thread, after this. */
	if (r == 0)
		virt_vm_of(v)->stopping = true;
	return r;
}

static bool lv_arrived(const vm *v)
{
	return virt_vm_of(v) != NULL;
}

const vm_backend vm_backend_libvirt = {
	.name = "libvirt",
	.query_status = lv_query_status,
	.vf_unplug = lv_vf_unplug,
	.vf_unplug_finish = lv_vf_unplug_finish,
	.vf_plug = lv_vf_plug,
	.migrate_start = lv_migrate_start,
	.migrate_query = lv_migrate_query,
	.migrate_set_bandwidth = lv_migrate_set_bandwidth,
	.migrate_cancel = lv_migrate_cancel,
	.resume = lv_resume,
	.incoming_start = lv_incoming_start,
	.incoming_listen = lv_incoming_listen,
	.announce = lv_announce,
	.arrived = lv_arrived,
	.stop = lv_stop,
};
