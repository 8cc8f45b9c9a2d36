// SPDX-License-Identifier: GPL-2.0-or-later
/* What `dmigrate migrate` shows, read back from a memory stream. */
#include "cli/cli_migrate_view.h"

#include <stdlib.h>

#include "cli/cli.h"
#include "cli/cli_format.h"
#include "macro.h"
#include "test.h"

static json_object *parse(const char *text)
{
	json_object *o = json_tokener_parse(text);

	ASSERT_TRUE(o);
	return o;
}

TEST(units)
{
	char buf[32];

	ASSERT_STREQ(cli_format_bytes(0, buf, sizeof(buf)), "0 B");
	ASSERT_STREQ(cli_format_bytes(1023, buf, sizeof(buf)), "1023 B");
	ASSERT_STREQ(cli_format_bytes(1536, buf, sizeof(buf)), "1.50 KiB");
	ASSERT_STREQ(cli_format_bytes(268435456, buf, sizeof(buf)), "256.0 MiB");
	ASSERT_STREQ(cli_format_bytes(UINT64_MAX, buf, sizeof(buf)), "16.0 EiB");
	ASSERT_STREQ(cli_format_ms(18, buf, sizeof(buf)), "18 ms");
	ASSERT_STREQ(cli_format_ms(2100, buf, sizeof(buf)), "2.10 s");
	ASSERT_STREQ(cli_format_ms(125000, buf, sizeof(buf)), "2 min 05 s");
	ASSERT_STREQ(cli_format_ms(3 * 3600000 + 120000, buf, sizeof(buf)), "3 h 02 min");
}

TEST(json_fields_of_the_wrong_type_read_as_absent)
{
	_cleanup_json_ json_object *o = parse("{\"n\":-1,\"d\":2.5,\"big\":18446744073709551615,"
					      "\"s\":\"x\",\"nan\":\"NaN\",\"b\":true,\"huge\":1e300}");
	uint64_t v = 99;

	ASSERT_TRUE(!cli_json_uint(o, "n", &v));
	ASSERT_TRUE(!cli_json_uint(o, "s", &v));
	ASSERT_TRUE(!cli_json_uint(o, "huge", &v));
	ASSERT_TRUE(!cli_json_uint(o, "missing", &v));
	ASSERT_TRUE(!cli_json_uint(NULL, "n", &v));
	ASSERT_EQ(v, 99);
	ASSERT_TRUE(cli_json_uint(o, "d", &v));
	ASSERT_EQ(v, 2);
	ASSERT_TRUE(cli_json_uint(o, "big", &v));
	ASSERT_TRUE(v == UINT64_MAX);
	ASSERT_TRUE(cli_json_string(o, "n") == NULL);
	ASSERT_STREQ(cli_json_string(o, "s"), "x");
	ASSERT_TRUE(cli_json_bool(o, "b"));
	ASSERT_TRUE(!cli_json_bool(o, "s"));
}

TEST(progress_line)
{
	_cleanup_json_ json_object *full = parse(
		"{\"status\":\"active\",\"transferred\":134217728,\"remaining\":67108864,"
		"\"total\":268435456,\"dirty_rate\":1200,\"mbps\":850.5,\"eta_ms\":650}");
	_cleanup_json_ json_object *sparse = parse("{\"status\":\"device\",\"remaining\":\"lots\"}");
	char buf[256], small[24];

	cli_migrate_progress_format("migrate", full, buf, sizeof(buf));
	ASSERT_STREQ(buf, "  migrate: 128.0 MiB sent, 64.0 MiB left of 256.0 MiB, 850 Mbit/s, ETA "
			  "650 ms, dirty 1200 pages/s");
	cli_migrate_progress_format("migrate", sparse, buf, sizeof(buf));
	ASSERT_STREQ(buf, "  migrate: (device)");
	/* Cut, never overflowing. */
	cli_migrate_progress_format("migrate", full, small, sizeof(small));
	ASSERT_EQ(strlen(small), sizeof(small) - 1);
}

/* Feed events into a view writing to memory; return what it wrote (malloc()ed). */
static char *view_run(bool live, unsigned columns, const char *const *events)
{
	char *text = NULL;
	size_t len = 0;
	cli_migrate_view v = { .live = live, .columns = columns };

	v.out = open_memstream(&text, &len);
	ASSERT_TRUE(v.out);
	for (size_t i = 0; events[i]; i += 2) {
		_cleanup_json_ json_object *data = parse(events[i + 1]);

		cli_migrate_view_event(&v, events[i], data);
	}
	cli_migrate_view_clear(&v);
	fclose(v.out);
	return text;
}

