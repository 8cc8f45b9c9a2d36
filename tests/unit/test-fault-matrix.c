// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The fault matrix: for each of the eleven phases and each of the eight faults, a migration of
 * vm1 from one host to the other with that fault injected at that phase, and the end state
 * checked: where the VM runs, that it ran on one host only, who holds which VF, what each
 * journal says, the outcome and the CLI's exit code. No root and no QEMU: two real dmigrated,
 * linked locally (no SSH), run fake-qemu (a scripted QMP server with the real guest agent behind
 * its port), in a temporary directory per pair. Cells run in chains on a pair (cells_run()),
 * chains WORKERS at a time (6, or FAULT_MATRIX_WORKERS), each in its own process, and wait on
 * events (replies, SIGCHLD, inotify on the journals); only a daemon that is starting, or an
 * agent that is restarting, is asked again after a short pause.
 *
 * A cell where the fault means nothing asserts that the daemon refuses it, with the reason
 * migration_fault_refused() gives. The killed daemons are started again 300 ms after they die,
 * as systemd would, and finish or undo their half from the journal.
 *
 *   test-fault-matrix DMIGRATED FAKE_QEMU [--markdown | --check FILE] [--only FAULT@PHASE]
 *
 * --markdown prints docs/fault-matrix.md; --check compares it with FILE, which must match.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_migrate_view.h"
#include "control_protocol.h"
#include "migration/migration_fault.h"
#include "transport/rpc_conn.h"
#include "test.h"

/*
 * Cells mostly wait (on the faults' timeouts, on the other processes): more of them than the
 * machine has cores, but not so many that a loaded machine makes a restarted daemon's first
 * agent call outlast agent_timeout_ms (6 and 8 did, at a load of 25-30, when each cell started
 * its own pair of daemons; chained cells use a third of that CPU). FAULT_MATRIX_WORKERS
 * overrides it.
 */
#define WORKERS 6
/*
 * The cells' clock. AGENT_TIMEOUT_MS is the daemons' agent_timeout_ms: 500 ms made an agent
 * that was not faulted time out at a load of 9 (a cell rolled back at preflight); a crashed
 * agent is restarted by its supervisor (fake-qemu's FAKE_QEMU_AGENT_RESTART_MS) after twice
 * that. A stall must outlast the phases between its injection and the next agent call too:
 * stalled at prepare, the agent must still be stalled at standby, after the destination's QEMU
 * started (over 1 s on the loaded machine).
 */
#define AGENT_TIMEOUT_MS 1000
#define AGENT_RESTART_MS (2 * AGENT_TIMEOUT_MS)
#define FAULT_DURATION_MS (3 * AGENT_TIMEOUT_MS)
/* Shorter than the copy's bound in the config (migrate_timeout_ms 10000). */
#define CANCEL_UNDONE_MS 5000
/* A killed daemon is back after this, as systemd's RestartSec would bring it. */
#define RESTART_DELAY_MS 300
#define SETTLE_MAX_MS 12000

static const char *dmigrated_bin, *fake_qemu_bin;

/* The faults of the matrix, in its column order. */
static const migration_fault_kind faults[] = {
	FAULT_KILL_DEST_QEMU, FAULT_KILL_AGENT,  FAULT_STALL_AGENT,        FAULT_DROP_SSH,
	FAULT_VF_LINK_DOWN,   FAULT_NO_FREE_VF,  FAULT_KILL_SOURCE_DAEMON, FAULT_KILL_DEST_DAEMON,
};
#define N_FAULTS (sizeof(faults) / sizeof(faults[0]))

/* What a cell ended with. */
typedef struct observed {
	char outcome[32];   /* the result's, or "refused", or "recovered:OUTCOME" */
	int exit_code;      /* the CLI's for this result (cli_migrate_exit_code()) */
	char runs_on[16];   /* source, destination, nowhere, or "twice" (a failure) */
	char vf_src[16], vf_dst[16]; /* who holds the host's one VF: vm1 or free */
	char plugged[8];    /* the running copy's VF: yes/no/- */
	char bond[16];      /* the running guest's active slave role, or - */
	char journal_src[32], journal_dst[32]; /* what is left in STATE_DIR/jobs */
	char message[512];
	uint64_t ms;        /* how long the cell took, from the request to the last look */
} observed;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	ASSERT_TRUE(f != NULL);
	fputs(text, f);
	ASSERT_OK(fclose(f));
}

