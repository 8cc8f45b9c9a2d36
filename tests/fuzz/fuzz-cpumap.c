// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The cpumap file parser (Directvisor's "VCPU PCPU" lines) and the CPU list parser
 * (dedicated_cpus, isolcpus=) on arbitrary bytes. A refusal explains itself naming the file; an
 * accepted map maps vCPUs 0..n-1 once each to distinct CPUs in range, and written back out as
 * a file it parses to the same map. An accepted CPU list formats to a list that parses to the
 * same set.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/cpu_list.h"
#include "host/cpumap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_cpumap(const uint8_t *data, size_t size)
{
	char *error = NULL, text[CPUMAP_MAX_VCPUS * 16];
	cpumap m, again;
	cpu_set_t seen;
	size_t o = 0;

	if (cpumap_parse_text((const char *)data, size, "map.txt", &m, &error) < 0) {
		if (!error || strncmp(error, "map.txt: ", 9) != 0)
			abort();
		free(error);
		return;
	}
	if (error || m.n < 1 || m.n > CPUMAP_MAX_VCPUS)
		abort();
	CPU_ZERO(&seen);
	for (unsigned i = 0; i < m.n; i++) {
		if (m.pcpu[i] < 0 || m.pcpu[i] >= CPU_SETSIZE || CPU_ISSET(m.pcpu[i], &seen))
			abort();
		CPU_SET(m.pcpu[i], &seen);
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%u %d\n", i, m.pcpu[i]);
	}
	if (cpumap_parse_text(text, o, "again", &again, &error) < 0 || again.n != m.n ||
	    memcmp(again.pcpu, m.pcpu, m.n * sizeof(int)) != 0)
		abort();
}

static void check_cpu_list(const uint8_t *data, size_t size)
{
	char text[512], why[160], formatted[8192];
	cpu_set_t set, again;

	if (size >= sizeof(text) || memchr(data, '\0', size))
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	if (cpu_list_parse(text, &set, why, sizeof(why)) < 0) {
		if (!why[0])
			abort();
		return;
	}
	cpu_list_format(&set, formatted, sizeof(formatted));
	if (cpu_list_parse(formatted, &again, why, sizeof(why)) < 0 || !CPU_EQUAL(&set, &again))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_cpumap(data, size);
	check_cpu_list(data, size);
	return 0;
}
