// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The source half of a migration (docs/design.md, "The migration: eleven phases"). It drives the phases up to the
 * switchover, the destination's through peer-* calls; from the switchover on the destination
 * owns the job (migration_dest.c) and the source waits for each of its phases' outcome. The
 * runner below goes forward phase by phase; before the switchover a failure turns it around and
 * it undoes, in reverse, every phase it entered (undo steps are idempotent, so a phase that
 * failed half-way is undone too); from the switchover on it never turns back and a failure only
 * marks the result degraded, or lost when the destination's QEMU died with the only copy.
 */
#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control_protocol.h"
#include "log.h"
#include "daemon/evacuation.h"
#include "migration/bandwidth_share.h"
#include "migration/migration_fault.h"
#include "migration/migration_job.h"
#include "migration/migration_hook.h"
#include "migration/migration_journal.h"
#include "migration/migration_outcome.h"
#include "transport/agent_reply_check.h"
#include "transport/peer_link.h"
#include "transport/peer_reply.h"
#include "host/qemu_argv.h"
#include "migration/vf_activate.h"
#include "migration/vm_backend.h"
#include "host/vf_steering.h"

#define UNPLUG_TIMEOUT_MS 10000
#define PREPARE_TIMEOUT_MS 60000
#define SWITCHOVER_TIMEOUT_MS 60000
#define PEER_TIMEOUT_MS 30000
/* After the switchover the destination finishes on its own: how long we wait for its phases. */
#define DEST_PHASE_WAIT_MS 120000
/* After the switchover a broken peer link is opened again, this often, until the phase's bound. */
#define PEER_RETRY_MS 500
#define UNDO_RETRY_MS 60000
#define PROGRESS_INTERVAL_MS 250

typedef struct migration_job {
	host_daemon *d;
	vm *v; /* NULL once the source QEMU is gone (after commit, or lost) */
	char *vm_name;
	char *to;
	const peer_config *peer;
	migration_settings settings;
	rpc_request *req; /* the CLI's migrate request; NULL for a recovered job */

	peer_link *link; /* its connection: peer_link_conn() */
	/* The peer call waiting for the link to open. */
	const char *pending_cmd;
	json_object *pending_args;
	uint64_t pending_timeout;
	rpc_reply_cb pending_cb;

	int phase; /* migration_phase; -1 when an undo ran past the first phase */
	int step; /* sub-step within a phase */
	bool rolling_back;
	bool did_available;
	bool degraded;
	bool stuck; /* neither side can be resumed safely: keep the journal for an operator */
	bool lost;  /* the destination's QEMU died after the switchover: the VM runs nowhere */
	/* The VM ended here during the job (its QEMU exited, its libvirt domain stopped): before
	 * the switchover nothing is left to roll back to, and a rollback ends with it nowhere. */
	bool source_ended;
	uint64_t retry_until; /* after the switchover: retry the peer call until then */
	uv_timer_t *retry_timer;
	uv_timer_t *progress_timer;
	bool migrate_waiting; /* the copy runs: QEMU's MIGRATION event ends it */
	bool cancel;          /* `dmigrate cancel`: fail the current step when it ends */
	bool device_deleted;
	bool dest_skipped; /* the destination skipped the phase it just reported */
	bool dest_not_running; /* the destination confirmed the VM never ran there */
	bool vf_never_left;    /* unplug's undo found the VF still plugged */
	/* After the switchover the source's copy quits while the destination plugs and activates
	 * (source_stop()); commit waits for it (waiting_source_stop), then forgets the VM here. */
	bool source_stopping, source_stopped, waiting_source_stop;
	bool waiting_device_deleted;
	bool device_removal_failed; /* the hypervisor said the guest will not release the VF */
	char *message; /* the first failure, for the result */
	/* Preflight's checks run at once: how many have not answered, and the first that failed. */
	unsigned preflight_pending;
	int preflight_error;
	char *preflight_message;
	/*
	 * The destination prepares while the preflight's checks run (preflight_prepare_early()):
	 * did-status and peer-check answered is all it needs. prepare_sent: peer-prepare went out
	 * (the journal said `prepare` first), so a rollback undoes it; prepare_error/_message: its
	 * outcome, which the `prepare` phase reports when the runner gets there, or when it comes
	 * if the runner went on without it (prepare_ahead: standby, did-off and unplug run while
	 * the destination's QEMU starts, once it said it holds a VF for the VM, prepare_reserved;
	 * job_prepare_gate()). The runner waits for it before the copy (waiting_prepare_gate), and
	 * an undo of the prepare waits for it before it aborts (waiting_prepare_undo): never half
	 * of a prepare undone.
	 */
	bool did_known, check_passed, prepare_sent, prepare_ahead, prepare_reserved;
	bool waiting_prepare_gate, waiting_prepare_undo;
	int prepare_error;
	char *prepare_message;
	uint64_t prepare_sent_ms, prepare_answered_ms;

	/* A drill's fault: fired once, when the job enters its phase; then the job goes on. */
	migration_fault fault;
	bool fault_fired;
	char *fault_error; /* why it was not injected */
	void (*fault_then)(struct migration_job *j);

	uint64_t t0;
	uint64_t phase_t0;
	struct {
		int64_t start_ms, duration_ms;
		int64_t device_wait_ms; /* active: of duration_ms, waiting for the new VF (vf_activate.h) */
		int64_t request_held_ms; /* active: of device_wait_ms, the request held before the VF came */
		phase_state state;
		/* prepare: it ran during the preflight, and start/duration say when, not the runner */
		bool ran_ahead;
	} rec[_PHASE_MAX];
	uv_timer_t *timer;
	json_object *qemu_stats; /* the final query-migrate */
	char *uri;
	/* Hook mode (migration_hook.h): `detach` stops before the copy, which an engine makes;
	 * `to` is this host. hook_vf: the VF kept for the VM once detached. */
	bool hook;
	char *hook_vf;
} migration_job;

static void job_step_done(migration_job *j, int error, const char *fmt, ...) _printf_(3, 4);
static void job_step(migration_job *j);

/* Start the current step again: a peer call after its link broke (job_peer_retry()). */
static void job_retry_step(uv_timer_t *t)
{
	job_step(t->data);
}

static bool job_undo_retry(migration_job *j);
static void job_run_phase(migration_job *j);
static void job_undo_phase(migration_job *j);
static void job_fail_message(migration_job *j, const char *message);

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* An event of `phase`: the current one, or the prepare, which may answer after the runner went on. */
static void job_event_at(migration_job *j, int phase, const char *state, const char *message)
{
	json_object *o;

	log_info("%s: %s %s%s%s", j->vm_name, migration_phase_name(phase), state,
		 message ? ": " : "", message ? message : "");
	if (!j->req)
		return;
	o = json_object_new_object();
	if (!o)
		return; /* the event is lost, the journal and the log have it */
	json_object_object_add(o, "phase", json_object_new_string(migration_phase_name(phase)));
	json_object_object_add(o, "state", json_object_new_string(state));
	json_object_object_add(o, "elapsed_ms", json_object_new_int64((int64_t)(now_ms() - j->t0)));
	if (message)
		json_object_object_add(o, "message", json_object_new_string(message));
	rpc_request_event(j->req, "phase", o);
}

static void job_event(migration_job *j, const char *state, const char *message)
{
	job_event_at(j, j->phase, state, message);
}

/* The journal, saying the job is at `phase`: its own, or one it starts ahead (prepare). */
static void job_journal_at(migration_job *j, int phase)
{
	migration_journal jr = {
		.vm = j->vm_name,
		.role = "source",
		.peer = j->to,
		.phase = phase,
		.rolling_back = j->rolling_back,
		.did_available = j->did_available,
		.degraded = j->degraded,
		.hook = j->hook,
		.vf = j->hook_vf,
	};
	int r = migration_journal_write(j->d, &jr);

	if (r < 0)
		log_warning_errno(r, "Failed to write the journal of '%s': %m", j->vm_name);
}

static void job_journal(migration_job *j)
{
	job_journal_at(j, j->phase);
}

static void job_close_timer_cb(uv_handle_t *h)
{
	free(h);
}

static void job_free(migration_job *j)
{
	bandwidth_share_leave(j->d->bandwidth, j->vm_name);
	if (j->v)
		vm_set_job(j->v, NULL);
	peer_link_give_back(j->d, j->peer, j->link);
	json_object_put(j->pending_args);
	if (j->timer)
		uv_close((uv_handle_t *)j->timer, job_close_timer_cb);
	if (j->retry_timer)
		uv_close((uv_handle_t *)j->retry_timer, job_close_timer_cb);
	if (j->progress_timer)
		uv_close((uv_handle_t *)j->progress_timer, job_close_timer_cb);
	json_object_put(j->qemu_stats);
	free(j->vm_name);
	free(j->to);
	free(j->message);
	free(j->fault_error);
	free(j->uri);
	free(j->preflight_message);
	free(j->prepare_message);
	free(j->hook_vf);
	free(j);
}

