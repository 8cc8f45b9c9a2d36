// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The QMP client against a real QEMU: `qemu-system-x86_64 -M none` (no guest, starts in a blink),
 * the monitor on a Unix socket. Connects while QEMU is still creating the socket (the retry is
 * ours), then query-status, query-version, two commands that fail with QEMU's error classes,
 * stop/cont with their STOP/RESUME events, and `quit`: SHUTDOWN, then the disconnect, then the
 * process exits 0. A second QEMU is killed with SIGKILL under a connected client, which must
 * see -ECONNRESET. Prints the time to connect and the command round trips.
 *
 * QEMU runs with PR_SET_PDEATHSIG, so a failing (aborting) test leaves no QEMU behind.
 */
#include "transport/qmp_client.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "test.h"

#define QEMU "qemu-system-x86_64"
#define CONNECT_RETRY_MS 10
#define WAIT_MS 20000

typedef struct lab {
	uv_loop_t loop;
	uv_timer_t retry, deadline;
	uv_signal_t sigchld;
	char dir[64], path[128];
	pid_t pid;
	bool exited;
	int exit_status;
	int connect_attempts;
	uint64_t t_spawn, t_ready;

	qmp_client *client;
	bool ready, disconnected, expired;
	int disconnect_error;
	char events[512];

	/* the command in flight */
	bool done;
	int error;
	char error_class[64];
	json_object *ret;
} lab;

static const qmp_client_callbacks callbacks;

static void on_deadline(uv_timer_t *t)
{
	((lab *)t->data)->expired = true;
}

static void run_until(lab *l, const bool *flag, const char *what)
{
	uv_timer_start(&l->deadline, on_deadline, WAIT_MS, 0);
	while (!*flag && !l->expired)
		uv_run(&l->loop, UV_RUN_ONCE);
	uv_timer_stop(&l->deadline);
	if (!*flag)
		TEST_FAIL("timed out after %d ms waiting for %s", WAIT_MS, what);
}

static void on_sigchld(uv_signal_t *s, int signum)
{
	lab *l = s->data;
	int status;

	if (l->pid > 0 && waitpid(l->pid, &status, WNOHANG) == l->pid) {
		l->exited = true;
		l->exit_status = status;
	}
}

