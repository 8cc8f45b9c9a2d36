// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The drill file parser: a file with every statement and one with every default; each error with
 * its line and the offending value in the message; hostile input (NUL bytes, oversized files and
 * lines, too many steps or options, CR bytes, `#` inside words); the loader's own errors; and the
 * drills in examples/drills/, which must parse and say what their comments say.
 *
 * Usage: test-drill-file SOURCE_ROOT
 */
#include "cli/drill_file.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "test.h"

static const char *source_root;

/* One line per step, to compare whole steps at once:
 * "hostA>hostB kill-dest-qemu@migrate rolled-back@hostA -- --bandwidth 8". */
static char *step_summary(const drill_step *s)
{
	char *out = NULL;
	size_t len;
	FILE *f = open_memstream(&out, &len);

	ASSERT_TRUE(f != NULL);
	fprintf(f, "%s>%s", s->from, s->to);
	if (s->fault.kind != FAULT_NONE) {
		fprintf(f, " %s@%s", migration_fault_name(s->fault.kind),
			migration_phase_name(s->fault.phase));
		if (s->fault.duration_ms)
			fprintf(f, "/%llums", (unsigned long long)s->fault.duration_ms);
	}
	fprintf(f, " %s@%s", migration_outcome_name(s->expect), s->on);
	ASSERT_TRUE(s->options != NULL);
	ASSERT_TRUE(s->options[s->n_options] == NULL);
	if (s->n_options)
		fprintf(f, " --");
	for (size_t i = 0; i < s->n_options; i++)
		fprintf(f, " %s", s->options[i]);
	ASSERT_EQ(fclose(f), 0);
	return out;
}

static void assert_steps(const drill *d, const char *const *want, size_t n)
{
	ASSERT_EQ(d->n_steps, n);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *got = step_summary(&d->steps[i]);

		ASSERT_STREQ(got, want[i]);
	}
}

static drill *parse_ok(const char *text, size_t size)
{
	drill *d = NULL;
	char *error = NULL;
	int r = drill_parse(text, size, "t.drill", &d, &error);

	if (r < 0)
		TEST_FAIL("drill_parse() failed: %s", error ? error : strerror(-r));
	ASSERT_TRUE(d != NULL);
	ASSERT_TRUE(error == NULL);
	return d;
}

/* Refused with -EINVAL, *ret untouched, and "t.drill:LINE: " then a message containing needle. */
static void parse_bad_size(const char *text, size_t size, unsigned line, const char *needle)
{
	drill *untouched = (drill *)&untouched, *d = untouched;
	_cleanup_free_ char *error = NULL;
	char prefix[64];

	ASSERT_ERRNO(drill_parse(text, size, "t.drill", &d, &error), EINVAL);
	ASSERT_TRUE(d == untouched);
	ASSERT_TRUE(error != NULL);
	snprintf(prefix, sizeof(prefix), "t.drill:%u: ", line);
	if (strncmp(error, prefix, strlen(prefix)) != 0 || !strstr(error, needle))
		TEST_FAIL("input \"%.80s\": expected \"%s...%s\", got \"%s\"", text, prefix, needle,
			  error);
}

static void parse_bad(const char *text, unsigned line, const char *needle)
{
	parse_bad_size(text, strlen(text), line, needle);
}

static char *repeat_line(const char *line, size_t n)
{
	size_t len = strlen(line);
	char *s = malloc(len * n + 1);

	ASSERT_TRUE(s != NULL);
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * len, line, len);
	s[len * n] = '\0';
	return s;
}

static char *concat(const char *first, ...)
{
	char *out = NULL;
	size_t len;
	FILE *f = open_memstream(&out, &len);
	va_list ap;

	ASSERT_TRUE(f != NULL);
	va_start(ap, first);
	for (const char *s = first; s; s = va_arg(ap, const char *))
		fputs(s, f);
	va_end(ap);
	ASSERT_EQ(fclose(f), 0);
	return out;
}

