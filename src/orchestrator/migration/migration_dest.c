// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The destination half of a migration (docs/design.md, "The destination's half"). It answers the
 * source's peer-* commands, and it is a job of its own: it records its phase in its own journal
 * (prepare, incoming, switchover, plug, active, did-on, commit), and from the switchover on it
 * owns the migration. Once the VM runs here, plug, active and did-on run without waiting for the
 * source; the source's peer-plug, peer-activate and peer-did-on only wait for their outcome. A
 * restarted daemon finishes them from the journal, and an incoming VM whose source never switches
 * it over is removed at a deadline (incoming_timeout_ms).
 *
 * Before the switchover a failure here undoes this half (the incoming QEMU stopped, its VF freed)
 * and tells the source, which resumes its own copy. After it, a failure only degrades the result;
 * the destination's QEMU dying then takes the only running copy with it: the VM is reported lost.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control_protocol.h"
#include "log.h"
#include "migration/migration_fault.h"
#include "migration/migration_job.h"
#include "migration/migration_journal.h"
#include "host/qemu_argv.h"
#include "migration/vf_activate.h"
#include "migration/vm_backend.h"
#include "host/capacity.h"
#include "host/cpu_pinning.h"
#include "host/vf_steering.h"

#define DEST_QMP_TIMEOUT_MS 10000
/* Past agent_timeout_ms (at most 60 s) of its one agent call. */
#define DEST_DID_ON_TIMEOUT_MS 65000
#define DEST_PREPARE_TIMEOUT_MS 60000
#define DEST_SWITCHOVER_TIMEOUT_MS 60000
/* netdev_add (emulated VFs), then device_add */
#define DEST_PLUG_TIMEOUT_MS (DEST_QMP_TIMEOUT_MS + QEMU_VF_PLUG_TIMEOUT_MS)
#define DEST_ACTIVE_TIMEOUT_MS (3 * VF_ACTIVATE_TIMEOUT_MS)
/* After did-on, how long the source has to confirm it let its copy go before we commit alone. */
#define DEST_COMMIT_WAIT_MS 60000

typedef struct dest_job dest_job;

/* A request that waits for a phase's outcome: peer-prepare, peer-switchover, peer-plug, ... */
typedef struct dest_waiter {
	rpc_request *req;
	dest_phase phase;
	struct dest_waiter *next;
} dest_waiter;

struct dest_job {
	host_daemon *d;
	char *vm;
	char *source;
	dest_phase phase;
	int step;
	bool in_phase;   /* the phase's steps run (false: it waits for the source, or it ended) */
	bool did;        /* turn DID on after the VF: the source had it on */
	bool degraded;
	bool lost;       /* the VM ran here after the switchover and its QEMU died */
	bool ended;      /* committed, undone or lost: freed once no callback is pending */
	bool multifd;
	bool commit_asked; /* the source sent peer-commit: its copy is gone */
	bool resumed;      /* `cont` was sent: the VM may have run here, so never again there */
	bool copy_completed; /* the backend said the copy completed: no query before the `cont` */
	unsigned pending; /* callbacks still to come that hold j */
	uint64_t deadline_ms; /* CLOCK_REALTIME: an incoming VM not switched over by then is removed */
	migration_fault fault; /* a drill's fault at one of our phases after the switchover */
	bool fault_fired;
	uint64_t port;   /* where the incoming QEMU listens */
	/*
	 * The active phase's request, asked for as the plug starts (plug_run()): its outcome, kept
	 * until the active phase takes it, and plug_end_ms, when the plug ended (or, asked only by
	 * the active phase after a restart, when it was asked): its device wait is counted from
	 * there (active_take()).
	 */
	struct {
		bool asked, answered, waited_for;
		int error;
		char *message;
		vf_activate_wait wait;
		uint64_t plug_end_ms;
	} activate;
	struct {
		phase_state state; /* pending until finished: done, failed or skipped */
		char *message;
		uint64_t device_wait_ms, request_held_ms;
	} rec[_DEST_PHASE_MAX];
	dest_waiter *waiters;
	rpc_request *abort_req; /* peer-abort, answered once the incoming QEMU is gone */
	uv_timer_t *phase_timer, *deadline_timer;
	dest_job *next;
};

/*
 * The destination's phases. run starts step j->step and returns 1 when there is no such step, 0
 * when it started one (which ends with dest_step_done()), or a negative errno. timeout_ms bounds
 * the phase; 0: the job's deadline bounds it. A failure in a phase that undoes removes the
 * incoming VM; in one that does not, it degrades the result and the job goes on.
 */
typedef struct dest_phase_def {
	const char *where;
	int (*run)(dest_job *j);
	uint64_t timeout_ms;
	bool undoes;
} dest_phase_def;

static const dest_phase_def dest_phases[_DEST_PHASE_MAX];

static uint64_t realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static dest_job *dest_job_find(host_daemon *d, const char *name)
{
	for (dest_job *j = d->dest_jobs; j; j = j->next)
		if (!j->ended && !strcmp(j->vm, name))
			return j;
	return NULL;
}

static void dest_timer_free(uv_handle_t *h)
{
	free(h);
}

static void dest_job_free(dest_job *j)
{
	for (dest_job **p = &j->d->dest_jobs; *p; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			break;
		}
	uv_close((uv_handle_t *)j->phase_timer, dest_timer_free);
	uv_close((uv_handle_t *)j->deadline_timer, dest_timer_free);
	for (int p = 0; p < _DEST_PHASE_MAX; p++)
		free(j->rec[p].message);
	free(j->activate.message);
	free(j->vm);
	free(j->source);
	free(j);
}

/* A callback that holds j is about to be set up / has run. */
static void dest_hold(dest_job *j)
{
	j->pending++;
}

static bool dest_release(dest_job *j)
{
	j->pending--;
	if (j->ended && j->pending == 0) {
		dest_job_free(j);
		return true;
	}
	return false;
}

static void dest_journal(dest_job *j)
{
	migration_journal jr = {
		.vm = j->vm,
		.role = "destination",
		.peer = j->source,
		.phase = j->phase,
		.did_available = j->did,
		.degraded = j->degraded,
		.deadline_ms = j->deadline_ms,
		.resumed = j->resumed,
		.lost = j->lost,
		.fault = j->fault_fired ? (migration_fault){ 0 } : j->fault,
	};
	int r = migration_journal_write(j->d, &jr);

	if (r < 0)
		log_warning_errno(r, "Failed to write the destination journal of '%s': %m", j->vm);
}

