// SPDX-License-Identifier: GPL-2.0-or-later
#include "host/cpu_pinning.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/cpu_list.h"
#include "host/vm.h"
#include "log.h"

#define PIN_QMP_TIMEOUT_MS 5000

int cpu_pinning_plan(const cpu_set_t *dedicated, const cpu_set_t *taken, const cpumap *want,
		     bool exact, const char *host, cpumap *ret, char *why, size_t why_size)
{
	char list[128];
	cpumap m = { .n = want->n };
	bool same = true;
	unsigned got = 0;

	for (unsigned i = 0; i < want->n; i++) {
		int c = want->pcpu[i];

		if (CPU_ISSET(c, dedicated) && !CPU_ISSET(c, taken))
			continue;
		same = false;
		if (!exact)
			break;
		if (!CPU_ISSET(c, dedicated))
			snprintf(why, why_size,
				 "cpumap gives vCPU %u host CPU %d, which is not a dedicated CPU of %s "
				 "(dedicated_cpus: %s)",
				 i, c, host,
				 CPU_COUNT(dedicated) ? cpu_list_format(dedicated, list, sizeof(list)) :
							"none");
		else
			snprintf(why, why_size,
				 "cpumap gives vCPU %u host CPU %d, which another VM on %s holds", i, c,
				 host);
		return -EINVAL;
	}
	if (same) {
		*ret = *want;
		return 0;
	}
	for (int c = 0; c < CPU_SETSIZE && got < want->n; c++)
		if (CPU_ISSET(c, dedicated) && !CPU_ISSET(c, taken))
			m.pcpu[got++] = c;
	if (got < want->n) {
		snprintf(why, why_size,
			 "%s has %u free dedicated CPUs, the VM pins %u vCPUs (dedicated_cpus: %s)",
			 host, got, want->n,
			 CPU_COUNT(dedicated) ? cpu_list_format(dedicated, list, sizeof(list)) : "none");
		return -ENOSPC;
	}
	*ret = m;
	return 0;
}

int cpu_pinning_parse_threads(json_object *cpus, pid_t tids[CPUMAP_MAX_VCPUS], unsigned *ret_n)
{
	unsigned n = 0;

	if (!json_object_is_type(cpus, json_type_array) ||
	    json_object_array_length(cpus) > CPUMAP_MAX_VCPUS)
		return -EBADMSG;
	for (unsigned i = 0; i < CPUMAP_MAX_VCPUS; i++)
		tids[i] = 0;
	for (size_t i = 0; i < json_object_array_length(cpus); i++) {
		json_object *cpu = json_object_array_get_idx(cpus, i), *idx, *tid;
		int64_t k, t;

		if (!json_object_object_get_ex(cpu, "cpu-index", &idx) ||
		    !json_object_object_get_ex(cpu, "thread-id", &tid) ||
		    !json_object_is_type(idx, json_type_int) || !json_object_is_type(tid, json_type_int))
			return -EBADMSG;
		k = json_object_get_int64(idx);
		t = json_object_get_int64(tid);
		if (k < 0 || k >= CPUMAP_MAX_VCPUS || t <= 0 || t > 0x3fffffff || tids[k])
			return -EBADMSG;
		tids[k] = (pid_t)t;
		if ((unsigned)k + 1 > n)
			n = (unsigned)k + 1;
	}
	*ret_n = n;
	return 0;
}

static int cpu_affinity_set(pid_t tid, const cpu_set_t *set, void *userdata)
{
	return sched_setaffinity(tid, sizeof(*set), set) < 0 ? -errno : 0;
}

int cpu_pinning_apply(const sysfs *fs, pid_t pid, const cpumap *map, const pid_t *tids,
		      unsigned n_tids, const cpu_set_t *dedicated, cpu_affinity_fn set,
		      void *userdata, char *why, size_t why_size)
{
	_cleanup_names_ char **tasks = NULL;
	char online_text[256], list[128];
	cpu_set_t online, rest;
	int r;

	if (!set)
		set = cpu_affinity_set;
	if (n_tids < map->n) {
		snprintf(why, why_size, "QEMU reports %u vCPU threads, the map has %u vCPUs", n_tids,
			 map->n);
		return -EBADMSG;
	}
	for (unsigned i = 0; i < map->n; i++) {
		cpu_set_t one;

		CPU_ZERO(&one);
		CPU_SET(map->pcpu[i], &one);
		r = set(tids[i], &one, userdata);
		if (r < 0) {
			snprintf(why, why_size, "cannot pin vCPU %u (thread %d) to CPU %d: %s", i,
				 (int)tids[i], map->pcpu[i], strerror(-r));
			return r;
		}
	}
	/* The rest of QEMU shares what no VM owns. */
	if (sysfs_read(fs, online_text, sizeof(online_text), "sys/devices/system/cpu/online") < 0 ||
	    cpu_list_parse(online_text, &online, why, why_size) < 0)
		return 0;
	CPU_XOR(&rest, &online, dedicated);
	CPU_AND(&rest, &rest, &online);
	if (!CPU_COUNT(&rest))
		return 0;
	r = sysfs_list(fs, &tasks, "proc/%d/task", (int)pid);
	if (r < 0) {
		snprintf(why, why_size, "cannot list QEMU's threads: %s", strerror(-r));
		return r;
	}
	for (size_t i = 0; tasks[i]; i++) {
		pid_t tid = (pid_t)strtol(tasks[i], NULL, 10);
		bool vcpu = false;

		for (unsigned k = 0; k < map->n && !vcpu; k++)
			vcpu = tids[k] == tid;
		if (vcpu || tid <= 0)
			continue;
		r = set(tid, &rest, userdata);
		/* A thread that ended meanwhile is fine. */
		if (r < 0 && r != -ESRCH) {
			snprintf(why, why_size, "cannot move QEMU thread %d to CPUs %s: %s", (int)tid,
				 cpu_list_format(&rest, list, sizeof(list)), strerror(-r));
			return r;
		}
	}
	return 0;
}

