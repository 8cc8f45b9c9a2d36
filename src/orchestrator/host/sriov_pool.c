// SPDX-License-Identifier: GPL-2.0-or-later
#include "host/sriov_pool.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/iommu_group.h"
#include "host/vfio_bind.h"
#include "log.h"

#define WHY_SIZE 512

static void sriov_vf_set_problem(sriov_vf *vf, const char *fmt, ...) _printf_(2, 3);
static void sriov_vf_set_problem(sriov_vf *vf, const char *fmt, ...)
{
	va_list ap;

	free(vf->problem);
	va_start(ap, fmt);
	if (vasprintf(&vf->problem, fmt, ap) < 0)
		vf->problem = strdup("unusable");
	va_end(ap);
}

sriov_pool *sriov_pool_free(sriov_pool *p)
{
	if (!p)
		return NULL;
	for (size_t i = 0; i < p->n; i++)
		free(p->vfs[i].problem);
	free(p->vfs);
	free(p);
	return NULL;
}

size_t sriov_pool_count_usable(const sriov_pool *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		n += !p->vfs[i].problem;
	return n;
}

/* Is any existing VF in use? Then the count cannot change: the kernel goes through zero. */
static bool sriov_pool_any_in_use(const sysfs *fs, const sriov_pf *pf, sriov_in_use_fn in_use,
				  void *userdata, char *why, size_t why_size)
{
	for (unsigned i = 0; i < pf->num_vfs; i++) {
		char bdf[PCI_ADDRESS_LEN + 1];

		if (sriov_pf_vf_address(fs, pf, i, bdf) < 0)
			continue;
		if (in_use && in_use(bdf, userdata)) {
			snprintf(why, why_size, "%s is held by a VM", bdf);
			return true;
		}
		if (pci_device_in_use(fs, bdf, why, why_size))
			return true;
	}
	return false;
}

/* Create VFs up to want when that takes none from its user; else say why in *ret_why. */
static int sriov_pool_grow(const sysfs *fs, sriov_pf *pf, unsigned want, sriov_in_use_fn in_use,
			   void *userdata, char **ret_why)
{
	char why[WHY_SIZE];
	int r;

	if (pf->num_vfs >= want)
		return 0;
	if (pf->num_vfs > 0) {
		if (sriov_pool_any_in_use(fs, pf, in_use, userdata, why, sizeof(why))) {
			if (asprintf(ret_why,
				     "not created: %s has %lu VFs, and adding VFs means removing them "
				     "all first, but %s",
				     pf->ifname[0] ? pf->ifname : pf->bdf, pf->num_vfs, why) < 0)
				*ret_why = NULL;
			return -EBUSY;
		}
		log_info("Removing the %lu unused VFs of %s to make %u", pf->num_vfs, pf->bdf, want);
		r = sriov_pf_set_num_vfs(fs, pf, 0);
		if (r < 0)
			goto fail;
	}
	log_info("Creating %u VFs on %s (%s)", want, pf->ifname[0] ? pf->ifname : "-", pf->bdf);
	r = sriov_pf_set_num_vfs(fs, pf, want);
	if (r >= 0)
		return 0;
fail:
	if (asprintf(ret_why, "not created: writing sriov_numvfs of %s failed: %s", pf->bdf,
		     strerror(-r)) < 0)
		*ret_why = NULL;
	return r;
}

static void sriov_pool_ready_vf(const sysfs *fs, const sriov_pf *pf, sriov_vf *vf)
{
	char why[WHY_SIZE];
	int r;

	r = sriov_pf_vf_address(fs, pf, vf->index, vf->bdf);
	if (r < 0) {
		vf->bdf[0] = '\0';
		sriov_vf_set_problem(vf, "VF %u of %s does not exist (sriov_numvfs is %lu)", vf->index,
				     pf->bdf, pf->num_vfs);
		return;
	}
	r = vfio_bind(fs, vf->bdf, why, sizeof(why));
	if (r < 0) {
		sriov_vf_set_problem(vf, "%s", why);
		return;
	}
	r = iommu_group_check(fs, vf->bdf, &vf->iommu_group, why, sizeof(why));
	if (r < 0)
		sriov_vf_set_problem(vf, "%s", why);
}

int sriov_pool_setup(const sysfs *fs, const char *pf_name, unsigned want, sriov_in_use_fn in_use,
		     void *userdata, sriov_pool **ret, char **ret_error)
{
	_cleanup_free_ char *not_created = NULL;
	char why[WHY_SIZE];
	sriov_pool *p;
	int r;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	r = sriov_pf_find(fs, pf_name, &p->pf, why, sizeof(why));
	if (r >= 0 && want > p->pf.total_vfs) {
		snprintf(why, sizeof(why),
			 "%u VFs asked of PF '%s', but it supports at most %lu (sriov_totalvfs)", want,
			 pf_name, p->pf.total_vfs);
		r = -ERANGE;
	}
	if (r >= 0 && want == 0) {
		snprintf(why, sizeof(why), "0 VFs asked of PF '%s'", pf_name);
		r = -EINVAL;
	}
	if (r < 0) {
		sriov_pool_free(p);
		*ret_error = strdup(why);
		return r;
	}
	p->vfs = calloc(want, sizeof(sriov_vf));
	if (!p->vfs) {
		sriov_pool_free(p);
		return -ENOMEM;
	}
	p->n = want;
	sriov_pool_grow(fs, &p->pf, want, in_use, userdata, &not_created);
	for (unsigned i = 0; i < want; i++) {
		sriov_vf *vf = &p->vfs[i];

		vf->index = i;
		if (i >= p->pf.num_vfs && not_created) {
			sriov_vf_set_problem(vf, "%s", not_created);
			continue;
		}
		sriov_pool_ready_vf(fs, &p->pf, vf);
	}
	for (size_t i = 0; i < p->n; i++)
		if (p->vfs[i].problem)
			log_warning("VF %zu of %s%s%s left out of the pool: %s", i, pf_name,
				    p->vfs[i].bdf[0] ? " at " : "", p->vfs[i].bdf, p->vfs[i].problem);
	*ret = p;
	return 0;
}
