/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --setup-bond: build the bond on a guest that has none (see agent_setup.c). */
#pragma once

#include "agent_netlink.h"

/* 0 also when the bond already exists (then nothing is touched). Logs what it did. */
int agent_setup_bond(agent_netlink *n, const char *name);
