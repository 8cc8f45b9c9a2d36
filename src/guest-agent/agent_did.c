// SPDX-License-Identifier: GPL-2.0-or-later
#include "agent_did.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>

#include "agent_server.h"
#include "did.h"
#include "macro.h"

static int did_dev_ioctl(void *ctx, unsigned long request, void *arg)
{
	_cleanup_close_ int fd = -1;

	/* Opened per call: the module may be loaded or unloaded while the agent runs. */
	fd = open(ctx, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errno == ENOENT || errno == ENXIO ? -ENODEV : -errno;
	if (ioctl(fd, request, arg) < 0)
		return -errno;
	return 0;
}

const agent_did_ops agent_did_dev_ops = {
	.ioctl = did_dev_ioctl,
};

static const struct {
	unsigned bit;
	const char *name;
} did_features[] = {
	{ DID_F_TIMER, "timer" },
	{ DID_F_IPI, "ipi" },
	{ DID_F_DEVICE, "device" },
	{ DID_F_IDLE, "idle" },
};

static json_object *did_features_to_json(unsigned mask)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < ELEMENTSOF(did_features); i++)
		if (mask & did_features[i].bit)
			json_object_array_add(a, json_object_new_string(did_features[i].name));
	return a;
}

static json_object *did_status_to_json(const struct did_status *st)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "state", json_object_new_string(st->state == DID_STATE_ON ? "on" : "off"));
	json_object_object_add(o, "backend", json_object_new_string(st->backend == DID_BACKEND_KVM ? "kvm" :
								     st->backend == DID_BACKEND_SIM ? "sim" : "none"));
	json_object_object_add(o, "simulated", json_object_new_boolean(!!(st->flags & DID_STATUS_SIMULATED)));
	json_object_object_add(o, "features", did_features_to_json(st->features));
	json_object_object_add(o, "supported", did_features_to_json(st->supported));
	json_object_object_add(o, "version", json_object_new_int64(st->version));
	json_object_object_add(o, "host-version", json_object_new_int64(st->host_version));
	json_object_object_add(o, "enables", json_object_new_int64((int64_t)st->enables));
	json_object_object_add(o, "disables", json_object_new_int64((int64_t)st->disables));
	json_object_object_add(o, "errors", json_object_new_int64((int64_t)st->errors));
	json_object_object_add(o, "rejected", json_object_new_int64((int64_t)st->rejected));
	json_object_object_add(o, "last-error", json_object_new_int(st->last_error));
	return o;
}

static unsigned did_features_from_args(json_object *args)
{
	json_object *list;
	unsigned mask = 0;

	if (!args || !json_object_object_get_ex(args, "features", &list))
		return 0;
	for (size_t i = 0; i < json_object_array_length(list); i++)
		for (size_t k = 0; k < ELEMENTSOF(did_features); k++)
			if (!strcmp(json_object_get_string(json_object_array_get_idx(list, i)), did_features[k].name))
				mask |= did_features[k].bit;
	return mask;
}

static void did_fail(agent_job *j, int r, const char *what)
{
	if (r == -ENODEV)
		agent_job_fail(j, AGENT_ERROR_UNAVAILABLE,
			       "%s is absent: the did module is not loaded in this guest", DID_DEVICE_PATH);
	else if (r == -EOPNOTSUPP)
		agent_job_fail(j, AGENT_ERROR_UNSUPPORTED, "Failed to %s DID: the host lacks a requested feature",
			       what);
	else
		agent_job_fail_errno(j, r, "Failed to %s DID: %s", what, strerror(-r));
}

void agent_did_run(const agent_did_ops *ops, void *ctx, agent_job *j)
{
	struct did_status st = { .size = sizeof(st) };
	bool changed = true;
	json_object *o;
	int r = 0;

	switch (agent_job_command(j)) {
	case AGENT_CMD_DID_ENABLE: {
		struct did_enable en = { .size = sizeof(en), .features = did_features_from_args(agent_job_args(j)) };

		r = ops->ioctl(ctx, DID_IOC_ENABLE, &en);
		break;
	}
	case AGENT_CMD_DID_DISABLE: {
		struct did_disable dis = { .size = sizeof(dis) };

		r = ops->ioctl(ctx, DID_IOC_DISABLE, &dis);
		break;
	}
	default:
		changed = false;
		break;
	}
	/* Asking for the state it is already in is success: the migration's undo relies on it. */
	if (r == -EALREADY) {
		changed = false;
		r = 0;
	}
	if (r < 0)
		return did_fail(j, r, agent_job_command(j) == AGENT_CMD_DID_ENABLE ? "enable" : "disable");

	r = ops->ioctl(ctx, DID_IOC_STATUS, &st);
	if (r < 0)
		return did_fail(j, r, "read the state of");
	o = did_status_to_json(&st);
	if (o && agent_job_command(j) != AGENT_CMD_DID_STATUS)
		json_object_object_add(o, "changed", json_object_new_boolean(changed));
	if (!o)
		return agent_job_fail(j, AGENT_ERROR_FAILED, "Out of memory");
	agent_job_return(j, o);
}
