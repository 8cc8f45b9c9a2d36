// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The `dmigrate` CLI end to end: the real binary ($DMIGRATE_BIN) runs as a child process against
 * a scripted fake daemon (fake_daemon.h) on a temporary socket. Each test checks the exit code,
 * what the CLI printed on stdout (a pipe, or a pseudo-terminal for the live view) and on stderr,
 * and what the daemon received.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "fake_daemon.h"
#include "test.h"

#define CAPTURE_MAX (256 * 1024)
#define CHILD_TIMEOUT_MS 30000
/* How long the interrupt test waits, after the daemon got `migrate`, before pressing Ctrl-C. */
#define INTERRUPT_AFTER_MS 200

typedef struct script {
	const char *events[8]; /* {"event": NAME, "data": {...}} sent before the answer */
	const char *reply;     /* the return value, as JSON */
	const char *error_code;
	const char *error_message;
	bool disconnect; /* after the events, close the connection without answering */
	bool hold;       /* never answer; press Ctrl-C in the CLI */
} script;

typedef struct capture {
	uv_pipe_t pipe;
	char buf[CAPTURE_MAX + 1];
	size_t len;
	bool eof;
} capture;

typedef struct child {
	uv_process_t proc;
	capture out, err;
	bool exited;
	int exit_code; /* -signal when killed: a real exit(130) differs from dying of SIGINT */
} child;

static uv_loop_t loop;
static char tmpdir[] = "/tmp/test-cli-XXXXXX";
static char sock_path[PATH_MAX];
static const char *bin;
static child *running;
static uv_timer_t interrupt_timer;

/* --- the daemon's side --- */

static void press_ctrl_c(uv_timer_t *t)
{
	ASSERT_TRUE(running && !running->exited);
	ASSERT_OK(uv_process_kill(&running->proc, SIGINT));
}

static void handle(fake_daemon *d, rpc_request *req, const char *cmd, json_object *args,
		   void *userdata)
{
	const script *s = userdata;

	for (size_t i = 0; i < ELEMENTSOF(s->events) && s->events[i]; i++) {
		_cleanup_json_ json_object *e = json_tokener_parse(s->events[i]);
		json_object *name, *data;

		ASSERT_TRUE(e && json_object_object_get_ex(e, "event", &name) &&
			    json_object_object_get_ex(e, "data", &data));
		rpc_request_event(req, json_object_get_string(name), json_object_get(data));
	}
	if (s->disconnect) {
		fake_daemon_disconnect(d, req);
	} else if (s->hold) {
		fake_daemon_hold(d, req);
		uv_timer_start(&interrupt_timer, press_ctrl_c, INTERRUPT_AFTER_MS, 0);
	} else if (s->error_code) {
		rpc_request_reply_error(req, s->error_code, "%s", s->error_message);
	} else {
		json_object *ret = json_tokener_parse(s->reply);

		ASSERT_TRUE(ret);
		rpc_request_reply(req, ret);
	}
}

/* --- the CLI's side --- */

static void capture_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	capture *c = h->data;

	if (c->len == CAPTURE_MAX)
		TEST_FAIL("dmigrate printed more than %d bytes", CAPTURE_MAX);
	*buf = uv_buf_init(c->buf + c->len, (unsigned)(CAPTURE_MAX - c->len));
}

static void capture_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	capture *c = s->data;

	if (n > 0) {
		c->len += (size_t)n;
		c->buf[c->len] = '\0';
	} else if (n < 0) {
		/* EOF on a pipe; EIO on a pseudo-terminal once the child is gone. */
		c->eof = true;
		uv_close((uv_handle_t *)s, NULL);
	}
}

static void child_exited(uv_process_t *p, int64_t status, int sig)
{
	child *c = p->data;

	c->exited = true;
	c->exit_code = sig ? -sig : (int)status;
	uv_close((uv_handle_t *)p, NULL);
}

static void child_too_slow(uv_timer_t *t)
{
	TEST_FAIL("dmigrate did not finish within %d ms", CHILD_TIMEOUT_MS);
}

/* Run `dmigrate ARGS... NULL` to its end; on a pseudo-terminal if tty (an int: va_start on a
 * promoted type such as bool is undefined). */
static void run_cli(child *c, int tty, ...)
{
	uv_process_options_t o = {};
	uv_stdio_container_t stdio[3] = {};
	uv_timer_t watchdog;
	char *argv[32];
	size_t n = 0;
	int master = -1, slave = -1;
	va_list ap;

	memset(c, 0, sizeof(*c));
	argv[n++] = (char *)bin;
	va_start(ap, tty);
	while ((argv[n] = va_arg(ap, char *)))
		ASSERT_TRUE(++n < ELEMENTSOF(argv));
	va_end(ap);

	uv_pipe_init(&loop, &c->out.pipe, 0);
	uv_pipe_init(&loop, &c->err.pipe, 0);
	c->out.pipe.data = &c->out;
	c->err.pipe.data = &c->err;
	stdio[0].flags = UV_IGNORE;
	if (tty) {
		struct winsize ws = { .ws_row = 24, .ws_col = 100 };

		ASSERT_OK(openpty(&master, &slave, NULL, NULL, &ws) < 0 ? -errno : 0);
		ASSERT_OK(fcntl(master, F_SETFD, FD_CLOEXEC));
		ASSERT_OK(fcntl(slave, F_SETFD, FD_CLOEXEC));
		stdio[1].flags = UV_INHERIT_FD;
		stdio[1].data.fd = slave;
	} else {
		stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
		stdio[1].data.stream = (uv_stream_t *)&c->out.pipe;
	}
	stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[2].data.stream = (uv_stream_t *)&c->err.pipe;
	o.file = bin;
	o.args = argv;
	o.cwd = tmpdir;
	o.stdio = stdio;
	o.stdio_count = 3;
	o.exit_cb = child_exited;
	c->proc.data = c;
	ASSERT_OK(uv_spawn(&loop, &c->proc, &o));
	if (tty) {
		close(slave);
		ASSERT_OK(uv_pipe_open(&c->out.pipe, master));
	}
	ASSERT_OK(uv_read_start((uv_stream_t *)&c->out.pipe, capture_alloc, capture_read));
	ASSERT_OK(uv_read_start((uv_stream_t *)&c->err.pipe, capture_alloc, capture_read));

	running = c;
	uv_timer_init(&loop, &watchdog);
	uv_timer_start(&watchdog, child_too_slow, CHILD_TIMEOUT_MS, 0);
	while (!c->exited || !c->out.eof || !c->err.eof)
		uv_run(&loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&watchdog, NULL);
	uv_run(&loop, UV_RUN_NOWAIT);
	running = NULL;
	fprintf(stderr, "-- exit %d\n-- stdout:\n%s-- stderr:\n%s", c->exit_code, c->out.buf,
		c->err.buf);
}

