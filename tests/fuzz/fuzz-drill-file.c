// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The drill file parser on arbitrary bytes. A refusal must explain itself: "FILE:LINE: ..." with
 * a line that exists (or "FILE: ..." for a file too large), and leave *ret alone. What is accepted
 * must hold up: names and limits as documented, every fault one migration_fault_check() accepts,
 * the VM's final host one of the two. And it must mean the same when written back out in the
 * format's plainest form and parsed again. drill_load() on the same bytes (a memfd, through
 * /proc/self/fd) must come to the same result.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/drill_file.h"
#include "fuzz-file.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool name_ok(const char *s)
{
	size_t len = strlen(s);

	return len >= 1 && len <= DRILL_NAME_MAX &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == len;
}

static void check_drill(const drill *d)
{
	unsigned last_line = 0;

	if (!name_ok(d->vm) || d->repeat < 1 || d->repeat > DRILL_REPEAT_MAX || d->n_steps < 1 ||
	    d->n_steps > DRILL_STEPS_MAX)
		abort();
	for (size_t i = 0; i < d->n_steps; i++) {
		const drill_step *s = &d->steps[i];
		char *error = NULL;

		if (s->line <= last_line || !name_ok(s->from) || !name_ok(s->to) ||
		    !strcmp(s->from, s->to) || (strcmp(s->on, s->from) && strcmp(s->on, s->to)) ||
		    (unsigned)s->expect >= _OUTCOME_MAX || s->expect == OUTCOME_LOST || !s->options ||
		    s->n_options > DRILL_OPTIONS_MAX || s->options[s->n_options])
			abort();
		last_line = s->line;
		if (s->fault.kind != FAULT_NONE && migration_fault_check(&s->fault, &error) < 0)
			abort();
		if (s->fault.duration_ms % 1000)
			abort();
		for (size_t j = 0; j < s->n_options; j++)
			if (!*s->options[j] || strlen(s->options[j]) > DRILL_OPTION_MAX ||
			    strpbrk(s->options[j], " \t#"))
				abort();
	}
}

/*
 * The drill in the plainest form of the format: every default written out. That can be longer
 * than what was parsed: *ret_fits says whether it is still within the file's limits.
 */
static char *drill_write(const drill *d, size_t *ret_size, bool *ret_fits)
{
	char *out = NULL;
	FILE *f = open_memstream(&out, ret_size);
	long start;

	if (!f)
		return NULL;
	fprintf(f, "vm %s\n", d->vm);
	if (d->ping)
		fprintf(f, "ping %s\n", d->ping);
	fprintf(f, "repeat %u\n", d->repeat);
	for (size_t i = 0; i < d->n_steps; i++) {
		const drill_step *s = &d->steps[i];

		start = ftell(f);
		fprintf(f, "migrate %s %s", s->from, s->to);
		if (s->fault.kind != FAULT_NONE) {
			fprintf(f, " fault %s at %s", migration_fault_name(s->fault.kind),
				migration_phase_name(s->fault.phase));
			if (s->fault.duration_ms)
				fprintf(f, " for %llu",
					(unsigned long long)(s->fault.duration_ms / 1000));
		}
		fprintf(f, " expect %s on %s", migration_outcome_name(s->expect), s->on);
		if (s->n_options)
			fputs(" --", f);
		for (size_t j = 0; j < s->n_options; j++)
			fprintf(f, " %s", s->options[j]);
		if (ftell(f) - start > DRILL_LINE_MAX)
			*ret_fits = false;
		fputc('\n', f);
	}
	if (ftell(f) > DRILL_FILE_MAX)
		*ret_fits = false;
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

static bool drill_equal(const drill *a, const drill *b)
{
	if (strcmp(a->vm, b->vm) || !a->ping != !b->ping || (a->ping && strcmp(a->ping, b->ping)) ||
	    a->repeat != b->repeat || a->n_steps != b->n_steps)
		return false;
	for (size_t i = 0; i < a->n_steps; i++) {
		const drill_step *x = &a->steps[i], *y = &b->steps[i];

		if (strcmp(x->from, y->from) || strcmp(x->to, y->to) || strcmp(x->on, y->on) ||
		    x->fault.kind != y->fault.kind || x->fault.phase != y->fault.phase ||
		    x->fault.duration_ms != y->fault.duration_ms || x->expect != y->expect ||
		    x->n_options != y->n_options)
			return false;
		for (size_t j = 0; j < x->n_options; j++)
			if (strcmp(x->options[j], y->options[j]))
				return false;
	}
	return true;
}

static void check_round_trip(const drill *d)
{
	_cleanup_free_ char *text = NULL, *error = NULL;
	drill *again = NULL;
	size_t size = 0;
	bool fits = true;

	text = drill_write(d, &size, &fits);
	if (!text || !fits)
		return;
	if (drill_parse(text, size, "again", &again, &error) < 0 || !drill_equal(d, again))
		abort();
	drill_free(again);
}

/* The error names the file, then a line of the input (a file too large has none). */
static void check_error(const char *filename, const uint8_t *data, size_t size, int r,
			const char *error)
{
	size_t len = strlen(filename), lines = 1;
	unsigned long line;
	char *end;

	if (!error || strncmp(error, filename, len) != 0)
		abort();
	if (r == -EFBIG) {
		if (size <= DRILL_FILE_MAX || error[len] != ':' || error[len + 1] != ' ')
			abort();
		return;
	}
	if (r != -EINVAL || error[len] != ':')
		abort();
	line = strtoul(error + len + 1, &end, 10);
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (line < 1 || line > lines || end[0] != ':' || end[1] != ' ' || !end[2])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	drill *parsed = NULL, *loaded = NULL;
	char *parse_error = NULL, *load_error = NULL, path[FUZZ_FILE_PATH_MAX];
	int fd = fuzz_file(data, size, path), r_parse, r_load;

	if (fd < 0)
		return 0;

	r_parse = drill_parse((const char *)data, size, path, &parsed, &parse_error);
	if (r_parse < 0) {
		if (parsed)
			abort();
		check_error(path, data, size, r_parse, parse_error);
	} else {
		if (parse_error)
			abort();
		check_drill(parsed);
		check_round_trip(parsed);
	}

	r_load = drill_load(path, &loaded, &load_error);
	if (r_load != r_parse || !parse_error != !load_error ||
	    (parse_error && strcmp(parse_error, load_error)) ||
	    (parsed && !drill_equal(parsed, loaded)))
		abort();

	drill_free(parsed);
	drill_free(loaded);
	free(parse_error);
	free(load_error);
	close(fd);
	return 0;
}
