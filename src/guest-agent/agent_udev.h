/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Whether systemd-udevd is still busy with a network interface: it renames a new interface (the
 * kernel's eth0 becomes enp1s0) while it handles the add event, and the rename fails on a link
 * that is up by then (bonding brings a slave up as it enslaves it). udevd writes the link's
 * database entry, /run/udev/data/n<ifindex>, once it is done; but a udevd that renames writes
 * it first, before the rename, marked ID_RENAMING=1 (Debian 12's systemd 252.39 does; later
 * systemd marks it ID_PROCESSING=1): such an entry does not mean done.
 * Without udevd (no control socket) nothing renames links.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Whether udev has not finished with ifindex: no entry yet, or one still being processed. */
bool agent_udev_link_pending(int ifindex);

/* Whether a database entry's text (len bytes, need not end in NUL) says udev is still at it:
 * a line "E:ID_RENAMING=1" or "E:ID_PROCESSING=1". */
bool agent_udev_db_busy(const char *text, size_t len);
