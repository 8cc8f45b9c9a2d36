/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `fault`: failures the host injects on purpose for failover drills (`dmigrate drill run`),
 * never in production. `crash` dies of SIGKILL, as `kill -9` would, for the supervisor to
 * restart; `stall` stops reading and answering for a while, as SIGSTOP would. Both take effect
 * only once their reply has been written, so the host knows the fault was armed.
 */
#pragma once

#include <stdbool.h>

typedef struct agent_job agent_job;

/* allowed: the agent was started with --allow-faults; else the job fails with `unsupported`. */
void agent_fault_run(agent_job *j, bool allowed);
