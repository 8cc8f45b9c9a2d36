/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The bond commands (bond-status, bond-set-active, bond-activate-vf, bond-release, announce) and
 * the link events, written against the agent_net_ops seam: which slave has which role, waiting
 * for carrier, and telling what changed between two snapshots of the links.
 */
#pragma once

#include <uv.h>

#include "agent_net.h"
#include "agent_server.h"

typedef struct agent_bond agent_bond;

int agent_bond_new(uv_loop_t *loop, const agent_net_ops *ops, void *ctx, agent_server *server,
		   agent_bond **ret);
/* Fails the jobs still waiting, then frees once the loop has closed the timer. */
void agent_bond_free(agent_bond *b);

void agent_bond_run(agent_bond *b, agent_job *j);
/* Links may have changed: push events for the differences, move bond-activate-vf along. */
void agent_bond_links_changed(agent_bond *b);
