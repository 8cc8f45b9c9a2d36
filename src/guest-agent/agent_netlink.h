/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel behind agent_net_ops: rtnetlink through libnl-route-3, on the agent's loop. */
#pragma once

#include <uv.h>

#include "agent_net.h"

typedef struct agent_netlink agent_netlink;

extern const agent_net_ops agent_netlink_ops;

/* changed runs (coalesced) after the kernel reports link changes. */
int agent_netlink_new(uv_loop_t *loop, agent_net_changed_fn changed, void *userdata, agent_netlink **ret);
/* Where changed's userdata points (set once the consumer exists). */
void agent_netlink_set_userdata(agent_netlink *n, void *userdata);
void agent_netlink_free(agent_netlink *n);

/* For agent_setup.c: the request socket, and bringing a link up. */
struct nl_sock *agent_netlink_socket(agent_netlink *n);
int agent_netlink_link_up(agent_netlink *n, int ifindex);