static char *read_file(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* --- one host: its daemon --- */

typedef struct host {
	const char *name;
	char dir[64], sock[100];
	pid_t pid;
	uint64_t restart_at; /* 0: running, or not to be restarted */
	int deaths;
} host;

static void host_config(const char *root, host *h, const host *peer)
{
	char path[256], text[2048];

	snprintf(h->dir, sizeof(h->dir), "%s/%s", root, h->name);
	snprintf(h->sock, sizeof(h->sock), "%s/d.sock", h->dir);
	ASSERT_OK(mkdir(h->dir, 0700));
	/* The journals' directory, made here so that the test can watch it from the start. */
	snprintf(path, sizeof(path), "%s/state", h->dir);
	ASSERT_OK(mkdir(path, 0700));
	snprintf(path, sizeof(path), "%s/state/jobs", h->dir);
	ASSERT_OK(mkdir(path, 0700));
	snprintf(text, sizeof(text),
		 "{\"name\": \"%s\", \"control_socket\": \"%s\", \"peer_socket\": \"%s/p.sock\",\n"
		 " \"state_dir\": \"%s/state\",\n"
		 " \"run_dir\": \"%s/vms\", \"qemu_binary\": \"%s\", \"migration_address\": \"127.0.0.1\",\n"
		 " \"passthrough\": {\"type\": \"emulated\", \"slots\": 1}, \"fault_injection\": true,\n"
		 " \"agent_timeout_ms\": %d, \"incoming_timeout_ms\": 20000,\n"
		 " \"migration\": {\"migrate_timeout_ms\": 10000},\n"
		 " \"peers\": {\"%s\": {\"address\": \"127.0.0.1\", \"peer_socket\": \"%s/%s/p.sock\",\n"
		 "  \"link\": \"local\"}}}\n",
		 h->name, h->sock, h->dir, h->dir, h->dir, fake_qemu_bin, AGENT_TIMEOUT_MS, peer->name,
		 root, peer->name);
	snprintf(path, sizeof(path), "%s/config.json", h->dir);
	write_file(path, text);
}

/*
 * posix_spawn(), not fork(): it does not copy this sanitized process's page tables, which fork()
 * did at each of the matrix's ~150 daemon starts.
 */
static void host_start(host *h)
{
	char config[256], log[256];
	char *argv[] = { (char *)dmigrated_bin, "-c", config, NULL, NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;

	snprintf(config, sizeof(config), "%s/config.json", h->dir);
	snprintf(log, sizeof(log), "%s/dmigrated.log", h->dir);
	if (getenv("FAULT_MATRIX_KEEP"))
		argv[3] = "-v";
	ASSERT_EQ(posix_spawn_file_actions_init(&fa), 0);
	ASSERT_EQ(posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0600), 0);
	ASSERT_EQ(posix_spawn_file_actions_adddup2(&fa, 1, 2), 0);
	ASSERT_EQ(posix_spawn(&pid, dmigrated_bin, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	h->pid = pid;
	h->restart_at = 0;
}

/*
 * Ready once both its sockets take connections: it listens on the control socket first, and a
 * killed daemon's peer socket file is still there, refusing, until the new one binds it.
 */
static void host_wait(const host *h)
{
	char peer_sock[sizeof(h->dir) + 8];
	const char *const socks[] = { h->sock, peer_sock };

	snprintf(peer_sock, sizeof(peer_sock), "%s/p.sock", h->dir);
	for (size_t k = 0; k < ELEMENTSOF(socks); k++)
		for (int i = 0;; i++) {
			struct sockaddr_un sa = { .sun_family = AF_UNIX };
			int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
			int r;

			snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", socks[k]);
			r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
			close(fd);
			if (r == 0)
				break;
			if (i == 500)
				TEST_FAIL("%s's dmigrated did not come up (see %s/dmigrated.log)", h->name, h->dir);
			usleep(10000);
		}
}

/* A daemon the fault killed is started again a moment later, as its supervisor would. */
static void host_reap(host *h)
{
	int status;

	if (h->pid > 0 && waitpid(h->pid, &status, WNOHANG) == h->pid) {
		h->pid = 0;
		h->deaths++;
		h->restart_at = now_ms() + RESTART_DELAY_MS;
	}
	if (h->restart_at && now_ms() >= h->restart_at) {
		host_start(h);
		host_wait(h);
	}
}

/*
 * What wakes a cell's loop, so that it waits without polling: a daemon's death (SIGCHLD), the
 * time to start it again, a journal written or removed (inotify on each host's jobs
 * directory), the replies on its connections, and its deadline.
 */
typedef struct watch {
	uv_signal_t sigchld;
	uv_timer_t restart, deadline;
	uv_fs_event_t jobs[2];
	unsigned jobs_watched;
	host *hosts[2];
	bool expired;
} watch;

static void watch_on_restart(uv_timer_t *t);

static void watch_restart_arm(watch *w)
{
	uint64_t next = 0, now = now_ms();

	for (int i = 0; i < 2; i++)
		if (w->hosts[i]->restart_at && (!next || w->hosts[i]->restart_at < next))
			next = w->hosts[i]->restart_at;
	if (next)
		uv_timer_start(&w->restart, watch_on_restart, next > now ? next - now : 0, 0);
}

static void watch_on_restart(uv_timer_t *t)
{
	watch *w = t->loop->data;

	for (int i = 0; i < 2; i++)
		host_reap(w->hosts[i]);
	watch_restart_arm(w);
}

static void watch_on_sigchld(uv_signal_t *s, int signum)
{
	watch *w = s->loop->data;

	for (int i = 0; i < 2; i++)
		host_reap(w->hosts[i]);
	watch_restart_arm(w);
}

static void watch_on_deadline(uv_timer_t *t)
{
	watch *w = t->loop->data;

	w->expired = true;
}

/* Waking the loop is all: the caller looks again at what it waits for. */
static void watch_on_jobs(uv_fs_event_t *e, const char *name, int events, int status)
{
}

static void watch_start(watch *w, uv_loop_t *loop, host *a, host *b)
{
	memset(w, 0, sizeof(*w));
	w->hosts[0] = a;
	w->hosts[1] = b;
	loop->data = w;
	ASSERT_OK(uv_signal_init(loop, &w->sigchld));
	ASSERT_OK(uv_signal_start(&w->sigchld, watch_on_sigchld, SIGCHLD));
	ASSERT_OK(uv_timer_init(loop, &w->restart));
	ASSERT_OK(uv_timer_init(loop, &w->deadline));
	for (int i = 0; i < 2; i++) {
		char path[256];

		snprintf(path, sizeof(path), "%s/state/jobs", w->hosts[i]->dir);
		ASSERT_OK(uv_fs_event_init(loop, &w->jobs[i]));
		w->jobs_watched++;
		ASSERT_OK(uv_fs_event_start(&w->jobs[i], watch_on_jobs, path, 0));
	}
}

/* Wait until done() says so or ms pass: true if done. */
static bool watch_until(watch *w, uv_loop_t *loop, uint64_t ms, bool (*done)(void *), void *what)
{
	w->expired = false;
	uv_timer_start(&w->deadline, watch_on_deadline, ms, 0);
	/* A death between the last look and the handler's install: look once by hand. */
	for (int i = 0; i < 2; i++)
		host_reap(w->hosts[i]);
	watch_restart_arm(w);
	while (!done(what) && !w->expired)
		uv_run(loop, UV_RUN_ONCE);
	uv_timer_stop(&w->deadline);
	return done(what);
}

static void watch_stop(watch *w)
{
	uv_close((uv_handle_t *)&w->sigchld, NULL);
	uv_close((uv_handle_t *)&w->restart, NULL);
	uv_close((uv_handle_t *)&w->deadline, NULL);
	for (unsigned i = 0; i < w->jobs_watched; i++)
		uv_close((uv_handle_t *)&w->jobs[i], NULL);
}

/*
 * The end of the cell: the daemon's state is what was looked at already, so SIGKILL. In a
 * coverage build (tests/coverage) SIGTERM first, as systemd stops it: it exits through main()
 * and writes its counters, which a SIGKILLed process never does (SIGKILL after 3 s).
 */
static void host_stop(host *h)
{
	if (h->pid <= 0)
		return;
#ifdef DMIGRATE_COVERAGE
	kill(h->pid, SIGTERM);
	for (int i = 0; i < 300; i++) {
		if (waitpid(h->pid, NULL, WNOHANG) == h->pid) {
			h->pid = 0;
			return;
		}
		usleep(10000);
	}
#endif
	kill(h->pid, SIGKILL);
	(void)waitpid(h->pid, NULL, 0);
	h->pid = 0;
}

/* --- talking to a daemon --- */

typedef struct call {
	bool done;
	int error;
	char code[64], message[512];
	json_object *ret;
} call;

static void on_reply(rpc_conn *c, int error, json_object *ret, const char *code,
		     const char *message, void *userdata)
{
	call *k = userdata;

	k->done = true;
	k->error = error;
	snprintf(k->code, sizeof(k->code), "%s", code ?: "");
	snprintf(k->message, sizeof(k->message), "%s", message ?: "");
	k->ret = ret ? json_object_get(ret) : NULL;
}

/* The daemon's end went away: rpc_conn frees itself then, so the test must not close it. */
static void on_closed(rpc_conn *c, int error, void *userdata)
{
	if (userdata)
		*(bool *)userdata = true;
}

static rpc_conn *connect_host(uv_loop_t *loop, const host *h, bool *closed)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	call hello = { 0 };
	json_object *args = json_object_new_object();
	rpc_conn *c;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", h->sock);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		json_object_put(args);
		return NULL;
	}
	ASSERT_OK(rpc_conn_new(loop, fd, &(rpc_conn_callbacks){ .closed = on_closed }, closed, &c));
	json_object_object_add(args, "version", json_object_new_int(CONTROL_PROTOCOL_VERSION));
	json_object_object_add(args, "client", json_object_new_string("test-fault-matrix"));
	json_object_object_add(args, "features", json_object_new_array());
	ASSERT_OK(rpc_conn_call(c, "hello", args, 5000, NULL, on_reply, &hello));
	while (!hello.done)
		uv_run(loop, UV_RUN_ONCE);
	json_object_put(hello.ret);
	if (hello.error < 0) {
		if (!*closed)
			rpc_conn_close(c);
		return NULL;
	}
	return c;
}

/* A short request, answered at once: NULL if the daemon is not there. */
static json_object *ask(uv_loop_t *loop, const host *h, const char *cmd, json_object *args,
			call *k)
{
	bool closed = false;
	rpc_conn *c = NULL;

	/* A daemon just (re)started may be busy recovering: give it a few tries. */
	for (int i = 0; i < 50 && !c; i++) {
		c = connect_host(loop, h, &closed);
		if (!c)
			usleep(100000);
	}
	memset(k, 0, sizeof(*k));
	if (!c) {
		json_object_put(args);
		return NULL;
	}
	ASSERT_OK(rpc_conn_call(c, cmd, args, 10000, NULL, on_reply, k));
	while (!k->done)
		uv_run(loop, UV_RUN_ONCE);
	if (!closed)
		rpc_conn_close(c);
	uv_run(loop, UV_RUN_NOWAIT);
	return k->ret;
}

/* --- what the hosts hold --- */

static bool fake_qemu_alive(const host *h, char *status, size_t size)
{
	char path[256];
	char *text;
	int pid;

	char *close_paren, state = 'X';

	snprintf(path, sizeof(path), "%s/vms/vm1/qemu.pid", h->dir);
	text = read_file(path);
	if (!text || sscanf(text, "%d", &pid) != 1)
		return false;
	/* Dead, or dead and not yet reaped by us (its subreaper): a zombie runs nothing. */
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	text = read_file(path);
	if (!text || !(close_paren = strrchr(text, ')')) ||
	    sscanf(close_paren + 1, " %c", &state) != 1 || state == 'Z')
		return false;
	snprintf(path, sizeof(path), "%s/vms/vm1/fake-qemu.state", h->dir);
	text = read_file(path);
	if (!text || sscanf(text, "status=%31s", status) != 1)
		snprintf(status, size, "unknown");
	return true;
}

/* A count (or flag) in fake-qemu.state, 0 if not there. */
static unsigned fake_qemu_count(const host *h, const char *key)
{
	char path[256], want[64];
	char *text, *at;

	snprintf(path, sizeof(path), "%s/vms/vm1/fake-qemu.state", h->dir);
	snprintf(want, sizeof(want), "\n%s=", key);
	text = read_file(path);
	return text && (at = strstr(text, want)) ? (unsigned)strtoul(at + strlen(want), NULL, 10) : 0;
}

/* The state a copy that ran here earlier left, for its successor to write afresh. */
static void fake_qemu_forget(const host *h)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/vms/vm1/fake-qemu.state", h->dir);
	(void)unlink(path);
}

