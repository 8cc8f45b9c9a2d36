// SPDX-License-Identifier: GPL-2.0-or-later
/* dmigrated: the per-host daemon. Thin: it loads the config and state, then runs the loop. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <malloc.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon/evacuation.h"
#include "log.h"
#include "migration/migration_hook.h"
#include "migration/migration_job.h"
#include "transport/peer_link.h"
#include "daemon/state_file.h"
#include "host/kvm_probe.h"
#include "host/vm.h"
#ifdef HAVE_LIBVIRT
#include "libvirt/virt_event.h"
#endif

static void usage(FILE *f)
{
	fprintf(f, "Usage: dmigrated [--config FILE] [-v]\n\n"
		   "The dmigrate daemon of one host: runs VMs from specs, migrates them to and from\n"
		   "its peers, and serves the dmigrate CLI on its Unix socket.\n\n"
		   "  -c, --config FILE   configuration (default %s)\n"
		   "  -v, --verbose       log debug messages\n"
		   "  -h, --help          this text\n",
		   HOST_CONFIG_DEFAULT_PATH);
}

/*
 * The first line of `QEMU_BINARY --version`, run as an argv (no shell: the binary's name comes
 * from the config and is never parsed as a command), with stdin and stderr on /dev/null.
 */
static char *qemu_version_of(const char *binary)
{
	char *const argv[] = { (char *)binary, (char *)"--version", NULL };
	posix_spawn_file_actions_t actions;
	char line[256] = "unknown";
	int pipefd[2], status;
	FILE *f = NULL;
	pid_t pid = -1;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return strdup("unknown");
	if (posix_spawn_file_actions_init(&actions) == 0) {
		if (posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0) == 0 &&
		    posix_spawn_file_actions_adddup2(&actions, pipefd[1], STDOUT_FILENO) == 0 &&
		    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0) == 0 &&
		    posix_spawnp(&pid, binary, &actions, NULL, argv, environ) != 0)
			pid = -1;
		posix_spawn_file_actions_destroy(&actions);
	}
	close(pipefd[1]);
	if (pid > 0)
		f = fdopen(pipefd[0], "re");
	if (f) {
		if (!fgets(line, sizeof(line), f))
			strcpy(line, "unknown");
		fclose(f);
	} else
		close(pipefd[0]);
	if (pid > 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	line[strcspn(line, "\n")] = '\0';
	return strdup(line);
}

static bool vm_is_known(const char *name, void *userdata)
{
	return vm_find(userdata, name) != NULL;
}

static void on_signal(uv_signal_t *s, int signum)
{
	host_daemon *d = s->data;

	/* VMs keep running: QEMU is daemonized, and the next dmigrated finds them again. */
	log_info("Got signal %d, exiting", signum);
	daemon_control_close(d);
	uv_stop(d->loop);
}

