// SPDX-License-Identifier: GPL-2.0-or-later
/* `dmigrate evacuate`: placement, the migrations at most N at a time, the journal (evacuation.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control_protocol.h"
#include "daemon/evacuation.h"
#include "daemon/evacuation_plan.h"
#include "errbuf.h"
#include "daemon/state_file.h"
#include "host/vm.h"
#include "log.h"
#include "macro.h"
#include "migration/migration_hook.h"
#include "migration/migration_job.h"
#include "migration/migration_outcome.h"
#include "migration/vm_backend.h"
#include "transport/peer_link.h"
#include "transport/peer_reply.h"

#define EVAC_PEER_TIMEOUT_MS 30000
#define EVAC_DEFAULT_PARALLEL 2
/* How often the running migrations' phases are looked at for the CLI's table. */
#define EVAC_TABLE_INTERVAL_MS 500
/* After a restart: time for the VMs' QMP and agent links to come back before jobs start. */
#define EVAC_RESUME_DELAY_MS 2000
/* A migration undone by a daemon restart is tried once more, not forever. */
#define EVAC_MAX_TRIES 2

typedef enum ev_state {
	EV_PENDING,  /* placed, not started */
	EV_RUNNING,  /* its source job runs */
	EV_ENDED,    /* its job ended: outcome says how */
	EV_UNPLACED, /* no peer can take it: left running here */
} ev_state;

static const char *const ev_state_names[] = {
	[EV_PENDING] = "pending",
	[EV_RUNNING] = "running",
	[EV_ENDED] = "ended",
	[EV_UNPLACED] = "unplaced",
};

typedef struct ev_vm {
	char *name;
	char *to; /* NULL: unplaced */
	ev_state state;
	char *outcome; /* the migration's, once ended */
	char *message; /* why unplaced, or the migration's message */
	json_object *result;
	unsigned tries;
	uint64_t memory_mib;
	unsigned pinned; /* vCPUs on dedicated CPUs */
	const char *shown_phase; /* last phase sent to the CLI */
} ev_vm;

typedef struct evacuation {
	host_daemon *d;
	char **to;
	size_t n_to;
	unsigned parallel;
	bool dry_run;
	bool journalled; /* STATE_DIR/evacuation.json written: removed at the end */
	ev_vm *vms;
	size_t n;
	rpc_request *req; /* the CLI's; NULL after a restart */

	/* Placement: the peers asked one after the other, all VMs at once. */
	size_t probing;
	size_t answers_due;
	peer_link *link;
	evac_offer *probes; /* [vm * n_to + peer]: what each peer said of each VM */

	uv_timer_t *timer;
} evacuation;

typedef struct ev_check {
	evacuation *ev;
	size_t vm;
} ev_check;

static char *journal_path(host_daemon *d)
{
	char *p;

	return asprintf(&p, "%s/evacuation.json", d->config->state_dir) < 0 ? NULL : p;
}

static void timer_close_cb(uv_handle_t *h)
{
	free(h);
}

static void ev_free(evacuation *ev)
{
	if (!ev)
		return;
	if (ev->d->evacuation == ev)
		ev->d->evacuation = NULL;
	peer_link_close(ev->link);
	if (ev->timer)
		uv_close((uv_handle_t *)ev->timer, timer_close_cb);
	for (size_t i = 0; i < ev->n_to; i++)
		free(ev->to[i]);
	free(ev->to);
	for (size_t i = 0; i < ev->n; i++) {
		free(ev->vms[i].name);
		free(ev->vms[i].to);
		free(ev->vms[i].outcome);
		free(ev->vms[i].message);
		json_object_put(ev->vms[i].result);
	}
	free(ev->vms);
	free(ev->probes);
	free(ev);
}

static evacuation *ev_new(host_daemon *d)
{
	evacuation *ev = calloc(1, sizeof(*ev));

	if (!ev)
		return NULL;
	ev->d = d;
	ev->timer = calloc(1, sizeof(*ev->timer));
	if (!ev->timer) {
		free(ev);
		return NULL;
	}
	uv_timer_init(d->loop, ev->timer);
	ev->timer->data = ev;
	return ev;
}

