// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Migration journals in a temporary state directory: what is written is what a restarted daemon
 * reads back, the latest write wins, and damaged or foreign files are skipped, not fatal.
 */
#include "migration/migration_journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "migration/migration_job.h"
#include "test.h"

static char dir[] = "/tmp/test-migration-journal.XXXXXX";

/* What migration_journal_foreach() handed over, one line per journal, sorted by VM name. */
static char seen[8][256];
static int n_seen;

static void collect(host_daemon *d, const migration_journal *j)
{
	ASSERT_TRUE(n_seen < (int)ELEMENTSOF(seen));
	snprintf(seen[n_seen++], sizeof(seen[0]), "%s %s %s %s%s%s%s", j->vm, j->role, j->peer,
		 strcmp(j->role, "source") ? dest_phase_name(j->phase) : migration_phase_name(j->phase),
		 j->rolling_back ? " rolling-back" : "",
		 j->did_available ? " did" : "", j->degraded ? " degraded" : "");
}

static int cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static const char *scan(host_daemon *d)
{
	static char all[2048];

	n_seen = 0;
	ASSERT_OK(migration_journal_foreach(d, collect));
	qsort(seen, (size_t)n_seen, sizeof(seen[0]), cmp);
	all[0] = '\0';
	for (int i = 0; i < n_seen; i++) {
		size_t used = strlen(all);

		ASSERT_TRUE((size_t)snprintf(all + used, sizeof(all) - used, "%s%s", i ? "; " : "",
					     seen[i]) < sizeof(all) - used);
	}
	return all;
}

static void write_text(const char *name, const char *text)
{
	char path[256];
	_cleanup_close_ int fd = -1;

	snprintf(path, sizeof(path), "%s/jobs/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(write(fd, text, strlen(text)), (ssize_t)strlen(text));
}

static void remove_text(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/jobs/%s", dir, name);
	ASSERT_OK(unlink(path));
}

TEST(write_read_remove)
{
	host_config c = { .state_dir = dir };
	host_daemon d = { .config = &c };
	migration_journal j = { .vm = "vm1", .role = "source", .peer = "hostB",
				.phase = PHASE_UNPLUG, .did_available = true };
	migration_journal k = { .vm = "vm2", .role = "destination", .peer = "hostA",
				.phase = DEST_INCOMING, .degraded = true };

	/* No jobs directory yet: nothing to recover, not an error. */
	ASSERT_STREQ(scan(&d), "");

	ASSERT_OK(migration_journal_write(&d, &j));
	ASSERT_OK(migration_journal_write(&d, &k));
	ASSERT_STREQ(scan(&d), "vm1 source hostB unplug did; vm2 destination hostA incoming degraded");

	/* A rewrite replaces: the job turned around. */
	j.phase = PHASE_MIGRATE;
	j.rolling_back = true;
	ASSERT_OK(migration_journal_write(&d, &j));
	ASSERT_STREQ(scan(&d),
		     "vm1 source hostB migrate rolling-back did; vm2 destination hostA incoming degraded");

	ASSERT_OK(migration_journal_remove(&d, "vm1"));
	ASSERT_STREQ(scan(&d), "vm2 destination hostA incoming degraded");
	ASSERT_OK(migration_journal_remove(&d, "vm1"));
	ASSERT_OK(migration_journal_remove(&d, "vm2"));
	ASSERT_STREQ(scan(&d), "");
}

TEST(damaged_and_foreign_files_skipped)
{
	host_config c = { .state_dir = dir };
	host_daemon d = { .config = &c };
	migration_journal j = { .vm = "vm1", .role = "source", .peer = "hostB",
				.phase = PHASE_SWITCHOVER };

	ASSERT_OK(migration_journal_write(&d, &j));
	write_text("torn.json", "{\"vm\": \"torn\", \"role\": \"sou");
	write_text("nophase.json", "{\"vm\": \"np\", \"role\": \"source\", \"peer\": \"hostB\"}");
	write_text("badphase.json",
		   "{\"vm\": \"bp\", \"role\": \"source\", \"peer\": \"hostB\", \"phase\": \"teleport\"}");
	write_text("numvm.json",
		   "{\"vm\": 7, \"role\": \"source\", \"peer\": \"hostB\", \"phase\": \"unplug\"}");
	write_text("array.json", "[]");
	/* A destination's phase name is not a source's, and roles are one of the two. */
	write_text("destsrc.json",
		   "{\"vm\": \"ds\", \"role\": \"destination\", \"peer\": \"hostA\", \"phase\": \"unplug\"}");
	write_text("role.json",
		   "{\"vm\": \"ro\", \"role\": \"bystander\", \"peer\": \"hostA\", \"phase\": \"unplug\"}");
	/* Not journals at all: a temporary file of an interrupted write, and a stray file. */
	write_text("vm9.json.tmp",
		   "{\"vm\": \"vm9\", \"role\": \"source\", \"peer\": \"hostB\", \"phase\": \"unplug\"}");
	write_text(".json", "{\"vm\": \"dot\", \"role\": \"source\", \"peer\": \"hostB\", \"phase\": \"unplug\"}");
	ASSERT_STREQ(scan(&d), "vm1 source hostB switchover");

	ASSERT_OK(migration_journal_remove(&d, "vm1"));
	ASSERT_OK(migration_journal_remove(&d, "torn"));
	ASSERT_OK(migration_journal_remove(&d, "nophase"));
	ASSERT_OK(migration_journal_remove(&d, "badphase"));
	ASSERT_OK(migration_journal_remove(&d, "numvm"));
	ASSERT_OK(migration_journal_remove(&d, "array"));
	ASSERT_OK(migration_journal_remove(&d, "destsrc"));
	ASSERT_OK(migration_journal_remove(&d, "role"));
	remove_text("vm9.json.tmp");
	remove_text(".json");
	ASSERT_STREQ(scan(&d), "");
}

int main(void)
{
	char jobs[64];

	ASSERT_TRUE(mkdtemp(dir) != NULL);
	RUN_TEST(write_read_remove);
	RUN_TEST(damaged_and_foreign_files_skipped);
	snprintf(jobs, sizeof(jobs), "%s/jobs", dir);
	ASSERT_OK(rmdir(jobs));
	ASSERT_OK(rmdir(dir));
	return 0;
}
