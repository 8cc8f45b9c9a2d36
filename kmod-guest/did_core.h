/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * did.ko internals: one DID device, its state machine and the backend that
 * carries requests to the host (kvm) or keeps them in the guest (sim).
 */
#ifndef DID_CORE_H
#define DID_CORE_H

#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/types.h>

#include "did.h"

struct did_dev;

/*
 * A backend. probe() runs once at load and fills supported, host_version
 * and the initial state. refresh() (optional) runs under did_dev.lock before
 * every enable and updates supported and host_version: a migrated VM may
 * now run on another host. enable()/disable() run under did_dev.lock and
 * return 0 or a negative errno without changing did_dev themselves.
 */
struct did_backend_ops {
	const char *name;
	u32 id;				/* DID_BACKEND_* */
	int (*probe)(struct did_dev *dd);
	int (*refresh)(struct did_dev *dd);
	int (*enable)(struct did_dev *dd, u32 features);
	int (*disable)(struct did_dev *dd);
};

struct did_dev {
	struct miscdevice misc;
	const struct did_backend_ops *ops;

	struct mutex lock;		/* protects everything below */
	u32 state;			/* DID_STATE_* */
	u32 features;			/* DID_F_* delivered directly now */
	u32 supported;			/* DID_F_* the backend can deliver */
	u32 host_version;		/* DID_HC_ABI_VERSION of the host, 0 for sim */
	u64 enables;
	u64 disables;
	u64 errors;
	u64 rejected;
	u64 last_change_ns;
	int last_error;
	u32 sim_fail;			/* sim: upcoming backend calls that fail */
};

extern const struct did_backend_ops did_sim_ops;
#if IS_ENABLED(CONFIG_KVM_GUEST)
extern const struct did_backend_ops did_kvm_ops;
#endif

/* did_state.c: the state machine; every entry point takes dd->lock. */
void did_state_init(struct did_dev *dd, const struct did_backend_ops *ops);
int did_state_enable(struct did_dev *dd, u32 features);
int did_state_disable(struct did_dev *dd);
void did_state_read(struct did_dev *dd, struct did_status *st);

/* did_sysfs.c: attributes of the misc device. */
extern const struct attribute_group *did_sysfs_groups[];

/* did_ioctl.c: the /dev/did file operations. */
extern const struct file_operations did_fops;

#endif /* DID_CORE_H */