#define ASSERT_CONTAINS(hay, needle)                                                               \
	do {                                                                                       \
		if (!strstr((hay), (needle)))                                                      \
			TEST_FAIL("%s does not contain \"%s\"", #hay, (needle));                   \
	} while (0)
#define ASSERT_LACKS(hay, needle)                                                                  \
	do {                                                                                       \
		if (strstr((hay), (needle)))                                                       \
			TEST_FAIL("%s contains \"%s\"", #hay, (needle));                           \
	} while (0)

static void assert_json_equal(json_object *got, const char *want_text)
{
	_cleanup_json_ json_object *want = json_tokener_parse(want_text);

	ASSERT_TRUE(want);
	if (!json_object_equal(got, want))
		TEST_FAIL("got %s, want %s", json_object_to_json_string(got), want_text);
}

/* stdout must be exactly one JSON object and a newline. */
static void assert_stdout_is_json(const child *c, const char *want_text)
{
	_cleanup_json_ json_object *got = NULL;
	json_tokener *tok = json_tokener_new();

	ASSERT_TRUE(c->out.len > 1 && c->out.buf[c->out.len - 1] == '\n');
	got = json_tokener_parse_ex(tok, c->out.buf, (int)c->out.len - 1);
	ASSERT_TRUE(got && json_object_is_type(got, json_type_object));
	ASSERT_EQ(json_tokener_get_parse_end(tok), c->out.len - 1);
	json_tokener_free(tok);
	assert_json_equal(got, want_text);
}

static fake_daemon *daemon_start(const script *s)
{
	fake_daemon *d;

	ASSERT_OK(fake_daemon_new(&loop, sock_path, handle, (void *)s, &d));
	return d;
}

static void daemon_stop(fake_daemon *d)
{
	fake_daemon_free(d);
	uv_run(&loop, UV_RUN_NOWAIT);
	unlink(sock_path);
}

/* --- scripts --- */

#define EV_PREFLIGHT_STARTED                                                                       \
	"{\"event\":\"phase\",\"data\":{\"phase\":\"preflight\",\"state\":\"started\",\"elapsed_ms\":0}}"
#define EV_PREFLIGHT_DONE                                                                          \
	"{\"event\":\"phase\",\"data\":{\"phase\":\"preflight\",\"state\":\"done\",\"elapsed_ms\":85}}"
#define EV_MIGRATE_STARTED                                                                         \
	"{\"event\":\"phase\",\"data\":{\"phase\":\"migrate\",\"state\":\"started\",\"elapsed_ms\":0}}"
#define EV_PROGRESS                                                                                \
	"{\"event\":\"progress\",\"data\":{\"status\":\"active\",\"transferred\":134217728,"         \
	"\"remaining\":67108864,\"total\":268435456,\"dirty_rate\":1200,\"mbps\":850.5,"           \
	"\"expected_downtime_ms\":20,\"eta_ms\":650}}"
#define EV_MIGRATE_DONE                                                                            \
	"{\"event\":\"phase\",\"data\":{\"phase\":\"migrate\",\"state\":\"done\",\"elapsed_ms\":700}}"
#define EV_FROM_THE_FUTURE "{\"event\":\"fireworks\",\"data\":{\"color\":\"green\"}}"

#define RESULT_MIGRATED                                                                            \
	"{\"vm\":\"vm1\",\"from\":\"hostA\",\"to\":\"hostB\",\"outcome\":\"migrated\","            \
	"\"runs_on\":\"hostB\",\"phases\":[{\"phase\":\"preflight\",\"start_ms\":0,"                \
	"\"duration_ms\":85,\"state\":\"done\"},{\"phase\":\"migrate\",\"start_ms\":300,"         \
	"\"duration_ms\":700,\"state\":\"done\"}],\"qemu\":{\"downtime_ms\":18,\"total_ms\":700,"   \
	"\"setup_ms\":3,\"transferred\":268435456},\"total_ms\":2100}"
#define RESULT_ROLLED_BACK                                                                         \
	"{\"vm\":\"vm1\",\"from\":\"hostA\",\"to\":\"hostB\",\"outcome\":\"rolled-back\","         \
	"\"runs_on\":\"hostA\",\"message\":\"the agent did not answer 'bond-set-active' within 5 s\"," \
	"\"phases\":[],\"qemu\":{},\"total_ms\":5100}"
#define RESULT_DEGRADED                                                                            \
	"{\"vm\":\"vm1\",\"from\":\"hostA\",\"to\":\"hostB\",\"outcome\":\"degraded\","            \
	"\"runs_on\":\"hostB\",\"message\":\"no VF came up on hostB: device_add of vf1 failed\","   \
	"\"phases\":[],\"qemu\":{\"downtime_ms\":20,\"total_ms\":800},\"total_ms\":3000}"

static const script migrated = {
	.events = { EV_PREFLIGHT_STARTED, EV_PREFLIGHT_DONE, EV_MIGRATE_STARTED, EV_PROGRESS,
		    EV_FROM_THE_FUTURE, EV_MIGRATE_DONE },
	.reply = RESULT_MIGRATED,
};

/* --- tests --- */

TEST(migrate_json_with_settings)
{
	fake_daemon *d = daemon_start(&migrated);
	child c;

	run_cli(&c, false, "migrate", "vm1", "--to", "hostB", "--json", "--downtime-limit", "300",
		"--bandwidth", "1000", "--multifd", "4", "--auto-converge", "--xbzrle", "--socket",
		sock_path, NULL);
	ASSERT_EQ(c.exit_code, 0);
	assert_stdout_is_json(&c, RESULT_MIGRATED);
	ASSERT_EQ(c.err.len, 0);
	ASSERT_STREQ(fake_daemon_commands(d), "hello migrate");
	assert_json_equal(fake_daemon_last_args(d),
			  "{\"vm\":\"vm1\",\"to\":\"hostB\",\"settings\":{\"downtime_limit_ms\":300,"
			  "\"max_bandwidth_mibps\":1000,\"multifd_channels\":4,"
			  "\"auto_converge\":true,\"xbzrle\":true}}");
	assert_json_equal(fake_daemon_hello_args(d),
			  "{\"version\":2,\"min_version\":1,\"client\":\"dmigrate\",\"features\":[]}");
	daemon_stop(d);
}

TEST(shorthand_on_a_pipe_prints_one_line)
{
	fake_daemon *d = daemon_start(&migrated);
	child c;

	/* The socket comes from the environment this time. */
	ASSERT_OK(setenv("DMIGRATE_SOCKET", sock_path, 1));
	run_cli(&c, false, "vm1", "--to", "hostB", NULL);
	ASSERT_OK(unsetenv("DMIGRATE_SOCKET"));
	ASSERT_EQ(c.exit_code, 0);
	ASSERT_STREQ(c.out.buf, "vm1 migrated from hostA to hostB in 2.10 s (QEMU: downtime 18 ms, "
				"migration 700 ms); it runs on hostB.\n");
	ASSERT_EQ(c.err.len, 0);
	/* No settings given: the daemon's configuration decides. */
	assert_json_equal(fake_daemon_last_args(d), "{\"vm\":\"vm1\",\"to\":\"hostB\"}");
	daemon_stop(d);
}

TEST(terminal_shows_live_progress_and_phases)
{
	fake_daemon *d = daemon_start(&migrated);
	child c;

	run_cli(&c, true, "vm1", "--to=hostB", "--socket", sock_path, NULL);
	ASSERT_EQ(c.exit_code, 0);
	ASSERT_CONTAINS(c.out.buf, "Migrating vm1 to hostB");
	/* The status line, redrawn in place. */
	ASSERT_CONTAINS(c.out.buf, "\r\033[K  migrate: 128.0 MiB sent, 64.0 MiB left of 256.0 MiB, "
				   "850 Mbit/s, ETA 650 ms, dirty 1200 pages/s");
	/* Each phase as it completes, with its duration. */
	ASSERT_CONTAINS(c.out.buf, "  preflight   done           85 ms");
	ASSERT_CONTAINS(c.out.buf, "  migrate     done          700 ms");
	ASSERT_CONTAINS(c.out.buf, "vm1 migrated from hostA to hostB in 2.10 s");
	ASSERT_LACKS(c.out.buf, "fireworks");
	daemon_stop(d);
}

TEST(rolled_back_exits_1)
{
	static const script s = { .events = { EV_PREFLIGHT_STARTED, EV_PREFLIGHT_DONE },
				  .reply = RESULT_ROLLED_BACK };
	fake_daemon *d = daemon_start(&s);
	child c;

	run_cli(&c, false, "migrate", "vm1", "--to", "hostB", "--socket", sock_path, NULL);
	ASSERT_EQ(c.exit_code, 1);
	ASSERT_STREQ(c.out.buf, "vm1 was not migrated, the migration was rolled back: the agent "
				"did not answer 'bond-set-active' within 5 s. It runs on hostA as "
				"before.\n");
	run_cli(&c, false, "migrate", "vm1", "--to", "hostB", "--json", "--socket", sock_path,
		NULL);
	ASSERT_EQ(c.exit_code, 1);
	assert_stdout_is_json(&c, RESULT_ROLLED_BACK);
	daemon_stop(d);
}

TEST(degraded_exits_3)
{
	static const script s = { .reply = RESULT_DEGRADED };
	fake_daemon *d = daemon_start(&s);
	child c;

	run_cli(&c, false, "vm1", "--to", "hostB", "--json", "--socket", sock_path, NULL);
	ASSERT_EQ(c.exit_code, 3);
	assert_stdout_is_json(&c, RESULT_DEGRADED);
	run_cli(&c, false, "vm1", "--to", "hostB", "--socket", sock_path, NULL);
	ASSERT_EQ(c.exit_code, 3);
	ASSERT_CONTAINS(c.out.buf, "vm1 migrated to hostB but is degraded: no VF came up on hostB");
	daemon_stop(d);
}

TEST(unknown_outcome_is_a_failure)
{
	static const script s = { .reply = "{\"vm\":\"vm1\",\"outcome\":\"teleported\"}" };
	fake_daemon *d = daemon_start(&s);
	child c;

	run_cli(&c, false, "vm1", "--to", "hostB", "--socket", sock_path, NULL);
	ASSERT_EQ(c.exit_code, 1);
	ASSERT_CONTAINS(c.out.buf, "unknown outcome 'teleported'");
	daemon_stop(d);
}

TEST(error_replies_map_to_exit_codes)
{
	static const struct {
		const char *code;
		int exit_code;
	} cases[] = {
		{ "not-found", 2 }, { "invalid-argument", 2 }, { "busy", 1 },
		{ "failed", 1 },    { "some-new-code", 1 },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		script s = { .error_code = cases[i].code,
			     .error_message = "No VM named 'vm9' on hostA" };
		fake_daemon *d = daemon_start(&s);
		child c;

		run_cli(&c, false, "vm9", "--to", "hostB", "--socket", sock_path, NULL);
		ASSERT_EQ(c.exit_code, cases[i].exit_code);
		ASSERT_STREQ(c.err.buf, "dmigrate: No VM named 'vm9' on hostA\n");
		ASSERT_EQ(c.out.len, 0);
		run_cli(&c, false, "status", "vm9", "--socket", sock_path, NULL);
		ASSERT_EQ(c.exit_code, cases[i].exit_code);
		daemon_stop(d);
	}
}

TEST(daemon_message_cannot_drive_the_terminal)
{
	static const script s = { .error_code = "failed",
				  .error_message = "bad\033]0;owned\007 \xc2\x9b" "31m" };
	fake_daemon *d = daemon_start(&s);
	child c;

	run_cli(&c, false, "list", "--socket", sock_path, NULL);
	ASSERT_EQ(c.exit_code, 1);
	ASSERT_STREQ(c.err.buf, "dmigrate: bad?]0;owned? ?31m\n");
	daemon_stop(d);
}

TEST(daemon_not_running)
{
	char missing[PATH_MAX + 64], want[PATH_MAX + 256];
	child c;

	snprintf(missing, sizeof(missing), "%s/nobody-home.sock", tmpdir);
	snprintf(want, sizeof(want),
		 "dmigrate: Cannot reach dmigrated at '%s': No such file or directory; is the "
		 "daemon running?\n",
		 missing);
	run_cli(&c, false, "vm1", "--to", "hostB", "--socket", missing, NULL);
	ASSERT_EQ(c.exit_code, 1);
	ASSERT_STREQ(c.err.buf, want);
	ASSERT_EQ(c.out.len, 0);
	run_cli(&c, false, "list", "--socket", missing, NULL);
	ASSERT_EQ(c.exit_code, 1);
	ASSERT_STREQ(c.err.buf, want);
}

TEST(daemon_closes_mid_call)
{
	static const script s = { .events = { EV_PREFLIGHT_STARTED }, .disconnect = true };
	fake_daemon *d = daemon_start(&s);
	child c;

	run_cli(&c, false, "vm1", "--to", "hostB", "--json", "--socket", sock_path, NULL);
	ASSERT_EQ(c.exit_code, 1);
	ASSERT_CONTAINS(c.err.buf, "Lost the connection to dmigrated at '");
	ASSERT_CONTAINS(c.err.buf, "before it answered 'migrate'");
	ASSERT_EQ(c.out.len, 0);
	daemon_stop(d);
}

TEST(protocol_version_mismatch)
{
	static const script s = { .reply = "{}" };
	fake_daemon *d = daemon_start(&s);
	child c;

	fake_daemon_set_version(d, 3);
	run_cli(&c, false, "list", "--socket", sock_path, NULL);
	ASSERT_EQ(c.exit_code, 1);
	ASSERT_CONTAINS(c.err.buf, "dmigrated speaks daemon protocol version 3, this dmigrate speaks "
				   "versions 1 to 2");
	/* Nothing but hello was sent. */
	ASSERT_STREQ(fake_daemon_commands(d), "hello");
	daemon_stop(d);
}

TEST(ctrl_c_detaches_and_leaves_the_migration_running)
{
	static const script s = { .events = { EV_PREFLIGHT_STARTED }, .hold = true };
	fake_daemon *d = daemon_start(&s);
	child c;

	uv_timer_init(&loop, &interrupt_timer);
	run_cli(&c, true, "vm1", "--to", "hostB", "--socket", sock_path, NULL);
	ASSERT_EQ(c.exit_code, 130);
	ASSERT_CONTAINS(c.err.buf, "the migration goes on");
	ASSERT_CONTAINS(c.err.buf, "follow it with 'dmigrate status vm1'");
	/* The CLI only went away: no cancel, no second command. */
	ASSERT_STREQ(fake_daemon_commands(d), "hello migrate");
	/* The daemon notices the CLI is gone and still holds the job's request until then. */
	for (int i = 0; i < 100 && !fake_daemon_abandoned(d); i++)
		uv_run(&loop, UV_RUN_ONCE);
	ASSERT_EQ(fake_daemon_abandoned(d), 1);
	uv_close((uv_handle_t *)&interrupt_timer, NULL);
	daemon_stop(d);
}

TEST(list_table_and_json)
{
	static const script s = {
		.reply = "{\"vms\":[{\"name\":\"vm1\",\"state\":\"running\",\"pid\":4242,"
			 "\"vf\":\"vf0\",\"vf_plugged\":true,\"host\":\"hostA\"},"
			 "{\"name\":\"web-frontend-2\",\"state\":\"migrating\",\"pid\":77,"
			 "\"vf\":\"vf1\",\"vf_plugged\":false,\"host\":\"hostA\"},"
			 "{\"name\":\"idle\",\"state\":\"shutoff\",\"pid\":null,\"vf\":null,"
			 "\"vf_plugged\":false,\"host\":\"hostA\"}]}",
	};
	fake_daemon *d = daemon_start(&s);
	child c;

	run_cli(&c, false, "list", "--socket", sock_path, NULL);
	ASSERT_EQ(c.exit_code, 0);
	ASSERT_STREQ(c.out.buf, "NAME            STATE             PID  VF\n"
				"vm1             running          4242  vf0\n"
				"web-frontend-2  migrating          77  vf1 (unplugged)\n"
				"idle            shutoff             -  -\n");
	run_cli(&c, false, "list", "--json", "--socket", sock_path, NULL);
	ASSERT_EQ(c.exit_code, 0);
	assert_stdout_is_json(&c, s.reply);
	ASSERT_STREQ(fake_daemon_last_cmd(d), "list");
	daemon_stop(d);
}

TEST(list_rejects_an_answer_without_vms)
{
	static const script s = { .reply = "{\"vms\":\"many\"}" };
	fake_daemon *d = daemon_start(&s);
	child c;

	run_cli(&c, false, "list", "--socket", sock_path, NULL);
	ASSERT_EQ(c.exit_code, 1);
	ASSERT_CONTAINS(c.err.buf, "no 'vms' array");
	daemon_stop(d);
}

TEST(status_shows_the_vm_and_the_pool)
{
	static const script s = {
		.reply = "{\"name\":\"vm1\",\"state\":\"running\",\"pid\":4242,\"vf\":\"vf0\","
			 "\"vf_plugged\":true,\"host\":\"hostA\",\"spec\":{\"name\":\"vm1\"},"
			 "\"vf_pool\":{\"vf0\":\"vm1\",\"vf1\":null}}",
	};
	fake_daemon *d = daemon_start(&s);
	child c;

	run_cli(&c, false, "status", "vm1", "--socket", sock_path, NULL);
	ASSERT_EQ(c.exit_code, 0);
	ASSERT_STREQ(c.out.buf, "vm1 on hostA\n"
				"  state:     running\n"
				"  pid:       4242\n"
				"  vf:        vf0 (plugged)\n"
				"  pool:      vf0=vm1 vf1=free\n");
	assert_json_equal(fake_daemon_last_args(d), "{\"vm\":\"vm1\"}");
	run_cli(&c, false, "status", "--json", "vm1", "--socket", sock_path, NULL);
	ASSERT_EQ(c.exit_code, 0);
	assert_stdout_is_json(&c, s.reply);
	daemon_stop(d);
}

TEST(start_sends_the_absolute_path)
{
	static const script s = { .reply = "{\"name\":\"vm1\",\"state\":\"running\",\"pid\":99,"
					   "\"vf\":\"vf0\",\"vf_plugged\":true,\"host\":\"hostA\"}" };
	fake_daemon *d = daemon_start(&s);
	char spec[PATH_MAX + 32], *real, want[PATH_MAX + 64];
	child c;
	FILE *f;

	snprintf(spec, sizeof(spec), "%s/vm1.json", tmpdir);
	ASSERT_TRUE((f = fopen(spec, "w")));
	fputs("{\"name\": \"vm1\"}\n", f);
	fclose(f);
	ASSERT_TRUE((real = realpath(spec, NULL)));
	snprintf(want, sizeof(want), "{\"spec\":\"%s\"}", real);

	/* Relative to the CLI's working directory (tmpdir). */
	run_cli(&c, false, "start", "./sub/../vm1.json", "--socket", sock_path, NULL);
	ASSERT_EQ(c.exit_code, 2); /* sub/ does not exist: realpath fails */
	ASSERT_EQ(fake_daemon_connections(d), 0);
	run_cli(&c, false, "start", "vm1.json", "--socket", sock_path, NULL);
	ASSERT_EQ(c.exit_code, 0);
	ASSERT_STREQ(c.out.buf, "Started vm1 (QEMU pid 99) with passthrough device vf0.\n");
	assert_json_equal(fake_daemon_last_args(d), want);
	unlink(spec);
	free(real);
	daemon_stop(d);
}

TEST(start_invalid_spec_is_an_input_error)
{
	static const script s = { .error_code = "invalid-argument",
				  .error_message = "/tmp/x/vm1.json: field 'memory_mib': expected "
						   "an integer 64..1048576, got \"lots\"" };
	fake_daemon *d = daemon_start(&s);
	char spec[PATH_MAX + 32];
	child c;
	FILE *f;

	snprintf(spec, sizeof(spec), "%s/bad.json", tmpdir);
	ASSERT_TRUE((f = fopen(spec, "w")));
	fclose(f);
	run_cli(&c, false, "start", "bad.json", "--socket", sock_path, NULL);
	ASSERT_EQ(c.exit_code, 2);
	ASSERT_CONTAINS(c.err.buf, "field 'memory_mib'");
	unlink(spec);
	daemon_stop(d);
}

TEST(stop_and_force)
{
	static const script s = { .reply = "{}" };
	fake_daemon *d = daemon_start(&s);
	child c;

	run_cli(&c, false, "stop", "vm1", "--socket", sock_path, NULL);
	ASSERT_EQ(c.exit_code, 0);
	ASSERT_STREQ(c.out.buf, "Stopped vm1.\n");
	assert_json_equal(fake_daemon_last_args(d), "{\"vm\":\"vm1\"}");
	run_cli(&c, false, "stop", "--force", "vm1", "--socket", sock_path, NULL);
	ASSERT_EQ(c.exit_code, 0);
	assert_json_equal(fake_daemon_last_args(d), "{\"vm\":\"vm1\",\"force\":true}");
	daemon_stop(d);
}

TEST(help_documents_exit_codes)
{
	static const char *const commands[] = { "migrate", "list", "status", "start", "stop" };
	child c;

	for (size_t i = 0; i < ELEMENTSOF(commands); i++) {
		run_cli(&c, false, commands[i], "--help", NULL);
		ASSERT_EQ(c.exit_code, 0);
		ASSERT_CONTAINS(c.out.buf, "Usage: dmigrate ");
		ASSERT_CONTAINS(c.out.buf, "Exit codes:");
		ASSERT_CONTAINS(c.out.buf, "  2  ");
		ASSERT_CONTAINS(c.out.buf, "--socket PATH");
	}
	run_cli(&c, false, "--help", NULL);
	ASSERT_EQ(c.exit_code, 0);
	ASSERT_CONTAINS(c.out.buf, "  3  migrated, but");
	ASSERT_CONTAINS(c.out.buf, "  130  migrate interrupted");
	ASSERT_CONTAINS(c.out.buf, "dmigrate [GLOBAL OPTIONS] VM --to HOST");
}

TEST(global_options_before_the_command)
{
	fake_daemon *d = daemon_start(&migrated);
	char socket_eq[sizeof(sock_path) + 16];
	child c;

	/* As virsh takes them: dmigrate --json vm1 --to hostB. */
	run_cli(&c, false, "--json", "--socket", sock_path, "vm1", "--to", "hostB", NULL);
	ASSERT_EQ(c.exit_code, 0);
	assert_stdout_is_json(&c, RESULT_MIGRATED);
	ASSERT_STREQ(fake_daemon_commands(d), "hello migrate");
	assert_json_equal(fake_daemon_last_args(d), "{\"vm\":\"vm1\",\"to\":\"hostB\"}");

	snprintf(socket_eq, sizeof(socket_eq), "--socket=%s", sock_path);
	run_cli(&c, false, socket_eq, "--json", "migrate", "vm1", "--to", "hostB", NULL);
	ASSERT_EQ(c.exit_code, 0);
	assert_stdout_is_json(&c, RESULT_MIGRATED);

	/* The same option after the command wins over the one before it. */
	run_cli(&c, false, "--socket", "/nonexistent/dmigrated.sock", "vm1", "--to", "hostB",
		"--json", "--socket", sock_path, NULL);
	ASSERT_EQ(c.exit_code, 0);
	assert_stdout_is_json(&c, RESULT_MIGRATED);
	run_cli(&c, false, "--socket", sock_path, "vm1", "--to", "hostB", "--socket",
		"/nonexistent/dmigrated.sock", NULL);
	ASSERT_EQ(c.exit_code, 1);
	ASSERT_CONTAINS(c.err.buf, "/nonexistent/dmigrated.sock");
	daemon_stop(d);

	run_cli(&c, false, "--version", NULL);
	ASSERT_EQ(c.exit_code, 0);
	ASSERT_CONTAINS(c.out.buf, "dmigrate ");
	run_cli(&c, false, "version", "--help", NULL);
	ASSERT_EQ(c.exit_code, 0);
	ASSERT_CONTAINS(c.out.buf, "Usage: dmigrate version");
}

TEST(global_options_that_do_not_fit_are_usage_errors)
{
	static const script s = { .reply = "{}" };
	static const struct {
		const char *args[6];
		const char *message;
	} cases[] = {
		{ { "--json" }, "Usage: dmigrate [GLOBAL OPTIONS] COMMAND" },
		{ { "--socket" }, "Option '--socket' needs a value" },
		{ { "--bogus", "list" }, "Unknown option '--bogus' before the command" },
		{ { "--to", "hostB", "vm1" }, "Unknown option '--to' before the command" },
		/* stop has no --json: it says so, as it does when --json comes after it. */
		{ { "--json", "stop", "vm1" }, "Unknown or malformed option '--json' for 'dmigrate stop'" },
		{ { "--json", "agent", "--socket", "/x", "hello" }, "Unknown or malformed option '--json' for 'dmigrate agent'" },
		{ { "version", "now" }, "Unexpected argument 'now' for 'dmigrate version'" },
	};
	fake_daemon *d = daemon_start(&s);

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		const char *const *a = cases[i].args;
		child c;

		run_cli(&c, false, a[0], a[1], a[2], a[3], a[4], a[5], NULL);
		ASSERT_EQ(c.exit_code, 2);
		ASSERT_CONTAINS(c.err.buf, cases[i].message);
		ASSERT_EQ(c.out.len, 0);
	}
	ASSERT_EQ(fake_daemon_connections(d), 0);
	daemon_stop(d);
}

TEST(hostile_input_is_refused_before_contacting_the_daemon)
{
	static char huge_vm[100001], huge_host[5001];
	static const script s = { .reply = "{}" };
	static const struct {
		const char *args[10];
		const char *message;
	} cases[] = {
		{ { "vm1", "--to", "hostB", "--multifd", "12abc" }, "Invalid --multifd '12abc': not a number" },
		{ { "vm1", "--to", "hostB", "--downtime-limit", "-5" }, "Invalid --downtime-limit '-5'" },
		{ { "vm1", "--to", "hostB", "--downtime-limit", " 300" }, "Invalid --downtime-limit ' 300'" },
		{ { "vm1", "--to", "hostB", "--downtime-limit", "0x10" }, "Invalid --downtime-limit '0x10'" },
		{ { "vm1", "--to", "hostB", "--downtime-limit", "" }, "Invalid --downtime-limit ''" },
		{ { "vm1", "--to", "hostB", "--downtime-limit", "0" }, "'0': out of range" },
		{ { "vm1", "--to", "hostB", "--multifd", "65" }, "'65': out of range; give a whole number of channels from 0 to 64" },
		{ { "vm1", "--to", "hostB", "--bandwidth", "18446744073709551616" }, "'18446744073709551616': out of range" },
		{ { "vm1", "--to", "hostB", "--bandwidth", "99999999999999999999999999" }, "out of range" },
		{ { "migrate", "vm1" }, "Missing --to HOST" },
		{ { "migrate", "vm1", "--to" }, "Option '--to' needs a value" },
		{ { "migrate", "vm1", "--to", "hostB", "--fast" }, "Unknown or malformed option '--fast'" },
		{ { "migrate", "vm1", "--to", "hostB", "--json=yes" }, "'--json=yes'" },
		{ { "migrate", "vm1", "--to", "hostB", "-q" }, "Unknown or malformed option '-q'" },
		{ { "migrate", "vm1", "vm2", "--to", "hostB" }, "Unexpected argument 'vm2'" },
		{ { "migrate", "--to", "hostB" }, "Missing the VM to migrate" },
		{ { "", "--to", "hostB" }, "The VM name is empty" },
		{ { "VM_1", "--to", "hostB" }, "Invalid VM name 'VM_1'" },
		{ { "-x", "--to", "hostB" }, "Unknown option '-x' before the command" },
		{ { "vm1", "--to", "" }, "The destination host is empty" },
		{ { "vm1", "--to", "--json" }, "Invalid destination host '--json'" },
		{ { "vm1", "--to", "host B" }, "Invalid destination host 'host B'" },
		{ { "vm1", "--to", "hostB", "--socket", "" }, "The daemon socket path is empty" },
		{ { "list", "extra" }, "Unexpected argument 'extra'" },
		{ { "status" }, "Missing the VM" },
		{ { "status", "../etc" }, "Invalid VM name '../etc'" },
		{ { "stop", "vm1", "--now" }, "'--now'" },
		{ { "start" }, "Missing the VM spec" },
		{ { "start", "" }, "The VM spec path is empty" },
		{ { "start", "missing.json" }, "Cannot use VM spec 'missing.json': No such file or directory" },
		{ { "start", "/" }, "VM spec '/' is not a regular file" },
		{ { "bogus" }, "Unknown command 'bogus'" },
		{ { "vm1", "--to", huge_host }, "(5000 bytes)" },
		{ { huge_vm, "--to", "hostB" }, "(100000 bytes)" },
	};
	fake_daemon *d = daemon_start(&s);
	char long_socket[200];

	memset(huge_vm, 'a', sizeof(huge_vm) - 1);
	memset(huge_host, 'h', sizeof(huge_host) - 1);
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		const char *const *a = cases[i].args;
		child c;

		run_cli(&c, false, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], NULL);
		ASSERT_EQ(c.exit_code, 2);
		ASSERT_CONTAINS(c.err.buf, cases[i].message);
		ASSERT_EQ(c.out.len, 0);
		/* One line, however long the value was. */
		ASSERT_TRUE(c.err.len < 600);
	}

	memset(long_socket, 's', sizeof(long_socket) - 1);
	long_socket[0] = '/';
	long_socket[sizeof(long_socket) - 1] = '\0';
	{
		child c;

		run_cli(&c, false, "list", "--socket", long_socket, NULL);
		ASSERT_EQ(c.exit_code, 2);
		ASSERT_CONTAINS(c.err.buf, "is too long for a Unix socket (at most 107 bytes)");
	}
	ASSERT_EQ(fake_daemon_connections(d), 0);
	daemon_stop(d);
}

