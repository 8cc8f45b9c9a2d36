// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libvirt's event loop on libuv (virt_event.h). Every watch and timeout is an entry in one table
 * under a mutex; what libvirt asks for (events, interval, removal) is recorded there and the
 * entry's libuv handle is brought in line on the loop thread: at once when libvirt called from
 * it, else from the async handle's callback.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include <libvirt/libvirt.h>

#include "log.h"
#include "libvirt/virt_event.h"

typedef struct virt_entry {
	int id;
	bool is_timer;
	int fd;
	int events;   /* watch: VIR_EVENT_HANDLE_* wanted; 0: none */
	int interval; /* timeout: ms; -1 off; 0 every loop iteration */
	bool removed;   /* libvirt let it go: close its handle, then call ff */
	bool applied;   /* the handle matches what was asked (false: apply on the loop) */
	bool started;   /* the handle is initialised (it must be closed) */
	virEventHandleCallback handle_cb;
	virEventTimeoutCallback timeout_cb;
	void *opaque;
	virFreeCallback ff;
	union {
		uv_poll_t poll;
		uv_timer_t timer;
	} h;
	struct virt_entry *next;
} virt_entry;

static struct {
	uv_loop_t *loop;
	uv_thread_t thread;
	uv_async_t async;
	uv_mutex_t lock;
	virt_entry *entries;
	int next_id;
} ev;

static bool on_loop_thread(void)
{
	uv_thread_t self = uv_thread_self();

	return uv_thread_equal(&self, &ev.thread);
}

static virt_entry *entry_find(int id, bool is_timer)
{
	for (virt_entry *e = ev.entries; e; e = e->next)
		if (e->id == id && e->is_timer == is_timer && !e->removed)
			return e;
	return NULL;
}

static int uv_events_of(int vir)
{
	int u = 0;

	if (vir & VIR_EVENT_HANDLE_READABLE)
		u |= UV_READABLE;
	if (vir & VIR_EVENT_HANDLE_WRITABLE)
		u |= UV_WRITABLE;
	/* Hang-ups and errors are reported with any of them; libuv has a flag for peer close. */
	return u | UV_DISCONNECT;
}

static void apply_all(void);

/* --- callbacks from libuv, on the loop thread --- */

static void on_poll(uv_poll_t *p, int status, int uv_events)
{
	virt_entry *e = p->data;
	virEventHandleCallback cb;
	int vir = 0, id, fd;
	void *opaque;

	uv_mutex_lock(&ev.lock);
	if (e->removed || !e->events) {
		uv_mutex_unlock(&ev.lock);
		return;
	}
	if (status < 0)
		vir |= VIR_EVENT_HANDLE_ERROR;
	if (uv_events & UV_READABLE)
		vir |= VIR_EVENT_HANDLE_READABLE;
	if (uv_events & UV_WRITABLE)
		vir |= VIR_EVENT_HANDLE_WRITABLE;
	if (uv_events & UV_DISCONNECT)
		vir |= VIR_EVENT_HANDLE_HANGUP;
	cb = e->handle_cb;
	opaque = e->opaque;
	id = e->id;
	fd = e->fd;
	uv_mutex_unlock(&ev.lock);
	/* Without the lock: the callback calls back into the impl. */
	cb(id, fd, vir, opaque);
}

static void on_timer(uv_timer_t *t)
{
	virt_entry *e = t->data;
	virEventTimeoutCallback cb;
	void *opaque;
	int id;

	uv_mutex_lock(&ev.lock);
	if (e->removed || e->interval < 0) {
		uv_mutex_unlock(&ev.lock);
		return;
	}
	cb = e->timeout_cb;
	opaque = e->opaque;
	id = e->id;
	/* 0: fire again on the next iteration, as libvirt's own loop does. */
	if (e->interval == 0)
		uv_timer_start(&e->h.timer, on_timer, 0, 0);
	uv_mutex_unlock(&ev.lock);
	cb(id, opaque);
}

static void on_closed(uv_handle_t *h)
{
	virt_entry *e = h->data;

	/* The entry left the table when it was closed: nobody else sees it now. */
	if (e->ff)
		e->ff(e->opaque);
	free(e);
}

