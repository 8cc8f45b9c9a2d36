// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli/drill_file.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errbuf.h"
#include "macro.h"

#define MIGRATE_USAGE                                                                              \
	"migrate FROM TO [fault FAULT [at PHASE] [for SECONDS]] expect OUTCOME [on HOST] "         \
	"[-- OPTION...]"
#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
#define NAME_RULE "1-64 characters of A-Z a-z 0-9 . _ -"

/* A value quoted in a message: at most 64 bytes of it, so that no message runs to a kilobyte. */
#define WORD_FMT "'%.64s%s'"
#define WORD_ARG(w) (w), strlen(w) > 64 ? "..." : ""

typedef struct drill_parser {
	const char *filename;
	unsigned line;
	char *error;
	/* Where each once-only statement was first seen, to point at it when it comes again. */
	unsigned vm_line, ping_line, repeat_line;
	size_t steps_allocated;
} drill_parser;

static int drill_fail(drill_parser *p, const char *fmt, ...) _printf_(2, 3);
static int drill_fail(drill_parser *p, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	if (p->line)
		r = errbuf_vset_alloc(&p->error, -EINVAL, fmt, ap, "%s:%u", p->filename, p->line);
	else
		r = errbuf_vset_alloc(&p->error, -EINVAL, fmt, ap, "%s", p->filename);
	va_end(ap);
	return r;
}

/*
 * The lists that messages quote, built from the tables that own them (migration_phase,
 * migration_fault, the outcomes above, the statements below) so that they cannot drift.
 */
typedef struct name_list {
	char s[256]; /* the longest, every phase, is 80 bytes */
	size_t len;
} name_list;

static void name_list_add(name_list *l, const char *name)
{
	int k = snprintf(l->s + l->len, sizeof(l->s) - l->len, "%s%s", l->len ? " " : "", name);

	if (k > 0)
		l->len += (size_t)k < sizeof(l->s) - l->len ? (size_t)k : sizeof(l->s) - 1 - l->len;
}

static const char *list_phases(name_list *l)
{
	for (int i = 0; i < _PHASE_MAX; i++)
		name_list_add(l, migration_phase_name(i));
	return l->s;
}

/* The phases `kind` can fire at, as migration_fault_check() decides. */
static const char *list_fault_phases(name_list *l, migration_fault_kind kind)
{
	for (int i = 0; i < _PHASE_MAX; i++) {
		migration_fault probe = {
			.kind = kind,
			.phase = i,
			.duration_ms = migration_fault_has_duration(kind) ?
					       MIGRATION_FAULT_DEFAULT_DURATION_MS :
					       0,
		};
		_cleanup_free_ char *error = NULL;

		if (migration_fault_check(&probe, &error) == 0)
			name_list_add(l, migration_phase_name(i));
	}
	return l->s;
}

static const char *list_faults_with_duration(name_list *l)
{
	for (int i = 0; i < _FAULT_MAX; i++)
		if (migration_fault_has_duration(i))
			name_list_add(l, migration_fault_name(i));
	return l->s;
}

static const char *list_outcomes(name_list *l)
{
	for (int i = 0; i < _OUTCOME_MAX; i++)
		if (i != OUTCOME_LOST)
			name_list_add(l, migration_outcome_name(i));
	return l->s;
}

static bool drill_name_valid(const char *s)
{
	size_t len = strlen(s);

	return len >= 1 && len <= DRILL_NAME_MAX && strspn(s, NAME_CHARS) == len;
}

/* A decimal integer min..max, digits only: no sign, no blanks, no hex. */
static bool parse_uint(const char *s, unsigned min, unsigned max, unsigned *ret)
{
	size_t len = strlen(s);
	unsigned long v;

	if (len == 0 || len > 9 || strspn(s, "0123456789") != len)
		return false;
	v = strtoul(s, NULL, 10);
	if (v < min || v > max)
		return false;
	*ret = (unsigned)v;
	return true;
}

static void drill_step_done(drill_step *s)
{
	free(s->from);
	free(s->to);
	free(s->on);
	for (size_t i = 0; s->options && i < s->n_options; i++)
		free(s->options[i]);
	free(s->options);
}

void drill_free(drill *d)
{
	if (!d)
		return;
	free(d->vm);
	free(d->ping);
	for (size_t i = 0; i < d->n_steps; i++)
		drill_step_done(&d->steps[i]);
	free(d->steps);
	free(d);
}

static void drill_freep(drill **d)
{
	drill_free(*d);
}