#define FULL                                                                                       \
	"# Every statement, every clause.\n"                                                       \
	"vm vm1    # the name the daemons know\n"                                                  \
	"ping 198.18.0.11\n"                                                                       \
	"repeat 3\n"                                                                               \
	"\n"                                                                                       \
	"migrate hostA hostB fault kill-dest-qemu at migrate expect rolled-back -- --bandwidth 8\n" \
	"\t migrate\thostA hostB expect migrated\n"                                                \
	"migrate hostB hostA fault stall-agent at unplug for 12 expect degraded on hostB\n"        \
	"migrate hostA hostB fault stall-agent for 600 at preflight expect rolled-back on hostB\n" \
	"migrate hostA hostB fault no-free-vf expect rolled-back\n"                                \
	"migrate hostA hostB fault drop-ssh at prepare expect failed -- --downtime 50 --json\n"    \
	"migrate host-B.2_x hostA fault kill-agent at did-on expect migrated"

static const char *const full_steps[] = {
	"hostA>hostB kill-dest-qemu@migrate rolled-back@hostA -- --bandwidth 8",
	"hostA>hostB migrated@hostB",
	"hostB>hostA stall-agent@unplug/12000ms degraded@hostB",
	"hostA>hostB stall-agent@preflight/600000ms rolled-back@hostB",
	"hostA>hostB no-free-vf@preflight rolled-back@hostA",
	"hostA>hostB drop-ssh@prepare failed@hostB -- --downtime 50 --json",
	"host-B.2_x>hostA kill-agent@did-on migrated@hostA",
};

TEST(full)
{
	drill *d = parse_ok(FULL, strlen(FULL));

	ASSERT_STREQ(d->vm, "vm1");
	ASSERT_STREQ(d->ping, "198.18.0.11");
	ASSERT_EQ(d->repeat, 3);
	assert_steps(d, full_steps, ELEMENTSOF(full_steps));
	for (size_t i = 0; i < d->n_steps; i++)
		ASSERT_EQ(d->steps[i].line, 6 + i);
	ASSERT_EQ(d->steps[0].n_options, 2);
	ASSERT_EQ(d->steps[0].expect, OUTCOME_ROLLED_BACK);
	ASSERT_EQ(d->steps[0].fault.kind, FAULT_KILL_DEST_QEMU);
	ASSERT_EQ(d->steps[0].fault.phase, PHASE_MIGRATE);
	ASSERT_EQ(d->steps[0].fault.duration_ms, 0);
	drill_free(d);
}

TEST(defaults)
{
	static const char text[] = "vm v\n"
				   "migrate a b expect migrated\n"
				   "migrate b a expect rolled-back\n"
				   "migrate b a fault vf-link-down at active expect degraded\n"
				   "migrate a b fault no-free-vf expect failed\n";
	static const char *const want[] = {
		"a>b migrated@b",
		"b>a rolled-back@b",
		"b>a vf-link-down@active/30000ms degraded@a",
		"a>b no-free-vf@preflight failed@b",
	};
	drill *d = parse_ok(text, strlen(text));

	ASSERT_STREQ(d->vm, "v");
	ASSERT_TRUE(d->ping == NULL);
	ASSERT_EQ(d->repeat, 1);
	assert_steps(d, want, ELEMENTSOF(want));
	ASSERT_EQ(d->steps[0].fault.kind, FAULT_NONE);
	ASSERT_EQ(d->steps[0].n_options, 0);
	ASSERT_EQ(d->steps[2].fault.duration_ms, MIGRATION_FAULT_DEFAULT_DURATION_MS);
	ASSERT_EQ(d->steps[3].fault.phase, PHASE_PREFLIGHT);
	ASSERT_EQ(d->steps[3].fault.duration_ms, 0);
	drill_free(d);
}

