// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * doctor's probes of the real host: the KVM probe, QEMU run as an argv (never through a shell),
 * a VF's settings over netlink, and a peer's sshd with libssh (connect and check the host key
 * against known_hosts; no authentication).
 */
#include <errno.h>
#include <fcntl.h>
#include <libssh/libssh.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host/doctor.h"
#include "host/kvm_probe.h"

#define QEMU_OUTPUT_MAX (256 * 1024)
#define QEMU_TIMEOUT_MS 5000
#define PEER_TIMEOUT_S 3

extern char **environ;

/* Run argv, collect its stdout (at most QEMU_OUTPUT_MAX) within QEMU_TIMEOUT_MS. */
static int run_capture(char *const argv[], char **ret)
{
	posix_spawn_file_actions_t fa;
	size_t len = 0, cap = 4096;
	int fds[2], status, r = 0;
	char *out = malloc(cap);
	struct timespec start, now;
	pid_t pid;

	if (!out)
		return -ENOMEM;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		free(out);
		return -errno;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (r) {
		close(fds[0]);
		free(out);
		return -r;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd p = { .fd = fds[0], .events = POLLIN };
		long waited;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		waited = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (waited >= QEMU_TIMEOUT_MS || poll(&p, 1, (int)(QEMU_TIMEOUT_MS - waited)) <= 0) {
			r = -ETIMEDOUT;
			break;
		}
		if (len + 1 >= cap) {
			char *bigger;

			if (cap >= QEMU_OUTPUT_MAX) {
				r = -EFBIG;
				break;
			}
			bigger = realloc(out, cap *= 2);
			if (!bigger) {
				r = -ENOMEM;
				break;
			}
			out = bigger;
		}
		n = read(fds[0], out + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fds[0]);
	if (r < 0)
		kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) < 0 || (r == 0 && (!WIFEXITED(status) || WEXITSTATUS(status))))
		r = r ?: -EIO;
	if (r < 0) {
		free(out);
		return r;
	}
	out[len] = '\0';
	*ret = out;
	return 0;
}

static int host_qemu(const char *binary, char *version, size_t version_size, char **ret_machines,
		     void *userdata)
{
	char *out = NULL;
	int r;

	r = run_capture((char *const[]){ (char *)binary, "--version", NULL }, &out);
	if (r < 0)
		return r;
	snprintf(version, version_size, "%.*s", (int)strcspn(out, "\n"), out);
	free(out);
	return run_capture((char *const[]){ (char *)binary, "-machine", "help", NULL }, ret_machines);
}

static int host_vf(int pf_ifindex, unsigned vf, vf_readout *ret, void *userdata)
{
	vf_netlink *n = NULL;
	int r = vf_netlink_open(&n);

	if (r < 0)
		return r;
	r = vf_netlink_read(n, pf_ifindex, vf, ret);
	vf_netlink_close(n);
	return r;
}

static int host_peer(const host_config *c, const peer_config *p, char *why, size_t why_size,
		     void *userdata)
{
	ssh_session s = ssh_new();
	long timeout = PEER_TIMEOUT_S;
	unsigned port = p->port;
	int r = 0;

	if (!s)
		return -ENOMEM;
	ssh_options_set(s, SSH_OPTIONS_HOST, p->address);
	ssh_options_set(s, SSH_OPTIONS_PORT, &port);
	ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, c->ssh_known_hosts_file);
	ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout);
	ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &(int){ 0 });
	if (ssh_connect(s) != SSH_OK) {
		snprintf(why, why_size, "sshd does not answer: %s", ssh_get_error(s));
		r = -EHOSTUNREACH;
	} else {
		switch (ssh_session_is_known_server(s)) {
		case SSH_KNOWN_HOSTS_OK:
			break;
		case SSH_KNOWN_HOSTS_CHANGED:
		case SSH_KNOWN_HOSTS_OTHER:
			snprintf(why, why_size, "its host key differs from the one in %s",
				 c->ssh_known_hosts_file);
			r = -EKEYREJECTED;
			break;
		default:
			snprintf(why, why_size, "its host key is not in %s", c->ssh_known_hosts_file);
			r = -ENOKEY;
		}
		ssh_disconnect(s);
	}
	ssh_free(s);
	return r;
}

const doctor_probes doctor_host_probes = {
	.kvm = kvm_probe,
	.qemu = host_qemu,
	.vf = host_vf,
	.peer = host_peer,
};
