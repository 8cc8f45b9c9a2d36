// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A libvirt domain's XML (libvirt/domain_xml.h) on fixture files (tests/unit/libvirt/) and the
 * examples' domains: the VF, the standby and the agent's channel are found, the destination's
 * XML has no VF, a destination's own VF takes the source's place, bad domains are refused
 * with the reason, and the guest's memory is read in libvirt's units (unknown, not refused,
 * when it does not read). argv[1]: the source tree.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "libvirt/domain_xml.h"
#include "test.h"

static const char *root;

static char *slurp(const char *rel, size_t *size)
{
	char path[4096];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "re");
	if (!f)
		TEST_FAIL("cannot open %s", path);
	ASSERT_OK(fseek(f, 0, SEEK_END));
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ASSERT_TRUE(buf);
	ASSERT_EQ(fread(buf, 1, (size_t)n, f), n);
	buf[n] = '\0';
	fclose(f);
	*size = (size_t)n;
	return buf;
}

static int parse_file(const char *rel, domain_devices *d, char *err, size_t err_size)
{
	size_t n;
	_cleanup_free_ char *xml = slurp(rel, &n);

	return domain_xml_parse(xml, n, d, err, err_size);
}

static void refused(const char *rel_or_xml, bool inline_xml, int want, const char *says)
{
	domain_devices d = { 0 };
	char err[512] = "";
	int r;

	if (inline_xml)
		r = domain_xml_parse(rel_or_xml, strlen(rel_or_xml), &d, err, sizeof(err));
	else
		r = parse_file(rel_or_xml, &d, err, sizeof(err));
	if (r != -want || !strstr(err, says))
		TEST_FAIL("%s: expected -%d saying '%s', got %d: '%s'",
			  inline_xml ? "inline XML" : rel_or_xml, want, says, r, err);
	ASSERT_TRUE(!d.name && !d.vf_xml);
}

TEST(hostdev)
{
	_cleanup_free_ char *xml = NULL, *dest = NULL, *vf = NULL;
	domain_devices d, again = { 0 };
	char err[512];
	size_t n;

	xml = slurp("tests/unit/libvirt/live-hostdev.xml", &n);
	ASSERT_OK(domain_xml_parse(xml, n, &d, err, sizeof(err)));
	ASSERT_STREQ(d.name, "vm1");
	ASSERT_EQ(d.vf_kind, DOMAIN_VF_HOSTDEV);
	ASSERT_STREQ(d.vf_pci, "0000:01:10.2");
	ASSERT_STREQ(d.vf_alias, "hostdev0");
	ASSERT_TRUE(!d.vf_mac);
	ASSERT_TRUE(!strncmp(d.vf_xml, "<hostdev ", 9) && strstr(d.vf_xml, "function=\"0x2\""));
	ASSERT_STREQ(d.standby_mac, "52:54:00:00:00:11");
	ASSERT_STREQ(d.agent_path,
		     "/var/lib/libvirt/qemu/channel/target/domain-3-vm1/org.dmigrate.agent.0");

	/* The destination's XML: everything but the VF. */
	ASSERT_OK(domain_xml_without_vf(xml, n, &dest, err, sizeof(err)));
	ASSERT_TRUE(!strstr(dest, "<hostdev") && strstr(dest, "<uuid>6f1d4c2e") &&
		    strstr(dest, "org.dmigrate.agent.0") && strstr(dest, "model type=\"virtio\""));
	ASSERT_ERRNO(domain_xml_parse(dest, strlen(dest), &again, err, sizeof(err)), ENODEV);
	/* Unplugged already: the XML as it is. */
	ASSERT_OK(domain_xml_without_vf(dest, strlen(dest), &vf, err, sizeof(err)));
	ASSERT_STREQ(vf, dest);
	free(TAKE_PTR(vf));

	/* The destination's own VF in the source's place, guest address kept. */
	ASSERT_OK(domain_xml_vf_for_host(d.vf_xml, "0000:3b:02.5", &vf, err, sizeof(err)));
	ASSERT_TRUE(strstr(vf, "<address domain=\"0x0000\" bus=\"0x3b\" slot=\"0x02\" function=\"0x5\"/>"));
	ASSERT_TRUE(strstr(vf, "bus=\"0x02\" slot=\"0x00\""));
	free(TAKE_PTR(vf));
	ASSERT_ERRNO(domain_xml_vf_for_host(d.vf_xml, "0000:3b:02", &vf, err, sizeof(err)), EINVAL);
	ASSERT_TRUE(strstr(err, "'0000:3b:02' is not a PCI address"));
	ASSERT_ERRNO(domain_xml_vf_for_host(d.vf_xml, NULL, &vf, err, sizeof(err)), EINVAL);
	domain_devices_done(&d);
}

