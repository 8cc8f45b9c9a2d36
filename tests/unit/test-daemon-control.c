// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dmigrated's dispatch (daemon/daemon_control.c) as a client or a peer meets it: the socket a
 * connection came in on decides which commands exist (peer-* only on the peer socket, the CLI's
 * only on the control socket), hello comes first and once, the version and features settled in
 * it bound what follows, and every request is checked against the protocol table before a
 * handler runs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon_fixture.h"
#include "log.h"
#include "test.h"
#include "transport/rpc_conn.h"

static uv_loop_t loop;
static char tmp[] = "/tmp/test-daemon-control.XXXXXX";
static host_daemon d;

typedef daemon_fixture_answer answer;

static rpc_conn *connect_as(control_side side)
{
	rpc_conn *c;
	int sv[2];

	ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_OK(daemon_control_serve_fd(&d, side, sv[0]));
	ASSERT_OK(rpc_conn_new(&loop, sv[1], &(rpc_conn_callbacks){ 0 }, NULL, &c));
	return c;
}

/* Send one request and wait for its answer. */
static answer call(rpc_conn *c, const char *cmd, const char *args_json)
{
	return daemon_fixture_call(&loop, c, cmd, args_json, 5000);
}

static void expect_error(rpc_conn *c, const char *cmd, const char *args_json, const char *code,
			 const char *in_message)
{
	answer a = call(c, cmd, args_json);

	ASSERT_EQ(a.error, -EREMOTEIO);
	ASSERT_STREQ(a.code, code);
	if (!strstr(a.message, in_message))
		TEST_FAIL("'%s' answered '%s', which does not say '%s'", cmd, a.message, in_message);
}

static void expect_ok(rpc_conn *c, const char *cmd, const char *args_json, const char *ret)
{
	answer a = call(c, cmd, args_json);

	if (a.error != 0)
		TEST_FAIL("'%s' failed: %s %s", cmd, a.code, a.message);
	if (ret)
		ASSERT_STREQ(a.ret, ret);
}

