// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Lab test module: issues the DID hypercalls directly, bad arguments
 * included, to a host running kmod-host's KVM, and checks every answer
 * against proto/did_hypercall.h. did.ko cannot do this: its state machine
 * refuses bad requests before they reach the host. Loading runs the checks
 * and logs one line each; the load fails (EPROTO) if any answer was wrong,
 * and succeeds otherwise (then rmmod it). DID must be off for the VM, and
 * did.ko not loaded, while it runs; it leaves DID off.
 */
#include <linux/kvm_para.h>
#include <linux/module.h>
#include <asm/processor.h>

#include "did.h"
#include "did_hypercall.h"

static unsigned int failed;

static void expect(const char *what, long got, long want)
{
	if (got == want) {
		pr_info("did_hc_probe: ok %s = %ld\n", what, got);
		return;
	}
	pr_err("did_hc_probe: FAIL %s = %ld, expected %ld\n", what, got, want);
	failed++;
}

static bool host_advertises(void)
{
	u32 base;

	if (!boot_cpu_has(X86_FEATURE_HYPERVISOR) || !kvm_para_available())
		return false;
	base = hypervisor_cpuid_base(KVM_SIGNATURE, 0);
	return base && (cpuid_eax(base | KVM_CPUID_FEATURES) & BIT(KVM_FEATURE_DID));
}

static int __init did_hc_probe_init(void)
{
	long supported, missing;

	if (!host_advertises()) {
		pr_err("did_hc_probe: the host does not advertise KVM_FEATURE_DID\n");
		return -ENODEV;
	}

	expect("HELLO(0)", kvm_hypercall1(DID_HC_HELLO, 0), -DID_HC_EVERSION);
	expect("HELLO(1)", kvm_hypercall1(DID_HC_HELLO, 1), DID_HC_ABI_VERSION);
	expect("STATUS before", kvm_hypercall0(DID_HC_STATUS), 0);

	supported = kvm_hypercall0(DID_HC_QUERY);
	pr_info("did_hc_probe: QUERY = 0x%lx\n", supported);
	if (supported < 0 || (supported & ~DID_F_ALL)) {
		expect("QUERY within DID_F_ALL", supported, supported & DID_F_ALL);
		return -EPROTO;
	}

	expect("ENABLE(0)", kvm_hypercall2(DID_HC_ENABLE, 0, 0), -DID_HC_EINVAL);
	expect("ENABLE(unknown bit)",
	       kvm_hypercall2(DID_HC_ENABLE, DID_F_ALL + 1, 0), -DID_HC_EINVAL);
	missing = DID_F_ALL & ~supported;
	if (missing)
		expect("ENABLE(unsupported)",
		       kvm_hypercall2(DID_HC_ENABLE, missing & -missing, 0),
		       -DID_HC_EOPNOTSUPP);
	expect("DISABLE while off", kvm_hypercall1(DID_HC_DISABLE, 0),
	       -DID_HC_EALREADY);

	if (supported) {
		expect("ENABLE(flags 1)",
		       kvm_hypercall2(DID_HC_ENABLE, supported, 1), -DID_HC_EINVAL);
		expect("ENABLE", kvm_hypercall2(DID_HC_ENABLE, supported, 0), 0);
		expect("ENABLE twice",
		       kvm_hypercall2(DID_HC_ENABLE, supported, 0), -DID_HC_EALREADY);
		expect("STATUS on", kvm_hypercall0(DID_HC_STATUS), supported);
		expect("DISABLE(flags 1)", kvm_hypercall1(DID_HC_DISABLE, 1),
		       -DID_HC_EINVAL);
		expect("DISABLE", kvm_hypercall1(DID_HC_DISABLE, 0), 0);
		expect("DISABLE twice", kvm_hypercall1(DID_HC_DISABLE, 0),
		       -DID_HC_EALREADY);
	}
	expect("STATUS after", kvm_hypercall0(DID_HC_STATUS), 0);
	expect("unknown DID number", kvm_hypercall0(DID_HC_BASE + 0xff),
	       -DID_HC_ENOSYS);

	pr_info("did_hc_probe: %u failed\n", failed);
	return failed ? -EPROTO : 0;
}

static void __exit did_hc_probe_exit(void)
{
}

module_init(did_hc_probe_init);
module_exit(did_hc_probe_exit);
MODULE_DESCRIPTION("DID hypercall ABI checks against a kmod-host KVM (lab test)");
MODULE_LICENSE("GPL");