static json_object *job_result(migration_job *j, migration_outcome outcome)
{
	json_object *o = json_object_new_object(), *phases = json_object_new_array(), *q, *v, *ram;

	if (!o || !phases) {
		/* The CLI gets an empty result; the log has the outcome. */
		json_object_put(o);
		json_object_put(phases);
		return NULL;
	}

	json_object_object_add(o, "vm", json_object_new_string(j->vm_name));
	json_object_object_add(o, "from", json_object_new_string(j->d->config->name));
	json_object_object_add(o, "to", json_object_new_string(j->to));
	json_object_object_add(o, "outcome", json_object_new_string(migration_outcome_name(outcome)));
	json_object_object_add(o, "runs_on",
			       json_object_new_string(outcome == OUTCOME_ROLLED_BACK ? j->d->config->name :
						      outcome == OUTCOME_FAILED      ? "unknown" :
						      outcome == OUTCOME_LOST        ? "nowhere" :
										       j->to));
	if (j->message)
		json_object_object_add(o, "message", json_object_new_string(j->message));
	for (int p = 0; p < _PHASE_MAX; p++) {
		json_object *ph;

		if (j->rec[p].state == PHASE_STATE_PENDING)
			continue;
		ph = json_object_new_object();
		if (!ph)
			continue;
		json_object_object_add(ph, "phase", json_object_new_string(migration_phase_name(p)));
		json_object_object_add(ph, "start_ms", json_object_new_int64(j->rec[p].start_ms));
		json_object_object_add(ph, "duration_ms", json_object_new_int64(j->rec[p].duration_ms));
		json_object_object_add(ph, "state",
				       json_object_new_string(phase_state_name(j->rec[p].state)));
		if (j->rec[p].device_wait_ms) {
			/*
			 * No more than the phase: the destination counts from its plug's end, which
			 * we heard of a trip later, and that slice is in our plug phase already.
			 */
			int64_t wait = MIN(j->rec[p].device_wait_ms, j->rec[p].duration_ms);

			json_object_object_add(ph, "device_wait_ms", json_object_new_int64(wait));
			json_object_object_add(ph, "request_held_ms",
					       json_object_new_int64(MIN(j->rec[p].request_held_ms, wait)));
		}
		json_object_array_add(phases, ph);
	}
	json_object_object_add(o, "phases", phases);
	if (j->fault.kind != FAULT_NONE) {
		json_object *f = migration_fault_to_json(&j->fault);

		json_object_object_add(f, "injected",
				       json_object_new_boolean(j->fault_fired && !j->fault_error));
		if (j->fault_error || !j->fault_fired)
			json_object_object_add(f, "message",
					       json_object_new_string(j->fault_error ?:
								      "its phase was never reached"));
		json_object_object_add(o, "fault", f);
	}
	q = json_object_new_object();
	if (q && j->qemu_stats) {
		static const struct {
			const char *from, *to;
		} keys[] = { { "downtime", "downtime_ms" },
			     { "total-time", "total_ms" },
			     { "setup-time", "setup_ms" } };

		for (size_t i = 0; i < ELEMENTSOF(keys); i++)
			if (json_object_object_get_ex(j->qemu_stats, keys[i].from, &v))
				json_object_object_add(q, keys[i].to, json_object_get(v));
		if (json_object_object_get_ex(j->qemu_stats, "ram", &ram)) {
			if (json_object_object_get_ex(ram, "transferred", &v))
				json_object_object_add(q, "transferred", json_object_get(v));
			/* One sync per pass over RAM: how hard the guest's dirtying made the copy. */
			if (json_object_object_get_ex(ram, "dirty-sync-count", &v))
				json_object_object_add(q, "dirty_sync_count", json_object_get(v));
		}
	}
	json_object_object_add(o, "qemu", q);
	json_object_object_add(o, "total_ms", json_object_new_int64((int64_t)(now_ms() - j->t0)));
	return o;
}

static void job_finish(migration_job *j)
{
	bool ended_here = j->rolling_back && j->source_ended;
	migration_outcome outcome = j->stuck			? OUTCOME_FAILED :
				    j->lost || ended_here	? OUTCOME_LOST :
				    j->rolling_back		? OUTCOME_ROLLED_BACK :
				    j->degraded			? OUTCOME_DEGRADED :
								  OUTCOME_MIGRATED;
	json_object *result;

	if (ended_here)
		/* Not rolled back: there is nothing here to run. Its end was not ours (destroyed,
		 * crashed, shut down), but where it runs must be said as it is. */
		log_error("VM '%s' IS LOST: %s. It ended on %s before it ran on %s; start it again from its spec.",
			  j->vm_name, j->message ? j->message : "it ended here", j->d->config->name, j->to);
	else if (j->lost)
		log_error("VM '%s' IS LOST: %s. Its copy on %s was never resumed and is gone; restart it from its spec.",
			  j->vm_name, j->message ? j->message : "its QEMU on the destination died",
			  j->d->config->name);
	result = job_result(j, outcome);
	if (j->stuck)
		log_error("Migration of '%s' to %s stopped: %s. The journal is kept; restarting dmigrated retries it.",
			  j->vm_name, j->to, j->message ? j->message : "unknown reason");
	else
		migration_journal_remove(j->d, j->vm_name);
	log_info("Migration of '%s' to %s: %s", j->vm_name, j->to, migration_outcome_name(outcome));
	evacuation_job_ended(j->d, j->vm_name, result);
	if (j->req)
		rpc_request_reply(j->req, result);
	else
		json_object_put(result);
	job_free(j);
}

/* --- talking to the peer: the link opens on first use and again after it broke --- */

static void job_on_peer_reply(rpc_conn *c, int error, json_object *ret, const char *code,
			      const char *message, void *userdata);

/* One peer call in flight: its reply is checked (peer_reply.h) before the step sees it. */
typedef struct peer_call {
	migration_job *j;
	const control_command *cmd;
	rpc_reply_cb cb;
} peer_call;

/*
 * Every peer reply passes here: an error's code and message are cleaned, a return is checked
 * against the protocol table, and one that fails reaches the step as an error (-EBADMSG) that
 * says what the peer got wrong; before the switchover the job then rolls back.
 */
static void job_on_peer_checked(rpc_conn *c, int error, json_object *ret, const char *code,
				const char *message, void *userdata)
{
	peer_call pc = *(peer_call *)userdata;
	_cleanup_free_ char *why = NULL;
	char problem[256];
	peer_error e;

	free(userdata);
	if (error == -ECANCELED) {
		pc.cb(c, error, NULL, NULL, NULL, pc.j);
		return;
	}
	if (error == -EREMOTEIO) {
		peer_error_clean(code, message, &e);
		pc.cb(c, error, NULL, e.code, e.message, pc.j);
		return;
	}
	if (error < 0) {
		pc.cb(c, error, NULL, code, message, pc.j);
		return;
	}
	if (control_reply_validate(pc.cmd, ret, problem, sizeof(problem)) < 0) {
		if (asprintf(&why, "%s's reply to %s is refused: %s", pc.j->to, pc.cmd->name, problem) < 0)
			why = NULL;
		log_warning("%s: %s", pc.j->vm_name, why ? why : "a peer reply is malformed");
		pc.cb(c, -EBADMSG, NULL, CONTROL_ERR_PROTOCOL, why ? why : "malformed peer reply", pc.j);
		return;
	}
	pc.cb(c, 0, ret, NULL, NULL, pc.j);
}

static void prepare_on_reserved(migration_job *j);

/* A peer's event during a call: only peer-prepare's `reserved` means anything (its data none). */
static void job_on_peer_event(rpc_conn *c, const char *event, json_object *data, void *userdata)
{
	peer_call *pc = userdata;

	if (pc->cmd->id == CONTROL_CMD_PEER_PREPARE && !strcmp(event, "reserved"))
		prepare_on_reserved(pc->j);
}

static int job_rpc_call(migration_job *j, rpc_conn *conn, const char *cmd, json_object *args,
			uint64_t timeout, rpc_reply_cb cb)
{
	peer_call *pc = calloc(1, sizeof(*pc));
	int r;

	if (!pc) {
		json_object_put(args);
		return -ENOMEM;
	}
	*pc = (peer_call){ .j = j, .cmd = control_command_find(cmd), .cb = cb };
	assert(pc->cmd);
	r = rpc_conn_call(conn, cmd, args, timeout, job_on_peer_event, job_on_peer_checked, pc);
	if (r < 0)
		free(pc);
	return r;
}

static void job_on_link(peer_link *l, rpc_conn *conn, int error, const char *message,
			void *userdata)
{
	migration_job *j = userdata;
	rpc_reply_cb cb = j->pending_cb;
	int r;

	if (error < 0) {
		/* message belongs to the link: the step must see it before the link goes. */
		peer_link *dead = TAKE_PTR(j->link);

		json_object_put(TAKE_PTR(j->pending_args));
		cb(NULL, error, NULL, CONTROL_ERR_FAILED, message, j);
		peer_link_close(dead);
		return;
	}
	r = job_rpc_call(j, conn, j->pending_cmd, TAKE_PTR(j->pending_args), j->pending_timeout, cb);
	if (r < 0)
		cb(conn, r, NULL, CONTROL_ERR_FAILED, "Cannot send to the peer", j);
}

static void job_peer_call(migration_job *j, const char *cmd, json_object *args, uint64_t timeout,
			  rpc_reply_cb cb)
{
	rpc_conn *conn;
	int r;

	/* The link the daemon keeps open to the peer, when it has one: no SSH handshake here. */
	if (!j->link)
		j->link = peer_link_take(j->d, j->peer);
	conn = j->link ? peer_link_conn(j->link) : NULL;
	if (!args)
		args = json_object_new_object();
	if (!args || json_object_object_add(args, "vm", json_object_new_string(j->vm_name)) < 0) {
		json_object_put(args);
		cb(conn, -ENOMEM, NULL, CONTROL_ERR_FAILED, "Out of memory", j);
		return;
	}
	if (conn) {
		r = job_rpc_call(j, conn, cmd, json_object_get(args), timeout, cb);
		if (r != -ECONNRESET) {
			json_object_put(args);
			if (r < 0)
				cb(conn, r, NULL, CONTROL_ERR_FAILED, "Cannot send to the peer", j);
			return;
		}
	}
	/* No link yet, or it broke since the last call: open one. */
	peer_link_close(j->link);
	j->link = NULL;
	j->pending_cmd = cmd;
	j->pending_args = args;
	j->pending_timeout = timeout;
	j->pending_cb = cb;
	r = peer_link_open(j->d, j->peer, job_on_link, j, &j->link);
	if (r < 0) {
		json_object_put(TAKE_PTR(j->pending_args));
		cb(NULL, r, NULL, CONTROL_ERR_FAILED, "Cannot open the peer link", j);
	}
}

/*
 * After the switchover every peer call is idempotent and the destination goes on without us: a
 * link that broke (the network, or the destination daemon restarting) is opened again until the
 * phase's bound, instead of giving the phase up. Returns true when a retry was scheduled.
 */
static bool job_peer_retry(migration_job *j, int error, const char *code);

/* The reply of a peer call that ends a step. */
static void job_on_peer_reply(rpc_conn *c, int error, json_object *ret, const char *code,
			      const char *message, void *userdata)
{
	migration_job *j = userdata;

	if (error == -ECANCELED || job_peer_retry(j, error, code))
		return;
	if (error == -EREMOTEIO && code && !strcmp(code, DEST_ERR_LOST)) {
		j->lost = true;
		job_step_done(j, -EIO, "%s: %s", j->to, message ? message : "the VM is lost");
		return;
	}
	if (error < 0)
		job_step_done(j, error, "%s: %s", j->to, message ? message : strerror(-error));
	else
		job_step_done(j, 0, NULL);
}

/* --- talking to the VM's backend (vm_backend.h) and the agent --- */

static void job_on_agent_reply(agent_client *c, int error, json_object *ret,
			       const char *error_code, const char *message, void *userdata);

