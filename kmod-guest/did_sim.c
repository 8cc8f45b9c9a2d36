// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The sim backend, in the spirit of netdevsim: no host, every feature
 * supported, and the same state machine and counters as the kvm backend, so
 * labs and drills on machines without DID hosts exercise the real driver.
 * Every status says it is simulated. Failures are injected through the
 * sim_fail attribute (did_sysfs.c): the next sim_fail requests fail with
 * -EIO, as a host refusing would make them.
 */
#include <linux/errno.h>

#include "did_core.h"

static int did_sim_probe(struct did_dev *dd)
{
	dd->supported = DID_F_ALL;
	dd->host_version = 0;
	return 0;
}

static int did_sim_inject(struct did_dev *dd)
{
	lockdep_assert_held(&dd->lock);
	if (!dd->sim_fail)
		return 0;
	dd->sim_fail--;
	return -EIO;
}

static int did_sim_enable(struct did_dev *dd, u32 features)
{
	return did_sim_inject(dd);
}

static int did_sim_disable(struct did_dev *dd)
{
	return did_sim_inject(dd);
}

const struct did_backend_ops did_sim_ops = {
	.name = "sim",
	.id = DID_BACKEND_SIM,
	.probe = did_sim_probe,
	.enable = did_sim_enable,
	.disable = did_sim_disable,
};