json_object *cpumap_to_json(const cpumap *m)
{
	json_object *a = json_object_new_array();

	for (unsigned i = 0; a && i < m->n; i++) {
		json_object *pair = json_object_new_array();

		if (!pair) {
			json_object_put(a);
			return NULL;
		}
		json_object_array_add(pair, json_object_new_int((int)i));
		json_object_array_add(pair, json_object_new_int(m->pcpu[i]));
		json_object_array_add(a, pair);
	}
	return a;
}

int cpumap_from_json(json_object *o, cpumap *ret)
{
	cpumap m = { 0 };
	char why[160];

	if (!json_object_is_type(o, json_type_array) ||
	    json_object_array_length(o) > CPUMAP_MAX_VCPUS)
		return -EINVAL;
	for (size_t i = 0; i < json_object_array_length(o); i++) {
		json_object *pair = json_object_array_get_idx(o, i), *a, *b;

		if (!json_object_is_type(pair, json_type_array) ||
		    json_object_array_length(pair) != 2 ||
		    !json_object_is_type(a = json_object_array_get_idx(pair, 0), json_type_int) ||
		    !json_object_is_type(b = json_object_array_get_idx(pair, 1), json_type_int) ||
		    json_object_get_int64(a) < 0 || json_object_get_int64(b) < 0 ||
		    cpumap_add(&m, (unsigned long)json_object_get_int64(a),
			       (unsigned long)json_object_get_int64(b), why, sizeof(why)) < 0)
			return -EINVAL;
	}
	if (cpumap_check_complete(&m, why, sizeof(why)) < 0)
		return -EINVAL;
	*ret = m;
	return 0;
}

void cpu_pinning_taken(host_daemon *d, const vm *except, cpu_set_t *ret)
{
	CPU_ZERO(ret);
	for (vm *v = vm_first(d); v; v = vm_next(v)) {
		cpu_set_t cpus;

		if (v == except || !vm_get_pinned(v))
			continue;
		cpumap_cpus(vm_get_pinned(v), &cpus);
		CPU_OR(ret, ret, &cpus);
	}
}

int vm_cpus_plan(vm *v, bool exact, char *why, size_t why_size)
{
	const host_config *c = vm_get_daemon(v)->config;
	cpu_set_t taken;
	cpumap m, *pinned;
	int r;

	if (!vm_get_spec(v)->cpumap)
		return 0;
	cpu_pinning_taken(vm_get_daemon(v), v, &taken);
	r = cpu_pinning_plan(&c->dedicated_cpus, &taken, vm_get_spec(v)->cpumap, exact, c->name, &m,
			     why, why_size);
	if (r < 0)
		return r;
	pinned = malloc(sizeof(m));
	if (!pinned)
		return -ENOMEM;
	*pinned = m;
	vm_set_pinned(v, pinned);
	return 0;
}

/* Who asked: the VM is looked up again by name when QEMU answers, it may be gone by then. */
typedef struct pin_request {
	host_daemon *d;
	char name[];
} pin_request;

static void vm_cpus_on_query(qmp_client *c, int error, json_object *ret, const char *cls,
			     const char *desc, void *userdata)
{
	pin_request *req = userdata;
	vm *v = vm_find(req->d, req->name);
	char why[256], map[256];
	pid_t tids[CPUMAP_MAX_VCPUS];
	unsigned n;
	int r;

	if (error < 0 || !v || !vm_get_pinned(v)) {
		if (error < 0 && error != -ECANCELED)
			log_warning("%s: cannot pin its vCPUs: QEMU did not list them: %s", req->name,
				    desc ? desc : strerror(-error));
		free(req);
		return;
	}
	r = cpu_pinning_parse_threads(ret, tids, &n);
	if (r >= 0) {
		const host_config *hc = req->d->config;
		sysfs fs = { .root = hc->system_root ? hc->system_root : "/" };

		r = cpu_pinning_apply(&fs, vm_get_pid(v), vm_get_pinned(v), tids, n,
				      &hc->dedicated_cpus, NULL, NULL, why, sizeof(why));
	} else
		snprintf(why, sizeof(why), "QEMU's query-cpus-fast answer is malformed");
	if (r < 0)
		log_warning_errno(r, "%s: cannot pin its vCPUs: %s", req->name, why);
	else
		log_info("%s: vCPUs pinned (vCPU->CPU %s)", req->name,
			 cpumap_format(vm_get_pinned(v), map, sizeof(map)));
	free(req);
}

void vm_cpus_pin(vm *v)
{
	pin_request *req;
	qmp_client *q;

	if (!vm_get_pinned(v))
		return;
	q = vm_qmp(v);
	req = malloc(sizeof(*req) + strlen(vm_get_name(v)) + 1);
	if (req) {
		req->d = vm_get_daemon(v);
		strcpy(req->name, vm_get_name(v));
	}
	if (!q || !req ||
	    qmp_client_execute(q, "query-cpus-fast", NULL, PIN_QMP_TIMEOUT_MS, vm_cpus_on_query,
			       req) < 0) {
		log_warning("%s: cannot pin its vCPUs: its QMP socket does not answer",
			    vm_get_name(v));
		free(req);
	}
}
