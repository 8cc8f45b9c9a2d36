// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The pool from a PF on fixture sysfs trees (host_fixture.h plays the kernel): VFs created and
 * bound to vfio-pci, nothing taken from a user, IOMMU groups checked, a second run (a daemon
 * restart) changing nothing, bad input refused with nothing written; and the same through
 * vf_pool with reservations, problems for `dmigrate status` and reconciliation.
 */
#include "host/sriov_pool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/state_file.h"
#include "host/iommu_group.h"
#include "host/vf_pool.h"
#include "host/vfio_bind.h"
#include "host_fixture.h"
#include "test.h"

#define PF "0000:07:00.1"

static const char *driver_of(host_fixture *fx, const char *bdf)
{
	static char driver[64];

	if (sysfs_link_name(&fx->fs, driver, sizeof(driver), "sys/bus/pci/devices/%s/driver", bdf) <
	    0)
		return "(none)";
	return driver;
}

TEST(creates_and_binds_vfs)
{
	host_fixture fx;
	sriov_pool *p = NULL;
	char *error = NULL;

	fx_init(&fx);
	fx_pf(&fx, PF, "enp7s0f1", 7);
	ASSERT_OK(sriov_pool_setup(&fx.fs, "enp7s0f1", 4, NULL, NULL, &p, &error));
	ASSERT_EQ(p->n, 4);
	ASSERT_EQ(sriov_pool_count_usable(p), 4);
	ASSERT_STREQ(p->pf.bdf, PF);
	ASSERT_STREQ(p->pf.model, "8086:10c9");
	ASSERT_EQ(p->pf.ifindex, 4);
	ASSERT_EQ(p->pf.num_vfs, 4);
	/* Autoprobing off while the VFs are made, so that igbvf never grabs them; put back after. */
	ASSERT_TRUE(fx_find_write(&fx, "sriov_drivers_autoprobe=0") >= 0);
	ASSERT_TRUE(fx_find_write(&fx, "sriov_drivers_autoprobe=0") <
		    fx_find_write(&fx, "sriov_numvfs=4"));
	ASSERT_TRUE(fx_find_write(&fx, "sriov_numvfs=4") <
		    fx_find_write(&fx, "sriov_drivers_autoprobe=1"));
	ASSERT_STREQ(fx_read(&fx, "sys/bus/pci/devices/" PF "/sriov_drivers_autoprobe"), "1");
	for (unsigned i = 0; i < 4; i++) {
		char override[128], probe[64];

		ASSERT_STREQ(p->vfs[i].bdf, fx_vf_address(i));
		ASSERT_TRUE(p->vfs[i].problem == NULL);
		ASSERT_EQ(p->vfs[i].iommu_group, 100 + i);
		ASSERT_STREQ(driver_of(&fx, fx_vf_address(i)), "vfio-pci");
		/* driver_override is set before the probe, never after. */
		snprintf(override, sizeof(override), "%s/driver_override=vfio-pci", fx_vf_address(i));
		snprintf(probe, sizeof(probe), "drivers_probe=%s", fx_vf_address(i));
		ASSERT_TRUE(fx_find_write(&fx, override) >= 0);
		ASSERT_TRUE(fx_find_write(&fx, override) < fx_find_write(&fx, probe));
	}
	sriov_pool_free(p);

	/* A restart: everything is in place, nothing is written. */
	fx_forget_writes(&fx);
	ASSERT_OK(sriov_pool_setup(&fx.fs, PF, 4, NULL, NULL, &p, &error));
	ASSERT_EQ(sriov_pool_count_usable(p), 4);
	ASSERT_EQ(fx.n_writes, 0);
	sriov_pool_free(p);
	fx_cleanup(&fx);
}

