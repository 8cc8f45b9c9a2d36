// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A destination dmigrated that restarts during an incoming migration of a libvirt domain
 * (docs/libvirt.md, "A destination daemon that restarts"), on libvirt's in-process test driver
 * with the netns lab's domain (examples/libvirt/vm1-emulated.xml). What the killed daemon left
 * (the VM's record, incoming and holding the pool's VF, and its destination journal) is read by
 * the restart's own code, vm_registry_load() and migration_dest_recover(), on a daemon of this
 * process; the source's word comes over the peer socket, as the source's daemon sends it.
 *
 * - the domain arrived while the daemon was down: bound again and resumed, the VF kept;
 * - still on its way: the VM kept, its VF reserved, until the source's switchover finds it;
 * - the source aborts a copy that never brought the domain: undone, the VF freed;
 * - it ran here after the switchover: bound again, its phases finished, committed;
 * - it is gone after the switchover: lost, the VF freed, until the source hears it.
 * argv[1]: the source tree.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "daemon/daemon.h"
#include "daemon/state_file.h"
#include "daemon_fixture.h"
#include "host/vm.h"
#include "libvirt/domain_xml.h"
#include "libvirt/virt_connection.h"
#include "libvirt/virt_event.h"
#include "log.h"
#include "migration/migration_job.h"
#include "migration/migration_journal.h"
#include "migration/migration_phase.h"
#include "migration/vm_backend.h"
#include "test.h"
#include "transport/rpc_conn.h"

static uv_loop_t loop;
static char tmp[] = "/tmp/test-dest-recover-libvirt.XXXXXX";
static host_daemon d;
static virConnectPtr conn;
static rpc_conn *source; /* the peer socket, as hostB's daemon (the source) speaks on it */
static char *example;    /* vm1-emulated.xml */

typedef daemon_fixture_answer answer;

static void run_until(bool *cond)
{
	for (int i = 0; i < 10000 && !*cond; i++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		if (!*cond)
			usleep(1000);
	}
}

/* The source's peer-* command about vm name. */
static answer source_says(const char *cmd, const char *name)
{
	_cleanup_free_ char *args = NULL;

	ASSERT_TRUE(asprintf(&args, "{\"vm\": \"%s\"}", name) > 0);
	return daemon_fixture_call(&loop, source, cmd, args, 10000);
}

static vm_spec *libvirt_spec(const char *name)
{
	char text[256];
	vm_spec *s = NULL;

	snprintf(text, sizeof(text),
		 "{\"name\": \"%s\", \"libvirt\": {\"domain\": \"%s\", \"uri\": \"test:///default\"}}",
		 name, name);
	ASSERT_OK(vm_spec_parse(text, strlen(text), "test", "/", &s, NULL));
	return s;
}

static char *record_path(const char *name)
{
	char *path;

	ASSERT_TRUE(asprintf(&path, "%s/vms/%s.json", d.config->state_dir, name) > 0);
	return path;
}

/*
 * What a destination daemon killed mid-migration leaves: VM name's record (incoming, holding the
 * pool's VF) and its journal at phase, resumed or not. Written by the daemon's own code; the
 * in-memory VM then goes as the killed process's did (its record written back).
 */
static void daemon_killed(const char *name, dest_phase phase, bool resumed)
{
	_cleanup_free_ char *path = record_path(name);
	_cleanup_json_ json_object *record = NULL;
	migration_journal jr = { .vm = (char *)name, .role = (char *)"destination",
				 .peer = (char *)"hostB", .phase = (int)phase, .resumed = resumed,
				 .deadline_ms = (uint64_t)time(NULL) * 1000 + 3600000 };
	const char *vf;
	vm *v;

	ASSERT_OK(vm_new(&d, libvirt_spec(name), &v));
	ASSERT_OK(vf_pool_reserve(d.pool, name, &vf));
	ASSERT_OK(vm_hold_vf(v, vf));
	vm_set_incoming(v, true);
	ASSERT_OK(vm_save(v));
	ASSERT_OK(state_file_read(path, &record));
	vm_forget(v);
	ASSERT_OK(state_file_write(path, record));
	ASSERT_OK(migration_journal_write(&d, &jr));
	ASSERT_EQ(vf_pool_count_free(d.pool), 1);
}

/* dmigrated starts again: its registry, then its journals, as dmigrated_main.c orders them. */
static void daemon_restarts(void)
{
	ASSERT_OK(vm_registry_load(&d));
	ASSERT_OK(migration_dest_recover(&d));
}

/*
 * Domain name as libvirt's migration leaves it here: running from the example's XML without
 * the VF (paused for the switchover unless running), the VF's element in its metadata.
 */
