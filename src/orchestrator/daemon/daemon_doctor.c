// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The daemon's `doctor`: this host's checks (host/doctor.h) as JSON, or, with "peer", the same
 * asked of that peer's daemon over the peer link, for `dmigrate doctor --peer HOST`.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control_protocol.h"
#include "daemon/daemon.h"
#include "host/doctor.h"
#include "log.h"
#include "transport/peer_link.h"

/* The peer's checks include its KVM probe (2 s at most) and its own peers' sshd (3 s each). */
#define DOCTOR_PEER_TIMEOUT_MS 60000

typedef struct doctor_forward {
	rpc_request *req;
	peer_link *link;
	char *peer;
} doctor_forward;

static void doctor_forward_free(doctor_forward *f)
{
	peer_link_close(f->link);
	free(f->peer);
	free(f);
}

static void doctor_on_peer_reply(rpc_conn *c, int error, json_object *ret, const char *code,
				 const char *message, void *userdata)
{
	doctor_forward *f = userdata;

	if (error == -ECANCELED)
		return;
	if (error < 0)
		rpc_request_reply_error(f->req, CONTROL_ERR_FAILED, "%s did not run its checks: %s",
					f->peer, message ? message : strerror(-error));
	else
		rpc_request_reply(f->req, json_object_get(ret));
	doctor_forward_free(f);
}

static void doctor_on_link(peer_link *l, rpc_conn *conn, int error, const char *message,
			   void *userdata)
{
	doctor_forward *f = userdata;
	int r;

	if (error < 0) {
		rpc_request_reply_error(f->req, CONTROL_ERR_FAILED, "Cannot reach %s: %s", f->peer,
					message ? message : strerror(-error));
		doctor_forward_free(f);
		return;
	}
	r = rpc_conn_call(conn, "doctor", json_object_new_object(), DOCTOR_PEER_TIMEOUT_MS, NULL,
			  doctor_on_peer_reply, f);
	if (r < 0) {
		rpc_request_reply_error(f->req, CONTROL_ERR_FAILED, "Cannot ask %s: %s", f->peer,
					strerror(-r));
		doctor_forward_free(f);
	}
}

void daemon_cmd_doctor(host_daemon *d, rpc_request *req, json_object *args)
{
	sysfs fs = { .root = d->config->system_root };
	const peer_config *peer;
	doctor_report report;
	doctor_forward *f;
	json_object *p;
	int r;

	if (!args || !json_object_object_get_ex(args, "peer", &p)) {
		doctor_run(&fs, d->config, &doctor_host_probes, &report);
		rpc_request_reply(req, doctor_report_to_json(&report, d->config->name));
		doctor_report_done(&report);
		return;
	}
	if (!json_object_is_type(p, json_type_string) ||
	    !(peer = host_config_find_peer(d->config, json_object_get_string(p)))) {
		rpc_request_reply_error(req, CONTROL_ERR_NOT_FOUND,
					"Unknown host '%.64s': it is not among the peers in %s",
					json_object_get_string(p), d->config->path);
		return;
	}
	f = calloc(1, sizeof(*f));
	if (!f || !(f->peer = strdup(peer->name))) {
		free(f);
		rpc_request_reply_error(req, CONTROL_ERR_FAILED, "Out of memory");
		return;
	}
	f->req = req;
	r = peer_link_open(d, peer, doctor_on_link, f, &f->link);
	if (r < 0) {
		rpc_request_reply_error(req, CONTROL_ERR_FAILED, "Cannot open a link to %s: %s",
					peer->name, strerror(-r));
		f->link = NULL;
		doctor_forward_free(f);
	}
}
