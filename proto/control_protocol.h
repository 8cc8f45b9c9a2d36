/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon protocol, defined once: the tables in control_protocol.c list every command (which
 * socket serves it, its typed arguments, the members of its reply), every error code and every
 * feature. dmigrated checks each request against them before a handler sees it, the source daemon
 * checks each peer reply against them (src/orchestrator/migration/peer_reply.h) before it uses a
 * field, and proto/control-protocol.md is generated from them (`control-protocol-doc`, checked by
 * `meson test`), so the three cannot drift apart.
 *
 * Spoken on dmigrated's two Unix sockets: the control socket, by the `dmigrate` CLI, and the peer
 * socket, by the peer daemon on the other host through an SSH direct-streamlocal channel. Each
 * socket serves only its side's commands (control_command.side), so a peer cannot start or
 * migrate VMs and the CLI cannot drive half a migration.
 *
 * Framing: proto/json_stream.h, one JSON object per line, at most CONTROL_MAX_MESSAGE bytes.
 *
 *   request  {"id": 7, "cmd": "migrate", "args": {"vm": "vm1", "to": "hostB"}}
 *   event    {"id": 7, "event": "progress", "data": {...}}   zero or more, before the reply
 *   reply    {"id": 7, "return": {...}}
 *        or  {"id": 7, "error": {"code": "not-found", "message": "No VM named 'vm9' on hostA"}}
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

/* The versions this build speaks; `hello` picks the highest both sides know. */
#define CONTROL_PROTOCOL_VERSION_MIN 1
#define CONTROL_PROTOCOL_VERSION 2
/* Version 2 changed peer-prepare (a port, never a URI): the peer socket speaks 2 and up only. */
#define CONTROL_PROTOCOL_VERSION_MIN_PEER 2
#define CONTROL_MAX_MESSAGE (256 * 1024)
/* Requests one connection may have outstanding toward us; more are refused with "busy". */
#define CONTROL_MAX_IN_FLIGHT 32
/* A VM, host, VF or feature name: 1 to this many bytes (control_name_valid()). */
#define CONTROL_NAME_MAX 64
/* The longest error message a reader takes from the other side; longer ones are cut. */
#define CONTROL_MAX_ERROR_MESSAGE 1024
/* The most features a hello may list. */
#define CONTROL_MAX_FEATURES 32

/* The ranges of the `migrate` settings (request overrides and dmigrated's config alike). */
#define MIGRATE_DOWNTIME_MIN_MS 1
#define MIGRATE_DOWNTIME_MAX_MS 60000
#define MIGRATE_BANDWIDTH_MAX_MIBPS 1000000
#define MIGRATE_MULTIFD_MAX 64
/* `evacuate`: migrations at a time. */
#define EVACUATE_PARALLEL_MAX 16

/* The error codes (control_errors[] says what each means and how the CLI exits on it). */
#define CONTROL_ERR_INVALID "invalid-argument"
#define CONTROL_ERR_NOT_FOUND "not-found"
#define CONTROL_ERR_BUSY "busy"
#define CONTROL_ERR_FAILED "failed"
#define CONTROL_ERR_UNKNOWN_COMMAND "unknown-command"
#define CONTROL_ERR_PROTOCOL "protocol-error"
#define CONTROL_ERR_INCOMPATIBLE "incompatible"
#define CONTROL_ERR_NOT_RUNNING "not-running"
#define CONTROL_ERR_VM_LOST "vm-lost"

/* The features (control_features[]). */
#define CONTROL_FEATURE_FAULT_INJECTION "fault-injection"

typedef enum control_side {
	CONTROL_SIDE_BOTH, /* hello */
	CONTROL_SIDE_CLI,  /* the control socket: the dmigrate CLI */
	CONTROL_SIDE_PEER, /* the peer socket: the source host's daemon */
} control_side;

typedef enum control_type {
	CONTROL_STRING,    /* min..max bytes of UTF-8 text without NUL or control characters */
	CONTROL_NAME,      /* a name: control_name_valid() */
	CONTROL_PATH,      /* an absolute path: CONTROL_STRING that starts with '/' */
	CONTROL_INT,       /* an integer within min..max */
	CONTROL_BOOL,
	CONTROL_OBJECT,    /* a JSON object, checked by the parser its doc names */
	CONTROL_ARRAY,     /* a JSON array of at most max entries, shaped as its doc says */
	CONTROL_NAME_LIST, /* a JSON array of at most max distinct names */
} control_type;