static virDomainPtr domain_arrives(const char *name, bool paused)
{
	_cleanup_free_ char *xml = NULL, *meta = NULL;
	domain_devices dev;
	virDomainPtr dom;
	char err[512], *p;

	ASSERT_OK(domain_xml_parse(example, strlen(example), &dev, err, sizeof(err)));
	ASSERT_OK(domain_xml_without_vf(example, strlen(example), &xml, err, sizeof(err)));
	p = strstr(xml, "<name>vm1</name>");
	ASSERT_TRUE(p && strlen(name) == 3);
	p[8] = name[2];
	dom = virDomainCreateXML(conn, xml, 0);
	if (!dom)
		TEST_FAIL("create %s: %s", name, virGetLastErrorMessage());
	if (paused)
		ASSERT_EQ(virDomainSuspend(dom), 0);
	ASSERT_OK(domain_xml_vf_metadata(dev.vf_xml, &meta));
	ASSERT_EQ(virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, meta,
				       DOMAIN_XML_VF_METADATA_PREFIX, DOMAIN_XML_VF_METADATA_NS,
				       VIR_DOMAIN_AFFECT_LIVE), 0);
	domain_devices_done(&dev);
	return dom;
}

static int domain_state(virDomainPtr dom)
{
	int state, reason;

	ASSERT_EQ(virDomainGetState(dom, &state, &reason, 0), 0);
	return state;
}

static bool journal_exists(const char *name)
{
	_cleanup_json_ json_object *o = NULL;
	migration_journal jr;

	if (migration_journal_read(&d, name, &o, &jr) < 0)
		return false;
	return true;
}

/* The job's journal says it resumed the VM here (read fresh each time). */
static bool journal_resumed(const char *name)
{
	_cleanup_json_ json_object *o = NULL;
	migration_journal jr;

	return migration_journal_read(&d, name, &o, &jr) == 0 && jr.resumed;
}

/*
 * The journal says resumed before the domain is (the point of no return is recorded before it
 * is passed), and libvirt's resume runs on the backend's thread: wait for both.
 */
