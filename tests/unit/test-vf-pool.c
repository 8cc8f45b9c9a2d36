// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The passthrough pool and the atomic state files it is kept in, in a temporary state directory:
 * reservations, conflicts, what survives a restart, and state files that are damaged.
 */
#include "host/vf_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "daemon/state_file.h"
#include "test.h"

static char dir[] = "/tmp/test-vf-pool.XXXXXX";
static char pool_path[128];

static char *three_vfs[] = { "vf0", "vf1", "vf2" };

static host_config config_with(char **vfs, size_t n)
{
	return (host_config){ .state_dir = dir, .vfs = vfs, .n_vfs = n };
}

static void write_text(const char *path, const char *text, size_t len)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(write(fd, text, len), (ssize_t)len);
}

/* The file on disk is a valid state file and says exactly what the pool says. */
static void check_saved(const vf_pool *p)
{
	_cleanup_json_ json_object *saved = NULL, *now = json_object_new_object();
	json_object *res;

	ASSERT_OK(state_file_read(pool_path, &saved));
	ASSERT_TRUE(json_object_object_get_ex(saved, "reservations", &res));
	json_object_object_add(now, "reservations", vf_pool_to_json(p));
	if (!json_object_equal(saved, now))
		TEST_FAIL("state file %s != pool %s", json_object_to_json_string(saved),
			  json_object_to_json_string(now));
}

/* vf_pool_open() for a list pool; the message of a refusal must name the state file. */
static int pool_open(const host_config *c, vf_pool **ret)
{
	_cleanup_free_ char *error = NULL;
	int r = vf_pool_open(c, NULL, ret, &error);

	if (r < 0 && r != -ENOMEM)
		ASSERT_TRUE(error && strstr(error, "vf-pool.json"));
	return r;
}

