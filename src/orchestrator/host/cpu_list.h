/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CPU lists as the kernel writes them ("1-3,8", isolcpus=, /sys/devices/system/cpu/online,
 * Cpus_allowed_list) to and from a cpu_set_t.
 */
#pragma once

#include <sched.h>
#include <stddef.h>

/*
 * Parse s into *ret: comma-separated CPUs and ranges A-B (A <= B), each < CPU_SETSIZE, no
 * spaces. -EINVAL with why saying which part is wrong.
 */
int cpu_list_parse(const char *s, cpu_set_t *ret, char *why, size_t why_size);
/* "1-3,8"; "" for an empty set. Cut at size (always NUL-terminated). */
char *cpu_list_format(const cpu_set_t *set, char *buf, size_t size);
