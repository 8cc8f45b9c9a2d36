// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --setup-bond's watch (agent_setup_activate) against the fake kernel: a bond just built, the
 * standby active because enslaving restarted the VF's link. The watch must make the VF active
 * once bonding accepts it, not before, never fight the host afterwards, and give up cleanly.
 * Creating the bond itself needs a kernel: tests/lab/test-agent-setup-bond.
 */
#include "agent-fake.h"
#include "agent_setup.h"
#include "test.h"

enum { BOND = 2, VF = 3, STANDBY = 4 };

static uv_loop_t loop;

/* The fake guest right after --setup-bond enslaved its NICs: the VF has no link yet. */
static void setup(void)
{
	fake_reset();
	fake_link("eth0")->carrier = false;
	fake_link("bond0")->active_slave = STANDBY;
	ASSERT_OK(uv_loop_init(&loop));
}

static void teardown(agent_setup *s)
{
	agent_setup_free(s);
	uv_run(&loop, UV_RUN_DEFAULT);
	ASSERT_OK(uv_loop_close(&loop));
}

TEST(vf_active_once_bonding_accepts_it)
{
	agent_setup *s = NULL;

	setup();
	ASSERT_OK(agent_setup_activate(&loop, &fake_net_ops, NULL, BOND, VF, 5000, &s));
	ASSERT_ERRNO(agent_setup_result(s), EINPROGRESS);
	ASSERT_EQ(fake_link("bond0")->active_slave, STANDBY);

	/* Carrier, but bonding's link monitor has not seen it yet: the kernel says EINVAL. */
	fake_link("eth0")->carrier = true;
	fake.fail_active_set = -EINVAL;
	agent_setup_links_changed(s);
	ASSERT_ERRNO(agent_setup_result(s), EINPROGRESS);
	ASSERT_EQ(fake_link("bond0")->active_slave, STANDBY);

	fake.fail_active_set = 0;
	agent_setup_links_changed(s);
	ASSERT_EQ(agent_setup_result(s), 0);
	ASSERT_EQ(fake_link("bond0")->active_slave, VF);

	/* Done: from now on the host decides, the watch does not switch back. */
	fake_link("bond0")->active_slave = STANDBY;
	agent_setup_links_changed(s);
	ASSERT_EQ(fake_link("bond0")->active_slave, STANDBY);
	ASSERT_EQ(agent_setup_result(s), 0);
	teardown(s);
}

TEST(vf_with_link_at_start)
{
	agent_setup *s = NULL;

	setup();
	fake_link("eth0")->carrier = true;
	ASSERT_OK(agent_setup_activate(&loop, &fake_net_ops, NULL, BOND, VF, 5000, &s));
	ASSERT_EQ(agent_setup_result(s), 0);
	ASSERT_EQ(fake_link("bond0")->active_slave, VF);
	teardown(s);
}

TEST(times_out_leaving_the_standby)
{
	agent_setup *s = NULL;

	setup();
	ASSERT_OK(agent_setup_activate(&loop, &fake_net_ops, NULL, BOND, VF, 30, &s));
	uv_run(&loop, UV_RUN_DEFAULT);
	ASSERT_ERRNO(agent_setup_result(s), ETIMEDOUT);
	ASSERT_EQ(fake_link("bond0")->active_slave, STANDBY);
	/* A late link changes nothing. */
	fake_link("eth0")->carrier = true;
	agent_setup_links_changed(s);
	ASSERT_EQ(fake_link("bond0")->active_slave, STANDBY);
	teardown(s);
}

TEST(the_last_look_at_the_deadline_counts)
{
	agent_setup *s = NULL;

	setup();
	ASSERT_OK(agent_setup_activate(&loop, &fake_net_ops, NULL, BOND, VF, 30, &s));
	/* The link came without a notification reaching the watch. */
	fake_link("eth0")->carrier = true;
	uv_run(&loop, UV_RUN_DEFAULT);
	ASSERT_EQ(agent_setup_result(s), 0);
	ASSERT_EQ(fake_link("bond0")->active_slave, VF);
	teardown(s);
}

TEST(vf_leaves_the_bond)
{
	agent_setup *s = NULL;

	setup();
	ASSERT_OK(agent_setup_activate(&loop, &fake_net_ops, NULL, BOND, VF, 5000, &s));
	fake_link("eth0")->master = 0;
	agent_setup_links_changed(s);
	ASSERT_ERRNO(agent_setup_result(s), ENODEV);
	teardown(s);

	setup();
	ASSERT_OK(agent_setup_activate(&loop, &fake_net_ops, NULL, BOND, VF, 5000, &s));
	fake_link_remove("eth0");
	agent_setup_links_changed(s);
	ASSERT_ERRNO(agent_setup_result(s), ENODEV);
	teardown(s);
}

TEST(other_errors_end_the_watch)
{
	agent_setup *s = NULL;

	setup();
	ASSERT_OK(agent_setup_activate(&loop, &fake_net_ops, NULL, BOND, VF, 5000, &s));
	fake_link("eth0")->carrier = true;
	fake.fail_active_set = -EPERM;
	agent_setup_links_changed(s);
	ASSERT_ERRNO(agent_setup_result(s), EPERM);
	/* The timer is stopped: the loop has nothing left to run. */
	ASSERT_EQ(uv_run(&loop, UV_RUN_NOWAIT), 0);
	teardown(s);
}

int main(void)
{
	/* The fake's server backend is for the request-loop tests; this one uses its links only. */
	(void)fake_backend;
	RUN_TEST(vf_active_once_bonding_accepts_it);
	RUN_TEST(vf_with_link_at_start);
	RUN_TEST(times_out_leaving_the_standby);
	RUN_TEST(the_last_look_at_the_deadline_counts);
	RUN_TEST(vf_leaves_the_bond);
	RUN_TEST(other_errors_end_the_watch);
	return 0;
}
