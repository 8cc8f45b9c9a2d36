// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The host-wide migration bandwidth cap shared between concurrent copies: equal shares, own
 * limits below the share kept and their rest redistributed, the sum never over the cap, and
 * QEMU told about every change (the recorder stands in for migrate-set-parameters).
 */
#include <stdio.h>

#include "migration/bandwidth_share.h"
#include "test.h"

typedef struct recorder {
	char log[1024];
	unsigned calls;
} recorder;

static void record(const char *vm, uint64_t mibps, void *userdata)
{
	recorder *r = userdata;
	size_t len = strlen(r->log);

	snprintf(r->log + len, sizeof(r->log) - len, "%s%s=%llu", len ? " " : "", vm,
		 (unsigned long long)mibps);
	r->calls++;
}

static void forget(recorder *r)
{
	r->log[0] = '\0';
	r->calls = 0;
}

static uint64_t sum(const bandwidth_share *s, const char *const *vms, unsigned n)
{
	uint64_t t = 0;

	for (unsigned i = 0; i < n; i++)
		t += bandwidth_share_of(s, vms[i]);
	return t;
}

TEST(equal_shares_follow_joins_and_leaves)
{
	recorder r = { 0 };
	bandwidth_share *s = bandwidth_share_new(100, record, &r);
	const char *const vms[] = { "vm1", "vm2", "vm3" };

	ASSERT_TRUE(s != NULL);
	ASSERT_EQ(bandwidth_share_join(s, "vm1", 0), 100);
	ASSERT_EQ(r.calls, 0); /* the joiner sets its own share with its migrate-set-parameters */
	ASSERT_EQ(bandwidth_share_join(s, "vm2", 0), 50);
	ASSERT_STREQ(r.log, "vm1=50");
	forget(&r);
	ASSERT_EQ(bandwidth_share_join(s, "vm3", 0), 33);
	ASSERT_STREQ(r.log, "vm1=33 vm2=33");
	ASSERT_TRUE(sum(s, vms, 3) <= 100);
	ASSERT_EQ(bandwidth_share_count(s), 3);
	forget(&r);
	bandwidth_share_leave(s, "vm2");
	ASSERT_EQ(bandwidth_share_of(s, "vm1"), 50);
	ASSERT_EQ(bandwidth_share_of(s, "vm3"), 50);
	ASSERT_EQ(bandwidth_share_of(s, "vm2"), 0);
	ASSERT_EQ(r.calls, 2);
	forget(&r);
	bandwidth_share_leave(s, "vm2"); /* twice: nothing */
	ASSERT_EQ(r.calls, 0);
	bandwidth_share_leave(s, "vm1");
	ASSERT_STREQ(r.log, "vm3=100");
	bandwidth_share_leave(s, "vm3");
	ASSERT_EQ(bandwidth_share_count(s), 0);
	bandwidth_share_free(s);
}

TEST(own_limit_below_the_share_leaves_the_rest_to_others)
{
	recorder r = { 0 };
	bandwidth_share *s = bandwidth_share_new(90, record, &r);
	const char *const vms[] = { "slow", "a", "b" };

	ASSERT_EQ(bandwidth_share_join(s, "slow", 10), 10);
	ASSERT_EQ(bandwidth_share_join(s, "a", 0), 80);
	ASSERT_EQ(bandwidth_share_of(s, "slow"), 10);
	ASSERT_EQ(bandwidth_share_join(s, "b", 0), 40);
	ASSERT_EQ(bandwidth_share_of(s, "a"), 40);
	ASSERT_EQ(sum(s, vms, 3), 90);
	/* An own limit above the equal share is cut to the share. */
	forget(&r);
	ASSERT_EQ(bandwidth_share_join(s, "b", 1000), 40);
	ASSERT_EQ(r.calls, 0);
	/* A chain: the one fixed below the share raises the share, which fixes no other. */
	bandwidth_share_leave(s, "a");
	ASSERT_EQ(bandwidth_share_of(s, "b"), 80);
	bandwidth_share_free(s);
}

TEST(shares_never_add_up_past_the_cap)
{
	recorder r = { 0 };
	char names[16][8];
	const char *vms[16];

	for (uint64_t cap = 1; cap <= 257; cap += 17) {
		bandwidth_share *s = bandwidth_share_new(cap, record, &r);

		for (unsigned i = 0; i < 16; i++) {
			snprintf(names[i], sizeof(names[i]), "vm%u", i);
			vms[i] = names[i];
			bandwidth_share_join(s, vms[i], i % 3 ? 0 : i + 1);
			/* A share of at least 1 MiB/s each (QEMU reads 0 as its default): only a cap
			 * below the number of copies is overrun. */
			if (cap >= i + 1)
				ASSERT_TRUE(sum(s, vms, i + 1) <= cap);
			for (unsigned k = 0; k <= i; k++)
				ASSERT_TRUE(bandwidth_share_of(s, vms[k]) >= 1);
		}
		bandwidth_share_free(s);
	}
}

TEST(no_cap_keeps_each_jobs_own_setting)
{
	recorder r = { 0 };
	bandwidth_share *s = bandwidth_share_new(0, record, &r);

	ASSERT_EQ(bandwidth_share_join(s, "vm1", 0), 0);
	ASSERT_EQ(bandwidth_share_join(s, "vm2", 300), 300);
	bandwidth_share_leave(s, "vm1");
	ASSERT_EQ(bandwidth_share_of(s, "vm2"), 300);
	ASSERT_EQ(r.calls, 0);
	bandwidth_share_free(s);
}

int main(void)
{
	RUN_TEST(equal_shares_follow_joins_and_leaves);
	RUN_TEST(own_limit_below_the_share_leaves_the_rest_to_others);
	RUN_TEST(shares_never_add_up_past_the_cap);
	RUN_TEST(no_cap_keeps_each_jobs_own_setting);
	return 0;
}