TEST(vf_kept_in_metadata)
{
	_cleanup_free_ char *meta = NULL, *vf = NULL;
	domain_devices d;
	char err[512];

	/* A domain that arrived without its VF finds the element to plug in its metadata. */
	ASSERT_OK(parse_file("tests/unit/libvirt/arrived-vf-in-metadata.xml", &d, err, sizeof(err)));
	ASSERT_TRUE(d.vf_unplugged);
	ASSERT_EQ(d.vf_kind, DOMAIN_VF_HOSTDEV);
	ASSERT_STREQ(d.vf_pci, "0000:01:10.2");
	ASSERT_STREQ(d.vf_alias, DOMAIN_XML_VF_ALIAS);
	ASSERT_TRUE(!strncmp(d.vf_xml, "<hostdev ", 9) && !strstr(d.vf_xml, "dmigrate:"));
	ASSERT_OK(domain_xml_vf_for_host(d.vf_xml, "0000:3b:02.5", &vf, err, sizeof(err)));
	ASSERT_TRUE(strstr(vf, "bus=\"0x3b\" slot=\"0x02\" function=\"0x5\""));
	ASSERT_OK(domain_xml_vf_metadata(d.vf_xml, &meta));
	ASSERT_TRUE(!strncmp(meta, "<vf><hostdev ", 13) && strstr(meta, "</hostdev></vf>"));
	domain_devices_done(&d);

	/* A device beats the metadata: the VF is plugged. */
	ASSERT_OK(parse_file("tests/unit/libvirt/live-hostdev.xml", &d, err, sizeof(err)));
	ASSERT_TRUE(!d.vf_unplugged);
	domain_devices_done(&d);

	/* Metadata that is not one VF element is refused, named. */
	refused("<domain><name>a</name><metadata><m:vf xmlns:m='urn:dmigrate:vf:1'><disk/></m:vf>"
		"</metadata><devices/></domain>",
		true, EINVAL, "metadata urn:dmigrate:vf:1 does not hold one");
	/* Another namespace's <vf> is not ours. */
	refused("<domain><name>a</name><metadata><m:vf xmlns:m='urn:other'><hostdev/></m:vf>"
		"</metadata><devices/></domain>",
		true, ENODEV, "the domain has no VF");
}

TEST(interface_hostdev)
{
	domain_devices d;
	char err[512];

	ASSERT_OK(parse_file("tests/unit/libvirt/live-interface-hostdev.xml", &d, err, sizeof(err)));
	ASSERT_STREQ(d.name, "web-01");
	ASSERT_EQ(d.vf_kind, DOMAIN_VF_INTERFACE);
	ASSERT_STREQ(d.vf_pci, "0000:3b:02.1");
	ASSERT_STREQ(d.vf_mac, "52:54:00:aa:bb:cc");
	ASSERT_STREQ(d.standby_mac, "52:54:00:aa:bb:cc");
	/* qemu-ga's channel beside ours is not taken for it. */
	ASSERT_STREQ(d.agent_path, "/run/libvirt/qemu/channel/7-web-01/org.dmigrate.agent.0");
	domain_devices_done(&d);
}

