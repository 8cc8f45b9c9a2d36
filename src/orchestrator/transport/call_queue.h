/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The request/reply core that the QMP and guest agent clients share: the calls in flight, in the
 * order they were made, each matched to its reply by an integer id and bounded by a deadline on
 * the client's one timer. A call made before the client's handshake is done waits here as its
 * formatted line and goes out, in order, once it is. What differs between the protocols stays in
 * each client: the handshake (QMP's greeting and capabilities, the agent's resync and hello),
 * events, what a reply must hold, the callbacks. rpc_conn (the daemons' protocol) does not use
 * it: a call there has a timer of its own and events of its own (docs/developer-guide.md).
 *
 * A client embeds call_node as the first member of its call, and casts back.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct call_node {
	struct call_node *next;
	int64_t id;
	uint64_t deadline; /* uv_now() ms */
	char *line;        /* the request until it is written; NULL once sent */
	size_t len;
} call_node;

typedef struct call_queue {
	call_node *head;
	unsigned n;
} call_queue;

/* At the end: queued requests go out in the order they were made. */
void call_queue_append(call_queue *q, call_node *call);
/* The sent call with this id, unlinked; NULL if none (a late reply to a call that timed out). */
call_node *call_queue_take_sent(call_queue *q, int64_t id);
/* The first call, unlinked; NULL if none. To fail them all: one at a time, since a callback may
 * make new calls or close the client. */
call_node *call_queue_pop(call_queue *q);
/* The first call past its deadline at now, unlinked; NULL if none. */
call_node *call_queue_pop_expired(call_queue *q, uint64_t now);
/* The earliest deadline, or bound if it is earlier (UINT64_MAX: nothing to wait for). */
uint64_t call_queue_next_deadline(const call_queue *q, uint64_t bound);
/* Whether a call that went out is past its deadline at now. */
bool call_queue_sent_expired(const call_queue *q, uint64_t now);
