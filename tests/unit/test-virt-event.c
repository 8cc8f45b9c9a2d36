// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libvirt's event loop on libuv (libvirt/virt_event.h): timeouts fire on the loop thread, also
 * when added from another thread, and their free callbacks run after removal; a domain event of
 * libvirt's in-process test driver (test:///default) reaches its callback through the loop.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <uv.h>

#include "libvirt/virt_event.h"
#include "test.h"

static uv_loop_t *loop;
static uv_thread_t loop_thread;

static struct {
	int fired;
	bool wrong_thread;
	int freed;
	int id;
} tm;

static void on_timeout(int id, void *opaque)
{
	uv_thread_t self = uv_thread_self();

	if (!uv_thread_equal(&self, &loop_thread))
		tm.wrong_thread = true;
	if (++tm.fired == 3)
		virEventRemoveTimeout(id);
}

static void on_free(void *opaque)
{
	tm.freed++;
}

static void add_from_thread(void *arg)
{
	tm.id = virEventAddTimeout(10, on_timeout, NULL, on_free);
}

/* Run the loop until done() says so, at most max_ms. */
static void run_until(bool (*done)(void), uint64_t max_ms)
{
	uint64_t end = uv_now(loop) + max_ms;

	while (!done() && uv_now(loop) < end) {
		uv_run(loop, UV_RUN_ONCE);
		uv_update_time(loop);
	}
}

static bool timer_done(void)
{
	return tm.freed == 1;
}

/* A guard so that uv_run(ONCE) never blocks for good. */
static void on_tick(uv_timer_t *t)
{
}

TEST(timeouts)
{
	uv_thread_t th;

	/* Added in another thread: applied on the loop through the async handle. */
	ASSERT_EQ(uv_thread_create(&th, add_from_thread, NULL), 0);
	uv_thread_join(&th);
	ASSERT_TRUE(tm.id > 0);
	run_until(timer_done, 5000);
	ASSERT_EQ(tm.fired, 3);
	ASSERT_EQ(tm.freed, 1);
	ASSERT_TRUE(!tm.wrong_thread);
	/* Removed: no more fires, and a second removal is refused. */
	ASSERT_EQ(virEventRemoveTimeout(tm.id), -1);
}

static int lifecycle_events;

static int on_lifecycle(virConnectPtr c, virDomainPtr d, int event, int detail, void *opaque)
{
	if (event == VIR_DOMAIN_EVENT_SUSPENDED || event == VIR_DOMAIN_EVENT_RESUMED)
		lifecycle_events++;
	return 0;
}

static bool events_done(void)
{
	return lifecycle_events == 2;
}

TEST(domain_events)
{
	virConnectPtr c = virConnectOpen("test:///default");
	virDomainPtr d;
	int cb;

	ASSERT_TRUE(c);
	d = virDomainLookupByName(c, "test");
	ASSERT_TRUE(d);
	cb = virConnectDomainEventRegisterAny(c, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
					      VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), NULL, NULL);
	ASSERT_TRUE(cb >= 0);
	ASSERT_EQ(virDomainSuspend(d), 0);
	ASSERT_EQ(virDomainResume(d), 0);
	/* Not delivered inside the calls: only the loop dispatches them. */
	ASSERT_EQ(lifecycle_events, 0);
	run_until(events_done, 5000);
	ASSERT_EQ(lifecycle_events, 2);
	ASSERT_EQ(virConnectDomainEventDeregisterAny(c, cb), 0);
	virDomainFree(d);
	ASSERT_EQ(virConnectClose(c), 0);
}

int main(void)
{
	uv_timer_t tick;

	loop = uv_default_loop();
	loop_thread = uv_thread_self();
	uv_timer_init(loop, &tick);
	uv_timer_start(&tick, on_tick, 50, 50);
	ASSERT_OK(virt_event_register(loop));
	ASSERT_ERRNO(virt_event_register(loop), EALREADY);
	RUN_TEST(timeouts);
	RUN_TEST(domain_events);
	return 0;
}