TEST(examples)
{
	_cleanup_free_ char *xml = NULL, *dest = NULL, *vf = NULL;
	domain_devices d;
	char err[512];
	size_t n;

	/* The netns lab's: an emulated VF, marked by its alias; the standby by its own. */
	xml = slurp("examples/libvirt/vm1-emulated.xml", &n);
	ASSERT_OK(domain_xml_parse(xml, n, &d, err, sizeof(err)));
	ASSERT_STREQ(d.name, "vm1");
	ASSERT_EQ(d.vf_kind, DOMAIN_VF_EMULATED);
	ASSERT_TRUE(!d.vf_pci);
	ASSERT_STREQ(d.vf_alias, DOMAIN_XML_VF_ALIAS);
	ASSERT_STREQ(d.vf_mac, "52:54:00:00:00:11");
	ASSERT_TRUE(strstr(d.vf_xml, "e1000e"));
	/* An inactive domain's channel has no path until libvirt starts it. */
	ASSERT_TRUE(!d.agent_path);
	ASSERT_OK(domain_xml_without_vf(xml, n, &dest, err, sizeof(err)));
	ASSERT_TRUE(!strstr(dest, "e1000e") && strstr(dest, DOMAIN_XML_STANDBY_ALIAS));
	ASSERT_OK(domain_xml_vf_for_host(d.vf_xml, NULL, &vf, err, sizeof(err)));
	ASSERT_TRUE(strstr(vf, "e1000e") && strstr(vf, DOMAIN_XML_VF_ALIAS));
	free(TAKE_PTR(vf));
	ASSERT_ERRNO(domain_xml_vf_for_host(d.vf_xml, "0000:01:10.0", &vf, err, sizeof(err)), EINVAL);
	ASSERT_TRUE(strstr(err, "emulated"));
	domain_devices_done(&d);

	ASSERT_OK(parse_file("examples/libvirt/vm1-vfio.xml", &d, err, sizeof(err)));
	ASSERT_EQ(d.vf_kind, DOMAIN_VF_HOSTDEV);
	ASSERT_STREQ(d.vf_pci, "0000:01:10.0");
	ASSERT_TRUE(!d.vf_alias);
	domain_devices_done(&d);
}

TEST(bad_domains)
{
	refused("tests/unit/libvirt/no-vf.xml", false, ENODEV, "the domain has no VF");
	refused("tests/unit/libvirt/no-channel.xml", false, ENODEV,
		"no channel for dmigrate's guest agent");
	refused("tests/unit/libvirt/two-hostdevs.xml", false, EINVAL,
		"2 devices that could be its VF: mark the one");
	/* Billion laughs: libxml2's own limit stops it before anything is built. */
	refused("tests/unit/libvirt/doctype.xml", false, EINVAL, "entity reference loop");
	refused("<!DOCTYPE domain SYSTEM 'http://example.com/d.dtd'><domain><name>a</name></domain>",
		true, EINVAL, "DOCTYPE");
	refused("", true, EINVAL, "empty");
	refused("<domain", true, EINVAL, "does not parse");
	refused("<network><name>x</name></network>", true, EINVAL, "top element");
	refused("<domain><name>has space</name></domain>", true, EINVAL, "<name>");
	refused("<domain><name>a</name><devices><hostdev mode='subsystem' type='pci'><source>"
		"<address domain='0x0000' bus='0x01' slot='0x20' function='0x0'/></source></hostdev>"
		"</devices></domain>",
		true, EINVAL, "host PCI address is not valid");
	refused("<domain><name>a</name><devices><hostdev mode='subsystem' type='pci'><source>"
		"<address domain='0' bus='1' slot='2' function='0'/></source></hostdev>"
		"</devices></domain>",
		true, EINVAL, "host PCI address is not valid");
	refused("<domain><name>a</name><devices><interface type='hostdev'><mac address='zz'/>"
		"<source><address domain='0x0000' bus='0x01' slot='0x10' function='0x0'/></source>"
		"</interface></devices></domain>",
		true, EINVAL, "MAC address is not valid");
	refused("<domain><name>a</name><devices><hostdev mode='subsystem' type='pci'><source>"
		"<address domain='0x0000' bus='0x01' slot='0x10' function='0x0'/></source></hostdev>"
		"</devices></domain>",
		true, ENODEV, "no virtio <interface>");
	refused("<domain><name>a</name><devices><hostdev mode='subsystem' type='pci'><source>"
		"<address domain='0x0000' bus='0x01' slot='0x10' function='0x0'/></source></hostdev>"
		"<interface type='bridge'><mac address='52:54:00:00:00:01'/><model type='virtio'/></interface>"
		"<interface type='bridge'><mac address='52:54:00:00:00:02'/><model type='virtio'/></interface>"
		"</devices></domain>",
		true, EINVAL, "2 virtio interfaces");
	refused("<domain><name>a</name><devices><hostdev mode='subsystem' type='pci'><source>"
		"<address domain='0x0000' bus='0x01' slot='0x10' function='0x0'/></source></hostdev>"
		"<interface type='bridge'><mac address='52:54:00:00:00:01'/><model type='virtio'/></interface>"
		"<channel type='pty'><target type='virtio' name='org.dmigrate.agent.0'/></channel>"
		"</devices></domain>",
		true, EINVAL, "is not type='unix'");
	refused("<domain><name>a</name><devices><hostdev mode='subsystem' type='pci'><source>"
		"<address domain='0x0000' bus='0x01' slot='0x10' function='0x0'/></source></hostdev>"
		"<interface type='bridge'><mac address='52:54:00:00:00:01'/><model type='virtio'/></interface>"
		"<channel type='unix'><source mode='bind' path='/run/../etc/shadow'/>"
		"<target type='virtio' name='org.dmigrate.agent.0'/></channel>"
		"</devices></domain>",
		true, EINVAL, "socket path is not usable");
}

