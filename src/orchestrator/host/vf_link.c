// SPDX-License-Identifier: GPL-2.0-or-later
#include "vf_link.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/sriov.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SYSFS_PCI "/sys/bus/pci/devices"

/* The last component of where a sysfs link points. */
static int link_target_name(const char *path, char *buf, size_t size)
{
	char target[PATH_MAX];
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	const char *slash;

	if (n < 0)
		return -errno;
	target[n] = '\0';
	slash = strrchr(target, '/');
	if (snprintf(buf, size, "%s", slash ? slash + 1 : target) >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}

/* The index N of the PF's virtfnN link that points at bdf. */
static int vf_index_of(const char *pf_dir, const char *bdf, unsigned *index)
{
	DIR *d = opendir(pf_dir);
	struct dirent *e;
	int r = -ENOENT;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char link[PATH_MAX], name[64], *end;
		unsigned long n;

		if (strncmp(e->d_name, "virtfn", 6))
			continue;
		n = strtoul(e->d_name + 6, &end, 10);
		if (*end || end == e->d_name + 6)
			continue;
		if (snprintf(link, sizeof(link), "%s/%s", pf_dir, e->d_name) >= (int)sizeof(link))
			continue;
		if (link_target_name(link, name, sizeof(name)) == 0 && !strcmp(name, bdf)) {
			*index = (unsigned)n;
			r = 0;
			break;
		}
	}
	closedir(d);
	return r;
}

int vf_link_locate(const char *bdf, char *pf, size_t pf_size, unsigned *index)
{
	char path[PATH_MAX], pf_bdf[64];
	struct dirent *e;
	DIR *d;
	int r;

	/* bdf came from the host config, checked as DDDD:BB:DD.F: no '/' can reach the path. */
	if (strchr(bdf, '/'))
		return -EINVAL;
	snprintf(path, sizeof(path), SYSFS_PCI "/%s/physfn", bdf);
	r = link_target_name(path, pf_bdf, sizeof(pf_bdf));
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), SYSFS_PCI "/%s", pf_bdf);
	r = vf_index_of(path, bdf, index);
	if (r < 0)
		return r;
	/* The PF's network interface: the one entry of its net/ directory. */
	snprintf(path, sizeof(path), SYSFS_PCI "/%s/net", pf_bdf);
	d = opendir(path);
	if (!d)
		return -ENOENT;
	r = -ENOENT;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			r = snprintf(pf, pf_size, "%s", e->d_name) >= (int)pf_size ? -ENAMETOOLONG : 0;
			break;
		}
	closedir(d);
	return r;
}

/* One IFLA_VF_* setting on the PF: set() fills in what changes. */
static int vf_link_change(const char *bdf, void (*set)(struct rtnl_link_vf *, const void *),
			  const void *arg)
{
	struct nl_sock *sock = NULL;
	struct rtnl_link *orig = NULL, *change = NULL;
	struct rtnl_link_vf *vf = NULL;
	char pf[IFNAMSIZ];
	unsigned index;
	int r;

	r = vf_link_locate(bdf, pf, sizeof(pf), &index);
	if (r < 0)
		return r;
	sock = nl_socket_alloc();
	change = rtnl_link_alloc();
	vf = rtnl_link_vf_alloc();
	if (!sock || !change || !vf) {
		r = -ENOMEM;
		goto out;
	}
	r = nl_connect(sock, NETLINK_ROUTE);
	if (r < 0) {
		r = -EIO;
		goto out;
	}
	r = rtnl_link_get_kernel(sock, 0, pf, &orig);
	if (r < 0) {
		r = -ENODEV;
		goto out;
	}
	rtnl_link_vf_set_index(vf, index);
	set(vf, arg);
	r = rtnl_link_vf_add(change, vf);
	if (r < 0) {
		r = -ENOMEM;
		goto out;
	}
	r = rtnl_link_change(sock, orig, change, 0);
	/* libnl's own error codes: the ones that say the driver cannot, and the rest. */
	if (r == -NLE_OPNOTSUPP)
		r = -EOPNOTSUPP;
	else if (r == -NLE_INVAL)
		r = -EINVAL;
	else if (r < 0)
		r = -EIO;
out:
	rtnl_link_vf_put(vf);
	rtnl_link_put(change);
	rtnl_link_put(orig);
	nl_socket_free(sock);
	return r;
}

static void set_addr(struct rtnl_link_vf *vf, const void *arg)
{
	rtnl_link_vf_set_addr(vf, (struct nl_addr *)arg);
}

int vf_link_set_mac(const char *bdf, const char *mac)
{
	struct nl_addr *addr = NULL;
	int r;

	if (nl_addr_parse(mac, AF_LLC, &addr) < 0 || nl_addr_get_len(addr) != 6) {
		nl_addr_put(addr);
		return -EINVAL;
	}
	r = vf_link_change(bdf, set_addr, addr);
	nl_addr_put(addr);
	return r;
}

static void set_state(struct rtnl_link_vf *vf, const void *arg)
{
	rtnl_link_vf_set_linkstate(vf, *(const uint32_t *)arg);
}

int vf_link_set_down(const char *bdf, bool down)
{
	uint32_t state = down ? IFLA_VF_LINK_STATE_DISABLE : IFLA_VF_LINK_STATE_AUTO;

	return vf_link_change(bdf, set_state, &state);
}