static vm *dest_vm(dest_job *j)
{
	return vm_find(j->d, j->vm);
}

/* --- answering the source --- */

static json_object *dest_record_json(dest_job *j, dest_phase p)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "phase", json_object_new_string(dest_phase_name(p)));
	json_object_object_add(o, "state", json_object_new_string(phase_state_name(j->rec[p].state)));
	if (j->rec[p].message)
		json_object_object_add(o, "message", json_object_new_string(j->rec[p].message));
	if (p == DEST_ACTIVE) {
		json_object_object_add(o, "device_wait_ms",
				       json_object_new_uint64(j->rec[p].device_wait_ms));
		json_object_object_add(o, "request_held_ms",
				       json_object_new_uint64(j->rec[p].request_held_ms));
	}
	if (p == DEST_PREPARE)
		json_object_object_add(o, "port", json_object_new_uint64(j->port));
	return o;
}

static void dest_answer(dest_job *j, rpc_request *req, dest_phase p)
{
	if (j->lost)
		rpc_request_reply_error(req, DEST_ERR_LOST,
					"'%s' is lost: its QEMU on %s exited after the switchover",
					j->vm, j->d->config->name);
	else if (j->rec[p].state == PHASE_STATE_PENDING)
		/* The job ended before it reached p: only an undone one does. */
		rpc_request_reply_error(req, p <= DEST_SWITCHOVER ? DEST_ERR_NOT_RUNNING :
								    CONTROL_ERR_FAILED,
					"%s: the incoming migration of '%s' was undone before %s",
					j->d->config->name, j->vm, dest_phase_name(p));
	else if (j->rec[p].state == PHASE_STATE_FAILED)
		rpc_request_reply_error(req, p <= DEST_SWITCHOVER ? DEST_ERR_NOT_RUNNING :
								    CONTROL_ERR_FAILED,
					"%s: %s", j->d->config->name,
					j->rec[p].message ?: "failed");
	else
		rpc_request_reply(req, dest_record_json(j, p));
}

/* Answer the requests that wait for phase p (all of them, when the job ended). */
static void dest_answer_waiters(dest_job *j)
{
	for (dest_waiter **w = &j->waiters; *w;) {
		dest_waiter *x = *w;

		if (!j->ended && j->rec[x->phase].state == PHASE_STATE_PENDING) {
			w = &x->next;
			continue;
		}
		*w = x->next;
		dest_answer(j, x->req, x->phase);
		free(x);
	}
}

static void dest_wait_for(dest_job *j, rpc_request *req, dest_phase p)
{
	dest_waiter *w;

	/* A lost VM's phases never finish: the source hears it at once, whatever it waits for
	 * (a restarted daemon that found the VM gone records none of them). */
	if (j->ended || j->lost || j->rec[p].state != PHASE_STATE_PENDING) {
		dest_answer(j, req, p);
		return;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		rpc_request_reply_error(req, CONTROL_ERR_FAILED, "Out of memory");
		return;
	}
	w->req = req;
	w->phase = p;
	w->next = j->waiters;
	j->waiters = w;
}

/* --- the runner --- */

static void dest_enter(dest_job *j, dest_phase p);
static void dest_step(dest_job *j);
static void dest_arm_deadline(dest_job *j);

static void dest_set_record(dest_job *j, dest_phase p, phase_state state, const char *message)
{
	j->rec[p].state = state;
	free(j->rec[p].message);
	j->rec[p].message = message ? strdup(message) : NULL;
}

/* The job is over: forget it once its last callback has run. */
static void dest_end(dest_job *j)
{
	vm *v = dest_vm(j);

	if (v && vm_get_incoming_job(v) == j)
		vm_set_incoming_job(v, NULL);
	uv_timer_stop(j->phase_timer);
	uv_timer_stop(j->deadline_timer);
	j->in_phase = false;
	j->ended = true;
	dest_answer_waiters(j);
	dest_hold(j);
	dest_release(j);
}

/*
 * The source's peer-abort is answered once nothing of the VM is left here: a source (or a
 * drill) that asks where the VM runs right after must not find the incoming copy still registered.
 */
static void dest_answer_abort(dest_job *j)
{
	if (!j->abort_req)
		return;
	rpc_request_reply(j->abort_req, NULL);
	j->abort_req = NULL;
}

/* Before the switchover: stop the incoming QEMU, free its VF, forget the job. */
static void dest_undo_on_stopped(vm *v, int error, const char *message, void *userdata)
{
	dest_job *j = userdata;

	/* The journal goes last: a daemon that dies before would undo it all again. */
	vm_forget(v);
	migration_journal_remove(j->d, j->vm);
	dest_answer_abort(j);
	dest_release(j);
}

static void dest_undo(dest_job *j, const char *why)
{
	vm *v = dest_vm(j);

	log_warning("%s: incoming migration from %s undone: %s", j->vm, j->source, why);
	if (j->phase < _DEST_PHASE_MAX && j->rec[j->phase].state == PHASE_STATE_PENDING)
		dest_set_record(j, j->phase, PHASE_STATE_FAILED, why);
	if (v) {
		vm_set_incoming_job(v, NULL);
		dest_hold(j);
		if (vm_backend_of(v)->stop(v, true, dest_undo_on_stopped, j) < 0) {
			j->pending--;
			vm_forget(v);
			migration_journal_remove(j->d, j->vm);
			dest_answer_abort(j);
		}
	} else {
		migration_journal_remove(j->d, j->vm);
		dest_answer_abort(j);
	}
	dest_end(j);
}

/* After the switchover the VM's only running copy was here, and it is gone. */
static void dest_lose(dest_job *j, const char *why)
{
	vm *v = dest_vm(j);

	log_error("VM '%s' IS LOST: %s. It migrated from %s, where it never runs again (a QEMU stays paused there, libvirt removed its domain there); restart it from its spec.",
		  j->vm, why, j->source);
	j->lost = true;
	j->in_phase = false;
	uv_timer_stop(j->phase_timer);
	if (v) {
		vm_set_incoming_job(v, NULL);
		vm_forget(v); /* releases the VF: nothing stays reserved for a VM that is gone */
	}
	/*
	 * The job stays, in memory and in the journal, until the source has heard it (its
	 * peer-commit) or the deadline: a source told "not running" instead would resume a copy
	 * whose state the lost one had moved past.
	 */
	dest_journal(j);
	j->deadline_ms = realtime_ms() + j->d->config->incoming_timeout_ms;
	dest_arm_deadline(j);
	dest_answer_waiters(j);
}

