/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live traffic for drills: ICMP echo requests to one IPv4 address at a fixed interval, from a
 * thread of its own (the CLI's daemon calls block), with the replies' arrival times reduced to
 * what a drill reports per step: probes sent and answered, and the longest time without a reply.
 * An unprivileged ICMP socket is used where net.ipv4.ping_group_range allows it, else a raw one
 * (root, or CAP_NET_RAW).
 */
#pragma once

#include <stdint.h>

typedef struct pinger pinger;

typedef struct pinger_stats {
	uint64_t sent;
	uint64_t received;
	/* The longest time without a reply within the window: between two replies, or from the
	 * window's start to the first reply, or from the last reply to its end. */
	uint64_t max_gap_ms;
} pinger_stats;

/* On failure *ret_error (malloc()ed) says why, naming the address. */
int pinger_start(const char *ipv4_address, unsigned interval_ms, pinger **ret, char **ret_error);
/* Start a new window (a drill step): the counters and the gap start from now. */
void pinger_window_begin(pinger *p);
/* The current window's figures so far. */
void pinger_window_stats(pinger *p, pinger_stats *ret);
void pinger_stop(pinger *p);
