// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli/cli_migrate_view.h"

#include <inttypes.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_args.h"
#include "cli/cli_format.h"
#include "migration/migration_outcome.h"

/* Erase the terminal line the cursor is on. */
#define CLI_ERASE_LINE "\r\033[K"

void cli_migrate_view_clear(cli_migrate_view *v)
{
	if (!v->line_shown)
		return;
	fputs(CLI_ERASE_LINE, v->out);
	fflush(v->out);
	v->line_shown = false;
}

static void cli_migrate_view_status(cli_migrate_view *v, const char *text)
{
	unsigned width = v->columns ? v->columns : 80;

	/* One byte short of the width: a full line would wrap and the next \r miss its start. */
	fprintf(v->out, CLI_ERASE_LINE "%.*s", (int)(width > 1 ? width - 1 : 1), text);
	fflush(v->out);
	v->line_shown = true;
}

/* Append text to buf (size bytes), after ", " unless buf ends in a blank; cut if need be. */
static void cli_append(char *buf, size_t size, const char *text)
{
	size_t len = strlen(buf);

	snprintf(buf + len, size - len, "%s%s", buf[0] && buf[len - 1] != ' ' ? ", " : "", text);
}

void cli_migrate_progress_format(const char *phase, json_object *progress, char *buf, size_t size)
{
	char a[32], b[32], part[96];
	const char *status = cli_json_string(progress, "status");
	uint64_t n, total;

	if (size == 0)
		return;
	snprintf(buf, size, "  %s: ", phase);
	/* Most useful first: a narrow terminal cuts the end of the line. */
	if (cli_json_uint(progress, "transferred", &n)) {
		snprintf(part, sizeof(part), "%s sent", cli_format_bytes(n, a, sizeof(a)));
		cli_append(buf, size, part);
	}
	if (cli_json_uint(progress, "remaining", &n)) {
		if (cli_json_uint(progress, "total", &total))
			snprintf(part, sizeof(part), "%s left of %s", cli_format_bytes(n, a, sizeof(a)),
				 cli_format_bytes(total, b, sizeof(b)));
		else
			snprintf(part, sizeof(part), "%s left", cli_format_bytes(n, a, sizeof(a)));
		cli_append(buf, size, part);
	}
	if (cli_json_uint(progress, "mbps", &n)) {
		snprintf(part, sizeof(part), "%" PRIu64 " Mbit/s", n);
		cli_append(buf, size, part);
	}
	if (cli_json_uint(progress, "eta_ms", &n)) {
		snprintf(part, sizeof(part), "ETA %s", cli_format_ms(n, a, sizeof(a)));
		cli_append(buf, size, part);
	}
	if (cli_json_uint(progress, "dirty_rate", &n)) {
		snprintf(part, sizeof(part), "dirty %" PRIu64 " pages/s", n);
		cli_append(buf, size, part);
	}
	/* QEMU's own state says more than the numbers once it leaves "active". */
	if (status && strcmp(status, "active")) {
		char q[32];

		snprintf(part, sizeof(part), "(%s)", cli_quote(status, q, sizeof(q)));
		cli_append(buf, size, part);
	}
}

static void cli_migrate_view_phase(cli_migrate_view *v, json_object *data)
{
	char phase[32], state[16], message[CLI_FIELD_SIZE], ms[32], line[128];
	uint64_t elapsed;

	cli_format_field(data, "phase", "?", phase, sizeof(phase));
	cli_format_field(data, "state", "?", state, sizeof(state));
	if (!strcmp(state, "started")) {
		snprintf(v->phase, sizeof(v->phase), "%s", phase);
		snprintf(line, sizeof(line), "  %s ...", phase);
		cli_migrate_view_status(v, line);
		return;
	}

	cli_migrate_view_clear(v);
	if (cli_json_uint(data, "elapsed_ms", &elapsed))
		fprintf(v->out, "  %-10s  %-7s %12s", phase, state,
			cli_format_ms(elapsed, ms, sizeof(ms)));
	else
		fprintf(v->out, "  %-10s  %s", phase, state);
	if (cli_json_string(data, "message"))
		fprintf(v->out, "  %s", cli_format_field(data, "message", "", message, sizeof(message)));
	fputc('\n', v->out);
	fflush(v->out);
}