static void set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = s ? strdup(s) : NULL;
}

/* --- what the CLI and the journal see --- */

static json_object *vm_to_json(const ev_vm *m, bool with_result)
{
	json_object *o = json_object_new_object();
	const char *state = m->state == EV_ENDED ? (m->outcome ? m->outcome : "failed") :
			    m->state == EV_UNPLACED ? "unplaced" :
			    m->state == EV_RUNNING ? "migrating" : "planned";

	if (!o)
		return NULL;
	json_object_object_add(o, "vm", json_object_new_string(m->name));
	json_object_object_add(o, "to", m->to ? json_object_new_string(m->to) : NULL);
	json_object_object_add(o, "state", json_object_new_string(state));
	if (m->message)
		json_object_object_add(o, "message", json_object_new_string(m->message));
	if (with_result && m->result)
		json_object_object_add(o, "result", json_object_get(m->result));
	return o;
}

static void ev_send(evacuation *ev, const ev_vm *m, const char *phase)
{
	json_object *o;

	if (!ev->req)
		return;
	o = vm_to_json(m, false);
	if (!o)
		return;
	if (phase)
		json_object_object_add(o, "phase", json_object_new_string(phase));
	rpc_request_event(ev->req, "vm", o);
}

static void ev_journal(evacuation *ev)
{
	_cleanup_free_ char *path = journal_path(ev->d);
	json_object *o = json_object_new_object(), *to = json_object_new_array(),
		    *vms = json_object_new_array();
	int r = -ENOMEM;

	if (o && to && vms && path) {
		json_object_object_add(o, "host", json_object_new_string(ev->d->config->name));
		json_object_object_add(o, "parallel", json_object_new_int(ev->parallel));
		for (size_t i = 0; i < ev->n_to; i++)
			json_object_array_add(to, json_object_new_string(ev->to[i]));
		json_object_object_add(o, "to", to);
		to = NULL;
		for (size_t i = 0; i < ev->n; i++) {
			const ev_vm *m = &ev->vms[i];
			json_object *e = json_object_new_object();

			if (!e)
				break;
			json_object_object_add(e, "vm", json_object_new_string(m->name));
			json_object_object_add(e, "to", m->to ? json_object_new_string(m->to) : NULL);
			json_object_object_add(e, "state", json_object_new_string(ev_state_names[m->state]));
			json_object_object_add(e, "tries", json_object_new_int(m->tries));
			if (m->outcome)
				json_object_object_add(e, "outcome", json_object_new_string(m->outcome));
			if (m->message)
				json_object_object_add(e, "message", json_object_new_string(m->message));
			json_object_array_add(vms, e);
		}
		json_object_object_add(o, "vms", vms);
		vms = NULL;
		r = state_file_write(path, o);
		ev->journalled |= r >= 0;
	}
	json_object_put(o);
	json_object_put(to);
	json_object_put(vms);
	if (r < 0)
		log_warning_errno(r, "Failed to write the evacuation journal: %m");
}

static void ev_finish(evacuation *ev)
{
	_cleanup_free_ char *path = journal_path(ev->d);
	json_object *o = json_object_new_object(), *vms = json_object_new_array();
	unsigned moved = 0, left = 0;

	for (size_t i = 0; i < ev->n; i++) {
		const ev_vm *m = &ev->vms[i];

		if (m->state == EV_ENDED &&
		    (migration_outcome_from_name(m->outcome) == OUTCOME_MIGRATED ||
		     migration_outcome_from_name(m->outcome) == OUTCOME_DEGRADED))
			moved++;
		else
			left++;
		if (vms)
			json_object_array_add(vms, vm_to_json(m, true));
	}
	log_info("Evacuation of %s %s: %u VM(s) moved, %u not", ev->d->config->name,
		 ev->dry_run ? "planned" : "ended", moved, left);
	if (ev->journalled && path)
		state_file_remove(path);
	if (ev->req) {
		if (o && vms) {
			json_object_object_add(o, "host", json_object_new_string(ev->d->config->name));
			json_object_object_add(o, "dry_run", json_object_new_boolean(ev->dry_run));
			json_object_object_add(o, "vms", vms);
			vms = NULL;
			rpc_request_reply(ev->req, o);
			o = NULL;
		} else
			rpc_request_reply_error(ev->req, CONTROL_ERR_FAILED, "Out of memory");
		ev->req = NULL;
	}
	json_object_put(o);
	json_object_put(vms);
	ev_free(ev);
}

