// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `dmigrate evacuate HOST [--to H1,H2] [--parallel N] [--dry-run] [--json]`: every VM of HOST
 * moved to its peers. HOST's own dmigrated places and runs the migrations (daemon/evacuation.h);
 * this shows them: a table kept up to date on a terminal, a line per change otherwise, and with
 * --json one result object per VM, one per line.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_args.h"
#include "cli/cli_client.h"
#include "cli/cli_options.h"
#include "cli/cli_commands.h"
#include "cli/cli_format.h"
#include "control_protocol.h"
#include "log.h"

#define EVAC_TABLE_MAX 64

static void cli_evacuate_usage(FILE *f)
{
	fprintf(f,
		"Usage: dmigrate evacuate HOST [--to HOST[,HOST...]] [--parallel N] [--dry-run] [--json]\n\n"
		"Move every VM of HOST to its peers, live. HOST is the host whose dmigrated this talks\n"
		"to (run it there); that daemon places each VM on a peer that reports a free passthrough\n"
		"NIC, the memory and the dedicated CPUs it needs, and runs at most N migrations at a time.\n"
		"A VM that no peer can take is reported with why and left running on HOST.\n"
		"The evacuation is journalled: if dmigrated restarts, it finishes it.\n\n"
		"Options:\n"
		"  --to HOSTS     the peers that may take VMs, comma-separated (default: every peer)\n"
		"  --parallel N   migrations at a time, 1..%d (default 2)\n"
		"  --dry-run      print the plan (which VM goes where, or why it cannot), move nothing\n"
		"  --json         one JSON object per VM, one per line: vm, to, state, message, result\n"
		"  --socket PATH  dmigrated's socket (default: $%s, else %s)\n"
		"  -h, --help     show this help\n\n"
		"Ctrl-C stops watching, not the evacuation.\n\n"
		"Exit codes:\n"
		"  0    every VM moved (or planned, with --dry-run)\n"
		"  1    some VM did not move (no peer could take it, or its migration rolled back),\n"
		"       or dmigrated could not be reached\n"
		"  2    usage or input error (unknown host in --to, --parallel 0, HOST onto itself):\n"
		"       nothing was moved\n"
		"  3    every VM moved, some degraded (without their passthrough NIC or DID)\n"
		"  4    a VM was lost\n"
		"  %d  interrupted: dmigrate stopped watching, the evacuation goes on\n",
		EVACUATE_PARALLEL_MAX, CLI_SOCKET_ENV, CLI_SOCKET_DEFAULT, CLI_EXIT_DETACHED);
}

/* The live table: one row per VM, redrawn in place on a terminal. */
typedef struct evac_row {
	char vm[CONTROL_NAME_MAX + 1], to[CONTROL_NAME_MAX + 1], state[32], phase[32], progress[48];
} evac_row;

typedef struct evac_view {
	evac_row rows[EVAC_TABLE_MAX];
	unsigned n, drawn;
	bool live, json;
} evac_view;

static const char *member(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) ?
		       json_object_get_string(v) : NULL;
}

static void evac_view_draw(evac_view *w)
{
	char q[4][CLI_QUOTE_SIZE];

	if (w->drawn)
		printf("\033[%uA", w->drawn);
	printf("\033[J%-20s %-12s %-12s %-12s %s\n", "VM", "TARGET", "STATE", "PHASE", "PROGRESS");
	for (unsigned i = 0; i < w->n; i++)
		printf("%-20s %-12s %-12s %-12s %s\n", cli_quote(w->rows[i].vm, q[0], sizeof(q[0])),
		       cli_quote(w->rows[i].to, q[1], sizeof(q[1])),
		       cli_quote(w->rows[i].state, q[2], sizeof(q[2])),
		       cli_quote(w->rows[i].phase, q[3], sizeof(q[3])), w->rows[i].progress);
	w->drawn = w->n + 1;
	fflush(stdout);
}