/* Ask the source VM's backend (vm_backend.h): op(v, ...); -ENOTCONN once the VM is gone. */
#define job_backend_call(j, op, ...)                                                       \
	((j)->v ? vm_backend_of((j)->v)->op((j)->v, __VA_ARGS__) : -ENOTCONN)

static int job_agent(migration_job *j, const char *cmd, json_object *args, agent_reply_cb cb)
{
	agent_client *a = j->v ? vm_agent(j->v) : NULL;

	if (!a) {
		json_object_put(args);
		return -ENOTCONN;
	}
	return agent_client_call(a, cmd, args, j->d->config->agent_timeout_ms,
				 cb ? cb : job_on_agent_reply, j);
}

/* A backend call that ends a step. */
static void job_on_backend_reply(int error, json_object *ret, const char *desc, void *userdata)
{
	migration_job *j = userdata;

	if (error < 0)
		job_step_done(j, error, "%s: %s", j->v ? vm_backend_of(j->v)->name : "VM",
			      desc ? desc : strerror(-error));
	else
		job_step_done(j, 0, NULL);
}

static void job_on_agent_reply(agent_client *c, int error, json_object *ret,
			       const char *error_code, const char *message, void *userdata)
{
	migration_job *j = userdata;

	if (error < 0)
		job_step_done(j, error, "guest agent: %s", message ? message : strerror(-error));
	else
		job_step_done(j, 0, NULL);
}

static json_object *args_role(const char *role)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "role", json_object_new_string(role));
	return o;
}

/* --- a drill's fault (migration_fault.h) --- */

static bool job_fault_due(migration_job *j)
{
	return j->fault.kind != FAULT_NONE && !j->fault_fired && !j->rolling_back &&
	       j->phase == (int)j->fault.phase;
}

static void job_fault_done(migration_job *j, int error, const char *message)
{
	if (error < 0) {
		free(j->fault_error);
		j->fault_error = strdup(message ? message : strerror(-error));
		log_warning("%s: fault %s not injected: %s", j->vm_name,
			    migration_fault_name(j->fault.kind), j->fault_error ?: "");
	}
	j->fault_then(j);
}

static void fault_on_peer_reply(rpc_conn *c, int error, json_object *ret, const char *code,
				const char *message, void *userdata)
{
	migration_job *j = userdata;

	if (error == -ECANCELED)
		return;
	/* A destination daemon that killed itself answers nothing: the broken link is the sign. */
	if (j->fault.kind == FAULT_KILL_DEST_DAEMON && error == -ECONNRESET)
		error = 0;
	job_fault_done(j, error, message);
}

static void fault_on_agent_reply(agent_client *c, int error, json_object *ret, const char *code,
				 const char *message, void *userdata)
{
	job_fault_done(userdata, error, message);
}

/*
 * Inject the fault, then go on with `then`: the job does not know it broke itself and meets the
 * fault as it would meet the real failure. What lives on the destination (its QEMU, its VF, the
 * agent once the VM runs there) is broken by the destination's daemon (peer-fault).
 */
static void job_fault_fire(migration_job *j, void (*then)(migration_job *j))
{
	json_object *args;
	int r;

	j->fault_fired = true;
	j->fault_then = then;
	/* The fault's phase, which may run ahead of the job's (a prepare during the preflight). */
	log_info("%s: phase %s: injecting fault %s", j->vm_name, migration_phase_name(j->fault.phase),
		 migration_fault_name(j->fault.kind));
	job_event(j, "fault", migration_fault_name(j->fault.kind));
	switch (j->fault.kind) {
	case FAULT_DROP_SSH:
		/* The next peer call opens a new link, as after a real network failure. */
		peer_link_cut(TAKE_PTR(j->link));
		break;
	case FAULT_NO_FREE_VF:
		break; /* the preflight's peer-check carries it */
	case FAULT_KILL_SOURCE_DAEMON:
		/* The phase is in the journal already: a restarted daemon takes it from there. */
		log_warning("%s: fault kill-source-daemon: %s kills itself (SIGKILL), as the drill asked",
			    j->vm_name, j->d->config->name);
		migration_fault_kill_self();
		break;
	case FAULT_KILL_AGENT:
	case FAULT_STALL_AGENT:
		if (j->phase < PHASE_SWITCHOVER) {
			args = json_object_new_object();
			if (!args) {
				job_fault_done(j, -ENOMEM, "out of memory");
				return;
			}
			json_object_object_add(args, "kind",
					       json_object_new_string(j->fault.kind == FAULT_KILL_AGENT ?
									      "crash" : "stall"));
			if (j->fault.duration_ms)
				json_object_object_add(args, "ms",
						       json_object_new_uint64(j->fault.duration_ms));
			r = job_agent(j, "fault", args, fault_on_agent_reply);
			if (r < 0)
				job_fault_done(j, r, "cannot reach the guest agent");
			return;
		}
		/* after the switchover the agent answers on the destination */
		__attribute__((fallthrough));
	case FAULT_KILL_DEST_DAEMON:
	case FAULT_KILL_DEST_QEMU:
	case FAULT_VF_LINK_DOWN:
		args = json_object_new_object();
		if (!args) {
			job_fault_done(j, -ENOMEM, "out of memory");
			return;
		}
		json_object_object_add(args, "fault", migration_fault_to_json(&j->fault));
		job_peer_call(j, "peer-fault", args, PEER_TIMEOUT_MS, fault_on_peer_reply);
		return;
	default:
		break;
	}
	job_fault_done(j, 0, NULL);
}

/* The fault hook of most phases: the fault fires as the phase starts, then its steps run. */
static bool fault_at_entry(migration_job *j)
{
	job_fault_fire(j, job_step);
	return true;
}

/* --- phase 1: preflight, with phase 2's request to the destination sent during it --- */

static void preflight_prepare_early(migration_job *j);

/*
 * The checks of the VM (QEMU, the agent's bond and DID) and the peer's check run at once, and
 * the destination prepares as soon as it can (preflight_prepare_early()); the phase ends when
 * every check has answered, failed if one did (the first failure says why). The prepare's
 * answer is not waited for here: the source's own phases run meanwhile (job_prepare_gate()).
 */
static void preflight_part_done(migration_job *j, int error, const char *fmt, ...) _printf_(3, 4);
static void preflight_part_done(migration_job *j, int error, const char *fmt, ...)
{
	va_list ap;

	if (error < 0 && j->preflight_error >= 0) {
		j->preflight_error = error;
		if (fmt) {
			va_start(ap, fmt);
			if (vasprintf(&j->preflight_message, fmt, ap) < 0)
				j->preflight_message = NULL;
			va_end(ap);
		}
	}
	/* Before this part counts as answered: the last check to answer may be what it waited for. */
	preflight_prepare_early(j);
	if (--j->preflight_pending > 0)
		return;
	if (j->preflight_error < 0)
		job_step_done(j, j->preflight_error, "%s",
			      j->preflight_message ? j->preflight_message : strerror(-j->preflight_error));
	else
		job_step_done(j, 0, NULL);
}

static void preflight_on_status(int error, json_object *ret, const char *desc, void *userdata)
{
	migration_job *j = userdata;
	json_object *s;

	if (error < 0) {
		preflight_part_done(j, error, "QEMU of '%s' does not answer: %s", j->vm_name,
			      desc ? desc : strerror(-error));
		return;
	}
	if (!json_object_object_get_ex(ret, "status", &s) ||
	    strcmp(json_object_get_string(s), "running")) {
		preflight_part_done(j, -EINVAL, "VM '%s' is not running (QEMU status '%s')", j->vm_name,
			      s ? json_object_get_string(s) : "unknown");
		return;
	}
	preflight_part_done(j, 0, NULL);
}

static void preflight_on_bond(agent_client *c, int error, json_object *ret, const char *code,
			      const char *message, void *userdata)
{
	migration_job *j = userdata;
	json_object *active_role;

	if (error < 0) {
		preflight_part_done(j, error, "The guest agent of '%s' does not answer (%s): refusing to unplug the VF",
			      j->vm_name, message ? message : strerror(-error));
		return;
	}
	if (!agent_bond_slave_with_role(ret, "standby")) {
		preflight_part_done(j, -EINVAL, "The bond in '%s' has no standby (virtio) slave: traffic would stop during the migration",
			      j->vm_name);
		return;
	}
	if (!agent_bond_slave_with_role(ret, "vf") || !json_object_object_get_ex(ret, "active-role", &active_role) ||
	    strcmp(json_object_get_string(active_role) ?: "", "vf"))
		log_warning("%s: the VF is not the bond's active slave before the migration",
			    j->vm_name);
	preflight_part_done(j, 0, NULL);
}

static void preflight_on_did(agent_client *c, int error, json_object *ret, const char *code,
			     const char *message, void *userdata)
{
	migration_job *j = userdata;
	json_object *state;

	/* A guest without DID migrates all the same; one whose DID is off stays so. */
	j->did_available = error == 0 && json_object_object_get_ex(ret, "state", &state) &&
			   !strcmp(json_object_get_string(state), "on");
	j->did_known = true;
	preflight_part_done(j, 0, NULL);
}

static void preflight_on_check(rpc_conn *c, int error, json_object *ret, const char *code,
			       const char *message, void *userdata)
{
	migration_job *j = userdata;

	if (error == -ECANCELED)
		return;
	if (error < 0) {
		preflight_part_done(j, error, "%s", message ? message : strerror(-error));
		return;
	}
	j->check_passed = true;
	preflight_part_done(j, 0, NULL);
}

static json_object *job_spec_json(migration_job *j)
{
	json_object *spec = NULL;

	if (vm_spec_to_json(vm_get_spec(j->v), &spec) < 0)
		return NULL;
	return spec;
}