static void fake_qemu_kill(const host *h)
{
	char path[256];
	char *text;
	int pid;

	snprintf(path, sizeof(path), "%s/vms/vm1/qemu.pid", h->dir);
	text = read_file(path);
	if (text && sscanf(text, "%d", &pid) == 1 && pid > 0)
		kill(pid, SIGKILL);
}

static void pool_holder(const host *h, char *out, size_t size)
{
	char path[256];
	char *text;

	snprintf(path, sizeof(path), "%s/state/vf-pool.json", h->dir);
	text = read_file(path);
	snprintf(out, size, "%s", text && strstr(text, "\"vm1\"") ? "vm1" : "free");
}

static void journal_left(const host *h, char *out, size_t size)
{
	char path[256];
	json_object *o, *phase;
	char *text;

	snprintf(path, sizeof(path), "%s/state/jobs/vm1.json", h->dir);
	text = read_file(path);
	if (!text) {
		snprintf(out, size, "none");
		return;
	}
	o = json_tokener_parse(text);
	snprintf(out, size, "%s",
		 o && json_object_object_get_ex(o, "phase", &phase) ? json_object_get_string(phase) :
								       "unreadable");
	json_object_put(o);
}

static bool journals_empty(const host *a, const host *b)
{
	char ja[32], jb[32];

	journal_left(a, ja, sizeof(ja));
	journal_left(b, jb, sizeof(jb));
	return !strcmp(ja, "none") && !strcmp(jb, "none");
}

/* --- one cell --- */

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path) < 0 && errno != ENOENT ? -errno : 0;
}

/*
 * The daemons and the fake-qemus they start run without LeakSanitizer: the daemons end by
 * SIGKILL here (it never runs in them), and its check at each exit of a fake-qemu (its
 * --version, its daemonizing parent, a quit) took two thirds of the CPU such a short process
 * uses, the matrix's largest cost on two cores. The leak checks of the daemon's code are the
 * other unit tests'; AddressSanitizer's other checks stay on.
 */
static void leak_checks_off_for_children(void)
{
	const char *asan = getenv("ASAN_OPTIONS");
	char opts[1024];

	snprintf(opts, sizeof(opts), "%s%sdetect_leaks=0", asan ?: "", asan && *asan ? ":" : "");
	setenv("ASAN_OPTIONS", opts, 1);
}

