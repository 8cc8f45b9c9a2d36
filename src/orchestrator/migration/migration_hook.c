// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Hook mode (migration_hook.h): the detach/attach commands, the kept VF, and the attach job.
 * The detach and its undo are the source half's own phases (migration_source.c in hook mode);
 * the attach runs the destination's plug, active and did-on phases (named as in
 * migration_phase.h) on a VM the engine brought here, then frees the source's kept VF.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control_protocol.h"
#include "log.h"
#include "migration/migration_hook.h"
#include "migration/migration_job.h"
#include "migration/migration_outcome.h"
#include "migration/vf_activate.h"
#include "migration/vm_backend.h"
#include "host/vf_pool.h"
#include "host/vf_steering.h"
#include "transport/peer_link.h"
#include "transport/peer_reply.h"

#define HOOK_PEER_TIMEOUT_MS 30000

/* --- the kept VF --- */

static char *hook_owner(const char *vm_name)
{
	char *o;

	return asprintf(&o, "%s%s", vm_name, HOOK_VF_OWNER_SUFFIX) < 0 ? NULL : o;
}

int migration_hook_vf_to_owner(host_daemon *d, vm *v)
{
	_cleanup_free_ char *owner = hook_owner(vm_get_name(v)), *vf = NULL;
	int r;

	if (!owner)
		return -ENOMEM;
	if (!vm_get_vf(v))
		return 0; /* kept already */
	vf = strdup(vm_get_vf(v));
	if (!vf)
		return -ENOMEM;
	/* The journal names the VF already: a daemon dying between these two keeps it again. */
	r = vf_pool_release(d->pool, vf, vm_get_name(v));
	if (r < 0 && r != -ENOENT)
		return r;
	r = vf_pool_claim(d->pool, vf, owner);
	if (r < 0)
		return r;
	vm_drop_vf(v);
	return vm_save(v);
}

int migration_hook_vf_to_vm(host_daemon *d, vm *v, const char *vf)
{
	_cleanup_free_ char *owner = hook_owner(vm_get_name(v));
	int r;

	if (!owner)
		return -ENOMEM;
	if (vm_get_vf(v))
		return strcmp(vm_get_vf(v), vf) ? -EBUSY : 0;
	r = vf_pool_release(d->pool, vf, owner);
	if (r < 0 && r != -ENOENT)
		return r;
	r = vf_pool_claim(d->pool, vf, vm_get_name(v));
	if (r < 0)
		return r;
	/* vm_hold_vf() gives the VF back to the pool itself when it fails. */
	r = vm_hold_vf(v, vf);
	if (r < 0)
		return r;
	return vm_save(v);
}

/* The journal of a finished detach: the source's phase `migrate`, which the engine runs. */
static bool journal_parked(const migration_journal *jr)
{
	return jr->hook && !strcmp(jr->role, "source") && jr->phase == PHASE_MIGRATE &&
	       !jr->rolling_back;
}

bool migration_hook_recover_parked(host_daemon *d, const migration_journal *jr)
{
	_cleanup_free_ char *owner = NULL;

	if (!journal_parked(jr))
		return false;
	/* The pool's reconcile freed it (no VM is called VM@detached): keep it again. */
	owner = hook_owner(jr->vm);
	if (jr->vf && owner && vf_pool_claim(d->pool, jr->vf, owner) < 0)
		log_warning("%s: VF %s, kept for it while detached, is taken by another VM", jr->vm,
			    jr->vf);
	log_info("'%s' is detached (VF %s kept for it): waiting for attach or detach --undo",
		 jr->vm, jr->vf ? jr->vf : "none");
	return true;
}

/* A result in the shape of migrate's (proto/control_protocol.c) for a command with nothing to do. */
static json_object *hook_result_nothing(host_daemon *d, const char *vm_name, const char *outcome,
					const char *message)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "vm", json_object_new_string(vm_name));
	json_object_object_add(o, "from", json_object_new_string(d->config->name));
	json_object_object_add(o, "to", json_object_new_string(d->config->name));
	json_object_object_add(o, "outcome", json_object_new_string(outcome));
	json_object_object_add(o, "runs_on", json_object_new_string(d->config->name));
	json_object_object_add(o, "message", json_object_new_string(message));
	json_object_object_add(o, "phases", json_object_new_array());
	json_object_object_add(o, "qemu", json_object_new_object());
	json_object_object_add(o, "total_ms", json_object_new_int64(0));
	return o;
}