TEST(outcome_names)
{
	static const char *const names[] = { "migrated", "rolled-back", "degraded", "failed", "lost" };

	ASSERT_EQ(ELEMENTSOF(names), _OUTCOME_MAX);
	for (int i = 0; i < _OUTCOME_MAX; i++) {
		ASSERT_STREQ(migration_outcome_name(i), names[i]);
		ASSERT_EQ(migration_outcome_from_name(names[i]), i);
	}
	ASSERT_EQ(migration_outcome_from_name("rolled_back"), OUTCOME_INVALID);
	ASSERT_EQ(migration_outcome_from_name(""), OUTCOME_INVALID);
	ASSERT_EQ(migration_outcome_from_name(NULL), OUTCOME_INVALID);
	ASSERT_STREQ(migration_outcome_name(_OUTCOME_MAX), "unknown");
	ASSERT_STREQ(migration_outcome_name(OUTCOME_INVALID), "unknown");
}

#define VM "vm v\n"
#define M "migrate hostA hostB "

TEST(statement_errors)
{
	parse_bad("vmm vm1\n", 1, "unknown statement 'vmm' (known: vm ping repeat migrate)");
	parse_bad(VM "\n  Migrate a b expect migrated\n", 3, "unknown statement 'Migrate'");
	parse_bad(VM "vm w\n", 2, "'vm' given twice (first on line 1");
	parse_bad("vm\n", 1, "'vm' needs a value: vm NAME");
	parse_bad("vm v1 extra\n", 1, "unexpected 'extra' after 'vm NAME'");
	parse_bad("vm vm/1\n", 1, "invalid VM name 'vm/1' (1-64 characters of A-Z a-z 0-9 . _ -)");
	parse_bad("vm vm\xc3\xa9\n", 1, "invalid VM name 'vm\xc3\xa9'");
	parse_bad("vm a12345678901234567890123456789012345678901234567890123456789012345\n", 1,
		  "invalid VM name 'a123456789012345678901234567890123456789012345678901234567890123...'");
	parse_bad(VM "ping 198.18.0\n", 2, "invalid ping address '198.18.0' (an IPv4 address");
	parse_bad(VM "ping ::1\n", 2, "invalid ping address '::1'");
	parse_bad(VM "ping hostA\n", 2, "invalid ping address 'hostA'");
	parse_bad(VM "ping 1.2.3.256\n", 2, "invalid ping address '1.2.3.256'");
	parse_bad(VM "ping\n", 2, "'ping' needs a value: ping ADDRESS");
	parse_bad(VM "ping 1.2.3.4\n\nping 1.2.3.4\n", 4, "'ping' given twice (first on line 2");
	parse_bad(VM "repeat 0\n", 2, "invalid repeat count '0' (an integer 1-99)");
	parse_bad(VM "repeat 100\n", 2, "invalid repeat count '100'");
	parse_bad(VM "repeat -1\n", 2, "invalid repeat count '-1'");
	parse_bad(VM "repeat +3\n", 2, "invalid repeat count '+3'");
	parse_bad(VM "repeat 3x\n", 2, "invalid repeat count '3x'");
	parse_bad(VM "repeat 0x10\n", 2, "invalid repeat count '0x10'");
	parse_bad(VM "repeat 99999999999999999999\n", 2, "invalid repeat count '99999999999999999999'");
	parse_bad(VM "repeat\n", 2, "'repeat' needs a value: repeat N");
	parse_bad(VM "repeat 2\nrepeat 2\n", 3, "'repeat' given twice (first on line 2");
	parse_bad(VM "repeat 2 3\n", 2, "unexpected '3' after 'repeat N'");
}