static void qemu_start(lab *l)
{
	char qmp[160];
	pid_t parent = getpid();

	snprintf(qmp, sizeof(qmp), "unix:%s,server=on,wait=off", l->path);
	l->exited = false;
	l->t_spawn = uv_hrtime();
	l->pid = fork();
	ASSERT_OK(l->pid);
	if (l->pid == 0) {
		/* Die with the test, whatever way it ends. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(127);
		execlp(QEMU, QEMU, "-M", "none", "-display", "none", "-nodefaults", "-qmp", qmp,
		       (char *)NULL);
		_exit(127);
	}
}

/* QEMU creates its socket a moment after it starts: ENOENT or ECONNREFUSED until then. */
static void on_retry(uv_timer_t *t)
{
	lab *l = t->data;
	int r;

	l->connect_attempts++;
	r = qmp_client_connect(&l->loop, l->path, &callbacks, l, &l->client);
	if (r == -ENOENT || r == -ECONNREFUSED) {
		if (l->exited)
			TEST_FAIL(QEMU " exited (status 0x%x) before its QMP socket appeared",
				  l->exit_status);
		uv_timer_start(&l->retry, on_retry, CONNECT_RETRY_MS, 0);
		return;
	}
	ASSERT_OK(r);
}

static void on_ready(qmp_client *c, void *userdata)
{
	lab *l = userdata;

	l->ready = true;
	l->t_ready = uv_hrtime();
}

static void on_event(qmp_client *c, const char *name, json_object *data, json_object *timestamp,
		     void *userdata)
{
	lab *l = userdata;
	size_t len = strlen(l->events);

	/* QEMU stamps every event. */
	ASSERT_TRUE(json_object_object_get_ex(timestamp, "seconds", NULL));
	snprintf(l->events + len, sizeof(l->events) - len, "%s%s", len ? " " : "", name);
}

static void on_disconnected(qmp_client *c, int error, void *userdata)
{
	lab *l = userdata;

	l->disconnected = true;
	l->disconnect_error = error;
}

static const qmp_client_callbacks callbacks = {
	.ready = on_ready,
	.event = on_event,
	.disconnected = on_disconnected,
};

static void on_reply(qmp_client *c, int error, json_object *ret, const char *error_class,
		     const char *error_desc, void *userdata)
{
	lab *l = userdata;

	l->done = true;
	l->error = error;
	l->ret = json_object_get(ret);
	snprintf(l->error_class, sizeof(l->error_class), "%s", error_class ?: "");
	if (error == -EREMOTEIO)
		fprintf(stderr, "   QEMU: %s: %s\n", error_class, error_desc);
}

/* Runs one command to its end; returns its round trip in microseconds. */
static uint64_t command(lab *l, const char *name, json_object *args)
{
	uint64_t start = uv_hrtime();

	json_object_put(l->ret);
	l->ret = NULL;
	l->done = false;
	ASSERT_OK(qmp_client_execute(l->client, name, args, 5000, on_reply, l));
	run_until(l, &l->done, name);
	return (uv_hrtime() - start) / 1000;
}

static void lab_connect(lab *l)
{
	l->ready = l->disconnected = false;
	l->client = NULL;
	l->connect_attempts = 0;
	uv_timer_start(&l->retry, on_retry, 0, 0);
	run_until(l, &l->ready, "the QMP handshake");
}

static void lab_close_client(lab *l)
{
	qmp_client_close(l->client);
	l->client = NULL;
	/* One iteration lets the client's handles go. */
	uv_run(&l->loop, UV_RUN_NOWAIT);
}

int main(void)
{
	lab l = {0};
	unsigned major, minor, micro;
	json_object *v, *q;
	uint64_t us;

	if (system("command -v " QEMU " >/dev/null") != 0) {
		fprintf(stderr, QEMU " not found: skipping\n");
		return 77;
	}
	snprintf(l.dir, sizeof(l.dir), "/tmp/test-qmp-qemu-XXXXXX");
	ASSERT_TRUE(mkdtemp(l.dir));
	snprintf(l.path, sizeof(l.path), "%s/qmp.sock", l.dir);
	ASSERT_OK(uv_loop_init(&l.loop));
	uv_timer_init(&l.loop, &l.retry);
	uv_timer_init(&l.loop, &l.deadline);
	uv_signal_init(&l.loop, &l.sigchld);
	l.retry.data = l.deadline.data = l.sigchld.data = &l;
	ASSERT_OK(uv_signal_start(&l.sigchld, on_sigchld, SIGCHLD));

	fprintf(stderr, "== handshake\n");
	qemu_start(&l);
	lab_connect(&l);
	ASSERT_OK(qmp_client_get_version(l.client, &major, &minor, &micro));
	fprintf(stderr, "   QEMU %u.%u.%u ready %.1f ms after spawn, %d connect attempt(s)\n", major,
		minor, micro, (double)(l.t_ready - l.t_spawn) / 1e6, l.connect_attempts);

	fprintf(stderr, "== query-status\n");
	us = command(&l, "query-status", NULL);
	ASSERT_EQ(l.error, 0);
	ASSERT_TRUE(json_object_object_get_ex(l.ret, "status", &v));
	/* -M none without -S: the (empty) machine runs. */
	ASSERT_STREQ(json_object_get_string(v), "running");
	ASSERT_TRUE(json_object_object_get_ex(l.ret, "running", &v) && json_object_get_boolean(v));
	fprintf(stderr, "   %s in %" PRIu64 " us\n", json_object_to_json_string(l.ret), us);

	fprintf(stderr, "== query-version\n");
	us = command(&l, "query-version", NULL);
	ASSERT_EQ(l.error, 0);
	ASSERT_TRUE(json_object_object_get_ex(l.ret, "qemu", &q));
	ASSERT_TRUE(json_object_object_get_ex(q, "major", &v));
	ASSERT_EQ(json_object_get_int(v), major);
	ASSERT_TRUE(json_object_object_get_ex(q, "minor", &v));
	ASSERT_EQ(json_object_get_int(v), minor);
	ASSERT_TRUE(json_object_object_get_ex(q, "micro", &v));
	ASSERT_EQ(json_object_get_int(v), micro);
	fprintf(stderr, "   matches the greeting, in %" PRIu64 " us\n", us);

	fprintf(stderr, "== errors\n");
	command(&l, "device_del", qmp_args_new("id", "vf0", NULL));
	ASSERT_ERRNO(l.error, EREMOTEIO);
	ASSERT_STREQ(l.error_class, "DeviceNotFound");
	command(&l, "no-such-command", NULL);
	ASSERT_ERRNO(l.error, EREMOTEIO);
	ASSERT_STREQ(l.error_class, "CommandNotFound");
	/* The connection is still good after errors. */
	command(&l, "query-status", NULL);
	ASSERT_EQ(l.error, 0);

	fprintf(stderr, "== stop/cont and their events\n");
	command(&l, "stop", NULL);
	ASSERT_EQ(l.error, 0);
	command(&l, "query-status", NULL);
	ASSERT_TRUE(json_object_object_get_ex(l.ret, "status", &v));
	ASSERT_STREQ(json_object_get_string(v), "paused");
	command(&l, "cont", NULL);
	ASSERT_EQ(l.error, 0);

	fprintf(stderr, "== quit\n");
	command(&l, "quit", NULL);
	/* QEMU answers quit before it goes; were it to go first, the reply would be ECONNRESET. */
	ASSERT_TRUE(l.error == 0 || l.error == -ECONNRESET);
	run_until(&l, &l.disconnected, "the disconnect after quit");
	ASSERT_ERRNO(l.disconnect_error, ECONNRESET);
	ASSERT_STREQ(l.events, "STOP RESUME SHUTDOWN");
	ASSERT_ERRNO(qmp_client_execute(l.client, "query-status", NULL, 1000, on_reply, &l), ENOTCONN);
	run_until(&l, &l.exited, "QEMU to exit");
	ASSERT_TRUE(WIFEXITED(l.exit_status) && WEXITSTATUS(l.exit_status) == 0);
	fprintf(stderr, "   events: %s; QEMU exited 0\n", l.events);
	lab_close_client(&l);
	unlink(l.path);

	fprintf(stderr, "== QEMU killed under a connected client\n");
	l.events[0] = '\0';
	qemu_start(&l);
	lab_connect(&l);
	ASSERT_OK(kill(l.pid, SIGKILL));
	run_until(&l, &l.disconnected, "the disconnect after SIGKILL");
	ASSERT_ERRNO(l.disconnect_error, ECONNRESET);
	run_until(&l, &l.exited, "QEMU to be reaped");
	ASSERT_TRUE(WIFSIGNALED(l.exit_status) && WTERMSIG(l.exit_status) == SIGKILL);
	lab_close_client(&l);
	/* A killed QEMU leaves its socket behind: connecting now is refused, at once. */
	ASSERT_ERRNO(qmp_client_connect(&l.loop, l.path, &callbacks, &l, &l.client), ECONNREFUSED);
	unlink(l.path);

	json_object_put(l.ret);
	uv_close((uv_handle_t *)&l.retry, NULL);
	uv_close((uv_handle_t *)&l.deadline, NULL);
	uv_close((uv_handle_t *)&l.sigchld, NULL);
	ASSERT_OK(uv_run(&l.loop, UV_RUN_DEFAULT));
	ASSERT_OK(uv_loop_close(&l.loop));
	ASSERT_OK(rmdir(l.dir));
	fprintf(stderr, "PASS\n");
	return 0;
}
