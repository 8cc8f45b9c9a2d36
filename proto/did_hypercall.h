/* SPDX-License-Identifier: GPL-2.0-or-later WITH Linux-syscall-note */
/*
 * The DID hypercall ABI: how the guest driver (kmod-guest/did.ko, kvm
 * backend) negotiates direct interrupt delivery with the host's modified KVM
 * (kmod-host/). proto/did-abi.md documents it. Feature bits (DID_F_*) are
 * the ones of proto/did.h.
 *
 * Advertisement: a KVM host that implements this ABI sets bit
 * KVM_FEATURE_DID in EAX of CPUID leaf KVM_CPUID_FEATURES (0x40000001, at
 * the KVM CPUID base). The guest checks, in this order, that the hypervisor
 * signature at the KVM CPUID base is "KVMKVMKVM" (kvm_para_available()) and
 * that the bit is set (kvm_para_has_feature(KVM_FEATURE_DID); a module reads
 * the same leaf with cpuid_eax(), as kvm_arch_para_features() is not
 * exported in 6.1); only then may it issue any DID_HC_* hypercall.
 * Upstream KVM uses bits 0-17 and 24 of that leaf (6.1); bit 30 is far from
 * both, so a later upstream allocation is unlikely to reach it before this
 * ABI is merged or renumbered.
 *
 * Calling convention: KVM's (x86: VMCALL on Intel, VMMCALL on AMD; number
 * in RAX, arguments in RBX, RCX, RDX, RSI; result in RAX), from CPL 0 only.
 * The result is a signed long: >= 0 success, < 0 a negated DID_HC_E* code.
 *
 * Numbers: KVM allocates KVM_HC_* sequentially from 1 (12 in 6.1). DID uses
 * the block 0x44494400-0x444944ff ("DID" in ASCII), fits in 32 bits so that
 * 32-bit guests can issue it, and never collides with the sequential range.
 */
#ifndef _UAPI_LINUX_DID_HYPERCALL_H
#define _UAPI_LINUX_DID_HYPERCALL_H

#include <linux/types.h>

/* Bit in EAX of CPUID 0x40000001 (KVM_CPUID_FEATURES). */
#define KVM_FEATURE_DID			30

/* Version of this hypercall ABI; the host returns its own from DID_HC_HELLO. */
#define DID_HC_ABI_VERSION		1

#define DID_HC_BASE			0x44494400UL

/*
 * DID_HC_HELLO(a0 = guest DID_HC_ABI_VERSION)
 *   -> host DID_HC_ABI_VERSION (>= 1), or -DID_HC_EVERSION if the host cannot
 *   serve that guest version. Stateless on the host: a guest that migrated
 *   arrives at a host that never saw its HELLO, so no call depends on one.
 *   The guest calls HELLO and QUERY at load and again before every ENABLE,
 *   because the host (and what it supports) may have changed since.
 */
#define DID_HC_HELLO			(DID_HC_BASE + 0x00)

/* DID_HC_QUERY() -> DID_F_* mask the host can deliver to this vCPU's VM. */
#define DID_HC_QUERY			(DID_HC_BASE + 0x01)

/*
 * DID_HC_ENABLE(a0 = DID_F_* mask, non-zero, a subset of QUERY's; a1 = flags, 0)
 *   -> 0; -DID_HC_EINVAL for unknown bits or flags, -DID_HC_EOPNOTSUPP for
 *   a bit the host cannot deliver, -DID_HC_EALREADY if already on,
 *   -DID_HC_EBUSY if the host cannot enable now (for instance a migration
 *   is in progress; the guest may retry later).
 * Applies to the whole VM (every vCPU), not only the calling one.
 */
#define DID_HC_ENABLE			(DID_HC_BASE + 0x02)

/*
 * DID_HC_DISABLE(a0 = flags, 0)
 *   -> 0; -DID_HC_EALREADY if already off, -DID_HC_EINVAL for flags.
 * On return every interrupt class is delivered through KVM again, so the
 * VM can be migrated and its passthrough device unplugged.
 */
#define DID_HC_DISABLE			(DID_HC_BASE + 0x03)

/*
 * DID_HC_STATUS() -> DID_F_* mask delivered directly now (0 when off).
 * Lets the guest find the host's view after a migration or a host restart.
 */
#define DID_HC_STATUS			(DID_HC_BASE + 0x04)

/*
 * Return codes, negated in RAX. The values that KVM itself may return for
 * any hypercall keep KVM's values (linux/kvm_para.h): an unknown number
 * gives -KVM_ENOSYS (1000), a call from CPL > 0 gives -KVM_EPERM (EPERM).
 */
#define DID_HC_EPERM			1	/* KVM_EPERM: not from CPL 0 */
#define DID_HC_EBUSY			16	/* host cannot change state now */
#define DID_HC_EINVAL			22	/* KVM_EINVAL: bad argument */
#define DID_HC_EALREADY			114	/* already in the requested state */
#define DID_HC_EOPNOTSUPP		95	/* KVM_EOPNOTSUPP: feature unavailable */
#define DID_HC_EVERSION			1001	/* no common ABI version */
#define DID_HC_ENOSYS			1000	/* KVM_ENOSYS: host lacks DID */

#endif /* _UAPI_LINUX_DID_HYPERCALL_H */