TEST(migrate_errors)
{
	parse_bad(VM "migrate\n", 2, "'migrate' needs FROM and TO: migrate FROM TO [fault");
	parse_bad(VM "migrate hostA\n", 2, "'migrate' needs FROM and TO");
	parse_bad(VM "migrate hostA hostA expect migrated\n", 2,
		  "FROM and TO are both 'hostA' (a migration goes to another host)");
	parse_bad(VM "migrate host!A hostB expect migrated\n", 2, "invalid FROM host 'host!A' (1-64");
	parse_bad(VM "migrate hostA host:B expect migrated\n", 2, "invalid TO host 'host:B'");

	/* The brief's own example, in full. */
	parse_bad(VM "\n" M "fault kill-qemu at migrate expect migrated\n", 3,
		  "unknown fault 'kill-qemu' (known: kill-dest-qemu kill-agent stall-agent drop-ssh "
		  "vf-link-down no-free-vf kill-source-daemon kill-dest-daemon)");
	parse_bad(VM M "fault none at migrate expect migrated\n", 2, "unknown fault 'none' (known:");
	parse_bad(VM M "fault\n", 2, "'fault' needs a FAULT (known: kill-dest-qemu");
	parse_bad(VM M "fault kill-agent expect migrated\n", 2,
		  "fault 'kill-agent' needs 'at PHASE' (it can fire at: preflight prepare");
	parse_bad(VM M "fault kill-agent at nowhere expect migrated\n", 2,
		  "unknown phase 'nowhere' (known: preflight prepare standby did-off unplug migrate "
		  "switchover plug active did-on commit)");
	parse_bad(VM M "fault kill-agent at\n", 2, "'at' needs a PHASE (known: preflight");
	parse_bad(VM M "fault kill-agent at migrate at plug expect migrated\n", 2,
		  "'at' given twice");
	/* migration_fault_check()'s message, as it is. */
	parse_bad(VM M "fault no-free-vf at migrate expect rolled-back\n", 2,
		  "fault 'no-free-vf' cannot fire at 'migrate': the destination's pool is only asked at the preflight");
	parse_bad(VM M "fault kill-dest-qemu at preflight expect rolled-back\n", 2,
		  "fault 'kill-dest-qemu' cannot fire at 'preflight': no destination QEMU exists yet");
	parse_bad(VM M "fault kill-agent at migrate for 5 expect migrated\n", 2,
		  "fault 'kill-agent' takes no 'for SECONDS' (only stall-agent vf-link-down do)");
	parse_bad(VM M "fault stall-agent at unplug for 0 expect degraded\n", 2,
		  "invalid duration '0' (seconds, an integer 1-600)");
	parse_bad(VM M "fault stall-agent at unplug for 601 expect degraded\n", 2,
		  "invalid duration '601'");
	parse_bad(VM M "fault stall-agent at unplug for 1.5 expect degraded\n", 2,
		  "invalid duration '1.5'");
	parse_bad(VM M "fault stall-agent at unplug for\n", 2, "'for' needs SECONDS (an integer 1-600)");
	parse_bad(VM M "fault stall-agent for 5 at unplug for 6 expect degraded\n", 2,
		  "'for' given twice");
	parse_bad(VM M "fault stall-agent for 5 expect degraded\n", 2,
		  "fault 'stall-agent' needs 'at PHASE'");

	parse_bad(VM M "\n", 2, "missing 'expect OUTCOME' (known: migrated rolled-back degraded failed)");
	parse_bad(VM M "fault kill-agent at migrate\n", 2, "missing 'expect OUTCOME'");
	parse_bad(VM M "expect\n", 2, "'expect' needs an OUTCOME (known: migrated rolled-back");
	parse_bad(VM M "expect moved\n", 2,
		  "unknown outcome 'moved' (known: migrated rolled-back degraded failed)");
	parse_bad(VM M "expect lost\n", 2,
		  "a drill cannot expect 'lost': the VM would run nowhere");
	parse_bad(VM M "at migrate expect migrated\n", 2,
		  "unexpected 'at' where 'expect OUTCOME' belongs");
	parse_bad(VM M "for 5 expect migrated\n", 2, "unexpected 'for' where 'expect OUTCOME' belongs");
	parse_bad(VM M "fault kill-agent at migrate fault drop-ssh at migrate expect migrated\n", 2,
		  "unexpected 'fault' where 'expect OUTCOME' belongs");
	parse_bad(VM M "expect migrated expect degraded\n", 2,
		  "unexpected 'expect' after the outcome (options go after '--')");
	parse_bad(VM M "expect migrated on\n", 2, "'on' needs a HOST ('hostA' or 'hostB')");
	parse_bad(VM M "expect migrated on hostC\n", 2,
		  "the VM cannot end on 'hostC': only on FROM 'hostA' or TO 'hostB'");
	parse_bad(VM M "expect migrated on hostB hostA\n", 2, "unexpected 'hostA' after the outcome");
	parse_bad(VM M "expect migrated --bandwidth 8\n", 2,
		  "unexpected '--bandwidth' after the outcome (options go after '--')");
	parse_bad(VM M "expect migrated --\n", 2, "'--' needs at least one OPTION");
	parse_bad(VM M "expect migrated #-- --bandwidth 8\nmigrate a b expect migrated --\n", 3,
		  "'--' needs at least one OPTION");
}