/* Two hosts in root (a mkdtemp template), vm1 started on hostA; QEMU's copy takes copy_ms. */
static void pair_up(char *root, host *a, host *b, uv_loop_t *loop, const char *copy_ms)
{
	char path[256], spec[512], restart_ms[16];
	json_object *args;
	call k;

	ASSERT_OK(uv_loop_init(loop));
	ASSERT_TRUE(mkdtemp(root) != NULL);
	host_config(root, a, b);
	host_config(root, b, a);
	snprintf(path, sizeof(path), "%s/kernel", root);
	write_file(path, "");
	snprintf(spec, sizeof(spec),
		 "{\"name\": \"vm1\", \"memory_mib\": 256, \"vcpus\": 1, \"mac\": \"52:54:00:00:00:11\",\n"
		 " \"passthrough\": {\"type\": \"emulated\"},\n"
		 " \"boot\": {\"kernel\": \"%s/kernel\", \"cmdline\": \"console=ttyS0\"}}\n",
		 root);
	snprintf(path, sizeof(path), "%s/vm1.json", root);
	write_file(path, spec);
	setenv("FAKE_QEMU_COPY_MS", copy_ms, 1);
	snprintf(restart_ms, sizeof(restart_ms), "%d", AGENT_RESTART_MS);
	setenv("FAKE_QEMU_AGENT_RESTART_MS", restart_ms, 1);
	leak_checks_off_for_children();
	host_start(a);
	host_start(b);
	host_wait(a);
	host_wait(b);
	args = json_object_new_object();
	json_object_object_add(args, "spec", json_object_new_string(path));
	if (!ask(loop, a, "start", args, &k))
		TEST_FAIL("vm1 did not start on hostA: %s (%s)", k.message, a->dir);
	json_object_put(k.ret);
}

static void pair_down(char *root, host *a, host *b, uv_loop_t *loop)
{
	host_stop(a);
	host_stop(b);
	fake_qemu_kill(a);
	fake_qemu_kill(b);
	uv_run(loop, UV_RUN_NOWAIT);
	(void)uv_loop_close(loop);
	if (!getenv("FAULT_MATRIX_KEEP"))
		ASSERT_OK(nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS));
}

static bool call_done(void *k)
{
	return ((call *)k)->done;
}

typedef struct pair {
	host *a, *b;
} pair;

/* Killed daemons back, journals gone (or for good, if kept). */
static bool pair_settled(void *p)
{
	host *a = ((pair *)p)->a, *b = ((pair *)p)->b;

	return !a->restart_at && !b->restart_at && a->pid && b->pid && journals_empty(a, b);
}

/*
 * One cell on a pair that is up, vm1 running on src: migrate it to dst with the fault, then
 * observe where everything ended.
 */
static void cell_run(uv_loop_t *loop, watch *w, host *src, host *dst, migration_fault fault,
		     observed *o)
{
	json_object *args, *f, *result = NULL, *v;
	bool on_src, on_dst, closed = false;
	char status[32];
	host *runs;
	call k, mig;
	uint64_t until;
	rpc_conn *c;

	uint64_t t0 = now_ms();
	unsigned resumed_before;

	memset(o, 0, sizeof(*o));
	memset(&mig, 0, sizeof(mig));
	/* What a copy that ran on dst before this cell said is not this cell's. */
	if (!fake_qemu_alive(dst, status, sizeof(status)))
		fake_qemu_forget(dst);
	/* The source's copy may have been resumed after an earlier cell's migration (rolled back
	 * past the copy): only a resume in this cell counts. */
	resumed_before = fake_qemu_count(src, "resumed_after_migration");
	/* The migration, with its fault. */
	args = json_object_new_object();
	json_object_object_add(args, "vm", json_object_new_string("vm1"));
	json_object_object_add(args, "to", json_object_new_string(dst->name));
	if (migration_fault_has_duration(fault.kind))
		fault.duration_ms = FAULT_DURATION_MS;
	f = json_object_new_object();
	json_object_object_add(f, "name", json_object_new_string(migration_fault_name(fault.kind)));
	json_object_object_add(f, "phase", json_object_new_string(migration_phase_name(fault.phase)));
	if (fault.duration_ms)
		json_object_object_add(f, "duration_ms", json_object_new_uint64(fault.duration_ms));
	json_object_object_add(args, "fault", f);
	c = connect_host(loop, src, &closed);
	ASSERT_TRUE(c != NULL);
	ASSERT_OK(rpc_conn_call(c, "migrate", args, 0, NULL, on_reply, &mig));
	ASSERT_TRUE(watch_until(w, loop, 120000, call_done, &mig));
	if (!closed)
		rpc_conn_close(c);

	if (mig.error == -EREMOTEIO) {
		/* Refused before anything changed. */
		snprintf(o->outcome, sizeof(o->outcome), "refused");
		o->exit_code = !strcmp(mig.code, CONTROL_ERR_INVALID) ? CLI_EXIT_USAGE : CLI_EXIT_FAILED;
		snprintf(o->message, sizeof(o->message), "%s", mig.message);
	} else if (mig.error < 0) {
		/* Our daemon died under the request: the CLI would say so and exit 1. */
		snprintf(o->outcome, sizeof(o->outcome), "recovered");
		o->exit_code = CLI_EXIT_FAILED;
	} else {
		result = mig.ret;
		snprintf(o->outcome, sizeof(o->outcome), "%s",
			 json_object_object_get_ex(result, "outcome", &v) ? json_object_get_string(v) :
									    "?");
		o->exit_code = cli_migrate_exit_code(result);
		if (json_object_object_get_ex(result, "message", &v))
			snprintf(o->message, sizeof(o->message), "%s", json_object_get_string(v));
	}

	/* Both halves settle. */
	watch_until(w, loop, SETTLE_MAX_MS, pair_settled, &(pair){ src, dst });

	on_src = fake_qemu_alive(src, status, sizeof(status)) && !strcmp(status, "running");
	on_dst = fake_qemu_alive(dst, status, sizeof(status)) && !strcmp(status, "running");
	/* Once a copy ran on the destination, the source's must never have been resumed. */
	if ((on_src && on_dst) ||
	    (fake_qemu_count(src, "resumed_after_migration") > resumed_before &&
	     fake_qemu_count(dst, "ran")))
		snprintf(o->runs_on, sizeof(o->runs_on), "twice");
	else
		snprintf(o->runs_on, sizeof(o->runs_on), "%s", on_src ? "source" :
							 on_dst ? "destination" : "nowhere");
	runs = on_src ? src : on_dst ? dst : NULL;
	pool_holder(src, o->vf_src, sizeof(o->vf_src));
	pool_holder(dst, o->vf_dst, sizeof(o->vf_dst));
	journal_left(src, o->journal_src, sizeof(o->journal_src));
	journal_left(dst, o->journal_dst, sizeof(o->journal_dst));
	snprintf(o->plugged, sizeof(o->plugged), "-");
	snprintf(o->bond, sizeof(o->bond), "-");
	/* Its guest agent may be down a moment yet (restarted after a crash): wait for it. */
	until = now_ms() + 6000;
	while (runs && !(on_src && on_dst)) {
		json_object *guest, *role;

		args = json_object_new_object();
		json_object_object_add(args, "vm", json_object_new_string("vm1"));
		if (ask(loop, runs, "status", args, &k)) {
			snprintf(o->plugged, sizeof(o->plugged), "%s",
				 json_object_object_get_ex(k.ret, "vf_plugged", &v) &&
						 json_object_get_boolean(v) ? "yes" : "no");
			if (json_object_object_get_ex(k.ret, "guest", &guest) &&
			    json_object_object_get_ex(guest, "active-role", &role))
				snprintf(o->bond, sizeof(o->bond), "%s", json_object_get_string(role));
			json_object_put(k.ret);
		}
		if (strcmp(o->bond, "-") || now_ms() >= until)
			break;
		/* The daemon tells no one when the agent is back: ask again shortly. */
		usleep(50000);
	}
	if (!strcmp(o->outcome, "recovered"))
		snprintf(o->outcome, sizeof(o->outcome), "recovered:%s",
			 runs == src ? "rolled-back" : runs == dst ?
			 (!strcmp(o->plugged, "yes") && !strcmp(o->bond, "vf") ? "migrated" :
										  "degraded") :
			 "lost");
	json_object_put(result);
	o->ms = now_ms() - t0;
}