/* A statement that takes exactly one value: `KEYWORD VALUE`. */
static int parse_once(drill_parser *p, char **w, size_t n, unsigned *seen, const char *what)
{
	if (*seen)
		return drill_fail(p, "'%s' given twice (first on line %u; it may appear once)", w[0],
				  *seen);
	if (n < 2)
		return drill_fail(p, "'%s' needs a value: %s %s", w[0], w[0], what);
	if (n > 2)
		return drill_fail(p, "unexpected " WORD_FMT " after '%s %s'", WORD_ARG(w[2]), w[0],
				  what);
	*seen = p->line;
	return 0;
}

static int parse_vm(drill_parser *p, drill *d, char **w, size_t n)
{
	int r = parse_once(p, w, n, &p->vm_line, "NAME");

	if (r < 0)
		return r;
	if (!drill_name_valid(w[1]))
		return drill_fail(p, "invalid VM name " WORD_FMT " (" NAME_RULE ")", WORD_ARG(w[1]));
	d->vm = strdup(w[1]);
	return d->vm ? 0 : -ENOMEM;
}

static int parse_ping(drill_parser *p, drill *d, char **w, size_t n)
{
	struct in_addr a;
	int r = parse_once(p, w, n, &p->ping_line, "ADDRESS");

	if (r < 0)
		return r;
	if (inet_pton(AF_INET, w[1], &a) != 1)
		return drill_fail(p, "invalid ping address " WORD_FMT
				  " (an IPv4 address such as 198.18.0.11)", WORD_ARG(w[1]));
	d->ping = strdup(w[1]);
	return d->ping ? 0 : -ENOMEM;
}

static int parse_repeat(drill_parser *p, drill *d, char **w, size_t n)
{
	int r = parse_once(p, w, n, &p->repeat_line, "N");

	if (r < 0)
		return r;
	if (!parse_uint(w[1], 1, DRILL_REPEAT_MAX, &d->repeat))
		return drill_fail(p, "invalid repeat count " WORD_FMT " (an integer 1-%d)",
				  WORD_ARG(w[1]), DRILL_REPEAT_MAX);
	return 0;
}

/* `fault FAULT [at PHASE] [for SECONDS]` from w[*i] on; *i ends past it. */
static int parse_fault(drill_parser *p, char **w, size_t n, size_t *i, migration_fault *ret)
{
	_cleanup_free_ char *check_error = NULL;
	name_list list = { 0 };
	migration_fault f = { 0 };
	bool has_phase = false, has_duration = false;
	unsigned seconds;
	int kind, phase;

	if (*i + 1 >= n)
		return drill_fail(p, "'fault' needs a FAULT (known: %s)", migration_fault_names());
	kind = migration_fault_from_name(w[*i + 1]);
	if (kind <= FAULT_NONE)
		return drill_fail(p, "unknown fault " WORD_FMT " (known: %s)", WORD_ARG(w[*i + 1]),
				  migration_fault_names());
	f.kind = kind;
	*i += 2;

	/* `at` and `for`, each at most once; in either order, as nothing is ambiguous then. */
	for (; *i < n && (!strcmp(w[*i], "at") || !strcmp(w[*i], "for")); *i += 2) {
		if (!strcmp(w[*i], "at")) {
			if (has_phase)
				return drill_fail(p, "'at' given twice for one fault");
			if (*i + 1 >= n)
				return drill_fail(p, "'at' needs a PHASE (known: %s)",
						  list_phases(&list));
			phase = migration_phase_from_name(w[*i + 1]);
			if (phase < 0)
				return drill_fail(p, "unknown phase " WORD_FMT " (known: %s)",
						  WORD_ARG(w[*i + 1]), list_phases(&list));
			f.phase = phase;
			has_phase = true;
			continue;
		}
		if (!migration_fault_has_duration(f.kind))
			return drill_fail(p, "fault '%s' takes no 'for SECONDS' (only %s do)",
					  migration_fault_name(f.kind),
					  list_faults_with_duration(&list));
		if (has_duration)
			return drill_fail(p, "'for' given twice for one fault");
		if (*i + 1 >= n)
			return drill_fail(p, "'for' needs SECONDS (an integer 1-%d)",
					  DRILL_FAULT_SECONDS_MAX);
		if (!parse_uint(w[*i + 1], 1, DRILL_FAULT_SECONDS_MAX, &seconds))
			return drill_fail(p, "invalid duration " WORD_FMT " (seconds, an integer 1-%d)",
					  WORD_ARG(w[*i + 1]), DRILL_FAULT_SECONDS_MAX);
		f.duration_ms = (uint64_t)seconds * 1000;
		has_duration = true;
	}

	if (!has_phase) {
		phase = migration_fault_default_phase(f.kind);
		if (phase < 0)
			return drill_fail(p, "fault '%s' needs 'at PHASE' (it can fire at: %s)",
					  migration_fault_name(f.kind),
					  list_fault_phases(&list, f.kind));
		f.phase = phase;
	}
	if (!has_duration && migration_fault_has_duration(f.kind))
		f.duration_ms = MIGRATION_FAULT_DEFAULT_DURATION_MS;

	if (migration_fault_check(&f, &check_error) < 0) {
		if (!check_error)
			return -ENOMEM;
		return drill_fail(p, "%s", check_error);
	}
	*ret = f;
	return 0;
}