TEST(whole_file_errors)
{
	parse_bad("", 1, "end of file without a 'vm NAME' statement (required, once)");
	parse_bad("# only\n\n   # comments\n", 3, "end of file without a 'vm NAME' statement");
	parse_bad("migrate a b expect migrated\n", 1, "end of file without a 'vm NAME'");
	parse_bad("vm v\n# no step\n", 2, "end of file without a migrate step (at least one");
	parse_bad("vm v", 1, "end of file without a migrate step");
}

TEST(limits)
{
	_cleanup_free_ char *steps100 = repeat_line("migrate a b expect migrated\n", 100);
	_cleanup_free_ char *ok = concat(VM, steps100, NULL);
	_cleanup_free_ char *bad = concat(VM, steps100, "migrate a b expect degraded\n", NULL);
	_cleanup_free_ char *opts16 = repeat_line(" --x", 16);
	_cleanup_free_ char *ok_opts = concat(VM M "expect migrated --", opts16, "\n", NULL);
	_cleanup_free_ char *bad_opts = concat(VM M "expect migrated --", opts16, " --y\n", NULL);
	_cleanup_free_ char *long256 = repeat_line("b", 256);
	_cleanup_free_ char *ok_word = concat(VM M "expect migrated -- --a ", long256, "\n", NULL);
	_cleanup_free_ char *bad_word = concat(VM M "expect migrated -- --a c", long256, "\n", NULL);
	drill *d;

	d = parse_ok(ok, strlen(ok));
	ASSERT_EQ(d->n_steps, 100);
	ASSERT_EQ(d->steps[99].line, 101);
	drill_free(d);
	parse_bad(bad, 102, "more than 100 migrate steps");

	d = parse_ok(ok_opts, strlen(ok_opts));
	ASSERT_EQ(d->steps[0].n_options, 16);
	ASSERT_STREQ(d->steps[0].options[15], "--x");
	ASSERT_TRUE(d->steps[0].options[16] == NULL);
	drill_free(d);
	parse_bad(bad_opts, 2, "17 options after '--' (at most 16)");

	d = parse_ok(ok_word, strlen(ok_word));
	ASSERT_EQ(strlen(d->steps[0].options[1]), 256);
	drill_free(d);
	parse_bad(bad_word, 2, "option 'cbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb...' "
			       "is 257 bytes long (at most 256)");
}

TEST(long_lines)
{
	_cleanup_free_ char *pad1024 = repeat_line("x", 1024 - 2);
	_cleanup_free_ char *pad2000 = repeat_line("x", 2000 - 2);
	_cleanup_free_ char *ok = concat(VM "# ", pad1024, "\n" M "expect migrated\n", NULL);
	_cleanup_free_ char *ok_crlf = concat(VM "# ", pad1024, "\r\n" M "expect migrated\n", NULL);
	_cleanup_free_ char *bad = concat(VM "# ", pad1024, "x\n" M "expect migrated\n", NULL);
	_cleanup_free_ char *bad2000 = concat(VM "# ", pad2000, "\n" M "expect migrated\n", NULL);
	_cleanup_free_ char *last = concat(VM M "expect migrated\n# ", pad2000, NULL);

	drill_free(parse_ok(ok, strlen(ok)));
	drill_free(parse_ok(ok_crlf, strlen(ok_crlf)));
	parse_bad(bad, 2, "line is 1025 bytes long (at most 1024)");
	parse_bad(bad2000, 2, "line is 2000 bytes long (at most 1024)");
	parse_bad(last, 3, "line is 2000 bytes long");
}

