/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Runs in a lab guest against did.ko loaded with backend=sim: every ioctl of
 * proto/did.h, the state machine and every bad-input case with the errno
 * proto/did.h documents for it. Built statically by test-did (the guest has
 * busybox only). Prints TAP; exits 1 if any check fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "did.h"

#define SYSFS_DIR "/sys/class/misc/did/"

static int checks;
static int failures;

/* Counters when the test started: did.sh or the agent may have run before. */
static struct did_status base;

static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	checks++;
	if (!ok)
		failures++;
	printf("%s %d - ", ok ? "ok" : "not ok", checks);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* ioctl as -errno or 0. */
static int did_call(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

static void check_errno(int got, int want, const char *what)
{
	check(got == -want, "%s: %s (want %s)", what,
	      got ? strerror(-got) : "success", want ? strerror(want) : "success");
}

static int did_status_read(int fd, struct did_status *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return did_call(fd, DID_IOC_STATUS, st);
}

static int did_enable(int fd, __u32 features)
{
	struct did_enable req = { .size = sizeof(req), .features = features };

	return did_call(fd, DID_IOC_ENABLE, &req);
}

static int did_disable(int fd)
{
	struct did_disable req = { .size = sizeof(req) };

	return did_call(fd, DID_IOC_DISABLE, &req);
}

static int sysfs_write(const char *name, const char *value)
{
	char path[128];
	int fd, r = 0;

	snprintf(path, sizeof(path), SYSFS_DIR "%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		r = -errno;
	close(fd);
	return r;
}

static void test_status(int fd)
{
	struct did_status st;
	unsigned char big[256];
	struct did_status *bst = (struct did_status *)big;

	check_errno(did_status_read(fd, &st), 0, "status");
	base = st;
	check(st.size == sizeof(st), "status size %u", st.size);
	check(st.version == DID_ABI_VERSION, "abi version %u", st.version);
	check(st.backend == DID_BACKEND_SIM, "backend sim (%u)", st.backend);
	check(st.flags & DID_STATUS_SIMULATED, "status says simulated");
	check(st.state == DID_STATE_OFF, "starts off");
	check(st.supported == DID_F_ALL, "sim supports all (0x%x)", st.supported);
	check(st.features == 0, "no features while off");

	/* A newer caller's bigger struct: filled up to what the module knows. */
	memset(big, 0xa5, sizeof(big));
	bst->size = sizeof(big);
	check_errno(did_call(fd, DID_IOC_STATUS, big), 0, "status, larger struct");
	check(bst->size == sizeof(struct did_status), "larger struct: size says %u bytes filled",
	      bst->size);
	check(big[sizeof(struct did_status)] == 0xa5, "larger struct: tail untouched");
}

static void test_bad_input(int fd)
{
	struct did_status st = { .size = DID_STATUS_SIZE_VER0 - 4 };
	struct did_enable en = { .size = sizeof(en) };
	struct did_disable dis = { .size = sizeof(dis), .flags = 1 };
	unsigned char big[64] = { 0 };
	struct did_enable *ben = (struct did_enable *)big;

	check_errno(did_call(fd, DID_IOC_STATUS, &st), EINVAL, "status, size too small");
	st.size = 4097;
	check_errno(did_call(fd, DID_IOC_STATUS, &st), EINVAL, "status, size too big");
	check_errno(did_call(fd, DID_IOC_STATUS, NULL), EFAULT, "status, NULL");
	check_errno(did_call(fd, _IOC(_IOC_READ | _IOC_WRITE, DID_IOC_MAGIC, 0x7f, 8), &st),
		    ENOTTY, "unknown ioctl number");
	check_errno(did_call(fd, _IOC(_IOC_READ | _IOC_WRITE, DID_IOC_MAGIC, 0x01, 16), &st),
		    ENOTTY, "status number with another size");
	check_errno(did_call(fd, _IOWR('T', 0x01, int), &st), ENOTTY, "foreign ioctl");

	en.flags = 1;
	check_errno(did_call(fd, DID_IOC_ENABLE, &en), EINVAL, "enable, unknown flag");
	en.flags = 0;
	en.reserved = 1;
	check_errno(did_call(fd, DID_IOC_ENABLE, &en), EINVAL, "enable, reserved set");
	en.reserved = 0;
	en.features = 0x80;
	check_errno(did_call(fd, DID_IOC_ENABLE, &en), EINVAL, "enable, unknown feature");
	en.features = 0;
	en.size = 8;
	check_errno(did_call(fd, DID_IOC_ENABLE, &en), EINVAL, "enable, size too small");
	check_errno(did_call(fd, DID_IOC_ENABLE, NULL), EFAULT, "enable, NULL");

	ben->size = sizeof(big);
	big[sizeof(big) - 1] = 1;
	check_errno(did_call(fd, DID_IOC_ENABLE, big), E2BIG, "enable, unknown non-zero tail");

	check_errno(did_call(fd, DID_IOC_DISABLE, &dis), EINVAL, "disable, unknown flag");
	dis.flags = 0;
	dis.size = 4;
	check_errno(did_call(fd, DID_IOC_DISABLE, &dis), EINVAL, "disable, size too small");
	check_errno(did_disable(fd), EALREADY, "disable while off");

	check_errno(did_status_read(fd, &st), 0, "status after bad input");
	check(st.state == DID_STATE_OFF, "still off after bad input");
	check(st.enables == base.enables && st.disables == base.disables,
	      "no transitions counted");
	check(st.rejected - base.rejected == 2,
	      "state machine rejected 2 more (unknown feature, disable while off): %llu",
	      (unsigned long long)(st.rejected - base.rejected));
	check(st.last_error == -EALREADY, "last_error %d", st.last_error);
}

static void test_round_trip(int fd)
{
	struct did_status st;
	unsigned char big[64] = { 0 };
	struct did_enable *ben = (struct did_enable *)big;

	/* A bigger struct whose tail is zero is what a newer caller sends. */
	ben->size = sizeof(big);
	check_errno(did_call(fd, DID_IOC_ENABLE, big), 0, "enable, larger zero-tailed struct");
	did_status_read(fd, &st);
	check(st.state == DID_STATE_ON, "on after enable");
	check(st.features == DID_F_ALL, "all features on (0x%x)", st.features);
	check(st.enables - base.enables == 1, "enables +1");
	check(st.last_change_ns > 0, "last_change_ns set");

	check_errno(did_enable(fd, 0), EALREADY, "enable twice");
	check_errno(did_disable(fd), 0, "disable");
	did_status_read(fd, &st);
	check(st.state == DID_STATE_OFF && st.features == 0, "off after disable");
	check(st.disables - base.disables == 1, "disables +1");

	check_errno(did_enable(fd, DID_F_TIMER | DID_F_IPI), 0, "enable timer+ipi only");
	did_status_read(fd, &st);
	check(st.features == (DID_F_TIMER | DID_F_IPI), "features 0x%x", st.features);
	check_errno(did_disable(fd), 0, "disable again");
}

static void test_backend_failure(int fd)
{
	struct did_status st;

	check_errno(sysfs_write("sim_fail", "2"), 0, "inject two sim failures");
	check_errno(did_enable(fd, 0), EIO, "enable, backend fails");
	did_status_read(fd, &st);
	check(st.state == DID_STATE_OFF, "still off after failed enable");
	check_errno(did_enable(fd, 0), EIO, "enable, backend fails again");
	check_errno(did_enable(fd, 0), 0, "enable after the injected failures");
	check_errno(sysfs_write("sim_fail", "1"), 0, "inject one sim failure");
	check_errno(did_disable(fd), EIO, "disable, backend fails");
	did_status_read(fd, &st);
	check(st.state == DID_STATE_ON, "still on after failed disable");
	check(st.errors - base.errors == 3, "errors +3 (%llu)",
	      (unsigned long long)(st.errors - base.errors));
	check(st.last_error == -EIO, "last_error -EIO (%d)", st.last_error);
	check_errno(did_disable(fd), 0, "disable after the injected failure");
	check_errno(sysfs_write("sim_fail", "lots"), EINVAL, "sim_fail rejects garbage");
	check_errno(sysfs_write("control", "toggle"), EINVAL, "control rejects garbage");
}

/* Status is for anyone holding the fd; changes need CAP_SYS_ADMIN. */
static void test_unprivileged(int fd)
{
	pid_t pid;
	int status = 0;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct did_status st;
		int bad = 0;

		if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
			_exit(10);
		if (did_status_read(fd, &st) != 0)
			bad |= 1;
		if (did_enable(fd, 0) != -EPERM)
			bad |= 2;
		if (did_disable(fd) != -EPERM)
			bad |= 4;
		_exit(bad);
	}
	check(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0,
	      "unprivileged: status allowed, enable/disable EPERM (child %d)",
	      pid > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int main(void)
{
	int fd;

	fd = open(DID_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("Bail out! cannot open %s: %m\n", DID_DEVICE_PATH);
		return 1;
	}

	test_status(fd);
	test_bad_input(fd);
	test_round_trip(fd);
	test_backend_failure(fd);
	test_unprivileged(fd);
	close(fd);

	printf("1..%d\n# %d of %d checks failed\n", checks, failures, checks);
	return failures ? 1 : 0;
}
