/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the migration phases ask of the VM's hypervisor side, and who answers: a VM started by
 * dmigrated itself is driven over QMP (vm_backend_qemu.c). The phases (migration_source.c,
 * migration_dest.c) never speak QMP themselves; they call the VM's backend and hear its outcome
 * through one kind of callback, so another manager of the VM (libvirt) can stand behind the
 * same phases, journals and rollback rules.
 *
 * Every operation returns 0 and calls cb exactly once later, on the loop, or a negative errno
 * (-ENOTCONN: the VM's monitor is gone) and never calls cb. In the callback, error is 0 or a
 * negative errno; message is the hypervisor's own text for a refusal (borrowed, may be NULL);
 * ret is borrowed and, where an operation says so, describes what it found.
 *
 * Events that arrive without a call (the VF's removal confirmed, the copy's status changing)
 * reach the job through migration_job_vf_removed(), migration_job_migrate_status() and
 * migration_dest_migrate_completed() (migration_job.h).
 */
#pragma once

#include <stdbool.h>

#include <json-c/json.h>

#include "daemon/host_config.h"
#include "host/vm.h"

typedef void (*vm_backend_cb)(int error, json_object *ret, const char *message, void *userdata);

typedef struct vm_backend {
	const char *name;

	/* The VM's run state: ret is {"status": "running" | "paused" | ...}. */
	int (*query_status)(vm *v, vm_backend_cb cb, void *userdata);

	/* Ask the guest to release the VF. cb: the request was accepted; the release itself is
	 * confirmed later by migration_job_vf_removed(), or refused by
	 * migration_job_vf_removal_failed() (the caller bounds the wait). */
	int (*vf_unplug)(vm *v, vm_backend_cb cb, void *userdata);
	/* Once the release is confirmed: free what the VF used beside the device itself; 1 when
	 * there is nothing to free (cb never runs). */
	int (*vf_unplug_finish)(vm *v, vm_backend_cb cb, void *userdata);
	/* Plug v->vf; error -EEXIST when the device is plugged already (it never left). */
	int (*vf_plug)(vm *v, vm_backend_cb cb, void *userdata);

	/* Start copying the VM to peer, whose incoming side listens at uri, with settings s; cb
	 * once the copy started (its end comes through migration_job_migrate_status()). */
	int (*migrate_start)(vm *v, const peer_config *peer, const char *uri,
			     const migration_settings *s, vm_backend_cb cb, void *userdata);
	/* The copy's state and figures: ret in the shape of QMP's query-migrate ("status",
	 * "error-desc", "downtime", "total-time", "setup-time", "expected-downtime", and "ram" with
	 * "transferred", "remaining", "total", "dirty-pages-rate", "mbps", "dirty-sync-count"). */
	int (*migrate_query)(vm *v, vm_backend_cb cb, void *userdata);
	/* Change a running copy's bandwidth limit, in MiB/s (the host's cap shared anew between
	 * the copies: bandwidth_share.h). */
	int (*migrate_set_bandwidth)(vm *v, uint64_t mibps, vm_backend_cb cb, void *userdata);
	/* Cancel the copy; the source goes on running (or paused, see resume). */
	int (*migrate_cancel)(vm *v, vm_backend_cb cb, void *userdata);
	/* Let a paused VM run. */
	int (*resume)(vm *v, vm_backend_cb cb, void *userdata);

	/* Destination: start the VM paused, without its VF, waiting for an incoming copy. */
	int (*incoming_start)(vm *v, vm_done_cb done, void *userdata);
	/* Destination: listen for the copy at uri (port 0: any); ret as migrate_query's, whose
	 * "socket-address" says where it listens. */
	int (*incoming_listen)(vm *v, const char *uri, bool multifd, vm_backend_cb cb,
			       void *userdata);
	/* Destination, once the VM runs: tell the switches where its MAC addresses live now. */
	int (*announce)(vm *v, vm_backend_cb cb, void *userdata);
	/* Destination, for a daemon that restarted after the switchover: whether the VM it
	 * migrated here is here to drive (QEMU: its process, found again; libvirt: the domain,
	 * bound again). A VM that is not is lost: its only running copy was here. */
	bool (*arrived)(const vm *v);
	/* Stop the VM (force: at once); done once it is gone. */
	int (*stop)(vm *v, bool force, vm_done_cb done, void *userdata);
} vm_backend;

/* A VM dmigrated started itself, driven over QMP. */
extern const vm_backend vm_backend_qemu;

/* The backend that drives v: libvirt's for a VM bound to a domain (libvirt/vm_backend_libvirt.h,
 * with the libvirt feature), else QEMU's. */
const vm_backend *vm_backend_of(const vm *v);
