// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `dmigrate drill run FILE`: a failover drill (examples/drills/README.md). Each step is one
 * migration, asked of the source host's dmigrated with the step's fault in the request (the
 * daemons inject it themselves), under a 10 ms ping to the VM from here; after it, every host's
 * daemon says where the VM runs. A step passes when the outcome, the host and the injection are
 * what the file says. `dmigrate drill check FILE` only reads the file.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/param.h>
#include <time.h>

#include "cli/cli_args.h"
#include "cli/cli_client.h"
#include "cli/cli_options.h"
#include "cli/cli_commands.h"
#include "cli/cli_format.h"
#include "cli/cli_migrate_settings.h"
#include "cli/cli_migrate_view.h"
#include "cli/drill_file.h"
#include "log.h"
#include "cli/pinger.h"

#define DRILL_HOSTS_MAX 16
#define DRILL_PING_INTERVAL_MS 10
/* Before a step: the VM's agent must answer on the source (an agent killed by the step before
 * is restarted by its supervisor). */
#define DRILL_READY_TIMEOUT_MS 60000
#define DRILL_READY_POLL_MS 500
/* A source daemon that died under a step (kill-source-daemon): how long its supervisor and
 * its recovery from the journal may take before the drill gives up on the step. */
#define DRILL_RECOVER_TIMEOUT_MS 120000

static void cli_drill_usage(FILE *f)
{
	fprintf(f,
		"Usage: dmigrate drill run FILE --host NAME=SOCKET... [OPTIONS]\n"
		"       dmigrate drill check FILE\n\n"
		"Run a failover drill: the migrations FILE lists, some with a fault injected at a\n"
		"named phase, each checked against the outcome and the host FILE expects, under a\n"
		"10 ms ping to the VM from this host. The format: examples/drills/README.md.\n"
		"The hosts' dmigrated must allow fault injection (fault_injection in dmigrated.json).\n"
		"'check' only reads FILE and reports what is wrong with it.\n\n"
		"Options:\n"
		"  --host NAME=SOCKET  where host NAME's dmigrated listens; every host FILE names\n"
		"                      needs one (a remote daemon's socket can be forwarded:\n"
		"                      ssh -L /tmp/B.sock:/run/dmigrate/dmigrated.sock root@B)\n"
		"  --ping ADDRESS      ping this IPv4 address instead of FILE's 'ping'\n"
		"  --json              print the report as one JSON object instead of lines\n"
		"  -h, --help          show this help\n\n"
		"Exit codes:\n"
		"  0  every step ended as FILE says\n"
		"  1  a step did not (the drill stops when the VM is not where the next step\n"
		"     starts), or a daemon could not be reached\n"
		"  2  bad FILE or options: nothing was run\n");
}

typedef struct drill_host {
	const char *name;
	const char *socket;
} drill_host;

typedef struct drill_run {
	drill *dr;
	drill_host hosts[DRILL_HOSTS_MAX];
	size_t n_hosts;
	json_object **settings; /* per step: the `-- OPTIONS` as migrate settings */
	pinger *ping;
	bool json;
	bool interrupted;
} drill_run;

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static const char *drill_socket(drill_run *r, const char *host)
{
	for (size_t i = 0; i < r->n_hosts; i++)
		if (!strcmp(r->hosts[i].name, host))
			return r->hosts[i].socket;
	return NULL;
}

/* --host NAME=SOCKET, once per host: split in place, argv keeps the strings. */
static int drill_add_host(char *arg, void *userdata)
{
	drill_run *r = userdata;
	char *eq = strchr(arg, '=');
	char q[CLI_QUOTE_SIZE];

	if (!eq || eq == arg || !eq[1]) {
		log_error("--host '%s': expected NAME=SOCKET, e.g. --host hostB=/tmp/hostB.sock",
			  cli_quote(arg, q, sizeof(q)));
		return -EINVAL;
	}
	*eq = '\0';
	if (cli_check_host_name(arg) < 0)
		return -EINVAL;
	if (drill_socket(r, arg) || r->n_hosts == DRILL_HOSTS_MAX) {
		log_error("--host %s: %s", cli_quote(arg, q, sizeof(q)),
			  r->n_hosts == DRILL_HOSTS_MAX ? "too many hosts" : "given twice");
		return -EINVAL;
	}
	r->hosts[r->n_hosts++] = (drill_host){ arg, eq + 1 };
	return 0;
}

