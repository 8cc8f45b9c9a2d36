/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One connection speaking the daemon protocol (proto/control_protocol.h) over any stream fd:
 * the CLI's Unix socket, a daemon's accepted client, or the peer link's SSH pipe. Symmetric:
 * either side may send requests, receive events for them, and answer the other side's requests.
 */
#pragma once

#include <stdarg.h>
#include <stdint.h>

#include <json-c/json.h>
#include <uv.h>

#include "macro.h"

typedef struct rpc_conn rpc_conn;
/* A request we received; answered exactly once with rpc_request_reply*(), which frees it. */
typedef struct rpc_request rpc_request;

typedef struct rpc_conn_callbacks {
	/* args is borrowed for the call; the handler keeps req until it replies, possibly much later:
	 * if the connection closes meanwhile, the reply is simply dropped. */
	void (*request)(rpc_conn *c, rpc_request *req, const char *cmd, json_object *args,
			void *userdata);
	/* The other side closed or broke the connection (not called after rpc_conn_close()). */
	void (*closed)(rpc_conn *c, int error, void *userdata);
} rpc_conn_callbacks;

typedef void (*rpc_event_cb)(rpc_conn *c, const char *event, json_object *data, void *userdata);
/*
 * error: 0 with ret (borrowed, may be an empty object); -EREMOTEIO for an error reply, with code
 * and message; -ETIMEDOUT; -ECONNRESET when the connection ended first; -ECANCELED when
 * rpc_conn_close() ran first. Called exactly once.
 */
typedef void (*rpc_reply_cb)(rpc_conn *c, int error, json_object *ret, const char *code,
			     const char *message, void *userdata);

/* Takes ownership of fd (a connected stream socket or pipe) in every case. */
int rpc_conn_new(uv_loop_t *loop, int fd, const rpc_conn_callbacks *cbs, void *userdata,
		 rpc_conn **ret);
/* Pending calls get -ECANCELED; requests still held by handlers are detached. Safe in callbacks. */
void rpc_conn_close(rpc_conn *c);
void rpc_conn_set_userdata(rpc_conn *c, void *userdata);

/* args: reference taken, NULL for none. timeout_ms 0 means no timeout (long jobs report events). */
int rpc_conn_call(rpc_conn *c, const char *cmd, json_object *args, uint64_t timeout_ms,
		  rpc_event_cb on_event, rpc_reply_cb on_reply, void *userdata);

/* data/ret: reference taken. */
void rpc_request_event(rpc_request *req, const char *event, json_object *data);
void rpc_request_reply(rpc_request *req, json_object *ret);
void rpc_request_reply_error(rpc_request *req, const char *code, const char *fmt, ...)
	_printf_(3, 4);
/* The connection a request came in on, or NULL once it closed. */
rpc_conn *rpc_request_conn(rpc_request *req);