/* --- running: at most `parallel` source jobs --- */

static void ev_end_vm(evacuation *ev, ev_vm *m, const char *outcome, const char *message)
{
	m->state = EV_ENDED;
	set_str(&m->outcome, outcome);
	set_str(&m->message, message);
	log_info("Evacuation: %s %s%s%s", m->name, outcome, message ? ": " : "",
		 message ? message : "");
	ev_send(ev, m, NULL);
}

static void ev_schedule(evacuation *ev)
{
	unsigned running = 0;
	bool open = false;

	for (size_t i = 0; i < ev->n; i++)
		running += ev->vms[i].state == EV_RUNNING;
	for (size_t i = 0; i < ev->n && running < ev->parallel; i++) {
		ev_vm *m = &ev->vms[i];
		vm *v;
		int r;

		if (m->state != EV_PENDING)
			continue;
		v = vm_find(ev->d, m->name);
		if (!v || vm_is_incoming(v)) {
			ev_end_vm(ev, m, "failed", "it is no longer on this host");
			continue;
		}
		if (vm_get_job(v)) {
			ev_end_vm(ev, m, "failed", "another migration of it runs");
			continue;
		}
		m->tries++;
		m->state = EV_RUNNING;
		m->shown_phase = NULL;
		r = migration_source_start(v, m->to, NULL, NULL, NULL);
		if (r < 0) {
			ev_end_vm(ev, m, "failed", strerror(-r));
			continue;
		}
		running++;
		ev_send(ev, m, "preflight");
	}
	for (size_t i = 0; i < ev->n; i++)
		open |= ev->vms[i].state == EV_PENDING || ev->vms[i].state == EV_RUNNING;
	ev_journal(ev);
	if (!open)
		ev_finish(ev);
}

typedef struct ev_progress_ask {
	host_daemon *d;
	char *vm;
} ev_progress_ask;

/* The copy's figures, for the CLI's table: sent with the VM's phase. */
static void ev_on_progress(int error, json_object *ret, const char *message, void *userdata)
{
	ev_progress_ask *a = userdata;
	evacuation *ev = a->d->evacuation;
	json_object *ram, *v, *o, *p;

	for (size_t i = 0; ev && ev->req && error == 0 && i < ev->n; i++) {
		ev_vm *m = &ev->vms[i];

		if (m->state != EV_RUNNING || strcmp(m->name, a->vm) ||
		    !json_object_object_get_ex(ret, "ram", &ram) || !(o = vm_to_json(m, false)))
			continue;
		json_object_object_add(o, "phase", json_object_new_string("migrate"));
		p = json_object_new_object();
		for (size_t k = 0; p && k < 3; k++) {
			static const char *const keys[] = { "transferred", "remaining", "total" };

			if (json_object_object_get_ex(ram, keys[k], &v) && json_object_is_type(v, json_type_int))
				json_object_object_add(p, keys[k], json_object_get(v));
		}
		json_object_object_add(o, "progress", p);
		rpc_request_event(ev->req, "vm", o);
	}
	free(a->vm);
	free(a);
}