TEST(file_size)
{
	/* 64 KiB exactly: comment lines of at most 1023 bytes, then the two statements. */
	static const char tail[] = "vm v\nmigrate a b expect migrated\n";
	size_t size = DRILL_FILE_MAX;
	_cleanup_free_ char *text = malloc(size + 2);
	_cleanup_free_ char *error = NULL;
	drill *d = NULL;

	ASSERT_TRUE(text != NULL);
	memset(text, '#', size + 1);
	for (size_t i = 1023; i < size; i += 1024)
		text[i] = '\n';
	memcpy(text + size - strlen(tail), tail, strlen(tail));
	text[size - strlen(tail) - 1] = '\n';
	text[size] = '\0';
	d = parse_ok(text, size);
	ASSERT_EQ(d->steps[0].line, 66);
	drill_free(d);

	/* One byte more is refused before anything is parsed. */
	text[size] = '\n';
	text[size + 1] = '\0';
	d = NULL;
	ASSERT_ERRNO(drill_parse(text, size + 1, "t.drill", &d, &error), EFBIG);
	ASSERT_TRUE(d == NULL);
	ASSERT_STREQ(error, "t.drill: larger than 65536 bytes");
}

TEST(hostile_bytes)
{
	static const char nul[] = VM M "expect\0 migrated\n";
	static const char nul_comment[] = VM M "expect migrated # \0\n";
	static const char nul_last[] = VM M "expect migrated\n\0";

	parse_bad_size(nul, sizeof(nul) - 1, 2, "NUL byte at column 27 (a drill file is text)");
	parse_bad_size(nul_comment, sizeof(nul_comment) - 1, 2, "NUL byte at column 39");
	parse_bad_size(nul_last, sizeof(nul_last) - 1, 3, "NUL byte at column 1");
	parse_bad(VM M "expect \x1b[31mmigrated\n", 2,
		  "control character 0x1b at column 28 (only printable characters and tabs)");
	parse_bad(VM M "expect migrated\x7f\n", 2, "control character 0x7f at column 36");
	/* A lone CR is no line ending (old Mac files are not drills). */
	parse_bad("vm v\r" M "expect migrated\n", 1, "control character 0x0d at column 5");
	parse_bad("vm v\r\r\n" M "expect migrated\n", 1, "control character 0x0d at column 5");
}

TEST(crlf)
{
	static const char text[] =
		"# CRLF\r\nvm vm1\r\nping 198.18.0.11\r\nrepeat 2\r\n\r\n"
		"migrate hostA hostB fault stall-agent at unplug for 5 expect degraded\r\n"
		"migrate hostB hostA expect migrated -- --bandwidth 8\r\n";
	static const char *const want[] = {
		"hostA>hostB stall-agent@unplug/5000ms degraded@hostB",
		"hostB>hostA migrated@hostA -- --bandwidth 8",
	};
	drill *d = parse_ok(text, strlen(text));

	ASSERT_STREQ(d->vm, "vm1");
	ASSERT_STREQ(d->ping, "198.18.0.11");
	ASSERT_EQ(d->repeat, 2);
	assert_steps(d, want, ELEMENTSOF(want));
	ASSERT_EQ(d->steps[1].line, 7);
	drill_free(d);
}

