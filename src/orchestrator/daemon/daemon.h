/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dmigrated's state: one per process, owned by dmigrated_main.c. */
#pragma once

#include <json-c/json.h>
#include <uv.h>

#include "daemon/host_config.h"
#include "host/vf_pool.h"
#include "migration/bandwidth_share.h"

#include "control_protocol.h"

struct dest_job;
struct evacuation;

typedef struct vm vm;
typedef struct host_daemon host_daemon;

/* One of the daemon's sockets; it serves the commands of its side only (control_protocol.h). */
typedef struct daemon_listener {
	host_daemon *d;
	control_side side;
	const char *path;
	int fd;
	uv_poll_t poll;
} daemon_listener;

struct host_daemon {
	uv_loop_t *loop;
	host_config *config;
	vf_pool *pool;
	bandwidth_share *bandwidth; /* the host's migration bandwidth cap, split between the copies */
	vm *vms;
	struct dest_job *dest_jobs; /* incoming migrations (migration_dest.c) */
	daemon_listener control; /* config->control_socket: the CLI */
	daemon_listener peer;    /* config->peer_socket: peer daemons, through sshd */
	uv_signal_t sigterm, sigint;
	char *qemu_version; /* of config->qemu_binary, for hello and peer-check */
	bool kvm_works;     /* kvm_probe() at start: what "accel": "auto" resolves to */
	struct evacuation *evacuation; /* the one running (daemon/evacuation.h), or NULL */
};

/* Listen on config->control_socket and config->peer_socket (mode 0600) and serve the daemon
 * protocol, each socket its own side's commands. */
int daemon_control_listen(host_daemon *d);
void daemon_control_close(host_daemon *d);
/* Serve the daemon protocol on one connected fd (taken in every case) as `side` would. */
int daemon_control_serve_fd(host_daemon *d, control_side side, int fd);

typedef struct rpc_request rpc_request;
/* The commands the CLI uses (daemon_vm_commands.c). */
void daemon_cmd_list(host_daemon *d, rpc_request *req, json_object *args);
void daemon_cmd_status(host_daemon *d, rpc_request *req, json_object *args);
void daemon_cmd_start(host_daemon *d, rpc_request *req, json_object *args);
void daemon_cmd_stop(host_daemon *d, rpc_request *req, json_object *args);
void daemon_cmd_migrate(host_daemon *d, rpc_request *req, json_object *args);
/* This host's checks, or with "peer" a peer's (daemon_doctor.c); peers ask it of each other. */
void daemon_cmd_doctor(host_daemon *d, rpc_request *req, json_object *args);
void daemon_cmd_cancel(host_daemon *d, rpc_request *req, json_object *args);
/* Empty this host: its VMs placed on peers and migrated, journalled (daemon/evacuation.h). */
void daemon_cmd_evacuate(host_daemon *d, rpc_request *req, json_object *args);
/* A string argument, or an invalid-argument reply naming it (then NULL is returned). */
const char *daemon_arg_string(rpc_request *req, json_object *args, const char *key);