/* The CLI's table: a running migration's phase when it changes, and the copy's progress. */
static void ev_watch(uv_timer_t *t)
{
	evacuation *ev = t->data;

	for (size_t i = 0; i < ev->n; i++) {
		ev_vm *m = &ev->vms[i];
		vm *v = m->state == EV_RUNNING ? vm_find(ev->d, m->name) : NULL;
		const char *phase = v ? migration_source_phase(v) : NULL;
		ev_progress_ask *a;

		if (phase && phase != m->shown_phase) {
			m->shown_phase = phase;
			ev_send(ev, m, phase);
		}
		if (!phase || strcmp(phase, "migrate") || !ev->req || !(a = calloc(1, sizeof(*a))))
			continue;
		*a = (ev_progress_ask){ .d = ev->d, .vm = strdup(m->name) };
		if (!a->vm || vm_backend_of(v)->migrate_query(v, ev_on_progress, a) < 0) {
			free(a->vm);
			free(a);
		}
	}
}

static void ev_start(uv_timer_t *t)
{
	evacuation *ev = t->data;

	uv_timer_start(ev->timer, ev_watch, EVAC_TABLE_INTERVAL_MS, EVAC_TABLE_INTERVAL_MS);
	ev_schedule(ev);
}

void evacuation_job_ended(host_daemon *d, const char *name, json_object *result)
{
	evacuation *ev = d->evacuation;
	json_object *o;

	if (!ev)
		return;
	for (size_t i = 0; i < ev->n; i++) {
		ev_vm *m = &ev->vms[i];

		if (m->state != EV_RUNNING || strcmp(m->name, name))
			continue;
		json_object_put(m->result);
		m->result = result ? json_object_get(result) : NULL;
		ev_end_vm(ev, m,
			  result && json_object_object_get_ex(result, "outcome", &o) ?
				  json_object_get_string(o) : "failed",
			  result && json_object_object_get_ex(result, "message", &o) ?
				  json_object_get_string(o) : NULL);
		/* The job is still being freed: start the next ones from the loop. */
		uv_timer_start(ev->timer, ev_start, 0, 0);
		return;
	}
}

/* --- placement --- */

/* The plan (evacuation_plan.h), then the migrations, or the plan alone for a dry run. */
static void ev_place(evacuation *ev)
{
	_cleanup_free_ evac_need *needs = calloc(ev->n ? ev->n : 1, sizeof(*needs));
	_cleanup_free_ ssize_t *peer = calloc(ev->n ? ev->n : 1, sizeof(*peer));
	_cleanup_free_ char(*why)[EVAC_WHY_MAX] = calloc(ev->n ? ev->n : 1, sizeof(*why));

	for (size_t i = 0; needs && i < ev->n; i++)
		needs[i] = (evac_need){ ev->vms[i].memory_mib, ev->vms[i].pinned };
	if (!needs || !peer || !why ||
	    evacuation_plan(needs, ev->n, ev->probes, (const char *const *)ev->to, ev->n_to, peer,
			    why) < 0) {
		for (size_t i = 0; i < ev->n; i++) {
			ev->vms[i].state = EV_UNPLACED;
			set_str(&ev->vms[i].message, "out of memory while placing it");
		}
		ev_finish(ev);
		return;
	}
	for (size_t i = 0; i < ev->n; i++) {
		ev_vm *m = &ev->vms[i];

		if (peer[i] < 0) {
			m->state = EV_UNPLACED;
			set_str(&m->message, why[i]);
			log_info("Evacuation: %s stays on %s: %s", m->name, ev->d->config->name, why[i]);
		} else {
			set_str(&m->to, ev->to[peer[i]]);
			set_str(&m->message, why[i][0] ? why[i] : NULL);
			log_info("Evacuation: %s goes to %s%s%s", m->name, m->to, why[i][0] ? ": " : "",
				 why[i]);
		}
	}
	if (ev->dry_run) {
		ev_finish(ev);
		return;
	}
	ev->d->evacuation = ev;
	for (size_t i = 0; i < ev->n; i++)
		if (ev->vms[i].state == EV_UNPLACED)
			ev_send(ev, &ev->vms[i], NULL);
	ev_start(ev->timer);
}

static void ev_probe_next(evacuation *ev);