/* VM's journal here, when it is a hook's; *o holds its strings (put it after). */
static int hook_journal(host_daemon *d, const char *vm_name, json_object **o,
			migration_journal *jr)
{
	int r = migration_journal_read(d, vm_name, o, jr);

	return r == -ENOENT ? 0 : r < 0 ? r : 1;
}

/* hook_journal() for a request: an unreadable journal is answered here (-EIO), as every hook
 * command answers it. */
static int hook_journal_or_reply(host_daemon *d, rpc_request *req, const char *vm_name,
				 json_object **o, migration_journal *jr)
{
	int r = hook_journal(d, vm_name, o, jr);

	if (r < 0)
		rpc_request_reply_error(req, CONTROL_ERR_FAILED,
					"The journal of '%s' on %s cannot be read (see its log)", vm_name,
					d->config->name);
	return r;
}

/* A finished detach ends without an undo: its kept VF goes back to the pool, its journal away. */
static void hook_release_kept(host_daemon *d, const migration_journal *jr)
{
	_cleanup_free_ char *owner = hook_owner(jr->vm);

	if (jr->vf && owner && vf_pool_release(d->pool, jr->vf, owner) < 0)
		log_warning("%s: VF %s was no longer kept for it", jr->vm, jr->vf);
	migration_journal_remove(d, jr->vm);
	log_info("%s: VF %s, kept for it since its detach, is free", jr->vm, jr->vf ? jr->vf : "none");
}

bool migration_hook_detached(host_daemon *d, const char *vm_name)
{
	_cleanup_json_ json_object *o = NULL;
	migration_journal jr;

	return hook_journal(d, vm_name, &o, &jr) > 0 && journal_parked(&jr);
}

/* --- detach, detach --undo --- */

void daemon_cmd_detach(host_daemon *d, rpc_request *req, json_object *args)
{
	const char *name = daemon_arg_string(req, args, "vm");
	_cleanup_json_ json_object *jo = NULL;
	migration_journal jr;
	json_object *o;
	bool undo = json_object_object_get_ex(args, "undo", &o) && json_object_get_boolean(o);
	vm *v;
	int r;

	if (!name)
		return;
	v = vm_find(d, name);
	r = hook_journal_or_reply(d, req, name, &jo, &jr);
	if (r < 0)
		return;
	if (!v && undo && r > 0 && journal_parked(&jr)) {
		/* Gone from here (stopped, or moved by the engine): nothing to plug the VF into. */
		hook_release_kept(d, &jr);
		rpc_request_reply(req, hook_result_nothing(d, name, migration_outcome_name(OUTCOME_ROLLED_BACK),
							   "it no longer runs here: the VF kept for it is free"));
		return;
	}
	if (!v) {
		rpc_request_reply_error(req, CONTROL_ERR_NOT_FOUND,
					"No VM named '%.64s' runs on %s%s", name, d->config->name,
					r > 0 && journal_parked(&jr) ?
						"; it was detached here: attach it where the engine's migration left it (or 'detach --undo' to free its VF here)" :
						"; 'dmigrate list' shows the VMs here");
		return;
	}
	if (vm_get_job(v) || vm_get_incoming_job(v) || (r > 0 && !journal_parked(&jr))) {
		rpc_request_reply_error(req, CONTROL_ERR_BUSY,
					"A migration or a hook job of '%s' runs on %s; try again when it ends",
					name, d->config->name);
		return;
	}
	if (!undo) {
		if (r > 0) { /* detached already: the same answer again */
			rpc_request_reply(req, hook_result_nothing(d, name, HOOK_OUTCOME_DETACHED,
								   "detached already; its VF is kept for it"));
			return;
		}
		migration_source_detach(v, NULL, req);
		return;
	}
	if (r == 0) {
		rpc_request_reply(
			req,
			hook_result_nothing(d, name, migration_outcome_name(OUTCOME_ROLLED_BACK),
					    vm_is_vf_plugged(v) ? "not detached: its VF is plugged"
								: "not detached"));
		return;
	}
	migration_source_detach(v, &jr, req);
}

/* --- attach: plug, active, did-on, then the source's kept VF freed --- */