/* `#` starts a comment wherever it is, inside a word too: the word ends there. */
TEST(hash_in_words)
{
	static const char text[] = "vm vm1#2\n"
				   "ping 198.18.0.11#.12\n"
				   "repeat 2#0\n"
				   "migrate hostA hostB expect migrated -- --bandwidth 8#x\n"
				   "migrate hostB hostA expect rolled-back#on hostA\n";
	static const char *const want[] = {
		"hostA>hostB migrated@hostB -- --bandwidth 8",
		"hostB>hostA rolled-back@hostB",
	};
	drill *d = parse_ok(text, strlen(text));

	ASSERT_STREQ(d->vm, "vm1");
	ASSERT_STREQ(d->ping, "198.18.0.11");
	ASSERT_EQ(d->repeat, 2);
	assert_steps(d, want, ELEMENTSOF(want));
	drill_free(d);

	parse_bad(VM "migrate hostA hostB#C expect migrated\n", 2, "missing 'expect OUTCOME'");
	parse_bad(VM M "expect#migrated\n", 2, "'expect' needs an OUTCOME");
	parse_bad(VM M "expect migrated --#bandwidth 8\n", 2, "'--' needs at least one OPTION");
}

static char dir[] = "/tmp/test-drill-file.XXXXXX";

static char *write_file(const char *name, const char *text, size_t size)
{
	char *path = concat(dir, "/", name, NULL);
	FILE *f = fopen(path, "we");

	ASSERT_TRUE(f != NULL);
	ASSERT_EQ(fwrite(text, 1, size, f), size);
	ASSERT_EQ(fclose(f), 0);
	return path;
}

/* drill_load() refuses with `r` and an error that starts with the path and contains needle. */
static void load_bad(const char *path, int r, const char *needle)
{
	drill *untouched = (drill *)&untouched, *d = untouched;
	_cleanup_free_ char *error = NULL, *prefix = concat(path, ":", NULL);

	ASSERT_EQ(drill_load(path, &d, &error), r);
	ASSERT_TRUE(d == untouched);
	ASSERT_TRUE(error != NULL);
	if (strncmp(error, prefix, strlen(prefix)) != 0 || !strstr(error, needle))
		TEST_FAIL("%s: expected \"%s...%s\", got \"%s\"", path, prefix, needle, error);
}

TEST(load)
{
	_cleanup_free_ char *good = write_file("good.drill", FULL, strlen(FULL));
	static const char bad_text[] = VM M "expect moved\n";
	_cleanup_free_ char *bad = write_file("bad.drill", bad_text, strlen(bad_text));
	_cleanup_free_ char *missing = concat(dir, "/missing.drill", NULL);
	_cleanup_free_ char *big_text = malloc(DRILL_FILE_MAX + 1), *big = NULL;
	drill *d = NULL;
	char *error = NULL;

	ASSERT_OK(drill_load(good, &d, &error));
	ASSERT_TRUE(error == NULL);
	assert_steps(d, full_steps, ELEMENTSOF(full_steps));
	drill_free(d);

	load_bad(bad, -EINVAL, ":2: unknown outcome 'moved'");
	load_bad(missing, -ENOENT, ": cannot open: ");
	load_bad(dir, -EISDIR, ": cannot read: ");
	ASSERT_TRUE(big_text != NULL);
	memset(big_text, '\n', DRILL_FILE_MAX + 1);
	big = write_file("big.drill", big_text, DRILL_FILE_MAX + 1);
	load_bad(big, -EFBIG, ": larger than 65536 bytes");
	/* The read is bounded: an endless file ends as a too large one. */
	load_bad("/dev/zero", -EFBIG, ": larger than 65536 bytes");
	ASSERT_EQ(unlink(good), 0);
	ASSERT_EQ(unlink(bad), 0);
	ASSERT_EQ(unlink(big), 0);
}

