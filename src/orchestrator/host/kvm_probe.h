/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Whether KVM really runs a guest here. An open() of /dev/kvm proves nothing: on some machines it
 * opens, and QEMU then aborts with `-cpu host` or hangs. The probe creates a VM and a vCPU
 * through the KVM API and runs a few real-mode instructions to a HLT, checking their result, then
 * gives the vCPU the IA32_ARCH_CAPABILITIES value KVM advertises, as QEMU does with `-cpu host`
 * (a host whose KVM ran the code refused that, and QEMU aborted), in a child process it kills if
 * the vCPU does not come back in time.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * A working KVM answers in milliseconds on real hardware, but a host that is itself a VM under
 * TCG (the SR-IOV lab's) took more than 2 s for its first VM while booting on busy cores, and
 * then ran its guests on TCG. A broken KVM whose vCPU hangs costs this once, at daemon start.
 */
#define KVM_PROBE_TIMEOUT_MS 15000
#define KVM_PROBE_DEVICE "/dev/kvm"

/* true when the vCPU ran the code and halted; otherwise reason says why not. */
bool kvm_probe(const char *device, char *reason, size_t reason_size);