typedef struct hook_attach {
	host_daemon *d;
	char *vm;
	char *from; /* the source as given, or NULL: every peer is asked */
	char *released_by; /* the peer that freed its kept VF */
	rpc_request *req;
	dest_phase phase;
	size_t next_peer;
	bool degraded;
	char *message;
	peer_link *link;
	const peer_config *peer;
	unsigned release_errors; /* peers that did not answer peer-hook-release */
	char *release_error;     /* the first one's reason */
	uint64_t t0, phase_t0;
	struct {
		const char *state;
		int64_t start_ms, duration_ms;
	} rec[_DEST_PHASE_MAX];
	struct hook_attach *next;
} hook_attach;

/* The attaches running in this process: one per VM at a time. */
static hook_attach *attaches;

static hook_attach *attach_find(host_daemon *d, const char *vm_name)
{
	for (hook_attach *j = attaches; j; j = j->next)
		if (j->d == d && !strcmp(j->vm, vm_name))
			return j;
	return NULL;
}

static void attach_enter(hook_attach *j, dest_phase p);

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void attach_journal(hook_attach *j, const char *vf)
{
	migration_journal jr = {
		.vm = j->vm,
		.role = "attach",
		.peer = j->from ? j->from : j->d->config->name,
		.phase = j->phase,
		.degraded = j->degraded,
		.hook = true,
		.vf = (char *)vf,
	};
	int r = migration_journal_write(j->d, &jr);

	if (r < 0)
		log_warning_errno(r, "Failed to write the journal of '%s': %m", j->vm);
}

static json_object *attach_result(hook_attach *j)
{
	json_object *o = json_object_new_object(), *phases = json_object_new_array();

	if (!o || !phases) {
		json_object_put(o);
		json_object_put(phases);
		return NULL;
	}
	json_object_object_add(o, "vm", json_object_new_string(j->vm));
	json_object_object_add(o, "from", json_object_new_string(j->released_by ? j->released_by :
						j->from ? j->from : j->d->config->name));
	json_object_object_add(o, "to", json_object_new_string(j->d->config->name));
	json_object_object_add(o, "outcome",
			       json_object_new_string(j->degraded ? migration_outcome_name(OUTCOME_DEGRADED) :
								    HOOK_OUTCOME_ATTACHED));
	json_object_object_add(o, "runs_on", json_object_new_string(j->d->config->name));
	if (j->message)
		json_object_object_add(o, "message", json_object_new_string(j->message));
	for (int p = DEST_PLUG; p < _DEST_PHASE_MAX; p++) {
		json_object *ph;

		if (!j->rec[p].state || !(ph = json_object_new_object()))
			continue;
		json_object_object_add(ph, "phase", json_object_new_string(dest_phase_name(p)));
		json_object_object_add(ph, "start_ms", json_object_new_int64(j->rec[p].start_ms));
		json_object_object_add(ph, "duration_ms", json_object_new_int64(j->rec[p].duration_ms));
		json_object_object_add(ph, "state", json_object_new_string(j->rec[p].state));
		json_object_array_add(phases, ph);
	}
	json_object_object_add(o, "phases", phases);
	json_object_object_add(o, "qemu", json_object_new_object());
	json_object_object_add(o, "total_ms", json_object_new_int64((int64_t)(now_ms() - j->t0)));
	return o;
}

static void attach_finish(hook_attach *j)
{
	json_object *result = attach_result(j);
	vm *v = vm_find(j->d, j->vm);

	if (v && vm_get_incoming_job(v) == NULL)
		vm_set_incoming(v, false);
	migration_journal_remove(j->d, j->vm);
	log_info("%s: attached on %s%s", j->vm, j->d->config->name, j->degraded ? " (degraded)" : "");
	if (j->req)
		rpc_request_reply(j->req, result);
	else
		json_object_put(result);
	peer_link_give_back(j->d, j->peer, j->link);
	for (hook_attach **p = &attaches; *p; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			break;
		}
	free(j->vm);
	free(j->from);
	free(j->released_by);
	free(j->release_error);
	free(j->message);
	free(j);
}

static void attach_event(hook_attach *j, const char *state, const char *message)
{
	json_object *o;

	log_info("%s: attach %s %s%s%s", j->vm, dest_phase_name(j->phase), state,
		 message ? ": " : "", message ? message : "");
	if (!j->req || !(o = json_object_new_object()))
		return;
	json_object_object_add(o, "phase", json_object_new_string(dest_phase_name(j->phase)));
	json_object_object_add(o, "state", json_object_new_string(state));
	if (message)
		json_object_object_add(o, "message", json_object_new_string(message));
	rpc_request_event(j->req, "phase", o);
}

