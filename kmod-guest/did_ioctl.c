// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * /dev/did: the ioctls of proto/did.h. Every structure is extensible
 * (openat2-style): the caller's `size` says how much it passed, known
 * fields are used, unknown trailing bytes must be zero.
 */
#include <linux/capability.h>
#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/minmax.h>
#include <linux/uaccess.h>

#include "did_core.h"

/* Cap on what a caller can make us look at. */
#define DID_IOC_SIZE_MAX	4096

static struct did_dev *did_ioctl_dev(struct file *file)
{
	struct miscdevice *misc = file->private_data;

	return container_of(misc, struct did_dev, misc);
}

/* Reads and checks the leading size field of an extensible structure. */
static int did_ioctl_get_size(const void __user *arg, u32 size_ver0,
			      u32 *ret_size)
{
	u32 size;

	if (get_user(size, (const u32 __user *)arg))
		return -EFAULT;
	if (size < size_ver0 || size > DID_IOC_SIZE_MAX)
		return -EINVAL;
	*ret_size = size;
	return 0;
}

static long did_ioctl_status(struct did_dev *dd, void __user *arg)
{
	struct did_status st;
	u32 usize;
	int r;

	r = did_ioctl_get_size(arg, DID_STATUS_SIZE_VER0, &usize);
	if (r < 0)
		return r;

	did_state_read(dd, &st);
	st.size = min_t(u32, usize, sizeof(st));
	if (copy_to_user(arg, &st, st.size))
		return -EFAULT;
	return 0;
}

static long did_ioctl_enable(struct did_dev *dd, void __user *arg)
{
	struct did_enable req;
	u32 usize;
	int r;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	r = did_ioctl_get_size(arg, DID_ENABLE_SIZE_VER0, &usize);
	if (r < 0)
		return r;
	r = copy_struct_from_user(&req, sizeof(req), arg, usize);
	if (r < 0)
		return r;
	if (req.flags || req.reserved)
		return -EINVAL;

	return did_state_enable(dd, req.features);
}

static long did_ioctl_disable(struct did_dev *dd, void __user *arg)
{
	struct did_disable req;
	u32 usize;
	int r;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	r = did_ioctl_get_size(arg, DID_DISABLE_SIZE_VER0, &usize);
	if (r < 0)
		return r;
	r = copy_struct_from_user(&req, sizeof(req), arg, usize);
	if (r < 0)
		return r;
	if (req.flags)
		return -EINVAL;

	return did_state_disable(dd);
}

static long did_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct did_dev *dd = did_ioctl_dev(file);
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case DID_IOC_STATUS:
		return did_ioctl_status(dd, uarg);
	case DID_IOC_ENABLE:
		return did_ioctl_enable(dd, uarg);
	case DID_IOC_DISABLE:
		return did_ioctl_disable(dd, uarg);
	default:
		return -ENOTTY;
	}
}

const struct file_operations did_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = did_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};