/* Every host the steps name needs a socket; every step's options must be migrate settings. */
static int drill_check_steps(drill_run *r, const char *path)
{
	r->settings = calloc(r->dr->n_steps, sizeof(*r->settings));
	if (!r->settings)
		return -ENOMEM;
	for (size_t i = 0; i < r->dr->n_steps; i++) {
		drill_step *s = &r->dr->steps[i];
		const char *hosts[] = { s->from, s->to, s->on };
		char where[512];

		for (size_t h = 0; h < ELEMENTSOF(hosts); h++)
			if (!drill_socket(r, hosts[h])) {
				log_error("%s:%u names host '%s': say where its dmigrated listens with "
					  "--host %s=SOCKET",
					  path, s->line, hosts[h], hosts[h]);
				return -EINVAL;
			}
		snprintf(where, sizeof(where), "%s:%u", path, s->line);
		r->settings[i] = json_object_new_object();
		if (cli_migrate_settings_parse(s->options, s->n_options, where, r->settings[i]) < 0)
			return -EINVAL;
	}
	return 0;
}

/* One call to a host's daemon; NULL (after the client logged why) when it failed. */
static json_object *drill_call(drill_run *r, const char *host, const char *cmd, json_object *args,
			       uint64_t timeout_ms, int *ret_rc)
{
	json_object *result = NULL;
	cli_call call = { .socket = drill_socket(r, host), .cmd = cmd, .args = args,
			  .timeout_ms = timeout_ms };
	int rc = cli_client_run(&call, &result);

	if (ret_rc)
		*ret_rc = rc;
	if (rc != CLI_EXIT_OK) {
		json_object_put(result);
		return NULL;
	}
	return result;
}

/* Where the VM runs, by its daemons' word: "hostA", "hostA hostB" (twice!), or "nowhere". */
static int drill_where(drill_run *r, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < r->n_hosts; i++) {
		_cleanup_json_ json_object *list = drill_call(r, r->hosts[i].name, "list", NULL,
							      CLI_QUERY_TIMEOUT_MS, NULL);
		json_object *vms;

		if (!list)
			return -EIO;
		if (!json_object_object_get_ex(list, "vms", &vms))
			continue;
		for (size_t k = 0; k < json_object_array_length(vms); k++) {
			const char *name = cli_json_string(json_object_array_get_idx(vms, k), "name");

			if (name && !strcmp(name, r->dr->vm))
				n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s",
						      n ? " " : "", r->hosts[i].name);
		}
	}
	if (!n)
		snprintf(buf, size, "nowhere");
	return 0;
}

/* Wait until the VM's guest agent answers on host: a step needs it from its preflight on. */
static int drill_wait_ready(drill_run *r, const char *host)
{
	for (uint64_t waited = 0; waited < DRILL_READY_TIMEOUT_MS; waited += DRILL_READY_POLL_MS) {
		_cleanup_json_ json_object *args = json_object_new_object();
		_cleanup_json_ json_object *st = NULL;
		json_object *guest;
		const char *agent;

		json_object_object_add(args, "vm", json_object_new_string(r->dr->vm));
		st = drill_call(r, host, "status", args, CLI_QUERY_TIMEOUT_MS, NULL);
		if (!st)
			return -EIO;
		agent = json_object_object_get_ex(st, "guest", &guest) ?
				cli_json_string(guest, "agent") : NULL;
		if (agent && !strcmp(agent, "answering"))
			return 0;
		sleep_ms(DRILL_READY_POLL_MS);
	}
	return -ETIMEDOUT;
}

/*
 * The source's dmigrated went away under the step's request (kill-source-daemon, or a crash): the
 * job is in its journal, and the daemon, restarted by its supervisor, finishes or undoes it. Ask
 * again, bounded, until every host's daemon answers and none has the VM migrating. Quiet while
 * a daemon is down: that is what is waited for.
 */
static int drill_wait_recovered(drill_run *r)
{
	int level = log_get_max_level();

	for (uint64_t waited = 0; waited < DRILL_RECOVER_TIMEOUT_MS && !r->interrupted;
	     waited += DRILL_READY_POLL_MS) {
		bool settled = true;

		log_set_max_level(LOG_CRIT);
		for (size_t i = 0; i < r->n_hosts && settled; i++) {
			_cleanup_json_ json_object *list = drill_call(r, r->hosts[i].name, "list", NULL,
								      CLI_QUERY_TIMEOUT_MS, NULL);
			json_object *vms, *v;

			settled = list && json_object_object_get_ex(list, "vms", &vms);
			for (size_t k = 0; settled && k < json_object_array_length(vms); k++) {
				const char *name, *state;

				v = json_object_array_get_idx(vms, k);
				name = cli_json_string(v, "name");
				state = cli_json_string(v, "state");
				settled = !name || strcmp(name, r->dr->vm) || !state ||
					  strcmp(state, "migrating");
			}
		}
		log_set_max_level(level);
		if (settled)
			return 0;
		sleep_ms(DRILL_READY_POLL_MS);
	}
	return -ETIMEDOUT;
}

