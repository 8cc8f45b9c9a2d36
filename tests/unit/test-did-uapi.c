// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * proto/did.h is an ABI: the agent built today must work with the module
 * built tomorrow. These checks freeze what is published (sizes, offsets,
 * ioctl numbers, bit values) so that an accidental change fails here instead
 * of in a guest; growing a structure at its end keeps them passing.
 */
#include "did.h"
#include "did_hypercall.h"

#include <stddef.h>

#include "test.h"

TEST(sizes)
{
	ASSERT_EQ(DID_STATUS_SIZE_VER0, 80);
	ASSERT_EQ(DID_ENABLE_SIZE_VER0, 16);
	ASSERT_EQ(DID_DISABLE_SIZE_VER0, 8);
	ASSERT_TRUE(sizeof(struct did_status) >= DID_STATUS_SIZE_VER0);
	ASSERT_TRUE(sizeof(struct did_enable) >= DID_ENABLE_SIZE_VER0);
	ASSERT_TRUE(sizeof(struct did_disable) >= DID_DISABLE_SIZE_VER0);
	/* Same layout for 32- and 64-bit callers: no padding the compiler picks. */
	ASSERT_EQ(sizeof(struct did_status) % 8, 0);
}

TEST(status_offsets)
{
	ASSERT_EQ(offsetof(struct did_status, size), 0);
	ASSERT_EQ(offsetof(struct did_status, version), 4);
	ASSERT_EQ(offsetof(struct did_status, state), 8);
	ASSERT_EQ(offsetof(struct did_status, backend), 12);
	ASSERT_EQ(offsetof(struct did_status, flags), 16);
	ASSERT_EQ(offsetof(struct did_status, features), 20);
	ASSERT_EQ(offsetof(struct did_status, supported), 24);
	ASSERT_EQ(offsetof(struct did_status, host_version), 28);
	ASSERT_EQ(offsetof(struct did_status, enables), 32);
	ASSERT_EQ(offsetof(struct did_status, disables), 40);
	ASSERT_EQ(offsetof(struct did_status, errors), 48);
	ASSERT_EQ(offsetof(struct did_status, rejected), 56);
	ASSERT_EQ(offsetof(struct did_status, last_change_ns), 64);
	ASSERT_EQ(offsetof(struct did_status, last_error), 72);
	ASSERT_EQ(offsetof(struct did_status, reserved), 76);
}

TEST(request_offsets)
{
	ASSERT_EQ(offsetof(struct did_enable, size), 0);
	ASSERT_EQ(offsetof(struct did_enable, features), 4);
	ASSERT_EQ(offsetof(struct did_enable, flags), 8);
	ASSERT_EQ(offsetof(struct did_enable, reserved), 12);
	ASSERT_EQ(offsetof(struct did_disable, size), 0);
	ASSERT_EQ(offsetof(struct did_disable, flags), 4);
}

TEST(ioctl_numbers)
{
	ASSERT_EQ(DID_IOC_STATUS, 0xc050d101u);
	ASSERT_EQ(DID_IOC_ENABLE, 0x4010d102u);
	ASSERT_EQ(DID_IOC_DISABLE, 0x4008d103u);
}

TEST(values)
{
	ASSERT_EQ(DID_ABI_VERSION, 1);
	ASSERT_EQ(DID_F_TIMER, 1);
	ASSERT_EQ(DID_F_IPI, 2);
	ASSERT_EQ(DID_F_DEVICE, 4);
	ASSERT_EQ(DID_F_IDLE, 8);
	ASSERT_EQ(DID_F_ALL, 15);
	ASSERT_EQ(DID_STATE_OFF, 0);
	ASSERT_EQ(DID_STATE_ON, 1);
	ASSERT_EQ(DID_BACKEND_KVM, 1);
	ASSERT_EQ(DID_BACKEND_SIM, 2);
	ASSERT_EQ(DID_STATUS_SIMULATED, 1);
	ASSERT_STREQ(DID_DEVICE_PATH, "/dev/did");
}

TEST(hypercall_abi)
{
	ASSERT_EQ(KVM_FEATURE_DID, 30);
	ASSERT_EQ(DID_HC_ABI_VERSION, 1);
	ASSERT_EQ(DID_HC_HELLO, 0x44494400);
	ASSERT_EQ(DID_HC_QUERY, 0x44494401);
	ASSERT_EQ(DID_HC_ENABLE, 0x44494402);
	ASSERT_EQ(DID_HC_DISABLE, 0x44494403);
	ASSERT_EQ(DID_HC_STATUS, 0x44494404);
	/* Clear of KVM's sequential KVM_HC_* numbers and within 32 bits. */
	ASSERT_TRUE(DID_HC_HELLO > 0xffff && DID_HC_STATUS <= 0xffffffffUL);
	ASSERT_EQ(DID_HC_ENOSYS, 1000);
}

int main(void)
{
	RUN_TEST(sizes);
	RUN_TEST(status_offsets);
	RUN_TEST(request_offsets);
	RUN_TEST(ioctl_numbers);
	RUN_TEST(values);
	RUN_TEST(hypercall_abi);
	return 0;
}
