/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Finding the agent's virtio-serial port: udev's /dev/virtio-ports/NAME symlink, or, where there
 * is no udev (the lab's initramfs), the port whose /sys/class/virtio-ports/vportNpM/name says
 * NAME, opened as /dev/vportNpM. These are the only files the agent reads.
 */
#pragma once

/* root prefixes every path ("" on a real system; a temporary tree in tests). */
int agent_port_find(const char *root, const char *name, char **ret_path);