/* What each example drill must say (examples/drills/README.md describes them). */
static const struct example {
	const char *file;
	unsigned repeat;
	const char *steps[4];
} examples[] = {
	{ "drop-ssh.drill", 1,
	  { "hostA>hostB drop-ssh@migrate migrated@hostB -- --bandwidth 8",
	    "hostB>hostA migrated@hostA" } },
	{ "kill-agent.drill", 1,
	  { "hostA>hostB kill-agent@migrate migrated@hostB -- --bandwidth 8",
	    "hostB>hostA migrated@hostA", "hostA>hostB kill-agent@active degraded@hostB",
	    "hostB>hostA migrated@hostA" } },
	{ "kill-dest-daemon.drill", 1,
	  { "hostA>hostB kill-dest-daemon@migrate migrated@hostB -- --bandwidth 8",
	    "hostB>hostA migrated@hostA" } },
	{ "kill-dest-qemu.drill", 1,
	  { "hostA>hostB kill-dest-qemu@migrate rolled-back@hostA -- --bandwidth 8",
	    "hostA>hostB migrated@hostB", "hostB>hostA migrated@hostA" } },
	{ "kill-source-daemon.drill", 1,
	  { "hostA>hostB kill-source-daemon@standby rolled-back@hostA",
	    "hostA>hostB kill-source-daemon@migrate migrated@hostB -- --bandwidth 8",
	    "hostB>hostA migrated@hostA" } },
	{ "no-free-vf.drill", 1,
	  { "hostA>hostB no-free-vf@preflight rolled-back@hostA", "hostA>hostB migrated@hostB",
	    "hostB>hostA migrated@hostA" } },
	{ "round-trip.drill", 3, { "hostA>hostB migrated@hostB", "hostB>hostA migrated@hostA" } },
	{ "stall-agent.drill", 1,
	  { "hostA>hostB stall-agent@preflight/10000ms rolled-back@hostA",
	    "hostA>hostB stall-agent@unplug/30000ms degraded@hostB", "hostB>hostA migrated@hostA" } },
	{ "vf-link-down.drill", 1,
	  { "hostA>hostB vf-link-down@active/30000ms degraded@hostB",
	    "hostB>hostA migrated@hostA" } },
};

TEST(examples)
{
	_cleanup_free_ char *pattern = concat(source_root, "/examples/drills/*.drill", NULL);
	glob_t g;
	size_t checked = 0;

	ASSERT_EQ(glob(pattern, 0, NULL, &g), 0);
	ASSERT_TRUE(g.gl_pathc >= ELEMENTSOF(examples));
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *base = strrchr(g.gl_pathv[i], '/') + 1;
		drill *d = NULL;
		char *error = NULL;
		int r = drill_load(g.gl_pathv[i], &d, &error);

		if (r < 0)
			TEST_FAIL("%s", error ? error : strerror(-r));
		fprintf(stderr, "   %s: %zu steps\n", base, d->n_steps);
		ASSERT_STREQ(d->vm, "vm1");
		ASSERT_STREQ(d->ping, "198.18.0.11");
		for (size_t j = 0; j < ELEMENTSOF(examples); j++) {
			size_t n = 0;

			if (strcmp(examples[j].file, base))
				continue;
			while (n < ELEMENTSOF(examples[j].steps) && examples[j].steps[n])
				n++;
			ASSERT_EQ(d->repeat, examples[j].repeat);
			assert_steps(d, examples[j].steps, n);
			checked++;
		}
		drill_free(d);
	}
	ASSERT_EQ(checked, ELEMENTSOF(examples));
	globfree(&g);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s SOURCE_ROOT\n", argv[0]);
		return EXIT_FAILURE;
	}
	source_root = argv[1];
	ASSERT_TRUE(mkdtemp(dir) != NULL);

	RUN_TEST(full);
	RUN_TEST(defaults);
	RUN_TEST(outcome_names);
	RUN_TEST(statement_errors);
	RUN_TEST(migrate_errors);
	RUN_TEST(whole_file_errors);
	RUN_TEST(limits);
	RUN_TEST(long_lines);
	RUN_TEST(file_size);
	RUN_TEST(hostile_bytes);
	RUN_TEST(crlf);
	RUN_TEST(hash_in_words);
	RUN_TEST(load);
	RUN_TEST(examples);

	ASSERT_EQ(rmdir(dir), 0);
	return EXIT_SUCCESS;
}