/* The source heard that the VM is lost, or never will: forget it. */
static void dest_forget_lost(dest_job *j)
{
	migration_journal_remove(j->d, j->vm);
	dest_end(j);
}

static void dest_commit(dest_job *j)
{
	vm *v = dest_vm(j);

	if (v) {
		vm_set_incoming(v, false);
		vm_save(v);
	}
	dest_set_record(j, DEST_COMMIT, PHASE_STATE_DONE, NULL);
	migration_journal_remove(j->d, j->vm);
	log_info("%s: migration from %s committed%s; the VM is %s's now", j->vm, j->source,
		 j->degraded ? " (degraded)" : "", j->d->config->name);
	dest_end(j);
}

static void dest_phase_failed(dest_job *j, const char *message)
{
	dest_phase p = j->phase;

	uv_timer_stop(j->phase_timer);
	j->in_phase = false;
	log_warning("%s: destination phase %s failed: %s", j->vm, dest_phase_name(p), message);
	if (p == DEST_SWITCHOVER && j->resumed) {
		/* It runs here: only the announcement failed. The guest's own ARP follows. */
		dest_set_record(j, p, PHASE_STATE_DONE, message);
		dest_answer_waiters(j);
		dest_enter(j, p + 1);
		return;
	}
	if (dest_phases[p].undoes) {
		dest_undo(j, message);
		return;
	}
	dest_set_record(j, p, PHASE_STATE_FAILED, message);
	j->degraded = true;
	dest_answer_waiters(j);
	dest_enter(j, p + 1);
}

static void dest_step_done(dest_job *j, dest_phase p, int error, const char *fmt, ...)
	_printf_(4, 5);
static void dest_step_done(dest_job *j, dest_phase p, int error, const char *fmt, ...)
{
	_cleanup_free_ char *message = NULL;
	va_list ap;

	/* A late answer to a phase that timed out, or to a job that ended meanwhile. */
	if (dest_release(j) || j->ended || j->phase != p || !j->in_phase)
		return;
	if (error >= 0) {
		j->step++;
		dest_step(j);
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&message, fmt, ap) < 0)
		message = NULL;
	va_end(ap);
	dest_phase_failed(j, message ?: strerror(-error));
}

static void dest_on_phase_timeout(uv_timer_t *t)
{
	dest_job *j = t->data;
	_cleanup_free_ char *why = NULL;

	if (j->phase == DEST_COMMIT) {
		log_warning("%s: %s never confirmed the commit; the VM runs here, keeping it", j->vm,
			    j->source);
		dest_commit(j);
		return;
	}
	if (asprintf(&why, "phase %s did not finish within %llu ms", dest_phase_name(j->phase),
		     (unsigned long long)dest_phases[j->phase].timeout_ms) < 0)
		why = NULL;
	dest_phase_failed(j, why ?: "timed out");
}

static void dest_step(dest_job *j)
{
	dest_phase p = j->phase;
	int r = dest_phases[p].run(j);

	if (r < 0) {
		dest_phase_failed(j, strerror(-r));
		return;
	}
	if (r == 0)
		return;
	/* No more steps. incoming waits for the source's switchover or abort (or the deadline),
	 * commit for its peer-commit (or its timeout); the others go on. */
	j->in_phase = false;
	if (p == DEST_INCOMING)
		return;
	if (p == DEST_COMMIT) {
		if (j->commit_asked)
			dest_commit(j);
		return;
	}
	uv_timer_stop(j->phase_timer);
	if (j->rec[p].state == PHASE_STATE_PENDING)
		dest_set_record(j, p, PHASE_STATE_DONE, NULL);
	log_info("%s: destination phase %s %s", j->vm, dest_phase_name(p),
		 phase_state_name(j->rec[p].state));
	dest_answer_waiters(j);
	dest_enter(j, p + 1);
}

/* A drill's fault at this phase: fired once, on entry; the phase meets it as a real failure. */
static void dest_on_fault(int error, const char *message, void *userdata)
{
	dest_job *j = userdata;

	if (dest_release(j) || j->ended)
		return;
	if (error < 0)
		log_warning("%s: fault %s at %s not injected: %s", j->vm,
			    migration_fault_name(j->fault.kind), dest_phase_name(j->phase), message);
	dest_step(j);
}

static bool dest_fault_due_at(const dest_job *j, dest_phase p)
{
	return j->fault.kind != FAULT_NONE && !j->fault_fired &&
	       dest_phase_from_name(migration_phase_name(j->fault.phase)) == (int)p;
}

static bool dest_fault_due(dest_job *j)
{
	return dest_fault_due_at(j, j->phase);
}

static void dest_enter(dest_job *j, dest_phase p)
{
	bool fault = false;

	j->phase = p;
	j->step = 0;
	j->in_phase = true;
	/* Fired once: a daemon the fault killed must not meet it again from its journal. */
	if (dest_fault_due(j))
		fault = j->fault_fired = true;
	/* A drill's fault here may have killed QEMU since its event: ask it before the `cont`. */
	if (fault)
		j->copy_completed = false;
	dest_journal(j);
	if (dest_phases[p].timeout_ms)
		uv_timer_start(j->phase_timer, dest_on_phase_timeout, dest_phases[p].timeout_ms, 0);
	if (fault) {
		log_info("%s: destination phase %s: injecting fault %s", j->vm, dest_phase_name(p),
			 migration_fault_name(j->fault.kind));
		dest_hold(j);
		if (migration_dest_fault_inject(j->d, j->vm, &j->fault, dest_on_fault, j) < 0)
			dest_on_fault(-ENOMEM, "out of memory", j);
		return;
	}
	dest_step(j);
}

static void dest_on_deadline(uv_timer_t *t)
{
	dest_job *j = t->data;

	if (j->lost) {
		dest_forget_lost(j);
		return;
	}
	/* From the switchover on, each phase has its own bound. */
	if (j->phase < DEST_SWITCHOVER)
		dest_undo(j, "its source did not switch it over before the deadline (incoming_timeout_ms)");
}