static char *write_temp(const char *dir, const char *name, const char *text)
{
	char *path;
	FILE *f;

	ASSERT_TRUE(asprintf(&path, "%s/%s", dir, name) > 0);
	f = fopen(path, "w");
	ASSERT_TRUE(f != NULL);
	fputs(text, f);
	fclose(f);
	return path;
}

TEST(drill_refuses_bad_input_before_contacting_the_daemon)
{
	static const script s = { .reply = "{}" };
	char dir[] = "/tmp/test-cli-drill.XXXXXX";
	fake_daemon *d = daemon_start(&s);
	_cleanup_free_ char *good = NULL, *bad_opt = NULL, *bad_val = NULL, *bad_file = NULL;
	_cleanup_free_ char *host_a = NULL, *host_b = NULL;
	child c;

	ASSERT_TRUE(mkdtemp(dir) != NULL);
	good = write_temp(dir, "good.drill", "vm vm1\nmigrate hostA hostB expect migrated\n");
	bad_opt = write_temp(dir, "opt.drill", "vm vm1\nmigrate hostA hostB expect migrated -- --fast\n");
	bad_val = write_temp(dir, "val.drill",
			     "vm vm1\nmigrate hostA hostB expect migrated -- --bandwidth 8x\n");
	bad_file = write_temp(dir, "bad.drill", "vm vm1\nmigrate hostA hostB fault kill-qemu at migrate expect rolled-back\n");
	ASSERT_TRUE(asprintf(&host_a, "hostA=%s", sock_path) > 0);
	ASSERT_TRUE(asprintf(&host_b, "hostB=%s", sock_path) > 0);

	const struct {
		const char *args[10];
		const char *message;
	} cases[] = {
		{ { "drill" }, "Usage: dmigrate drill run|check FILE" },
		{ { "drill", "walk", good }, "Usage: dmigrate drill run|check FILE" },
		{ { "drill", "run", "/nonexistent.drill" }, "/nonexistent.drill" },
		{ { "drill", "check", bad_file }, "bad.drill:2: unknown fault 'kill-qemu'" },
		{ { "drill", "run", good }, "names host 'hostA': say where its dmigrated listens with --host hostA=SOCKET" },
		{ { "drill", "run", good, "--host", "hostA" }, "expected NAME=SOCKET" },
		{ { "drill", "run", good, "--host", "=x" }, "expected NAME=SOCKET" },
		{ { "drill", "run", good, "--host", host_a, "--host", host_a }, "given twice" },
		{ { "drill", "run", good, "--host", "-x=/s" }, "Invalid" },
		{ { "drill", "run", good, "--host", host_a }, "names host 'hostB'" },
		{ { "drill", "run", bad_opt, "--host", host_a, "--host", host_b }, "opt.drill:2: '--fast' is not a migration option" },
		{ { "drill", "run", bad_val, "--host", host_a, "--host", host_b }, "Invalid --bandwidth '8x'" },
		{ { "drill", "run", good, "--host", host_a, "--host", host_b, "--ping", "300.1.2.3" }, "'300.1.2.3' is not an IPv4 address" },
		{ { "drill", "run", good, "extra", "--host", host_a }, "Usage: dmigrate drill run|check FILE" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		const char *const *a = cases[i].args;

		run_cli(&c, false, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], NULL);
		ASSERT_EQ(c.exit_code, 2);
		ASSERT_CONTAINS(c.err.buf, cases[i].message);
		ASSERT_EQ(c.out.len, 0);
	}
	ASSERT_EQ(fake_daemon_connections(d), 0);

	run_cli(&c, false, "drill", "check", good, NULL);
	ASSERT_EQ(c.exit_code, 0);
	ASSERT_CONTAINS(c.out.buf, "1 steps, repeated 1 times");
	run_cli(&c, false, "drill", "--help", NULL);
	ASSERT_EQ(c.exit_code, 0);
	ASSERT_CONTAINS(c.out.buf, "Exit codes:");
	daemon_stop(d);
	unlink(good);
	unlink(bad_opt);
	unlink(bad_val);
	unlink(bad_file);
	rmdir(dir);
}

