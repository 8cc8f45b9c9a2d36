/* SPDX-License-Identifier: GPL-2.0-or-later WITH Linux-syscall-note */
/*
 * The /dev/did UAPI: how userspace (the guest agent, did.sh's helpers, the
 * tests) reads and changes the guest's direct interrupt delivery (DID) state.
 * The same header builds in the kernel module (kmod-guest/did.ko) and in
 * userspace. proto/did-abi.md documents it; proto/did_hypercall.h is the
 * guest<->host half of the ABI.
 *
 * Compatibility rules: ioctl numbers never change; structures only grow at
 * their end; every structure starts with a __u32 `size` that the caller sets
 * to sizeof() of the structure it was compiled with (extensible structs, as
 * in openat2/clone3). Fields added later are zero for old callers.
 */
#ifndef _UAPI_LINUX_DID_H
#define _UAPI_LINUX_DID_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define DID_DEVICE_NAME		"did"
#define DID_DEVICE_PATH		"/dev/did"

/* Version of this UAPI; reported in did_status.version. */
#define DID_ABI_VERSION		1

/* Features: which interrupt classes bypass VM exits. Shared with the hypercall ABI. */
#define DID_F_TIMER		0x1U	/* local APIC timer */
#define DID_F_IPI		0x2U	/* inter-processor interrupts */
#define DID_F_DEVICE		0x4U	/* passthrough device (MSI/MSI-X) interrupts */
/*
 * The vCPU halts without exiting (HLT not intercepted): it idles in guest
 * mode on its dedicated core, and an interrupt for it is taken there instead
 * of waking a host thread. The premise of the three above, and the one part
 * of DID that needs no APICv/AVIC or posted interrupts.
 */
#define DID_F_IDLE		0x8U
#define DID_F_ALL		(DID_F_TIMER | DID_F_IPI | DID_F_DEVICE | DID_F_IDLE)

/* did_status.state */
#define DID_STATE_OFF		0
#define DID_STATE_ON		1

/* did_status.backend */
#define DID_BACKEND_NONE	0	/* never reported by a loaded module */
#define DID_BACKEND_KVM		1	/* a KVM host that advertises DID, via hypercalls */
#define DID_BACKEND_SIM		2	/* simulated: no host involved, state kept in the guest */

/* did_status.flags */
#define DID_STATUS_SIMULATED	0x1U	/* set iff backend == DID_BACKEND_SIM */

/*
 * DID_IOC_STATUS: read the state. In: size. Out: everything else; the kernel
 * fills min(size, its own sizeof) bytes and sets size to the number filled.
 */
struct did_status {
	__u32 size;		/* in: sizeof(struct did_status); out: bytes filled */
	__u32 version;		/* DID_ABI_VERSION of the module */
	__u32 state;		/* DID_STATE_* */
	__u32 backend;		/* DID_BACKEND_* */
	__u32 flags;		/* DID_STATUS_* */
	__u32 features;		/* DID_F_* delivered directly now (0 when off) */
	__u32 supported;	/* DID_F_* the backend can deliver */
	__u32 host_version;	/* DID_HC_ABI_VERSION of the host, 0 for sim */
	__u64 enables;		/* successful off -> on transitions */
	__u64 disables;		/* successful on -> off transitions */
	__u64 errors;		/* backend failures (hypercall or injected error) */
	__u64 rejected;		/* requests refused by the state machine (twice, bad features) */
	__u64 last_change_ns;	/* CLOCK_BOOTTIME of the last transition, 0 if none */
	__s32 last_error;	/* negative errno of the last failed request, 0 if none */
	__u32 reserved;		/* zero */
};

#define DID_STATUS_SIZE_VER0	80	/* sizeof first published struct did_status */

/*
 * DID_IOC_ENABLE: off -> on. features = 0 asks for every supported feature;
 * otherwise a subset of supported. flags must be 0.
 */
struct did_enable {
	__u32 size;		/* sizeof(struct did_enable) */
	__u32 features;		/* DID_F_*, 0 = all supported */
	__u32 flags;		/* must be 0 */
	__u32 reserved;		/* must be 0 */
};

#define DID_ENABLE_SIZE_VER0	16

/* DID_IOC_DISABLE: on -> off. flags must be 0. */
struct did_disable {
	__u32 size;		/* sizeof(struct did_disable) */
	__u32 flags;		/* must be 0 */
};

#define DID_DISABLE_SIZE_VER0	8

/*
 * The ioctl numbers encode the VER0 sizes and stay frozen when the
 * structures grow: the `size` field, not the command, says how much the
 * caller passed.
 */
#define DID_IOC_MAGIC		0xD1
#define DID_IOC_STATUS	_IOC(_IOC_READ | _IOC_WRITE, DID_IOC_MAGIC, 0x01, DID_STATUS_SIZE_VER0)
#define DID_IOC_ENABLE	_IOC(_IOC_WRITE, DID_IOC_MAGIC, 0x02, DID_ENABLE_SIZE_VER0)
#define DID_IOC_DISABLE	_IOC(_IOC_WRITE, DID_IOC_MAGIC, 0x03, DID_DISABLE_SIZE_VER0)

/*
 * Errors (errno):
 *   ENOTTY     unknown ioctl command
 *   EINVAL     size below the VER0 size or above 4096, unknown flags or
 *              feature bits (outside DID_F_ALL), reserved != 0
 *   E2BIG      size larger than the module knows and the extra bytes are not zero
 *   EFAULT     bad user pointer
 *   EALREADY   enable while on, disable while off (the state is unchanged)
 *   EPERM      enable/disable without CAP_SYS_ADMIN (status needs none)
 *   EIO        the backend failed (host refused or simulated failure);
 *              the state is unchanged and `errors` counts it
 *   EOPNOTSUPP a requested feature is not in `supported`
 *   EBUSY      the host cannot change the state now (e.g. it is migrating
 *              the VM); retry later. Counted in `errors`.
 */

#endif /* _UAPI_LINUX_DID_H */
