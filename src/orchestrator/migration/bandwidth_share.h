/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host's migration bandwidth cap (migration_bandwidth_cap_mibps in the host config), shared
 * between the migrations that copy at the same time. Each source job joins when its QEMU starts
 * copying and leaves when the copy is over; every change recomputes the shares max-min fairly
 * (a job whose own max_bandwidth_mibps is below its equal share keeps its own, and what it leaves
 * goes to the others) and hands each job whose share changed to apply(), which sets QEMU's
 * max-bandwidth while the copy runs. The shares never add up to more than the cap.
 *
 * Without a cap (0) a job's share is its own setting, and nobody else's share changes; a NULL
 * share (a daemon built without one) behaves the same.
 */
#pragma once

#include <stdint.h>

typedef struct bandwidth_share bandwidth_share;

/* Called for every job but the one joining or leaving whose share changed. */
typedef void (*bandwidth_apply_fn)(const char *vm_name, uint64_t mibps, void *userdata);

/* NULL when out of memory. */
bandwidth_share *bandwidth_share_new(uint64_t cap_mibps, bandwidth_apply_fn apply, void *userdata);
bandwidth_share *bandwidth_share_free(bandwidth_share *s);
/*
 * vm starts copying; own_mibps is its own limit (0: none). Returns its share in MiB/s (0: no
 * limit at all, only without a cap). Joining again updates its own limit.
 */
uint64_t bandwidth_share_join(bandwidth_share *s, const char *name, uint64_t own_mibps);
/* vm's copy is over (done, cancelled, its job gone); nothing when it had not joined. */
void bandwidth_share_leave(bandwidth_share *s, const char *name);
/* vm's current share (0: not copying, or no limit). */
uint64_t bandwidth_share_of(const bandwidth_share *s, const char *name);
unsigned bandwidth_share_count(const bandwidth_share *s);

/* The daemon's apply() (userdata: the host_daemon): the VM's backend sets its copy's limit. */
void bandwidth_share_apply_backend(const char *vm_name, uint64_t mibps, void *userdata);