/*
 * A phase ended: after the engine's copy nothing is undone. A failure of plug, active or did-on
 * degrades the result (the VM runs on virtio, or without DID); one of commit leaves the VM as it
 * is, with a message: the source still keeps a VF, which attach run again frees.
 */
static void attach_phase_done(hook_attach *j, int error, const char *message)
{
	const char *state = error < 0 ? "failed" : j->rec[j->phase].state ?: "done";

	j->rec[j->phase].start_ms = (int64_t)(j->phase_t0 - j->t0);
	j->rec[j->phase].duration_ms = (int64_t)(now_ms() - j->phase_t0);
	j->rec[j->phase].state = state;
	attach_event(j, state, error < 0 ? message : NULL);
	if (error < 0) {
		if (j->phase != DEST_COMMIT)
			j->degraded = true;
		if (!j->message && message)
			j->message = strdup(message);
	}
	if (j->phase == DEST_COMMIT) {
		attach_finish(j);
		return;
	}
	/* Without a VF in the guest there is nothing to make active or to give DID to. */
	if (error < 0 && j->phase == DEST_PLUG) {
		j->rec[DEST_ACTIVE].state = j->rec[DEST_DID_ON].state = "skipped";
		attach_enter(j, DEST_COMMIT);
		return;
	}
	attach_enter(j, j->phase + 1);
}

static void attach_on_plug(int error, json_object *ret, const char *desc, void *userdata)
{
	hook_attach *j = userdata;
	vm *v = vm_find(j->d, j->vm);

	if (error == -EEXIST) /* plugged by an earlier run */
		error = 0;
	if (error == 0 && v) {
		vm_set_vf_plugged(v, true);
		vm_save(v);
	}
	attach_phase_done(j, error, desc ? desc : error < 0 ? strerror(-error) : NULL);
}

static int attach_plug(hook_attach *j, vm *v)
{
	const char *vf = vm_get_vf(v);
	int r;

	if (!vf) {
		r = vf_pool_reserve(j->d->pool, vm_get_name(v), &vf);
		if (r < 0) {
			attach_phase_done(j, r, "no free passthrough device here: the VM stays on its virtio NIC");
			return 0;
		}
		r = vm_hold_vf(v, vf);
		if (r < 0)
			return r;
		vm_save(v);
		vf_steering_apply_logged(v, VF_EVENT_PREPARE_INCOMING);
	}
	attach_journal(j, vm_get_vf(v));
	return vm_backend_of(v)->vf_plug(v, attach_on_plug, j);
}

static void attach_on_active(int error, const char *message, const vf_activate_wait *wait,
			     void *userdata)
{
	attach_phase_done(userdata, error, message);
}

static void attach_on_did(agent_client *c, int error, json_object *ret, const char *code,
			  const char *message, void *userdata)
{
	hook_attach *j = userdata;

	if (error < 0 && code && !strcmp(code, "unavailable")) {
		j->rec[DEST_DID_ON].state = "skipped";
		error = 0;
	}
	attach_phase_done(j, error, message ? message : error < 0 ? strerror(-error) : NULL);
}

static void attach_release_next(hook_attach *j);

static void attach_on_release(rpc_conn *c, int error, json_object *ret, const char *code,
			      const char *message, void *userdata)
{
	hook_attach *j = userdata;
	const control_command *cmd = control_command_find("peer-hook-release");
	char problem[256];
	json_object *o;

	if (error == 0 && control_reply_validate(cmd, ret, problem, sizeof(problem)) < 0) {
		error = -EBADMSG;
		message = problem;
	}
	if (error < 0) {
		_cleanup_free_ char *why = NULL;

		if (asprintf(&why, "%s did not free the VF kept for it (%s); run attach again",
			     j->peer->name, message ? message : strerror(-error)) < 0)
			why = NULL;
		log_warning("%s: %s", j->vm, why ? why : "a peer did not free its kept VF");
		if (j->from) { /* the source named: its word counts */
			attach_phase_done(j, error, why);
			return;
		}
		if (!j->release_errors++ && why)
			j->release_error = TAKE_PTR(why);
	} else if (json_object_object_get_ex(ret, "released", &o) && json_object_get_boolean(o)) {
		j->released_by = strdup(j->peer->name);
		attach_phase_done(j, 0, NULL);
		return;
	}
	attach_release_next(j);
}