static const char *pool_json(const vf_pool *p)
{
	static char buf[512];
	_cleanup_json_ json_object *o = vf_pool_to_json(p);

	snprintf(buf, sizeof(buf), "%s", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	return buf;
}

TEST(reserve_until_full)
{
	host_config c = config_with(three_vfs, 3);
	vf_pool *p = NULL;
	const char *vf = NULL;

	unlink(pool_path);
	ASSERT_OK(pool_open(&c, &p));
	ASSERT_EQ(vf_pool_count_free(p), 3);
	ASSERT_STREQ(pool_json(p), "{\"vf0\":null,\"vf1\":null,\"vf2\":null}");

	for (int i = 0; i < 3; i++) {
		char owner[8];

		snprintf(owner, sizeof(owner), "vm%d", i + 1);
		ASSERT_OK(vf_pool_reserve(p, owner, &vf));
		ASSERT_STREQ(vf, three_vfs[i]);
		ASSERT_EQ(vf_pool_count_free(p), 2 - i);
		check_saved(p);
	}
	vf = "untouched";
	ASSERT_ERRNO(vf_pool_reserve(p, "vm4", &vf), ENOSPC);
	ASSERT_STREQ(vf, "untouched");
	ASSERT_STREQ(vf_pool_find(p, "vm2"), "vf1");
	ASSERT_TRUE(vf_pool_find(p, "vm4") == NULL);
	ASSERT_STREQ(pool_json(p), "{\"vf0\":\"vm1\",\"vf1\":\"vm2\",\"vf2\":\"vm3\"}");
	check_saved(p);
	vf_pool_free(p);
}

TEST(reservations_survive_reopen)
{
	host_config c = config_with(three_vfs, 3);
	vf_pool *p = NULL;
	const char *vf;

	/* Continues from reserve_until_full: all three are held. */
	ASSERT_OK(pool_open(&c, &p));
	ASSERT_EQ(vf_pool_count_free(p), 0);
	ASSERT_STREQ(vf_pool_find(p, "vm1"), "vf0");
	ASSERT_STREQ(vf_pool_find(p, "vm3"), "vf2");
	ASSERT_ERRNO(vf_pool_reserve(p, "vm4", &vf), ENOSPC);
	ASSERT_OK(vf_pool_release(p, "vf1", "vm2"));
	check_saved(p);
	vf_pool_free(p);

	ASSERT_OK(pool_open(&c, &p));
	ASSERT_EQ(vf_pool_count_free(p), 1);
	ASSERT_TRUE(vf_pool_find(p, "vm2") == NULL);
	ASSERT_OK(vf_pool_reserve(p, "vm4", &vf));
	ASSERT_STREQ(vf, "vf1");
	vf_pool_free(p);
}

TEST(claim_and_release_conflicts)
{
	host_config c = config_with(three_vfs, 3);
	vf_pool *p = NULL;

	unlink(pool_path);
	ASSERT_OK(pool_open(&c, &p));
	ASSERT_OK(vf_pool_claim(p, "vf2", "vm1"));
	check_saved(p);
	/* The holder claiming again is a no-op; anyone else is refused. */
	ASSERT_OK(vf_pool_claim(p, "vf2", "vm1"));
	ASSERT_ERRNO(vf_pool_claim(p, "vf2", "vm2"), EBUSY);
	ASSERT_ERRNO(vf_pool_claim(p, "vf9", "vm2"), ENOENT);
	ASSERT_STREQ(vf_pool_find(p, "vm1"), "vf2");
	ASSERT_TRUE(vf_pool_find(p, "vm2") == NULL);

	ASSERT_ERRNO(vf_pool_release(p, "vf2", "vm2"), ENOENT);
	ASSERT_ERRNO(vf_pool_release(p, "vf0", "vm1"), ENOENT);
	ASSERT_ERRNO(vf_pool_release(p, "vf9", "vm1"), ENOENT);
	ASSERT_STREQ(vf_pool_find(p, "vm1"), "vf2");
	ASSERT_EQ(vf_pool_count_free(p), 2);

	ASSERT_OK(vf_pool_release(p, "vf2", "vm1"));
	ASSERT_ERRNO(vf_pool_release(p, "vf2", "vm1"), ENOENT);
	ASSERT_EQ(vf_pool_count_free(p), 3);
	check_saved(p);
	ASSERT_OK(vf_pool_claim(p, "vf2", "vm2"));
	ASSERT_STREQ(vf_pool_find(p, "vm2"), "vf2");
	check_saved(p);
	vf_pool_free(p);
}

TEST(vf_gone_from_config_dropped)
{
	static char *two[] = { "vf0", "vf1" };
	host_config c = config_with(two, 2);
	vf_pool *p = NULL;
	const char *vf;
	_cleanup_json_ json_object *saved = NULL;
	json_object *res;

	/* vf7 left the config; a non-string owner is not an owner. */
	static const char text[] = "{\"reservations\": {\"vf0\": \"vm1\", \"vf7\": \"vm7\", \"vf1\": 5}}";

	write_text(pool_path, text, strlen(text));
	ASSERT_OK(pool_open(&c, &p));
	ASSERT_STREQ(vf_pool_find(p, "vm1"), "vf0");
	ASSERT_TRUE(vf_pool_find(p, "vm7") == NULL);
	ASSERT_EQ(vf_pool_count_free(p), 1);
	ASSERT_OK(vf_pool_reserve(p, "vm2", &vf));
	ASSERT_STREQ(vf, "vf1");
	/* The next save forgets it for good. */
	check_saved(p);
	ASSERT_OK(state_file_read(pool_path, &saved));
	ASSERT_TRUE(json_object_object_get_ex(saved, "reservations", &res));
	ASSERT_TRUE(!json_object_object_get_ex(res, "vf7", NULL));
	vf_pool_free(p);
}

TEST(no_vfs_at_all)
{
	host_config c = config_with(NULL, 0);
	vf_pool *p = NULL;
	const char *vf;

	unlink(pool_path);
	ASSERT_OK(pool_open(&c, &p));
	ASSERT_EQ(vf_pool_count_free(p), 0);
	ASSERT_ERRNO(vf_pool_reserve(p, "vm1", &vf), ENOSPC);
	ASSERT_STREQ(pool_json(p), "{}");
	vf_pool_free(p);
}

TEST(save_fails_changes_nothing)
{
	host_config c = config_with(three_vfs, 3);
	vf_pool *p = NULL;
	const char *vf = "untouched";
	char moved[160];

	unlink(pool_path);
	ASSERT_OK(pool_open(&c, &p));
	ASSERT_OK(vf_pool_reserve(p, "vm1", &vf));
	/* The state directory disappears: a reservation that cannot be recorded is not made. */
	snprintf(moved, sizeof(moved), "%s.moved", dir);
	ASSERT_OK(rename(dir, moved));
	vf = "untouched";
	ASSERT_TRUE(vf_pool_reserve(p, "vm2", &vf) < 0);
	ASSERT_STREQ(vf, "untouched");
	ASSERT_TRUE(vf_pool_find(p, "vm2") == NULL);
	ASSERT_TRUE(vf_pool_release(p, "vf0", "vm1") < 0);
	ASSERT_STREQ(vf_pool_find(p, "vm1"), "vf0");
	ASSERT_EQ(vf_pool_count_free(p), 2);
	ASSERT_OK(rename(moved, dir));
	check_saved(p);
	vf_pool_free(p);
}

TEST(damaged_pool_file_refused)
{
	static const char *const bad[] = { "", "{\"reservations\": {\"vf0\": \"vm1\"", "garbage",
					   "[]" };
	host_config c = config_with(three_vfs, 3);
	vf_pool *p = NULL;

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		write_text(pool_path, bad[i], strlen(bad[i]));
		ASSERT_ERRNO(pool_open(&c, &p), EBADMSG);
		ASSERT_TRUE(p == NULL);
	}
}