/*
 * Where the next cell can start: the VM runs on one host, on its VF and the bond's active
 * slave, the other host's VF free, no journal left. Anything else (a lost or degraded VM, or a
 * cell that failed) and the next cell gets a pair of its own.
 */
static bool cell_left_whole(const observed *o)
{
	bool on_src = !strcmp(o->runs_on, "source"), on_dst = !strcmp(o->runs_on, "destination");

	return (on_src || on_dst) && !strcmp(o->plugged, "yes") && !strcmp(o->bond, "vf") &&
	       !strcmp(o->journal_src, "none") && !strcmp(o->journal_dst, "none") &&
	       !strcmp(o->vf_src, on_src ? "vm1" : "free") && !strcmp(o->vf_dst, on_dst ? "vm1" : "free");
}

/*
 * Run cells[0..n) one after the other, each migrating vm1 from where the one before left it
 * (hostA to hostB, then back, ...): a pair of hosts costs most of a cell's CPU (two sanitized
 * daemons and a QEMU started), a migration little. The cells are independent all the same: a
 * cell that does not leave the VM whole (cell_left_whole()) is followed by a fresh pair.
 */
static void cells_run(const migration_fault *cells, size_t n, observed *out)
{
	char root[sizeof("/tmp/dmfm.XXXXXX")];
	host hosts[2], *src, *dst;
	uv_loop_t loop;
	watch w;

	for (size_t cell = 0; cell < n; cell++) {
		if (cell == 0 || !cell_left_whole(&out[cell - 1])) {
			if (cell > 0) {
				watch_stop(&w);
				pair_down(root, &hosts[0], &hosts[1], &loop);
			}
			snprintf(root, sizeof(root), "/tmp/dmfm.XXXXXX");
			hosts[0] = (host){ .name = "hostA" };
			hosts[1] = (host){ .name = "hostB" };
			src = &hosts[0];
			dst = &hosts[1];
			pair_up(root, src, dst, &loop, "150");
			watch_start(&w, &loop, src, dst);
		} else if (!strcmp(out[cell - 1].runs_on, "destination")) {
			host *t = src;

			src = dst;
			dst = t;
		}
		cell_run(&loop, &w, src, dst, cells[cell], &out[cell]);
	}
	watch_stop(&w);
	if (getenv("FAULT_MATRIX_KEEP")) {
		/* Left running for a look: the caller ends them (pids in the log and pidfiles). */
		fprintf(stderr, "daemons %d %d left running in %s\n", (int)hosts[0].pid,
			(int)hosts[1].pid, root);
		return;
	}
	pair_down(root, &hosts[0], &hosts[1], &loop);
}

/* --- beyond the matrix: `dmigrate cancel`, and the bound of the copy --- */

typedef struct watched {
	call mig; /* first: on_reply() takes the struct as its call */
	const char *phase;
	bool seen, cancelled;
} watched;

/* The result, or the phase to cancel at has started. */
static bool scenario_wake(void *p)
{
	watched *w = p;

	return w->mig.done || (w->phase && w->seen && !w->cancelled);
}

static void on_phase_event(rpc_conn *c, const char *event, json_object *data, void *userdata)
{
	watched *w = userdata;
	json_object *p, *st;

	if (w->phase && !strcmp(event, "phase") && json_object_object_get_ex(data, "phase", &p) &&
	    json_object_object_get_ex(data, "state", &st) &&
	    !strcmp(json_object_get_string(p), w->phase) &&
	    !strcmp(json_object_get_string(st), "started"))
		w->seen = true;
}

/*
 * Migrate vm1 (QEMU copying for copy_ms, with settings and fault as JSON or NULL); when `phase`
 * starts, `dmigrate cancel` it if cancel_why is given: NULL to expect the cancel accepted, else a
 * part of the refusal. Then expect the outcome, a part of its message, and where the VM runs.
 */