static const char *const events[] = {
	"phase", "{\"phase\":\"standby\",\"state\":\"started\",\"elapsed_ms\":0}",
	"phase", "{\"phase\":\"standby\",\"state\":\"done\",\"elapsed_ms\":1250}",
	"phase", "{\"phase\":\"unplug\",\"state\":\"started\"}",
	"phase", "{\"phase\":\"unplug\",\"state\":\"failed\",\"elapsed_ms\":10000,"
		 "\"message\":\"DEVICE_DELETED did not come\"}",
	"phase", "{\"phase\":\"standby\",\"state\":\"undone\",\"elapsed_ms\":40}",
	"progress", "{\"transferred\":1024}",
	"shiny-new-event", "{}",
	"phase", "[1,2,3]",
	NULL,
};

TEST(view_on_a_terminal)
{
	_cleanup_free_ char *text = view_run(true, 100, events);

	ASSERT_STREQ(text, "\r\033[K  standby ..."
			   "\r\033[K"
			   "  standby     done          1.25 s\n"
			   "\r\033[K  unplug ..."
			   "\r\033[K"
			   "  unplug      failed       10.00 s  DEVICE_DELETED did not come\n"
			   "  standby     undone         40 ms\n"
			   "\r\033[K  unplug: 1.00 KiB sent"
			   "\r\033[K"
			   "  ?           ?\n");
}

TEST(view_elsewhere_is_quiet)
{
	_cleanup_free_ char *text = view_run(false, 0, events);

	ASSERT_STREQ(text, "");
}

TEST(status_line_fits_the_terminal)
{
	static const char *const one[] = {
		"progress", "{\"transferred\":134217728,\"remaining\":67108864,\"total\":268435456}",
		NULL,
	};
	_cleanup_free_ char *text = view_run(true, 20, one);

	/* 19 characters: a full-width line would wrap and break the redraw. */
	ASSERT_STREQ(text, "\r\033[K  migrate: 128.0 Mi\r\033[K");
}

TEST(outcomes)
{
	static const struct {
		const char *result;
		int exit_code;
		const char *line;
	} cases[] = {
		{ "{\"vm\":\"vm1\",\"from\":\"hostA\",\"to\":\"hostB\",\"outcome\":\"migrated\","
		  "\"runs_on\":\"hostB\",\"qemu\":{\"downtime_ms\":18,\"total_ms\":700},"
		  "\"total_ms\":2100}",
		  CLI_EXIT_OK,
		  "vm1 migrated from hostA to hostB in 2.10 s (QEMU: downtime 18 ms, migration 700 "
		  "ms); it runs on hostB.\n" },
		{ "{\"vm\":\"vm1\",\"to\":\"hostB\",\"outcome\":\"degraded\",\"runs_on\":\"hostB\","
		  "\"message\":\"no VF\"}",
		  CLI_EXIT_DEGRADED,
		  "vm1 migrated to hostB but is degraded: no VF. It runs on hostB without its "
		  "passthrough NIC or DID.\n" },
		{ "{\"vm\":\"vm1\",\"outcome\":\"rolled-back\",\"runs_on\":\"hostA\","
		  "\"message\":\"agent silent\"}",
		  CLI_EXIT_FAILED,
		  "vm1 was not migrated, the migration was rolled back: agent silent. It runs on "
		  "hostA as before.\n" },
		{ "{\"outcome\":\"migrated\"}", CLI_EXIT_OK,
		  "the VM migrated from the source to the destination in ? (QEMU: downtime ?, "
		  "migration ?); it runs on an unknown host.\n" },
		{ "{\"vm\":\"vm1\",\"outcome\":7}", CLI_EXIT_FAILED,
		  "vm1: dmigrated reported the unknown outcome '(none)' (no reason given); check "
		  "with 'dmigrate status vm1'.\n" },
		{ "[]", CLI_EXIT_FAILED,
		  "the VM: dmigrated reported the unknown outcome '(none)' (no reason given); check "
		  "with 'dmigrate status the VM'.\n" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_json_ json_object *result = parse(cases[i].result);
		_cleanup_free_ char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);

		ASSERT_TRUE(f);
		ASSERT_EQ(cli_migrate_exit_code(result), cases[i].exit_code);
		cli_migrate_summary_print(f, result);
		fclose(f);
		ASSERT_STREQ(text, cases[i].line);
	}
}

int main(void)
{
	RUN_TEST(units);
	RUN_TEST(json_fields_of_the_wrong_type_read_as_absent);
	RUN_TEST(progress_line);
	RUN_TEST(view_on_a_terminal);
	RUN_TEST(view_elsewhere_is_quiet);
	RUN_TEST(status_line_fits_the_terminal);
	RUN_TEST(outcomes);
	return 0;
}
