// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The calls in flight of the QMP and agent clients (transport/call_queue.h): made in order, a
 * reply taken only by a call that went out, the earliest deadline, expiry one call at a time.
 */
#include "transport/call_queue.h"

#include <stdint.h>

#include "test.h"

static call_node calls[4];

static call_queue four(void)
{
	call_queue q = { 0 };

	for (int i = 0; i < 4; i++) {
		calls[i] = (call_node){ .id = i + 1, .deadline = 100 - 10 * (uint64_t)i };
		call_queue_append(&q, &calls[i]);
	}
	/* The last one waits for the handshake: it has not gone out. */
	calls[3].line = (char *)"queued";
	return q;
}

TEST(in_the_order_made)
{
	call_queue q = four();

	ASSERT_EQ(q.n, 4);
	for (int i = 0; i < 4; i++)
		ASSERT_TRUE(call_queue_pop(&q) == &calls[i]);
	ASSERT_TRUE(call_queue_pop(&q) == NULL);
	ASSERT_EQ(q.n, 0);
}

TEST(a_reply_goes_to_a_sent_call)
{
	call_queue q = four();

	ASSERT_TRUE(call_queue_take_sent(&q, 2) == &calls[1]);
	ASSERT_TRUE(call_queue_take_sent(&q, 2) == NULL); /* a second reply to the same id */
	ASSERT_TRUE(call_queue_take_sent(&q, 4) == NULL); /* not sent yet */
	ASSERT_TRUE(call_queue_take_sent(&q, 99) == NULL);
	ASSERT_EQ(q.n, 3);
	ASSERT_TRUE(call_queue_pop(&q) == &calls[0]);
	ASSERT_TRUE(call_queue_pop(&q) == &calls[2]);
}

TEST(deadlines)
{
	call_queue q = four();

	/* Deadlines 100, 90, 80, 70. */
	ASSERT_EQ(call_queue_next_deadline(&q, UINT64_MAX), 70);
	ASSERT_EQ(call_queue_next_deadline(&q, 50), 50);
	ASSERT_EQ(call_queue_next_deadline(&(call_queue){ 0 }, UINT64_MAX), UINT64_MAX);
	/* At 85 the queued one (70) and a sent one (80) are past theirs. */
	ASSERT_TRUE(call_queue_sent_expired(&q, 85));
	ASSERT_TRUE(!call_queue_sent_expired(&q, 75)); /* only the queued one */
	ASSERT_TRUE(call_queue_pop_expired(&q, 85) == &calls[2]);
	ASSERT_TRUE(call_queue_pop_expired(&q, 85) == &calls[3]);
	ASSERT_TRUE(call_queue_pop_expired(&q, 85) == NULL);
	ASSERT_EQ(q.n, 2);
	ASSERT_EQ(call_queue_next_deadline(&q, UINT64_MAX), 90);
}

int main(void)
{
	RUN_TEST(in_the_order_made);
	RUN_TEST(a_reply_goes_to_a_sent_call);
	RUN_TEST(deadlines);
	return 0;
}
