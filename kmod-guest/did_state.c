// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The DID state machine, shared by every backend: off <-> on. Requests that
 * do not fit the state are refused before the backend sees them, so a
 * backend never gets "enable while on"; what the backend refuses leaves the
 * state unchanged and is counted as an error.
 */
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/ktime.h>

#include "did_core.h"

void did_state_init(struct did_dev *dd, const struct did_backend_ops *ops)
{
	mutex_init(&dd->lock);
	dd->ops = ops;
	dd->state = DID_STATE_OFF;
}

static int did_state_reject(struct did_dev *dd, int err)
{
	dd->rejected++;
	dd->last_error = err;
	return err;
}

static int did_state_fail(struct did_dev *dd, int err)
{
	dd->errors++;
	dd->last_error = err;
	return err;
}

int did_state_enable(struct did_dev *dd, u32 features)
{
	int r;

	mutex_lock(&dd->lock);
	if (features & ~DID_F_ALL) {
		r = did_state_reject(dd, -EINVAL);
		goto out;
	}
	if (dd->state == DID_STATE_ON) {
		r = did_state_reject(dd, -EALREADY);
		goto out;
	}
	if (dd->ops->refresh) {
		r = dd->ops->refresh(dd);
		if (r < 0) {
			did_state_fail(dd, r);
			goto out;
		}
	}
	if (!features)
		features = dd->supported;
	if (!features || (features & ~dd->supported)) {
		r = did_state_reject(dd, -EOPNOTSUPP);
		goto out;
	}

	r = dd->ops->enable(dd, features);
	if (r < 0) {
		did_state_fail(dd, r);
		goto out;
	}
	dd->state = DID_STATE_ON;
	dd->features = features;
	dd->enables++;
	dd->last_change_ns = ktime_get_boottime_ns();
out:
	mutex_unlock(&dd->lock);
	return r;
}

int did_state_disable(struct did_dev *dd)
{
	int r;

	mutex_lock(&dd->lock);
	if (dd->state == DID_STATE_OFF) {
		r = did_state_reject(dd, -EALREADY);
		goto out;
	}

	r = dd->ops->disable(dd);
	if (r < 0) {
		did_state_fail(dd, r);
		goto out;
	}
	dd->state = DID_STATE_OFF;
	dd->features = 0;
	dd->disables++;
	dd->last_change_ns = ktime_get_boottime_ns();
out:
	mutex_unlock(&dd->lock);
	return r;
}

void did_state_read(struct did_dev *dd, struct did_status *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	st->version = DID_ABI_VERSION;
	st->backend = dd->ops->id;
	if (dd->ops->id == DID_BACKEND_SIM)
		st->flags |= DID_STATUS_SIMULATED;

	mutex_lock(&dd->lock);
	st->state = dd->state;
	st->features = dd->features;
	st->supported = dd->supported;
	st->host_version = dd->host_version;
	st->enables = dd->enables;
	st->disables = dd->disables;
	st->errors = dd->errors;
	st->rejected = dd->rejected;
	st->last_change_ns = dd->last_change_ns;
	st->last_error = dd->last_error;
	mutex_unlock(&dd->lock);
}