/*
 * The outcome of a step whose source daemon died, which no daemon reports: read from where the
 * VM runs, as docs/fault-matrix.md's recovered cells are: back on the source, rolled back; on the
 * destination on its VF with the bond on it, migrated, else degraded; nowhere, lost.
 */
static const char *drill_recovered_outcome(drill_run *r, const drill_step *s, const char *where)
{
	_cleanup_json_ json_object *args = json_object_new_object();
	_cleanup_json_ json_object *st = NULL;
	json_object *guest;
	const char *role;

	if (!strcmp(where, s->from))
		return "rolled-back";
	if (strcmp(where, s->to))
		return !strcmp(where, "nowhere") ? "lost" : "error";
	/* The bond's active slave needs the agent, which the step may have left restarting. */
	if (drill_wait_ready(r, s->to) < 0)
		return "degraded";
	json_object_object_add(args, "vm", json_object_new_string(r->dr->vm));
	st = drill_call(r, s->to, "status", args, CLI_QUERY_TIMEOUT_MS, NULL);
	role = st && json_object_object_get_ex(st, "guest", &guest) ?
		       cli_json_string(guest, "active-role") : NULL;
	return st && cli_json_bool(st, "vf_plugged") && role && !strcmp(role, "vf") ? "migrated" :
										       "degraded";
}

static void drill_on_interrupt(void *userdata)
{
	drill_run *r = userdata;

	r->interrupted = true;
	log_notice("Interrupted: the drill stops; the migration under way goes on in dmigrated.");
}

/* A fault with a duration may outlast the migration: the next step must not meet it. */
static void drill_wait_fault_over(const drill_step *s, json_object *result)
{
	json_object *phases, *p;
	uint64_t start = 0, total = 0;

	if (!migration_fault_has_duration(s->fault.kind) || !result ||
	    !json_object_object_get_ex(result, "phases", &phases) ||
	    !cli_json_uint(result, "total_ms", &total))
		return;
	for (size_t i = 0; i < json_object_array_length(phases); i++) {
		const char *name;

		p = json_object_array_get_idx(phases, i);
		name = cli_json_string(p, "phase");
		if (name && !strcmp(name, migration_phase_name(s->fault.phase)))
			cli_json_uint(p, "start_ms", &start);
	}
	if (start + s->fault.duration_ms > total) {
		log_info("Waiting %" PRIu64 " ms for the %s fault to end",
			 start + s->fault.duration_ms - total, migration_fault_name(s->fault.kind));
		sleep_ms(start + s->fault.duration_ms - total + 1000);
	}
}

static void drill_print_step(FILE *out, json_object *rep)
{
	json_object *fault = NULL, *ping = NULL;
	char ms[32];
	uint64_t gap = 0, sent = 0, received = 0, total = 0, code = 0;

	fprintf(out, "step %" PRIu64 " (line %" PRIu64 "): %s -> %s",
		(uint64_t)json_object_get_int64(json_object_object_get(rep, "step")),
		(uint64_t)json_object_get_int64(json_object_object_get(rep, "line")),
		cli_json_string(rep, "from"), cli_json_string(rep, "to"));
	if (json_object_object_get_ex(rep, "fault", &fault) && fault)
		fprintf(out, ", fault %s at %s", cli_json_string(fault, "name"),
			cli_json_string(fault, "phase"));
	cli_json_uint(rep, "exit", &code);
	fprintf(out, ": %s (exit %" PRIu64 "%s), runs on %s", cli_json_string(rep, "outcome"), code,
		cli_json_bool(rep, "recovered") ? ", from the restarted source daemon's journal" : "",
		cli_json_string(rep, "runs_on"));
	if (json_object_object_get_ex(rep, "ping", &ping) && ping &&
	    cli_json_uint(ping, "gap_ms", &gap) && cli_json_uint(ping, "sent", &sent) &&
	    cli_json_uint(ping, "received", &received))
		fprintf(out, "; ping gap %" PRIu64 " ms, %" PRIu64 "/%" PRIu64 " lost", gap,
			sent - MIN(received, sent), sent);
	if (cli_json_uint(rep, "total_ms", &total))
		fprintf(out, "; %s", cli_format_ms(total, ms, sizeof(ms)));
	fprintf(out, "; %s\n", cli_json_string(rep, "verdict"));
	fflush(out);
}

