// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The source daemon against a peer that lies. The real source half runs in this process, driven
 * through the daemon's own control socket code like the CLI drives it; QEMU is a scripted QMP
 * server (mock_qmp.h), the guest agent the real agent request loop over a fake kernel
 * (agent-fake.h), and the destination a scripted peer daemon (fake_daemon.h, reached as a local
 * peer: link "local") that answers hello,
 * peer-check and peer-prepare with a lie: wrong types, out-of-range ports, names with shell or
 * QMP metacharacters, missing members, a URI where the port belongs, error replies with escape
 * sequences and invented codes, a link that breaks. Every time the VM must be safe on the source:
 * the migration rolled back with a message that names the lie, the VM running with its VF
 * plugged and reserved, no journal left, and the peer told to abort whenever it may have started
 * something. One peer tells the truth about the port but adds a URI: QEMU must be sent to the
 * address in our config, not the peer's. The same migration on an sriov pool (a fixture host,
 * netlink replaced by a recorder) shows when the VF loses and gets back the VM's MAC: at the
 * standby switch, before the unplug, and back only once the bond has the replugged VF. The
 * destination prepares during the preflight: a check of the source that fails while its prepare
 * is in flight, or after it succeeded, rolls back all the same, the prepare undone only once it
 * answered, and the journal said `prepare` before the peer heard of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent-fake.h"
#include "daemon/daemon.h"
#include "daemon/state_file.h"
#include "fake_daemon.h"
#include "host/qemu_argv.h"
#include "host/vf_pool.h"
#include "host/vf_steering.h"
#include "host/vm.h"
#include "host_fixture.h"
#include "log.h"
#include "mock_qmp.h"
#include "test.h"

/* What the peer in one test case answers; NULL members tell the truth. */
typedef struct peer_script {
	const char *hello;         /* hello's "return" */
	const char *check;         /* peer-check's "return" */
	const char *prepare;       /* peer-prepare's "return" */
	const char *prepare_error; /* peer-prepare answers this error code instead ... */
	const char *prepare_error_message; /* ... with this message */
	bool prepare_hangs_up;     /* peer-prepare: the link breaks instead of an answer */
	/*
	 * peer-prepare sends `reserved` at once and holds its answer (prepare_error's) until the
	 * source's QEMU was asked to let the VF's netdev go: the unplug ran during the prepare.
	 */
	bool reserved_then_fails;
	bool check_says_reserved; /* peer-check sends a `reserved` event, which means nothing there */
	/*
	 * QEMU answers the preflight's query-status "paused" (the VM is not running: a failed
	 * check) only once peer-prepare arrived: while it is in flight (its answer held back
	 * PREPARE_HELD_MS), or after the peer answered it.
	 */
	enum { PAUSED_NEVER, PAUSED_WHILE_PREPARING, PAUSED_AFTER_PREPARED } paused;
} peer_script;

#define PREPARE_HELD_MS 150

static uv_loop_t loop;
static char tmp[] = "/tmp/test-hostile-peer.XXXXXX";
static const peer_script *script;
/* Set: hostA's pool is an sriov one of this fixture host's PF (else emulated, vf0 and vf1). */
static host_fixture *sriov_host;
#define SRIOV_PF "0000:07:00.1"
/* hostA's daemon, while a test runs. */
static host_daemon *hostA;
/* Its QEMU's QMP, while a test runs; the journal's file, and the peer's held prepare. */
static mock_qmp *qmp_now;
static char *journal_now;
static uv_timer_t prepare_timer;
static rpc_request *prepare_held;
static bool prepare_answered;

/* The result of one migrate request, as the CLI would get it. */
static struct {
	bool done;
	int error;
	json_object *result;
	char message[1024];
} seen;

static void prepare_answer(rpc_request *req)
{
	prepare_answered = true;
	rpc_request_reply(req, json_tokener_parse("{\"phase\": \"prepare\", \"state\": \"done\", \"port\": 4444}"));
}

static void prepare_release(uv_timer_t *t)
{
	prepare_answer(TAKE_PTR(prepare_held));
}

/* peer-prepare, with the source's QEMU saying "paused" to its preflight meanwhile or after. */
static void peer_prepare_paused(rpc_request *req)
{
	json_object *journal = json_object_from_file(journal_now), *phase;

	/* The source's journal says prepare before we can start anything. */
	ASSERT_TRUE(journal && json_object_object_get_ex(journal, "phase", &phase));
	ASSERT_STREQ(json_object_get_string(phase), "prepare");
	json_object_put(journal);
	if (script->paused == PAUSED_AFTER_PREPARED) {
		prepare_answer(req);
		/* After our answer has gone out. */
		mock_qmp_delay(qmp_now, 50);
	} else {
		prepare_held = req;
		ASSERT_OK(uv_timer_start(&prepare_timer, prepare_release, PREPARE_HELD_MS, 0));
	}
	mock_qmp_reply(qmp_now, "{\"status\": \"paused\", \"running\": false}");
}

