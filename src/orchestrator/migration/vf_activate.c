// SPDX-License-Identifier: GPL-2.0-or-later
#include "migration/vf_activate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "host/vm.h"

#define AGENT_TIMEOUT_MS 5000

typedef struct vf_activate {
	host_daemon *d;
	char *vm_name;
	vf_activate_cb cb;
	void *userdata;
	int step;
	uint64_t waited_ms;
	uint64_t device_wait_ms;
	uv_timer_t *timer;
} vf_activate;

static void vf_activate_timer_free(uv_handle_t *h)
{
	free(h);
}

static void vf_activate_finish(vf_activate *a, int error, const char *message)
{
	a->cb(error, message, a->device_wait_ms, a->userdata);
	uv_close((uv_handle_t *)a->timer, vf_activate_timer_free);
	free(a->vm_name);
	free(a);
}

static void vf_activate_step(vf_activate *a);

static void vf_activate_retry(uv_timer_t *t)
{
	vf_activate_step(t->data);
}

static void vf_activate_on_reply(agent_client *c, int error, json_object *ret, const char *code,
				 const char *message, void *userdata)
{
	vf_activate *a = userdata;
	const char *retry_on = a->step == 0 ? "not-found" : "failed";
	json_object *waited;
	_cleanup_free_ char *why = NULL;

	if (error < 0 && a->step < 2 && code && !strcmp(code, retry_on) &&
	    a->waited_ms < VF_ACTIVATE_TIMEOUT_MS) {
		a->waited_ms += VF_ACTIVATE_POLL_MS;
		a->device_wait_ms += VF_ACTIVATE_POLL_MS;
		uv_timer_start(a->timer, vf_activate_retry, VF_ACTIVATE_POLL_MS, 0);
		return;
	}
	if (error < 0) {
		if (asprintf(&why, "guest agent: %s", message ? message : strerror(-error)) < 0)
			why = NULL;
		vf_activate_finish(a, error, why);
		return;
	}
	if (a->step == 0 && json_object_object_get_ex(ret, "waited-ms", &waited) &&
	    json_object_get_int64(waited) > 0)
		a->device_wait_ms += (uint64_t)json_object_get_int64(waited);
	a->step++;
	a->waited_ms = 0;
	vf_activate_step(a);
}

static void vf_activate_step(vf_activate *a)
{
	static const char *const cmds[] = { "bond-enslave-vf", "bond-set-active", "announce" };
	vm *v = vm_find(a->d, a->vm_name);
	agent_client *agent = v ? vm_agent(v) : NULL;
	json_object *args = NULL;
	int r;

	if (a->step >= (int)ELEMENTSOF(cmds)) {
		vf_activate_finish(a, 0, NULL);
		return;
	}
	if (!agent) {
		vf_activate_finish(a, -ENOTCONN, "the guest agent cannot be reached");
		return;
	}
	if (a->step == 0) {
		args = json_object_new_object();
		json_object_object_add(args, "timeout-ms", json_object_new_int(AGENT_TIMEOUT_MS));
	} else if (a->step == 1) {
		args = json_object_new_object();
		json_object_object_add(args, "role", json_object_new_string("vf"));
	}
	r = agent_client_call(agent, cmds[a->step], args, 2 * AGENT_TIMEOUT_MS, vf_activate_on_reply,
			      a);
	if (r < 0)
		vf_activate_finish(a, r, "cannot send to the guest agent");
}

int vf_activate_start(host_daemon *d, const char *vm_name, vf_activate_cb cb, void *userdata)
{
	vf_activate *a = calloc(1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	a->timer = calloc(1, sizeof(*a->timer));
	a->vm_name = strdup(vm_name);
	if (!a->timer || !a->vm_name) {
		free(a->timer);
		free(a->vm_name);
		free(a);
		return -ENOMEM;
	}
	a->d = d;
	a->cb = cb;
	a->userdata = userdata;
	uv_timer_init(d->loop, a->timer);
	a->timer->data = a;
	vf_activate_step(a);
	return 0;
}
