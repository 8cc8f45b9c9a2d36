// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * did.ko: direct interrupt delivery (DID) control for a guest. /dev/did and
 * /sys/class/misc/did let the guest agent turn DID off before its
 * passthrough NIC is unplugged for a migration, and on again after a new
 * one is plugged. The backend is chosen at load: kvm (a host that
 * advertises DID), sim (no host, for labs and drills), or auto (kvm if the
 * host advertises it; otherwise the load fails, since a silent simulation
 * would hide a misconfigured host).
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/string.h>

#include "did_core.h"

static char *backend = "auto";
module_param(backend, charp, 0444);
MODULE_PARM_DESC(backend, "auto (default; kvm if the host advertises DID), kvm or sim");

static struct did_dev did_dev = {
	.misc = {
		.minor = MISC_DYNAMIC_MINOR,
		.name = DID_DEVICE_NAME,
		.fops = &did_fops,
		.groups = did_sysfs_groups,
		.mode = 0600,
	},
};

static const struct did_backend_ops *const did_backends[] = {
#if IS_ENABLED(CONFIG_KVM_GUEST)
	&did_kvm_ops,
#endif
	&did_sim_ops,
};

static int did_backend_select(const struct did_backend_ops **ret_ops)
{
	const char *name = strcmp(backend, "auto") ? backend : "kvm";
	size_t i;

	for (i = 0; i < ARRAY_SIZE(did_backends); i++) {
		if (!strcmp(name, did_backends[i]->name)) {
			*ret_ops = did_backends[i];
			return 0;
		}
	}
	pr_err("did: backend '%s' unknown or not built (kvm needs CONFIG_KVM_GUEST)\n",
	       backend);
	return -EINVAL;
}

static int __init did_init(void)
{
	const struct did_backend_ops *ops;
	int r;

	r = did_backend_select(&ops);
	if (r < 0)
		return r;

	did_state_init(&did_dev, ops);
	r = ops->probe(&did_dev);
	if (r < 0) {
		pr_err("did: backend %s unavailable: %d\n", ops->name, r);
		if (r == -ENODEV)
			pr_err("did: not under KVM, or the host does not advertise DID (backend=sim simulates it)\n");
		goto err_state;
	}

	r = misc_register(&did_dev.misc);
	if (r < 0) {
		pr_err("did: cannot register /dev/%s: %d\n", DID_DEVICE_NAME, r);
		goto err_state;
	}

	pr_info("did: backend %s%s, supported 0x%x, state %s\n", ops->name,
		ops->id == DID_BACKEND_SIM ? " (simulated)" : "",
		did_dev.supported,
		did_dev.state == DID_STATE_ON ? "on" : "off");
	return 0;

err_state:
	mutex_destroy(&did_dev.lock);
	return r;
}

static void __exit did_exit(void)
{
	misc_deregister(&did_dev.misc);

	/* The host must not keep delivering directly to a guest without its driver. */
	if (did_dev.state == DID_STATE_ON && did_state_disable(&did_dev) < 0)
		pr_warn("did: DID left on at unload: %d\n", did_dev.last_error);

	mutex_destroy(&did_dev.lock);
}

module_init(did_init);
module_exit(did_exit);

MODULE_DESCRIPTION("Direct interrupt delivery (DID) control for KVM guests");
MODULE_AUTHOR("dmigrate");
MODULE_LICENSE("GPL");
MODULE_VERSION("1");
