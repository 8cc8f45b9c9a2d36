// SPDX-License-Identifier: GPL-2.0-or-later
#include "kvm_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


/* Outcomes the child reports with its exit status. */
enum {
	PROBE_OK,
	PROBE_NO_DEVICE,
	PROBE_API,
	PROBE_CREATE_VM,
	PROBE_MEMORY,
	PROBE_CREATE_VCPU,
	PROBE_REGISTERS,
	PROBE_RUN,
	PROBE_EXIT_REASON,
	PROBE_RESULT,
	PROBE_ARCH_CAPABILITIES,
	_PROBE_MAX,
};

static const char *const probe_errors[_PROBE_MAX] = {
	[PROBE_NO_DEVICE] = "cannot open it",
	[PROBE_API] = "unexpected KVM API version",
	[PROBE_CREATE_VM] = "KVM_CREATE_VM failed",
	[PROBE_MEMORY] = "cannot give the VM memory",
	[PROBE_CREATE_VCPU] = "KVM_CREATE_VCPU failed",
	[PROBE_REGISTERS] = "cannot set the vCPU's registers",
	[PROBE_RUN] = "KVM_RUN failed",
	[PROBE_EXIT_REASON] = "the vCPU stopped for another reason than HLT",
	[PROBE_RESULT] = "the vCPU computed a wrong result",
	[PROBE_ARCH_CAPABILITIES] =
		"KVM refuses, on a vCPU, the IA32_ARCH_CAPABILITIES value (MSR 0x10a) it advertises: QEMU aborts with -cpu host",
};

#define GUEST_MEM_SIZE 0x10000

/*
 * At address 0, in real mode: mov $0x1234, %ax; add %bx, %ax; hlt. With bx = 0x1111 set
 * from here, ax must read 0x2345 after the HLT: the instructions really ran.
 */
static const uint8_t guest_code[] = { 0xb8, 0x34, 0x12, 0x01, 0xd8, 0xf4 };

#define MSR_IA32_ARCH_CAPABILITIES 0x10a

/*
 * QEMU gives a `-cpu host` vCPU the IA32_ARCH_CAPABILITIES value KVM advertises as a feature MSR,
 * and aborts when KVM then refuses it ("failed to set MSR 0x10a"): seen on a host whose /dev/kvm
 * runs the code above. The same write here. A KVM that does not advertise the MSR is not asked
 * (QEMU does not set it there either); the write needs no CPUID, unlike the VMX feature MSRs.
 */
static int probe_arch_capabilities(int kvm, int vcpu)
{
	union {
		struct kvm_msrs msrs;
		uint8_t bytes[sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)];
	} m = { 0 };

	m.msrs.nmsrs = 1;
	m.msrs.entries[0].index = MSR_IA32_ARCH_CAPABILITIES;
	if (ioctl(kvm, KVM_GET_MSRS, &m.msrs) != 1)
		return PROBE_OK;
	return ioctl(vcpu, KVM_SET_MSRS, &m.msrs) == 1 ? PROBE_OK : PROBE_ARCH_CAPABILITIES;
}

static int probe_child(const char *device)
{
	struct kvm_userspace_memory_region region = { 0 };
	struct kvm_sregs sregs;
	struct kvm_regs regs = { 0 };
	struct kvm_run *run;
	int kvm, vmfd, vcpu, run_size;
	uint8_t *mem;

	kvm = open(device, O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return PROBE_NO_DEVICE;
	if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		return PROBE_API;
	vmfd = ioctl(kvm, KVM_CREATE_VM, 0UL);
	if (vmfd < 0)
		return PROBE_CREATE_VM;
	mem = mmap(NULL, GUEST_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return PROBE_MEMORY;
	memcpy(mem, guest_code, sizeof(guest_code));
	region.memory_size = GUEST_MEM_SIZE;
	region.userspace_addr = (uintptr_t)mem;
	if (ioctl(vmfd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return PROBE_MEMORY;
	vcpu = ioctl(vmfd, KVM_CREATE_VCPU, 0UL);
	if (vcpu < 0)
		return PROBE_CREATE_VCPU;
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(*run))
		return PROBE_CREATE_VCPU;
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return PROBE_CREATE_VCPU;
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return PROBE_REGISTERS;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		return PROBE_REGISTERS;
	regs.rip = 0;
	regs.rbx = 0x1111;
	regs.rflags = 0x2; /* bit 1 is always set */
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		return PROBE_REGISTERS;
	if (ioctl(vcpu, KVM_RUN, 0) < 0)
		return PROBE_RUN;
	if (run->exit_reason != KVM_EXIT_HLT)
		return PROBE_EXIT_REASON;
	if (ioctl(vcpu, KVM_GET_REGS, &regs) < 0)
		return PROBE_REGISTERS;
	if ((regs.rax & 0xffff) != 0x2345)
		return PROBE_RESULT;
	return probe_arch_capabilities(kvm, vcpu);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool kvm_probe(const char *device, char *reason, size_t reason_size)
{
	int64_t deadline;
	int status = 0;
	pid_t pid, w;

	if (access(device, F_OK) < 0) {
		snprintf(reason, reason_size, "%s: %s", device, strerror(errno));
		return false;
	}
	/* A child: a vCPU that never comes back must not hang the caller. */
	pid = fork();
	if (pid < 0) {
		snprintf(reason, reason_size, "cannot fork the probe: %s", strerror(errno));
		return false;
	}
	if (pid == 0)
		_exit(probe_child(device));
	deadline = now_ms() + KVM_PROBE_TIMEOUT_MS;
	while ((w = waitpid(pid, &status, WNOHANG)) == 0 && now_ms() < deadline)
		poll(NULL, 0, 10);
	if (w == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		snprintf(reason, reason_size, "%s: the vCPU did not halt within %d ms", device,
			 KVM_PROBE_TIMEOUT_MS);
		return false;
	}
	if (w < 0) {
		snprintf(reason, reason_size, "cannot wait for the probe: %s", strerror(errno));
		return false;
	}
	if (WIFSIGNALED(status)) {
		snprintf(reason, reason_size, "%s: the probe died of signal %d", device,
			 WTERMSIG(status));
		return false;
	}
	if (WEXITSTATUS(status) != PROBE_OK) {
		int e = WEXITSTATUS(status);

		snprintf(reason, reason_size, "%s: %s", device,
			 e < _PROBE_MAX && probe_errors[e] ? probe_errors[e] : "the probe failed");
		return false;
	}
	snprintf(reason, reason_size, "%s: a vCPU ran to HLT in %" PRId64 " ms", device,
		 now_ms() - (deadline - KVM_PROBE_TIMEOUT_MS));
	return true;
}
