// SPDX-License-Identifier: GPL-2.0-or-later
#include "migration/vf_activate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/vf_steering.h"
#include "host/vm.h"
#include "log.h"


typedef struct vf_activate {
	host_daemon *d;
	char *vm_name;
	vf_activate_cb cb;
	void *userdata;
	int step;
	bool waiting;         /* for the agent's event (or the deadline) before asking again */
	uint64_t wait_start;  /* loop time the wait began */
	uint64_t deadline;    /* loop time the step gives up */
	uint64_t device_wait_ms;
	uv_timer_t *timer;
} vf_activate;

static void vf_activate_timer_free(uv_handle_t *h)
{
	free(h);
}

static void vf_activate_unlisten(vf_activate *a)
{
	vm *v = vm_find(a->d, a->vm_name);

	if (v && vm_agent_listener(v) == a)
		vm_agent_listen(v, NULL, NULL);
}

static void vf_activate_finish(vf_activate *a, int error, const char *message)
{
	vf_activate_unlisten(a);
	a->cb(error, message, a->device_wait_ms, a->userdata);
	uv_close((uv_handle_t *)a->timer, vf_activate_timer_free);
	free(a->vm_name);
	free(a);
}

static void vf_activate_step(vf_activate *a);

/* Ask again: the event came, or (step 1) the bond's link monitor had its next look. */
static void vf_activate_again(vf_activate *a)
{
	a->waiting = false;
	a->device_wait_ms += uv_now(a->d->loop) - a->wait_start;
	uv_timer_stop(a->timer);
	vf_activate_step(a);
}

static void vf_activate_on_timer(uv_timer_t *t)
{
	vf_activate_again(t->data);
}

/*
 * The guest's word that waiting is over: the VF appeared (step 0 waits for it), or a link of the
 * bond came up or the bond changed its active slave (step 1).
 */
static void vf_activate_on_event(vm *v, const char *event, json_object *data, void *userdata)
{
	vf_activate *a = userdata;

	if (!a->waiting)
		return;
	if (!strcmp(event, "ready") || (a->step == 0 && !strcmp(event, "vf-added")) ||
	    (a->step == 1 && (!strcmp(event, "link-up") || !strcmp(event, "active-changed"))))
		vf_activate_again(a);
}

static void vf_activate_on_reply(agent_client *c, int error, json_object *ret, const char *code,
				 const char *message, void *userdata)
{
	vf_activate *a = userdata;
	const char *retry_on = a->step == 0 ? "not-found" : "failed";
	json_object *waited;
	_cleanup_free_ char *why = NULL;

	if (error < 0 && a->step < 2 && code && !strcmp(code, retry_on) &&
	    uv_now(a->d->loop) < a->deadline) {
		vm *v = vm_find(a->d, a->vm_name);

		/*
		 * Step 0 waits for the agent's vf-added; step 1 for a link-up or active-changed,
		 * or at most VF_ACTIVATE_MII_MS: bonding's MII monitor, which decides when the
		 * slave is usable, reports to no one.
		 */
		a->waiting = true;
		a->wait_start = uv_now(a->d->loop);
		if (v)
			vm_agent_listen(v, vf_activate_on_event, a);
		uv_timer_start(a->timer, vf_activate_on_timer,
			       a->step == 0 ? a->deadline - a->wait_start :
					      VF_ACTIVATE_MII_MS, 0);
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
	a->deadline = uv_now(a->d->loop) + VF_ACTIVATE_TIMEOUT_MS;
	/*
	 * The VF is in the bond with its carrier up: it gets the VM's MAC through its PF now, just
	 * before it becomes the active slave, and not before. From that moment the NIC sends it
	 * every frame for the VM; while the guest was still probing it (igbvf: its link ~2 s after
	 * the probe), they would have been lost instead of reaching the standby (vf_steering.h).
	 */
	if (a->step == 1) {
		vm *v = vm_find(a->d, a->vm_name);

		if (v)
			vf_steering_apply_logged(v, VF_EVENT_ACTIVE);
	}
	vf_activate_step(a);
}

static void vf_activate_on_announced(agent_client *c, int error, json_object *ret,
				     const char *code, const char *message, void *userdata)
{
	char *vm_name = userdata;

	/* The bond's own gratuitous ARP on the switch went out already: this one only repeats it. */
	if (error < 0 && error != -ECANCELED)
		log_warning("%s: the guest agent's announce after the VF became active failed: %s",
			    vm_name, message ? message : strerror(-error));
	free(vm_name);
}

/*
 * The VF carries the traffic once it is the active slave: the phase ends there, and the agent's
 * announce goes out after it, off the migration's clock (its reply is only logged).
 */
static void vf_activate_announce(vf_activate *a, agent_client *agent)
{
	char *vm_name = strdup(a->vm_name);

	if (vm_name && agent_client_call(agent, "announce", NULL, a->d->config->agent_timeout_ms,
					 vf_activate_on_announced, vm_name) < 0) {
		log_warning("%s: cannot ask the guest agent to announce the VF", a->vm_name);
		free(vm_name);
	}
}

static void vf_activate_step(vf_activate *a)
{
	static const char *const cmds[] = { "bond-enslave-vf", "bond-set-active" };
	vm *v = vm_find(a->d, a->vm_name);
	agent_client *agent = v ? vm_agent(v) : NULL;
	json_object *args = NULL;
	int r;

	if (!agent) {
		vf_activate_finish(a, -ENOTCONN, "the guest agent cannot be reached");
		return;
	}
	if (a->step >= (int)ELEMENTSOF(cmds)) {
		vf_activate_announce(a, agent);
		vf_activate_finish(a, 0, NULL);
		return;
	}
	if (!(args = json_object_new_object())) {
		vf_activate_finish(a, -ENOMEM, "out of memory");
		return;
	}
	if (a->step == 0)
		json_object_object_add(args, "timeout-ms",
				       json_object_new_int((int)a->d->config->agent_timeout_ms));
	else if (a->step == 1)
		json_object_object_add(args, "role", json_object_new_string("vf"));
	/* The enslave waits up to agent_timeout_ms for carrier in the guest: give it that twice. */
	r = agent_client_call(agent, cmds[a->step], args, 2 * a->d->config->agent_timeout_ms,
			      vf_activate_on_reply, a);
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
	a->deadline = uv_now(d->loop) + VF_ACTIVATE_TIMEOUT_MS;
	vf_activate_step(a);
	return 0;
}