/*
 * Two hosts for a drill whose source daemon dies under the step: hostA breaks the migrate
 * connection off (as its SIGKILL would), then has the VM migrating for a while (its restarted
 * daemon finishing from the journal), then no more; hostB runs it on its VF.
 */
typedef struct drill_hosts {
	unsigned lists_migrating; /* hostA's lists that still show the job */
	bool migrate_asked;
} drill_hosts;

static void drill_host_a(fake_daemon *d, rpc_request *req, const char *cmd, json_object *args,
			 void *userdata)
{
	drill_hosts *h = userdata;

	if (!strcmp(cmd, "migrate")) {
		h->migrate_asked = true;
		fake_daemon_disconnect(d, req);
	} else if (!strcmp(cmd, "list") && h->migrate_asked && h->lists_migrating) {
		h->lists_migrating--;
		rpc_request_reply(req, json_tokener_parse(
					       "{\"vms\": [{\"name\": \"vm1\", \"state\": \"migrating\"}]}"));
	} else if (!strcmp(cmd, "list")) {
		rpc_request_reply(req, json_tokener_parse(h->migrate_asked ? "{\"vms\": []}" :
				"{\"vms\": [{\"name\": \"vm1\", \"state\": \"running\"}]}"));
	} else {
		rpc_request_reply(req, json_tokener_parse("{\"guest\": {\"agent\": \"answering\"}}"));
	}
}

