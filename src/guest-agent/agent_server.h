/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The agent's request loop: reads requests from its channel (the virtio-serial port, or an fd
 * in tests), checks them against the protocol tables, runs them, writes the replies, and pushes
 * events. Commands may finish later (a job): a slow one never holds up the others.
 */
#pragma once

#include <stdbool.h>

#include <json-c/json.h>
#include <uv.h>

#include "agent_did.h"
#include "agent_net.h"
#include "agent_protocol.h"

typedef struct agent_server agent_server;
typedef struct agent_job agent_job;

typedef struct agent_server_backend {
	const agent_net_ops *net;
	void *net_ctx;
	const agent_did_ops *did;
	void *did_ctx;
	/* Serve `fault` (agent_fault.h): drills and tests only, main's --allow-faults. */
	bool allow_faults;
} agent_server_backend;

int agent_server_new(uv_loop_t *loop, const agent_server_backend *backend, agent_server **ret);
/* Frees once the loop has closed its handles; pending jobs are failed first. */
void agent_server_free(agent_server *s);

/*
 * Serve this connected fd (tests: one end of a socketpair); taken over on success and failure.
 * The server stops serving at EOF.
 */
int agent_server_attach_fd(agent_server *s, int fd);
/*
 * Serve a port: path, or the virtio-serial port named AGENT_PROTOCOL_PORT_NAME when path is
 * NULL. Survives the host side going away and the port vanishing: it looks again after a
 * back-off and never gives up.
 */
int agent_server_attach_port(agent_server *s, const char *path);

/* The backend's change notification: re-reads links, pushes events, wakes carrier waiters. */
void agent_server_links_changed(agent_server *s);

/* Push an event to the host (dropped while no host is connected). data: reference taken. */
void agent_server_event(agent_server *s, agent_event_id event, json_object *data);

/* Finish a job: exactly one of these, exactly once. ret: reference taken (NULL: {}). */
void agent_job_return(agent_job *j, json_object *ret);
/*
 * agent_job_return(), then call written once: with 0 when the reply has reached the host's fd,
 * with a negative errno when it was dropped (agent_channel_when_written()).
 */
void agent_job_return_then(agent_job *j, json_object *ret, void (*written)(void *userdata, int status),
			   void *userdata);
void agent_job_fail(agent_job *j, agent_error_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Fail with the protocol code that fits a negative errno from the backend. */
void agent_job_fail_errno(agent_job *j, int error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
json_object *agent_job_args(agent_job *j);
agent_command_id agent_job_command(agent_job *j);
uv_loop_t *agent_job_loop(agent_job *j);