/* One VM's answer from the peer being asked (why NULL: it can take it); the last moves on. */
static void ev_answer(evacuation *ev, size_t vm_index, const char *why)
{
	evac_offer *p = &ev->probes[vm_index * ev->n_to + ev->probing];

	p->ok = !why;
	if (why) /* cut to the reason's room, on purpose */
		snprintf(p->why, sizeof(p->why), "%.*s", (int)sizeof(p->why) - 1, why);
	if (--ev->answers_due == 0) {
		peer_link_close(TAKE_PTR(ev->link));
		ev->probing++;
		ev_probe_next(ev);
	}
}

static void ev_on_check(rpc_conn *c, int error, json_object *ret, const char *code,
			const char *message, void *userdata)
{
	ev_check k = *(ev_check *)userdata;
	evac_offer *p = &k.ev->probes[k.vm * k.ev->n_to + k.ev->probing];
	char problem[200], why[300];
	peer_error e;

	free(userdata);
	if (error == -ECANCELED)
		return;
	if (error < 0) {
		peer_error_clean(code, message ? message : strerror(-error), &e);
		ev_answer(k.ev, k.vm, e.message);
	} else if (peer_reply_check(ret, &p->capacity, problem, sizeof(problem)) < 0) {
		snprintf(why, sizeof(why), "its reply to peer-check is refused: %s", problem);
		ev_answer(k.ev, k.vm, why);
	} else {
		ev_answer(k.ev, k.vm, NULL);
	}
}

static void ev_on_link(peer_link *l, rpc_conn *conn, int error, const char *message,
		       void *userdata)
{
	evacuation *ev = userdata;
	char why[300];
	size_t n = ev->n;

	ev->answers_due = n;
	if (error < 0) {
		snprintf(why, sizeof(why), "cannot be reached: %s", message ? message : strerror(-error));
		for (size_t i = 0; i < n; i++)
			ev_answer(ev, i, why);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		vm *v = vm_find(ev->d, ev->vms[i].name);
		json_object *args = json_object_new_object(), *spec = NULL;
		ev_check *k = calloc(1, sizeof(*k));

		if (!k || !args || !v || vm_spec_to_json(vm_get_spec(v), &spec) < 0) {
			free(k);
			json_object_put(args);
			ev_answer(ev, i, v ? "out of memory" : "the VM went away");
			continue;
		}
		*k = (ev_check){ .ev = ev, .vm = i };
		json_object_object_add(args, "vm", json_object_new_string(ev->vms[i].name));
		json_object_object_add(args, "spec", spec);
		if (rpc_conn_call(conn, "peer-check", args, EVAC_PEER_TIMEOUT_MS, NULL, ev_on_check, k) < 0) {
			free(k);
			ev_answer(ev, i, "cannot send peer-check");
		}
	}
}

static void ev_probe_next(evacuation *ev)
{
	const peer_config *peer;
	int r;

	if (ev->probing == ev->n_to) {
		ev_place(ev);
		return;
	}
	peer = host_config_find_peer(ev->d->config, ev->to[ev->probing]);
	r = peer ? peer_link_open(ev->d, peer, ev_on_link, ev, &ev->link) : -ENOENT;
	if (r < 0) {
		ev->link = NULL;
		ev_on_link(NULL, NULL, r, strerror(-r), ev);
	}
}

/* --- the request --- */

/*
 * Whether v is a VM of this host that an evacuation moves, whatever runs it (its QEMU, or
 * libvirtd for a bound domain: no pid of ours): it runs or is paused here, is not arriving
 * from a peer, takes part in no migration, and is not detached for an engine's own migration
 * (hook mode keeps it in its journal, migration_hook.h: the engine moves it, not us).
 */
static bool ev_runs_here(host_daemon *d, const vm *v)
{
	vm_status s = vm_get_status(v);

	if ((s != VM_RUNNING && s != VM_PAUSED) || vm_is_incoming(v) || vm_get_job(v) ||
	    vm_get_incoming_job(v))
		return false;
	if (migration_hook_detached(d, vm_get_name(v))) {
		log_info("Evacuation of %s leaves '%s' out: it is detached for an engine's migration",
			 d->config->name, vm_get_name(v));
		return false;
	}
	return true;
}

