// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dmigrated's `start` of a VM spec naming a libvirt domain (docs/libvirt.md), against libvirt's
 * in-process test driver with the netns lab's domain (examples/libvirt/vm1-emulated.xml): the
 * running domain is taken over with a VF of the pool, listed, and stopped through libvirt; a
 * domain that does not exist, one without a VF, and a transient one asked to persist are each
 * refused with the reason, nothing taken. `evacuate --dry-run` plans the taken-over domain (it
 * has no QEMU pid of dmigrated's) with the domain's 256 MiB against what the peer (a scripted
 * one) has free, and leaves it out while it is detached for an engine's migration.
 * argv[1]: the source tree.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libvirt/libvirt.h>

#include "daemon/daemon.h"
#include "daemon_fixture.h"
#include "fake_daemon.h"
#include "host/vm.h"
#include "libvirt/virt_connection.h"
#include "libvirt/virt_event.h"
#include "log.h"
#include "migration/migration_journal.h"
#include "migration/migration_phase.h"
#include "test.h"
#include "transport/rpc_conn.h"

static uv_loop_t loop;
static char tmp[] = "/tmp/test-daemon-libvirt.XXXXXX";
static char peer_tmp[] = "/tmp/test-daemon-libvirt-peer.XXXXXX";
static host_daemon d;
/* What the scripted hostB answers to peer-check. */
static const char *peer_check_answer;

typedef daemon_fixture_answer answer;

static answer call(rpc_conn *c, const char *cmd, const char *args_json)
{
	return daemon_fixture_call(&loop, c, cmd, args_json, 5000);
}

/* A spec file naming domain; its path. */
static char *spec_file(const char *name, const char *domain)
{
	char *path;
	FILE *f;

	ASSERT_TRUE(asprintf(&path, "%s/%s.json", tmp, name) > 0);
	f = fopen(path, "we");
	ASSERT_TRUE(f);
	fprintf(f, "{\"name\": \"%s\", \"libvirt\": {\"domain\": \"%s\", \"uri\": \"test:///default\"}}",
		name, domain);
	ASSERT_OK(fclose(f));
	return path;
}

static void start_refused(rpc_conn *c, const char *name, const char *domain, const char *says)
{
	_cleanup_free_ char *path = spec_file(name, domain), *args = NULL;
	answer a;

	ASSERT_TRUE(asprintf(&args, "{\"spec\": \"%s\"}", path) > 0);
	a = call(c, "start", args);
	ASSERT_EQ(a.error, -EREMOTEIO);
	if (!strstr(a.message, says))
		TEST_FAIL("start of %s answered '%s', which does not say '%s'", name, a.message, says);
	/* Nothing taken. */
	ASSERT_EQ(vf_pool_count_free(d.pool), 1);
	ASSERT_TRUE(!vm_find(&d, name));
}

static virDomainPtr create_from_example(virConnectPtr conn, const char *root, const char *name,
					bool persistent)
{
	char path[4096], *xml = calloc(1, 1 << 20), *p;
	virDomainPtr dom;
	FILE *f;

	snprintf(path, sizeof(path), "%s/examples/libvirt/vm1-emulated.xml", root);
	f = fopen(path, "re");
	ASSERT_TRUE(xml && f && fread(xml, 1, (1 << 20) - 1, f) > 0);
	fclose(f);
	p = strstr(xml, "<name>vm1</name>");
	ASSERT_TRUE(p);
	memcpy(p + 6, name, 3);
	if (persistent) {
		dom = virDomainDefineXML(conn, xml);
		ASSERT_TRUE(dom && virDomainCreate(dom) == 0);
	} else
		dom = virDomainCreateXML(conn, xml, 0);
	ASSERT_TRUE(dom);
	free(xml);
	return dom;
}

static void peer_handle(fake_daemon *f, rpc_request *req, const char *cmd, json_object *args,
			void *userdata)
{
	if (strcmp(cmd, "peer-check")) {
		rpc_request_reply_error(req, "failed", "the script has no answer to %s", cmd);
		return;
	}
	rpc_request_reply(req, json_tokener_parse(peer_check_answer));
}

/* hostA's `evacuate --dry-run` onto hostB, whose peer-check answers check: the plan's VMs. */
static answer plan(rpc_conn *c, const char *check)
{
	answer a;

	peer_check_answer = check;
	a = call(c, "evacuate", "{\"host\": \"hostA\", \"dry_run\": true}");
	if (a.error)
		TEST_FAIL("evacuate --dry-run: %s", a.message);
	return a;
}

static void evacuation_plan_checks(rpc_conn *c)
{
	migration_journal parked = { .vm = "vm1", .role = "source", .peer = "hostB",
				     .phase = PHASE_MIGRATE, .hook = true, .vf = "vf0" };
	answer a;

	/* Placed by the domain's own memory (its spec says none), not as a VM needing none. */
	a = plan(c, "{\"free_vfs\": 1, \"memory_available_mib\": 200}");
	if (!strstr(a.ret, "\"vm\":\"vm1\",\"to\":null,\"state\":\"unplaced\"") ||
	    !strstr(a.ret, "hostB: 200 MiB of memory left, it needs 256 MiB"))
		TEST_FAIL("the plan with 200 MiB on hostB: %s", a.ret);
	a = plan(c, "{\"free_vfs\": 1, \"memory_available_mib\": 4096}");
	if (!strstr(a.ret, "\"vms\":[{\"vm\":\"vm1\",\"to\":\"hostB\",\"state\":\"planned\"}]"))
		TEST_FAIL("the plan with 4096 MiB on hostB: %s", a.ret);

	/* Detached (hook mode's finished detach, its journal parked at migrate): the engine
	 * moves it, the evacuation leaves it out. */
	ASSERT_OK(migration_journal_write(&d, &parked));
	a = plan(c, "{\"free_vfs\": 1, \"memory_available_mib\": 4096}");
	if (!strstr(a.ret, "\"vms\":[]"))
		TEST_FAIL("the plan with vm1 detached: %s", a.ret);
	ASSERT_OK(migration_journal_remove(&d, "vm1"));
	/* A dry run changed nothing. */
	ASSERT_TRUE(vm_find(&d, "vm1") && !vm_get_job(vm_find(&d, "vm1")));
	ASSERT_EQ(vf_pool_count_free(d.pool), 0);
}

int main(int argc, char **argv)
{
	_cleanup_free_ char *spec = NULL, *args = NULL, *peers = NULL, *peer_path = NULL;
	virDomainPtr dom, transient;
	fake_daemon *peer;
	virConnectPtr conn;
	char err[512];
	rpc_conn *c;
	answer a;
	int sv[2];

	ASSERT_TRUE(argc == 2);
	log_set_max_level(LOG_WARNING);
	ASSERT_OK(uv_loop_init(&loop));
	ASSERT_OK(virt_event_register(&loop));
	ASSERT_TRUE(mkdtemp(peer_tmp) != NULL);
	ASSERT_TRUE(asprintf(&peer_path, "%s/peer.sock", peer_tmp) > 0);
	ASSERT_TRUE(asprintf(&peers,
			     "{\"hostB\": {\"address\": \"127.0.0.2\", \"link\": \"local\", \"peer_socket\": \"%s\"}}",
			     peer_path) > 0);
	daemon_fixture_open_peers(&d, &loop, tmp, peers);
	ASSERT_OK(fake_daemon_new(&loop, peer_path, peer_handle, NULL, &peer));
	fake_daemon_set_hello(peer, "{\"version\": 2, \"host\": \"hostB\", \"qemu\": \"7.2.0\", \"features\": []}");

	ASSERT_OK(virt_connection_get("test:///default", &conn, err, sizeof(err)));
	dom = create_from_example(conn, argv[1], "vm1", true);
	transient = create_from_example(conn, argv[1], "vm3", false);

	ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_OK(daemon_control_serve_fd(&d, CONTROL_SIDE_CLI, sv[0]));
	ASSERT_OK(rpc_conn_new(&loop, sv[1], &(rpc_conn_callbacks){ 0 }, NULL, &c));
	ASSERT_EQ(call(c, "hello", "{\"version\": 2}").error, 0);

	start_refused(c, "vnosuch", "nosuch",
		      "Cannot take over libvirt domain 'nosuch' as VM 'vnosuch': libvirt has no domain 'nosuch' on this host");
	/* The test driver's own domain "test" has no VF, no standby, no channel. */
	start_refused(c, "vt", "test", "domain 'test': the domain has no VF");
	start_refused(c, "vm3", "vm3", "domain 'vm3' is transient");

	spec = spec_file("vm1", "vm1");
	ASSERT_TRUE(asprintf(&args, "{\"spec\": \"%s\"}", spec) > 0);
	a = call(c, "start", args);
	if (a.error)
		TEST_FAIL("start: %s", a.message);
	if (!strstr(a.ret, "\"name\":\"vm1\"") || !strstr(a.ret, "\"state\":\"running\"") ||
	    !strstr(a.ret, "\"libvirt_domain\":\"vm1\""))
		TEST_FAIL("start answered %s", a.ret);
	ASSERT_EQ(vf_pool_count_free(d.pool), 0);
	a = call(c, "list", NULL);
	ASSERT_TRUE(strstr(a.ret, "\"vm1\""));
	/* Twice is refused: one VM per name. */
	a = call(c, "start", args);
	ASSERT_TRUE(a.error && strstr(a.message, "A VM named 'vm1' exists on hostA already"));
	evacuation_plan_checks(c);

	/* Stopped through libvirt: the domain is destroyed, the VF back in the pool. */
	a = call(c, "stop", "{\"vm\": \"vm1\"}");
	if (a.error)
		TEST_FAIL("stop: %s", a.message);
	ASSERT_EQ(virDomainIsActive(dom), 0);
	ASSERT_EQ(vf_pool_count_free(d.pool), 1);
	ASSERT_TRUE(!vm_find(&d, "vm1"));

	rpc_conn_close(c);
	fake_daemon_free(peer);
	for (int i = 0; i < 20; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	unlink(peer_path);
	rmdir(peer_tmp);
	virDomainUndefine(dom);
	virDomainFree(dom);
	virDomainDestroy(transient);
	virDomainFree(transient);
	virt_connections_close();
	vf_pool_free(d.pool);
	host_config_free(d.config);
	free(d.qemu_version);
	return 0;
}