static void scenario(const char *name, const char *copy_ms, const char *settings, const char *fault,
		     const char *phase, const char *cancel_refused, const char *want_outcome,
		     const char *want_message, const char *want_host)
{
	char root[] = "/tmp/dmfm.XXXXXX", status[32];
	host a = { .name = "hostA" }, b = { .name = "hostB" };
	watched w = { .phase = phase };
	uint64_t cancelled_at = 0;
	json_object *args, *v;
	bool closed = false, on_a, on_b;
	uv_loop_t loop;
	rpc_conn *c;
	watch wt;
	call k;

	pair_up(root, &a, &b, &loop, copy_ms);
	watch_start(&wt, &loop, &a, &b);
	args = json_object_new_object();
	json_object_object_add(args, "vm", json_object_new_string("vm1"));
	json_object_object_add(args, "to", json_object_new_string("hostB"));
	if (settings)
		json_object_object_add(args, "settings", json_tokener_parse(settings));
	if (fault)
		json_object_object_add(args, "fault", json_tokener_parse(fault));
	c = connect_host(&loop, &a, &closed);
	ASSERT_TRUE(c != NULL);
	ASSERT_OK(rpc_conn_call(c, "migrate", args, 0, on_phase_event, on_reply, &w));
	while (!w.mig.done && watch_until(&wt, &loop, 120000, scenario_wake, &w)) {
		if (w.seen && !w.cancelled && phase) {
			args = json_object_new_object();
			json_object_object_add(args, "vm", json_object_new_string("vm1"));
			ask(&loop, &a, "cancel", args, &k);
			json_object_put(k.ret);
			w.cancelled = true;
			cancelled_at = now_ms();
			if (cancel_refused) {
				if (k.error != -EREMOTEIO || !strstr(k.message, cancel_refused))
					TEST_FAIL("%s: cancel was not refused with '%s': %s", name,
						  cancel_refused, k.message);
			} else if (k.error < 0) {
				TEST_FAIL("%s: cancel was refused: %s", name, k.message);
			}
		}
	}
	ASSERT_TRUE(w.mig.done);
	/* An accepted cancel undoes at once, not when the copy's bound (migrate_timeout_ms, 10 s
	 * here) would have ended it. */
	if (cancelled_at && !cancel_refused && now_ms() - cancelled_at > CANCEL_UNDONE_MS)
		TEST_FAIL("%s: the migration ended %.1f s after the cancel was accepted", name,
			  (double)(now_ms() - cancelled_at) / 1000);
	if (!closed)
		rpc_conn_close(c);
	if (phase && !w.cancelled)
		TEST_FAIL("%s: phase %s never started", name, phase);
	if (w.mig.error < 0 || !json_object_object_get_ex(w.mig.ret, "outcome", &v) ||
	    strcmp(json_object_get_string(v), want_outcome))
		TEST_FAIL("%s: expected %s, got %s (%s)", name, want_outcome,
			  w.mig.ret ? json_object_to_json_string(w.mig.ret) : "no result", w.mig.message);
	if (!json_object_object_get_ex(w.mig.ret, "message", &v) ||
	    !strstr(json_object_get_string(v), want_message))
		TEST_FAIL("%s: the result does not say '%s': %s", name, want_message,
			  json_object_to_json_string(w.mig.ret));
	json_object_put(w.mig.ret);
	on_a = fake_qemu_alive(&a, status, sizeof(status)) && !strcmp(status, "running");
	on_b = fake_qemu_alive(&b, status, sizeof(status)) && !strcmp(status, "running");
	if (on_a == on_b || strcmp(on_a ? "hostA" : "hostB", want_host))
		TEST_FAIL("%s: the VM must run on %s only (hostA %d, hostB %d)", name, want_host, on_a,
			  on_b);
	watch_stop(&wt);
	pair_down(root, &a, &b, &loop);
}

static void scenario_cancel_copy(void)
{
	scenario("cancel during the copy", "60000", NULL, NULL, "migrate", NULL, "rolled-back",
		 "cancelled by the operator", "hostA");
}

static void scenario_cancel_after_switchover(void)
{
	char stall[128];

	/* The stalled agent holds the job in active, past the switchover. */
	snprintf(stall, sizeof(stall),
		 "{\"name\": \"stall-agent\", \"phase\": \"active\", \"duration_ms\": %d}",
		 FAULT_DURATION_MS);
	scenario("cancel after the switchover", "150", NULL, stall, "active", "past the switchover",
		 "degraded", "guest agent", "hostB");
}

static void scenario_migrate_timeout(void)
{
	scenario("a copy that does not converge", "60000", "{\"migrate_timeout_ms\": 1500}", NULL,
		 NULL, NULL, "rolled-back", "did not complete within 1500 ms", "hostA");
}

static const struct {
	const char *name, *what;
	void (*run)(void);
} scenarios[] = {
	{ "cancel during the copy",
	  "`dmigrate cancel` while QEMU copies: accepted, the migration is rolled back (exit 1) and "
	  "the VM runs on hostA only",
	  scenario_cancel_copy },
	{ "cancel after the switchover",
	  "`dmigrate cancel` during `active`: refused, saying the migration is past the switchover; "
	  "the migration goes on (here degraded by a stalled agent) and the VM runs on hostB only",
	  scenario_cancel_after_switchover },
	{ "a copy that does not converge",
	  "`migrate_timeout_ms` 1500 against a copy that takes a minute: the copy is cancelled, "
	  "the migration rolled back, the VM runs on hostA only",
	  scenario_migrate_timeout },
};

/* --- the matrix --- */

/*
 * What each cell must end with, one row per phase, one letter per fault in the order of
 * faults[]: M migrated, D degraded, R rolled back, L lost, X refused (the fault means nothing
 * there); lower case: the same, reached by a restarted daemon from its journal.
 */
static const char *const expected[_PHASE_MAX] = {
	/*                   qemu agent stall ssh link novf ksrc kdst */
	[PHASE_PREFLIGHT] = "XRRXXRrR",
	[PHASE_PREPARE] = "XRRMXXrR",
	[PHASE_STANDBY] = "RRRMXXrM",
	[PHASE_DID_OFF] = "RRRMXXrM",
	[PHASE_UNPLUG] = "RDDMXXrM",
	[PHASE_MIGRATE] = "RDDMXXmM",
	[PHASE_SWITCHOVER] = "RXXMXXmM",
	[PHASE_PLUG] = "LDDMXXmM",
	[PHASE_ACTIVE] = "LDDMDXmM",
	[PHASE_DID_ON] = "LMMMXXmM",
	[PHASE_COMMIT] = "XXXMXXmM",
};

static const char *outcome_of(char letter)
{
	switch (letter) {
	case 'M': return "migrated";
	case 'D': return "degraded";
	case 'R': return "rolled-back";
	case 'L': return "lost";
	case 'X': return "refused";
	case 'm': return "recovered:migrated";
	case 'd': return "recovered:degraded";
	case 'r': return "recovered:rolled-back";
	case 'l': return "recovered:lost";
	}
	return "?";
}

static int fault_column(migration_fault_kind kind)
{
	for (size_t i = 0; i < N_FAULTS; i++)
		if (faults[i] == kind)
			return (int)i;
	return -1;
}

static bool check(bool ok, const char *cell, const char *what, const observed *o, int *failures)
{
	if (!ok) {
		fprintf(stderr,
			"FAIL %s: %s (outcome %s, exit %d, runs on %s, VF source:%s destination:%s, plugged %s, "
			"bond %s, "
			"journals source:%s destination:%s; %s)\n",
			cell, what, o->outcome, o->exit_code, o->runs_on, o->vf_src, o->vf_dst, o->plugged,
			o->bond, o->journal_src, o->journal_dst, o->message);
		(*failures)++;
	}
	return ok;
}

#define CHECK(cond, what) check(cond, cell, what, o, &failures)