TEST(state_file_roundtrip)
{
	_cleanup_json_ json_object *o = json_tokener_parse("{\"a\": [1, 2], \"b\": {\"c\": null}}");
	_cleanup_json_ json_object *back = NULL;
	char path[160], tmp[170];
	struct stat st;

	snprintf(path, sizeof(path), "%s/state.json", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	ASSERT_OK(state_file_write(path, o));
	ASSERT_OK(state_file_read(path, &back));
	ASSERT_TRUE(json_object_equal(o, back));
	ASSERT_OK(stat(path, &st));
	ASSERT_EQ(st.st_mode & 07777, 0600);
	ASSERT_EQ(access(tmp, F_OK), -1);
	ASSERT_EQ(errno, ENOENT);

	ASSERT_OK(state_file_remove(path));
	ASSERT_ERRNO(state_file_read(path, &back), ENOENT);
	/* Removing what is not there is not an error. */
	ASSERT_OK(state_file_remove(path));

	/* A directory that does not exist: an error, and no temporary file left anywhere. */
	snprintf(path, sizeof(path), "%s/nodir/state.json", dir);
	ASSERT_ERRNO(state_file_write(path, o), ENOENT);
}

TEST(state_file_damaged)
{
	static const char full[] = "{\"reservations\": {\"vf0\": \"vm1\", \"vf1\": null}}\n";
	static const char *const bad[] = { "", "\n", "garbage", "[1, 2]", "\"text\"", "null",
					   "{\"a\": tru}", "{\"a\": \"\xff\"" };
	json_object *o = NULL;
	char path[160];
	_cleanup_free_ char *big = malloc(STATE_FILE_MAX + 1);

	snprintf(path, sizeof(path), "%s/damaged.json", dir);
	/* Every truncation of a valid file is refused: a torn write must never look valid. */
	for (size_t len = 0; len < strlen(full) - 1; len++) {
		write_text(path, full, len);
		ASSERT_ERRNO(state_file_read(path, &o), EBADMSG);
		ASSERT_TRUE(o == NULL);
	}
	write_text(path, full, strlen(full));
	ASSERT_OK(state_file_read(path, &o));
	json_object_put(o);
	o = NULL;

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		write_text(path, bad[i], strlen(bad[i]));
		ASSERT_ERRNO(state_file_read(path, &o), EBADMSG);
		ASSERT_TRUE(o == NULL);
	}

	ASSERT_TRUE(big != NULL);
	memset(big, ' ', STATE_FILE_MAX + 1);
	big[0] = '{';
	big[STATE_FILE_MAX - 1] = '}';
	write_text(path, big, STATE_FILE_MAX);
	ASSERT_OK(state_file_read(path, &o));
	json_object_put(o);
	o = NULL;
	write_text(path, big, STATE_FILE_MAX + 1);
	ASSERT_ERRNO(state_file_read(path, &o), EFBIG);
	ASSERT_TRUE(o == NULL);
	ASSERT_OK(unlink(path));
}

