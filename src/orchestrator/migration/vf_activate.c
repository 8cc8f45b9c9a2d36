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
	uint64_t deadline; /* loop time the phase gives up asking again */
	uint64_t asked;    /* loop time the request in flight was made */
	vf_activate_wait wait;
	bool answered;     /* the first request has its answer: wait's request fields are set */
} vf_activate;

static void vf_activate_finish(vf_activate *a, int error, const char *message)
{
	a->cb(error, message, &a->wait, a->userdata);
	free(a->vm_name);
	free(a);
}

static void vf_activate_announce(vf_activate *a, agent_client *agent);
static void vf_activate_ask(vf_activate *a);

static void vf_activate_on_reply(agent_client *c, int error, json_object *ret, const char *code,
				 const char *message, void *userdata)
{
	vf_activate *a = userdata;
	vm *v = vm_find(a->d, a->vm_name);
	uint64_t now = uv_now(a->d->loop), sent = a->asked;
	bool not_found = error < 0 && code && !strcmp(code, "not-found");
	json_object *device, *carrier, *took;
	_cleanup_free_ char *why = NULL;

	if (error == 0 || code) {
		/* The agent's answer (not a timeout or a lost link): its request went out then. */
		sent = MAX(agent_client_reply_sent_ms(c), a->asked);
		if (!a->answered) {
			/*
			 * What the agent found as the first request reached it: no usable VF if it
			 * waited for one (device-ms), or answered not-found after its whole wait
			 * (a VF that went away meanwhile answers at once, and was there).
			 */
			a->answered = true;
			a->wait.request_sent_ms = sent;
			a->wait.vf_absent_at_request =
				(not_found && now - sent >= a->d->config->agent_timeout_ms) ||
				(error == 0 && json_object_object_get_ex(ret, "device-ms", &device) &&
				 json_object_get_int64(device) > 0);
		}
	}
	/*
	 * The agent waited its whole timeout-ms and no VF appeared (a slow probe): ask again, up to
	 * the phase's bound, as the VF's plug may take. That wait was the device's; a guest
	 * answering at once gets no more than the time its answer took. A VF that appeared but got
	 * no link in the agent's wait ("timeout") ends the phase: that is a fault of the NIC's.
	 */
	if (not_found && now < a->deadline) {
		a->wait.device_ms += MIN(now - sent, a->d->config->agent_timeout_ms);
		vf_activate_ask(a);
		return;
	}
	if (error < 0) {
		if (asprintf(&why, "guest agent: %s", message ? message : strerror(-error)) < 0)
			why = NULL;
		vf_activate_finish(a, error, why);
		return;
	}
	/*
	 * The VF carries the traffic now: it gets the VM's MAC through its PF at once (an sriov
	 * pool's VF: vf_steering.h). Not before the guest had it in the bond with its carrier up:
	 * while the guest was still probing it (igbvf: its link ~2 s after the probe), the NIC
	 * would have sent it frames no one read instead of to the standby.
	 */
	if (v)
		vf_steering_apply_logged(v, VF_EVENT_ACTIVE);
	/* agent_reply_check() took all three as integers within the request's bound. */
	json_object_object_get_ex(ret, "device-ms", &device);
	json_object_object_get_ex(ret, "carrier-ms", &carrier);
	json_object_object_get_ex(ret, "took-ms", &took);
	a->wait.device_ms += (uint64_t)json_object_get_int64(device) + (uint64_t)json_object_get_int64(carrier);
	/* What the phase's residue is made of: the agent's own work, the trip to and from it, or
	 * the request waiting for the link's handshake before it went out. */
	log_info("%s: the agent waited %lld ms for the VF and %lld ms for its link, %lld ms in all; "
		 "the request went out %llu ms after it was made and took %llu ms from there",
		 a->vm_name, (long long)json_object_get_int64(device),
		 (long long)json_object_get_int64(carrier), (long long)json_object_get_int64(took),
		 (unsigned long long)(sent - a->asked), (unsigned long long)(now - sent));
	if (v && vm_agent(v))
		vf_activate_announce(a, vm_agent(v));
	vf_activate_finish(a, 0, NULL);
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

/*
 * One request, into a guest whose vCPU is busy probing the new NIC: the agent waits for the VF,
 * its udev, its carrier and the bond itself, and answers once. Its wait is agent_timeout_ms, the
 * request's bound twice that, as for the other agent requests: a stalled agent fails the phase
 * after it (dmigrated.json(5)), however long the phase may still wait for a slow NIC.
 */
static void vf_activate_ask(vf_activate *a)
{
	vm *v = vm_find(a->d, a->vm_name);
	agent_client *agent = v ? vm_agent(v) : NULL;
	json_object *args;
	int r;

	if (!agent) {
		vf_activate_finish(a, -ENOTCONN, "the guest agent cannot be reached");
		return;
	}
	if (!(args = json_object_new_object())) {
		vf_activate_finish(a, -ENOMEM, "out of memory");
		return;
	}
	json_object_object_add(args, "timeout-ms", json_object_new_int((int)a->d->config->agent_timeout_ms));
	a->asked = uv_now(a->d->loop);
	r = agent_client_call(agent, "bond-activate-vf", args, 2 * a->d->config->agent_timeout_ms,
			      vf_activate_on_reply, a);
	if (r < 0)
		vf_activate_finish(a, r, "cannot send to the guest agent");
}

int vf_activate_start(host_daemon *d, const char *vm_name, vf_activate_cb cb, void *userdata)
{
	vf_activate *a = calloc(1, sizeof(*a));

	if (!a || !(a->vm_name = strdup(vm_name))) {
		free(a);
		return -ENOMEM;
	}
	a->d = d;
	a->cb = cb;
	a->userdata = userdata;
	a->deadline = uv_now(d->loop) + VF_ACTIVATE_TIMEOUT_MS;
	/* Until an answer says when the request went out: when it was made. */
	a->wait.request_sent_ms = uv_now(d->loop);
	vf_activate_ask(a);
	return 0;
}