/* Bring e's handle in line with what libvirt asked; on the loop thread, under the lock. */
static void apply(virt_entry *e)
{
	if (e->applied)
		return;
	e->applied = true;
	if (!e->started) {
		if (e->is_timer)
			uv_timer_init(ev.loop, &e->h.timer);
		else if (uv_poll_init(ev.loop, &e->h.poll, e->fd) < 0) {
			/* A descriptor libuv cannot poll (a regular file): libvirt never gives one. */
			log_error("libvirt asked to watch fd %d, which libuv cannot poll", e->fd);
			return;
		}
		e->h.poll.data = e; /* the same place in either member of the union */
		e->h.timer.data = e;
		e->started = true;
	}
	if (e->is_timer) {
		if (e->interval < 0)
			uv_timer_stop(&e->h.timer);
		else
			uv_timer_start(&e->h.timer, on_timer, (uint64_t)e->interval,
				       (uint64_t)e->interval);
	} else if (e->events) {
		uv_poll_start(&e->h.poll, uv_events_of(e->events), on_poll);
	} else {
		uv_poll_stop(&e->h.poll);
	}
}

static void apply_all(void)
{
	virt_entry **p = &ev.entries, *e;

	while ((e = *p)) {
		if (!e->removed) {
			apply(e);
			p = &e->next;
			continue;
		}
		*p = e->next;
		/* ff runs from the close callback, after the lock (it may call into libvirt).
		 * An entry that never got its handle gets one for that. */
		if (!e->started)
			uv_timer_init(ev.loop, &e->h.timer);
		e->h.timer.data = e;
		uv_close((uv_handle_t *)&e->h, on_closed);
	}
}

static void on_async(uv_async_t *a)
{
	uv_mutex_lock(&ev.lock);
	apply_all();
	uv_mutex_unlock(&ev.lock);
}

/* After a change: apply it now on the loop thread, or wake the loop. */
static void changed(void)
{
	if (on_loop_thread())
		apply_all();
	else
		uv_async_send(&ev.async);
}

/* --- the impl libvirt calls, from any thread --- */

static int entry_add(bool is_timer, int fd, int events, int interval,
		     virEventHandleCallback hcb, virEventTimeoutCallback tcb, void *opaque,
		     virFreeCallback ff)
{
	virt_entry *e = calloc(1, sizeof(*e));
	int id;

	if (!e)
		return -1;
	*e = (virt_entry){ .is_timer = is_timer, .fd = fd, .events = events,
			   .interval = interval, .handle_cb = hcb, .timeout_cb = tcb,
			   .opaque = opaque, .ff = ff };
	uv_mutex_lock(&ev.lock);
	id = e->id = ++ev.next_id;
	e->next = ev.entries;
	ev.entries = e;
	changed();
	uv_mutex_unlock(&ev.lock);
	return id;
}

static int add_handle(int fd, int events, virEventHandleCallback cb, void *opaque,
		      virFreeCallback ff)
{
	return entry_add(false, fd, events, 0, cb, NULL, opaque, ff);
}

static void update_handle(int watch, int events)
{
	virt_entry *e;

	uv_mutex_lock(&ev.lock);
	e = entry_find(watch, false);
	if (e && e->events != events) {
		e->events = events;
		e->applied = false;
		changed();
	}
	uv_mutex_unlock(&ev.lock);
}

static int entry_remove(int id, bool is_timer)
{
	virt_entry *e;

	uv_mutex_lock(&ev.lock);
	e = entry_find(id, is_timer);
	if (e) {
		e->removed = true;
		changed();
	}
	uv_mutex_unlock(&ev.lock);
	return e ? 0 : -1;
}

static int remove_handle(int watch)
{
	return entry_remove(watch, false);
}

static int add_timeout(int interval, virEventTimeoutCallback cb, void *opaque,
		       virFreeCallback ff)
{
	return entry_add(true, -1, 0, interval, NULL, cb, opaque, ff);
}

static void update_timeout(int timer, int interval)
{
	virt_entry *e;

	uv_mutex_lock(&ev.lock);
	e = entry_find(timer, true);
	if (e) {
		e->interval = interval;
		e->applied = false;
		changed();
	}
	uv_mutex_unlock(&ev.lock);
}

static int remove_timeout(int timer)
{
	return entry_remove(timer, true);
}

int virt_event_register(uv_loop_t *loop)
{
	if (ev.loop)
		return ev.loop == loop ? -EALREADY : -EBUSY;
	if (uv_mutex_init(&ev.lock) < 0)
		return -ENOMEM;
	if (uv_async_init(loop, &ev.async, on_async) < 0) {
		uv_mutex_destroy(&ev.lock);
		return -ENOMEM;
	}
	/* Waking the loop must not keep it alive by itself. */
	uv_unref((uv_handle_t *)&ev.async);
	ev.loop = loop;
	ev.thread = uv_thread_self();
	virEventRegisterImpl(add_handle, update_handle, remove_handle, add_timeout,
			     update_timeout, remove_timeout);
	return 0;
}