/* The words after `--`, copied into a NULL-terminated list. */
static int parse_options(drill_parser *p, char **w, size_t n, drill_step *s)
{
	if (n == 0)
		return drill_fail(p, "'--' needs at least one OPTION after it");
	if (n > DRILL_OPTIONS_MAX)
		return drill_fail(p, "%zu options after '--' (at most %d)", n, DRILL_OPTIONS_MAX);
	for (size_t i = 0; i < n; i++)
		if (strlen(w[i]) > DRILL_OPTION_MAX)
			return drill_fail(p, "option " WORD_FMT " is %zu bytes long (at most %d)",
					  WORD_ARG(w[i]), strlen(w[i]), DRILL_OPTION_MAX);
	s->options = calloc(n + 1, sizeof(char *));
	if (!s->options)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		s->options[i] = strdup(w[i]);
		if (!s->options[i])
			return -ENOMEM;
		s->n_options++;
	}
	return 0;
}

static int parse_host(drill_parser *p, const char *what, const char *value, char **ret)
{
	if (!drill_name_valid(value))
		return drill_fail(p, "invalid %s host " WORD_FMT " (" NAME_RULE ")", what,
				  WORD_ARG(value));
	*ret = strdup(value);
	return *ret ? 0 : -ENOMEM;
}

static int parse_migrate(drill_parser *p, drill *d, char **w, size_t n)
{
	_cleanup_(drill_step_done) drill_step s = { .line = p->line };
	name_list list = { 0 };
	size_t i = 3;
	migration_outcome outcome;
	int r;

	if (d->n_steps >= DRILL_STEPS_MAX)
		return drill_fail(p, "more than %d migrate steps", DRILL_STEPS_MAX);
	if (n < 3)
		return drill_fail(p, "'migrate' needs FROM and TO: " MIGRATE_USAGE);
	r = parse_host(p, "FROM", w[1], &s.from);
	if (r < 0)
		return r;
	r = parse_host(p, "TO", w[2], &s.to);
	if (r < 0)
		return r;
	if (!strcmp(s.from, s.to))
		return drill_fail(p, "FROM and TO are both " WORD_FMT
				  " (a migration goes to another host)",
				  WORD_ARG(s.from));

	if (i < n && !strcmp(w[i], "fault")) {
		r = parse_fault(p, w, n, &i, &s.fault);
		if (r < 0)
			return r;
	}

	if (i >= n)
		return drill_fail(p, "missing 'expect OUTCOME' (known: %s): " MIGRATE_USAGE,
				  list_outcomes(&list));
	if (strcmp(w[i], "expect"))
		return drill_fail(p, "unexpected " WORD_FMT " where 'expect OUTCOME' belongs: " MIGRATE_USAGE,
				  WORD_ARG(w[i]));
	if (i + 1 >= n)
		return drill_fail(p, "'expect' needs an OUTCOME (known: %s)", list_outcomes(&list));
	outcome = migration_outcome_from_name(w[i + 1]);
	if (outcome == OUTCOME_LOST)
		return drill_fail(p, "a drill cannot expect 'lost': the VM would run nowhere, and the "
				  "next step has nothing to migrate (known: %s)", list_outcomes(&list));
	if (outcome < 0)
		return drill_fail(p, "unknown outcome " WORD_FMT " (known: %s)", WORD_ARG(w[i + 1]),
				  list_outcomes(&list));
	s.expect = outcome;
	i += 2;

	if (i < n && !strcmp(w[i], "on")) {
		if (i + 1 >= n)
			return drill_fail(p, "'on' needs a HOST ('%s' or '%s')", s.from, s.to);
		/* After a migration between two hosts, the VM can only be on one of them. */
		if (strcmp(w[i + 1], s.from) && strcmp(w[i + 1], s.to))
			return drill_fail(p, "the VM cannot end on " WORD_FMT ": only on FROM '%s' or TO '%s'",
					  WORD_ARG(w[i + 1]), s.from, s.to);
		s.on = strdup(w[i + 1]);
		i += 2;
	} else {
		s.on = strdup(s.expect == OUTCOME_ROLLED_BACK ? s.from : s.to);
	}
	if (!s.on)
		return -ENOMEM;

	if (i < n && !strcmp(w[i], "--")) {
		r = parse_options(p, w + i + 1, n - i - 1, &s);
		if (r < 0)
			return r;
	} else if (i < n) {
		return drill_fail(p, "unexpected " WORD_FMT " after the outcome (options go after '--'): "
				  MIGRATE_USAGE, WORD_ARG(w[i]));
	} else {
		s.options = calloc(1, sizeof(char *));
		if (!s.options)
			return -ENOMEM;
	}

	if (d->n_steps == p->steps_allocated) {
		size_t want = p->steps_allocated ? 2 * p->steps_allocated : 8;
		drill_step *steps;

		if (want > DRILL_STEPS_MAX)
			want = DRILL_STEPS_MAX;
		steps = reallocarray(d->steps, want, sizeof(*steps));
		if (!steps)
			return -ENOMEM;
		d->steps = steps;
		p->steps_allocated = want;
	}
	d->steps[d->n_steps++] = s;
	s = (drill_step){ 0 }; /* now the drill's */
	return 0;
}