TEST(takes_vfs_from_a_host_driver_only_when_unused)
{
	host_fixture fx;
	sriov_pool *p = NULL;
	char *error = NULL, probe[64];

	fx_init(&fx);
	fx_pf(&fx, PF, "enp7s0f1", 7);
	/* Made before dmigrated ran, with autoprobing on: igbvf holds them, vf1's link is up. */
	fx_file(&fx, "sys/bus/pci/devices/" PF "/sriov_numvfs", "3");
	fx_make_vfs(&fx, PF, 3);
	fx_netdev(&fx, fx_vf_address(1), "vf1", 11, 0x1003);
	fx_forget_writes(&fx);

	ASSERT_OK(sriov_pool_setup(&fx.fs, "enp7s0f1", 3, NULL, NULL, &p, &error));
	ASSERT_EQ(sriov_pool_count_usable(p), 2);
	ASSERT_STREQ(driver_of(&fx, fx_vf_address(0)), "vfio-pci");
	ASSERT_STREQ(driver_of(&fx, fx_vf_address(2)), "vfio-pci");
	/* vf0 was unbound from igbvf, then probed. */
	ASSERT_TRUE(fx_find_write(&fx, "0000:07:10.0/driver/unbind=0000:07:10.0") >= 0);
	snprintf(probe, sizeof(probe), "drivers_probe=%s", fx_vf_address(0));
	ASSERT_TRUE(fx_find_write(&fx, "0000:07:10.0/driver/unbind") < fx_find_write(&fx, probe));
	/* vf1 is the host's: left alone, with the reason. */
	ASSERT_STREQ(driver_of(&fx, fx_vf_address(1)), "igbvf");
	ASSERT_TRUE(p->vfs[1].problem && strstr(p->vfs[1].problem, "vf1 is up"));
	ASSERT_TRUE(fx_find_write(&fx, "0000:07:10.1/") < 0);
	sriov_pool_free(p);
	fx_cleanup(&fx);
}

TEST(growing_through_zero_refused_while_a_vf_is_used)
{
	host_fixture fx;
	sriov_pool *p = NULL;
	char *error = NULL;

	fx_init(&fx);
	fx_pf(&fx, PF, "enp7s0f1", 7);
	fx_file(&fx, "sys/bus/pci/devices/" PF "/sriov_numvfs", "2");
	fx_make_vfs(&fx, PF, 2);
	fx_netdev(&fx, fx_vf_address(0), "vf0", 10, 0x1003); /* the host uses vf0 */
	fx_forget_writes(&fx);

	ASSERT_OK(sriov_pool_setup(&fx.fs, PF, 4, NULL, NULL, &p, &error));
	ASSERT_EQ(fx_find_write(&fx, "sriov_numvfs"), -1);
	ASSERT_EQ(sriov_pool_count_usable(p), 1); /* vf1 */
	ASSERT_TRUE(p->vfs[0].problem && strstr(p->vfs[0].problem, "is up"));
	ASSERT_TRUE(p->vfs[2].problem && strstr(p->vfs[2].problem, "not created"));
	ASSERT_TRUE(strstr(p->vfs[3].problem, "has 2 VFs"));
	sriov_pool_free(p);

	/* Once the host lets go of vf0 the count goes through zero to 4. */
	fx_netdev(&fx, fx_vf_address(0), "vf0", 10, 0x1002);
	fx_forget_writes(&fx);
	ASSERT_OK(sriov_pool_setup(&fx.fs, PF, 4, NULL, NULL, &p, &error));
	ASSERT_TRUE(fx_find_write(&fx, "sriov_numvfs=0") >= 0);
	ASSERT_TRUE(fx_find_write(&fx, "sriov_numvfs=0") < fx_find_write(&fx, "sriov_numvfs=4"));
	ASSERT_EQ(sriov_pool_count_usable(p), 4);
	sriov_pool_free(p);
	fx_cleanup(&fx);
}

static bool held_by_vm(const char *bdf, void *userdata)
{
	return !strcmp(bdf, userdata);
}