static void dest_arm_deadline(dest_job *j)
{
	uint64_t now = realtime_ms();

	uv_timer_start(j->deadline_timer, dest_on_deadline,
		       j->deadline_ms > now ? j->deadline_ms - now : 0, 0);
}

static int dest_job_new(host_daemon *d, const char *vm_name, const char *source, dest_job **ret)
{
	dest_job *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	j->d = d;
	j->vm = strdup(vm_name);
	j->source = strdup(source);
	j->phase_timer = calloc(1, sizeof(*j->phase_timer));
	j->deadline_timer = calloc(1, sizeof(*j->deadline_timer));
	if (!j->vm || !j->source || !j->phase_timer || !j->deadline_timer) {
		free(j->vm);
		free(j->source);
		free(j->phase_timer);
		free(j->deadline_timer);
		free(j);
		return -ENOMEM;
	}
	uv_timer_init(d->loop, j->phase_timer);
	uv_timer_init(d->loop, j->deadline_timer);
	j->phase_timer->data = j->deadline_timer->data = j;
	j->next = d->dest_jobs;
	d->dest_jobs = j;
	*ret = j;
	return 0;
}

/* --- the VM's backend (vm_backend.h) in a phase --- */

static void dest_on_backend(int error, json_object *ret, const char *desc, void *userdata)
{
	dest_job *j = userdata;
	vm *v = dest_vm(j);

	/* A repeated plug finds the VF in place already. */
	if (error == -EEXIST)
		error = 0;
	dest_step_done(j, j->phase, error, "%s: %s", v ? vm_backend_of(v)->name : "VM",
		       desc ? desc : strerror(-error));
}

/*
 * Ask the incoming VM's backend: op(v, ..., cb, j), the job held until cb; -ENOTCONN when the
 * VM is gone. Evaluates to the operation's return.
 */
#define dest_backend_call(j, op, ...)                                                      \
	({                                                                                 \
		vm *v_ = dest_vm(j);                                                       \
		int r_ = -ENOTCONN;                                                        \
		if (v_) {                                                                  \
			dest_hold(j);                                                      \
			r_ = vm_backend_of(v_)->op(v_, __VA_ARGS__);                       \
			if (r_ != 0)                                                       \
				(j)->pending--;                                            \
		}                                                                          \
		r_;                                                                        \
	})

/* --- prepare: the incoming QEMU, without its VF --- */

static void prepare_on_query(int error, json_object *ret, const char *desc, void *userdata)
{
	dest_job *j = userdata;
	json_object *addrs, *a, *port;
	int64_t p = 0;

	if (error < 0) {
		dest_step_done(j, DEST_PREPARE, error, "%s", desc ? desc : strerror(-error));
		return;
	}
	if (json_object_object_get_ex(ret, "socket-address", &addrs) &&
	    (a = json_object_array_get_idx(addrs, 0)) &&
	    json_object_object_get_ex(a, "port", &port))
		p = strtoll(json_object_get_string(port), NULL, 10);
	if (p <= 0 || p > 65535) {
		dest_step_done(j, DEST_PREPARE, -EBADMSG, "QEMU did not say which port it listens on");
		return;
	}
	j->port = (uint64_t)p;
	log_info("%s: incoming migration listens on %s port %lld", j->vm,
		 j->d->config->migration_address, (long long)p);
	dest_step_done(j, DEST_PREPARE, 0, NULL);
}

static void prepare_on_started(vm *v, int error, const char *message, void *userdata)
{
	dest_job *j = userdata;

	if (error == 0) {
		log_info("%s: incoming QEMU started (pid %d), VF %s reserved", j->vm,
			 (int)vm_get_pid(v), vm_get_vf(v));
		/*
		 * The agent link, now: its handshake waits in the chardev's socket until the guest
		 * runs here and reads it right as it resumes. Made after the resume instead, the
		 * port would close and open again in the guest and the handshake would cross it
		 * (180-360 ms in the netns bench, in front of the new VF's request: issue 18).
		 */
		(void)vm_agent(v);
	}
	dest_step_done(j, DEST_PREPARE, error, "%s", message ?: "QEMU did not start");
}

static int prepare_run(dest_job *j)
{
	char *uri;
	int r;

	if (!dest_vm(j))
		return -ENOENT;
	switch (j->step) {
	case 0:
		return dest_backend_call(j, incoming_start, prepare_on_started, j);
	case 1:
		r = migration_uri_new(j->d->config->migration_address, 0, &uri);
		if (r < 0)
			return r;
		r = dest_backend_call(j, incoming_listen, uri, j->multifd, prepare_on_query, j);
		free(uri);
		return r;
	}
	return 1;
}

/*
 * --- incoming: the source copies; the incoming QEMU takes the state in and stays paused (-S).
 * Once its MIGRATION event says the copy completed, the switchover is ours. ---
 */

static void incoming_on_query(int error, json_object *ret, const char *desc, void *userdata)
{
	dest_job *j = userdata;
	json_object *status;

	if (!dest_release(j) && !j->ended && j->phase == DEST_INCOMING && error == 0 &&
	    json_object_object_get_ex(ret, "status", &status) &&
	    !strcmp(json_object_get_string(status), "completed")) {
		j->copy_completed = true;
		dest_enter(j, DEST_SWITCHOVER);
	}
}

static int incoming_run(dest_job *j)
{
	/* A restarted daemon may find the copy done already; otherwise the event tells. */
	if (j->step == 0)
		(void)dest_backend_call(j, migrate_query, incoming_on_query, j);
	return 1;
}

/*
 * --- switchover: once the state is complete, the VM runs here (`cont`), then the switches
 * learn where its MAC lives. Before the `cont` a failure undoes this half and the source may
 * resume; from the `cont` on (journalled first) the VM may have run here, and never again there.
 */

static void switchover_on_query(int error, json_object *ret, const char *desc, void *userdata)
{
	dest_job *j = userdata;
	json_object *status;

	if (error == 0 && json_object_object_get_ex(ret, "status", &status) &&
	    !strcmp(json_object_get_string(status), "completed") && j->step == 0) {
		dest_step_done(j, DEST_SWITCHOVER, 0, NULL);
		return;
	}
	/* Not yet: the backend's word that the copy completed ends the step
	 * (migration_dest_migrate_completed). */
	dest_release(j);
}

