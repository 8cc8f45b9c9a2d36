// SPDX-License-Identifier: GPL-2.0-or-later
/* Placing an evacuation's VMs on its peers (evacuation_plan.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/evacuation_plan.h"
#include "macro.h"

static void appendf(char *buf, size_t size, const char *fmt, ...) _printf_(3, 4);
static void appendf(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len >= size - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

int evacuation_plan(const evac_need *needs, size_t n_vms, const evac_offer *offers,
		    const char *const *peers, size_t n_peers, ssize_t *ret_peer,
		    char (*why)[EVAC_WHY_MAX])
{
	_cleanup_free_ size_t *order = calloc(n_vms ? n_vms : 1, sizeof(size_t));
	/* What is planned on each peer so far. */
	_cleanup_free_ int64_t *vfs = calloc(n_peers ? n_peers : 1, sizeof(int64_t));
	_cleanup_free_ int64_t *mem = calloc(n_peers ? n_peers : 1, sizeof(int64_t));
	_cleanup_free_ int64_t *cpus = calloc(n_peers ? n_peers : 1, sizeof(int64_t));

	if (!order || !vfs || !mem || !cpus)
		return -ENOMEM;
	/* Largest first (a stable insertion sort: equal VMs keep their order). */
	for (size_t i = 0; i < n_vms; i++)
		order[i] = i;
	for (size_t i = 1; i < n_vms; i++)
		for (size_t k = i; k > 0 && needs[order[k]].memory_mib > needs[order[k - 1]].memory_mib; k--) {
			size_t t = order[k];

			order[k] = order[k - 1];
			order[k - 1] = t;
		}
	for (size_t o = 0; o < n_vms; o++) {
		size_t vm = order[o];
		const evac_need *m = &needs[vm];
		ssize_t best = -1;
		int64_t best_left = 0;

		snprintf(why[vm], EVAC_WHY_MAX, "no peer can take it:");
		for (size_t t = 0; t < n_peers; t++) {
			const evac_offer *p = &offers[vm * n_peers + t];
			int64_t left = p->ok ? (int64_t)p->capacity.free_vfs - vfs[t] : 0;

			if (!p->ok) {
				appendf(why[vm], EVAC_WHY_MAX, " %s: %s;", peers[t], p->why);
				continue;
			}
			if (left <= 0) {
				appendf(why[vm], EVAC_WHY_MAX,
					" %s: its %u free passthrough device(s) are planned for other VMs;",
					peers[t], p->capacity.free_vfs);
				continue;
			}
			if (m->memory_mib && p->capacity.memory_available_mib >= 0 &&
			    p->capacity.memory_available_mib - mem[t] < (int64_t)m->memory_mib) {
				appendf(why[vm], EVAC_WHY_MAX, " %s: %lld MiB of memory left, it needs %llu MiB;",
					peers[t], (long long)(p->capacity.memory_available_mib - mem[t]),
					(unsigned long long)m->memory_mib);
				continue;
			}
			if (m->pinned && p->capacity.dedicated_cpus_free >= 0 &&
			    p->capacity.dedicated_cpus_free - cpus[t] < m->pinned) {
				appendf(why[vm], EVAC_WHY_MAX, " %s: %lld dedicated CPU(s) left, it needs %u;",
					peers[t], (long long)(p->capacity.dedicated_cpus_free - cpus[t]),
					m->pinned);
				continue;
			}
			if (best < 0 || left > best_left) {
				best = (ssize_t)t;
				best_left = left;
			}
		}
		ret_peer[vm] = best;
		if (best < 0) {
			size_t len = strlen(why[vm]);

			if (why[vm][len - 1] == ';')
				why[vm][len - 1] = '\0';
			continue;
		}
		why[vm][0] = '\0';
		if (!m->memory_mib)
			snprintf(why[vm], EVAC_WHY_MAX,
				 "its memory size is unknown: placed by passthrough devices and CPUs, not checked against %s's memory",
				 peers[best]);
		vfs[best]++;
		mem[best] += (int64_t)m->memory_mib;
		cpus[best] += m->pinned;
	}
	return 0;
}