void cli_migrate_view_event(cli_migrate_view *v, const char *event, json_object *data)
{
	char line[512];

	if (!v->live)
		return;
	if (!strcmp(event, "phase")) {
		cli_migrate_view_phase(v, data);
	} else if (!strcmp(event, "progress")) {
		cli_migrate_progress_format(v->phase[0] ? v->phase : "migrate", data, line,
					    sizeof(line));
		cli_migrate_view_status(v, line);
	}
	/* Events this version does not know are for newer clients: ignore them. */
}

int cli_migrate_exit_code(json_object *result)
{
	switch (migration_outcome_from_name(cli_json_string(result, "outcome"))) {
	case OUTCOME_MIGRATED:
		return CLI_EXIT_OK;
	case OUTCOME_DEGRADED:
		return CLI_EXIT_DEGRADED;
	case OUTCOME_LOST:
		return CLI_EXIT_LOST;
	default:
		return CLI_EXIT_FAILED;
	}
}

void cli_migrate_summary_print(FILE *out, json_object *result)
{
	char vm[64], from[CLI_FIELD_SIZE], to[CLI_FIELD_SIZE], runs_on[CLI_FIELD_SIZE],
		why[CLI_FIELD_SIZE], outcome[64], t1[32], t2[32], t3[32];
	json_object *qemu = NULL;
	uint64_t total = 0, downtime = 0, qemu_total = 0;
	bool has_total, has_downtime, has_qemu_total;

	cli_format_field(result, "vm", "the VM", vm, sizeof(vm));
	cli_format_field(result, "from", "the source", from, sizeof(from));
	cli_format_field(result, "to", "the destination", to, sizeof(to));
	cli_format_field(result, "runs_on", "an unknown host", runs_on, sizeof(runs_on));
	cli_format_field(result, "message", "no reason given", why, sizeof(why));
	cli_format_field(result, "outcome", "(none)", outcome, sizeof(outcome));
	if (json_object_is_type(result, json_type_object))
		json_object_object_get_ex(result, "qemu", &qemu);
	has_total = cli_json_uint(result, "total_ms", &total);
	has_downtime = cli_json_uint(qemu, "downtime_ms", &downtime);
	has_qemu_total = cli_json_uint(qemu, "total_ms", &qemu_total);

	switch (cli_migrate_exit_code(result)) {
	case CLI_EXIT_OK:
		fprintf(out, "%s migrated from %s to %s in %s (QEMU: downtime %s, migration %s); "
			     "it runs on %s.\n",
			vm, from, to, has_total ? cli_format_ms(total, t1, sizeof(t1)) : "?",
			has_downtime ? cli_format_ms(downtime, t2, sizeof(t2)) : "?",
			has_qemu_total ? cli_format_ms(qemu_total, t3, sizeof(t3)) : "?", runs_on);
		break;
	case CLI_EXIT_DEGRADED:
		fprintf(out, "%s migrated to %s but is degraded: %s. It runs on %s without its "
			     "passthrough NIC or DID.\n",
			vm, to, why, runs_on);
		break;
	case CLI_EXIT_LOST:
		fprintf(out, "%s IS LOST: %s. Its QEMU on %s died after the switchover, when it was the "
			     "only running copy; the paused copy on %s was not resumed (it would run a "
			     "stale state). Start it again from its spec.\n",
			vm, why, to, from);
		break;
	default:
		if (migration_outcome_from_name(outcome) == OUTCOME_ROLLED_BACK)
			fprintf(out, "%s was not migrated, the migration was rolled back: %s. It runs on "
				     "%s as before.\n",
				vm, why, runs_on);
		else
			fprintf(out, "%s: dmigrated reported the unknown outcome '%s' (%s); check with "
				     "'dmigrate status %s'.\n",
				vm, outcome, why, vm);
		break;
	}
	fflush(out);
}
