/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest is untrusted: before the host believes a successful answer from its agent, the
 * answer is checked against what the protocol promises for that command and what was asked
 * (proto/agent-protocol.md). A lie (an active slave that is not among the slaves, a role other
 * than the one asked for, a negative wait or one longer than allowed, an interface name no
 * kernel would give) fails the call with -EBADMSG and a message that says what was wrong.
 */
#pragma once

#include <stddef.h>

#include <json-c/json.h>

#include "agent_protocol.h"

/* Longest an agent's wait may overrun the asked timeout (its timer and loop latency). */
#define AGENT_REPLY_WAIT_SLACK_MS 2000

/*
 * Check ret, the "return" object of cmd sent with args (NULL: none). Returns 0, or -EBADMSG with
 * the reason in why ("bond-status: active slave 'eth9' is not among the slaves").
 */
int agent_reply_check(const agent_command_def *cmd, json_object *args, json_object *ret, char *why,
		      size_t why_len);

/* The name of a slave with role ("vf", "standby") in a checked bond-status reply; NULL if none. */
const char *agent_bond_slave_with_role(json_object *bond_status, const char *role);