static int preflight_run(migration_job *j)
{
	json_object *args;
	int r;

	if (j->step > 0)
		return 1;
	/* Hook mode: no destination yet (the engine chooses it), only this host's checks. */
	j->preflight_pending = j->hook ? 3 : 4;
	j->preflight_error = 0;
	free(TAKE_PTR(j->preflight_message));
	/* A check that cannot be sent counts as answered, failed; the others still answer. */
	r = job_backend_call(j, query_status, preflight_on_status, j);
	if (r < 0)
		preflight_part_done(j, r, "QEMU of '%s' cannot be asked: %s", j->vm_name, strerror(-r));
	/* DID's state first: the destination's prepare waits for it, not for the bond's. */
	r = job_agent(j, "did-status", NULL, preflight_on_did);
	if (r < 0) {
		j->did_known = true; /* no DID then, as when the agent says so */
		preflight_part_done(j, 0, NULL);
	}
	r = job_agent(j, "bond-status", NULL, preflight_on_bond);
	if (r < 0)
		preflight_part_done(j, r, "The guest agent of '%s' cannot be asked (%s): refusing to unplug the VF",
				    j->vm_name, strerror(-r));
	args = json_object_new_object();
	if (!args) {
		preflight_part_done(j, -ENOMEM, "Out of memory");
		return 0;
	}
	if (j->hook) {
		json_object_put(args);
		return 0;
	}
	json_object_object_add(args, "spec", job_spec_json(j));
	if (j->fault.kind == FAULT_NO_FREE_VF)
		json_object_object_add(args, "fault", migration_fault_to_json(&j->fault));
	job_peer_call(j, "peer-check", args, PEER_TIMEOUT_MS, preflight_on_check);
	return 0;
}

/* --- phase 2: prepare (destination), asked for during the preflight --- */

static void prepare_answered(migration_job *j);

static void prepare_on_reply(rpc_conn *c, int error, json_object *ret, const char *code,
			     const char *message, void *userdata)
{
	migration_job *j = userdata;
	peer_prepare_reply reply;
	char problem[256];
	int r = 0;

	if (error == -ECANCELED)
		return;
	j->prepare_answered_ms = now_ms();
	free(TAKE_PTR(j->prepare_message));
	if (error == -EBADMSG) {
		/* The reply was refused, and the message says whose and why. */
		r = error;
		j->prepare_message = strdup(message ?: "malformed peer reply");
	} else if (error < 0) {
		r = error;
		if (asprintf(&j->prepare_message, "%s could not prepare: %s", j->to,
			     message ? message : strerror(-error)) < 0)
			j->prepare_message = NULL;
	} else if (peer_reply_prepare(ret, &reply, problem, sizeof(problem)) < 0) {
		r = -EBADMSG;
		if (asprintf(&j->prepare_message, "%s's reply to peer-prepare is refused: %s", j->to,
			     problem) < 0)
			j->prepare_message = NULL;
	} else {
		/* The address is ours to choose (the config's), never the peer's: only the port is its. */
		free(TAKE_PTR(j->uri));
		r = migration_uri_new(j->peer->migration_address, reply.port, &j->uri);
		if (r < 0 && asprintf(&j->prepare_message, "Cannot build the migration address for %s: %s",
				      j->to, strerror(-r)) < 0)
			j->prepare_message = NULL;
		else if (r >= 0)
			log_info("%s: %s listens on %s", j->vm_name, j->to, j->uri);
	}
	j->prepare_error = r < 0 ? r : 0;
	prepare_answered(j);
}

/* From the switchover on the destination runs the phases, and breaks what is its own there. */
static bool job_fault_lives_on_dest(const migration_fault *f)
{
	return f->phase >= PHASE_SWITCHOVER &&
	       (f->kind == FAULT_KILL_DEST_QEMU || f->kind == FAULT_KILL_AGENT ||
		f->kind == FAULT_STALL_AGENT || f->kind == FAULT_VF_LINK_DOWN ||
		f->kind == FAULT_KILL_DEST_DAEMON);
}

static void prepare_send(migration_job *j)
{
	json_object *args = json_object_new_object();

	if (!args) {
		j->prepare_error = -ENOMEM;
		j->prepare_answered_ms = now_ms();
		prepare_answered(j);
		return;
	}
	json_object_object_add(args, "spec", job_spec_json(j));
	json_object_object_add(args, "settings", migration_settings_to_json(&j->settings));
	json_object_object_add(args, "from", json_object_new_string(j->d->config->name));
	/* The destination turns DID on after the VF by itself: tell it whether it was on. */
	json_object_object_add(args, "did", json_object_new_boolean(j->did_available));
	/* A drill's fault at one of the destination's own phases: it fires it when it gets there. */
	if (job_fault_lives_on_dest(&j->fault)) {
		json_object_object_add(args, "fault", migration_fault_to_json(&j->fault));
		j->fault_fired = true;
	}
	j->prepare_sent_ms = now_ms();
	job_peer_call(j, "peer-prepare", args, PREPARE_TIMEOUT_MS, prepare_on_reply);
}

/*
 * The destination's prepare (its QEMU's start, the longest part of the two phases) need not wait
 * for the preflight's other checks: it needs DID's state (the `did` it is told) and the peer's
 * check to have passed (a free VF there, a spec it can run), and no check to have failed yet.
 * The journal says `prepare` before the request goes, so a daemon that dies from here on undoes
 * it when it starts again (recover_one()); a drill's fault at prepare fires here, where the
 * prepare starts.
 */
static void preflight_prepare_early(migration_job *j)
{
	if (j->hook || j->prepare_sent || j->rolling_back || j->phase != PHASE_PREFLIGHT ||
	    !j->did_known || !j->check_passed || j->preflight_error < 0 || j->cancel)
		return;
	j->prepare_sent = true;
	job_journal_at(j, PHASE_PREPARE);
	if (j->fault.kind != FAULT_NONE && !j->fault_fired && j->fault.phase == PHASE_PREPARE) {
		job_fault_fire(j, prepare_send);
		return;
	}
	prepare_send(j);
}

static const char *prepare_failure(const migration_job *j)
{
	return j->prepare_message ? j->prepare_message : strerror(-j->prepare_error);
}

/* The request's own times, inside the preflight's and the phases' after it. */
static void prepare_record_times(migration_job *j)
{
	j->rec[PHASE_PREPARE].ran_ahead = true;
	j->rec[PHASE_PREPARE].start_ms = (int64_t)(j->prepare_sent_ms - j->t0);
	j->rec[PHASE_PREPARE].duration_ms = (int64_t)(j->prepare_answered_ms - j->prepare_sent_ms);
}

/*
 * The phase reports the outcome of the request sent during the preflight. Not in yet: the
 * runner goes on to standby, did-off and unplug, which need nothing of the destination and
 * hide its QEMU's start behind the guest's release of the VF; the outcome is reported when it
 * comes (prepare_answered()), and the copy waits for it (job_prepare_gate()). A prepare that
 * fails then costs a switch back and the VF plugged again, where it cost nothing before: the
 * price of the time saved on every migration that does not fail there.
 */
static int prepare_run(migration_job *j)
{
	if (j->step > 0)
		return 1;
	if (j->hook) { /* the engine starts the VM on its destination */
		j->dest_skipped = true;
		return 1;
	}
	assert(j->prepare_sent);
	j->rec[PHASE_PREPARE].ran_ahead = true;
	if (!j->prepare_answered_ms) {
		j->prepare_ahead = true;
		j->phase++;
		job_run_phase(j);
		return 0;
	}
	prepare_record_times(j);
	if (j->prepare_error < 0) {
		job_step_done(j, j->prepare_error, "%s", prepare_failure(j));
		return 0;
	}
	return 1;
}

/* The destination holds a VF (and CPUs) for the VM: what is left is its QEMU's start. */
static void prepare_on_reserved(migration_job *j)
{
	if (j->prepare_reserved || j->prepare_answered_ms)
		return;
	j->prepare_reserved = true;
	log_info("%s: %s holds a VF for it, its QEMU starting", j->vm_name, j->to);
	if (j->waiting_prepare_gate) {
		j->waiting_prepare_gate = false;
		job_run_phase(j);
	}
}

/* The prepare answered after the runner went on: its outcome is told now, and a wait ends. */
static void prepare_answered(migration_job *j)
{
	if (j->prepare_ahead) {
		prepare_record_times(j);
		j->rec[PHASE_PREPARE].state = j->prepare_error < 0 ? PHASE_STATE_FAILED : PHASE_STATE_DONE;
		job_event_at(j, PHASE_PREPARE, phase_state_name(j->rec[PHASE_PREPARE].state),
			     j->prepare_error < 0 ? prepare_failure(j) : NULL);
	}
	if (j->waiting_prepare_undo) {
		j->waiting_prepare_undo = false;
		job_step_done(j, 0, NULL);
	} else if (j->waiting_prepare_gate) {
		j->waiting_prepare_gate = false;
		job_run_phase(j);
	}
}

/* Undo everything before the current phase, which has not started: it failed elsewhere. */
static void job_roll_back_before(migration_job *j, const char *message)
{
	job_fail_message(j, message);
	j->rolling_back = true;
	j->phase--;
	job_undo_phase(j);
}

/*
 * Between the prepare and the copy, as each phase starts: a prepare that failed meanwhile rolls
 * back what ran since (the phase before this one, and down to the prepare's abort). A prepare
 * not answered yet is waited for by the copy; by the phases before it until the destination
 * said it holds a VF (a refusal that needs no QEMU, no free VF or CPUs, leaves the guest
 * untouched; a peer too old to say so is waited for whole), and by a phase where a drill's
 * fault is due (a fault must find what it breaks: the destination's QEMU, its daemon at work).
 * True if the phase is not to start now.
 */
static bool job_prepare_gate(migration_job *j)
{
	if (!j->prepare_ahead || j->phase > PHASE_MIGRATE)
		return false;
	if (!j->prepare_answered_ms) {
		if (j->phase < PHASE_MIGRATE && j->prepare_reserved && !job_fault_due(j))
			return false;
		log_info("%s: %s waits for %s's prepare", j->vm_name, migration_phase_name(j->phase),
			 j->to);
		j->waiting_prepare_gate = true;
		return true;
	}
	if (j->prepare_error >= 0)
		return false;
	job_roll_back_before(j, prepare_failure(j));
	return true;
}

static int prepare_undo(migration_job *j)
{
	if (j->hook)
		return 1;
	switch (j->step) {
	case 0:
		/* Still in flight (the runner went on, or a check failed): its answer first. */
		if (j->prepare_sent && !j->prepare_answered_ms) {
			j->waiting_prepare_undo = true;
			return 0;
		}
		return job_step_done(j, 0, NULL), 0;
	case 1:
		job_peer_call(j, "peer-abort", NULL, PEER_TIMEOUT_MS, job_on_peer_reply);
		return 0;
	}
	return 1;
}

/* --- phase 3: standby active (make-before-break) --- */

static int standby_run(migration_job *j)
{
	/* The standby carries the traffic: the NIC must stop sending the VM's frames to the VF. */
	if (j->step == 1 && j->v)
		vf_steering_apply_logged(j->v, VF_EVENT_STANDBY);
	if (j->step > 0)
		return 1;
	return job_agent(j, "bond-set-active", args_role("standby"), NULL);
}