static const struct drill_statement {
	const char *keyword;
	int (*parse)(drill_parser *p, drill *d, char **w, size_t n);
} statements[] = {
	{ "vm", parse_vm },
	{ "ping", parse_ping },
	{ "repeat", parse_repeat },
	{ "migrate", parse_migrate },
};

static int parse_line(drill_parser *p, drill *d, const char *text, size_t len)
{
	char buf[DRILL_LINE_MAX + 1], *w[DRILL_LINE_MAX / 2 + 1], *c, *save = NULL;
	name_list list = { 0 };
	size_t n = 0;

	if (len > DRILL_LINE_MAX)
		return drill_fail(p, "line is %zu bytes long (at most %d)", len, DRILL_LINE_MAX);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];

		if (ch == '\0')
			return drill_fail(p, "NUL byte at column %zu (a drill file is text)", i + 1);
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return drill_fail(p, "control character 0x%02x at column %zu (only printable "
					  "characters and tabs)", ch, i + 1);
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	c = strchr(buf, '#');
	if (c)
		*c = '\0';
	for (char *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
		w[n++] = t;
	if (n == 0)
		return 0;

	for (size_t i = 0; i < ELEMENTSOF(statements); i++)
		if (!strcmp(w[0], statements[i].keyword))
			return statements[i].parse(p, d, w, n);
	for (size_t i = 0; i < ELEMENTSOF(statements); i++)
		name_list_add(&list, statements[i].keyword);
	return drill_fail(p, "unknown statement " WORD_FMT " (known: %s)", WORD_ARG(w[0]), list.s);
}

int drill_parse(const char *text, size_t size, const char *filename, drill **ret, char **error)
{
	_cleanup_(drill_freep) drill *d = NULL;
	drill_parser p = { .filename = filename };
	const char *pos = text, *end = text + size;
	int r;

	if (size > DRILL_FILE_MAX) {
		r = drill_fail(&p, "larger than %d bytes", DRILL_FILE_MAX);
		if (r == -EINVAL)
			r = -EFBIG;
		goto fail;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		r = -ENOMEM;
		goto fail;
	}
	d->repeat = 1;

	while (pos < end) {
		const char *nl = memchr(pos, '\n', (size_t)(end - pos));
		size_t len = (size_t)((nl ? nl : end) - pos);

		p.line++;
		if (len > 0 && pos[len - 1] == '\r') /* CRLF: a file from another system */
			len--;
		r = parse_line(&p, d, pos, len);
		if (r < 0)
			goto fail;
		pos = nl ? nl + 1 : end;
	}

	if (p.line == 0)
		p.line = 1;
	if (!d->vm) {
		r = drill_fail(&p, "end of file without a 'vm NAME' statement (required, once)");
		goto fail;
	}
	if (d->n_steps == 0) {
		r = drill_fail(&p, "end of file without a migrate step (at least one is required): "
			       MIGRATE_USAGE);
		goto fail;
	}
	*ret = TAKE_PTR(d);
	return 0;

fail:
	if (r == -ENOMEM && !p.error)
		(void)drill_fail(&p, "out of memory");
	*error = TAKE_PTR(p.error);
	return r;
}

int drill_load(const char *path, drill **ret, char **error)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t n = 0;
	int r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		if (asprintf(error, "%s: cannot open: %s", path, strerror(-r)) < 0)
			*error = NULL;
		return r;
	}
	/* One byte more than allowed, so that drill_parse() sees a file too large as such. */
	buf = malloc(DRILL_FILE_MAX + 1);
	if (!buf) {
		if (asprintf(error, "%s: out of memory", path) < 0)
			*error = NULL;
		return -ENOMEM;
	}
	while (n < DRILL_FILE_MAX + 1) {
		ssize_t k = read(fd, buf + n, DRILL_FILE_MAX + 1 - n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			if (asprintf(error, "%s: cannot read: %s", path, strerror(-r)) < 0)
				*error = NULL;
			return r;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	return drill_parse(buf, n, path, ret, error);
}