static void evac_on_event(const char *event, json_object *data, void *userdata)
{
	evac_view *w = userdata;
	const char *vm = member(data, "vm"), *to = member(data, "to"), *state = member(data, "state"),
		   *phase = member(data, "phase"), *message = member(data, "message");
	char q[4][CLI_QUOTE_SIZE];
	evac_row *r = NULL;
	json_object *p, *n;

	if (strcmp(event, "vm") || !vm || !state || w->json)
		return;
	if (json_object_object_get_ex(data, "progress", &p) && !w->live)
		return; /* a line per change, not per progress report */
	if (!w->live) {
		printf("%s -> %s: %s%s%s%s%s\n", cli_quote(vm, q[0], sizeof(q[0])),
		       to ? cli_quote(to, q[1], sizeof(q[1])) : "-", cli_quote(state, q[2], sizeof(q[2])),
		       phase ? " (" : "", phase ? cli_quote(phase, q[3], sizeof(q[3])) : "",
		       phase ? ")" : "", message ? ": see the summary" : "");
		fflush(stdout);
		return;
	}
	for (unsigned i = 0; i < w->n; i++)
		if (!strcmp(w->rows[i].vm, vm))
			r = &w->rows[i];
	if (!r && w->n < EVAC_TABLE_MAX)
		r = &w->rows[w->n++];
	if (!r)
		return;
	snprintf(r->vm, sizeof(r->vm), "%s", vm);
	snprintf(r->to, sizeof(r->to), "%s", to ? to : "-");
	snprintf(r->state, sizeof(r->state), "%s", state);
	snprintf(r->phase, sizeof(r->phase), "%s", phase ? phase : "");
	r->progress[0] = '\0';
	if (json_object_object_get_ex(data, "progress", &p)) {
		int64_t done = json_object_object_get_ex(p, "transferred", &n) ? json_object_get_int64(n) : 0;
		int64_t left = json_object_object_get_ex(p, "remaining", &n) ? json_object_get_int64(n) : 0;

		if (done >= 0 && left >= 0 && done + left > 0)
			snprintf(r->progress, sizeof(r->progress), "%lld MiB sent, %lld MiB left",
				 (long long)(done >> 20), (long long)(left >> 20));
	}
	evac_view_draw(w);
}

static void evac_on_interrupt(void *userdata)
{
	log_notice("Interrupted: dmigrate stops watching, but the evacuation goes on (dmigrated owns "
		   "it); 'dmigrate list' shows what is left.");
}

/* The exit code: the worst of the VMs' (unplaced counts as failed). */
static int evac_exit_code(json_object *vms, bool dry_run)
{
	int rc = CLI_EXIT_OK;

	for (size_t i = 0; i < json_object_array_length(vms); i++) {
		const char *state = member(json_object_array_get_idx(vms, i), "state");
		int c = !state ? CLI_EXIT_FAILED :
			!strcmp(state, "migrated") || (dry_run && !strcmp(state, "planned")) ? CLI_EXIT_OK :
			!strcmp(state, "degraded") ? CLI_EXIT_DEGRADED :
			!strcmp(state, "lost") ? CLI_EXIT_LOST : CLI_EXIT_FAILED;

		if (c == CLI_EXIT_LOST || (c == CLI_EXIT_FAILED && rc != CLI_EXIT_LOST) ||
		    (c == CLI_EXIT_DEGRADED && rc == CLI_EXIT_OK))
			rc = c;
	}
	return rc;
}

static void evac_summary(json_object *vms, bool dry_run, const char *host)
{
	/* A message names every peer's reason: quoted whole, not cut as names are. */
	char q[4][CLI_QUOTE_SIZE], qm[CONTROL_MAX_ERROR_MESSAGE + 64];

	printf("%s %s:\n", dry_run ? "Plan for evacuating" : "Evacuation of", cli_quote(host, q[0], sizeof(q[0])));
	if (json_object_array_length(vms) == 0)
		printf("  no VMs to move\n");
	for (size_t i = 0; i < json_object_array_length(vms); i++) {
		json_object *o = json_object_array_get_idx(vms, i), *result, *total;
		const char *vm = member(o, "vm"), *to = member(o, "to"), *state = member(o, "state"),
			   *message = member(o, "message");
		char took[32] = "";

		if (json_object_object_get_ex(o, "result", &result) &&
		    json_object_object_get_ex(result, "total_ms", &total))
			snprintf(took, sizeof(took), " in %.1f s", json_object_get_int64(total) / 1000.0);
		printf("  %-20s -> %-12s %s%s%s%s\n", cli_quote(vm ? vm : "?", q[1], sizeof(q[1])),
		       to ? cli_quote(to, q[2], sizeof(q[2])) : "-",
		       cli_quote(state ? state : "?", q[3], sizeof(q[3])), took, message ? ": " : "",
		       message ? cli_quote(message, qm, sizeof(qm)) : "");
	}
}