static void hang_up(rpc_conn *c)
{
	rpc_conn_close(c);
	for (int i = 0; i < 20; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
}

TEST(hello_first_and_once)
{
	rpc_conn *c = connect_as(CONTROL_SIDE_CLI);

	expect_error(c, "list", NULL, "protocol-error", "must be 'hello', not 'list'");
	expect_error(c, "hello", "{\"version\": \"2\"}", "invalid-argument", "argument 'version' of 'hello' must be an integer");
	expect_error(c, "hello", "{}", "invalid-argument", "'hello' needs argument 'version'");
	expect_ok(c, "hello", "{\"version\": 2, \"features\": [\"fault-injection\", \"teleport\"]}",
		  "{\"version\":2,\"host\":\"hostA\",\"qemu\":\"QEMU emulator version 7.2.0\",\"features\":[]}");
	expect_error(c, "hello", "{\"version\": 2}", "protocol-error", "'hello' was sent twice");
	expect_ok(c, "list", NULL, "{\"vms\":[]}");
	hang_up(c);
}

TEST(each_socket_serves_its_own_commands)
{
	rpc_conn *cli = connect_as(CONTROL_SIDE_CLI), *peer = connect_as(CONTROL_SIDE_PEER);

	expect_ok(cli, "hello", "{\"version\": 2}", NULL);
	expect_ok(peer, "hello", "{\"version\": 2}", NULL);
	/* The CLI's socket has no peer commands, whatever the client says it is. */
	expect_error(cli, "peer-abort", "{\"vm\": \"vm1\"}", "unknown-command", "Unknown command 'peer-abort' on hostA's control socket");
	expect_error(cli, "peer-prepare", "{\"vm\": \"vm1\"}", "unknown-command", "control socket");
	/* A peer cannot start, stop, list or migrate anything. */
	expect_error(peer, "migrate", "{\"vm\": \"vm1\", \"to\": \"hostB\"}", "unknown-command", "Unknown command 'migrate' on hostA's peer socket");
	expect_error(peer, "start", "{\"spec\": \"/etc/vm1.json\"}", "unknown-command", "peer socket");
	expect_error(peer, "list", NULL, "unknown-command", "peer socket");
	/* A peer gets this host's doctor through peer-doctor, which cannot ask on to a third host. */
	expect_error(peer, "doctor", "{\"peer\": \"hostC\"}", "unknown-command", "peer socket");
	expect_error(cli, "peer-doctor", NULL, "unknown-command", "control socket");
	/* Each still serves its own: an abort of a VM that is not there is done already. */
	expect_ok(peer, "peer-abort", "{\"vm\": \"vm1\"}", NULL);
	expect_ok(cli, "list", NULL, "{\"vms\":[]}");
	hang_up(cli);
	hang_up(peer);
}

TEST(arguments_checked_against_the_table)
{
	rpc_conn *c = connect_as(CONTROL_SIDE_CLI), *p = connect_as(CONTROL_SIDE_PEER);

	expect_ok(c, "hello", "{\"version\": 2}", NULL);
	expect_ok(p, "hello", "{\"version\": 2}", NULL);
	expect_error(c, "status", "{\"vm\": \"vm1; reboot\"}", "invalid-argument", "argument 'vm' of 'status' must be a name");
	expect_error(c, "status", "{}", "invalid-argument", "'status' needs argument 'vm'");
	expect_error(c, "status", "{\"vm\": \"vm1\", \"verbose\": true}", "invalid-argument", "'status' takes no argument 'verbose'");
	expect_error(c, "start", "{\"spec\": \"vm1.json\"}", "invalid-argument", "must be an absolute path");
	expect_error(c, "stop", "{\"vm\": \"vm1\", \"force\": \"yes\"}", "invalid-argument", "argument 'force' of 'stop' must be true or false");
	expect_error(c, "status", "{\"vm\": \"vm1\"}", "not-found", "No VM named 'vm1'");
	expect_error(p, "peer-prepare", "{\"vm\": \"vm1\", \"spec\": \"{}\", \"settings\": {}, \"from\": \"hostB\"}",
		     "invalid-argument", "argument 'spec' of 'peer-prepare' must be a JSON object");
	expect_error(p, "peer-prepare",
		     "{\"vm\": \"vm1\", \"spec\": {}, \"settings\": {}, \"from\": \"hostB\", \"did\": 1}",
		     "invalid-argument", "argument 'did' of 'peer-prepare' must be true or false");
	expect_error(p, "peer-switchover", "{\"vm\": \"vm1\", \"did\": true}", "invalid-argument",
		     "'peer-switchover' takes no argument 'did'");
	hang_up(c);
	hang_up(p);
}

TEST(versions_and_features)
{
	rpc_conn *c = connect_as(CONTROL_SIDE_CLI), *p = connect_as(CONTROL_SIDE_PEER);

	/* An older CLI is served in its version, without what came later. */
	expect_ok(c, "hello", "{\"version\": 1}",
		  "{\"version\":1,\"host\":\"hostA\",\"qemu\":\"QEMU emulator version 7.2.0\",\"features\":[]}");
	expect_ok(c, "list", NULL, NULL);
	expect_error(c, "cancel", "{\"vm\": \"vm1\"}", "unknown-command", "'cancel' needs protocol version 2");
	hang_up(c);
	/* A newer one settles on ours. */
	c = connect_as(CONTROL_SIDE_CLI);
	expect_ok(c, "hello", "{\"version\": 9, \"min_version\": 1}", NULL);
	expect_ok(c, "list", NULL, NULL);
	hang_up(c);
	/* Peers need version 2: the one where peer-prepare answers a port, never a URI. */
	expect_error(p, "hello", "{\"version\": 1}", "incompatible", "versions 2 to 2 on its peer socket, the client 1 to 1");
	expect_error(p, "hello", "{\"version\": 5, \"min_version\": 3}", "incompatible", "the client 3 to 5");
	hang_up(p);
	/* peer-fault needs fault-injection, which this daemon (fault_injection off) does not offer. */
	p = connect_as(CONTROL_SIDE_PEER);
	expect_ok(p, "hello", "{\"version\": 2, \"features\": [\"fault-injection\"]}", NULL);
	expect_error(p, "peer-fault", "{\"vm\": \"vm1\", \"fault\": {\"name\": \"kill-dest-qemu\"}}", "unknown-command",
		     "feature fault-injection, this connection settled on 2 (this daemon does not offer the feature)");
	hang_up(p);
}

int main(void)
{
	log_set_max_level(LOG_WARNING);
	ASSERT_OK(uv_loop_init(&loop));
	daemon_fixture_open(&d, &loop, tmp);

	RUN_TEST(hello_first_and_once);
	RUN_TEST(each_socket_serves_its_own_commands);
	RUN_TEST(arguments_checked_against_the_table);
	RUN_TEST(versions_and_features);

	vf_pool_free(d.pool);
	host_config_free(d.config);
	free(d.qemu_version);
	return 0;
}
