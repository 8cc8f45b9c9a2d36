/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vCPU threads on dedicated host CPUs, what the seeds do by hand with isolcpus= and `taskset -cp
 * PCPU TID` for each thread id from QMP: each vCPU thread alone on its CPU, every other thread
 * of QEMU (I/O, migration, the main loop) kept off the dedicated CPUs.
 *
 * The host config's dedicated_cpus are the CPUs VMs may own; a VM spec's cpumap says which it
 * wants. On the host that starts a VM, the map is honoured exactly or refused; on a migration's
 * destination, the same CPUs are taken if they are dedicated and free there, else the lowest
 * free dedicated CPUs (the two hosts need not be alike): the destination checks at preflight
 * that enough are free.
 */
#pragma once

#include <json-c/json.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/types.h>

#include "host/cpumap.h"
#include "host/sysfs.h"

/*
 * The map a VM gets on this host (host names it in messages), given the dedicated CPUs and those
 * other VMs hold. -EINVAL with why (naming the CPU and the VM that has it, or the dedicated set)
 * when exact and a CPU is not dedicated or taken; -ENOSPC when not exact and too few are free.
 */
int cpu_pinning_plan(const cpu_set_t *dedicated, const cpu_set_t *taken, const cpumap *want,
		     bool exact, const char *host, cpumap *ret, char *why, size_t why_size);

/* The vCPU threads from QMP query-cpus-fast's answer: tids[cpu-index]. -EBADMSG if malformed. */
int cpu_pinning_parse_threads(json_object *cpus, pid_t tids[CPUMAP_MAX_VCPUS], unsigned *ret_n);

/* How an affinity is set: sched_setaffinity() on a host, a recorder in the tests. */
typedef int (*cpu_affinity_fn)(pid_t tid, const cpu_set_t *set, void *userdata);

/*
 * Pin vCPU i's thread (tids[i]) to map->pcpu[i]; every other thread of pid (procfs task list)
 * to the online CPUs that are not dedicated. set NULL: sched_setaffinity().
 */
int cpu_pinning_apply(const sysfs *fs, pid_t pid, const cpumap *map, const pid_t *tids,
		      unsigned n_tids, const cpu_set_t *dedicated, cpu_affinity_fn set,
		      void *userdata, char *why, size_t why_size);

/* [[0, 2], [1, 3]] */
json_object *cpumap_to_json(const cpumap *m);
/* The reverse, for records; -EINVAL for anything else. */
int cpumap_from_json(json_object *o, cpumap *ret);

struct vm;
struct host_daemon;
/* The CPUs every VM but `except` holds on this host. */
void cpu_pinning_taken(struct host_daemon *d, const struct vm *except, cpu_set_t *ret);
/*
 * Give v the CPUs its spec's cpumap asks for on this host (exact: on the host that starts it;
 * else a migration's destination). 0 and nothing to do without a cpumap; -EINVAL/-ENOSPC with
 * why as for cpu_pinning_plan().
 */
int vm_cpus_plan(struct vm *v, bool exact, char *why, size_t why_size);
/* Ask QEMU for v's vCPU threads and pin them to v->pinned (logged; nothing if not pinned). */
void vm_cpus_pin(struct vm *v);