static int ev_add_vm(evacuation *ev, const vm *v)
{
	ev_vm *grown = realloc(ev->vms, (ev->n + 1) * sizeof(*ev->vms));

	if (!grown)
		return -ENOMEM;
	ev->vms = grown;
	grown[ev->n] = (ev_vm){
		.name = strdup(vm_get_name(v)),
		.memory_mib = vm_get_spec(v) ? vm_get_spec(v)->memory_mib : 0,
		.pinned = vm_get_spec(v) && vm_get_spec(v)->cpumap ? vm_get_spec(v)->cpumap->n : 0};
	if (!grown[ev->n].name)
		return -ENOMEM;
	ev->n++;
	return 0;
}

static int ev_add_peer(evacuation *ev, const char *name)
{
	char **grown = realloc(ev->to, (ev->n_to + 1) * sizeof(*ev->to));

	if (!grown)
		return -ENOMEM;
	ev->to = grown;
	grown[ev->n_to] = strdup(name);
	if (!grown[ev->n_to])
		return -ENOMEM;
	ev->n_to++;
	return 0;
}

/* The peers the daemon knows, for messages: "hostB, hostC". */
static void peer_names(const host_config *c, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < c->n_peers && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", c->peers[i].name);
}

void daemon_cmd_evacuate(host_daemon *d, rpc_request *req, json_object *args)
{
	char peers[512];
	json_object *o;
	evacuation *ev;
	const char *host = daemon_arg_string(req, args, "host");

	if (!host)
		return;
	peer_names(d->config, peers, sizeof(peers));
	if (strcmp(host, d->config->name)) {
		rpc_request_reply_error(req, CONTROL_ERR_INVALID,
					"This is %s's dmigrated, not %.64s's: run 'dmigrate evacuate %.64s' on %.64s (the daemon of the host being emptied coordinates)",
					d->config->name, host, host, host);
		return;
	}
	if (d->evacuation) {
		rpc_request_reply_error(req, CONTROL_ERR_BUSY,
					"An evacuation of %s runs already; 'dmigrate list' shows what is left",
					d->config->name);
		return;
	}
	ev = ev_new(d);
	if (!ev) {
		rpc_request_reply_error(req, CONTROL_ERR_FAILED, "Out of memory");
		return;
	}
	ev->parallel = EVAC_DEFAULT_PARALLEL;
	if (json_object_object_get_ex(args, "parallel", &o))
		ev->parallel = (unsigned)json_object_get_int(o); /* 1..EVACUATE_PARALLEL_MAX: checked */
	ev->dry_run = json_object_object_get_ex(args, "dry_run", &o) && json_object_get_boolean(o);
	if (json_object_object_get_ex(args, "to", &o)) {
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			const char *t = json_object_get_string(json_object_array_get_idx(o, i));

			if (!strcmp(t, d->config->name)) {
				rpc_request_reply_error(req, CONTROL_ERR_INVALID,
							"Cannot evacuate %s onto itself: --to names %s; give other hosts (peers: %s)",
							t, t, peers);
				ev_free(ev);
				return;
			}
			if (!host_config_find_peer(d->config, t)) {
				rpc_request_reply_error(req, CONTROL_ERR_NOT_FOUND,
							"Unknown host '%.64s' in --to: it is not among the peers in %s (%s)",
							t, d->config->path, peers);
				ev_free(ev);
				return;
			}
			if (ev_add_peer(ev, t) < 0)
				goto oom;
		}
	} else {
		for (size_t i = 0; i < d->config->n_peers; i++)
			if (ev_add_peer(ev, d->config->peers[i].name) < 0)
				goto oom;
	}
	if (ev->n_to == 0) {
		rpc_request_reply_error(req, CONTROL_ERR_FAILED, "%s has no peers to evacuate to (peers in %s)",
					d->config->name, d->config->path);
		ev_free(ev);
		return;
	}
	for (vm *v = vm_first(d); v; v = vm_next(v))
		if (ev_runs_here(d, v) && ev_add_vm(ev, v) < 0)
			goto oom;
	ev->req = req;
	log_info("Evacuation of %s%s: %zu VM(s) onto %zu peer(s), %u at a time", d->config->name,
		 ev->dry_run ? " (dry run)" : "", ev->n, ev->n_to, ev->parallel);
	if (ev->n == 0) {
		ev_finish(ev);
		return;
	}
	ev->probes = calloc(ev->n * ev->n_to, sizeof(*ev->probes));
	if (!ev->probes) {
		ev->req = NULL;
		goto oom;
	}
	/* Placing takes the peers' answers: no second evacuation meanwhile. */
	if (!ev->dry_run)
		d->evacuation = ev;
	ev_probe_next(ev);
	return;