typedef struct control_field {
	const char *name;
	control_type type;
	bool required;
	bool nullable; /* JSON null is accepted too (a reply's "no VF") */
	int64_t min, max;
	const char *doc;
} control_field;

typedef enum control_command_id {
	CONTROL_CMD_HELLO,
	CONTROL_CMD_LIST,
	CONTROL_CMD_STATUS,
	CONTROL_CMD_START,
	CONTROL_CMD_STOP,
	CONTROL_CMD_MIGRATE,
	CONTROL_CMD_CANCEL,
	CONTROL_CMD_DOCTOR,
	CONTROL_CMD_PEER_CHECK,
	CONTROL_CMD_PEER_PREPARE,
	CONTROL_CMD_PEER_ABORT,
	CONTROL_CMD_PEER_SWITCHOVER,
	CONTROL_CMD_PEER_PLUG,
	CONTROL_CMD_PEER_ACTIVATE,
	CONTROL_CMD_PEER_DID_ON,
	CONTROL_CMD_PEER_COMMIT,
	CONTROL_CMD_PEER_FAULT,
	CONTROL_CMD_PEER_DOCTOR,
	CONTROL_CMD_EVACUATE,
	CONTROL_CMD_DETACH,
	CONTROL_CMD_ATTACH,
	CONTROL_CMD_PEER_HOOK_RELEASE,
	_CONTROL_CMD_MAX,
} control_command_id;

typedef struct control_command {
	control_command_id id;
	const char *name;
	control_side side;
	unsigned since;      /* the protocol version that introduced this shape of it */
	const char *feature; /* the feature both sides must announce in hello, or NULL */
	const control_field *args;    /* terminated by an entry with name == NULL */
	const control_field *returns; /* the members of "return"; unknown ones are ignored */
	const char *doc;
	const char *const *errors; /* codes it answers besides the generic ones; NULL-terminated */
} control_command;

typedef struct control_error {
	const char *code;
	int exit_code; /* what the CLI exits with on it */
	const char *doc;
} control_error;

typedef struct control_feature {
	const char *name;
	const char *doc;
} control_feature;

extern const control_command control_commands[_CONTROL_CMD_MAX];
extern const control_error control_errors[];
extern const size_t control_n_errors;
extern const control_feature control_features[];
extern const size_t control_n_features;

const control_command *control_command_find(const char *name);
/* Whether a socket serving `side` serves cmd. */
bool control_command_served_on(const control_command *cmd, control_side side);
/* The error code as this build knows it, or NULL for a code it does not know. */
const control_error *control_error_find(const char *code);

/* 1..CONTROL_NAME_MAX bytes of [A-Za-z0-9._:-], starting with a letter or digit: safe in a
 * file name, a QEMU option value, a log line and a shell word alike. */
bool control_name_valid(const char *s, size_t len);

/*
 * Check one JSON value against a field. On failure -EINVAL with a message in errbuf that names
 * `what` (e.g. "argument 'vm'" or "peer-prepare's 'port'") and the value's problem.
 */
int control_field_check(const control_field *f, json_object *v, const char *what, char *errbuf,
			size_t errlen);

/*
 * A request's args against cmd's table entry: not an object, unknown names, wrong types, values
 * out of range and missing required arguments are refused with -EINVAL and a message in errbuf
 * that names the argument.
 */
int control_args_validate(const control_command *cmd, json_object *args, char *errbuf, size_t errlen);
/*
 * A reply's "return" against cmd's table entry: not an object, wrong types, values out of range
 * and missing required members are refused with -EBADMSG and a message that names the member
 * ("'port' must be within 1..65535"; the caller says whose reply to what). Members the table does
 * not list are ignored (a newer peer may add some).
 */
int control_reply_validate(const control_command *cmd, json_object *ret, char *errbuf, size_t errlen);

/*
 * Text from another host that an operator will read (a peer's doctor report): every control
 * character in every string within v becomes '?', in place, so that nothing a peer says can drive
 * the operator's terminal. -EBADMSG (errbuf says why) for a member name with one, -ENOMEM.
 */
int control_value_text_clean(json_object *v, char *errbuf, size_t errlen);

/*
 * The version hello settles on: the highest in both [min, max] and ours for `side`, or -1 when
 * the ranges do not overlap.
 */
int control_version_negotiate(control_side side, int64_t min, int64_t max);

/* The reference document, generated from the tables (control_protocol_doc.c). */
int control_protocol_doc_write(FILE *f);