static int standby_undo(migration_job *j)
{
	if (j->step > 0)
		return 1;
	if (j->v)
		vf_steering_apply_logged(j->v, VF_EVENT_ACTIVE);
	return job_agent(j, "bond-set-active", args_role("vf"), NULL);
}

/* --- phase 4: DID off --- */

static int did_off_run(migration_job *j)
{
	if (j->step > 0 || !j->did_available)
		return 1;
	return job_agent(j, "did-disable", NULL, NULL);
}

static int did_off_undo(migration_job *j)
{
	if (j->step > 0 || !j->did_available)
		return 1;
	return job_agent(j, "did-enable", NULL, NULL);
}

/* --- phase 5: unplug the VF --- */

static void unplug_on_timeout(uv_timer_t *t)
{
	migration_job *j = t->data;

	j->waiting_device_deleted = false;
	job_step_done(j, -ETIMEDOUT, "The guest did not release '%s' within %d s (no DEVICE_DELETED)",
		      QEMU_ID_VF, UNPLUG_TIMEOUT_MS / 1000);
}

static void unplug_on_device_del(int error, json_object *ret, const char *desc, void *userdata)
{
	migration_job *j = userdata;

	if (error < 0) {
		j->waiting_device_deleted = false;
		job_step_done(j, error, "%s refused to unplug '%s': %s", vm_backend_of(j->v)->name,
			      QEMU_ID_VF, desc ? desc : strerror(-error));
		return;
	}
	if (j->device_deleted) {
		job_step_done(j, 0, NULL);
		return;
	}
	if (j->device_removal_failed) {
		job_step_done(j, -EIO, "The guest refused to release '%s'", QEMU_ID_VF);
		return;
	}
	uv_timer_start(j->timer, unplug_on_timeout, UNPLUG_TIMEOUT_MS, 0);
}

static void unplug_on_netdev_del(int error, json_object *ret, const char *desc, void *userdata)
{
	migration_job *j = userdata;

	/* A netdev already gone is what we want. */
	job_step_done(j, 0, NULL);
}

static int unplug_run(migration_job *j)
{
	if (!j->v)
		return 1;
	switch (j->step) {
	case 0:
		j->device_deleted = false;
		j->device_removal_failed = false;
		j->waiting_device_deleted = true;
		return job_backend_call(j, vf_unplug, unplug_on_device_del, j);
	case 1:
		vm_set_vf_plugged(j->v, false);
		vm_save(j->v);
		/*
		 * Cleared again: with the PF's MAC cleared, igb lets the VF set its own, and the
		 * guest's bond, releasing the VF as it goes, gives it back the address it had when
		 * enslaved, the VM's. The NIC would then send the VM's frames to a VF no one drives
		 * for as long as the copy runs.
		 */
		vf_steering_apply_logged(j->v, VF_EVENT_STANDBY);
		return job_backend_call(j, vf_unplug_finish, unplug_on_netdev_del, j);
	}
	return 1;
}

static void replug_on_reply(int error, json_object *ret, const char *desc, void *userdata)
{
	migration_job *j = userdata;

	/* The VF never left (undo steps are idempotent): the guest still has it enslaved. */
	if (error == -EEXIST) {
		j->vf_never_left = true;
		error = 0;
	}
	if (error < 0)
		job_step_done(j, error, "QEMU: %s", desc ? desc : strerror(-error));
	else
		job_step_done(j, 0, NULL);
}

static void replug_on_activated(int error, const char *message, const vf_activate_wait *wait,
				void *userdata)
{
	migration_job *j = userdata;

	if (error < 0)
		job_step_done(j, error, "%s", message);
	else
		job_step_done(j, 0, NULL);
}

static int unplug_undo(migration_job *j)
{
	if (!j->v)
		return 1;
	switch (j->step) {
	case 0:
		return job_backend_call(j, vf_plug, replug_on_reply, j);
	case 1:
		vm_set_vf_plugged(j->v, true);
		vm_save(j->v);
		/*
		 * A VF that never left is still in the bond: it gets the VM's MAC back here, and
		 * standby's undo makes it active again. A replugged one gets it from vf_activate,
		 * once the guest made it the active slave.
		 */
		if (j->vf_never_left) {
			vf_steering_apply_logged(j->v, VF_EVENT_ACTIVE);
			return 1;
		}
		return vf_activate_start(j->d, j->vm_name, replug_on_activated, j);
	}
	return 1;
}

/* --- phase 6: migrate --- */

/*
 * The copy runs until QEMU's MIGRATION event says it completed, failed or was cancelled; a timer
 * bounds it (migrate_timeout_ms), and its expiry, like `dmigrate cancel`, fails the phase: the
 * undo cancels the copy and resumes the source. While a CLI watches, query-migrate refreshes its
 * progress every PROGRESS_INTERVAL_MS; that refresh decides nothing.
 */
static void migrate_end_wait(migration_job *j)
{
	j->migrate_waiting = false;
	uv_timer_stop(j->timer);
	uv_timer_stop(j->progress_timer);
}

static void migrate_on_timeout(uv_timer_t *t)
{
	migration_job *j = t->data;

	migrate_end_wait(j);
	job_step_done(j, -ETIMEDOUT,
		      "The migration did not complete within %llu ms (migrate_timeout_ms): cancelled",
		      (unsigned long long)j->settings.migrate_timeout_ms);
}

/* The final query-migrate: its figures go into the result. */
static void migrate_on_final(int error, json_object *ret, const char *desc, void *userdata)
{
	migration_job *j = userdata;
	json_object *status, *v;
	const char *s;

	s = error == 0 && json_object_object_get_ex(ret, "status", &status) ?
		    json_object_get_string(status) : "unknown";
	if (!strcmp(s, "completed")) {
		json_object_put(j->qemu_stats);
		j->qemu_stats = json_object_get(ret);
		job_step_done(j, 0, NULL);
		return;
	}
	job_step_done(j, -EIO, "QEMU migration %s: %s", s,
		      error == 0 && json_object_object_get_ex(ret, "error-desc", &v) ?
			      json_object_get_string(v) : desc ? desc : "no reason given");
}

static void migrate_progress(uv_timer_t *t);

static void migrate_on_progress(int error, json_object *ret, const char *desc, void *userdata)
{
	migration_job *j = userdata;
	json_object *status, *ram, *v, *p;

	if (error < 0 || !j->migrate_waiting || !j->req ||
	    !json_object_object_get_ex(ret, "status", &status) ||
	    !json_object_object_get_ex(ret, "ram", &ram)) {
		if (j->migrate_waiting && j->req)
			uv_timer_start(j->progress_timer, migrate_progress, PROGRESS_INTERVAL_MS, 0);
		return;
	}
	p = json_object_new_object();
	if (!p) {
		uv_timer_start(j->progress_timer, migrate_progress, PROGRESS_INTERVAL_MS, 0);
		return;
	}
	json_object_object_add(p, "status", json_object_new_string(json_object_get_string(status)));
	static const struct {
		const char *from, *to;
	} keys[] = { { "transferred", "transferred" }, { "remaining", "remaining" },
		     { "total", "total" }, { "dirty-pages-rate", "dirty_rate" },
		     { "mbps", "mbps" } };
	for (size_t i = 0; i < ELEMENTSOF(keys); i++)
		if (json_object_object_get_ex(ram, keys[i].from, &v))
			json_object_object_add(p, keys[i].to, json_object_get(v));
	if (json_object_object_get_ex(ret, "expected-downtime", &v))
		json_object_object_add(p, "expected_downtime_ms", json_object_get(v));
	if (json_object_object_get_ex(ram, "mbps", &v) && json_object_get_double(v) > 0 &&
	    json_object_object_get_ex(ram, "remaining", &status))
		json_object_object_add(
			p, "eta_ms",
			json_object_new_int64((int64_t)(json_object_get_double(status) * 8 /
							 (json_object_get_double(v) * 1000))));
	rpc_request_event(j->req, "progress", p);
	uv_timer_start(j->progress_timer, migrate_progress, PROGRESS_INTERVAL_MS, 0);
}

static void migrate_progress(uv_timer_t *t)
{
	migration_job *j = t->data;

	(void)job_backend_call(j, migrate_query, migrate_on_progress, j);
}

/* Wait for QEMU's word; `check` asks once first, for a copy that may have ended already. */
static void migrate_wait(migration_job *j, uint64_t timeout_ms, bool check);
static void migrate_on_status(migration_job *j, const char *s);

static void migrate_on_check(int error, json_object *ret, const char *desc, void *userdata)
{
	migration_job *j = userdata;
	json_object *status;

	if (error == 0 && j->migrate_waiting && json_object_object_get_ex(ret, "status", &status) &&
	    json_object_is_type(status, json_type_string))
		migrate_on_status(j, json_object_get_string(status));
}

static void migrate_wait(migration_job *j, uint64_t timeout_ms, bool check)
{
	/*
	 * `dmigrate cancel` came while the call before was in flight (migration_source_cancel()
	 * ends a wait, not a call): the copy is not waited for, the undo cancels it. Waiting here
	 * kept a cancelled copy going until it ended or migrate_timeout_ms did.
	 */
	if (j->cancel) {
		job_step_done(j, -EINTR, "cancelled");
		return;
	}
	j->migrate_waiting = true;
	uv_timer_start(j->timer, migrate_on_timeout, timeout_ms, 0);
	if (j->req)
		uv_timer_start(j->progress_timer, migrate_progress, PROGRESS_INTERVAL_MS, 0);
	if (check && job_backend_call(j, migrate_query, migrate_on_check, j) < 0) {
		migrate_end_wait(j);
		job_step_done(j, -ENOTCONN, "QEMU of '%s' is gone during the migration", j->vm_name);
	}
}

static void migrate_fault_fired(migration_job *j)
{
	/* The copy goes on; its end is still QEMU's MIGRATION event. */
}

/* The fault hook of `migrate`: a fault there lands in the copy, so it fires once QEMU copies
 * (migrate_on_status()), not as the phase starts. */
static bool fault_when_copying(migration_job *j)
{
	return false;
}