static void wait_resumed(const char *name, virDomainPtr dom)
{
	bool resumed = false;

	for (int i = 0; i < 10000 &&
			!(resumed = journal_resumed(name) && domain_state(dom) == VIR_DOMAIN_RUNNING);
	     i++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
	ASSERT_TRUE(journal_resumed(name));
	ASSERT_EQ(domain_state(dom), VIR_DOMAIN_RUNNING);
}

/* The source lets its side go: the destination commits; the VM is this host's, running. */
static void source_commits(const char *name, virDomainPtr dom)
{
	answer a = source_says("peer-commit", name);
	vm *v = vm_find(&d, name);

	if (a.error)
		TEST_FAIL("peer-commit of %s: %s", name, a.message);
	ASSERT_TRUE(v && !vm_is_incoming(v) && !journal_exists(name));
	ASSERT_STREQ(vm_status_name(vm_get_status(v)), "running");
	ASSERT_EQ(domain_state(dom), VIR_DOMAIN_RUNNING);
	ASSERT_EQ(vf_pool_count_free(d.pool), 0);
}

static void on_stopped(vm *v, int error, const char *message, void *userdata)
{
	if (error < 0)
		TEST_FAIL("stop of %s: %s", vm_get_name(v), message ?: strerror(-error));
	/* As `dmigrate stop` does once the domain is gone. */
	vm_forget(v);
	*(bool *)userdata = true;
}

/* The test's end of a VM that runs here: stopped through libvirt, its VF back in the pool. */
static void vm_done(const char *name, virDomainPtr dom)
{
	vm *v = vm_find(&d, name);
	bool stopped = false;

	ASSERT_TRUE(v);
	ASSERT_OK(vm_backend_of(v)->stop(v, true, on_stopped, &stopped));
	run_until(&stopped);
	ASSERT_TRUE(stopped && !vm_find(&d, name));
	/* Transient here, as libvirt's migration without PERSIST_DEST leaves it: gone. */
	ASSERT_TRUE(virDomainIsActive(dom) != 1);
	ASSERT_EQ(vf_pool_count_free(d.pool), 1);
	virDomainFree(dom);
}

/* libvirt's copy completed while the daemon was down: the switchover is the destination's. */
static void arrived_while_down(void)
{
	virDomainPtr dom;
	vm *v;

	daemon_killed("vm2", DEST_INCOMING, false);
	dom = domain_arrives("vm2", true);
	daemon_restarts();
	v = vm_find(&d, "vm2");
	ASSERT_TRUE(v && vm_backend_of(v)->arrived(v));
	ASSERT_EQ(vf_pool_count_free(d.pool), 0);
	wait_resumed("vm2", dom);
	source_commits("vm2", dom);
	vm_done("vm2", dom);
}

/* Still copying (or not begun) at the restart: kept, unbound, until the source switches over. */
static void arriving(void)
{
	virDomainPtr dom;
	answer a;
	vm *v;

	daemon_killed("vm3", DEST_INCOMING, false);
	daemon_restarts();
	v = vm_find(&d, "vm3");
	ASSERT_TRUE(v && vm_is_incoming(v) && !vm_backend_of(v)->arrived(v));
	ASSERT_EQ(vf_pool_count_free(d.pool), 0);
	for (int i = 0; i < 50; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	ASSERT_TRUE(vm_find(&d, "vm3") == v && journal_exists("vm3"));
	/* Its copy completes; the source, its call repeated over a new link, switches over. */
	dom = domain_arrives("vm3", true);
	a = source_says("peer-switchover", "vm3");
	if (a.error)
		TEST_FAIL("peer-switchover: %s", a.message);
	ASSERT_TRUE(vm_backend_of(v)->arrived(v));
	ASSERT_EQ(domain_state(dom), VIR_DOMAIN_RUNNING);
	source_commits("vm3", dom);
	vm_done("vm3", dom);
}

/* The source's copy failed or was cancelled: the incoming half undone, nothing destroyed. */
static void aborted(void)
{
	answer a;

	daemon_killed("vm4", DEST_INCOMING, false);
	daemon_restarts();
	a = source_says("peer-abort", "vm4");
	if (a.error)
		TEST_FAIL("peer-abort: %s", a.message);
	ASSERT_TRUE(!vm_find(&d, "vm4") && !journal_exists("vm4"));
	ASSERT_EQ(vf_pool_count_free(d.pool), 1);
	/* The source may resume its own copy now. */
	a = source_says("peer-switchover", "vm4");
	ASSERT_STREQ(a.code, DEST_ERR_NOT_RUNNING);
}

/* It ran here before the kill: found again and kept, its phases finished from the journal. */
static void ran_here(void)
{
	virDomainPtr dom;
	vm *v;

	daemon_killed("vm5", DEST_PLUG, true);
	dom = domain_arrives("vm5", false);
	daemon_restarts();
	v = vm_find(&d, "vm5");
	ASSERT_TRUE(v && vm_backend_of(v)->arrived(v));
	ASSERT_STREQ(vm_status_name(vm_get_status(v)), "running");
	source_commits("vm5", dom);
	vm_done("vm5", dom);
}

/* Its domain is gone after the switchover (destroyed while the daemon was down): lost. */
static void gone_after_switchover(void)
{
	answer a;

	daemon_killed("vm6", DEST_ACTIVE, true);
	daemon_restarts();
	ASSERT_TRUE(!vm_find(&d, "vm6"));
	ASSERT_EQ(vf_pool_count_free(d.pool), 1);
	/* Kept, saying lost, until the source heard it. */
	ASSERT_TRUE(journal_exists("vm6"));
	a = source_says("peer-plug", "vm6");
	ASSERT_STREQ(a.code, DEST_ERR_LOST);
	a = source_says("peer-commit", "vm6");
	ASSERT_STREQ(a.code, DEST_ERR_LOST);
	ASSERT_TRUE(!journal_exists("vm6"));
}

int main(int argc, char **argv)
{
	_cleanup_free_ char *path = NULL;
	char err[512];
	int sv[2];
	FILE *f;

	ASSERT_TRUE(argc == 2);
	log_set_max_level(LOG_WARNING);
	ASSERT_OK(uv_loop_init(&loop));
	ASSERT_OK(virt_event_register(&loop));
	daemon_fixture_open_peers(&d, &loop, tmp,
				  "{\"hostB\": {\"address\": \"127.0.0.2\", \"link\": \"local\", \"peer_socket\": \"/nonexistent\"}}");
	ASSERT_OK(virt_connection_get("test:///default", &conn, err, sizeof(err)));
	example = calloc(1, DOMAIN_XML_MAX);
	ASSERT_TRUE(asprintf(&path, "%s/examples/libvirt/vm1-emulated.xml", argv[1]) > 0);
	f = fopen(path, "re");
	ASSERT_TRUE(example && f && fread(example, 1, DOMAIN_XML_MAX - 1, f) > 0);
	fclose(f);

	ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_OK(daemon_control_serve_fd(&d, CONTROL_SIDE_PEER, sv[0]));
	ASSERT_OK(rpc_conn_new(&loop, sv[1], &(rpc_conn_callbacks){ 0 }, NULL, &source));
	ASSERT_EQ(daemon_fixture_call(&loop, source, "hello", "{\"version\": 2}", 5000).error, 0);

	/* Its first start: nothing to find. */
	ASSERT_OK(vm_registry_load(&d));
	arrived_while_down();
	arriving();
	aborted();
	ran_here();
	gone_after_switchover();

	rpc_conn_close(source);
	for (int i = 0; i < 20; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	free(example);
	virt_connections_close();
	vf_pool_free(d.pool);
	host_config_free(d.config);
	free(d.qemu_version);
	return 0;
}
