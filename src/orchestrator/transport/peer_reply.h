/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a peer daemon answers, turned from untrusted JSON into checked C values. A peer may be
 * compromised or just broken; nothing it says reaches QEMU, a file name, a log line or the CLI
 * before one of these functions has checked it against the protocol table
 * (proto/control_protocol.h: types, ranges, name syntax) and the rules of its command.
 *
 * Each parser takes the reply's "return" value (any JSON value, or NULL), fills *ret only on
 * success, and on failure returns -EBADMSG with errbuf saying which member is wrong and how,
 * ready to follow "PEER's reply to COMMAND is refused: ". Members the table does not list are ignored, as the
 * protocol's compatibility rules say.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "control_protocol.h"

typedef struct peer_hello {
	int version;
	char host[CONTROL_NAME_MAX + 1];
	bool fault_injection; /* the feature is in effect on this connection */
} peer_hello;

/* hello: a version in our peer range, the host name `expected_host` (who we meant to reach), and
 * features out of the ones we offered. */
int peer_reply_hello(json_object *ret, const char *expected_host, peer_hello *out, char *errbuf,
		     size_t errlen);

typedef struct peer_check_reply {
	unsigned free_vfs;
	int64_t memory_available_mib; /* -1: not said (an older peer) */
	int64_t dedicated_cpus_free;  /* -1: not said */
} peer_check_reply;
int peer_reply_check(json_object *ret, peer_check_reply *out, char *errbuf, size_t errlen);

typedef struct peer_prepare_reply {
	uint16_t port; /* 1..65535: the source builds the URI from its own config's address */
} peer_prepare_reply;
/* peer-prepare: the destination's phase prepare done, and the port its QEMU listens on. */
int peer_reply_prepare(json_object *ret, peer_prepare_reply *out, char *errbuf, size_t errlen);

typedef struct peer_phase_reply {
	bool skipped;            /* the phase's state: "skipped", otherwise "done" */
	uint64_t device_wait_ms;  /* peer-activate only */
	uint64_t request_held_ms; /* peer-activate only: of device_wait_ms, at most all of it */
} peer_phase_reply;
/*
 * What the destination says about one of its own phases (peer-switchover, -plug, -activate,
 * -did-on, -commit): the phase must be want_phase (the source's name for the one it waits for)
 * and its state "done" or "skipped".
 */
int peer_reply_phase(control_command_id cmd, const char *want_phase, json_object *ret,
		     peer_phase_reply *out, char *errbuf, size_t errlen);

/* The replies that carry nothing (peer-abort, peer-fault): an object. */
int peer_reply_empty(control_command_id cmd, json_object *ret, char *errbuf, size_t errlen);

typedef struct peer_error {
	const char *code; /* one of the table's codes; CONTROL_ERR_FAILED for any other */
	char message[CONTROL_MAX_ERROR_MESSAGE + 1];
} peer_error;
/*
 * An error reply's code and message (either may be NULL) as they may be shown and acted on: an
 * unknown code becomes "failed" (so a peer cannot invent one the source would act on), every
 * control character in the message becomes '?', and it is cut to CONTROL_MAX_ERROR_MESSAGE bytes.
 */
void peer_error_clean(const char *code, const char *message, peer_error *out);