/* Once, at start: VMs whose spec and host config say "auto" run on what this finds. */
static void dmigrated_probe_kvm(host_daemon *d)
{
	char reason[256];

	if (d->config->accel != QEMU_ACCEL_AUTO) {
		log_info("VMs run on %s unless their spec says otherwise (accel in %s)",
			 qemu_accel_name(d->config->accel), d->config->path);
		return;
	}
	d->kvm_works = kvm_probe(KVM_PROBE_DEVICE, reason, sizeof(reason));
	if (d->kvm_works)
		log_info("KVM works (%s): VMs run with -accel kvm -cpu host", reason);
	else
		log_info("KVM does not work (%s): VMs run with -accel tcg", reason);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	const char *config_path = HOST_CONFIG_DEFAULT_PATH;
	_cleanup_free_ char *error = NULL;
	host_daemon d = { .loop = uv_default_loop(), .control.fd = -1, .peer.fd = -1 };
	int c, r;

	/*
	 * One malloc arena, set before any thread exists (arenas already made stay). glibc gives
	 * threads arenas of their own, and ours are few and light: the libuv pool opening peer links
	 * (and running libvirt's calls), one pump per SSH peer link, reopened when a link drops. Each
	 * arena keeps its own high-water mark, so RSS stepped up by glibc's 128 KiB top pad whenever
	 * one of them reached a new one; in the lab soak one arena made the steps smaller and rarer
	 * (RELIABILITY.md, "Nine cycles in one run" and after). Set here rather than as GLIBC_TUNABLES in the
	 * unit, which the QEMUs we spawn would inherit, and so that a daemon started by hand, by the
	 * lab or by systemd allocates alike. A sanitizer's allocator ignores it (it has no arenas).
	 */
	mallopt(M_ARENA_MAX, 1);
	/* Whatever fds our parent leaked to us must not reach the QEMUs we start. */
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	log_set_ident("dmigrated");
	log_set_timestamps(true);
	while ((c = getopt_long(argc, argv, "c:vh", options, NULL)) >= 0)
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'v':
			log_set_max_level(LOG_DEBUG);
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return 2;
		}
	if (optind < argc) {
		log_error("Unexpected argument '%s'", argv[optind]);
		return 2;
	}

	r = host_config_load(config_path, &d.config, &error);
	if (r < 0) {
		log_error("%s", error);
		return 2;
	}
	if ((r = state_dir_create(d.config->state_dir)) < 0 ||
	    (r = state_dir_create(d.config->run_dir)) < 0) {
		log_error_errno(r, "Failed to create '%s' or '%s': %m", d.config->state_dir,
				d.config->run_dir);
		return EXIT_FAILURE;
	}
	signal(SIGPIPE, SIG_IGN);
	d.qemu_version = qemu_version_of(d.config->qemu_binary);
	if (!d.qemu_version) {
		log_error("Out of memory");
		return EXIT_FAILURE;
	}
	dmigrated_probe_kvm(&d);
	r = vf_pool_open(d.config, NULL, &d.pool, &error);
	if (r < 0) {
		log_error_errno(r, "Failed to set up the passthrough pool of %s: %s", config_path,
				error ? error : strerror(-r));
		return r == -ENOMEM ? EXIT_FAILURE : 2;
	}
	d.bandwidth = bandwidth_share_new(d.config->migration_bandwidth_cap_mibps,
					  bandwidth_share_apply_backend, &d);
	if (!d.bandwidth) {
		log_error("Out of memory");
		return EXIT_FAILURE;
	}
#ifdef HAVE_LIBVIRT
	/* Before any connection to libvirtd: domains' events and keepalives run on our loop. */
	r = virt_event_register(d.loop);
	if (r < 0) {
		log_error_errno(r, "Failed to run libvirt's events on the daemon's loop: %m");
		return EXIT_FAILURE;
	}
#endif
	r = vm_registry_load(&d);
	if (r < 0)
		log_warning_errno(r, "Failed to load the VM registry: %m");
	/* A reservation whose VM is gone (it was stopped while we were down) frees its VF. */
	vf_pool_reconcile(d.pool, vm_is_known, &d);
	r = daemon_control_listen(&d);
	if (r < 0) {
		log_error_errno(r, "Failed to listen on '%s' and '%s': %m", d.config->control_socket,
				d.config->peer_socket);
		return EXIT_FAILURE;
	}
	migration_source_recover(&d);
	migration_dest_recover(&d);
	migration_hook_recover(&d);
	evacuation_recover(&d);

	uv_signal_init(d.loop, &d.sigterm);
	uv_signal_init(d.loop, &d.sigint);
	d.sigterm.data = d.sigint.data = &d;
	uv_signal_start(&d.sigterm, on_signal, SIGTERM);
	uv_signal_start(&d.sigint, on_signal, SIGINT);

	log_info("%s ready on %s, peers on %s (%s, %zu passthrough devices)", d.config->name,
		 d.config->control_socket, d.config->peer_socket, d.qemu_version, d.config->n_vfs);
	peer_links_keep(&d);
	uv_run(d.loop, UV_RUN_DEFAULT);
	return EXIT_SUCCESS;
}