/* reserved_then_fails: the held prepare fails once the unplug reached netdev_del. */
static void prepare_fails_at_netdev_del(const char *command, void *userdata)
{
	if (strcmp(command, "netdev_del") || !prepare_held)
		return;
	mock_qmp_on_command(qmp_now, NULL, NULL);
	prepare_answered = true;
	rpc_request_reply_error(TAKE_PTR(prepare_held), script->prepare_error, "%s",
				script->prepare_error_message);
}

static void peer_handle(fake_daemon *f, rpc_request *req, const char *cmd, json_object *args,
			void *userdata)
{
	const char *answer = NULL;

	if (!strcmp(cmd, "peer-check")) {
		if (script->check_says_reserved)
			rpc_request_event(req, "reserved", NULL);
		answer = script->check ? script->check : "{\"free_vfs\": 1}";
	} else if (!strcmp(cmd, "peer-prepare")) {
		if (script->prepare_hangs_up) {
			fake_daemon_disconnect(f, req);
			return;
		}
		if (script->reserved_then_fails) {
			rpc_request_event(req, "reserved", NULL);
			prepare_held = req;
			mock_qmp_on_command(qmp_now, prepare_fails_at_netdev_del, NULL);
			return;
		}
		if (script->prepare_error) {
			rpc_request_reply_error(req, script->prepare_error, "%s", script->prepare_error_message);
			return;
		}
		if (script->paused != PAUSED_NEVER) {
			peer_prepare_paused(req);
			return;
		}
		answer = script->prepare ? script->prepare : "{\"phase\": \"prepare\", \"state\": \"done\", \"port\": 4444}";
	} else if (!strcmp(cmd, "peer-abort")) {
		/* Never before the prepare it undoes has answered: it would undo half of it. */
		if (script->paused != PAUSED_NEVER || script->reserved_then_fails)
			ASSERT_TRUE(prepare_answered);
		answer = "{}";
	}
	if (!answer) {
		rpc_request_reply_error(req, "failed", "the script has no answer to %s", cmd);
		return;
	}
	/* Any JSON value goes back as "return", also what no honest peer would send. */
	rpc_request_reply(req, json_tokener_parse(answer));
}

/* The guest agent's socket: one connection, served by the real agent over the fake kernel. */
typedef struct agent_listener {
	int fd;
	uv_poll_t poll;
	agent_server *server;
} agent_listener;

static void agent_on_connection(uv_poll_t *p, int status, int events)
{
	agent_listener *l = p->data;
	int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd >= 0)
		ASSERT_OK(agent_server_attach_fd(l->server, fd));
}

