/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What this host can still take, as a destination reports it in peer-check so that `evacuate`
 * can place VMs: the memory the kernel says is available and the dedicated CPUs no VM holds.
 */
#pragma once

#include <stdint.h>

#include "host/sysfs.h"

struct host_daemon;

/* MemAvailable of fs's /proc/meminfo in MiB; -ENOENT/-EBADMSG when unreadable or missing. */
int host_memory_available_mib(const sysfs *fs, uint64_t *ret);
/* The dedicated CPUs (host config) that no VM here holds. */
unsigned host_dedicated_cpus_free(struct host_daemon *d);
