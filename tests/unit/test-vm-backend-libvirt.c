// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The libvirt backend (libvirt/vm_backend_libvirt.h) on libvirt's in-process test driver
 * (test:///default, no libvirtd), with the netns lab's domain (examples/libvirt/vm1-emulated.xml):
 * binding chooses the backend, its calls run off the loop and answer on it (state, resume,
 * the plug of a VF that never left, stop), and what the test driver cannot do (detach, job
 * statistics, job abort) comes back as libvirt's refusal, with its words. The VF's element is
 * kept in the domain's metadata. A VM from a spec naming a domain is adopted; a destination's
 * VM waits for its domain to arrive (libvirt's migration creates it), then binds it. argv[1]:
 * the source tree.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "libvirt/domain_xml.h"
#include "libvirt/virt_connection.h"
#include "libvirt/virt_domain.h"
#include "libvirt/virt_event.h"
#include "libvirt/vm_backend_libvirt.h"
#include "test.h"

static uv_loop_t *loop;

static struct {
	bool done;
	int error;
	char message[512];
	char status[32];
	char error_desc[512];
} out;

static void on_reply(int error, json_object *ret, const char *message, void *userdata)
{
	json_object *s;

	out.done = true;
	out.error = error;
	snprintf(out.message, sizeof(out.message), "%s", message ? message : "");
	out.status[0] = out.error_desc[0] = '\0';
	if (ret && json_object_object_get_ex(ret, "status", &s))
		snprintf(out.status, sizeof(out.status), "%s", json_object_get_string(s));
	if (ret && json_object_object_get_ex(ret, "error-desc", &s))
		snprintf(out.error_desc, sizeof(out.error_desc), "%s", json_object_get_string(s));
}

static void on_stopped(vm *v, int error, const char *message, void *userdata)
{
	on_reply(error, NULL, message, userdata);
}

/* Run the loop until the call answered; it must not have answered inside the call. */
static void wait_reply(int r)
{
	ASSERT_OK(r);
	ASSERT_TRUE(!out.done);
	for (int i = 0; i < 500 && !out.done; i++)
		uv_run(loop, UV_RUN_ONCE);
	ASSERT_TRUE(out.done);
	out.done = false;
}

static void on_tick(uv_timer_t *t)
{
}

static char *slurp_example(const char *root)
{
	char path[4096];
	char *xml = calloc(1, DOMAIN_XML_MAX);
	FILE *f;

	snprintf(path, sizeof(path), "%s/examples/libvirt/vm1-emulated.xml", root);
	f = fopen(path, "re");
	ASSERT_TRUE(xml && f && fread(xml, 1, DOMAIN_XML_MAX - 1, f) > 0);
	fclose(f);
	return xml;
}

static vm_spec *libvirt_spec(const char *domain)
{
	char text[256];
	vm_spec *s = NULL;

	snprintf(text, sizeof(text),
		 "{\"name\": \"%s\", \"libvirt\": {\"domain\": \"%s\", \"uri\": \"test:///default\"}}",
		 domain, domain);
	ASSERT_OK(vm_spec_parse(text, strlen(text), "test", "/", &s, NULL));
	return s;
}

/* A VM that names no domain: libvirt drives it once bound. */
#define VM0_SPEC                                                                                   \
	"{\"name\": \"vm0\", \"memory_mib\": 256, \"mac\": \"52:54:00:00:00:10\","                 \
	" \"passthrough\": {\"type\": \"emulated\"}, \"boot\": {\"kernel\": \"/boot/vmlinuz\"}}"

/* A VM of d's registry with that spec. */
static vm *registered(host_daemon *d, vm_spec *spec)
{
	vm *v;

	ASSERT_OK(vm_new(d, spec, &v));
	return v;
}

/*
 * The destination's half: nothing to start (libvirt's migration creates the domain), a port for
 * its stream, and the domain bound once it arrived paused, its VF known from its metadata.
 */
static void destination(const char *root, host_daemon *d)
{
	_cleanup_free_ char *xml = slurp_example(root), *arrived = NULL, *meta = NULL;
	const vm_backend *b;
	domain_devices dev;
	virConnectPtr conn;
	virDomainPtr dom;
	char err[512], *p;
	vm *w = registered(d, libvirt_spec("vm2"));

	vm_set_incoming(w, true);
	b = vm_backend_of(w);
	ASSERT_TRUE(b == &vm_backend_libvirt);
	wait_reply(b->incoming_start(w, on_stopped, NULL));
	ASSERT_EQ(out.error, 0);
	wait_reply(b->incoming_listen(w, "tcp:127.0.0.1:0", false, on_reply, NULL));
	ASSERT_EQ(out.error, 0);
	ASSERT_STREQ(out.status, "setup");
	/* Not here yet: the copy has not begun. */
	wait_reply(b->migrate_query(w, on_reply, NULL));
	ASSERT_EQ(out.error, 0);
	ASSERT_STREQ(out.status, "setup");
	wait_reply(b->stop(w, true, on_stopped, NULL));
	ASSERT_EQ(out.error, 0);

	/* It arrives as libvirt's migration leaves it: without the VF, which its metadata keeps,
	 * paused for our switchover. */
	ASSERT_OK(virt_connection_get("test:///default", &conn, err, sizeof(err)));
	ASSERT_OK(domain_xml_parse(xml, strlen(xml), &dev, err, sizeof(err)));
	ASSERT_OK(domain_xml_without_vf(xml, strlen(xml), &arrived, err, sizeof(err)));
	p = strstr(arrived, "<name>vm1</name>");
	ASSERT_TRUE(p);
	p[8] = '2';
	dom = virDomainCreateXML(conn, arrived, 0);
	if (!dom)
		TEST_FAIL("create: %s", virGetLastErrorMessage());
	ASSERT_EQ(virDomainSuspend(dom), 0);
	ASSERT_OK(domain_xml_vf_metadata(dev.vf_xml, &meta));
	ASSERT_EQ(virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, meta,
				       DOMAIN_XML_VF_METADATA_PREFIX, DOMAIN_XML_VF_METADATA_NS,
				       VIR_DOMAIN_AFFECT_LIVE), 0);
	/* Its name is taken now: a second incoming VM of that name is refused, named. */
	wait_reply(b->incoming_start(w, on_stopped, NULL));
	ASSERT_ERRNO(out.error, EEXIST);
	ASSERT_TRUE(strstr(out.message, "a domain named 'vm2' already"));

	wait_reply(b->migrate_query(w, on_reply, NULL));
	if (out.error)
		TEST_FAIL("%s", out.message);
	ASSERT_STREQ(out.status, "completed");
	ASSERT_TRUE(virt_backend_agent_path(w) == NULL || virt_backend_agent_path(w)[0] == '/');
	/* Bound: the VF to plug is the one the metadata kept; the test driver cannot attach. */
	wait_reply(b->vf_plug(w, on_reply, NULL));
	ASSERT_ERRNO(out.error, EIO);
	ASSERT_TRUE(strstr(out.message, "libvirt refused to attach the VF: "));
	/* Arrived and not resumed: its source is gone, so it is never destroyed here. */
	ASSERT_ERRNO(b->stop(w, true, on_stopped, NULL), EBUSY);
	ASSERT_EQ(virDomainIsActive(dom), 1);
	wait_reply(b->resume(w, on_reply, NULL));
	ASSERT_EQ(out.error, 0);
	wait_reply(b->query_status(w, on_reply, NULL));
	ASSERT_STREQ(out.status, "running");

	vm_set_incoming(w, false);
	wait_reply(b->stop(w, true, on_stopped, NULL));
	ASSERT_EQ(out.error, 0);
	virt_backend_unbind(w);
	virDomainFree(dom);
	domain_devices_done(&dev);
	vm_forget(w);
}

/* A VM whose spec names a domain: adopted, or refused with the reason. */
static void adopt(host_daemon *d)
{
	vm *a = registered(d, libvirt_spec("nosuch"));
	char err[512];

	ASSERT_ERRNO(virt_backend_adopt(a, err, sizeof(err)), ENOENT);
	ASSERT_TRUE(strstr(err, "libvirt has no domain 'nosuch'"));
	vm_forget(a);

	a = registered(d, libvirt_spec("vm1"));
	ASSERT_OK(virt_backend_adopt(a, err, sizeof(err)));
	ASSERT_TRUE(vm_backend_of(a) == &vm_backend_libvirt);
	/* The bond's MAC, from the standby, for the VF's steering. */
	ASSERT_STREQ(vm_get_spec(a)->mac, "52:54:00:00:00:11");
	ASSERT_TRUE(!virt_backend_vf_host_pci(a)); /* emulated */
	virt_backend_unbind(a);
	vm_forget(a);
}

/* A running domain NAME (vm1-emulated.xml renamed: NAME is "vmN"), and a VM of that name bound
 * to it. */
static vm *adopted(const char *root, host_daemon *d, const char *name, virDomainPtr *dom)
{
	_cleanup_free_ char *xml = slurp_example(root);
	virConnectPtr conn;
	char err[512], *p;
	vm *v = registered(d, libvirt_spec(name));

	ASSERT_OK(virt_connection_get("test:///default", &conn, err, sizeof(err)));
	p = strstr(xml, "<name>vm1</name>");
	ASSERT_TRUE(p && strlen(name) == 3);
	p[8] = name[2];
	*dom = virDomainDefineXML(conn, xml);
	ASSERT_TRUE(*dom && virDomainCreate(*dom) == 0);
	if (virt_backend_adopt(v, err, sizeof(err)) < 0)
		TEST_FAIL("adopt: %s", err);
	return v;
}

/*
 * A domain that stops while no job drives it (an engine migrated it away, an operator destroyed
 * it) ends its VM here, as a QEMU that exits does: libvirt's lifecycle event, on the loop.
 */
static void left(const char *root, host_daemon *d)
{
	virDomainPtr dom;

	adopted(root, d, "vm3", &dom);
	ASSERT_EQ(virDomainDestroy(dom), 0);
	for (int i = 0; i < 500 && vm_find(d, "vm3"); i++)
		uv_run(loop, UV_RUN_ONCE);
	ASSERT_TRUE(!vm_find(d, "vm3"));
	ASSERT_EQ(virDomainUndefine(dom), 0);
	virDomainFree(dom);
}

/*
 * The jobs told of a domain's end: the test's own stand-ins (the linker's --wrap, meson.build),
 * never dereferenced. phase: what migration_source_phase() says of the source's job.
 */
static struct {
	int source, dest;
	void *job;
	char how[160];
	const char *phase;
	char copy_status[32]; /* what the copy's end said (migration_job_migrate_status()) */
} told;

void __wrap_migration_job_vm_exited(struct migration_job *j, const char *how);
void __wrap_migration_job_migrate_status(struct migration_job *j, const char *status);
void __wrap_migration_dest_vm_exited(struct dest_job *j, const char *how);
const char *__wrap_migration_source_phase(const vm *v);

void __wrap_migration_job_vm_exited(struct migration_job *j, const char *how)
{
	told.source++;
	told.job = j;
	snprintf(told.how, sizeof(told.how), "%s", how);
}

void __wrap_migration_dest_vm_exited(struct dest_job *j, const char *how)
{
	told.dest++;
	told.job = j;
	snprintf(told.how, sizeof(told.how), "%s", how);
}

void __wrap_migration_job_migrate_status(struct migration_job *j, const char *status)
{
	snprintf(told.copy_status, sizeof(told.copy_status), "%s", status);
}

const char *__wrap_migration_source_phase(const vm *v)
{
	return vm_get_job(v) ? told.phase : NULL;
}

/* A reply that notes whether the job was told before it. */
static void on_reply_told(int error, json_object *ret, const char *message, void *userdata)
{
	*(int *)userdata = told.source + told.dest;
	on_reply(error, ret, message, NULL);
}

static void wait_told(int n)
{
	for (int i = 0; i < 500 && told.source + told.dest < n; i++)
		uv_run(loop, UV_RUN_ONCE);
	ASSERT_EQ(told.source + told.dest, n);
}

/* A job's stopped VM let go: stopping it destroys nothing (its domain ended), then its record
 * and its test-driver domain go. */
static void ended_vm_drop(vm *v, virDomainPtr dom)
{
	wait_reply(vm_backend_of(v)->stop(v, true, on_stopped, NULL));
	ASSERT_EQ(out.error, 0);
	vm_set_job(v, NULL);
	vm_set_incoming_job(v, NULL);
	virt_backend_unbind(v);
	vm_forget(v);
	ASSERT_EQ(virDomainUndefine(dom), 0);
	virDomainFree(dom);
}

/*
 * A domain that stops while a job drives its VM ends the job's wait, as a QEMU that exits does
 * (vm.c): the source's job or the destination's is told, with how it ended; the VM is the job's
 * to end (its record stays, shut off). A call in flight holds the news until it answered. A
 * stop after that has nothing to destroy.
 */
static void left_during_job(const char *root, host_daemon *d)
{
	static int source_job, dest_job;
	peer_config peer = { .name = (char *)"hostB", .address = (char *)"192.0.2.11" };
	migration_settings settings = { .downtime_limit_ms = 300 };
	int told_before_answer = -1;
	virDomainPtr dom;
	vm *v = adopted(root, d, "vm4", &dom);

	/* In the copy, but not libvirt's own end of it (that is VIR_DOMAIN_EVENT_STOPPED_MIGRATED). */
	vm_set_job(v, (struct migration_job *)&source_job);
	told.phase = "migrate";
	ASSERT_EQ(virDomainDestroy(dom), 0);
	wait_told(1);
	ASSERT_EQ(told.source, 1);
	ASSERT_TRUE(told.job == &source_job);
	ASSERT_STREQ(told.how, "the source's libvirt domain 'vm4' was destroyed");
	ASSERT_TRUE(vm_find(d, "vm4") == v);
	ASSERT_STREQ(vm_status_name(vm_get_status(v)), "shutoff");
	/* A copy that fails once the domain is gone names its end, in whichever order the copy's
	 * failure and the event come (the test driver cannot migrate: its refusal is libvirt's). */
	wait_reply(vm_backend_of(v)->migrate_start(v, &peer, "tcp:192.0.2.11:49152", &settings,
						   on_reply, NULL));
	ASSERT_EQ(out.error, 0);
	for (int i = 0; i < 500 && !told.copy_status[0]; i++)
		uv_run(loop, UV_RUN_ONCE);
	ASSERT_STREQ(told.copy_status, "failed");
	wait_reply(vm_backend_of(v)->migrate_query(v, on_reply, NULL));
	ASSERT_STREQ(out.status, "failed");
	if (!strstr(out.error_desc, "libvirt's migration failed: the domain was destroyed here during the copy (libvirt: "))
		TEST_FAIL("the copy's failure: %s", out.error_desc);
	ended_vm_drop(v, dom);

	/* The destination's domain arrived (bound); a call is in flight when it is destroyed. */
	memset(&told, 0, sizeof(told));
	v = adopted(root, d, "vm5", &dom);
	vm_set_incoming(v, true);
	vm_set_incoming_job(v, (struct dest_job *)&dest_job);
	ASSERT_OK(vm_backend_of(v)->query_status(v, on_reply_told, &told_before_answer));
	ASSERT_EQ(virDomainDestroy(dom), 0);
	wait_told(1);
	ASSERT_TRUE(out.done);
	out.done = false;
	ASSERT_EQ(told_before_answer, 0); /* the answer came first, whenever the event did */
	ASSERT_EQ(told.dest, 1);
	ASSERT_TRUE(told.job == &dest_job);
	ASSERT_STREQ(told.how, "its libvirt domain 'vm5' was destroyed");
	/* Stopped already: no refusal to stop an arrived domain, nothing destroyed. */
	ended_vm_drop(v, dom);
}

int main(int argc, char **argv)
{
	/* The registry's paths: nothing is written there (no VM is saved). */
	host_config hc = {.migration_address = (char *)"127.0.0.1",
			  .ssh_user = (char *)"root",
			  .ssh_identity_file = (char *)"/nonexistent/id_ed25519",
			  .ssh_known_hosts_file = (char *)"/nonexistent/known_hosts",
			  .state_dir = (char *)"/nonexistent",
			  .run_dir = (char *)"/nonexistent"};
	host_daemon d = { .config = &hc };
	vm_spec *spec = NULL;
	vm *v;
	_cleanup_free_ char *meta = NULL;
	const vm_backend *b;
	virConnectPtr conn;
	virDomainPtr dom;
	uv_timer_t tick;
	char path[4096], err[512];
	char *xml = calloc(1, DOMAIN_XML_MAX);
	FILE *f;

	ASSERT_TRUE(argc == 2 && xml);
	loop = uv_default_loop();
	uv_timer_init(loop, &tick);
	uv_timer_start(&tick, on_tick, 10, 10);
	ASSERT_OK(virt_event_register(loop));
	ASSERT_OK(virt_connect("test:///default", &conn, err, sizeof(err)));
	snprintf(path, sizeof(path), "%s/examples/libvirt/vm1-emulated.xml", argv[1]);
	f = fopen(path, "re");
	ASSERT_TRUE(f && fread(xml, 1, DOMAIN_XML_MAX - 1, f) > 0);
	fclose(f);
	dom = virDomainDefineXML(conn, xml);
	if (!dom)
		TEST_FAIL("define: %s", virGetLastErrorMessage());
	ASSERT_EQ(virDomainCreate(dom), 0);

	d.loop = loop;
	/* A VM of its own name (vm0: adopt() registers a vm1), bound to the domain vm1. */
	ASSERT_OK(vm_spec_parse(VM0_SPEC, strlen(VM0_SPEC), "test", "/", &spec, NULL));
	v = registered(&d, spec);
	ASSERT_TRUE(vm_backend_of(v) == &vm_backend_qemu);
	ASSERT_ERRNO(virt_backend_bind(v, conn, "nosuch", false, err, sizeof(err)), ENOENT);
	ASSERT_OK(virt_backend_bind(v, conn, "vm1", true, err, sizeof(err)));
	ASSERT_ERRNO(virt_backend_bind(v, conn, "vm1", true, err, sizeof(err)), EEXIST);
	b = vm_backend_of(v);
	ASSERT_TRUE(b == &vm_backend_libvirt);
	/* The VF's element goes with the domain, in its metadata. */
	meta = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, DOMAIN_XML_VF_METADATA_NS,
				    VIR_DOMAIN_AFFECT_LIVE);
	if (!meta)
		TEST_FAIL("metadata: %s", virGetLastErrorMessage());
	ASSERT_TRUE(strstr(meta, "e1000e") && strstr(meta, DOMAIN_XML_VF_ALIAS));

	wait_reply(b->query_status(v, on_reply, NULL));
	ASSERT_EQ(out.error, 0);
	ASSERT_STREQ(out.status, "running");

	/* Paused by someone else: resumed; resuming a running domain is no error. */
	ASSERT_EQ(virDomainSuspend(dom), 0);
	wait_reply(b->query_status(v, on_reply, NULL));
	ASSERT_STREQ(out.status, "paused");
	wait_reply(b->resume(v, on_reply, NULL));
	ASSERT_EQ(out.error, 0);
	wait_reply(b->resume(v, on_reply, NULL));
	ASSERT_EQ(out.error, 0);
	ASSERT_EQ(virDomainIsActive(dom), 1);

	/* The test driver has no job statistics nor job abort: libvirt's refusal, in its words. */
	wait_reply(b->migrate_query(v, on_reply, NULL));
	ASSERT_ERRNO(out.error, EIO);
	ASSERT_TRUE(strstr(out.message, "cannot read the migration's progress: ") &&
		    strstr(out.message, "virDomainGetJobStats"));
	wait_reply(b->migrate_cancel(v, on_reply, NULL));
	ASSERT_ERRNO(out.error, EIO);
	ASSERT_TRUE(strstr(out.message, "libvirt could not abort the migration: "));

	/* The VF is in the live XML: a plug says it never left. */
	wait_reply(b->vf_plug(v, on_reply, NULL));
	ASSERT_ERRNO(out.error, EEXIST);
	/* libvirt's refusal comes back with its words (the test driver cannot detach). */
	wait_reply(b->vf_unplug(v, on_reply, NULL));
	ASSERT_ERRNO(out.error, EIO);
	ASSERT_TRUE(strstr(out.message, "libvirt refused to detach the VF: ") &&
		    strstr(out.message, "not supported"));
	ASSERT_EQ(b->vf_unplug_finish(v, on_reply, NULL), 1);
	/* A bound VM is no destination's. */
	ASSERT_ERRNO(b->incoming_start(v, on_stopped, NULL), EALREADY);
	adopt(&d);
	destination(argv[1], &d);
	left(argv[1], &d);
	left_during_job(argv[1], &d);

	wait_reply(b->stop(v, true, on_stopped, NULL));
	ASSERT_EQ(out.error, 0);
	ASSERT_EQ(virDomainIsActive(dom), 0);
	/* Stopping what is stopped (the source after libvirt's own confirm step) is done. */
	wait_reply(b->stop(v, false, on_stopped, NULL));
	ASSERT_EQ(out.error, 0);

	virt_backend_unbind(v);
	ASSERT_TRUE(vm_backend_of(v) == &vm_backend_qemu);
	vm_forget(v);
	ASSERT_EQ(virDomainUndefine(dom), 0);
	virDomainFree(dom);
	ASSERT_TRUE(virConnectClose(conn) >= 0);
	virt_connections_close();
	free(xml);
	return 0;
}
