// SPDX-License-Identifier: GPL-2.0-or-later
/* What this host can still take (capacity.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon/daemon.h"
#include "host/capacity.h"
#include "host/cpu_pinning.h"
#include "macro.h"

int host_memory_available_mib(const sysfs *fs, uint64_t *ret)
{
	_cleanup_free_ char *path = sysfs_path(fs, "proc/meminfo");
	unsigned long long kb;
	char line[256];
	int r = -EBADMSG;
	FILE *f;

	if (!path)
		return -ENOMEM;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
			*ret = kb / 1024;
			r = 0;
			break;
		}
	fclose(f);
	return r;
}

unsigned host_dedicated_cpus_free(struct host_daemon *d)
{
	cpu_set_t taken, free_set;

	cpu_pinning_taken(d, NULL, &taken);
	CPU_XOR(&free_set, &d->config->dedicated_cpus, &taken);
	CPU_AND(&free_set, &free_set, &d->config->dedicated_cpus);
	return (unsigned)CPU_COUNT(&free_set);
}