static int switchover_run(dest_job *j)
{
	vm *v;

	switch (j->step) {
	case 0:
		/* The guest stays paused until the `cont`: asking QEMU again what its event said
		 * would only lengthen the traffic's gap. */
		if (j->copy_completed) {
			j->step++;
			return switchover_run(j);
		}
		return dest_backend_call(j, migrate_query, switchover_on_query, j);
	case 1:
		/* The point of no return: recorded before it is passed. */
		j->resumed = true;
		dest_journal(j);
		return dest_backend_call(j, resume, dest_on_backend, j);
	case 2:
		return dest_backend_call(j, announce, dest_on_backend, j);
	case 3:
		v = dest_vm(j);
		if (v) {
			vm_set_status(v, VM_RUNNING);
			/*
			 * The link made at the prepare, its handshake read as the guest resumed;
			 * made now if that failed (a restarted daemon, a backend that had no
			 * socket yet), so that its handshake still goes out before the active
			 * phase's request.
			 */
			(void)vm_agent(v);
			vf_steering_apply_logged(v, VF_EVENT_SWITCHOVER);
			vm_cpus_pin(v);
		}
		return 1;
	}
	return 1;
}

void migration_dest_migrate_completed(struct dest_job *j)
{
	if (j->phase == DEST_INCOMING && !j->ended) {
		j->copy_completed = true;
		dest_enter(j, DEST_SWITCHOVER);
	}
	else if (j->phase == DEST_SWITCHOVER && j->in_phase && j->step == 0) {
		dest_hold(j);
		dest_step_done(j, DEST_SWITCHOVER, 0, NULL);
	}
}

void migration_dest_vm_exited(struct dest_job *j, const char *how)
{
	_cleanup_free_ char *why = NULL;
	bool lost = j->resumed;

	/* It was told to run here: the only copy that may have run since the copy died. */
	if (asprintf(&why, "%s %s", how, lost ? "after the switchover" : "before the VM ran here") < 0)
		why = NULL;
	if (lost)
		dest_lose(j, why ? why : how);
	else
		dest_undo(j, why ? why : how);
}

/* --- plug, active, did-on: the VM runs here, the destination finishes on its own --- */

static void active_take(dest_job *j);

/*
 * The active phase's request goes into the guest before the VF does, so that the agent can wait
 * for the VF from the start of its hot-plug, on its own clock. It goes out once the agent link's
 * handshake is answered, which the guest reads as it resumes (prepare_on_started()).
 */
static void activate_on_done(int error, const char *message, const vf_activate_wait *wait,
			     void *userdata)
{
	dest_job *j = userdata;

	j->activate.answered = true;
	j->activate.error = error;
	j->activate.wait = *wait;
	free(j->activate.message);
	j->activate.message = error < 0 ? strdup(message ?: "failed") : NULL;
	if (dest_release(j) || j->ended)
		return;
	if (j->activate.waited_for && j->phase == DEST_ACTIVE && j->in_phase)
		active_take(j);
}

static int activate_ask(dest_job *j)
{
	int r;

	j->activate.asked = true;
	j->activate.answered = false;
	/* vf_activate gives the VF the VM's MAC once the guest made it the active slave. */
	dest_hold(j);
	r = vf_activate_start(j->d, j->vm, activate_on_done, j);
	if (r < 0) {
		j->pending--;
		j->activate.asked = false;
	}
	return r;
}

static int plug_run(dest_job *j)
{
	vm *v = dest_vm(j);

	if (!v)
		return -ENOENT;
	if (j->step == 1) {
		j->activate.plug_end_ms = uv_now(j->d->loop);
		vm_set_vf_plugged(v, true);
		vm_save(v);
		return 1;
	}
	/* Not asked again by a plug repeated after a restart: the active phase asks then. Nor
	 * when a drill's fault is due there: it must find the request still to be answered. */
	if (!j->activate.asked && !dest_fault_due_at(j, DEST_ACTIVE)) {
		if (activate_ask(j) < 0)
			log_warning("%s: cannot ask the guest agent for the VF before its plug; the active phase will",
				    j->vm);
		else
			log_info("%s: the guest agent waits for the VF from its plug on", j->vm);
	}
	return dest_backend_call(j, vf_plug, dest_on_backend, j);
}

/*
 * The request's outcome ends the phase. Its device wait counts from the plug's end, on this
 * host's clock as far as it can be placed there: the agent's waits began as the request reached
 * it, no earlier than it went out, so of them at most plug_end - sent lie before the plug's end
 * and are left out. A request that went out after the plug's end (it waited for the agent link's
 * handshake, which the resumed guest answers late) to an agent that then still found no VF to
 * act on waited for the VF all that time: the time from the plug's end to its going out counts
 * too (request_held_ms). Its trip into the guest after it went out stays ours.
 */
static void active_take(dest_job *j)
{
	const vf_activate_wait *w = &j->activate.wait;
	uint64_t plug_end = j->activate.plug_end_ms, sent = w->request_sent_ms;
	uint64_t before_plug_end = plug_end > sent ? plug_end - sent : 0;
	uint64_t held = w->vf_absent_at_request && sent > plug_end ? sent - plug_end : 0;

	j->activate.waited_for = false;
	j->rec[DEST_ACTIVE].device_wait_ms =
		(w->device_ms > before_plug_end ? w->device_ms - before_plug_end : 0) + held;
	j->rec[DEST_ACTIVE].request_held_ms = held;
	if (held)
		log_info("%s: the request for the VF went out %llu ms after the plug, and the agent "
			 "found no VF yet: counted as the wait for the VF", j->vm,
			 (unsigned long long)held);
	dest_hold(j); /* dest_step_done() lets go of it, as of a callback's */
	dest_step_done(j, DEST_ACTIVE, j->activate.error, "%s", j->activate.message ?: "failed");
}

static int active_run(dest_job *j)
{
	if (j->step > 0)
		return 1;
	if (j->rec[DEST_PLUG].state != PHASE_STATE_PENDING &&
	    j->rec[DEST_PLUG].state != PHASE_STATE_DONE)
		return -ENODEV;
	/* Entered from the journal after a restart, or the plug could not ask: ask now. */
	if (!j->activate.asked) {
		int r;

		j->activate.plug_end_ms = uv_now(j->d->loop);
		r = activate_ask(j);
		if (r < 0)
			return r;
	}
	if (j->activate.answered) {
		active_take(j);
		return 0;
	}
	j->activate.waited_for = true;
	return 0;
}