/* Run step s (the k-th of the drill); its report goes to *ret. false: stop the drill. */
static bool drill_run_step(drill_run *r, size_t index, unsigned k, json_object **ret)
{
	const drill_step *s = &r->dr->steps[index];
	_cleanup_json_ json_object *args = json_object_new_object();
	_cleanup_json_ json_object *result = NULL;
	json_object *rep = json_object_new_object(), *f = NULL;
	const char *outcome = "error", *verdict = "ok";
	char where[256], why[512] = "";
	bool injected = s->fault.kind == FAULT_NONE, lost = false, recovered = false;
	pinger_stats ps;
	int rc;

	*ret = rep;
	json_object_object_add(rep, "step", json_object_new_int(k));
	json_object_object_add(rep, "line", json_object_new_int((int)s->line));
	json_object_object_add(rep, "from", json_object_new_string(s->from));
	json_object_object_add(rep, "to", json_object_new_string(s->to));
	json_object_object_add(rep, "fault", s->fault.kind == FAULT_NONE ? NULL :
					     migration_fault_to_json(&s->fault));
	json_object_object_add(rep, "expect", json_object_new_string(migration_outcome_name(s->expect)));
	json_object_object_add(rep, "expect_on", json_object_new_string(s->on));

	if (drill_wait_ready(r, s->from) < 0)
		log_warning("step %u: the guest agent of %s on %s does not answer; migrating all the same",
			    k, r->dr->vm, s->from);

	json_object_object_add(args, "vm", json_object_new_string(r->dr->vm));
	json_object_object_add(args, "to", json_object_new_string(s->to));
	if (json_object_object_length(r->settings[index]))
		json_object_object_add(args, "settings", json_object_get(r->settings[index]));
	if (s->fault.kind != FAULT_NONE)
		json_object_object_add(args, "fault", migration_fault_to_json(&s->fault));
	if (r->ping)
		pinger_window_begin(r->ping);
	{
		cli_call call = { .socket = drill_socket(r, s->from), .cmd = "migrate", .args = args,
				  .on_interrupt = drill_on_interrupt, .userdata = r, .lost = &lost };

		rc = cli_client_run(&call, &result);
	}
	if (lost) {
		log_notice("step %u: the connection to %s's dmigrated is gone; waiting up to %d s for "
			   "it to come back and finish or undo the migration from its journal",
			   k, s->from, DRILL_RECOVER_TIMEOUT_MS / 1000);
		recovered = drill_wait_recovered(r) == 0;
		if (!recovered)
			log_error("step %u: the daemons did not settle within %d s", k,
				  DRILL_RECOVER_TIMEOUT_MS / 1000);
		/* Its daemon died under the request: the fault that kills it did its work. */
		injected = injected || s->fault.kind == FAULT_KILL_SOURCE_DAEMON;
	}
	if (r->ping) {
		json_object *p = json_object_new_object();

		pinger_window_stats(r->ping, &ps);
		json_object_object_add(p, "sent", json_object_new_uint64(ps.sent));
		json_object_object_add(p, "received", json_object_new_uint64(ps.received));
		json_object_object_add(p, "gap_ms", json_object_new_uint64(ps.max_gap_ms));
		json_object_object_add(rep, "ping", p);
	}
	if (rc == CLI_EXIT_OK && json_object_is_type(result, json_type_object)) {
		outcome = cli_json_string(result, "outcome") ?: "error";
		rc = cli_migrate_exit_code(result);
		if (json_object_object_get_ex(result, "fault", &f))
			injected = cli_json_bool(f, "injected");
		if (json_object_object_get_ex(result, "message", &f))
			json_object_object_add(rep, "message", json_object_get(f));
		if (json_object_object_get_ex(result, "total_ms", &f))
			json_object_object_add(rep, "total_ms", json_object_get(f));
		drill_wait_fault_over(s, result);
	}
	if (drill_where(r, where, sizeof(where)) < 0)
		snprintf(where, sizeof(where), "unknown");
	if (recovered)
		outcome = drill_recovered_outcome(r, s, where);
	json_object_object_add(rep, "recovered", json_object_new_boolean(recovered));
	json_object_object_add(rep, "outcome", json_object_new_string(outcome));
	json_object_object_add(rep, "exit", json_object_new_int(rc));
	json_object_object_add(rep, "injected", json_object_new_boolean(injected));
	json_object_object_add(rep, "runs_on", json_object_new_string(where));
	if (migration_outcome_from_name(outcome) != s->expect)
		snprintf(why, sizeof(why), "FAIL (outcome %s, expected %s)", outcome,
			 migration_outcome_name(s->expect));
	else if (strcmp(where, s->on))
		snprintf(why, sizeof(why), "FAIL (runs on %s, expected %s)", where, s->on);
	else if (!injected)
		snprintf(why, sizeof(why), "FAIL (fault not injected)");
	if (why[0])
		verdict = why;
	json_object_object_add(rep, "verdict", json_object_new_string(verdict));
	if (r->interrupted)
		return false;
	if (strcmp(where, s->on)) {
		log_error("%s runs on %s after step %u, not on %s: the drill stops (the next steps "
			  "would start from the wrong host)",
			  r->dr->vm, where, k, s->on);
		return false;
	}
	return true;
}

