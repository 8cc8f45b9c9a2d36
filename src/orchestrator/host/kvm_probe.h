/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Whether KVM really runs a guest here. An open() of /dev/kvm proves nothing: on some machines it
 * opens, and QEMU then aborts with `-cpu host` or hangs. The probe creates a VM and a vCPU
 * through the KVM API and runs a few real-mode instructions to a HLT, checking their result, in
 * a child process it kills if the vCPU does not come back in time.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define KVM_PROBE_TIMEOUT_MS 2000
#define KVM_PROBE_DEVICE "/dev/kvm"

/* true when the vCPU ran the code and halted; otherwise reason says why not. */
bool kvm_probe(const char *device, char *reason, size_t reason_size);
