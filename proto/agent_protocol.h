/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The agent protocol, defined once: the tables in agent_protocol.c list every command with its
 * typed arguments, every event and every error code. The guest agent validates requests with
 * them, the host client validates its own calls and the agent's answers with them, and
 * proto/agent-protocol.md is generated from them (`protocol-doc agent`, checked by
 * `meson test`), so the three cannot drift apart.
 *
 * Wire shapes (one JSON object per line, proto/json_stream.h framing):
 *   request  {"id":N,"cmd":"bond-status","args":{...}}        args optional
 *   reply    {"id":N,"return":{...}}
 *            {"id":N,"error":{"code":"invalid-argument","message":"..."}}
 *            (id is absent when the request had no usable id)
 *   event    {"event":"vf-added","data":{...}}
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

/* Versions this build speaks; `hello` picks the highest both sides know. */
#define AGENT_PROTOCOL_VERSION_MIN 1
#define AGENT_PROTOCOL_VERSION_MAX 1
/* The largest message either side sends or accepts, without its '\n'. */
#define AGENT_PROTOCOL_MAX_MESSAGE (16 * 1024)
/* The virtio-serial port name the host gives the agent's channel. */
#define AGENT_PROTOCOL_PORT_NAME "org.dmigrate.agent.0"
/* Request ids are integers from 0 to this (2^53-1). */
#define AGENT_PROTOCOL_MAX_ID ((INT64_C(1) << 53) - 1)
/* Requests the agent runs at once; more are answered with `busy`. */
#define AGENT_PROTOCOL_MAX_IN_FLIGHT 16
/* The longest error message an agent sends (longer ones are cut). */
#define AGENT_PROTOCOL_MAX_ERROR_MESSAGE 512
/* The longest `fault` stall (test only: failover drills). */
#define AGENT_PROTOCOL_MAX_FAULT_STALL_MS 600000

typedef enum agent_error_code {
	AGENT_ERROR_BAD_JSON,
	AGENT_ERROR_TOO_BIG,
	AGENT_ERROR_BAD_REQUEST,
	AGENT_ERROR_UNKNOWN_COMMAND,
	AGENT_ERROR_INVALID_ARGUMENT,
	AGENT_ERROR_INCOMPATIBLE,
	AGENT_ERROR_BUSY,
	AGENT_ERROR_UNAVAILABLE,
	AGENT_ERROR_UNSUPPORTED,
	AGENT_ERROR_NOT_FOUND,
	AGENT_ERROR_TIMEOUT,
	AGENT_ERROR_FAILED,
	_AGENT_ERROR_MAX,
} agent_error_code;

typedef struct agent_error_def {
	const char *name; /* on the wire: "invalid-argument" */
	int errno_value;  /* what the host client reports it as (positive) */
	const char *doc;
} agent_error_def;

typedef enum agent_arg_type {
	AGENT_ARG_STRING,    /* length within [min, max] */
	AGENT_ARG_INT,       /* value within [min, max] */
	AGENT_ARG_BOOL,
	AGENT_ARG_ENUM,      /* a string out of values */
	AGENT_ARG_ENUM_LIST, /* an array of distinct strings out of values, at most max */
} agent_arg_type;

typedef struct agent_arg_def {
	const char *name;
	agent_arg_type type;
	bool required;
	int64_t min, max;
	const char *const *values; /* ENUM, ENUM_LIST: NULL-terminated */
	const char *doc;           /* includes the default of an optional argument */
} agent_arg_def;

typedef enum agent_command_id {
	AGENT_CMD_SYNC,
	AGENT_CMD_HELLO,
	AGENT_CMD_BOND_STATUS,
	AGENT_CMD_BOND_SET_ACTIVE,
	AGENT_CMD_BOND_ACTIVATE_VF,
	AGENT_CMD_BOND_RELEASE,
	AGENT_CMD_ANNOUNCE,
	AGENT_CMD_DID_STATUS,
	AGENT_CMD_DID_ENABLE,
	AGENT_CMD_DID_DISABLE,
	AGENT_CMD_FAULT,
	_AGENT_CMD_MAX,
} agent_command_id;

