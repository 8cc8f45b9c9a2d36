/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * did-status, did-enable, did-disable over the /dev/did UAPI (proto/did.h). The device is
 * reached through one ioctl hook so the unit tests can stand in for the kernel module.
 */
#pragma once

#include <json-c/json.h>

typedef struct agent_did_ops {
	/* Like ioctl(2) on /dev/did, opened for this call; -ENODEV when the device is absent. */
	int (*ioctl)(void *ctx, unsigned long request, void *arg);
} agent_did_ops;

/* The real device: ctx is the path, normally DID_DEVICE_PATH. */
extern const agent_did_ops agent_did_dev_ops;

typedef struct agent_job agent_job;
void agent_did_run(const agent_did_ops *ops, void *ctx, agent_job *j);