static void did_on_reply(agent_client *c, int error, json_object *ret, const char *code,
			 const char *message, void *userdata)
{
	dest_job *j = userdata;

	if (error < 0 && code && !strcmp(code, "unavailable")) {
		if (!j->ended && j->phase == DEST_DID_ON)
			dest_set_record(j, DEST_DID_ON, PHASE_STATE_SKIPPED, "the guest has no DID");
		error = 0;
	}
	/*
	 * An agent that does not answer (stalled, restarting, or a link just made by a restarted
	 * daemon) is asked again until the phase's bound: the VF works already, DID is worth the
	 * wait, and the source is not held up (it committed its side or waits for ours).
	 */
	if (error == -ETIMEDOUT && !j->ended && j->phase == DEST_DID_ON && j->in_phase) {
		log_info("%s: the guest agent did not answer did-enable; asking again", j->vm);
		dest_release(j);
		j->step = 0;
		dest_step(j);
		return;
	}
	dest_step_done(j, DEST_DID_ON, error, "guest agent: %s", message ?: strerror(-error));
}

static int did_on_run(dest_job *j)
{
	vm *v = dest_vm(j);
	agent_client *a = v ? vm_agent(v) : NULL;
	int r;

	if (j->step > 0)
		return 1;
	if (!j->did) {
		dest_set_record(j, DEST_DID_ON, PHASE_STATE_SKIPPED, NULL);
		return 1;
	}
	if (!a)
		return -ENOTCONN;
	dest_hold(j);
	r = agent_client_call(a, "did-enable", NULL, j->d->config->agent_timeout_ms, did_on_reply,
			      j);
	if (r < 0)
		j->pending--;
	return r;
}

/* --- commit: the source quit its copy; nothing to run here but forgetting the job --- */

static int commit_run(dest_job *j)
{
	return 1;
}

static const dest_phase_def dest_phases[_DEST_PHASE_MAX] = {
	[DEST_PREPARE] = { "dst", prepare_run, DEST_PREPARE_TIMEOUT_MS, true },
	[DEST_INCOMING] = { "dst", incoming_run, 0, true },
	[DEST_SWITCHOVER] = { "dst", switchover_run, DEST_SWITCHOVER_TIMEOUT_MS, true },
	[DEST_PLUG] = { "dst", plug_run, DEST_PLUG_TIMEOUT_MS, false },
	[DEST_ACTIVE] = { "guest (dst)", active_run, DEST_ACTIVE_TIMEOUT_MS, false },
	[DEST_DID_ON] = { "guest (dst)", did_on_run, DEST_DID_ON_TIMEOUT_MS, false },
	[DEST_COMMIT] = { "src+dst", commit_run, DEST_COMMIT_WAIT_MS, false },
};

/* --- the peer-* commands --- */

/* Parse the spec the source sent. On failure the request is answered. */
static int dest_parse_spec(host_daemon *d, rpc_request *req, json_object *args, vm_spec **ret)
{
	_cleanup_free_ char *error = NULL;
	json_object *spec;
	const char *text;
	int r;

	if (!args || !json_object_object_get_ex(args, "spec", &spec) ||
	    !json_object_is_type(spec, json_type_object)) {
		rpc_request_reply_error(req, CONTROL_ERR_INVALID, "No VM spec in the request");
		return -EINVAL;
	}
	text = json_object_to_json_string(spec);
	r = vm_spec_parse(text, strlen(text), "the source's spec", "/", ret, &error);
	if (r < 0) {
		rpc_request_reply_error(req, CONTROL_ERR_INVALID, "%s", error ? error : "bad spec");
		return r;
	}
#ifndef HAVE_LIBVIRT
	if ((*ret)->libvirt_domain) {
		rpc_request_reply_error(req, CONTROL_ERR_FAILED,
					"'%s' is libvirt domain '%s', and %s's dmigrated was built without libvirt",
					(*ret)->name, (*ret)->libvirt_domain, d->config->name);
		vm_spec_free(*ret);
		return -EOPNOTSUPP;
	}
#endif
	if (!(*ret)->libvirt_domain && (*ret)->boot == VM_BOOT_KERNEL &&
	    access((*ret)->kernel, R_OK) < 0) {
		rpc_request_reply_error(req, CONTROL_ERR_FAILED,
					"%s cannot read the kernel '%s' the VM boots from",
					d->config->name, (*ret)->kernel);
		vm_spec_free(*ret);
		return -ENOENT;
	}
	return 0;
}

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

static void dest_check(host_daemon *d, rpc_request *req, json_object *args, const char *name)
{
	json_object *result;
	uint64_t mib;
	vm_spec *spec;

	if (vm_find(d, name)) {
		rpc_request_reply_error(req, CONTROL_ERR_INVALID, "%s runs a VM named '%s' already",
					d->config->name, name);
		return;
	}
	if (vf_pool_count_free(d->pool) == 0 || dest_fault_no_free_vf(d, args)) {
		rpc_request_reply_error(req, CONTROL_ERR_FAILED,
					"%s has no free passthrough device (%zu configured)",
					d->config->name, d->config->n_vfs);
		return;
	}
	if (dest_parse_spec(d, req, args, &spec) < 0)
		return;
	/* Enough free dedicated CPUs here for a pinned VM: a preflight check, nothing taken. */
	if (spec->cpumap) {
		cpu_set_t taken;
		cpumap m;
		char why[256];

		cpu_pinning_taken(d, NULL, &taken);
		if (cpu_pinning_plan(&d->config->dedicated_cpus, &taken, spec->cpumap, false,
				     d->config->name, &m, why, sizeof(why)) < 0) {
			vm_spec_free(spec);
			rpc_request_reply_error(req, CONTROL_ERR_FAILED, "%s", why);
			return;
		}
	}
	vm_spec_free(spec);
	result = json_object_new_object();
	if (!result) {
		rpc_request_reply_error(req, CONTROL_ERR_FAILED, "Out of memory");
		return;
	}
	json_object_object_add(result, "free_vfs", json_object_new_uint64(vf_pool_count_free(d->pool)));
	/* For an evacuation's placement: what else this host can take. */
	if (host_memory_available_mib(&(sysfs){ .root = d->config->system_root }, &mib) == 0)
		json_object_object_add(result, "memory_available_mib",
				       json_object_new_uint64(mib < INT32_MAX ? mib : INT32_MAX));
	json_object_object_add(result, "dedicated_cpus_free",
			       json_object_new_uint64(host_dedicated_cpus_free(d)));
	rpc_request_reply(req, result);
}