typedef struct agent_command_def {
	agent_command_id id;
	const char *name;
	const agent_arg_def *args; /* terminated by an entry with name == NULL */
	/* When set, exactly one of these two arguments must be given. */
	const char *exactly_one_of[2];
	const char *doc;
	const char *returns; /* the members of "return", for the reference */
	const agent_error_code *errors; /* besides the generic ones; ends with _AGENT_ERROR_MAX */
} agent_command_def;

typedef enum agent_event_id {
	AGENT_EVENT_VF_ADDED,
	AGENT_EVENT_VF_REMOVED,
	AGENT_EVENT_LINK_UP,
	AGENT_EVENT_LINK_DOWN,
	AGENT_EVENT_ACTIVE_CHANGED,
	_AGENT_EVENT_MAX,
} agent_event_id;

typedef struct agent_event_def {
	const char *name;
	const char *doc;
	const char *data; /* the members of "data", for the reference */
} agent_event_def;

extern const agent_command_def agent_commands[_AGENT_CMD_MAX];
extern const agent_event_def agent_events[_AGENT_EVENT_MAX];
extern const agent_error_def agent_errors[_AGENT_ERROR_MAX];

const agent_command_def *agent_command_find(const char *name);
const char *agent_error_code_to_string(agent_error_code code);
/* The negative errno for a wire error code; -EREMOTEIO for codes this build does not know. */
int agent_error_to_errno(const char *code);

/*
 * Check args (a JSON object, or NULL for none) against cmd's table entry: unknown names, wrong
 * types, values out of range and missing required arguments are refused with -EINVAL and a
 * message in errbuf that names the argument.
 */
int agent_args_validate(const agent_command_def *cmd, json_object *args, char *errbuf, size_t errlen);

/* Accessors for validated args; absent arguments give the default. */
const char *agent_args_get_string(json_object *args, const char *name, const char *def);
int64_t agent_args_get_int(json_object *args, const char *name, int64_t def);
bool agent_args_get_bool(json_object *args, const char *name, bool def);

/* A request as the agent sees it after agent_request_parse(). */
typedef struct agent_request {
	bool has_id;
	int64_t id;
	const agent_command_def *cmd;
	json_object *args; /* borrowed from the message; NULL when absent */
} agent_request;

/*
 * Parse one message from the host. Returns 0, or a negative errno with *ret_code and errbuf
 * saying what to answer: -EPROTO (bad-request), -EOPNOTSUPP (unknown-command), -EINVAL
 * (invalid-argument). ret->has_id/id are filled even on failure when the id was readable, so
 * the error can be matched to its request.
 */
int agent_request_parse(json_object *msg, agent_request *ret, agent_error_code *ret_code, char *errbuf,
			size_t errlen);

/* A message as the host client sees it after agent_message_parse(). */
typedef enum agent_message_kind {
	AGENT_MESSAGE_RETURN,
	AGENT_MESSAGE_ERROR,
	AGENT_MESSAGE_EVENT,
} agent_message_kind;

typedef struct agent_message {
	agent_message_kind kind;
	bool has_id;
	int64_t id;
	json_object *value;  /* RETURN: the object; EVENT: data (an object); borrowed */
	const char *name;    /* EVENT: the event; ERROR: the code; borrowed */
	const char *message; /* ERROR: the text; borrowed */
} agent_message;

/* Parse one message from the agent; -EPROTO for anything that is not a reply or an event. */
int agent_message_parse(json_object *msg, agent_message *ret);

/* Builders; each returns a new reference or NULL on allocation failure. ret/data: ref taken. */
json_object *agent_request_new(int64_t id, const char *cmd, json_object *args);
json_object *agent_reply_new_return(int64_t id, json_object *ret);
json_object *agent_reply_new_error(bool has_id, int64_t id, agent_error_code code, const char *message);
json_object *agent_event_new(agent_event_id event, json_object *data);

/* The reference document, generated from the tables (see agent_protocol_doc.c). */
int agent_protocol_doc_write(FILE *f);