/* "hostB,hostC" into a JSON list of checked names; -EINVAL after saying what is wrong. */
static int evac_parse_to(const char *arg, json_object *list)
{
	char buf[1024], q[CLI_QUOTE_SIZE], *save = NULL;

	if (strlen(arg) >= sizeof(buf) || !*arg) {
		log_error("--to '%s': expected host names separated by commas, e.g. --to hostB,hostC.",
			  cli_quote(arg, q, sizeof(q)));
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", arg);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (cli_check_host_name(t) < 0)
			return -EINVAL;
		for (size_t i = 0; i < json_object_array_length(list); i++)
			if (!strcmp(json_object_get_string(json_object_array_get_idx(list, i)), t)) {
				log_error("--to names '%s' twice.", cli_quote(t, q, sizeof(q)));
				return -EINVAL;
			}
		json_object_array_add(list, json_object_new_string(t));
	}
	if (json_object_array_length(list) == 0) {
		log_error("--to '%s' names no host, e.g. --to hostB,hostC.", cli_quote(arg, q, sizeof(q)));
		return -EINVAL;
	}
	return 0;
}

/* --to, which may come more than once: its hosts are added to the list (evac_parse_to()). */
typedef struct evac_to {
	json_object *hosts;
	bool given;
} evac_to;

static int evac_add_to(char *value, void *userdata)
{
	evac_to *t = userdata;

	t->given = true;
	return evac_parse_to(value, t->hosts);
}

int cli_evacuate(int argc, char **argv)
{
	_cleanup_json_ json_object *args = json_object_new_object();
	_cleanup_json_ json_object *to = json_object_new_array();
	_cleanup_json_ json_object *result = NULL;
	const char *socket = NULL, *host, *parallel_arg = NULL;
	evac_view view = {};
	evac_to t = { .hosts = to };
	bool dry_run = false;
	const cli_opt opts[] = { { "to", .add = evac_add_to, .userdata = &t },
				 { "parallel", .value = &parallel_arg },
				 { "dry-run", .flag = &dry_run },
				 { "json", .flag = &view.json },
				 { "socket", .value = &socket },
				 {} };
	uint64_t parallel = 0;
	json_object *vms;
	int rc;

	if (!args || !to) {
		log_error("Out of memory");
		return CLI_EXIT_FAILED;
	}
	if (!cli_parse_options(&(cli_command_line){ "evacuate", cli_evacuate_usage, opts }, argc,
			       argv, &rc))
		return rc;
	if (parallel_arg && cli_option_uint("--parallel", parallel_arg, 1, EVACUATE_PARALLEL_MAX,
					    "migrations at a time", &parallel) < 0)
		return CLI_EXIT_USAGE;
	host = cli_single_argument("evacuate", argc, argv,
				   "Missing the host to empty; usage: dmigrate evacuate HOST [--to HOSTS] "
				   "(see 'dmigrate evacuate --help').");
	if (!host || cli_check_host_name(host) < 0)
		return CLI_EXIT_USAGE;
	json_object_object_add(args, "host", json_object_new_string(host));
	if (t.given)
		json_object_object_add(args, "to", json_object_get(to));
	if (parallel)
		json_object_object_add(args, "parallel", json_object_new_int((int)parallel));
	if (dry_run)
		json_object_object_add(args, "dry_run", json_object_new_boolean(true));

	view.live = !view.json && isatty(STDOUT_FILENO);
	rc = cli_client_run(&(cli_call){ .socket = socket,
					 .cmd = "evacuate",
					 .args = args,
					 .on_event = evac_on_event,
					 .on_interrupt = evac_on_interrupt,
					 .userdata = &view },
			    &result);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (!json_object_object_get_ex(result, "vms", &vms) ||
	    !json_object_is_type(vms, json_type_array)) {
		log_error("dmigrated's answer to evacuate has no list of VMs; 'dmigrate list' shows "
			  "what is left on %s.", host);
		return CLI_EXIT_FAILED;
	}
	if (view.json) {
		for (size_t i = 0; i < json_object_array_length(vms); i++) {
			fputs(json_object_to_json_string_ext(json_object_array_get_idx(vms, i),
							     JSON_C_TO_STRING_PLAIN),
			      stdout);
			fputc('\n', stdout);
		}
	} else
		evac_summary(vms, dry_run, host);
	return evac_exit_code(vms, dry_run);
}
