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
	snprintf(seen[n_seen++], sizeof(seen[0]), "%s %s %s %s%s%s%s%s%s%s%s%s%s%s", j->vm, j->role, j->peer,
		 strcmp(j->role, "source") ? dest_phase_name(j->phase) : migration_phase_name(j->phase),
		 j->rolling_back ? " rolling-back" : "",
		 j->did_available ? " did" : "", j->degraded ? " degraded" : "",
		 j->resumed ? " resumed" : "", j->lost ? " lost" : "",
		 j->deadline_ms ? " deadline" : "",
		 j->fault.kind != FAULT_NONE ? " fault" : "", j->hook ? " hook" : "",
		 j->vf ? " vf=" : "", j->vf ? j->vf : "");
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

/* What a destination needs after a restart: its deadline, whether it ran the VM, its drill fault. */
TEST(destination_fields)
{
	host_config c = { .state_dir = dir };
	host_daemon d = { .config = &c };
	migration_journal j = { .vm = "vm3", .role = "destination", .peer = "hostA",
				.phase = DEST_PLUG, .resumed = true, .deadline_ms = 1234567,
				.fault = { .kind = FAULT_KILL_DEST_DAEMON, .phase = PHASE_ACTIVE } };

	ASSERT_OK(migration_journal_write(&d, &j));
	ASSERT_STREQ(scan(&d), "vm3 destination hostA plug resumed deadline fault");
	j.lost = true;
	j.fault.kind = FAULT_NONE;
	j.deadline_ms = 0;
	ASSERT_OK(migration_journal_write(&d, &j));
	ASSERT_STREQ(scan(&d), "vm3 destination hostA plug resumed lost");
	/* A fault that cannot fire where it says, or a negative deadline: the file is refused. */
	write_text("vm3.json", "{\"vm\": \"vm3\", \"role\": \"destination\", \"peer\": \"hostA\", "
			       "\"phase\": \"plug\", \"fault\": {\"name\": \"no-free-vf\", \"phase\": \"plug\"}}");
	ASSERT_STREQ(scan(&d), "");
	write_text("vm3.json", "{\"vm\": \"vm3\", \"role\": \"destination\", \"peer\": \"hostA\", "
			       "\"phase\": \"plug\", \"deadline_ms\": -5}");
	ASSERT_STREQ(scan(&d), "");
	ASSERT_OK(migration_journal_remove(&d, "vm3"));
}

/* Hook mode: a detach (the source's phases) keeps a VF; an attach runs the destination's. */
TEST(hook_fields)
{
	host_config c = { .state_dir = dir };
	host_daemon d = { .config = &c };
	migration_journal j = { .vm = "vm4", .role = "source", .peer = "hostA",
				.phase = PHASE_MIGRATE, .did_available = true, .hook = true,
				.vf = "0000:07:10.3" };
	migration_journal k = { .vm = "vm5", .role = "attach", .peer = "hostA",
				.phase = DEST_ACTIVE, .hook = true, .vf = "vf1" };
	_cleanup_json_ json_object *o = NULL;
	migration_journal r;

	ASSERT_OK(migration_journal_write(&d, &j));
	ASSERT_OK(migration_journal_write(&d, &k));
	ASSERT_STREQ(scan(&d), "vm4 source hostA migrate did hook vf=0000:07:10.3; "
			       "vm5 attach hostA active hook vf=vf1");
	ASSERT_OK(migration_journal_read(&d, "vm5", &o, &r));
	ASSERT_STREQ(r.role, "attach");
	ASSERT_EQ(r.phase, DEST_ACTIVE);
	ASSERT_STREQ(r.vf, "vf1");
	ASSERT_EQ(migration_journal_read(&d, "nosuch", &o, &r), -ENOENT);
	/* An attach is in the destination's phases; a VF name is a device's, nothing else. */
	write_text("vm5.json", "{\"vm\": \"vm5\", \"role\": \"attach\", \"peer\": \"hostA\", "
			       "\"phase\": \"unplug\", \"hook\": true}");
	write_text("vm4.json", "{\"vm\": \"vm4\", \"role\": \"source\", \"peer\": \"hostA\", "
			       "\"phase\": \"migrate\", \"hook\": true, \"vf\": \"vf0; reboot\"}");
	ASSERT_STREQ(scan(&d), "");
	ASSERT_EQ(migration_journal_read(&d, "vm4", &o, &r), -EBADMSG);
	ASSERT_OK(migration_journal_remove(&d, "vm4"));
	ASSERT_OK(migration_journal_remove(&d, "vm5"));
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
	/* Parsed but not to be acted on: another VM's journal, a flag or a name that means nothing. */
	write_text("other.json",
		   "{\"vm\": \"vm1\", \"role\": \"source\", \"peer\": \"hostB\", \"phase\": \"unplug\"}");
	write_text("badflag.json", "{\"vm\": \"badflag\", \"role\": \"source\", \"peer\": \"hostB\", "
				   "\"phase\": \"unplug\", \"rolling_back\": \"yes\"}");
	write_text("badname.json",
		   "{\"vm\": \"../x\", \"role\": \"source\", \"peer\": \"hostB\", \"phase\": \"unplug\"}");
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
	ASSERT_OK(migration_journal_remove(&d, "other"));
	ASSERT_OK(migration_journal_remove(&d, "badflag"));
	ASSERT_OK(migration_journal_remove(&d, "badname"));
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
	RUN_TEST(destination_fields);
	RUN_TEST(hook_fields);
	RUN_TEST(damaged_and_foreign_files_skipped);
	snprintf(jobs, sizeof(jobs), "%s/jobs", dir);
	ASSERT_OK(rmdir(jobs));
	ASSERT_OK(rmdir(dir));
	return 0;
}
