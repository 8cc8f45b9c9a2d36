/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --setup-bond: build the bond on a guest that has none (see agent_setup.c). */
#pragma once

#include <stdint.h>
#include <uv.h>

#include "agent_net.h"
#include "agent_netlink.h"

/* Watches a new bond until its VF is the active slave; runs on the loop. */
typedef struct agent_setup agent_setup;

/*
 * Creates bond NAME and starts the watch that makes the VF active (*ret, for
 * agent_setup_links_changed()). 0 with *ret NULL when the bond exists already (then nothing is
 * touched). Logs what it did.
 */
int agent_setup_bond(uv_loop_t *loop, agent_netlink *n, const char *name, agent_setup **ret);

/* The watch alone, on any backend: makes vf the active slave of bond once it has carrier and
 * bonding accepts it, or gives up after timeout_ms. Logs the outcome. */
int agent_setup_activate(uv_loop_t *loop, const agent_net_ops *ops, void *ctx, int bond, int vf,
			 uint64_t timeout_ms, agent_setup **ret);
/* Call when the links may have changed (agent_net_changed_fn). */
void agent_setup_links_changed(agent_setup *s);
/* -EINPROGRESS while watching, then 0 (VF active), -ETIMEDOUT, -ENODEV (VF or bond gone) or
 * the backend's error. */
int agent_setup_result(const agent_setup *s);
void agent_setup_free(agent_setup *s);