/* The guest RAM a domain whose devices are all right says in memory_element ("" for none). */
static uint64_t memory_of(const char *memory_element)
{
	_cleanup_free_ char *xml = NULL;
	domain_devices d;
	char err[512];
	uint64_t mib;

	ASSERT_TRUE(asprintf(&xml,
			     "<domain><name>a</name>%s<devices><hostdev mode='subsystem' type='pci'><source>"
			     "<address domain='0x0000' bus='0x01' slot='0x10' function='0x0'/></source></hostdev>"
			     "<interface type='bridge'><mac address='52:54:00:00:00:01'/><model type='virtio'/></interface>"
			     "<channel type='unix'><target type='virtio' name='org.dmigrate.agent.0'/></channel>"
			     "</devices></domain>",
			     memory_element) > 0);
	if (domain_xml_parse(xml, strlen(xml), &d, err, sizeof(err)) < 0)
		TEST_FAIL("%s: %s", memory_element, err);
	mib = d.memory_mib;
	domain_devices_done(&d);
	return mib;
}

TEST(memory)
{
	domain_devices d;
	char err[512];

	/* libvirt's live XML (KiB), and the examples as written (MiB). */
	ASSERT_OK(parse_file("tests/unit/libvirt/live-hostdev.xml", &d, err, sizeof(err)));
	ASSERT_EQ(d.memory_mib, 256);
	domain_devices_done(&d);
	ASSERT_OK(parse_file("examples/libvirt/vm1-emulated.xml", &d, err, sizeof(err)));
	ASSERT_EQ(d.memory_mib, 256);
	domain_devices_done(&d);

	/* libvirt's units, any case; none is KiB; rounded up to a MiB. */
	ASSERT_EQ(memory_of("<memory>1048576</memory>"), 1024);
	ASSERT_EQ(memory_of("<memory unit='G'>4</memory>"), 4096);
	ASSERT_EQ(memory_of("<memory unit='gib'>2</memory>"), 2048);
	ASSERT_EQ(memory_of("<memory unit='MB'>1000</memory>"), 954);
	ASSERT_EQ(memory_of("<memory unit='bytes'>1</memory>"), 1);
	ASSERT_EQ(memory_of("<memory unit='KiB'>1025</memory>"), 2);
	/* Unknown, not a refusal: no <memory>, two, a unit libvirt lacks, not a plain number,
	 * 4 PiB and more. */
	ASSERT_EQ(memory_of(""), 0);
	ASSERT_EQ(memory_of("<memory>1024</memory><memory>2048</memory>"), 0);
	ASSERT_EQ(memory_of("<memory unit='pages'>4</memory>"), 0);
	ASSERT_EQ(memory_of("<memory unit='Mi'>4</memory>"), 0);
	ASSERT_EQ(memory_of("<memory> 256</memory>"), 0);
	ASSERT_EQ(memory_of("<memory>-1</memory>"), 0);
	ASSERT_EQ(memory_of("<memory>256 MiB</memory>"), 0);
	ASSERT_EQ(memory_of("<memory unit='PiB'>4</memory>"), 0);
	ASSERT_EQ(memory_of("<memory unit='b'>99999999999999999999999</memory>"), 0);
	ASSERT_EQ(memory_of("<memory unit='TiB'>4095</memory>"), 4095ULL << 20);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s SOURCE_ROOT\n", argv[0]);
		return 2;
	}
	root = argv[1];
	RUN_TEST(hostdev);
	RUN_TEST(vf_kept_in_metadata);
	RUN_TEST(interface_hostdev);
	RUN_TEST(examples);
	RUN_TEST(bad_domains);
	RUN_TEST(memory);
	return 0;
}