oom:
	rpc_request_reply_error(req, CONTROL_ERR_FAILED, "Out of memory");
	ev_free(ev);
}

/* --- after a restart --- */

static int ev_parse_state(const char *s, ev_state *ret)
{
	for (size_t i = 0; i < ELEMENTSOF(ev_state_names); i++)
		if (!strcmp(s, ev_state_names[i])) {
			*ret = (ev_state)i;
			return 0;
		}
	return -EBADMSG;
}

static const char *member_string(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) ?
		       json_object_get_string(v) : NULL;
}

/* A string member, absent or within max bytes without control characters. */
static bool text_ok(json_object *o, const char *key, size_t max)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, key, &v))
		return true;
	if (!json_object_is_type(v, json_type_string) || (size_t)json_object_get_string_len(v) > max)
		return false;
	for (s = json_object_get_string(v); *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return (size_t)(s - json_object_get_string(v)) == (size_t)json_object_get_string_len(v);
}

static bool int_in(json_object *o, const char *key, int64_t min, int64_t max)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int) &&
	       json_object_get_int64(v) >= min && json_object_get_int64(v) <= max;
}

#define EVAC_JOURNAL_MAX_VMS 4096

int evacuation_journal_check(json_object *o, const host_config *c, char *why, size_t size)
{
	json_object *vms, *to, *e, *t;
	ev_state st;

	if (!json_object_is_type(o, json_type_object) || !int_in(o, "parallel", 1, EVACUATE_PARALLEL_MAX))
		return errbuf_set(why, size, -EBADMSG, "'parallel' must be an integer 1..%d",
				  EVACUATE_PARALLEL_MAX);
	if (!json_object_object_get_ex(o, "to", &to) || !json_object_is_type(to, json_type_array) ||
	    json_object_array_length(to) == 0 || json_object_array_length(to) > HOST_CONFIG_MAX_PEERS)
		return errbuf_set(why, size, -EBADMSG, "'to' must be a list of 1..%d peers",
				  HOST_CONFIG_MAX_PEERS);
	for (size_t i = 0; i < json_object_array_length(to); i++) {
		t = json_object_array_get_idx(to, i);
		if (!json_object_is_type(t, json_type_string) ||
		    !host_config_find_peer(c, json_object_get_string(t)))
			return errbuf_set(why, size, -EBADMSG, "'to'[%zu] is not a peer in %s", i,
					  c->path ? c->path : "the config");
	}
	if (!json_object_object_get_ex(o, "vms", &vms) || !json_object_is_type(vms, json_type_array) ||
	    json_object_array_length(vms) > EVAC_JOURNAL_MAX_VMS)
		return errbuf_set(why, size, -EBADMSG, "'vms' must be a list of at most %d VMs",
				  EVAC_JOURNAL_MAX_VMS);
	for (size_t i = 0; i < json_object_array_length(vms); i++) {
		const char *name, *peer, *state;

		e = json_object_array_get_idx(vms, i);
		name = member_string(e, "vm");
		peer = member_string(e, "to");
		state = member_string(e, "state");
		if (!name || !control_name_valid(name, strlen(name)) ||
		    (size_t)json_object_get_string_len(json_object_object_get(e, "vm")) != strlen(name))
			return errbuf_set(why, size, -EBADMSG, "vms[%zu]: 'vm' is not a VM name", i);
		if (!state || ev_parse_state(state, &st) < 0)
			return errbuf_set(why, size, -EBADMSG, "vms[%zu]: unknown 'state'", i);
		if (peer ? !host_config_find_peer(c, peer) || st == EV_UNPLACED :
			   st != EV_UNPLACED || json_object_get_type(json_object_object_get(e, "to")) != json_type_null)
			return errbuf_set(why, size, -EBADMSG,
					  "vms[%zu]: 'to' must be a peer, or null for an unplaced VM", i);
		if (!int_in(e, "tries", 0, EVAC_MAX_TRIES) || !text_ok(e, "outcome", 32) ||
		    !text_ok(e, "message", EVAC_WHY_MAX))
			return errbuf_set(why, size, -EBADMSG,
					  "vms[%zu]: 'tries' (0..%d), 'outcome' or 'message' is wrong", i,
					  EVAC_MAX_TRIES);
	}
	return 0;
}