static void drill_host_b(fake_daemon *d, rpc_request *req, const char *cmd, json_object *args,
			 void *userdata)
{
	const drill_hosts *h = userdata;

	if (!strcmp(cmd, "list"))
		rpc_request_reply(req, json_tokener_parse(h->migrate_asked ?
				"{\"vms\": [{\"name\": \"vm1\", \"state\": \"running\"}]}" :
				"{\"vms\": []}"));
	else
		rpc_request_reply(req, json_tokener_parse(
				"{\"vf_plugged\": true, \"guest\": {\"agent\": \"answering\", "
				"\"active-role\": \"vf\"}}"));
}

TEST(drill_waits_for_a_source_daemon_that_died_under_the_step)
{
	char dir[] = "/tmp/test-cli-drill.XXXXXX";
	drill_hosts h = { .lists_migrating = 2 };
	_cleanup_free_ char *file = NULL, *sock_a = NULL, *sock_b = NULL, *host_a = NULL,
			    *host_b = NULL;
	fake_daemon *a, *b;
	child c;

	ASSERT_TRUE(mkdtemp(dir) != NULL);
	file = write_temp(dir, "k.drill",
			  "vm vm1\nmigrate hostA hostB fault kill-source-daemon at migrate expect migrated\n");
	ASSERT_TRUE(asprintf(&sock_a, "%s/a.sock", dir) > 0 && asprintf(&sock_b, "%s/b.sock", dir) > 0);
	ASSERT_TRUE(asprintf(&host_a, "hostA=%s", sock_a) > 0 &&
		    asprintf(&host_b, "hostB=%s", sock_b) > 0);
	ASSERT_OK(fake_daemon_new(&loop, sock_a, drill_host_a, &h, &a));
	ASSERT_OK(fake_daemon_new(&loop, sock_b, drill_host_b, &h, &b));

	run_cli(&c, false, "drill", "run", file, "--host", host_a, "--host", host_b, NULL);
	ASSERT_EQ(c.exit_code, 0);
	ASSERT_CONTAINS(c.err.buf, "the connection to hostA's dmigrated is gone");
	ASSERT_CONTAINS(c.out.buf, "fault kill-source-daemon at migrate: migrated (exit 1, from the "
				   "restarted source daemon's journal), runs on hostB");
	ASSERT_CONTAINS(c.out.buf, "every step as expected");
	/* It asked until the job was no longer there. */
	ASSERT_EQ(h.lists_migrating, 0);

	fake_daemon_free(a);
	fake_daemon_free(b);
	uv_run(&loop, UV_RUN_NOWAIT);
	unlink(sock_a);
	unlink(sock_b);
	unlink(file);
	rmdir(dir);
}