TEST(a_vf_a_vm_holds_or_has_open_is_in_use)
{
	host_fixture fx;
	sriov_pool *p = NULL;
	char *error = NULL, why[256];

	fx_init(&fx);
	fx.vf_driver = NULL;
	fx_pf(&fx, PF, "enp7s0f1", 7);
	ASSERT_OK(sriov_pool_setup(&fx.fs, PF, 2, NULL, NULL, &p, &error));
	sriov_pool_free(p);

	/* A reservation of ours: growing would remove it. */
	fx_forget_writes(&fx);
	ASSERT_OK(sriov_pool_setup(&fx.fs, PF, 3, held_by_vm, (void *)fx_vf_address(1), &p, &error));
	ASSERT_EQ(fx_find_write(&fx, "sriov_numvfs"), -1);
	ASSERT_TRUE(strstr(p->vfs[2].problem, "0000:07:10.1 is held by a VM"));
	sriov_pool_free(p);

	/* A QEMU with the group open (/proc/PID/fd): the same. */
	fx_link(&fx, "proc/4242/fd/17", "/dev/vfio/100");
	fx_link(&fx, "proc/4242/fd/0", "/dev/null");
	ASSERT_EQ(vfio_group_user(&fx.fs, 100), 4242);
	ASSERT_EQ(vfio_group_user(&fx.fs, 101), 0);
	ASSERT_TRUE(pci_device_in_use(&fx.fs, fx_vf_address(0), why, sizeof(why)));
	ASSERT_TRUE(strstr(why, "process 4242"));
	ASSERT_OK(sriov_pool_setup(&fx.fs, PF, 3, NULL, NULL, &p, &error));
	ASSERT_EQ(fx_find_write(&fx, "sriov_numvfs"), -1);
	ASSERT_EQ(sriov_pool_count_usable(p), 2);
	sriov_pool_free(p);
	fx_cleanup(&fx);
}

TEST(bad_iommu_group)
{
	host_fixture fx;
	sriov_pool *p = NULL;
	char *error = NULL, why[512];
	unsigned long group;

	fx_init(&fx);
	fx.vf_driver = NULL;
	fx.vf_first_group = 30; /* VF 0 in group 30, with a SATA controller and a bridge */
	fx_pci_device(&fx, "0000:00:1f.2", 0x010601, "ahci", 30);
	fx_pci_device(&fx, "0000:00:1c.0", 0x060400, "pcieport", 31);
	fx_pf(&fx, PF, "enp7s0f1", 7);
	ASSERT_OK(sriov_pool_setup(&fx.fs, PF, 2, NULL, NULL, &p, &error));
	ASSERT_EQ(sriov_pool_count_usable(p), 1);
	ASSERT_TRUE(p->vfs[0].problem);
	ASSERT_TRUE(strstr(p->vfs[0].problem, "IOMMU group 30 also holds 0000:00:1f.2, bound to ahci"));
	ASSERT_TRUE(p->vfs[1].problem == NULL);
	sriov_pool_free(p);

	/* A bridge, a vfio-pci device or a device without driver share a group harmlessly. */
	fx_pci_device(&fx, "0000:00:1c.0", 0x060400, "pcieport", 31);
	fx_link(&fx, "sys/kernel/iommu_groups/31/devices/0000:07:10.1", "x");
	ASSERT_OK(iommu_group_check(&fx.fs, "0000:00:1c.0", &group, why, sizeof(why)));
	fx_bind(&fx, "0000:00:1f.2", NULL);
	ASSERT_OK(iommu_group_check(&fx.fs, fx_vf_address(0), &group, why, sizeof(why)));
	ASSERT_EQ(group, 30);

	/* No group at all: the IOMMU is off. */
	fx_pci_device(&fx, "0000:00:02.0", 0x030000, NULL, 0);
	ASSERT_ERRNO(iommu_group_check(&fx.fs, "0000:00:02.0", &group, why, sizeof(why)), ENOENT);
	ASSERT_TRUE(strstr(why, "intel_iommu=on"));
	fx_cleanup(&fx);
}