static int drill_execute(drill_run *r, const char *path)
{
	_cleanup_json_ json_object *steps = json_object_new_array();
	char where[256];
	bool passed = true, go_on = true;
	unsigned k = 0;

	if (drill_where(r, where, sizeof(where)) < 0)
		return CLI_EXIT_FAILED;
	if (strcmp(where, r->dr->steps[0].from)) {
		log_error("%s runs on %s; the drill's first step migrates it from %s", r->dr->vm,
			  where, r->dr->steps[0].from);
		return CLI_EXIT_FAILED;
	}
	for (unsigned rep = 0; rep < r->dr->repeat && go_on; rep++)
		for (size_t i = 0; i < r->dr->n_steps && go_on; i++) {
			json_object *step;

			go_on = drill_run_step(r, i, ++k, &step);
			passed &= !strcmp(cli_json_string(step, "verdict"), "ok");
			if (!r->json)
				drill_print_step(stdout, step);
			json_object_array_add(steps, step);
		}
	passed &= go_on;
	if (r->json) {
		json_object *report = json_object_new_object();

		json_object_object_add(report, "drill", json_object_new_string(path));
		json_object_object_add(report, "vm", json_object_new_string(r->dr->vm));
		json_object_object_add(report, "steps", json_object_get(steps));
		json_object_object_add(report, "passed", json_object_new_boolean(passed));
		cli_json_print(stdout, report);
		json_object_put(report);
	} else {
		printf("drill %s: %s\n", path, passed ? "every step as expected" : "FAILED");
	}
	if (r->interrupted)
		return CLI_EXIT_DETACHED;
	return passed ? CLI_EXIT_OK : CLI_EXIT_FAILED;
}

static void drill_run_free(drill_run *r)
{
	if (r->settings)
		for (size_t i = 0; i < r->dr->n_steps; i++)
			json_object_put(r->settings[i]);
	free(r->settings);
	pinger_stop(r->ping);
	drill_free(r->dr);
}

int cli_drill(int argc, char **argv)
{
	_cleanup_free_ char *error = NULL;
	const char *ping = NULL, *action, *path;
	drill_run r = {};
	const cli_opt opts[] = { { "host", .add = drill_add_host, .userdata = &r },
				 { "ping", .value = &ping },
				 { "json", .flag = &r.json },
				 {} };
	int rc;

	if (!cli_parse_options(&(cli_command_line){ "drill", cli_drill_usage, opts }, argc, argv, &rc))
		return rc;
	if (argc - optind != 2 || (strcmp(argv[optind], "run") && strcmp(argv[optind], "check"))) {
		log_error("Usage: dmigrate drill run|check FILE (see 'dmigrate drill --help').");
		return CLI_EXIT_USAGE;
	}
	action = argv[optind];
	path = argv[optind + 1];
	if (drill_load(path, &r.dr, &error) < 0) {
		log_error("%s", error ?: "Out of memory");
		return CLI_EXIT_USAGE;
	}
	if (!strcmp(action, "check")) {
		printf("%s: %zu steps, repeated %u times\n", path, r.dr->n_steps, r.dr->repeat);
		drill_free(r.dr);
		return CLI_EXIT_OK;
	}
	if (drill_check_steps(&r, path) < 0) {
		drill_run_free(&r);
		return CLI_EXIT_USAGE;
	}
	ping = ping ?: r.dr->ping;
	if (!ping)
		log_warning("No address to ping (a 'ping' line or --ping): the steps report no traffic gap.");
	else if (pinger_start(ping, DRILL_PING_INTERVAL_MS, &r.ping, &error) < 0) {
		log_error("%s", error ?: "Cannot ping");
		drill_run_free(&r);
		return CLI_EXIT_USAGE;
	}
	rc = drill_execute(&r, path);
	drill_run_free(&r);
	return rc;
}