int evacuation_recover(host_daemon *d)
{
	_cleanup_free_ char *path = journal_path(d);
	json_object *o = NULL, *vms, *to;
	char why[256];
	evacuation *ev = NULL;
	int r;

	if (!path)
		return -ENOMEM;
	r = state_file_read(path, &o);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		log_warning_errno(r, "Failed to read the evacuation journal %s: %m", path);
		return r;
	}
	r = evacuation_journal_check(o, d->config, why, sizeof(why));
	if (r < 0) {
		log_warning("The evacuation journal %s is left alone: %s", path, why);
		json_object_put(o);
		return r;
	}
	ev = ev_new(d);
	if (!ev)
		goto oom;
	ev->parallel = (unsigned)json_object_get_int(json_object_object_get(o, "parallel"));
	to = json_object_object_get(o, "to");
	for (size_t i = 0; i < json_object_array_length(to); i++)
		if (ev_add_peer(ev, json_object_get_string(json_object_array_get_idx(to, i))) < 0)
			goto oom;
	vms = json_object_object_get(o, "vms");
	ev->vms = calloc(json_object_array_length(vms) + 1, sizeof(*ev->vms));
	if (!ev->vms)
		goto oom;
	for (size_t i = 0; i < json_object_array_length(vms); i++) {
		json_object *e = json_object_array_get_idx(vms, i);
		const char *name = member_string(e, "vm"), *t = member_string(e, "to");
		ev_vm *m = &ev->vms[ev->n++];
		vm *v;

		ev_parse_state(member_string(e, "state"), &m->state);
		m->tries = (unsigned)json_object_get_int(json_object_object_get(e, "tries"));
		m->name = strdup(name);
		set_str(&m->to, t);
		set_str(&m->outcome, member_string(e, "outcome"));
		set_str(&m->message, member_string(e, "message"));
		if (!m->name || (t && !m->to))
			goto oom;
		if (m->state != EV_RUNNING)
			continue;
		v = vm_find(d, name);
		if (!v)
			/* Gone from here: its job committed (the journal is written before). */
			ev_end_vm(ev, m, "migrated", "finished while dmigrated restarted");
		else if (!vm_get_job(v)) {
			if (m->tries < EVAC_MAX_TRIES)
				m->state = EV_PENDING; /* undone by the restart: once more */
			else
				ev_end_vm(ev, m, "rolled-back", "undone when dmigrated restarted");
		}
		/* else its job was taken up by migration_source_recover(): it ends as usual. */
	}
	json_object_put(o);
	log_info("Taking up the evacuation of %s left in %s (%zu VMs)", d->config->name, path, ev->n);
	d->evacuation = ev;
	ev->journalled = true;
	uv_timer_start(ev->timer, ev_start, EVAC_RESUME_DELAY_MS, 0);
	return 0;
oom:
	log_error("Out of memory taking up the evacuation in %s; it is left for the next start", path);
	json_object_put(o);
	ev_free(ev);
	return -ENOMEM;
}