static void attach_on_link(peer_link *l, rpc_conn *conn, int error, const char *message,
			   void *userdata)
{
	hook_attach *j = userdata;
	json_object *args;

	if (error < 0) {
		/*
		 * message belongs to the link: the commit must read it before the link goes, as
		 * migration_source.c's job_on_link does. Closed first, an attach whose source's
		 * daemon was down read freed memory for its message (ASan: heap-use-after-free,
		 * test-hook-mode's attach with the source's daemon down).
		 */
		peer_link *dead = TAKE_PTR(j->link);

		attach_on_release(NULL, error, NULL, NULL, message, j);
		peer_link_close(dead);
		return;
	}
	args = json_object_new_object();
	json_object_object_add(args, "vm", json_object_new_string(j->vm));
	if (rpc_conn_call(conn, "peer-hook-release", args, HOOK_PEER_TIMEOUT_MS, NULL,
			  attach_on_release, j) < 0)
		attach_on_release(conn, -EIO, NULL, NULL, "cannot send to the peer", j);
}

/* commit: the source named (--from), else each peer in turn, until one freed a kept VF. */
static void attach_release_next(hook_attach *j)
{
	const host_config *c = j->d->config;

	peer_link_give_back(j->d, j->peer, TAKE_PTR(j->link));
	if (j->from) {
		if (j->peer) { /* asked already */
			attach_phase_done(j, 0, NULL);
			return;
		}
		j->peer = host_config_find_peer(c, j->from);
		if (!j->peer) {
			attach_phase_done(j, -ENOENT, "the source is no longer a peer in the config");
			return;
		}
	} else {
		j->peer = j->next_peer < c->n_peers ? &c->peers[j->next_peer++] : NULL;
		if (!j->peer) {
			/* No peer kept a VF: none was detached there, or one that did not answer. */
			if (j->release_errors) {
				attach_phase_done(j, -EIO, j->release_error);
				return;
			}
			j->rec[DEST_COMMIT].state = "skipped";
			attach_phase_done(j, 0, NULL);
			return;
		}
	}
	j->link = peer_link_take(j->d, j->peer);
	if (j->link && peer_link_conn(j->link)) {
		attach_on_link(j->link, peer_link_conn(j->link), 0, NULL, j);
		return;
	}
	peer_link_close(TAKE_PTR(j->link));
	if (peer_link_open(j->d, j->peer, attach_on_link, j, &j->link) < 0)
		attach_on_release(NULL, -EIO, NULL, NULL, "cannot open the peer link", j);
}

static void attach_enter(hook_attach *j, dest_phase p)
{
	vm *v = vm_find(j->d, j->vm);
	agent_client *a;
	int r = 0;

	j->phase = p;
	j->phase_t0 = now_ms();
	attach_journal(j, v ? vm_get_vf(v) : NULL);
	attach_event(j, "started", NULL);
	if (!v && p != DEST_COMMIT) {
		attach_phase_done(j, -ENOENT, "the VM is gone from this host");
		return;
	}
	switch (p) {
	case DEST_PLUG:
		r = attach_plug(j, v);
		break;
	case DEST_ACTIVE:
		/* vf_activate gives the VF the VM's MAC once the guest made it the active slave. */
		r = vf_activate_start(j->d, j->vm, attach_on_active, j);
		break;
	case DEST_DID_ON:
		a = vm_agent(v);
		r = a ? agent_client_call(a, "did-enable", NULL, j->d->config->agent_timeout_ms,
					  attach_on_did, j) :
			-ENOTCONN;
		break;
	case DEST_COMMIT:
		attach_release_next(j);
		break;
	default:
		r = -EINVAL;
	}
	if (r < 0)
		attach_phase_done(j, r, strerror(-r));
}

static int attach_start(host_daemon *d, const char *vm_name, const char *from, rpc_request *req)
{
	hook_attach *j = calloc(1, sizeof(*j));

	if (!j || !(j->vm = strdup(vm_name)) || (from && !(j->from = strdup(from)))) {
		if (j)
			free(j->vm);
		free(j);
		return -ENOMEM;
	}
	j->d = d;
	j->req = req;
	j->t0 = now_ms();
	j->next = attaches;
	attaches = j;
	log_info("Attaching '%s' on %s after an engine's migration%s%s", vm_name, d->config->name,
		 from ? " from " : "", from ? from : "");
	attach_enter(j, DEST_PLUG);
	return 0;
}

