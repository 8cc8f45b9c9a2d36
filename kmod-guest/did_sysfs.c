// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The sysfs view of /dev/did: /sys/class/misc/did/{state,backend,...}, one
 * value per file for shells and busybox guests. `control` takes "enable" or
 * "disable" and goes through the same state machine as the ioctls, so that
 * did.sh needs no helper binary; `sim_fail` (sim backend only) injects
 * backend failures.
 */
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/stddef.h>
#include <linux/stringify.h>
#include <linux/sysfs.h>

#include "did_core.h"

static struct did_dev *did_sysfs_dev(struct device *dev)
{
	struct miscdevice *misc = dev_get_drvdata(dev);

	return container_of(misc, struct did_dev, misc);
}

static ssize_t state_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct did_status st;

	did_state_read(did_sysfs_dev(dev), &st);
	return sysfs_emit(buf, "%s\n", st.state == DID_STATE_ON ? "on" : "off");
}
static DEVICE_ATTR_RO(state);

static ssize_t backend_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%s\n", did_sysfs_dev(dev)->ops->name);
}
static DEVICE_ATTR_RO(backend);

static ssize_t simulated_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct did_status st;

	did_state_read(did_sysfs_dev(dev), &st);
	return sysfs_emit(buf, "%d\n", !!(st.flags & DID_STATUS_SIMULATED));
}
static DEVICE_ATTR_RO(simulated);

/* Read-only attributes that print one did_status field each. */
enum did_field_kind {
	DID_FIELD_U32,
	DID_FIELD_X32,
	DID_FIELD_S32,
	DID_FIELD_U64,
};

struct did_field_attr {
	struct device_attribute attr;
	size_t offset;
	enum did_field_kind kind;
};

static ssize_t did_field_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	const struct did_field_attr *fa =
		container_of(attr, struct did_field_attr, attr);
	struct did_status st;
	const void *p;

	did_state_read(did_sysfs_dev(dev), &st);
	p = (const u8 *)&st + fa->offset;
	switch (fa->kind) {
	case DID_FIELD_U32:
		return sysfs_emit(buf, "%u\n", *(const u32 *)p);
	case DID_FIELD_X32:
		return sysfs_emit(buf, "0x%x\n", *(const u32 *)p);
	case DID_FIELD_S32:
		return sysfs_emit(buf, "%d\n", *(const s32 *)p);
	case DID_FIELD_U64:
		return sysfs_emit(buf, "%llu\n", *(const u64 *)p);
	}
	return -EINVAL;
}

#define DID_FIELD_ATTR(_name, _kind)					\
	static struct did_field_attr did_field_attr_##_name = {		\
		.attr = {						\
			.attr = { .name = __stringify(_name), .mode = 0444 }, \
			.show = did_field_show,				\
		},							\
		.offset = offsetof(struct did_status, _name),		\
		.kind = (_kind),					\
	}

DID_FIELD_ATTR(version, DID_FIELD_U32);
DID_FIELD_ATTR(features, DID_FIELD_X32);
DID_FIELD_ATTR(supported, DID_FIELD_X32);
DID_FIELD_ATTR(host_version, DID_FIELD_U32);
DID_FIELD_ATTR(enables, DID_FIELD_U64);
DID_FIELD_ATTR(disables, DID_FIELD_U64);
DID_FIELD_ATTR(errors, DID_FIELD_U64);
DID_FIELD_ATTR(rejected, DID_FIELD_U64);
DID_FIELD_ATTR(last_change_ns, DID_FIELD_U64);
DID_FIELD_ATTR(last_error, DID_FIELD_S32);

static ssize_t control_store(struct device *dev, struct device_attribute *attr,
			     const char *buf, size_t count)
{
	struct did_dev *dd = did_sysfs_dev(dev);
	int r;

	if (sysfs_streq(buf, "enable"))
		r = did_state_enable(dd, 0);
	else if (sysfs_streq(buf, "disable"))
		r = did_state_disable(dd);
	else
		r = -EINVAL;
	return r < 0 ? r : count;
}
static DEVICE_ATTR_WO(control);

static ssize_t sim_fail_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct did_dev *dd = did_sysfs_dev(dev);
	u32 n;

	mutex_lock(&dd->lock);
	n = dd->sim_fail;
	mutex_unlock(&dd->lock);
	return sysfs_emit(buf, "%u\n", n);
}

static ssize_t sim_fail_store(struct device *dev, struct device_attribute *attr,
			      const char *buf, size_t count)
{
	struct did_dev *dd = did_sysfs_dev(dev);
	u32 n;
	int r;

	r = kstrtou32(buf, 0, &n);
	if (r < 0)
		return r;
	mutex_lock(&dd->lock);
	dd->sim_fail = n;
	mutex_unlock(&dd->lock);
	return count;
}
static DEVICE_ATTR_ADMIN_RW(sim_fail);

static struct attribute *did_sysfs_attrs[] = {
	&dev_attr_state.attr,
	&dev_attr_backend.attr,
	&dev_attr_simulated.attr,
	&did_field_attr_version.attr.attr,
	&did_field_attr_features.attr.attr,
	&did_field_attr_supported.attr.attr,
	&did_field_attr_host_version.attr.attr,
	&did_field_attr_enables.attr.attr,
	&did_field_attr_disables.attr.attr,
	&did_field_attr_errors.attr.attr,
	&did_field_attr_rejected.attr.attr,
	&did_field_attr_last_change_ns.attr.attr,
	&did_field_attr_last_error.attr.attr,
	&dev_attr_control.attr,
	&dev_attr_sim_fail.attr,
	NULL
};

static umode_t did_sysfs_is_visible(struct kobject *kobj, struct attribute *a,
				    int n)
{
	struct did_dev *dd = did_sysfs_dev(kobj_to_dev(kobj));

	if (a == &dev_attr_sim_fail.attr && dd->ops->id != DID_BACKEND_SIM)
		return 0;
	return a->mode;
}

static const struct attribute_group did_sysfs_group = {
	.attrs = did_sysfs_attrs,
	.is_visible = did_sysfs_is_visible,
};

const struct attribute_group *did_sysfs_groups[] = {
	&did_sysfs_group,
	NULL
};