/* The cell's end state: what its outcome means, the same for every fault. */
static int check_cell(migration_fault_kind kind, migration_phase phase, const observed *o)
{
	const char *want = outcome_of(expected[phase][fault_column(kind)]);
	const char *outcome = strncmp(o->outcome, "recovered:", 10) ? o->outcome : o->outcome + 10;
	const char *refused = migration_fault_refused(kind, phase);
	bool recovered = !strncmp(o->outcome, "recovered:", 10);
	char cell[64];
	int failures = 0;

	snprintf(cell, sizeof(cell), "%s at %s", migration_fault_name(kind),
		 migration_phase_name(phase));
	CHECK(!strcmp(o->outcome, want), "not the expected outcome");
	CHECK(strcmp(o->runs_on, "twice"), "the VM ran on both hosts");
	CHECK(!strcmp(o->journal_src, "none") && !strcmp(o->journal_dst, "none"),
	      "a journal was left behind");
	if (!strcmp(outcome, "refused")) {
		CHECK(refused && strstr(o->message, refused), "refused without the reason");
		CHECK(o->exit_code == CLI_EXIT_USAGE, "a refusal exits 2");
	} else {
		CHECK(!refused, "a meaningless fault was not refused");
	}
	if (!strcmp(outcome, "refused") || !strcmp(outcome, "rolled-back")) {
		CHECK(!strcmp(o->runs_on, "source"), "it must run on the source");
		CHECK(!strcmp(o->vf_src, "vm1") && !strcmp(o->vf_dst, "free"),
		      "the source's VF held, the destination's free");
		CHECK(!strcmp(o->plugged, "yes") && !strcmp(o->bond, "vf"),
		      "back on its VF, the bond's active slave");
	} else if (!strcmp(outcome, "migrated") || !strcmp(outcome, "degraded")) {
		CHECK(!strcmp(o->runs_on, "destination"), "it must run on the destination");
		CHECK(!strcmp(o->vf_src, "free") && !strcmp(o->vf_dst, "vm1"),
		      "the destination's VF held, the source's free");
		/* Degraded: without its VF, or without DID (not seen here). */
		if (!strcmp(outcome, "migrated"))
			CHECK(!strcmp(o->plugged, "yes") && !strcmp(o->bond, "vf"),
			      "on its new VF, the bond's active slave");
	} else if (!strcmp(outcome, "lost")) {
		CHECK(!strcmp(o->runs_on, "nowhere"), "a lost VM runs nowhere (never resumed)");
		CHECK(!strcmp(o->vf_src, "free") && !strcmp(o->vf_dst, "free"), "nothing left reserved");
	}
	if (!recovered && strcmp(outcome, "refused"))
		CHECK(o->exit_code == (!strcmp(outcome, "migrated")    ? CLI_EXIT_OK :
				       !strcmp(outcome, "degraded")    ? CLI_EXIT_DEGRADED :
				       !strcmp(outcome, "lost")        ? CLI_EXIT_LOST :
								       CLI_EXIT_FAILED),
		      "the exit code does not match the outcome");
	return failures;
}

/* --- docs/fault-matrix.md --- */

static const char *cell_text(char letter)
{
	switch (letter) {
	case 'M': return "migrated (0), B";
	case 'D': return "degraded (3), B";
	case 'R': return "rolled back (1), A";
	case 'L': return "**lost** (4)";
	case 'X': return "refused (2)";
	case 'm': return "migrated, B *";
	case 'd': return "degraded, B *";
	case 'r': return "rolled back, A *";
	case 'l': return "**lost** *";
	}
	return "?";
}

static void markdown(FILE *out)
{
	fprintf(out,
		"# The fault matrix\n\n"
		"Generated by `tests/unit/test-fault-matrix --markdown` from the cells it runs; the unit\n"
		"test fails when this file and the code disagree. Each cell is a migration of `vm1` from\n"
		"a source host (A) to a destination (B) with the fault injected when the job enters the\n"
		"phase (at `migrate`, once QEMU copies), run by two real `dmigrated` over `fake-qemu` (a\n"
		"scripted QMP server with the real guest agent behind its port), no root, no QEMU. Cells\n"
		"run in chains on a pair of daemons, each migrating the VM from where the one before left\n"
		"it whole; after a VM left degraded or lost, the next cell has a fresh pair. A cell reads:\n"
		"outcome (the CLI's exit code), where the VM runs. `*`: the daemon was killed and,\n"
		"restarted, finished or undid its half from its journal (the CLI that watched exits 1, its\n"
		"daemon gone).\n\n"
		"Every cell also asserts: the VM ran on one host only (the source is never resumed once\n"
		"the destination ran it); the host it runs on holds the one VF, plugged and the bond's\n"
		"active slave unless degraded, and the other host's VF is free; no journal is left; a\n"
		"lost VM runs nowhere and holds no VF.\n\n"
		"| phase |");
	for (size_t i = 0; i < N_FAULTS; i++)
		fprintf(out, " %s |", migration_fault_name(faults[i]));
	fprintf(out, "\n|---|");
	for (size_t i = 0; i < N_FAULTS; i++)
		fprintf(out, "---|");
	fprintf(out, "\n");
	for (int p = 0; p < _PHASE_MAX; p++) {
		fprintf(out, "| %s |", migration_phase_name(p));
		for (size_t i = 0; i < N_FAULTS; i++)
			fprintf(out, " %s |", cell_text(expected[p][i]));
		fprintf(out, "\n");
	}
	fprintf(out, "\nThe same test also runs, each on its own pair of hosts:\n\n");
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		fprintf(out, "- %s: %s\n", scenarios[i].name, scenarios[i].what);
	fprintf(out, "\n## Refused cells\n\n"
		     "Where a fault has no meaning, asking for it is refused before anything changes,\n"
		     "with the reason (`migration_fault_refused()`):\n\n"
		     "| fault | phase | why |\n|---|---|---|\n");
	for (size_t i = 0; i < N_FAULTS; i++)
		for (int p = 0; p < _PHASE_MAX; p++) {
			const char *why = migration_fault_refused(faults[i], p);

			if (why)
				fprintf(out, "| %s | %s | %s |\n", migration_fault_name(faults[i]),
					migration_phase_name(p), why);
		}
}

/* --- running the cells, WORKERS at a time --- */

/*
 * Whatever a cell left running (a cell that failed before its own cleanup): every process whose
 * parent we are now, as their subreaper, once no cell runs.
 */
static void reap_leftovers(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;

	ASSERT_TRUE(d != NULL);
	while ((de = readdir(d))) {
		char path[64], *text, *close_paren;
		int pid = atoi(de->d_name), ppid;

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		text = read_file(path);
		/* "PID (COMM) STATE PPID ...": COMM may hold spaces, so parse after its ')'. */
		if (!text || !(close_paren = strrchr(text, ')')) ||
		    sscanf(close_paren + 1, " %*c %d", &ppid) != 1 || ppid != (int)getpid())
			continue;
		kill(pid, SIGKILL);
	}
	closedir(d);
	/* Each of them, and what they leave to us in turn as they die. */
	while (waitpid(-1, NULL, 0) > 0)
		;
}

typedef struct job {
	migration_fault cells[N_FAULTS * _PHASE_MAX];
	size_t n;
	int scenario; /* 1 + its index in scenarios[], or 0: cells */
	pid_t pid;
	int fd;
	uint64_t t0;
} job;