/* QEMU's MIGRATION event (or a query-migrate reply standing in for it). */
static void migrate_on_status(migration_job *j, const char *s)
{
	int r;

	if (!j->migrate_waiting)
		return;
	if (!strcmp(s, "active") && job_fault_due(j)) {
		job_fault_fire(j, migrate_fault_fired);
		return;
	}
	if (strcmp(s, "completed") && strcmp(s, "failed") && strcmp(s, "cancelled"))
		return;
	migrate_end_wait(j);
	r = job_backend_call(j, migrate_query, migrate_on_final, j);
	if (r < 0)
		job_step_done(j, r, "QEMU of '%s' is gone during the migration", j->vm_name);
}

static void migrate_on_started(int error, json_object *ret, const char *desc, void *userdata)
{
	migration_job *j = userdata;

	if (error < 0) {
		job_step_done(j, error, "%s refused to migrate: %s", vm_backend_of(j->v)->name,
			      desc ? desc : strerror(-error));
		return;
	}
	/* Events may have come before this reply: ask once. */
	migrate_wait(j, j->settings.migrate_timeout_ms, true);
}

static int migrate_run(migration_job *j)
{
	migration_settings s = j->settings;

	if (j->step > 0)
		return 1;
	j->settings.tls_hostname = j->d->config->tls_dir ? j->to : NULL;
	s = j->settings;
	/* Its part of the host's cap, shared with the other copies running now (0: none). */
	s.max_bandwidth_mibps = bandwidth_share_join(j->d->bandwidth, j->vm_name,
						     j->settings.max_bandwidth_mibps);
	return job_backend_call(j, migrate_start, j->peer, j->uri, &s, migrate_on_started, j);
}

/* Called while (re)starting a job whose migration QEMU may still be running. */
static void migrate_resume_watch(migration_job *j)
{
	j->phase = PHASE_MIGRATE;
	j->step = 0;
	j->phase_t0 = now_ms();
	migrate_wait(j, j->settings.migrate_timeout_ms, true);
}

static void migrate_undo_on_query(int error, json_object *ret, const char *desc, void *userdata)
{
	migration_job *j = userdata;
	json_object *status;

	/*
	 * migrate_cancel races with completion. A completed migration means the destination may
	 * run the VM now: resuming the source would run it twice, so go forward instead.
	 */
	if (error == 0 && json_object_object_get_ex(ret, "status", &status) &&
	    !strcmp(json_object_get_string(status), "completed") && !j->dest_not_running) {
		log_warning("%s: the migration completed while being cancelled; finishing it instead",
			    j->vm_name);
		j->rolling_back = false;
		j->phase = PHASE_SWITCHOVER;
		j->step = 0;
		job_run_phase(j);
		return;
	}
	job_step_done(j, 0, NULL);
}

static void migrate_undo_on_status(int error, json_object *ret, const char *desc, void *userdata)
{
	migration_job *j = userdata;
	json_object *status;
	int r;

	if (error < 0 || !json_object_object_get_ex(ret, "status", &status) ||
	    !strcmp(json_object_get_string(status), "running")) {
		job_step_done(j, 0, NULL);
		return;
	}
	/* Only reached when the destination's QEMU never ran: resuming here is safe. */
	r = job_backend_call(j, resume, job_on_backend_reply, j);
	if (r < 0)
		job_step_done(j, r, "Cannot resume '%s' on the source", j->vm_name);
}

static void migrate_undo_on_cancel(int error, json_object *ret, const char *desc, void *userdata)
{
	migration_job *j = userdata;

	job_step_done(j, 0, NULL);
}

static int migrate_undo(migration_job *j)
{
	switch (j->step) {
	case 0:
		return job_backend_call(j, migrate_cancel, migrate_undo_on_cancel, j);
	case 1:
		return job_backend_call(j, migrate_query, migrate_undo_on_query, j);
	case 2:
		return job_backend_call(j, query_status, migrate_undo_on_status, j);
	}
	return 1;
}

/* --- phase 7: switchover, and the phases after the point of no return --- */

static void switchover_on_reply(rpc_conn *c, int error, json_object *ret, const char *code,
				const char *message, void *userdata)
{
	migration_job *j = userdata;

	if (error == -ECANCELED || job_peer_retry(j, error, code))
		return;
	if (error == -EREMOTEIO && code && !strcmp(code, DEST_ERR_LOST)) {
		j->lost = true;
		job_step_done(j, -EHOSTDOWN, "%s: %s", j->to, message);
		return;
	}
	if (error == -EREMOTEIO && code && !strcmp(code, DEST_ERR_NOT_RUNNING)) {
		/* The destination confirmed the VM never ran there (it is told to run, `cont`, only
		 * after its journal says so) and its QEMU is gone: the source may safely resume. */
		j->dest_not_running = true;
		job_step_done(j, -EIO, "%s: %s", j->to, message);
		return;
	}
	if (error < 0) {
		/* We cannot know whether the destination runs the VM: resume nothing. */
		j->stuck = true;
		job_step_done(j, error, "%s did not confirm the switchover (%s); '%s' stays paused on %s",
			      j->to, message ? message : strerror(-error), j->vm_name,
			      j->d->config->name);
		return;
	}
	job_step_done(j, 0, NULL);
}

static int switchover_run(migration_job *j)
{
	json_object *args;

	if (j->step > 0)
		return 1;
	args = json_object_new_object();
	if (!args) {
		/* The copy is complete: whether the destination runs the VM is not ours to know. */
		j->stuck = true;
		return -ENOMEM;
	}
	job_peer_call(j, "peer-switchover", args, SWITCHOVER_TIMEOUT_MS, switchover_on_reply);
	return 0;
}

/* The destination's own phases after the switchover, and the call that waits for each. */
static const char *const dest_phase_cmds[_PHASE_MAX] = {
	[PHASE_PLUG] = "peer-plug",
	[PHASE_ACTIVE] = "peer-activate",
	[PHASE_DID_ON] = "peer-did-on",
};

/* The outcome of one of the destination's own phases (migration_dest.c). */
static void dest_phase_on_reply(rpc_conn *c, int error, json_object *ret, const char *code,
				const char *message, void *userdata)
{
	migration_job *j = userdata;
	peer_phase_reply reply;
	char problem[256];

	if (error == 0 && peer_reply_phase(control_command_find(dest_phase_cmds[j->phase])->id,
					   migration_phase_name(j->phase), ret, &reply, problem,
					   sizeof(problem)) < 0) {
		job_step_done(j, -EBADMSG, "%s's reply to %s is refused: %s", j->to,
			      dest_phase_cmds[j->phase], problem);
		return;
	}
	if (error == 0) {
		j->rec[j->phase].device_wait_ms = (int64_t)reply.device_wait_ms;
		j->rec[j->phase].request_held_ms = (int64_t)reply.request_held_ms;
		j->dest_skipped = reply.skipped;
	}
	job_on_peer_reply(c, error, ret, code, message, userdata);
}

static void source_on_stopped(vm *v, int error, const char *message, void *userdata)
{
	migration_job *j = userdata;

	j->source_stopping = false;
	j->source_stopped = true;
	if (j->waiting_source_stop) {
		j->waiting_source_stop = false;
		job_step_done(j, 0, NULL);
	}
}

/*
 * The source's paused copy quits. Once the switchover is confirmed it serves nothing (the
 * source never runs again, whatever happens next), so it quits as the destination's phases
 * start, not after them: the commit that waited for its quit (35-40 ms in the bench) waits
 * for it no more. Its record stays until the commit (`dmigrate cancel` and `list` still find
 * the VM here, migrating); the journal says `plug` by then: a daemon that restarts goes on
 * with the destination's phases, and its commit finds no QEMU to stop.
 */
static int source_stop(migration_job *j)
{
	int r;

	if (!j->v || j->source_stopping || j->source_stopped)
		return 0;
	/* Before the call: a VM without a QEMU any more is done with at once, inside it. */
	j->source_stopping = true;
	r = vm_backend_of(j->v)->stop(j->v, false, source_on_stopped, j);
	if (r < 0)
		j->source_stopping = false;
	return r;
}

static int dest_phase_run(migration_job *j)
{
	int r;

	if (j->step > 0)
		return 1;
	if (j->phase == PHASE_PLUG && (r = source_stop(j)) < 0)
		log_warning("%s: its paused copy here cannot be stopped now (%s); the commit stops it",
			    j->vm_name, strerror(-r));
	job_peer_call(j, dest_phase_cmds[j->phase], NULL, DEST_PHASE_WAIT_MS, dest_phase_on_reply);
	return 0;
}

static int commit_run(migration_job *j)
{
	int r;

	switch (j->step) {
	case 0:
		/* Quitting since the plug (or now, if it could not then): waited for. */
		r = source_stop(j);
		if (r < 0)
			return r;
		if (!j->source_stopping)
			return job_step_done(j, 0, NULL), 0;
		j->waiting_source_stop = true;
		return 0;
	case 1:
		/* The VM lives on the destination now: forget the source's copy and free its VF. */
		if (j->v) {
			vm_set_job(j->v, NULL);
			vm_forget(TAKE_PTR(j->v));
		}
		return job_step_done(j, 0, NULL), 0;
	case 2:
		/* Also for a lost VM: the destination keeps its word for us until we heard it. */
		job_peer_call(j, "peer-commit", NULL, PEER_TIMEOUT_MS, job_on_peer_reply);
		return 0;
	}
	return 1;
}

/*
 * The source's phases (docs/design.md, "The migration: eleven phases"): where each runs, what starts its steps and
 * their undo (1 when there is no such step; NULL: nothing to undo), and its bound. The bound of
 * `migrate` is the job's migrate_timeout_ms; from `plug` on the destination runs the phase and
 * the bound is how long we wait for its outcome. A drill's fault at the phase fires through its
 * hook (fault_at_entry, or fault_when_copying), so that the runner knows no phase by name.
 * undo_on_vm: the undo acts on the source's VM (its guest or its QEMU), so it is left out when
 * that VM ended here (source_ended).
 */