static void dest_prepare(host_daemon *d, rpc_request *req, json_object *args, const char *name)
{
	_cleanup_free_ char *error = NULL;
	char why[256];
	migration_settings settings = d->config->migration;
	migration_fault fault = { FAULT_NONE };
	json_object *o;
	const char *vf, *from = d->config->name;
	vm_spec *spec;
	dest_job *j;
	vm *v;
	int r;

	if (vm_find(d, name)) {
		rpc_request_reply_error(req, CONTROL_ERR_INVALID, "%s runs a VM named '%s' already",
					d->config->name, name);
		return;
	}
	if (json_object_object_get_ex(args, "settings", &o) &&
	    migration_settings_override(&settings, o, &error) < 0) {
		rpc_request_reply_error(req, CONTROL_ERR_INVALID, "Bad settings: %s", error);
		return;
	}
	/* The copy must end before we give the incoming VM up. */
	if (settings.migrate_timeout_ms >= d->config->incoming_timeout_ms) {
		rpc_request_reply_error(req, CONTROL_ERR_INVALID,
					"The migrate timeout (%llu ms) is not shorter than %s's incoming_timeout_ms (%llu ms)",
					(unsigned long long)settings.migrate_timeout_ms,
					d->config->name,
					(unsigned long long)d->config->incoming_timeout_ms);
		return;
	}
	if (json_object_object_get_ex(args, "from", &o) && json_object_is_type(o, json_type_string) &&
	    host_config_find_peer(d->config, json_object_get_string(o)))
		from = json_object_get_string(o);
	/* A drill's fault at one of our own phases, fired when we enter it. */
	if (json_object_object_get_ex(args, "fault", &o)) {
		free(error);
		error = NULL;
		if (!d->config->fault_injection) {
			rpc_request_reply_error(req, CONTROL_ERR_INVALID,
						"%s does not inject faults: set fault_injection in %s (drills only)",
						d->config->name, d->config->path);
			return;
		}
		if (migration_fault_from_json(o, &fault, &error) < 0) {
			rpc_request_reply_error(req, CONTROL_ERR_INVALID, "Bad fault: %s", error);
			return;
		}
	}
	if (dest_parse_spec(d, req, args, &spec) < 0)
		return;
	r = vm_new(d, spec, &v);
	if (r < 0) {
		rpc_request_reply_error(req, CONTROL_ERR_FAILED, "Cannot register '%s': %s", name,
					strerror(-r));
		return;
	}
	r = vm_cpus_plan(v, false, why, sizeof(why));
	if (r < 0) {
		vm_forget(v);
		rpc_request_reply_error(req, CONTROL_ERR_FAILED, "%s", why);
		return;
	}
	r = vf_pool_reserve(d->pool, vm_get_name(v), &vf);
	if (r < 0) {
		vm_forget(v);
		rpc_request_reply_error(req, CONTROL_ERR_FAILED, "%s has no free passthrough device",
					d->config->name);
		return;
	}
	vm_set_incoming(v, true);
	/* vm_hold_vf() gives the VF back itself when it fails; vm_forget() does once v holds it. */
	if (vm_hold_vf(v, vf) < 0 || dest_job_new(d, name, from, &j) < 0) {
		vm_forget(v);
		rpc_request_reply_error(req, CONTROL_ERR_FAILED, "Out of memory");
		return;
	}
	vm_save(v);
	vf_steering_apply_logged(v, VF_EVENT_PREPARE_INCOMING);
	vm_set_incoming_job(v, j);
	j->multifd = settings.multifd_channels > 0;
	j->fault = fault;
	j->did = json_object_object_get_ex(args, "did", &o) && json_object_get_boolean(o);
	j->deadline_ms = realtime_ms() + d->config->incoming_timeout_ms;
	dest_arm_deadline(j);
	/*
	 * Held: the source may touch its guest now (standby, unplug) while our QEMU starts, the
	 * longest part of the prepare. Answered once the incoming QEMU listens (or with why not).
	 */
	rpc_request_event(req, "reserved", NULL);
	dest_wait_for(j, req, DEST_PREPARE);
	dest_enter(j, DEST_PREPARE);
}

static void dest_abort(host_daemon *d, rpc_request *req, const char *name)
{
	dest_job *j = dest_job_find(d, name);
	vm *v = vm_find(d, name);

	if (j && j->resumed) {
		rpc_request_reply_error(req, CONTROL_ERR_INVALID,
					"'%s' runs on %s: refusing to abort a VM that switched over",
					name, d->config->name);
		return;
	}
	if (j) {
		j->abort_req = req;
		dest_undo(j, "the source aborted the migration");
		return;
	}
	/* Nothing (left) to abort: what a repeated abort finds. */
	if (v && (!vm_is_incoming(v) || vm_get_status(v) == VM_RUNNING)) {
		rpc_request_reply_error(req, CONTROL_ERR_INVALID,
					"'%s' runs on %s: refusing to abort a VM that is not an unfinished incoming migration",
					name, d->config->name);
		return;
	}
	if (v)
		vm_forget(v);
	rpc_request_reply(req, NULL);
}

static void dest_switchover(host_daemon *d, rpc_request *req, json_object *args, const char *name)
{
	dest_job *j = dest_job_find(d, name);
	vm *v = vm_find(d, name);

	if (!j) {
		if (v && !vm_is_incoming(v) && vm_get_status(v) == VM_RUNNING) {
			rpc_request_reply(req, NULL); /* switched over and committed already */
			return;
		}
		/* No incoming QEMU here (it died, or a deadline removed it): the source may resume. */
		rpc_request_reply_error(req, DEST_ERR_NOT_RUNNING,
					"'%s' is not running on %s (no incoming migration)", name,
					d->config->name);
		return;
	}
	dest_wait_for(j, req, DEST_SWITCHOVER);
	/* Usually under way already, since QEMU said the copy completed. */
	if (j->phase < DEST_SWITCHOVER)
		dest_enter(j, DEST_SWITCHOVER);
}

