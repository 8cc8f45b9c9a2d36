// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kvm backend: DID negotiated with a modified KVM host through the
 * hypercall ABI of proto/did_hypercall.h. A hypercall on a host that does
 * not implement it is at best -KVM_ENOSYS and at worst an exception in the
 * guest (VMCALL outside a hypervisor is #UD), so probe() proves first that
 * we run under KVM and that the host advertises DID, and no hypercall is
 * issued otherwise: enable()/disable() are only reachable after a successful
 * probe.
 */
#include <linux/errno.h>
#include <linux/kvm_para.h>
#include <linux/printk.h>
#include <asm/cpufeature.h>
#include <asm/processor.h>

#include "did_core.h"
#include "did_hypercall.h"

/* The host's answer as an errno; anything unexpected is an I/O error. */
static int did_kvm_errno(long ret)
{
	switch (-ret) {
	case DID_HC_EBUSY:
		return -EBUSY;
	case DID_HC_EOPNOTSUPP:
		return -EOPNOTSUPP;
	default:
		return -EIO;
	}
}

/*
 * kvm_para_has_feature() cannot be used from a module on 6.1 (it calls the
 * unexported kvm_arch_para_features()), so read the leaf it reads.
 */
static bool did_kvm_host_advertises(void)
{
	u32 base;

	if (!boot_cpu_has(X86_FEATURE_HYPERVISOR) || !kvm_para_available())
		return false;
	base = hypervisor_cpuid_base(KVM_SIGNATURE, 0);
	if (!base)
		return false;
	return cpuid_eax(base | KVM_CPUID_FEATURES) & BIT(KVM_FEATURE_DID);
}

/* Version and features of the host we run on now. */
static int did_kvm_hello(struct did_dev *dd)
{
	long ret;

	ret = kvm_hypercall1(DID_HC_HELLO, DID_HC_ABI_VERSION);
	if (ret < 0) {
		pr_err("did: host refused ABI version %d: %ld\n",
		       DID_HC_ABI_VERSION, ret);
		return -EPROTO;
	}
	dd->host_version = ret;

	ret = kvm_hypercall0(DID_HC_QUERY);
	if (ret < 0) {
		pr_err("did: host feature query failed: %ld\n", ret);
		return -EPROTO;
	}
	dd->supported = ret & DID_F_ALL;
	return 0;
}

static int did_kvm_probe(struct did_dev *dd)
{
	long ret;
	int r;

	if (!did_kvm_host_advertises())
		return -ENODEV;

	r = did_kvm_hello(dd);
	if (r < 0)
		return r;

	/* A kexec'd or reloaded guest may find DID still on at the host. */
	ret = kvm_hypercall0(DID_HC_STATUS);
	if (ret < 0) {
		pr_err("did: host status query failed: %ld\n", ret);
		return -EPROTO;
	}
	if (ret & DID_F_ALL) {
		dd->state = DID_STATE_ON;
		dd->features = ret & DID_F_ALL;
	}
	return 0;
}

/*
 * Before an enable: the VM may have migrated to a host that serves another
 * version or other features. A host without DID at all answers -KVM_ENOSYS
 * here; that is an I/O error, not a reason to issue more calls.
 */
static int did_kvm_refresh(struct did_dev *dd)
{
	return did_kvm_hello(dd) < 0 ? -EIO : 0;
}

static int did_kvm_enable(struct did_dev *dd, u32 features)
{
	long ret = kvm_hypercall2(DID_HC_ENABLE, features, 0);

	return ret < 0 ? did_kvm_errno(ret) : 0;
}

static int did_kvm_disable(struct did_dev *dd)
{
	long ret = kvm_hypercall1(DID_HC_DISABLE, 0);

	return ret < 0 ? did_kvm_errno(ret) : 0;
}

const struct did_backend_ops did_kvm_ops = {
	.name = "kvm",
	.id = DID_BACKEND_KVM,
	.probe = did_kvm_probe,
	.refresh = did_kvm_refresh,
	.enable = did_kvm_enable,
	.disable = did_kvm_disable,
};
