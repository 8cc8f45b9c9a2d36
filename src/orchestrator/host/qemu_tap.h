/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The tap device behind a QEMU's standby NIC. QEMU's bridge helper names it (tap0, tap1, ...)
 * and QEMU does not say which it got; the kernel does: each /dev/net/tun descriptor's fdinfo
 * has an "iff:" line with the interface it is attached to.
 */
#pragma once

#include <net/if.h>
#include <sys/types.h>

#include "host/sysfs.h"

/*
 * The interface name and index of pid's only tap. -ENOENT when it has none, -EEXIST when it has
 * more than one (an emulated VF is a tap too: then the standby cannot be told apart).
 */
int qemu_tap_find(const sysfs *fs, pid_t pid, char ifname[static IF_NAMESIZE], int *ret_ifindex);