TEST(vfio_pci_not_loaded)
{
	host_fixture fx;
	sriov_pool *p = NULL;
	char *error = NULL;

	fx_init(&fx);
	fx.vfio_loaded = false;
	fx_pf(&fx, PF, "enp7s0f1", 7);
	ASSERT_OK(sriov_pool_setup(&fx.fs, PF, 1, NULL, NULL, &p, &error));
	ASSERT_EQ(sriov_pool_count_usable(p), 0);
	ASSERT_TRUE(strstr(p->vfs[0].problem, "modprobe vfio-pci"));
	sriov_pool_free(p);
	fx_cleanup(&fx);
}

TEST(bad_input_changes_nothing)
{
	host_fixture fx;
	sriov_pool *p = NULL;
	char *error = NULL;

	fx_init(&fx);
	fx_pf(&fx, PF, "enp7s0f1", 7);
	fx_pci_device(&fx, "0000:03:00.0", 0x020000, "e1000e", 40);
	fx_netdev(&fx, "0000:03:00.0", "eno1", 2, 0x1003);

	ASSERT_ERRNO(sriov_pool_setup(&fx.fs, "enp9s0", 2, NULL, NULL, &p, &error), ENODEV);
	ASSERT_TRUE(strstr(error, "PF 'enp9s0' not found"));
	free(error);
	ASSERT_ERRNO(sriov_pool_setup(&fx.fs, "0000:09:00.0", 2, NULL, NULL, &p, &error), ENODEV);
	ASSERT_TRUE(strstr(error, "no PCI device 0000:09:00.0"));
	free(error);
	ASSERT_ERRNO(sriov_pool_setup(&fx.fs, "eno1", 2, NULL, NULL, &p, &error), EOPNOTSUPP);
	ASSERT_TRUE(strstr(error, "PF 'eno1' (0000:03:00.0) has no SR-IOV capability"));
	free(error);
	ASSERT_ERRNO(sriov_pool_setup(&fx.fs, "enp7s0f1", 8, NULL, NULL, &p, &error), ERANGE);
	ASSERT_TRUE(strstr(error, "8 VFs asked of PF 'enp7s0f1', but it supports at most 7"));
	free(error);
	ASSERT_EQ(fx.n_writes, 0);
	ASSERT_STREQ(fx_read(&fx, "sys/bus/pci/devices/" PF "/sriov_numvfs"), "0\n");
	fx_cleanup(&fx);
}

/* --- the same through vf_pool, as dmigrated uses it --- */

static bool alive_vm1(const char *owner, void *userdata)
{
	return !strcmp(owner, "vm1");
}