static const struct phase_def {
	const char *where;
	int (*run)(migration_job *j);
	int (*undo)(migration_job *j);
	enum { BOUND_FIXED, BOUND_AGENT, BOUND_MIGRATE } bound; /* agent_timeout_ms, migrate_timeout_ms */
	uint64_t timeout_ms; /* BOUND_FIXED */
	bool (*fault)(migration_job *j); /* the fault is due as the phase starts: true if it fired */
	bool undo_on_vm;
} phase_defs[_PHASE_MAX] = {
	[PHASE_PREFLIGHT] = { "src+dst", preflight_run, NULL, BOUND_FIXED, PEER_TIMEOUT_MS,
			      fault_at_entry },
	[PHASE_PREPARE] = { "dst", prepare_run, prepare_undo, BOUND_FIXED, PREPARE_TIMEOUT_MS,
			    fault_at_entry },
	[PHASE_STANDBY] = { "guest (src)", standby_run, standby_undo, BOUND_AGENT, 0, fault_at_entry,
			    true },
	[PHASE_DID_OFF] = { "guest (src)", did_off_run, did_off_undo, BOUND_AGENT, 0, fault_at_entry,
			    true },
	[PHASE_UNPLUG] = { "src", unplug_run, unplug_undo, BOUND_FIXED, UNPLUG_TIMEOUT_MS,
			   fault_at_entry, true },
	[PHASE_MIGRATE] = { "src->dst", migrate_run, migrate_undo, BOUND_MIGRATE, 0,
			    fault_when_copying, true },
	[PHASE_SWITCHOVER] = { "dst", switchover_run, NULL, BOUND_FIXED, SWITCHOVER_TIMEOUT_MS,
			       fault_at_entry },
	[PHASE_PLUG] = { "dst", dest_phase_run, NULL, BOUND_FIXED, DEST_PHASE_WAIT_MS, fault_at_entry },
	[PHASE_ACTIVE] = { "guest (dst)", dest_phase_run, NULL, BOUND_FIXED, DEST_PHASE_WAIT_MS,
			   fault_at_entry },
	[PHASE_DID_ON] = { "guest (dst)", dest_phase_run, NULL, BOUND_FIXED, DEST_PHASE_WAIT_MS,
			   fault_at_entry },
	[PHASE_COMMIT] = { "src+dst", commit_run, NULL, BOUND_FIXED, PEER_TIMEOUT_MS, fault_at_entry },
};

static uint64_t phase_timeout(const migration_job *j)
{
	switch (phase_defs[j->phase].bound) {
	case BOUND_AGENT:
		return j->d->config->agent_timeout_ms;
	case BOUND_MIGRATE:
		return j->settings.migrate_timeout_ms;
	default:
		return phase_defs[j->phase].timeout_ms;
	}
}

/*
 * An undo step that timed out (a stalled guest agent, a QEMU slow to answer) is tried again
 * for up to UNDO_RETRY_MS: giving up leaves the VM on its standby, or without DID.
 */
static bool job_undo_retry(migration_job *j)
{
	if (!j->retry_until)
		j->retry_until = now_ms() + UNDO_RETRY_MS;
	if (now_ms() >= j->retry_until)
		return false;
	uv_timer_start(j->retry_timer, job_retry_step, PEER_RETRY_MS, 0);
	return true;
}

static bool job_peer_retry(migration_job *j, int error, const char *code)
{
	/* Only a broken link: an answer, even an error or one refused, is the destination's word. */
	if (error >= 0 || error == -EREMOTEIO || error == -EBADMSG || j->phase < PHASE_SWITCHOVER ||
	    j->rolling_back)
		return false;
	if (!j->retry_until)
		j->retry_until = now_ms() + phase_timeout(j);
	if (now_ms() >= j->retry_until)
		return false;
	log_warning("%s: the link to %s broke during %s (%s); trying again", j->vm_name, j->to,
		    migration_phase_name(j->phase), strerror(-error));
	peer_link_close(TAKE_PTR(j->link));
	uv_timer_start(j->retry_timer, job_retry_step, PEER_RETRY_MS, 0);
	return true;
}

/* --- the runner --- */

static void job_record(migration_job *j, phase_state state)
{
	j->rec[j->phase].state = state;
	if (j->rec[j->phase].ran_ahead && state != PHASE_STATE_UNDONE)
		return;
	j->rec[j->phase].start_ms = (int64_t)(j->phase_t0 - j->t0);
	j->rec[j->phase].duration_ms = (int64_t)(now_ms() - j->phase_t0);
}

static void job_fail_message(migration_job *j, const char *message)
{
	if (!j->message && message)
		j->message = strdup(message);
}

/* Run the current step of the current phase, in the current direction. */
static void job_step(migration_job *j)
{
	int (*fn)(migration_job *) = j->rolling_back ? phase_defs[j->phase].undo :
						       phase_defs[j->phase].run;
	int r = fn(j);

	if (r == 1) {
		/* No more steps: the phase (or its undo) is complete. */
		if (j->rolling_back) {
			job_record(j, PHASE_STATE_UNDONE);
			job_event(j, phase_state_name(PHASE_STATE_UNDONE), NULL);
			j->phase--;
			job_undo_phase(j);
		} else {
			job_record(j, ((j->phase == PHASE_DID_OFF || j->phase == PHASE_DID_ON) &&
				       !j->did_available) || j->dest_skipped ?
					      PHASE_STATE_SKIPPED :
					      PHASE_STATE_DONE);
			job_event(j, phase_state_name(j->rec[j->phase].state), NULL);
			j->phase++;
			job_run_phase(j);
		}
		return;
	}
	if (r < 0)
		job_step_done(j, r, "%s failed to start: %s", migration_phase_name(j->phase),
			      strerror(-r));
}

static void job_park(migration_job *j);

static void job_run_phase(migration_job *j)
{
	if (j->phase >= _PHASE_MAX) {
		job_finish(j);
		return;
	}
	if (j->hook && j->phase == PHASE_MIGRATE) {
		job_park(j);
		return;
	}
	if (job_prepare_gate(j))
		return;
	j->step = 0;
	j->phase_t0 = now_ms();
	j->retry_until = 0;
	j->dest_skipped = false;
	if (j->phase != PHASE_MIGRATE)
		bandwidth_share_leave(j->d->bandwidth, j->vm_name); /* the copy is over */
	job_journal(j);
	job_event(j, "started", NULL);
	if (job_fault_due(j) && phase_defs[j->phase].fault(j))
		return;
	job_step(j);
}

static void job_undo_phase(migration_job *j)
{
	/* A VM that ended here: the undos that would act on its gone QEMU or domain are left out. */
	while (j->phase >= 0 &&
	       (!phase_defs[j->phase].undo || (j->source_ended && phase_defs[j->phase].undo_on_vm)))
		j->phase--;
	if (j->phase < 0) {
		j->phase = PHASE_PREFLIGHT;
		job_finish(j);
		return;
	}
	j->step = 0;
	j->phase_t0 = now_ms();
	j->retry_until = 0;
	if (j->phase != PHASE_MIGRATE)
		bandwidth_share_leave(j->d->bandwidth, j->vm_name); /* the copy is over */
	job_journal(j);
	job_event(j, "undoing", NULL);
	job_step(j);
}

static void job_step_done(migration_job *j, int error, const char *fmt, ...)
{
	_cleanup_free_ char *message = NULL;
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		if (vasprintf(&message, fmt, ap) < 0)
			message = NULL;
		va_end(ap);
	}
	if (j->cancel && !j->rolling_back && j->phase < PHASE_SWITCHOVER) {
		/* `dmigrate cancel`: whatever the step did, undo from here. */
		j->cancel = false;
		error = -EINTR;
		free(message);
		message = strdup("cancelled by the operator (dmigrate cancel)");
	}
	if (error >= 0) {
		j->step++;
		j->retry_until = 0;
		job_step(j);
		return;
	}

	if (j->rolling_back && error == -ETIMEDOUT && job_undo_retry(j)) {
		log_warning("%s: undoing %s: %s; trying again", j->vm_name,
			    migration_phase_name(j->phase), message ? message : strerror(-error));
		return;
	}
	if (j->rolling_back) {
		/* Best effort: one undo that fails must not keep the others from running. */
		log_warning("%s: undoing %s failed: %s", j->vm_name, migration_phase_name(j->phase),
			    message ? message : strerror(-error));
		j->step++;
		j->retry_until = 0;
		job_step(j);
		return;
	}

	job_record(j, PHASE_STATE_FAILED);
	job_event(j, phase_state_name(PHASE_STATE_FAILED), message);
	job_fail_message(j, message);
	if (j->stuck) {
		job_journal(j);
		job_finish(j);
		return;
	}
	if (j->phase < PHASE_SWITCHOVER || (j->phase == PHASE_SWITCHOVER && j->dest_not_running)) {
		/* Before the point of no return: undo everything, this phase included. */
		j->rolling_back = true;
		if (j->phase == PHASE_SWITCHOVER)
			j->phase = PHASE_MIGRATE;
		/* The destination prepared during the preflight: that is undone too. */
		if (j->phase == PHASE_PREFLIGHT && j->prepare_sent)
			j->phase = PHASE_PREPARE;
		job_undo_phase(j);
		return;
	}
	/* After it: the VM runs on the destination; carry on, degraded. */
	j->degraded = true;
	if (j->lost && j->phase < PHASE_COMMIT) {
		/* Nothing runs there any more: only our own paused copy is left to let go. */
		for (int p = j->phase + 1; p < PHASE_COMMIT; p++)
			j->rec[p].state = PHASE_STATE_SKIPPED;
		j->phase = PHASE_COMMIT;
	} else {
		j->phase++;
	}
	job_run_phase(j);
}

void migration_job_migrate_status(struct migration_job *j, const char *status)
{
	migrate_on_status(j, status);
}

void migration_job_vf_removed(struct migration_job *j)
{
	if (!j->waiting_device_deleted)
		return;
	j->device_deleted = true;
	j->waiting_device_deleted = false;
	/* The unplug request's reply may still be on its way; it finishes the step then. */
	if (uv_is_active((uv_handle_t *)j->timer)) {
		uv_timer_stop(j->timer);
		job_step_done(j, 0, NULL);
	}
}

void migration_job_vf_removal_failed(struct migration_job *j)
{
	if (!j->waiting_device_deleted)
		return;
	j->device_removal_failed = true;
	j->waiting_device_deleted = false;
	/* The unplug request's reply may still be on its way; it fails the step then. */
	if (uv_is_active((uv_handle_t *)j->timer)) {
		uv_timer_stop(j->timer);
		job_step_done(j, -EIO, "The guest refused to release '%s'", QEMU_ID_VF);
	}
}

void migration_job_vm_exited(struct migration_job *j, const char *how)
{
	j->source_ended = true;
	log_warning("%s: %s during the migration (phase %s)", j->vm_name, how,
		    migration_phase_name(j->phase));
	/* A wait with no call in flight would last until its bound: end it now. */
	if (j->migrate_waiting) {
		migrate_end_wait(j);
		job_step_done(j, -EIO, "%s during the copy", how);
	} else if (j->waiting_device_deleted && uv_is_active((uv_handle_t *)j->timer)) {
		/* No guest is left to release the VF. */
		uv_timer_stop(j->timer);
		j->waiting_device_deleted = false;
		job_step_done(j, -EIO, "%s while the guest was to release '%s'", how, QEMU_ID_VF);
	}
}

