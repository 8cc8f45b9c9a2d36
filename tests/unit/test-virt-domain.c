// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A libvirt domain looked up and checked (libvirt/virt_domain.h), on libvirt's in-process test
 * driver (test:///default, no libvirtd) with domains defined from the fixtures in
 * tests/unit/libvirt/: the bad cases are refused with the reason, and nothing changes.
 * argv[1]: the source tree.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "macro.h"
#include "libvirt/virt_domain.h"
#include "test.h"

static const char *root;
static virConnectPtr conn;

static char *fixture(const char *name)
{
	char path[4096];
	char *buf = calloc(1, DOMAIN_XML_MAX + 1);
	FILE *f;

	ASSERT_TRUE(buf);
	snprintf(path, sizeof(path), "%s/tests/unit/libvirt/%s", root, name);
	f = fopen(path, "re");
	if (!f)
		TEST_FAIL("cannot open %s", path);
	ASSERT_TRUE(fread(buf, 1, DOMAIN_XML_MAX, f) > 0);
	fclose(f);
	return buf;
}

/* Define (persistent) or create (transient) a domain from a fixture; start a defined one. */
static virDomainPtr domain_from(const char *name, bool persistent, bool start)
{
	_cleanup_free_ char *xml = fixture(name);
	virDomainPtr d = persistent ? virDomainDefineXML(conn, xml) : virDomainCreateXML(conn, xml, 0);

	if (!d)
		TEST_FAIL("%s: %s", name, virGetLastErrorMessage());
	if (persistent && start)
		ASSERT_EQ(virDomainCreate(d), 0);
	return d;
}

static void refused(const char *name, bool persist, int want, const char *says)
{
	virt_domain d = { 0 };
	char err[512] = "";
	int r = virt_domain_open(conn, name, persist, &d, err, sizeof(err));

	if (r != -want || !strstr(err, says))
		TEST_FAIL("%s: expected -%d saying '%s', got %d: '%s'", name, want, says, r, err);
	ASSERT_TRUE(!d.dom && !d.xml);
}

/* Nothing was changed by a refusal: the domain runs (or not) and is defined as it was. */
static void unchanged(virDomainPtr d, int active, int persistent)
{
	ASSERT_EQ(virDomainIsActive(d), active);
	ASSERT_EQ(virDomainIsPersistent(d), persistent);
}

TEST(found)
{
	virDomainPtr dom = domain_from("live-hostdev.xml", true, true);
	virt_domain d;
	char err[512];

	ASSERT_OK(virt_domain_open(conn, "vm1", true, &d, err, sizeof(err)));
	ASSERT_TRUE(d.persistent);
	ASSERT_EQ(d.dev.vf_kind, DOMAIN_VF_HOSTDEV);
	ASSERT_STREQ(d.dev.vf_pci, "0000:01:10.2");
	ASSERT_STREQ(d.dev.standby_mac, "52:54:00:00:00:11");
	ASSERT_TRUE(d.dev.agent_path && strstr(d.xml, "<hostdev"));
	virt_domain_close(&d);
	unchanged(dom, 1, 1);
	virDomainFree(dom);
}

TEST(bad_input)
{
	virDomainPtr plain, nochan, stopped, transient;
	virt_domain d;
	char err[512];

	refused("nosuch", false, ENOENT, "libvirt has no domain 'nosuch' on this host");
	refused("bad name", false, EINVAL, "'bad name' is not a domain name");
	refused("", false, EINVAL, "is not a domain name");

	/* The test driver's own domain: running, persistent, no VF. */
	plain = virDomainLookupByName(conn, "test");
	ASSERT_TRUE(plain);
	refused("test", false, ENODEV, "domain 'test': the domain has no VF");
	unchanged(plain, 1, 1);

	nochan = domain_from("no-channel.xml", true, true);
	refused("nochan", false, ENODEV, "domain 'nochan': the domain has no channel for dmigrate's guest agent");
	unchanged(nochan, 1, 1);

	stopped = domain_from("two-hostdevs.xml", true, false);
	refused("twovf", false, EINVAL, "domain 'twovf' is not running");
	unchanged(stopped, 0, 1);
	ASSERT_EQ(virDomainCreate(stopped), 0);
	refused("twovf", false, EINVAL, "2 devices that could be its VF");

	/* Transient: refused when asked to persist, taken when not. */
	transient = domain_from("live-interface-hostdev.xml", false, true);
	refused("web-01", true, EINVAL, "domain 'web-01' is transient");
	unchanged(transient, 1, 0);
	ASSERT_OK(virt_domain_open(conn, "web-01", false, &d, err, sizeof(err)));
	ASSERT_TRUE(!d.persistent);
	ASSERT_EQ(d.dev.vf_kind, DOMAIN_VF_INTERFACE);
	virt_domain_close(&d);

	virDomainFree(plain);
	virDomainFree(nochan);
	virDomainFree(stopped);
	virDomainFree(transient);
}

/* A refusing qemu hook: its reason stays in a short message, its command line does not. */
TEST(error_text)
{
	char buf[160];

	ASSERT_STREQ(virt_error_text("Hook script execution failed: internal error: Child process (LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/opt/a/very/long/path /etc/libvirt/hooks/qemu vm1 migrate begin -) unexpected exit status 1: this host refuses\n",
				     buf, sizeof(buf)),
		     "Hook script execution failed: internal error: Child process (...) unexpected exit status 1: this host refuses ");
	ASSERT_STREQ(virt_error_text("Requested operation is not valid: domain is not running", buf,
				     sizeof(buf)),
		     "Requested operation is not valid: domain is not running");
	/* No end to the command line: the message as it is, cut to the buffer. */
	ASSERT_STREQ(virt_error_text("Child process (a b", buf, sizeof(buf)), "Child process (a b");
	ASSERT_STREQ(virt_error_text(NULL, buf, sizeof(buf)), "unknown libvirt error");
	ASSERT_STREQ(virt_error_text("x\ty", buf, 3), "x ");
}

/* libvirt 9.0's SSH transport error in place of the destination's: said for what it is. */
TEST(migrate_error_text)
{
	char buf[512];

	ASSERT_STREQ(virt_migrate_error_text(VIR_FROM_QEMU, "operation failed: job 'migration out' failed",
					     buf, sizeof(buf)),
		     "operation failed: job 'migration out' failed");
	ASSERT_STREQ(virt_migrate_error_text(VIR_FROM_HOOK, "Hook script execution failed: internal error: Child process (LC_ALL=C /etc/libvirt/hooks/qemu vm1 migrate begin -) unexpected exit status 1: refused\n",
					     buf, sizeof(buf)),
		     "Hook script execution failed: internal error: Child process (...) unexpected exit status 1: refused ");
	virt_migrate_error_text(VIR_FROM_LIBSSH, "internal error: Remote command terminated with non-zero code: -1",
				buf, sizeof(buf));
	ASSERT_TRUE(strstr(buf, "connection to the destination's libvirtd ended (internal error: Remote command terminated with non-zero code: -1)"));
	ASSERT_TRUE(strstr(buf, "its libvirtd's log says why"));
	virt_migrate_error_text(VIR_FROM_SSH, NULL, buf, sizeof(buf));
	ASSERT_TRUE(strstr(buf, "(unknown libvirt error)"));
	/* Cut to the buffer, never past it. */
	virt_migrate_error_text(VIR_FROM_LIBSSH, "x", buf, 16);
	ASSERT_EQ(strlen(buf), 15);
}

int main(int argc, char **argv)
{
	char err[512];

	if (argc != 2) {
		fprintf(stderr, "usage: %s SOURCE_ROOT\n", argv[0]);
		return 2;
	}
	root = argv[1];
	ASSERT_OK(virt_connect("test:///default", &conn, err, sizeof(err)));
	RUN_TEST(found);
	RUN_TEST(bad_input);
	RUN_TEST(error_text);
	RUN_TEST(migrate_error_text);
	ASSERT_TRUE(virConnectClose(conn) >= 0);
	return 0;
}