TEST(vf_pool_of_a_pf)
{
	host_fixture fx;
	char state[] = "/tmp/test-sriov-state.XXXXXX", path[128];
	host_config c = { 0 };
	vf_pool *pool = NULL;
	vf_pool_port port;
	const char *vf;
	char *error = NULL;
	json_object *j;

	fx_init(&fx);
	fx.vf_driver = NULL;
	fx.vf_first_group = 30;
	fx_pci_device(&fx, "0000:00:1f.2", 0x010601, "ahci", 30); /* VF 0's group is bad */
	fx_pf(&fx, PF, "enp7s0f1", 7);
	ASSERT_TRUE(mkdtemp(state));
	c.state_dir = state;
	c.passthrough = PASSTHROUGH_SRIOV;
	c.sriov = (sriov_config){ .pf = "enp7s0f1", .vfs = 3, .settings = { .spoofchk = true } };
	c.n_vfs = 3;

	ASSERT_OK(vf_pool_open(&c, &fx.fs, &pool, &error));
	ASSERT_EQ(vf_pool_count_free(pool), 2);
	j = vf_pool_to_json(pool);
	ASSERT_STREQ(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN),
		     "{\"0000:07:10.1\":null,\"0000:07:10.2\":null}");
	json_object_put(j);
	j = vf_pool_problems_to_json(pool);
	ASSERT_TRUE(json_object_object_get_ex(j, "0000:07:10.0", NULL));
	json_object_put(j);

	ASSERT_OK(vf_pool_reserve(pool, "vm1", &vf));
	ASSERT_STREQ(vf, "0000:07:10.1");
	ASSERT_OK(vf_pool_reserve(pool, "vm2", &vf));
	ASSERT_ERRNO(vf_pool_reserve(pool, "vm3", &vf), ENOSPC);
	ASSERT_OK(vf_pool_port_of(pool, "0000:07:10.2", &port));
	ASSERT_STREQ(port.pf_ifname, "enp7s0f1");
	ASSERT_EQ(port.pf_ifindex, 4);
	ASSERT_EQ(port.vf_index, 2);
	ASSERT_TRUE(port.settings->spoofchk);
	ASSERT_ERRNO(vf_pool_port_of(pool, "0000:07:10.7", &port), ENOENT);
	vf_pool_free(pool);

	/* Restart: the reservations hold; vm2 is gone, so its VF is freed. */
	fx_forget_writes(&fx);
	ASSERT_OK(vf_pool_open(&c, &fx.fs, &pool, &error));
	ASSERT_EQ(fx.n_writes, 0);
	ASSERT_EQ(vf_pool_count_free(pool), 0);
	ASSERT_EQ(vf_pool_reconcile(pool, alive_vm1, NULL), 1);
	ASSERT_STREQ(vf_pool_find(pool, "vm1"), "0000:07:10.1");
	ASSERT_TRUE(vf_pool_find(pool, "vm2") == NULL);
	ASSERT_EQ(vf_pool_count_free(pool), 1);
	vf_pool_free(pool);

	/* The PF lost its VFs behind our back (sriov_numvfs written 0 by hand): they come back
	 * at the same addresses, and vm1 keeps its reservation. */
	fx_make_vfs(&fx, PF, 0);
	fx_file(&fx, "sys/bus/pci/devices/" PF "/sriov_numvfs", "0");
	ASSERT_OK(vf_pool_open(&c, &fx.fs, &pool, &error));
	ASSERT_TRUE(fx_find_write(&fx, "sriov_numvfs=3") >= 0);
	ASSERT_STREQ(vf_pool_find(pool, "vm1"), "0000:07:10.1");
	vf_pool_free(pool);

	/* A VF that left the pool (fewer asked for) loses its reservation. */
	c.sriov.vfs = 1;
	c.n_vfs = 1;
	ASSERT_OK(vf_pool_open(&c, &fx.fs, &pool, &error));
	ASSERT_TRUE(vf_pool_find(pool, "vm1") == NULL);
	ASSERT_EQ(vf_pool_count_free(pool), 0); /* 07:10.0's group is bad */
	vf_pool_free(pool);

	/* Non-SR-IOV pools have no port to set. */
	snprintf(path, sizeof(path), "%s/vf-pool.json", state);
	unlink(path);
	c.passthrough = PASSTHROUGH_EMULATED;
	c.vfs = (char *[]){ "vf0" };
	c.n_vfs = 1;
	ASSERT_OK(vf_pool_open(&c, &fx.fs, &pool, &error));
	ASSERT_ERRNO(vf_pool_port_of(pool, "vf0", &port), EOPNOTSUPP);
	vf_pool_free(pool);
	unlink(path);
	rmdir(state);

	/* A bad PF refuses the pool, and says why. */
	c.passthrough = PASSTHROUGH_SRIOV;
	c.sriov.pf = "enp9s0";
	ASSERT_ERRNO(vf_pool_open(&c, &fx.fs, &pool, &error), ENODEV);
	ASSERT_TRUE(strstr(error, "enp9s0"));
	free(error);
	fx_cleanup(&fx);
}

int main(void)
{
	RUN_TEST(creates_and_binds_vfs);
	RUN_TEST(takes_vfs_from_a_host_driver_only_when_unused);
	RUN_TEST(growing_through_zero_refused_while_a_vf_is_used);
	RUN_TEST(a_vf_a_vm_holds_or_has_open_is_in_use);
	RUN_TEST(bad_iommu_group);
	RUN_TEST(vfio_pci_not_loaded);
	RUN_TEST(bad_input_changes_nothing);
	RUN_TEST(vf_pool_of_a_pf);
	return 0;
}