/* peer-plug, peer-activate, peer-did-on: the outcome of our own phase. */
static void dest_await(host_daemon *d, rpc_request *req, const char *name, dest_phase p)
{
	dest_job *j = dest_job_find(d, name);
	vm *v = vm_find(d, name);

	if (j && j->phase >= DEST_SWITCHOVER) {
		dest_wait_for(j, req, p);
		return;
	}
	if (j) {
		rpc_request_reply_error(req, CONTROL_ERR_INVALID,
					"'%s' has not switched over to %s: no %s yet", name,
					d->config->name, dest_phase_name(p));
		return;
	}
	if (v && !vm_is_incoming(v)) {
		json_object *o = json_object_new_object();

		/* Committed already (a source that retries after a restart): what we know now. */
		json_object_object_add(o, "phase", json_object_new_string(dest_phase_name(p)));
		json_object_object_add(
			o, "state",
			json_object_new_string(phase_state_name(
				vm_is_vf_plugged(v) ? PHASE_STATE_DONE : PHASE_STATE_FAILED)));
		rpc_request_reply(req, o);
		return;
	}
	rpc_request_reply_error(req, DEST_ERR_LOST, "No VM named '%s' runs on %s", name,
				d->config->name);
}

static void dest_commit_request(host_daemon *d, rpc_request *req, const char *name)
{
	dest_job *j = dest_job_find(d, name);
	vm *v = vm_find(d, name);

	if (j && j->lost) {
		/* The source let its copy go: tell it (once more) that this one is gone too. */
		dest_answer(j, req, DEST_COMMIT);
		dest_forget_lost(j);
		return;
	}
	if (j && j->phase >= DEST_SWITCHOVER) {
		dest_wait_for(j, req, DEST_COMMIT);
		j->commit_asked = true;
		/* Waiting for it already; otherwise commit as soon as did-on is through. */
		if (j->phase == DEST_COMMIT && !j->in_phase)
			dest_commit(j);
		return;
	}
	if (!j && v && !vm_is_incoming(v)) {
		rpc_request_reply(req, NULL);
		return;
	}
	rpc_request_reply_error(req, j ? CONTROL_ERR_INVALID : DEST_ERR_LOST,
				"No switched-over VM named '%s' on %s", name, d->config->name);
}

void migration_dest_handle(host_daemon *d, rpc_request *req, const char *cmd, json_object *args)
{
	static const struct {
		const char *name;
		dest_phase phase;
	} awaits[] = {
		{ "peer-plug", DEST_PLUG },
		{ "peer-activate", DEST_ACTIVE },
		{ "peer-did-on", DEST_DID_ON },
	};
	const char *name;

	if (!strcmp(cmd, "peer-fault"))
		return migration_dest_fault(d, req, args);
	name = daemon_arg_string(req, args, "vm");
	if (!name)
		return;
	if (!strcmp(cmd, "peer-check"))
		return dest_check(d, req, args, name);
	if (!strcmp(cmd, "peer-prepare"))
		return dest_prepare(d, req, args, name);
	if (!strcmp(cmd, "peer-abort"))
		return dest_abort(d, req, name);
	if (!strcmp(cmd, "peer-switchover"))
		return dest_switchover(d, req, args, name);
	if (!strcmp(cmd, "peer-commit"))
		return dest_commit_request(d, req, name);
	for (size_t i = 0; i < ELEMENTSOF(awaits); i++)
		if (!strcmp(cmd, awaits[i].name))
			return dest_await(d, req, name, awaits[i].phase);
	rpc_request_reply_error(req, CONTROL_ERR_UNKNOWN_COMMAND, "Unknown command '%.64s'", cmd);
}

/* --- recovery after a daemon restart --- */

static void recover_one(host_daemon *d, const migration_journal *jr)
{
	vm *v = vm_find(d, jr->vm);
	dest_job *j;

	if (strcmp(jr->role, "destination"))
		return;
	log_info("Recovering the incoming migration of '%s' from %s: phase %s", jr->vm, jr->peer,
		 dest_phase_name(jr->phase));
	if (dest_job_new(d, jr->vm, jr->peer, &j) < 0) {
		log_error("Out of memory recovering the incoming migration of '%s'", jr->vm);
		return;
	}
	j->phase = jr->phase;
	j->did = jr->did_available;
	j->degraded = jr->degraded;
	j->deadline_ms = jr->deadline_ms;
	j->fault = jr->fault;
	j->resumed = jr->resumed;
	j->lost = jr->lost;
	j->fault_fired = jr->fault.kind == FAULT_NONE;
	if (v)
		vm_set_incoming_job(v, j);
	dest_arm_deadline(j);
	for (int p = 0; p < (int)jr->phase && p < DEST_INCOMING; p++)
		dest_set_record(j, p, PHASE_STATE_DONE, NULL);
	if (j->lost)
		return; /* until the source hears it, or the deadline */
	if (!v) {
		if (j->resumed)
			dest_lose(j, "its QEMU exited while dmigrated was down, after the switchover");
		else
			dest_undo(j, "its incoming QEMU is gone");
		return;
	}
	if (!j->resumed) {
		/* The source may still be copying (QEMU to QEMU, or libvirtd to libvirtd: no
		 * daemon needed), or the copy completed meanwhile: incoming asks, then waits. */
		dest_enter(j, DEST_INCOMING);
		return;
	}
	/* A libvirt domain stays registered whatever became of it (vm.c): gone after the
	 * switchover, it is lost as a QEMU that exited is. */
	if (!vm_backend_of(v)->arrived(v)) {
		dest_lose(j, "it was not here when dmigrated started again, after the switchover");
		return;
	}
	for (int p = 0; p < (int)jr->phase; p++)
		dest_set_record(j, p, PHASE_STATE_DONE, NULL);
	/* It was told to run (the registry guesses "inmigrate" for an incoming VM). */
	vm_set_status(v, VM_RUNNING);
	/* Every phase from here is idempotent: run it again, then go on. */
	dest_enter(j, jr->phase > DEST_SWITCHOVER ? jr->phase : DEST_SWITCHOVER);
}

int migration_dest_recover(host_daemon *d)
{
	return migration_journal_foreach(d, recover_one);
}
