// SPDX-License-Identifier: GPL-2.0-or-later
#define _XOPEN_SOURCE 700
#include "host_fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"

static char *fx_abs(host_fixture *fx, const char *path)
{
	char *p;

	ASSERT_TRUE(asprintf(&p, "%s/%s", fx->root, path) > 0);
	return p;
}

static void fx_mkdirs(const char *abs)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), "%s", abs);
	for (char *s = buf + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				TEST_FAIL("mkdir %s: %s", buf, strerror(errno));
			*s = '/';
		}
}

void fx_dir(host_fixture *fx, const char *path)
{
	char *abs = fx_abs(fx, path);

	fx_mkdirs(abs);
	if (mkdir(abs, 0755) < 0 && errno != EEXIST)
		TEST_FAIL("mkdir %s: %s", abs, strerror(errno));
	free(abs);
}

void fx_file(host_fixture *fx, const char *path, const char *content)
{
	char *abs = fx_abs(fx, path);
	int fd;

	fx_mkdirs(abs);
	fd = open(abs, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		TEST_FAIL("create %s: %s", abs, strerror(errno));
	ASSERT_EQ(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
	free(abs);
}

void fx_link(host_fixture *fx, const char *path, const char *target)
{
	char *abs = fx_abs(fx, path);

	fx_mkdirs(abs);
	unlink(abs);
	if (symlink(target, abs) < 0)
		TEST_FAIL("symlink %s: %s", abs, strerror(errno));
	free(abs);
}

static void fx_unlink(host_fixture *fx, const char *path)
{
	char *abs = fx_abs(fx, path);

	unlink(abs);
	free(abs);
}

const char *fx_read(host_fixture *fx, const char *path)
{
	static char buf[4096];
	char *abs = fx_abs(fx, path);
	FILE *f = fopen(abs, "re");
	size_t n;

	if (!f)
		TEST_FAIL("read %s: %s", abs, strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	free(abs);
	return buf;
}

static int fx_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

void fx_forget_writes(host_fixture *fx)
{
	for (unsigned i = 0; i < fx->n_writes; i++)
		free(fx->writes[i]);
	fx->n_writes = 0;
}

int fx_find_write(const host_fixture *fx, const char *needle)
{
	for (unsigned i = 0; i < fx->n_writes; i++)
		if (strstr(fx->writes[i], needle))
			return (int)i;
	return -1;
}

void fx_cleanup(host_fixture *fx)
{
	fx_forget_writes(fx);
	nftw(fx->root, fx_rm, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fx_vf_address(unsigned i)
{
	static char bdf[8][16];

	ASSERT_TRUE(i < 8);
	snprintf(bdf[i], sizeof(bdf[i]), "0000:07:10.%u", i);
	return bdf[i];
}

void fx_bind(host_fixture *fx, const char *bdf, const char *driver)
{
	char path[256], target[128];

	snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/driver", bdf);
	fx_unlink(fx, path);
	if (!driver)
		return;
	snprintf(target, sizeof(target), "../../drivers/%s", driver);
	fx_link(fx, path, target);
	snprintf(path, sizeof(path), "sys/bus/pci/drivers/%s/unbind", driver);
	fx_file(fx, path, "");
}

void fx_pci_device(host_fixture *fx, const char *bdf, unsigned long class, const char *driver,
		   unsigned group)
{
	char path[256], value[64];

	snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/class", bdf);
	snprintf(value, sizeof(value), "0x%06lx\n", class);
	fx_file(fx, path, value);
	snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/vendor", bdf);
	fx_file(fx, path, "0x8086\n");
	snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/device", bdf);
	fx_file(fx, path, "0x10ca\n");
	snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/driver_override", bdf);
	fx_file(fx, path, "(null)\n");
	fx_bind(fx, bdf, driver);
	if (group) {
		snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/iommu_group", bdf);
		snprintf(value, sizeof(value), "../../../../kernel/iommu_groups/%u", group);
		fx_link(fx, path, value);
		snprintf(path, sizeof(path), "sys/kernel/iommu_groups/%u/devices/%s", group, bdf);
		snprintf(value, sizeof(value), "../../../../bus/pci/devices/%s", bdf);
		fx_link(fx, path, value);
	}
}

void fx_netdev(host_fixture *fx, const char *bdf, const char *ifname, int ifindex, unsigned flags)
{
	char path[256], value[64];

	snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/net/%s", bdf, ifname);
	fx_dir(fx, path);
	snprintf(path, sizeof(path), "sys/class/net/%s/device", ifname);
	snprintf(value, sizeof(value), "../../../bus/pci/devices/%s", bdf);
	fx_link(fx, path, value);
	snprintf(path, sizeof(path), "sys/class/net/%s/ifindex", ifname);
	snprintf(value, sizeof(value), "%d\n", ifindex);
	fx_file(fx, path, value);
	snprintf(path, sizeof(path), "sys/class/net/%s/flags", ifname);
	snprintf(value, sizeof(value), "0x%x\n", flags);
	fx_file(fx, path, value);
}

void fx_pf(host_fixture *fx, const char *bdf, const char *ifname, unsigned total_vfs)
{
	char path[256], value[32];

	fx_pci_device(fx, bdf, 0x020000, "igb", 20);
	fx_netdev(fx, bdf, ifname, 4, 0x1003);
	snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/device", bdf);
	fx_file(fx, path, "0x10c9\n");
	if (!total_vfs)
		return;
	snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/sriov_totalvfs", bdf);
	snprintf(value, sizeof(value), "%u\n", total_vfs);
	fx_file(fx, path, value);
	snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/sriov_numvfs", bdf);
	fx_file(fx, path, "0\n");
	snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/sriov_drivers_autoprobe", bdf);
	fx_file(fx, path, "1\n");
	fx_file(fx, "sys/bus/pci/drivers_probe", "");
	fx_dir(fx, "sys/bus/pci/drivers/vfio-pci");
}

/* --- the fake kernel --- */

static void fx_remove_tree(host_fixture *fx, const char *path)
{
	char *abs = fx_abs(fx, path);

	nftw(abs, fx_rm, 16, FTW_DEPTH | FTW_PHYS);
	free(abs);
}

void fx_make_vfs(host_fixture *fx, const char *pf, unsigned long n)
{
	char path[256], target[64], autoprobe[8];

	snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/sriov_drivers_autoprobe", pf);
	snprintf(autoprobe, sizeof(autoprobe), "%s", fx_read(fx, path));
	for (unsigned i = 0; i < 8; i++) {
		char *abs;
		bool exists;

		snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/virtfn%u", pf, i);
		abs = fx_abs(fx, path);
		exists = readlink(abs, target, sizeof(target)) >= 0;
		free(abs);
		if (i >= n) {
			if (!exists)
				continue;
			fx_unlink(fx, path);
			snprintf(path, sizeof(path), "sys/bus/pci/devices/%s", fx_vf_address(i));
			fx_remove_tree(fx, path);
			snprintf(path, sizeof(path), "sys/kernel/iommu_groups/%u/devices/%s",
				 fx->vf_first_group + i, fx_vf_address(i));
			fx_unlink(fx, path);
			snprintf(path, sizeof(path), "sys/class/net/vf%u", i);
			fx_remove_tree(fx, path);
			continue;
		}
		if (exists)
			continue;
		snprintf(target, sizeof(target), "../%s", fx_vf_address(i));
		fx_link(fx, path, target);
		fx_pci_device(fx, fx_vf_address(i), 0x020000,
			      autoprobe[0] == '1' ? fx->vf_driver : NULL, fx->vf_first_group + i);
		if (autoprobe[0] == '1' && fx->vf_driver) {
			char ifname[16];

			snprintf(ifname, sizeof(ifname), "vf%u", i);
			fx_netdev(fx, fx_vf_address(i), ifname, 10 + (int)i, 0x1002);
		}
	}
}

static bool fx_ends_with(const char *s, const char *suffix)
{
	return strlen(s) >= strlen(suffix) && !strcmp(s + strlen(s) - strlen(suffix), suffix);
}

static int fx_on_write(const sysfs *fs, const char *path, const char *value, void *userdata)
{
	host_fixture *fx = userdata;
	char bdf[16], override[32], p[256];
	unsigned long n;

	ASSERT_TRUE(fx->n_writes < FX_MAX_WRITES);
	ASSERT_TRUE(asprintf(&fx->writes[fx->n_writes++], "%s=%s", path, value) > 0);

	if (sscanf(path, "sys/bus/pci/devices/%12[0-9a-f:.]/", bdf) == 1 &&
	    fx_ends_with(path, "/sriov_numvfs")) {
		n = strtoul(value, NULL, 10);
		fx_make_vfs(fx, bdf, n);
		return 0;
	}
	if (sscanf(path, "sys/bus/pci/devices/%12[0-9a-f:.]/", bdf) == 1 &&
	    fx_ends_with(path, "/driver/unbind")) {
		ASSERT_STREQ(bdf, value);
		fx_bind(fx, bdf, NULL);
		return 0;
	}
	if (!strcmp(path, "sys/bus/pci/drivers_probe")) {
		snprintf(p, sizeof(p), "sys/bus/pci/devices/%s/driver_override", value);
		snprintf(override, sizeof(override), "%s", fx_read(fx, p));
		if (fx->vfio_loaded && !strcmp(override, "vfio-pci"))
			fx_bind(fx, value, "vfio-pci");
	}
	return 0;
}

void fx_init(host_fixture *fx)
{
	memset(fx, 0, sizeof(*fx));
	snprintf(fx->root, sizeof(fx->root), "/tmp/test-host.XXXXXX");
	ASSERT_TRUE(mkdtemp(fx->root) != NULL);
	fx->fs = (sysfs){ .root = fx->root, .on_write = fx_on_write, .userdata = fx };
	fx->vfio_loaded = true;
	fx->vf_driver = "igbvf";
	fx->vf_first_group = 100;
}