const char *migration_source_phase(const vm *v)
{
	return vm_get_job(v) && vm_get_job(v)->phase >= 0
		       ? migration_phase_name(vm_get_job(v)->phase)
		       : NULL;
}

int migration_source_cancel(vm *v, const char **why)
{
	migration_job *j = vm_get_job(v);

	if (!j) {
		*why = "no migration of this VM runs here";
		return -ENOENT;
	}
	if (j->rolling_back) {
		*why = "the migration is being undone already";
		return -EALREADY;
	}
	if (j->phase >= PHASE_SWITCHOVER) {
		*why = "the migration is past the switchover: the VM runs on the destination, and the source may never run again (no split brain); it can only finish";
		return -EPERM;
	}
	log_info("%s: cancelling the migration to %s at phase %s, as asked", j->vm_name, j->to,
		 migration_phase_name(j->phase));
	j->cancel = true;
	/* A wait with no call in flight ends now; a call in flight ends the step when it returns. */
	if (j->migrate_waiting) {
		migrate_end_wait(j);
		job_step_done(j, -EINTR, "cancelled");
	} else if (j->waiting_device_deleted && uv_is_active((uv_handle_t *)j->timer)) {
		uv_timer_stop(j->timer);
		j->waiting_device_deleted = false;
		job_step_done(j, -EINTR, "cancelled");
	} else if (j->waiting_prepare_gate) {
		/* Between the unplug and the copy: the prepare's undo waits for its answer. */
		j->waiting_prepare_gate = false;
		j->cancel = false;
		job_roll_back_before(j, "cancelled by the operator (dmigrate cancel)");
	}
	return 0;
}

static int job_new(host_daemon *d, vm *v, const char *name, const char *to, bool hook,
		   migration_job **ret)
{
	migration_job *j = calloc(1, sizeof(*j));
	int r;

	if (!j)
		return -ENOMEM;
	j->d = d;
	j->v = v;
	j->vm_name = strdup(name);
	j->to = strdup(to);
	j->peer = host_config_find_peer(d->config, to);
	/* A hook job names this host: it has no peer until the engine chose one. */
	j->hook = hook;
	j->settings = d->config->migration;
	j->timer = calloc(1, sizeof(*j->timer));
	j->retry_timer = calloc(1, sizeof(*j->retry_timer));
	j->progress_timer = calloc(1, sizeof(*j->progress_timer));
	if (!j->vm_name || !j->to || !j->timer || !j->retry_timer || !j->progress_timer ||
	    (!j->peer && !j->hook)) {
		r = j->peer || j->hook ? -ENOMEM : -ENOENT;
		free(j->timer);
		free(j->retry_timer);
		free(j->progress_timer);
		j->timer = j->retry_timer = j->progress_timer = NULL;
		job_free(j);
		return r;
	}
	uv_timer_init(d->loop, j->timer);
	uv_timer_init(d->loop, j->retry_timer);
	uv_timer_init(d->loop, j->progress_timer);
	j->timer->data = j->retry_timer->data = j->progress_timer->data = j;
	j->t0 = now_ms();
	if (v)
		vm_set_job(v, j);
	*ret = j;
	return 0;
}

int migration_source_start(vm *v, const char *to, json_object *settings,
			   const migration_fault *fault, rpc_request *req)
{
	_cleanup_free_ char *error = NULL;
	migration_job *j;
	int r;

	if (migration_hook_detached(vm_get_daemon(v), vm_get_name(v))) {
		if (req)
			rpc_request_reply_error(
				req, CONTROL_ERR_BUSY,
				"'%s' is detached for an engine's migration: 'dmigrate detach --undo %s' first",
				vm_get_name(v), vm_get_name(v));
		return -EBUSY;
	}
	r = job_new(vm_get_daemon(v), v, vm_get_name(v), to, false, &j);
	if (r < 0) {
		if (req) /* an evacuation's job has none: it hears the error */
			rpc_request_reply_error(req, CONTROL_ERR_FAILED, "Cannot start a migration: %s",
						strerror(-r));
		return r;
	}
	r = migration_settings_override(&j->settings, settings, &error);
	if (r < 0) {
		if (req)
			rpc_request_reply_error(req, CONTROL_ERR_INVALID, "%s", error);
		job_free(j);
		return r;
	}
	if (fault)
		j->fault = *fault;
	j->req = req;
	log_info("Migrating '%s' from %s to %s%s%s", vm_get_name(v), vm_get_daemon(v)->config->name,
		 to, fault ? ", injecting fault " : "",
		 fault ? migration_fault_name(fault->kind) : "");
	j->phase = PHASE_PREFLIGHT;
	job_run_phase(j);
	return 0;
}

/*
 * Hook mode: the guest released the VF and the engine copies the VM now. The journal says which
 * VF is kept for the VM before the pool does, so a restarted daemon keeps it too; the job
 * answers `detached` and ends. `attach` or `detach --undo` take it up from the journal.
 */
static void job_park(migration_job *j)
{
	json_object *result;

	if (j->v && vm_get_vf(j->v) && !j->hook_vf)
		j->hook_vf = strdup(vm_get_vf(j->v));
	job_journal(j);
	if (j->v && migration_hook_vf_to_owner(j->d, j->v) < 0)
		log_warning("%s: its VF cannot be kept for it in the pool", j->vm_name);
	log_info("%s: detached (VF %s kept for it); the engine migrates it now", j->vm_name,
		 j->hook_vf ? j->hook_vf : "none");
	/* Not an end of a migration (migration_outcome.h): the engine's copy comes next. */
	result = job_result(j, OUTCOME_MIGRATED);
	if (result)
		json_object_object_add(result, "outcome", json_object_new_string(HOOK_OUTCOME_DETACHED));
	if (j->req)
		rpc_request_reply(j->req, result);
	else
		json_object_put(result);
	job_free(j);
}

int migration_source_detach(vm *v, const migration_journal *parked, rpc_request *req)
{
	host_daemon *d = vm_get_daemon(v);
	migration_job *j;
	int r;

	r = job_new(d, v, vm_get_name(v), d->config->name, true, &j);
	if (r < 0) {
		rpc_request_reply_error(req, CONTROL_ERR_FAILED, "Cannot start a hook job: %s",
					strerror(-r));
		return r;
	}
	j->req = req;
	if (!parked) {
		log_info("Detaching '%s' on %s for an engine's migration", vm_get_name(v),
			 d->config->name);
		j->phase = PHASE_PREFLIGHT;
		job_run_phase(j);
		return 0;
	}
	/* Undo: the VM gets its VF back, then unplug, did-off and standby are undone. */
	j->did_available = parked->did_available;
	if (parked->vf) {
		j->hook_vf = strdup(parked->vf);
		r = migration_hook_vf_to_vm(d, v, parked->vf);
		if (r < 0) {
			rpc_request_reply_error(
				req, CONTROL_ERR_FAILED,
				"VF %s, kept for '%s', cannot be given back to it: %s", parked->vf,
				vm_get_name(v), strerror(-r));
			j->req = NULL;
			job_free(j);
			return r;
		}
	}
	log_info("Plugging the VF of '%s' back on %s (undoing its detach)", vm_get_name(v),
		 d->config->name);
	j->rolling_back = true;
	j->phase = PHASE_UNPLUG;
	job_undo_phase(j);
	return 0;
}

/* --- recovery after a daemon restart --- */

static void recover_on_query(int error, json_object *ret, const char *desc, void *userdata)
{
	migration_job *j = userdata;
	json_object *status;
	const char *s = "none";

	if (error == 0 && json_object_object_get_ex(ret, "status", &status))
		s = json_object_get_string(status);
	log_info("%s: recovering a migration left in phase migrate; QEMU says '%s'", j->vm_name, s);
	if (!strcmp(s, "completed")) {
		json_object_put(j->qemu_stats);
		j->qemu_stats = json_object_get(ret);
		j->phase = PHASE_SWITCHOVER;
		job_run_phase(j);
	} else if (!strcmp(s, "active") || !strcmp(s, "setup") || !strcmp(s, "device") ||
		   !strcmp(s, "pre-switchover")) {
		migrate_resume_watch(j);
	} else {
		j->rolling_back = true;
		job_undo_phase(j);
	}
}

static void recover_one(host_daemon *d, const migration_journal *jr)
{
	vm *v = vm_find(d, jr->vm);
	migration_job *j;
	int r;

	if (strcmp(jr->role, "source"))
		return;
	if (jr->hook && migration_hook_recover_parked(d, jr))
		return; /* detached: it waits for attach or undo */
	if (!jr->hook && !host_config_find_peer(d->config, jr->peer)) {
		log_error("Journal of '%s' names peer '%s', which is not configured; leaving it",
			  jr->vm, jr->peer);
		return;
	}
	r = job_new(d, v, jr->vm, jr->peer, jr->hook, &j);
	if (r < 0)
		return;
	j->phase = jr->phase;
	j->rolling_back = jr->rolling_back;
	j->did_available = jr->did_available;
	j->degraded = jr->degraded;
	if (jr->hook && jr->vf && v && migration_hook_vf_to_vm(d, v, jr->vf) < 0)
		log_warning("%s: VF %s, kept for it, cannot be given back to it", jr->vm, jr->vf);
	log_info("Recovering the migration of '%s' to %s: phase %s, %s", jr->vm, jr->peer,
		 migration_phase_name(jr->phase), jr->rolling_back ? "rolling back" : "forward");

	if (!v && j->phase < PHASE_SWITCHOVER) {
		/* The source QEMU died before the switchover: only the incoming copy remains to clean. */
		j->message = strdup("the source QEMU is gone");
		j->rolling_back = true;
		j->phase = PHASE_PREPARE;
		j->step = 0;
		job_undo_phase(j);
		return;
	}
	if (j->phase == PHASE_MIGRATE && !j->rolling_back) {
		if (job_backend_call(j, migrate_query, recover_on_query, j) < 0) {
			j->rolling_back = true;
			job_undo_phase(j);
		}
		return;
	}
	if (j->rolling_back || j->phase < PHASE_MIGRATE) {
		j->rolling_back = true;
		job_undo_phase(j);
		return;
	}
	job_run_phase(j);
}

int migration_source_recover(host_daemon *d)
{
	return migration_journal_foreach(d, recover_one);
}
