/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libvirt's event loop, driven by the daemon's libuv loop (virEventRegisterImpl): the file
 * descriptors libvirt watches become uv_poll_t handles and its timeouts uv_timer_t, so domain
 * events (DEVICE_REMOVED, lifecycle, job completion) and keepalives run on the daemon's one loop
 * thread, beside QMP, the agents and the peers, without a thread of their own.
 *
 * libvirt calls the impl from any thread (an API call made in a worker, such as the blocking
 * virDomainMigrateToURI3, updates its connection's watch): calls from another thread are
 * recorded under a lock and applied on the loop through a uv_async_t. Callbacks always run on
 * the loop thread. Free callbacks run on the loop after the watch or timeout is gone, as libvirt
 * asks (never inside the remove call).
 *
 * Registered once per process, before the first virConnectOpen(); libvirt has no way back.
 */
#pragma once

#include <uv.h>

/* 0, or -EALREADY when it was registered already (on this loop or another: -EBUSY). */
int virt_event_register(uv_loop_t *loop);