static void agent_listen(agent_listener *l, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	ASSERT_TRUE(l->fd >= 0);
	ASSERT_OK(bind(l->fd, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_OK(listen(l->fd, 4));
	ASSERT_OK(agent_server_new(&loop, &fake_backend, &l->server));
	ASSERT_OK(uv_poll_init(&loop, &l->poll, l->fd));
	l->poll.data = l;
	ASSERT_OK(uv_poll_start(&l->poll, UV_READABLE, agent_on_connection));
}

static void agent_unlisten(agent_listener *l)
{
	uv_close((uv_handle_t *)&l->poll, NULL);
	close(l->fd);
	agent_server_free(l->server);
}

static void on_migrate(rpc_conn *c, int error, json_object *ret, const char *code, const char *message,
		       void *userdata)
{
	seen.done = true;
	seen.error = error;
	seen.result = json_object_get(ret);
	snprintf(seen.message, sizeof(seen.message), "%s", message ? message : "");
}

static void on_hello(rpc_conn *c, int error, json_object *ret, const char *code, const char *message,
		     void *userdata)
{
	ASSERT_EQ(error, 0);
	ASSERT_OK(rpc_conn_call(c, "migrate", json_tokener_parse("{\"vm\": \"vm1\", \"to\": \"hostB\"}"), 0,
				NULL, on_migrate, NULL));
}

/* guest: what the guest's kernel does meanwhile, called between loop iterations (or NULL). */
static void run_until_done(void (*guest)(void))
{
	for (int i = 0; i < 20000 && !seen.done; i++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		if (guest)
			guest();
		if (!seen.done)
			usleep(500);
	}
	ASSERT_TRUE(seen.done);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	ASSERT_TRUE(f != NULL);
	fputs(text, f);
	ASSERT_OK(fclose(f));
}

/* A stand-in for the VM's QEMU process: the daemon only needs a live pid. */
static pid_t spawn_sleeper(void)
{
	pid_t pid = fork();

	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		/* Not holding the test's output open if the test dies first. */
		int null = open("/dev/null", O_RDWR);

		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		execlp("sleep", "sleep", "60", NULL);
		_exit(127);
	}
	return pid;
}

#define VM1_SPEC                                                                                   \
	"{\"name\": \"vm1\", \"memory_mib\": 256, \"mac\": \"52:54:00:12:34:56\","                    \
	" \"passthrough\": {\"type\": \"emulated\"}, \"boot\": {\"kernel\": \"/boot/vmlinuz\"}}"

/* The daemon of hostA with vm1 running, its VF vf0 plugged; hostB is reached through the fake. */
static void daemon_setup(host_daemon *d)
{
	_cleanup_free_ char *config_path = NULL, *config = NULL, *error = NULL;
	_cleanup_free_ char *run = NULL, *state = NULL;
	vm_spec *spec;
	const char *vf;
	vm *v;

	ASSERT_TRUE(asprintf(&run, "%s/run", tmp) > 0 && asprintf(&state, "%s/state", tmp) > 0);
	_cleanup_free_ char *pool_config = NULL;

	if (sriov_host)
		ASSERT_TRUE(asprintf(&pool_config, "\"system_root\": \"%s\", \"passthrough\": {\"type\": \"sriov\","
				     " \"pf\": \"enp7s0f1\", \"vfs\": 2}", sriov_host->root) > 0);
	else
		ASSERT_TRUE((pool_config = strdup("\"passthrough\": {\"type\": \"emulated\", \"slots\": 2}")) != NULL);
	ASSERT_TRUE(asprintf(&config,
			     "{\"name\": \"hostA\", \"control_socket\": \"%s/ctl.sock\", \"peer_socket\": \"%s/peer.sock\","
			     " \"state_dir\": \"%s\", \"run_dir\": \"%s\", \"migration_address\": \"127.0.0.1\", %s,"
			     " \"peers\": {\"hostB\": {\"address\": \"127.0.0.2\", \"link\": \"local\","
			     " \"peer_socket\": \"%s/fake-peer.sock\", \"migration_address\": \"192.0.2.77\"}}}",
			     tmp, tmp, state, run, pool_config, tmp) > 0);
	ASSERT_TRUE(asprintf(&config_path, "%s/dmigrated.json", tmp) > 0);
	write_file(config_path, config);

	*d = (host_daemon){ .loop = &loop, .control.fd = -1, .peer.fd = -1 };
	hostA = d;
	ASSERT_OK(host_config_load(config_path, &d->config, &error));
	ASSERT_OK(state_dir_create(state));
	ASSERT_OK(state_dir_create(run));
	ASSERT_OK(vf_pool_open(d->config, sriov_host ? &sriov_host->fs : NULL, &d->pool, &error));
	d->qemu_version = strdup("QEMU emulator version 7.2.0");

	ASSERT_OK(vm_spec_parse(VM1_SPEC, strlen(VM1_SPEC), "vm1.json", "/", &spec, &error));
	ASSERT_OK(vm_new(d, spec, &v));
	ASSERT_OK(vf_pool_reserve(d->pool, "vm1", &vf));
	ASSERT_OK(vm_hold_vf(v, vf));
	ASSERT_STREQ(vm_get_vf(v), sriov_host ? fx_vf_address(0) : "vf0");
	vm_set_vf_plugged(v, true);
	vm_set_status(v, VM_RUNNING);
	vm_set_pid(v, spawn_sleeper());
	if (sriov_host) { /* its QEMU's standby tap, for the bridge entry */
		char fd[64], fdinfo[64];

		snprintf(fd, sizeof(fd), "proc/%d/fd/9", (int)vm_get_pid(v));
		snprintf(fdinfo, sizeof(fdinfo), "proc/%d/fdinfo/9", (int)vm_get_pid(v));
		fx_link(sriov_host, fd, "/dev/net/tun");
		fx_file(sriov_host, fdinfo, "iff:\ttap7\n");
		fx_file(sriov_host, "sys/class/net/tap7/ifindex", "77\n");
	}
	ASSERT_TRUE(mkdir(vm_get_run_dir(v), 0700) == 0 || errno == EEXIST);
}

static void daemon_teardown(host_daemon *d)
{
	pid_t pid = d->vms ? vm_get_pid(d->vms) : 0;

	while (d->vms)
		vm_forget(d->vms);
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	vf_pool_free(d->pool);
	host_config_free(d->config);
	free(d->qemu_version);
}

/*
 * Migrate vm1 to the lying peer and check that it stayed on hostA, whole. qmp_tail: what QMP
 * sees after the preflight's query-status (NULL for nothing); guest: see run_until_done().
 * want_message: in the result's message. want_peer: the commands the peer got.
 */
static bool keep_result; /* migrate_against() leaves seen.result to its caller */

static void migrate_against(const peer_script *s, void (*qmp_tail)(mock_qmp *m), void (*guest)(void),
			    const char *want_message, const char *want_peer)
{
	_cleanup_free_ char *qmp_path = NULL, *agent_path = NULL, *peer_path = NULL, *journal = NULL;
	json_object *v, *pool;
	agent_listener agent;
	host_daemon d;
	fake_daemon *peer;
	mock_qmp *m;
	rpc_conn *cli;
	int sv[2];

	memset(&seen, 0, sizeof(seen));
	script = s;
	fake_reset();
	daemon_setup(&d);
	ASSERT_TRUE(asprintf(&qmp_path, "%s/%s", vm_get_run_dir(d.vms), QEMU_RUN_QMP_SOCKET) > 0);
	ASSERT_TRUE(asprintf(&agent_path, "%s/%s", vm_get_run_dir(d.vms), QEMU_RUN_AGENT_SOCKET) >
		    0);
	ASSERT_TRUE(asprintf(&peer_path, "%s/fake-peer.sock", tmp) > 0);
	ASSERT_TRUE(asprintf(&journal, "%s/state/jobs/vm1.json", tmp) > 0);

	unlink(qmp_path);
	unlink(peer_path);
	ASSERT_OK(mock_qmp_new_listen(&loop, qmp_path, &m));
	mock_qmp_handshake(m);
	qmp_now = m;
	journal_now = journal;
	prepare_answered = false;
	mock_qmp_expect(m, "query-status", NULL);
	if (s->paused == PAUSED_NEVER)
		mock_qmp_reply(m, "{\"status\": \"running\", \"running\": true}");
	if (qmp_tail)
		qmp_tail(m);
	agent_listen(&agent, agent_path);
	ASSERT_OK(fake_daemon_new(&loop, peer_path, peer_handle, NULL, &peer));
	fake_daemon_set_hello(peer, s->hello ? s->hello :
				    "{\"version\": 2, \"host\": \"hostB\", \"qemu\": \"7.2.0\", \"features\": []}");

	/* The CLI's side of the control socket, through the daemon's own dispatch. */
	ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_OK(daemon_control_serve_fd(&d, CONTROL_SIDE_CLI, sv[0]));
	ASSERT_OK(rpc_conn_new(&loop, sv[1], &(rpc_conn_callbacks){ 0 }, NULL, &cli));
	ASSERT_OK(rpc_conn_call(cli, "hello", json_tokener_parse("{\"version\": 2}"), 5000, NULL, on_hello, NULL));
	run_until_done(guest);

	/* Rolled back, and it says why. */
	ASSERT_EQ(seen.error, 0);
	fprintf(stderr, "   -> %s\n", json_object_to_json_string(seen.result));
	ASSERT_TRUE(json_object_object_get_ex(seen.result, "outcome", &v));
	ASSERT_STREQ(json_object_get_string(v), "rolled-back");
	ASSERT_TRUE(json_object_object_get_ex(seen.result, "runs_on", &v));
	ASSERT_STREQ(json_object_get_string(v), "hostA");
	ASSERT_TRUE(json_object_object_get_ex(seen.result, "message", &v));
	if (!strstr(json_object_get_string(v), want_message))
		TEST_FAIL("the message '%s' does not say '%s'", json_object_get_string(v), want_message);
	for (const char *c = json_object_get_string(v); *c; c++)
		ASSERT_TRUE((unsigned char)*c >= 0x20 && *c != 0x7f);

	/* The VM is where it was, whole: running here, its VF plugged and still reserved for it. */
	ASSERT_TRUE(d.vms && !strcmp(vm_get_name(d.vms), "vm1") && !vm_next(d.vms));
	ASSERT_TRUE(vm_get_job(d.vms) == NULL);
	ASSERT_EQ(vm_get_status(d.vms), VM_RUNNING);
	ASSERT_STREQ(vm_get_vf(d.vms), sriov_host ? fx_vf_address(0) : "vf0");
	ASSERT_TRUE(vm_is_vf_plugged(d.vms));
	pool = vf_pool_to_json(d.pool);
	ASSERT_TRUE(json_object_get_type(pool) == json_type_object && json_object_object_length(pool) == 2);
	ASSERT_STREQ(json_object_get_string(json_object_object_get(pool, vm_get_vf(d.vms))), "vm1");
	json_object_put(pool);
	ASSERT_TRUE(access(journal, F_OK) < 0 && errno == ENOENT);
	/* The guest's traffic is on its VF, as before. */
	ASSERT_EQ(fake_link("bond0")->active_slave, 3);
	ASSERT_STREQ(fake_daemon_commands(peer), want_peer);

	if (!keep_result)
		json_object_put(TAKE_PTR(seen.result));
	rpc_conn_close(cli);
	daemon_teardown(&d);
	mock_qmp_free(m);
	fake_daemon_free(peer);
	agent_unlisten(&agent);
	for (int i = 0; i < 50; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
}

#define AFTER_CHECK "hello peer-check"
#define AFTER_PREPARE "hello peer-check peer-prepare peer-abort"

TEST(lies_in_hello)
{
	static const struct {
		const char *hello, *want;
	} lies[] = {
		{ "{\"version\": 1, \"host\": \"hostB\", \"features\": []}", "its reply to hello is refused: protocol version 1, but this daemon speaks 2 to 2" },
		{ "{\"version\": 3, \"host\": \"hostB\", \"features\": []}", "protocol version 3, but" },
		{ "{\"version\": \"2\", \"host\": \"hostB\", \"features\": []}", "its reply to hello is refused: 'version' must be an integer" },
		{ "{\"version\": 2, \"host\": \"hostC\", \"features\": []}", "it is host 'hostC', not 'hostB'" },
		{ "{\"version\": 2, \"host\": \"hostB; reboot\", \"features\": []}", "'host' must be a name" },
		{ "{\"version\": 2, \"features\": []}", "refused: no member 'host'" },
		{ "{\"version\": 2, \"host\": \"hostB\", \"features\": [\"teleport\"]}", "feature 'teleport', which this daemon never offered" },
		{ "{\"version\": 2, \"host\": \"hostB\", \"features\": \"fault-injection\"}", "'features' must be an array" },
		{ "[2]", "its reply to hello is refused: not a JSON object" },
	};

	for (size_t i = 0; i < ELEMENTSOF(lies); i++) {
		peer_script s = { .hello = lies[i].hello };

		fprintf(stderr, "-- hello answers %s\n", lies[i].hello);
		migrate_against(&s, NULL, NULL, lies[i].want, "hello");
	}
}

TEST(lies_in_peer_check)
{
	static const struct {
		const char *check, *want;
	} lies[] = {
		{ "{\"free_vfs\": 0}", "hostB's reply to peer-check is refused: 'free_vfs' must be within 1..256" },
		{ "{\"free_vfs\": 100000}", "must be within 1..256" },
		{ "{\"free_vfs\": \"2\"}", "'free_vfs' must be an integer" },
		{ "{\"free_vfs\": 2.5}", "must be an integer" },
		{ "{}", "refused: no member 'free_vfs'" },
		{ "\"ok\"", "hostB's reply to peer-check is refused: not a JSON object" },
	};

	for (size_t i = 0; i < ELEMENTSOF(lies); i++) {
		peer_script s = { .check = lies[i].check };

		fprintf(stderr, "-- peer-check answers %s\n", lies[i].check);
		migrate_against(&s, NULL, NULL, lies[i].want, AFTER_CHECK);
	}
}

/* The members of an honest peer-prepare reply but the port. */
#define PREPARED "\"phase\": \"prepare\", \"state\": \"done\""

TEST(lies_in_peer_prepare)
{
	static const struct {
		const char *prepare, *want;
	} lies[] = {
		/* A URI where the port belongs, or instead of it: version 1's reply, never heard again. */
		{ "{" PREPARED ", \"uri\": \"exec:sh -c 'touch /tmp/pwned'\"}", "hostB's reply to peer-prepare is refused: no member 'port'" },
		{ "{" PREPARED ", \"port\": \"exec:sh -c id\"}", "hostB's reply to peer-prepare is refused: 'port' must be an integer" },
		{ "{" PREPARED ", \"port\": \"tcp:198.51.100.7:4444\"}", "'port' must be an integer" },
		{ "{" PREPARED ", \"port\": \"4444\"}", "'port' must be an integer" },
		/* Out of range. */
		{ "{" PREPARED ", \"port\": 0}", "hostB's reply to peer-prepare is refused: 'port' must be within 1..65535" },
		{ "{" PREPARED ", \"port\": 65536}", "'port' must be within 1..65535" },
		{ "{" PREPARED ", \"port\": -22}", "'port' must be within 1..65535" },
		{ "{" PREPARED ", \"port\": 18446744073709551616}", "'port' must be" },
		{ "{" PREPARED ", \"port\": 4444.0}", "'port' must be an integer" },
		/* Names with shell and QMP metacharacters, control characters, the wrong phase. */
		{ "{\"phase\": \"prepare,id=x\", \"state\": \"done\", \"port\": 4444}", "'phase' must be a name" },
		{ "{\"phase\": \"prepare; rm -rf /\", \"state\": \"done\", \"port\": 4444}", "'phase' must be a name" },
		{ "{\"phase\": \"$(reboot)\", \"state\": \"done\", \"port\": 4444}", "'phase' must be a name" },
		{ "{\"phase\": \"../../etc/passwd\", \"state\": \"done\", \"port\": 4444}", "'phase' must be a name" },
		{ "{\"phase\": \"-prepare\", \"state\": \"done\", \"port\": 4444}", "'phase' must be a name" },
		{ "{\"phase\": \"prep\\u0000are\", \"state\": \"done\", \"port\": 4444}", "'phase' must be a name" },
		{ "{\"phase\": \"prepare\", \"state\": \"done\\u001b[2J\", \"port\": 4444}", "'state' contains a NUL or control character" },
		{ "{\"phase\": \"commit\", \"state\": \"done\", \"port\": 4444}", "it reports phase 'commit', not 'prepare'" },
		{ "{\"phase\": \"prepare\", \"state\": \"teleported\", \"port\": 4444}", "'state' must be \"done\" or \"skipped\"" },
		{ "{\"phase\": \"prepare\", \"state\": \"skipped\", \"port\": 4444}", "it skipped prepare" },
		/* Missing members, wrong types, not an object. */
		{ "{\"state\": \"done\", \"port\": 4444}", "refused: no member 'phase'" },
		{ "{\"phase\": \"prepare\", \"port\": 4444}", "refused: no member 'state'" },
		{ "{\"phase\": 1, \"state\": \"done\", \"port\": 4444}", "'phase' must be a name" },
		{ "{" PREPARED ", \"port\": [4444]}", "'port' must be an integer" },
		{ "null", "hostB's reply to peer-prepare is refused: no member 'phase'" },
		{ "7", "hostB's reply to peer-prepare is refused: not a JSON object" },
	};

	for (size_t i = 0; i < ELEMENTSOF(lies); i++) {
		peer_script s = { .prepare = lies[i].prepare };

		fprintf(stderr, "-- peer-prepare answers %s\n", lies[i].prepare);
		migrate_against(&s, NULL, NULL, lies[i].want, AFTER_PREPARE);
	}
}

TEST(lies_in_error_replies)
{
	/* An escape sequence for the operator's terminal and an invented code: cleaned, refused. */
	peer_script s = { .prepare_error = "resume-the-vm",
			  .prepare_error_message = "\x1b[2J\x1b]0;owned\x07 all fine, honestly" };

	migrate_against(&s, NULL, NULL, "could not prepare: ?[2J?]0;owned? all fine, honestly", AFTER_PREPARE);

	/* The peer's own word that its QEMU is gone still rolls back, with the rest of its text. */
	s = (peer_script){ .prepare_error = "not-running", .prepare_error_message = "no QEMU here" };
	migrate_against(&s, NULL, NULL, "could not prepare: no QEMU here", AFTER_PREPARE);
}

static void migrate_against_keep(const peer_script *s, const char *want_message, const char *want_peer)
{
	keep_result = true;
	migrate_against(s, NULL, NULL, want_message, want_peer);
	keep_result = false;
}

/* The result's record of one phase: its state. */
static const char *phase_state_of(json_object *result, const char *phase)
{
	json_object *phases, *p, *v;

	ASSERT_TRUE(json_object_object_get_ex(result, "phases", &phases));
	for (size_t i = 0; i < json_object_array_length(phases); i++) {
		p = json_object_array_get_idx(phases, i);
		if (json_object_object_get_ex(p, "phase", &v) && !strcmp(json_object_get_string(v), phase) &&
		    json_object_object_get_ex(p, "state", &v))
			return json_object_get_string(v);
	}
	return "none";
}

/* A preflight check fails with the destination's prepare under way, or done: both undone. */
static void preflight_fails_with_prepare(int paused)
{
	peer_script s = { .paused = paused };

	seen.result = NULL;
	/* migrate_against() asserts the rollback, the VM whole here, and the abort sent. */
	migrate_against_keep(&s, "VM 'vm1' is not running (QEMU status 'paused')",
			     "hello peer-check peer-prepare peer-abort");
	ASSERT_TRUE(prepare_answered);
	ASSERT_STREQ(phase_state_of(seen.result, "preflight"), "failed");
	ASSERT_STREQ(phase_state_of(seen.result, "prepare"), "undone");
	json_object_put(TAKE_PTR(seen.result));
}

TEST(preflight_fails_while_prepare_is_in_flight)
{
	preflight_fails_with_prepare(PAUSED_WHILE_PREPARING);
}

TEST(preflight_fails_after_prepare_succeeded)
{
	preflight_fails_with_prepare(PAUSED_AFTER_PREPARED);
}

TEST(link_breaks_at_prepare)
{
	peer_script s = { .prepare_hangs_up = true };

	/* The abort goes out on a fresh link: the peer may have started an incoming QEMU. */
	migrate_against(&s, NULL, NULL, "could not prepare", "hello peer-check peer-prepare hello peer-abort");
}

/* The source's unplug of the VF, as QEMU answers it. */
static void qmp_unplug(mock_qmp *m)
{
	mock_qmp_expect(m, "device_del", "{\"id\": \"" QEMU_ID_VF "\"}");
	mock_qmp_reply(m, "{}");
	mock_qmp_event(m, "DEVICE_DELETED", "{\"device\": \"" QEMU_ID_VF "\", \"path\": \"/machine/peripheral/vf0\"}");
	mock_qmp_expect(m, "netdev_del", "{\"id\": \"" QEMU_ID_VF_NETDEV "\"}");
	mock_qmp_reply(m, "{}");
}

/* The rollback's plug of the VF again. */
static void qmp_replug(mock_qmp *m)
{
	mock_qmp_expect(m, "netdev_add", NULL);
	mock_qmp_reply(m, "{}");
	mock_qmp_expect(m, "device_add", NULL);
	mock_qmp_reply(m, "{}");
}

/* QEMU's part of a migration that gets as far as `migrate`, which QEMU then refuses. */
static void qmp_migrate_to_our_address(mock_qmp *m)
{
	qmp_unplug(m);
	mock_qmp_expect(m, "migrate-set-capabilities", NULL);
	mock_qmp_reply(m, "{}");
	mock_qmp_expect(m, "migrate-set-parameters", NULL);
	mock_qmp_reply(m, "{}");
	/* The whole point: our config's address for hostB, the peer's port, nothing of its URI. */
	mock_qmp_expect(m, "migrate", "{\"uri\": \"tcp:192.0.2.77:4444\"}");
	mock_qmp_reply_error(m, "GenericError", "the test stops here");
	mock_qmp_expect(m, "migrate_cancel", NULL);
	mock_qmp_reply(m, "{}");
	mock_qmp_expect(m, "query-migrate", NULL);
	mock_qmp_reply(m, "{\"status\": \"failed\"}");
	mock_qmp_expect(m, "query-status", NULL);
	mock_qmp_reply(m, "{\"status\": \"running\", \"running\": true}");
	qmp_replug(m);
}

/*
 * The guest's side of the VF leaving and coming back: once traffic is on the standby (the unplug
 * follows), the VF is no longer the bond's; after the replug it is a free interface that the
 * rollback enslaves and makes active again.
 */
static bool vf_left_the_bond;

static void guest_unplugs_and_replugs(void)
{
	if (!vf_left_the_bond && fake_link("bond0")->active_slave == 4) {
		fake_link("eth0")->master = 0;
		vf_left_the_bond = true;
	}
}

/* The unplug of a migration whose prepare then fails: the VF goes, and comes back. */
static void qmp_unplug_then_replug(mock_qmp *m)
{
	qmp_unplug(m);
	qmp_replug(m);
}

/*
 * A destination that holds a VF (`reserved`) lets the source switch to the standby and unplug
 * while its QEMU starts; when that prepare then fails, all of it is undone: the VF plugged
 * again and active, the prepare aborted once it answered (migrate_against() asserts the VM
 * whole and the calls the peer got; peer_handle() that the abort came after the answer).
 */
TEST(prepare_fails_after_the_unplug_ran_during_it)
{
	peer_script s = { .reserved_then_fails = true, .prepare_error = "failed",
			  .prepare_error_message = "QEMU did not start" };

	vf_left_the_bond = false;
	seen.result = NULL;
	keep_result = true;
	migrate_against(&s, qmp_unplug_then_replug, guest_unplugs_and_replugs,
			"could not prepare: QEMU did not start", AFTER_PREPARE);
	keep_result = false;
	ASSERT_TRUE(prepare_answered);
	ASSERT_STREQ(phase_state_of(seen.result, "standby"), "undone");
	ASSERT_STREQ(phase_state_of(seen.result, "unplug"), "undone");
	ASSERT_STREQ(phase_state_of(seen.result, "prepare"), "undone");
	json_object_put(TAKE_PTR(seen.result));
}

/* `reserved` on another call is no reservation: a prepare that fails leaves the guest untouched. */
TEST(reserved_from_the_check_is_no_reservation)
{
	peer_script s = { .check_says_reserved = true, .prepare_error = "failed",
			  .prepare_error_message = "hostB has no free passthrough device" };

	/* migrate_against(): QEMU is asked query-status only; the bond never left the VF. */
	migrate_against(&s, NULL, NULL, "could not prepare: hostB has no free passthrough device",
			AFTER_PREPARE);
}

TEST(extra_uri_is_ignored)
{
	vf_left_the_bond = false;
	peer_script s = { .prepare = "{" PREPARED ", \"port\": 4444, \"uri\": \"exec:sh -c 'touch /tmp/pwned'\","
				     " \"address\": \"198.51.100.7\"}" };

	migrate_against(&s, qmp_migrate_to_our_address, guest_unplugs_and_replugs, "QEMU refused to migrate: the test stops here",
			AFTER_PREPARE);
}

/*
 * What vf_steering sent to the PF and the bridge, each with where the guest's traffic was then:
 * the bond's active slave (eth0 the VF, vf0 the standby), whether the VF was in the bond, and
 * whether QEMU still had it.
 */
static struct {
	char calls[10][128];
	int n;
} sent;

static void sent_add(const char *what)
{
	const agent_link *bond = fake_link("bond0"), *vf = fake_link("eth0");

	ASSERT_TRUE(sent.n < (int)ELEMENTSOF(sent.calls));
	snprintf(sent.calls[sent.n++], sizeof(sent.calls[0]), "%s; active %s, VF %s the bond, %s", what,
		 bond->active_slave == 3 ? "eth0" : bond->active_slave == 4 ? "vf0" : "?",
		 vf && vf->master == 2 ? "in" : "out of", vm_is_vf_plugged(vm_find(hostA, "vm1")) ? "plugged" : "unplugged");
}

static int record_vf_change(void *userdata, int pf_ifindex, unsigned vf, const vf_change *c)
{
	char what[64];

	snprintf(what, sizeof(what), "VF %u MAC %s", vf,
		 !c->set_mac ? "kept" : c->mac[5] ? "the VM's" : "cleared");
	sent_add(what);
	return 0;
}

static int record_fdb(void *userdata, int port_ifindex, const uint8_t mac[6], bool add)
{
	sent_add(add ? "bridge entry added" : "bridge entry removed");
	return 0;
}

TEST(the_source_vf_loses_the_mac_at_the_standby_switch)
{
	static const vf_steering_ops recorder = { .vf_change = record_vf_change,
						   .fdb = record_fdb };
	static const char *const want[] = {
		/*
		 * standby: the agent said the bond moved to the standby (this fake guest then lets
		 * the VF go at once); the VF, still in QEMU, loses the MAC now, not after the unplug
		 */
		"VF 0 MAC cleared; active vf0, VF out of the bond, plugged",
		"bridge entry added; active vf0, VF out of the bond, plugged",
		/* unplug: once the guest let it go, cleared again (what the guest set is undone) */
		"VF 0 MAC cleared; active vf0, VF out of the bond, unplugged",
		"bridge entry added; active vf0, VF out of the bond, unplugged",
		/* rollback: the replugged VF gets it back once the guest made it the active slave ... */
		"VF 0 MAC the VM's; active eth0, VF in the bond, plugged",
		"bridge entry removed; active eth0, VF in the bond, plugged",
		/* ... and standby's undo, before the bond is told to go back to it, sets it again */
		"VF 0 MAC the VM's; active eth0, VF in the bond, plugged",
		"bridge entry removed; active eth0, VF in the bond, plugged",
		/* the test's teardown: vm_forget() releases the VF */
		"VF 0 MAC cleared; active eth0, VF in the bond, plugged",
	};
	host_fixture fx;
	peer_script s = { 0 };

	fx_init(&fx);
	fx.vf_driver = NULL;
	fx_pf(&fx, SRIOV_PF, "enp7s0f1", 7);
	sriov_host = &fx;
	memset(&sent, 0, sizeof(sent));
	vf_steering_set_ops(&recorder);
	vf_left_the_bond = false;
	migrate_against(&s, qmp_migrate_to_our_address, guest_unplugs_and_replugs,
			"QEMU refused to migrate: the test stops here", AFTER_PREPARE);
	vf_steering_set_ops(NULL);
	sriov_host = NULL;
	for (int i = 0; i < sent.n; i++)
		fprintf(stderr, "   %s\n", sent.calls[i]);
	ASSERT_EQ(sent.n, (int)ELEMENTSOF(want));
	for (size_t i = 0; i < ELEMENTSOF(want); i++)
		ASSERT_STREQ(sent.calls[i], want[i]);
	fx_cleanup(&fx);
}

int main(void)
{
	log_set_max_level(LOG_WARNING);
	signal(SIGPIPE, SIG_IGN);
	ASSERT_TRUE(mkdtemp(tmp) != NULL);
	ASSERT_OK(uv_loop_init(&loop));
	ASSERT_OK(uv_timer_init(&loop, &prepare_timer));
	RUN_TEST(lies_in_hello);
	RUN_TEST(lies_in_peer_check);
	RUN_TEST(lies_in_peer_prepare);
	RUN_TEST(lies_in_error_replies);
	RUN_TEST(link_breaks_at_prepare);
	RUN_TEST(preflight_fails_while_prepare_is_in_flight);
	RUN_TEST(preflight_fails_after_prepare_succeeded);
	RUN_TEST(extra_uri_is_ignored);
	RUN_TEST(prepare_fails_after_the_unplug_ran_during_it);
	RUN_TEST(reserved_from_the_check_is_no_reservation);
	RUN_TEST(the_source_vf_loses_the_mac_at_the_standby_switch);
	return 0;
}