int main(void)
{
	bin = getenv("DMIGRATE_BIN");
	if (!bin)
		TEST_FAIL("DMIGRATE_BIN must name the dmigrate binary (meson test sets it)");
	ASSERT_TRUE(mkdtemp(tmpdir));
	snprintf(sock_path, sizeof(sock_path), "%s/dmigrated.sock", tmpdir);
	ASSERT_OK(uv_loop_init(&loop));
	/* The CLI runs with whatever SIGPIPE disposition we have: keep the default visible. */
	signal(SIGPIPE, SIG_DFL);

	RUN_TEST(migrate_json_with_settings);
	RUN_TEST(drill_waits_for_a_source_daemon_that_died_under_the_step);
	RUN_TEST(shorthand_on_a_pipe_prints_one_line);
	RUN_TEST(terminal_shows_live_progress_and_phases);
	RUN_TEST(rolled_back_exits_1);
	RUN_TEST(degraded_exits_3);
	RUN_TEST(unknown_outcome_is_a_failure);
	RUN_TEST(error_replies_map_to_exit_codes);
	RUN_TEST(daemon_message_cannot_drive_the_terminal);
	RUN_TEST(daemon_not_running);
	RUN_TEST(daemon_closes_mid_call);
	RUN_TEST(protocol_version_mismatch);
	RUN_TEST(ctrl_c_detaches_and_leaves_the_migration_running);
	RUN_TEST(list_table_and_json);
	RUN_TEST(list_rejects_an_answer_without_vms);
	RUN_TEST(status_shows_the_vm_and_the_pool);
	RUN_TEST(start_sends_the_absolute_path);
	RUN_TEST(start_invalid_spec_is_an_input_error);
	RUN_TEST(stop_and_force);
	RUN_TEST(help_documents_exit_codes);
	RUN_TEST(drill_refuses_bad_input_before_contacting_the_daemon);
	RUN_TEST(global_options_before_the_command);
	RUN_TEST(global_options_that_do_not_fit_are_usage_errors);
	RUN_TEST(hostile_input_is_refused_before_contacting_the_daemon);

	uv_run(&loop, UV_RUN_DEFAULT);
	ASSERT_OK(uv_loop_close(&loop));
	ASSERT_OK(rmdir(tmpdir));
	return 0;
}