void daemon_cmd_attach(host_daemon *d, rpc_request *req, json_object *args)
{
	const char *name = daemon_arg_string(req, args, "vm"), *from = NULL;
	_cleanup_json_ json_object *jo = NULL;
	migration_journal jr;
	json_object *o;
	vm *v;
	int r;

	if (!name)
		return;
	if (json_object_object_get_ex(args, "from", &o)) {
		from = json_object_get_string(o);
		if (!host_config_find_peer(d->config, from)) {
			rpc_request_reply_error(req, CONTROL_ERR_NOT_FOUND,
						"'%.64s' is not a peer of %s (its config's peers)", from,
						d->config->name);
			return;
		}
	}
	v = vm_find(d, name);
	r = hook_journal_or_reply(d, req, name, &jo, &jr);
	if (r < 0)
		return;
	if (r > 0 && journal_parked(&jr)) {
		/* Detached here: the engine's migration failed if the VM still runs here. */
		if (!v || vm_get_status(v) != VM_RUNNING) {
			rpc_request_reply_error(
				req, CONTROL_ERR_FAILED,
				"'%s' was detached on %s and does not run here (%s): attach it where the engine's migration left it",
				name, d->config->name,
				v ? vm_status_name(vm_get_status(v)) : "gone");
			return;
		}
		if (vm_get_job(v) || vm_get_incoming_job(v)) {
			rpc_request_reply_error(req, CONTROL_ERR_BUSY, "A job of '%s' runs already", name);
			return;
		}
		migration_source_detach(v, &jr, req);
		return;
	}
	if (!v) {
		rpc_request_reply_error(req, CONTROL_ERR_NOT_FOUND,
					"No VM named '%.64s' runs on %s: attach runs where the engine's migration left it",
					name, d->config->name);
		return;
	}
	if (vm_get_job(v) || vm_get_incoming_job(v) || attach_find(d, name) ||
	    (r > 0 && strcmp(jr.role, "attach"))) {
		rpc_request_reply_error(req, CONTROL_ERR_BUSY,
					"A migration or an attach of '%s' runs on %s; try again when it ends", name,
					d->config->name);
		return;
	}
	if (attach_start(d, name, from, req) < 0)
		rpc_request_reply_error(req, CONTROL_ERR_FAILED, "Out of memory");
}

/* --- peer-hook-release, on the source --- */

void migration_hook_peer_release(host_daemon *d, rpc_request *req, json_object *args)
{
	const char *name = daemon_arg_string(req, args, "vm");
	_cleanup_json_ json_object *jo = NULL;
	migration_journal jr;
	json_object *ret;
	vm *v;
	int r;

	if (!name)
		return;
	r = hook_journal(d, name, &jo, &jr);
	ret = json_object_new_object();
	if (!ret) {
		rpc_request_reply_error(req, CONTROL_ERR_FAILED, "Out of memory");
		return;
	}
	if (r <= 0 || !journal_parked(&jr)) {
		/* Nothing kept here: never detached here, or freed by an earlier call. */
		json_object_object_add(ret, "released", json_object_new_boolean(false));
		rpc_request_reply(req, ret);
		return;
	}
	v = vm_find(d, name);
	if (v && vm_get_status(v) == VM_RUNNING) {
		json_object_put(ret);
		rpc_request_reply_error(req, CONTROL_ERR_FAILED,
					"'%s' still runs on %s: its kept VF is not freed (the engine's migration has not moved it)",
					name, d->config->name);
		return;
	}
	log_info("%s: attached on a peer", name);
	hook_release_kept(d, &jr);
	json_object_object_add(ret, "released", json_object_new_boolean(true));
	rpc_request_reply(req, ret);
}

/* --- recovery --- */

static void recover_one(host_daemon *d, const migration_journal *jr)
{
	if (strcmp(jr->role, "attach"))
		return;
	log_info("Recovering the attach of '%s': running it again from plug", jr->vm);
	if (attach_start(d, jr->vm, host_config_find_peer(d->config, jr->peer) ? jr->peer : NULL,
			 NULL) < 0)
		log_error("Out of memory recovering the attach of '%s'", jr->vm);
}

int migration_hook_recover(host_daemon *d)
{
	return migration_journal_foreach(d, recover_one);
}