int main(int argc, char **argv)
{
	const char *check_file = NULL, *only = NULL;
	bool print_markdown = false;
	static job jobs[N_FAULTS * _PHASE_MAX + 8];
	migration_fault whole[N_FAULTS * _PHASE_MAX], ends[N_FAULTS * _PHASE_MAX];
	size_t n_whole = 0, n_ends = 0, n_chains;
	job *refusals, *chains;
	size_t n = 0, next = 0, running = 0, workers = WORKERS;
	int failures = 0, status;

	if (argc < 3)
		TEST_FAIL("usage: test-fault-matrix DMIGRATED FAKE_QEMU [--markdown | --check FILE] [--only FAULT@PHASE | --only scenarios]");
	dmigrated_bin = argv[1];
	fake_qemu_bin = argv[2];
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--markdown"))
			print_markdown = true;
		else if (!strcmp(argv[i], "--check") && i + 1 < argc)
			check_file = argv[++i];
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else
			TEST_FAIL("unknown argument '%s'", argv[i]);
	}
	for (int p = 0; p < _PHASE_MAX; p++)
		ASSERT_EQ(strlen(expected[p]), N_FAULTS);
	if (getenv("FAULT_MATRIX_WORKERS"))
		workers = strtoul(getenv("FAULT_MATRIX_WORKERS"), NULL, 10) ?: WORKERS;
	if (print_markdown) {
		markdown(stdout);
		return 0;
	}
	if (check_file) {
		char *text = NULL;
		size_t size = 0;
		FILE *m = open_memstream(&text, &size);
		FILE *f = fopen(check_file, "re");
		char committed[65536];
		size_t len;

		ASSERT_TRUE(m && f);
		markdown(m);
		fclose(m);
		len = fread(committed, 1, sizeof(committed) - 1, f);
		committed[len] = '\0';
		fclose(f);
		if (strcmp(committed, text))
			TEST_FAIL("%s is not what the matrix says: regenerate it with --markdown",
				  check_file);
		free(text);
	}

	/*
	 * The scenarios first: the longest jobs, so that none of them starts last and leaves the
	 * other workers idle. Then the refusals, which change nothing: one pair of hosts answers
	 * them all, in one job. Then the cells in chains (cells_run()), one per cell that leaves
	 * the VM degraded or lost (by expected[]: the one place a chain needs a fresh pair is its
	 * end then), the cells that leave it whole dealt out among them.
	 */
	for (size_t i = 0; (!only || !strcmp(only, "scenarios")) &&
			   i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		jobs[n++].scenario = (int)i + 1;
	refusals = &jobs[n++];
	for (size_t i = 0; i < N_FAULTS; i++)
		for (int p = 0; p < _PHASE_MAX; p++) {
			migration_fault cell = { .kind = faults[i], .phase = p };
			char name[64];

			snprintf(name, sizeof(name), "%s@%s", migration_fault_name(faults[i]),
				 migration_phase_name(p));
			if (only && strcmp(only, name))
				continue;
			if (migration_fault_refused(faults[i], p))
				refusals->cells[refusals->n++] = cell;
			else if (strchr("DLdl", expected[p][i]))
				ends[n_ends++] = cell;
			else
				whole[n_whole++] = cell;
		}
	chains = &jobs[n];
	n_chains = n_ends ?: n_whole > 0;
	n += n_chains;
	for (size_t i = 0; i < n_whole; i++)
		chains[i % n_chains].cells[chains[i % n_chains].n++] = whole[i];
	for (size_t i = 0; i < n_ends; i++)
		chains[i].cells[chains[i].n++] = ends[i];
	signal(SIGPIPE, SIG_IGN);
	/* Daemonized fake-qemus of a cell that failed half-way come to us: see reap_leftovers(). */
	ASSERT_OK(prctl(PR_SET_CHILD_SUBREAPER, 1));
	while (next < n || running > 0) {
		while (next < n && running < workers) {
			int sv[2];
			job *jb = &jobs[next++];

			/* No refusal among the cells asked for: no job for them. */
			if (!jb->scenario && jb->n == 0)
				continue;

			ASSERT_OK(pipe2(sv, O_CLOEXEC));
			jb->t0 = now_ms();
			jb->pid = fork();
			ASSERT_TRUE(jb->pid >= 0);
			/*
			 * A worker ends by _exit(), without LeakSanitizer's scan of its copy of this
			 * process: a twentieth of the matrix's CPU, for the harness's own allocations
			 * (the daemons' leak checks are the other unit tests', see
			 * leak_checks_off_for_children()).
			 */
			if (jb->pid == 0 && jb->scenario) {
				scenarios[jb->scenario - 1].run();
				_exit(0);
			}
			if (jb->pid == 0) {
				static observed o[N_FAULTS * _PHASE_MAX];

				close(sv[0]);
				cells_run(jb->cells, jb->n, o);
				ASSERT_EQ(write(sv[1], o, jb->n * sizeof(o[0])),
					  (ssize_t)(jb->n * sizeof(o[0])));
				_exit(0);
			}
			close(sv[1]);
			jb->fd = sv[0];
			running++;
		}
		/* A job's end; or one of the orphans that come to us, reaped as it dies. */
		pid_t pid = waitpid(-1, &status, 0);

		if (pid < 0) {
			ASSERT_TRUE(errno == EINTR);
			continue;
		}
		for (size_t i = 0; i < next; i++) {
			job *jb = &jobs[i];
			observed o;

			if (jb->pid != pid)
				continue;
			jb->pid = 0;
			running--;
			if (jb->scenario) {
				bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;

				failures += !ok;
				fprintf(stderr, "%-4s %s (%.1f s)\n", ok ? "ok" : "FAIL",
					scenarios[jb->scenario - 1].name,
					(double)(now_ms() - jb->t0) / 1000);
			}
			for (size_t c = 0; c < jb->n; c++) {
				const migration_fault *cl = &jb->cells[c];
				int f;

				if (read(jb->fd, &o, sizeof(o)) != (ssize_t)sizeof(o)) {
					fprintf(stderr, "FAIL %s at %s: the cell crashed (status %d)\n",
						migration_fault_name(cl->kind),
						migration_phase_name(cl->phase), status);
					failures++;
					continue;
				}
				f = check_cell(cl->kind, cl->phase, &o);
				failures += f;
				fprintf(stderr, "%-4s %s at %s: %s, exit %d, runs on %s (%.1f s)\n",
					f ? "FAIL" : "ok", migration_fault_name(cl->kind),
					migration_phase_name(cl->phase), o.outcome, o.exit_code,
					o.runs_on, (double)o.ms / 1000);
			}
			close(jb->fd);
		}
	}
	if (!getenv("FAULT_MATRIX_KEEP"))
		reap_leftovers();
	if (failures)
		TEST_FAIL("%d failed checks in the fault matrix", failures);
	return 0;
}
