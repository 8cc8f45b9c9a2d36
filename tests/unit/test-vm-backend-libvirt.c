// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The libvirt backend (libvirt/vm_backend_libvirt.h) on libvirt's in-process test driver
 * (test:///default, no libvirtd), with the netns lab's domain (examples/libvirt/vm1-emulated.xml):
 * binding chooses the backend, its calls run off the loop and answer on it (state, resume,
 * the plug of a VF that never left, stop), and what the test driver cannot do (detach, job
 * statistics, job abort) comes back as libvirt's refusal, with its words. argv[1]: the source
 * tree.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

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
} out;

static void on_reply(int error, json_object *ret, const char *message, void *userdata)
{
	json_object *s;

	out.done = true;
	out.error = error;
	snprintf(out.message, sizeof(out.message), "%s", message ? message : "");
	out.status[0] = '\0';
	if (ret && json_object_object_get_ex(ret, "status", &s))
		snprintf(out.status, sizeof(out.status), "%s", json_object_get_string(s));
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

int main(int argc, char **argv)
{
	host_daemon d = { 0 };
	vm v = { 0 };
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
	v.daemon = &d;
	v.name = (char *)"vm1";
	ASSERT_TRUE(vm_backend_of(&v) == &vm_backend_qemu);
	ASSERT_ERRNO(virt_backend_bind(&v, conn, "nosuch", false, err, sizeof(err)), ENOENT);
	ASSERT_OK(virt_backend_bind(&v, conn, "vm1", true, err, sizeof(err)));
	ASSERT_ERRNO(virt_backend_bind(&v, conn, "vm1", true, err, sizeof(err)), EEXIST);
	b = vm_backend_of(&v);
	ASSERT_TRUE(b == &vm_backend_libvirt);

	wait_reply(b->query_status(&v, on_reply, NULL));
	ASSERT_EQ(out.error, 0);
	ASSERT_STREQ(out.status, "running");

	/* Paused by someone else: resumed; resuming a running domain is no error. */
	ASSERT_EQ(virDomainSuspend(dom), 0);
	wait_reply(b->query_status(&v, on_reply, NULL));
	ASSERT_STREQ(out.status, "paused");
	wait_reply(b->resume(&v, on_reply, NULL));
	ASSERT_EQ(out.error, 0);
	wait_reply(b->resume(&v, on_reply, NULL));
	ASSERT_EQ(out.error, 0);
	ASSERT_EQ(virDomainIsActive(dom), 1);

	/* The test driver has no job statistics nor job abort: libvirt's refusal, in its words. */
	wait_reply(b->migrate_query(&v, on_reply, NULL));
	ASSERT_ERRNO(out.error, EIO);
	ASSERT_TRUE(strstr(out.message, "cannot read the migration's progress: ") &&
		    strstr(out.message, "virDomainGetJobStats"));
	wait_reply(b->migrate_cancel(&v, on_reply, NULL));
	ASSERT_ERRNO(out.error, EIO);
	ASSERT_TRUE(strstr(out.message, "libvirt could not abort the migration: "));

	/* The VF is in the live XML: a plug says it never left. */
	wait_reply(b->vf_plug(&v, on_reply, NULL));
	ASSERT_ERRNO(out.error, EEXIST);
	/* libvirt's refusal comes back with its words (the test driver cannot detach). */
	wait_reply(b->vf_unplug(&v, on_reply, NULL));
	ASSERT_ERRNO(out.error, EIO);
	ASSERT_TRUE(strstr(out.message, "libvirt refused to detach the VF: ") &&
		    strstr(out.message, "not supported"));
	ASSERT_EQ(b->vf_unplug_finish(&v, on_reply, NULL), 1);
	/* The destination's half has no libvirt path yet: refused at once. */
	ASSERT_ERRNO(b->incoming_listen(&v, "tcp:0.0.0.0:0", false, on_reply, NULL), EOPNOTSUPP);

	wait_reply(b->stop(&v, true, on_stopped, NULL));
	ASSERT_EQ(out.error, 0);
	ASSERT_EQ(virDomainIsActive(dom), 0);
	/* Stopping what is stopped (the source after libvirt's own confirm step) is done. */
	wait_reply(b->stop(&v, false, on_stopped, NULL));
	ASSERT_EQ(out.error, 0);

	virt_backend_unbind(&v);
	ASSERT_TRUE(vm_backend_of(&v) == &vm_backend_qemu);
	ASSERT_EQ(virDomainUndefine(dom), 0);
	virDomainFree(dom);
	ASSERT_TRUE(virConnectClose(conn) >= 0);
	free(xml);
	return 0;
}
