/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon protocol, spoken on dmigrated's Unix socket by the `dmigrate` CLI and, through an SSH
 * direct-streamlocal channel, by the peer daemon on the other host. One protocol for both: peer
 * commands are ordinary commands whose names start with "peer-".
 *
 * Framing: proto/json_stream.h, one JSON object per line, at most CONTROL_MAX_MESSAGE bytes.
 *
 *   request  {"id": 7, "cmd": "migrate", "args": {"vm": "vm1", "to": "hostB"}}
 *   event    {"id": 7, "event": "progress", "data": {...}}   zero or more, before the reply
 *   reply    {"id": 7, "return": {...}}
 *        or  {"id": 7, "error": {"code": "not-found", "message": "No VM named 'vm9' on hostA"}}
 *
 * Ids are chosen by the side that sends the request; both sides may send requests. The first
 * request on a connection must be "hello"; see control-protocol.md for every command.
 *
 * Compatibility: a field may be added to any object at any time and readers ignore fields they
 * do not know; removing or retyping a field, or changing a command's meaning, bumps
 * CONTROL_PROTOCOL_VERSION. Optional behaviour is announced as a feature string in "hello".
 */
#pragma once

#define CONTROL_PROTOCOL_VERSION 1
#define CONTROL_MAX_MESSAGE (256 * 1024)
/* Requests one connection may have outstanding toward us; more are refused with "busy". */
#define CONTROL_MAX_IN_FLIGHT 32

/* The ranges of the `migrate` settings (request overrides and dmigrated's config alike). */
#define MIGRATE_DOWNTIME_MIN_MS 1
#define MIGRATE_DOWNTIME_MAX_MS 60000
#define MIGRATE_BANDWIDTH_MAX_MIBPS 1000000
#define MIGRATE_MULTIFD_MAX 64

/* Error codes, and how the CLI maps them to exit codes. */
#define CONTROL_ERR_INVALID "invalid-argument" /* exit 2: bad input, nothing was changed */
#define CONTROL_ERR_NOT_FOUND "not-found"      /* exit 2 */
#define CONTROL_ERR_BUSY "busy"                /* exit 1: e.g. a migration of this VM runs already */
#define CONTROL_ERR_FAILED "failed"            /* exit 1 */
#define CONTROL_ERR_UNKNOWN_COMMAND "unknown-command"
#define CONTROL_ERR_PROTOCOL "protocol-error"
