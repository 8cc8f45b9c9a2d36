// SPDX-License-Identifier: GPL-2.0-or-later
#include "transport/call_queue.h"

void call_queue_append(call_queue *q, call_node *call)
{
	call_node **p = &q->head;

	while (*p)
		p = &(*p)->next;
	call->next = NULL;
	*p = call;
	q->n++;
}

/* Unlinks the first call that `match` accepts. */
static call_node *call_queue_take(call_queue *q, bool (*match)(const call_node *, const void *),
				  const void *what)
{
	for (call_node **p = &q->head; *p; p = &(*p)->next)
		if (match(*p, what)) {
			call_node *call = *p;

			*p = call->next;
			call->next = NULL;
			q->n--;
			return call;
		}
	return NULL;
}

static bool sent_with_id(const call_node *call, const void *id)
{
	return call->id == *(const int64_t *)id && !call->line;
}

static bool any(const call_node *call, const void *unused)
{
	return true;
}

static bool expired(const call_node *call, const void *now)
{
	return call->deadline <= *(const uint64_t *)now;
}

call_node *call_queue_take_sent(call_queue *q, int64_t id)
{
	return call_queue_take(q, sent_with_id, &id);
}

call_node *call_queue_pop(call_queue *q)
{
	return call_queue_take(q, any, NULL);
}

call_node *call_queue_pop_expired(call_queue *q, uint64_t now)
{
	return call_queue_take(q, expired, &now);
}

uint64_t call_queue_next_deadline(const call_queue *q, uint64_t bound)
{
	for (const call_node *call = q->head; call; call = call->next)
		if (call->deadline < bound)
			bound = call->deadline;
	return bound;
}

bool call_queue_sent_expired(const call_queue *q, uint64_t now)
{
	for (const call_node *call = q->head; call; call = call->next)
		if (!call->line && call->deadline <= now)
			return true;
	return false;
}
