// SPDX-License-Identifier: GPL-2.0-or-later
/* A libvirt job's statistics as query-migrate's figures (virt_job_stats.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "libvirt/virt_job_stats.h"

static const char *status_of(int type)
{
	switch (type) {
	case VIR_DOMAIN_JOB_BOUNDED:
	case VIR_DOMAIN_JOB_UNBOUNDED:
		return "active";
	case VIR_DOMAIN_JOB_COMPLETED:
		return "completed";
	case VIR_DOMAIN_JOB_FAILED:
		return "failed";
	case VIR_DOMAIN_JOB_CANCELLED:
		return "cancelled";
	default:
		return "none";
	}
}

/* Copy a figure that libvirt gave as an unsigned integer, when it is there. */
static void copy_ull(const virTypedParameter *params, int n, const char *from, json_object *to,
		     const char *key)
{
	unsigned long long v;

	if (virTypedParamsGetULLong((virTypedParameterPtr)params, n, from, &v) == 1)
		json_object_object_add(to, key, json_object_new_uint64(v));
}

json_object *virt_job_stats_to_json(int type, const virTypedParameter *params, int n)
{
	json_object *o = json_object_new_object(), *ram = json_object_new_object();
	const char *errmsg = NULL;
	unsigned long long bps;

	if (!o || !ram) {
		json_object_put(o);
		json_object_put(ram);
		return NULL;
	}
	json_object_object_add(o, "status", json_object_new_string(status_of(type)));
	if (type == VIR_DOMAIN_JOB_FAILED &&
	    virTypedParamsGetString((virTypedParameterPtr)params, n, VIR_DOMAIN_JOB_ERRMSG,
				    &errmsg) == 1 && errmsg) {
		/* libvirt relays QEMU's text: one line, no control characters. */
		char *clean = strdup(errmsg);

		for (char *p = clean; p && *p; p++)
			if (iscntrl((unsigned char)*p))
				*p = ' ';
		if (clean)
			json_object_object_add(o, "error-desc", json_object_new_string(clean));
		free(clean);
	}
	copy_ull(params, n, VIR_DOMAIN_JOB_TIME_ELAPSED, o, "total-time");
	copy_ull(params, n, VIR_DOMAIN_JOB_SETUP_TIME, o, "setup-time");
	/* While the copy runs, libvirt's downtime is the expected one; once done, the real one. */
	copy_ull(params, n, VIR_DOMAIN_JOB_DOWNTIME, o,
		 type == VIR_DOMAIN_JOB_COMPLETED ? "downtime" : "expected-downtime");
	copy_ull(params, n, VIR_DOMAIN_JOB_MEMORY_PROCESSED, ram, "transferred");
	copy_ull(params, n, VIR_DOMAIN_JOB_MEMORY_REMAINING, ram, "remaining");
	copy_ull(params, n, VIR_DOMAIN_JOB_MEMORY_TOTAL, ram, "total");
	copy_ull(params, n, VIR_DOMAIN_JOB_MEMORY_DIRTY_RATE, ram, "dirty-pages-rate");
	copy_ull(params, n, VIR_DOMAIN_JOB_MEMORY_ITERATION, ram, "dirty-sync-count");
	/* QEMU says Mbit/s as a float; libvirt bytes per second. */
	if (virTypedParamsGetULLong((virTypedParameterPtr)params, n, VIR_DOMAIN_JOB_MEMORY_BPS,
				    &bps) == 1)
		json_object_object_add(ram, "mbps", json_object_new_double((double)bps * 8 / 1e6));
	json_object_object_add(o, "ram", ram);
	return o;
}
