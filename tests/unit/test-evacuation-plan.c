// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * An evacuation's placement (daemon/evacuation_plan.h): passthrough devices, memory and
 * dedicated CPUs each counted against what is already planned on a peer, largest VMs first,
 * the peer with the most devices left preferred, every peer's reason for a VM that no peer
 * can take, and a VM of unknown memory size placed with that said.
 */
#include <stdio.h>

#include "daemon/evacuation_plan.h"
#include "test.h"

static const char *const peers[] = { "hostB", "hostC" };

static evac_offer yes(unsigned vfs, int64_t mem, int64_t cpus)
{
	return (evac_offer){ .ok = true, .capacity = { vfs, mem, cpus } };
}

static evac_offer no(const char *why)
{
	evac_offer o = { .ok = false };

	snprintf(o.why, sizeof(o.why), "%s", why);
	return o;
}

TEST(most_vfs_left_wins_and_planned_ones_count)
{
	/* Three equal VMs; hostB 2 VFs, hostC 1: B, C, B (B has more left each time but once). */
	evac_need needs[3] = { { 256, 0 }, { 256, 0 }, { 256, 0 } };
	evac_offer offers[6];
	ssize_t peer[3];
	char why[3][EVAC_WHY_MAX];

	for (int i = 0; i < 3; i++) {
		offers[i * 2] = yes(2, -1, -1);
		offers[i * 2 + 1] = yes(1, -1, -1);
	}
	ASSERT_OK(evacuation_plan(needs, 3, offers, peers, 2, peer, why));
	ASSERT_EQ(peer[0], 0);
	ASSERT_EQ(peer[1], 0); /* B has 1 left, C 1: the first of equals */
	ASSERT_EQ(peer[2], 1);
	ASSERT_STREQ(why[2], "");
}

TEST(no_vf_left_anywhere_names_each_peer)
{
	evac_need needs[2] = { { 256, 0 }, { 128, 0 } };
	evac_offer offers[4] = { yes(1, -1, -1), no("hostC has no free passthrough device (2 configured)"),
				 yes(1, -1, -1), no("hostC has no free passthrough device (2 configured)") };
	ssize_t peer[2];
	char why[2][EVAC_WHY_MAX];

	ASSERT_OK(evacuation_plan(needs, 2, offers, peers, 2, peer, why));
	ASSERT_EQ(peer[0], 0); /* the larger one first */
	ASSERT_EQ(peer[1], -1);
	ASSERT_STREQ(why[1], "no peer can take it: hostB: its 1 free passthrough device(s) are planned "
			     "for other VMs; hostC: hostC has no free passthrough device (2 configured)");
}

TEST(memory_and_dedicated_cpus_are_counted)
{
	/* hostB: 4 VFs but 1000 MiB and 2 dedicated CPUs; hostC: 1 VF, plenty. */
	evac_need needs[3] = { { 600, 2 }, { 600, 0 }, { 100, 1 } };
	evac_offer offers[6];
	ssize_t peer[3];
	char why[3][EVAC_WHY_MAX];

	for (int i = 0; i < 3; i++) {
		offers[i * 2] = yes(4, 1000, 2);
		offers[i * 2 + 1] = yes(1, 100000, 64);
	}
	ASSERT_OK(evacuation_plan(needs, 3, offers, peers, 2, peer, why));
	ASSERT_EQ(peer[0], 0); /* B: 600 MiB, both CPUs */
	ASSERT_EQ(peer[1], 1); /* B has 400 MiB left: C */
	ASSERT_EQ(peer[2], -1); /* B: memory fits, no CPU left; C: its one VF is planned */
	ASSERT_STREQ(why[2], "no peer can take it: hostB: 0 dedicated CPU(s) left, it needs 1; "
			     "hostC: its 1 free passthrough device(s) are planned for other VMs");
}

TEST(memory_short_says_how_much)
{
	evac_need needs[1] = { { 2048, 0 } };
	evac_offer offers[2] = { yes(2, 1024, -1), no("hostC runs a VM named 'vm1' already") };
	ssize_t peer[1];
	char why[1][EVAC_WHY_MAX];

	ASSERT_OK(evacuation_plan(needs, 1, offers, peers, 2, peer, why));
	ASSERT_EQ(peer[0], -1);
	ASSERT_STREQ(why[0], "no peer can take it: hostB: 1024 MiB of memory left, it needs 2048 MiB; "
			     "hostC: hostC runs a VM named 'vm1' already");
}

TEST(unknown_memory_is_said_not_taken_for_none)
{
	/* vm0 takes all of hostB's memory; vm1's size is unknown (a libvirt domain's XML that did
	 * not say it): placed by its VF, and the plan says its memory was not checked. */
	evac_need needs[2] = { { 1000, 0 }, { 0, 0 } };
	evac_offer offers[4] = { yes(2, 1000, -1), no("hostC is down"), yes(2, 1000, -1),
				 no("hostC is down") };
	ssize_t peer[2];
	char why[2][EVAC_WHY_MAX];

	ASSERT_OK(evacuation_plan(needs, 2, offers, peers, 2, peer, why));
	ASSERT_EQ(peer[0], 0);
	ASSERT_STREQ(why[0], "");
	ASSERT_EQ(peer[1], 0);
	ASSERT_STREQ(why[1], "its memory size is unknown: placed by passthrough devices and CPUs, "
			     "not checked against hostB's memory");
}

int main(void)
{
	RUN_TEST(most_vfs_left_wins_and_planned_ones_count);
	RUN_TEST(no_vf_left_anywhere_names_each_peer);
	RUN_TEST(memory_and_dedicated_cpus_are_counted);
	RUN_TEST(memory_short_says_how_much);
	RUN_TEST(unknown_memory_is_said_not_taken_for_none);
	return 0;
}
