/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which host CPU each vCPU of a VM runs on. Written inline in a VM spec ([[0, 2], [1, 3]]) or
 * in a file in Directvisor's format, one "VCPU PCPU" pair per line:
 *
 *     0 1
 *     1 2
 *
 * Blank lines and lines starting with '#' are ignored. Every vCPU appears once, and no two vCPUs
 * share a host CPU. Whether the host CPUs are dedicated ones is the host's question
 * (host/cpu_pinning.h).
 */
#pragma once

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>

#define CPUMAP_MAX_VCPUS 64   /* VM_SPEC_VCPUS_MAX */
#define CPUMAP_FILE_MAX 4096  /* 64 lines of "63 1023\n" fit many times over */

typedef struct cpumap {
	unsigned n;                      /* vCPUs mapped: 0..n-1 */
	int pcpu[CPUMAP_MAX_VCPUS];      /* pcpu[vcpu] */
} cpumap;

/*
 * Parse a cpumap file's text. origin names it in messages ("map.txt: line 3: ..."). -EINVAL
 * with *ret_error (malloc()ed) for anything that is not such a file: a line that is not two
 * numbers, a vCPU listed twice or out of range, a host CPU used twice, a gap in the vCPUs.
 */
int cpumap_parse_text(const char *text, size_t len, const char *origin, cpumap *ret,
		      char **ret_error);
/* Read and parse a file (at most CPUMAP_FILE_MAX bytes). */
int cpumap_load(const char *path, cpumap *ret, char **ret_error);
/* Add one pair; the checks of the parser, with why saying what is wrong. */
int cpumap_add(cpumap *m, unsigned long vcpu, unsigned long pcpu, char *why, size_t why_size);
/* After the last cpumap_add(): every vCPU 0..n-1 mapped. */
int cpumap_check_complete(const cpumap *m, char *why, size_t why_size);
/* The host CPUs the map uses. */
void cpumap_cpus(const cpumap *m, cpu_set_t *ret);
/* "0→2 1→3" for people. */
char *cpumap_format(const cpumap *m, char *buf, size_t size);