TEST(state_dir_create_nested)
{
	char path[160], file[192];
	struct stat st;

	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	ASSERT_OK(state_dir_create(path));
	ASSERT_OK(stat(path, &st));
	ASSERT_TRUE(S_ISDIR(st.st_mode));
	ASSERT_EQ(st.st_mode & 07777, 0700);
	/* Again: it exists, fine. A trailing slash is fine too. */
	ASSERT_OK(state_dir_create(path));
	snprintf(file, sizeof(file), "%s/", path);
	ASSERT_OK(state_dir_create(file));

	/* A regular file in the way. */
	snprintf(file, sizeof(file), "%s/f", path);
	write_text(file, "x", 1);
	snprintf(path, sizeof(path), "%s/a/b/c/f/d", dir);
	ASSERT_ERRNO(state_dir_create(path), ENOTDIR);
	ASSERT_OK(unlink(file));
	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	ASSERT_OK(rmdir(path));
	snprintf(path, sizeof(path), "%s/a/b", dir);
	ASSERT_OK(rmdir(path));
	snprintf(path, sizeof(path), "%s/a", dir);
	ASSERT_OK(rmdir(path));
}

TEST(state_dir_create_file_in_the_way)
{
	char file[160];

	/* The path itself is a regular file: that is no state directory. */
	snprintf(file, sizeof(file), "%s/plain", dir);
	write_text(file, "x", 1);
	ASSERT_ERRNO(state_dir_create(file), ENOTDIR);
	ASSERT_OK(unlink(file));
}

TEST(reservations_of_wrong_shape_refused)
{
	static const char *const bad[] = { "{\"reservations\": 5}", "{\"reservations\": [\"vf0\"]}",
					   "{\"reservations\": \"vf0\"}" };
	host_config c = config_with(three_vfs, 3);
	vf_pool *p = NULL;

	/* Forgetting reservations could hand a VF to two VMs: a file we cannot read stops us. */
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		write_text(pool_path, bad[i], strlen(bad[i]));
		ASSERT_ERRNO(pool_open(&c, &p), EBADMSG);
		ASSERT_TRUE(p == NULL);
	}
}

int main(void)
{
	ASSERT_TRUE(mkdtemp(dir) != NULL);
	snprintf(pool_path, sizeof(pool_path), "%s/vf-pool.json", dir);

	RUN_TEST(reserve_until_full);
	RUN_TEST(reservations_survive_reopen);
	RUN_TEST(claim_and_release_conflicts);
	RUN_TEST(vf_gone_from_config_dropped);
	RUN_TEST(no_vfs_at_all);
	RUN_TEST(save_fails_changes_nothing);
	RUN_TEST(damaged_pool_file_refused);
	RUN_TEST(state_file_roundtrip);
	RUN_TEST(state_file_damaged);
	RUN_TEST(state_dir_create_nested);
	RUN_TEST(state_dir_create_file_in_the_way);
	RUN_TEST(reservations_of_wrong_shape_refused);

	unlink(pool_path);
	ASSERT_OK(rmdir(dir));
	return 0;
}
