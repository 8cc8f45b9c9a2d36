// SPDX-License-Identifier: GPL-2.0-or-later
/* The VM spec parser: valid specs, and for every field the hostile values it must refuse. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "test.h"
#include "host/vm_spec.h"

#define ORIGIN "specs/t.json"
#define BASE "/srv/specs"

static int parse(const char *text, vm_spec **ret, char **ret_error)
{
	return vm_spec_parse(text, strlen(text), ORIGIN, BASE, ret, ret_error);
}

TEST(full_kernel_spec)
{
	_cleanup_vm_spec_ vm_spec *s = NULL;
	char *error = NULL;

	ASSERT_OK(parse("{\"name\": \"vm-1\", \"machine\": \"pc-q35-7.2\", \"memory_mib\": 256,"
			" \"vcpus\": 2, \"mac\": \"52:54:00:AB:cd:11\", \"bridge\": \"br-lab.1\","
			" \"address\": \"198.18.0.11/24\", \"passthrough\": {\"type\": \"emulated\"},"
			" \"boot\": {\"kernel\": \"img/vmlinuz\", \"initrd\": \"/abs/initrd.img\","
			" \"cmdline\": \"console=ttyS0 quiet\"}}",
			&s, &error));
	ASSERT_TRUE(error == NULL);
	ASSERT_STREQ(s->origin, ORIGIN);
	ASSERT_STREQ(s->name, "vm-1");
	ASSERT_STREQ(s->machine, "pc-q35-7.2");
	ASSERT_EQ(s->memory_mib, 256);
	ASSERT_EQ(s->vcpus, 2);
	ASSERT_STREQ(s->mac, "52:54:00:ab:cd:11");
	ASSERT_STREQ(s->bridge, "br-lab.1");
	ASSERT_STREQ(s->address, "198.18.0.11/24");
	ASSERT_EQ(s->passthrough, VM_PASSTHROUGH_EMULATED);
	ASSERT_TRUE(s->vfio_host == NULL);
	ASSERT_EQ(s->boot, VM_BOOT_KERNEL);
	ASSERT_STREQ(s->kernel, BASE "/img/vmlinuz");
	ASSERT_STREQ(s->initrd, "/abs/initrd.img");
	ASSERT_STREQ(s->cmdline, "console=ttyS0 quiet");
	ASSERT_TRUE(s->disk == NULL);
}

TEST(defaults_and_vfio)
{
	_cleanup_vm_spec_ vm_spec *s = NULL;

	ASSERT_OK(parse("{\"name\": \"db0\", \"memory_mib\": 64, \"mac\": \"02:00:00:00:00:01\","
			" \"passthrough\": {\"type\": \"vfio\", \"host\": \"0000:3B:1f.7\"},"
			" \"boot\": {\"disk\": \"db0.qcow2\", \"format\": \"qcow2\"}}\n\n",
			&s, NULL));
	ASSERT_STREQ(s->machine, "q35");
	ASSERT_EQ(s->accel, QEMU_ACCEL_AUTO);
	ASSERT_STREQ(s->bridge, "br0");
	ASSERT_EQ(s->vcpus, 1);
	ASSERT_TRUE(s->address == NULL);
	ASSERT_EQ(s->passthrough, VM_PASSTHROUGH_VFIO);
	ASSERT_STREQ(s->vfio_host, "0000:3b:1f.7");
	ASSERT_EQ(s->boot, VM_BOOT_DISK);
	ASSERT_STREQ(s->disk, BASE "/db0.qcow2");
	ASSERT_STREQ(s->disk_format, "qcow2");
	ASSERT_TRUE(s->kernel == NULL && s->initrd == NULL && s->cmdline == NULL);
}

TEST(accel_values)
{
	static const struct {
		const char *name;
		qemu_accel accel;
	} cases[] = { { "auto", QEMU_ACCEL_AUTO }, { "kvm", QEMU_ACCEL_KVM }, { "tcg", QEMU_ACCEL_TCG } };
	char text[512];

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_vm_spec_ vm_spec *s = NULL;
		_cleanup_json_ json_object *j = NULL;
		json_object *a;

		snprintf(text, sizeof(text),
			 "{\"name\": \"vm1\", \"accel\": \"%s\", \"memory_mib\": 256,"
			 " \"mac\": \"52:54:00:00:00:11\", \"passthrough\": {\"type\": \"emulated\"},"
			 " \"boot\": {\"kernel\": \"k\"}}",
			 cases[i].name);
		ASSERT_OK(parse(text, &s, NULL));
		ASSERT_EQ(s->accel, cases[i].accel);
		/* The peer gets the spec as JSON: the choice travels with it. */
		ASSERT_OK(vm_spec_to_json(s, &j));
		ASSERT_TRUE(json_object_object_get_ex(j, "accel", &a));
		ASSERT_STREQ(json_object_get_string(a), cases[i].name);
	}
}

TEST(disk_format_defaults_to_raw_and_ipv6)
{
	_cleanup_vm_spec_ vm_spec *s = NULL;

	ASSERT_OK(parse("{\"name\": \"a\", \"memory_mib\": 65536, \"vcpus\": 64,"
			" \"mac\": \"52:54:00:00:00:01\", \"address\": \"fd00::11/64\","
			" \"passthrough\": {\"type\": \"emulated\"}, \"boot\": {\"disk\": \"/d.img\"}}",
			&s, NULL));
	ASSERT_STREQ(s->disk_format, "raw");
	ASSERT_TRUE(!s->disk_readonly);
	ASSERT_STREQ(s->address, "fd00::11/64");
	ASSERT_EQ(s->memory_mib, 65536);
	ASSERT_EQ(s->vcpus, 64);
}

/* What a peer receives must parse back into the same spec. */
TEST(json_round_trip)
{
	_cleanup_vm_spec_ vm_spec *a = NULL, *b = NULL;
	_cleanup_json_ json_object *ja = NULL, *jb = NULL;
	const char *text;

	ASSERT_OK(parse("{\"name\": \"vm1\", \"memory_mib\": 256, \"mac\": \"52:54:00:00:00:11\","
			" \"address\": \"198.18.0.11/24\", \"passthrough\": {\"type\": \"vfio\","
			" \"host\": \"0000:3b:02.1\"}, \"boot\": {\"kernel\": \"k\", \"cmdline\": \"x\"}}",
			&a, NULL));
	ASSERT_OK(vm_spec_to_json(a, &ja));
	text = json_object_to_json_string(ja);
	ASSERT_OK(vm_spec_parse(text, strlen(text), "peer", "/elsewhere", &b, NULL));
	ASSERT_OK(vm_spec_to_json(b, &jb));
	ASSERT_STREQ(json_object_to_json_string(jb), text);
	ASSERT_STREQ(b->kernel, BASE "/k");
}

/* A read-only disk stays read-only on the peer that receives the spec. */
TEST(readonly_disk_round_trip)
{
	_cleanup_vm_spec_ vm_spec *a = NULL, *b = NULL;
	_cleanup_json_ json_object *ja = NULL;
	const char *text;

	ASSERT_OK(parse("{\"name\": \"vm1\", \"memory_mib\": 256, \"mac\": \"52:54:00:00:00:11\","
			" \"passthrough\": {\"type\": \"emulated\"},"
			" \"boot\": {\"disk\": \"d.raw\", \"readonly\": true}}", &a, NULL));
	ASSERT_TRUE(a->disk_readonly);
	ASSERT_OK(vm_spec_to_json(a, &ja));
	text = json_object_to_json_string(ja);
	ASSERT_OK(vm_spec_parse(text, strlen(text), "peer", "/elsewhere", &b, NULL));
	ASSERT_TRUE(b->disk_readonly);
}

/* A domain libvirtd runs: its name and this host's libvirt, nothing QEMU would need. */
TEST(libvirt_domain)
{
	_cleanup_vm_spec_ vm_spec *a = NULL, *b = NULL, *c = NULL;
	_cleanup_json_ json_object *ja = NULL, *jb = NULL;
	const char *text;

	ASSERT_OK(parse("{\"name\": \"vm1\", \"libvirt\": {\"domain\": \"web-01.prod\"}}", &a, NULL));
	ASSERT_STREQ(a->libvirt_domain, "web-01.prod");
	ASSERT_STREQ(a->libvirt_uri, "qemu:///system");
	ASSERT_TRUE(a->libvirt_persist);
	ASSERT_OK(vm_spec_to_json(a, &ja));
	text = json_object_to_json_string(ja);
	ASSERT_TRUE(!strstr(text, "boot") && !strstr(text, "memory_mib"));
	ASSERT_OK(vm_spec_parse(text, strlen(text), "peer", "/elsewhere", &b, NULL));
	ASSERT_OK(vm_spec_to_json(b, &jb));
	ASSERT_STREQ(json_object_to_json_string(jb), text);

	ASSERT_OK(parse("{\"name\": \"vm1\", \"libvirt\": {\"domain\": \"vm1\", \"persist\": false,"
			" \"uri\": \"qemu:///system?socket=/var/tmp/lab/a/run/libvirt/libvirt-sock\"}}",
			&c, NULL));
	ASSERT_TRUE(!c->libvirt_persist);
	ASSERT_STREQ(c->libvirt_uri, "qemu:///system?socket=/var/tmp/lab/a/run/libvirt/libvirt-sock");
}

typedef struct bad_case {
	const char *json;
	const char *expect; /* in the message, after "ORIGIN: " */
} bad_case;

/* A valid spec with one field replaced: FIELD is substituted by the case's fragment. */
#define SPEC_WITH(field_json)                                                                      \
	"{\"name\": \"vm1\", \"memory_mib\": 256, \"mac\": \"52:54:00:00:00:11\","                 \
	" \"passthrough\": {\"type\": \"emulated\"}, \"boot\": {\"kernel\": \"k\"}, " field_json "}"

static const bad_case bad_fields[] = {
	{ SPEC_WITH("\"name\": \"\""), "field 'name': expected 1-32 characters" },
	{ SPEC_WITH("\"name\": \"VM1\""), "field 'name': expected" },
	{ SPEC_WITH("\"name\": \"-vm\""), "field 'name': expected" },
	{ SPEC_WITH("\"name\": \"vm 1\""), "field 'name': expected" },
	{ SPEC_WITH("\"name\": \"abcdefghijklmnopqrstuvwxyz0123456\""), "field 'name': expected" },
	{ SPEC_WITH("\"name\": \"vm\\u0000x\""), "field 'name': expected" },
	{ SPEC_WITH("\"name\": 7"), "field 'name': expected 1-32 characters from a-z, 0-9 and '-', not starting with '-', got 7" },
	{ SPEC_WITH("\"machine\": \"pc\""), "field 'machine': expected \"q35\"" },
	{ SPEC_WITH("\"machine\": \"pc-q35-\""), "field 'machine': expected" },
	{ SPEC_WITH("\"machine\": \"pc-q35-7.x\""), "field 'machine': expected" },
	{ SPEC_WITH("\"machine\": null"), "field 'machine': expected \"q35\" or a versioned \"pc-q35-X.Y\" (the VF needs PCIe), got null" },
	{ SPEC_WITH("\"accel\": \"xen\""), "field 'accel': expected \"auto\", \"kvm\" or \"tcg\" (auto: the host's choice, KVM where it works), got \"xen\"" },
	{ SPEC_WITH("\"accel\": \"KVM\""), "field 'accel': expected" },
	{ SPEC_WITH("\"accel\": \"kvm,tcg\""), "field 'accel': expected" },
	{ SPEC_WITH("\"accel\": \"kvm -cpu max\""), "field 'accel': expected" },
	{ SPEC_WITH("\"accel\": true"), "field 'accel': expected" },
	{ SPEC_WITH("\"accel\": \"\""), "field 'accel': expected" },
	{ SPEC_WITH("\"memory_mib\": \"lots\""), "field 'memory_mib': expected an integer 64..65536 (guest RAM in MiB), got \"lots\"" },
	{ SPEC_WITH("\"memory_mib\": 63"), "field 'memory_mib': expected an integer 64..65536 (guest RAM in MiB), got 63" },
	{ SPEC_WITH("\"memory_mib\": 65537"), "field 'memory_mib': expected" },
	{ SPEC_WITH("\"memory_mib\": 256.0"), "field 'memory_mib': expected" },
	{ SPEC_WITH("\"memory_mib\": -256"), "field 'memory_mib': expected" },
	{ SPEC_WITH("\"memory_mib\": 99999999999999999999999"), "field 'memory_mib': expected" },
	{ SPEC_WITH("\"memory_mib\": true"), "field 'memory_mib': expected" },
	{ SPEC_WITH("\"vcpus\": 0"), "field 'vcpus': expected an integer 1..64, got 0" },
	{ SPEC_WITH("\"vcpus\": 65"), "field 'vcpus': expected" },
	{ SPEC_WITH("\"vcpus\": \"2\""), "field 'vcpus': expected" },
	{ SPEC_WITH("\"mac\": \"52:54:00:00:00\""), "field 'mac': expected a unicast MAC address" },
	{ SPEC_WITH("\"mac\": \"01:00:5e:00:00:01\""), "field 'mac': expected a unicast MAC address" },
	{ SPEC_WITH("\"mac\": \"00:00:00:00:00:00\""), "field 'mac': expected" },
	{ SPEC_WITH("\"mac\": \"52-54-00-00-00-11\""), "field 'mac': expected" },
	{ SPEC_WITH("\"mac\": \"52:54:00:00:00:1g\""), "field 'mac': expected" },
	{ SPEC_WITH("\"mac\": \"52:54:00:00:00:11 \""), "field 'mac': expected" },
	{ SPEC_WITH("\"bridge\": \"\""), "field 'bridge': expected a host bridge name" },
	{ SPEC_WITH("\"bridge\": \"a/b\""), "field 'bridge': expected" },
	{ SPEC_WITH("\"bridge\": \"br0,script=x\""), "field 'bridge': expected" },
	{ SPEC_WITH("\"bridge\": \"abcdefghijklmnop\""), "field 'bridge': expected" },
	{ SPEC_WITH("\"bridge\": \"..\""), "field 'bridge': expected" },
	{ SPEC_WITH("\"address\": \"198.18.0.11\""), "field 'address': expected an address with its prefix length" },
	{ SPEC_WITH("\"address\": \"198.18.0.11/33\""), "field 'address': expected" },
	{ SPEC_WITH("\"address\": \"198.18.0.11/0\""), "field 'address': expected" },
	{ SPEC_WITH("\"address\": \"198.18.0.256/24\""), "field 'address': expected" },
	{ SPEC_WITH("\"address\": \"198.18.0.11/24x\""), "field 'address': expected" },
	{ SPEC_WITH("\"address\": \"198.18.0.11/\""), "field 'address': expected" },
	{ SPEC_WITH("\"address\": \"fd00::1/129\""), "field 'address': expected" },
	{ SPEC_WITH("\"address\": \"host.example/24\""), "field 'address': expected" },
	{ SPEC_WITH("\"memry_mib\": 256"), "unknown field 'memry_mib'; known fields: name, machine, accel, memory_mib" },
	{ SPEC_WITH("\"\\u00e9\\n\": 1"), "unknown field '\\xc3\\xa9\\x0a'" },
	/* Replacing the whole sub-object: later keys win in json-c, so these override the base. */
	{ SPEC_WITH("\"passthrough\": \"emulated\""), "field 'passthrough': expected an object" },
	{ SPEC_WITH("\"passthrough\": {}"), "field 'passthrough.type': missing; expected \"emulated\"" },
	{ SPEC_WITH("\"passthrough\": {\"type\": \"sriov\"}"), "field 'passthrough.type': expected \"emulated\"" },
	{ SPEC_WITH("\"passthrough\": {\"type\": \"vfio\"}"), "field 'passthrough.host': missing; type \"vfio\" needs" },
	{ SPEC_WITH("\"passthrough\": {\"type\": \"emulated\", \"host\": \"0000:3b:02.1\"}"), "field 'passthrough.host': only valid with type \"vfio\"" },
	{ SPEC_WITH("\"passthrough\": {\"type\": \"vfio\", \"host\": \"3b:02.1\"}"), "field 'passthrough.host': expected the VF's PCI address" },
	{ SPEC_WITH("\"passthrough\": {\"type\": \"vfio\", \"host\": \"0000:3b:20.1\"}"), "field 'passthrough.host': expected" },
	{ SPEC_WITH("\"passthrough\": {\"type\": \"vfio\", \"host\": \"0000:3b:02.8\"}"), "field 'passthrough.host': expected" },
	{ SPEC_WITH("\"passthrough\": {\"type\": \"vfio\", \"host\": \"0000:3b:02:1\"}"), "field 'passthrough.host': expected" },
	{ SPEC_WITH("\"passthrough\": {\"type\": \"emulated\", \"mode\": 1}"), "unknown field 'passthrough.mode'; known fields in 'passthrough': type, host" },
	{ SPEC_WITH("\"boot\": []"), "field 'boot': expected an object" },
	{ SPEC_WITH("\"boot\": {}"), "field 'boot': needs 'kernel' (direct kernel boot) or 'disk'" },
	{ SPEC_WITH("\"boot\": {\"kernel\": \"k\", \"disk\": \"d\"}"), "field 'boot': has both 'kernel' and 'disk'" },
	{ SPEC_WITH("\"boot\": {\"disk\": \"d\", \"initrd\": \"i\"}"), "field 'boot.initrd': only valid with 'kernel'" },
	{ SPEC_WITH("\"boot\": {\"disk\": \"d\", \"cmdline\": \"c\"}"), "field 'boot.cmdline': only valid with 'kernel'" },
	{ SPEC_WITH("\"boot\": {\"kernel\": \"k\", \"format\": \"raw\"}"), "field 'boot.format': only valid with 'disk'" },
	{ SPEC_WITH("\"boot\": {\"disk\": \"d\", \"format\": \"vmdk\"}"), "field 'boot.format': expected \"raw\" or \"qcow2\"" },
	{ SPEC_WITH("\"boot\": {\"disk\": \"d\", \"readonly\": \"yes\"}"), "field 'boot.readonly': expected true or false" },
	{ SPEC_WITH("\"boot\": {\"kernel\": \"k\", \"readonly\": true}"), "field 'boot.readonly': only valid with 'disk'" },
	{ SPEC_WITH("\"boot\": {\"kernel\": \"\"}"), "field 'boot.kernel': expected a path" },
	{ SPEC_WITH("\"boot\": {\"kernel\": \"a\\nb\"}"), "field 'boot.kernel': expected a path" },
	{ SPEC_WITH("\"boot\": {\"kernel\": \"k\", \"cmdline\": \"a\\tb\"}"), "field 'boot.cmdline': expected" },
	{ SPEC_WITH("\"boot\": {\"kernel\": 1}"), "field 'boot.kernel': expected a path" },
	{ SPEC_WITH("\"boot\": {\"kernl\": \"k\"}"), "unknown field 'boot.kernl'; known fields in 'boot': kernel, initrd, cmdline, disk, format, readonly" },
	{ "{\"memory_mib\": 256, \"mac\": \"52:54:00:00:00:11\", \"passthrough\": {\"type\": \"emulated\"},"
	  " \"boot\": {\"kernel\": \"k\"}}", "field 'name': missing; expected 1-32 characters" },
	{ "{\"name\": \"a\", \"mac\": \"52:54:00:00:00:11\", \"passthrough\": {\"type\": \"emulated\"},"
	  " \"boot\": {\"kernel\": \"k\"}}", "field 'memory_mib': missing; expected an integer 64..65536" },
	{ "{\"name\": \"a\", \"memory_mib\": 256, \"passthrough\": {\"type\": \"emulated\"},"
	  " \"boot\": {\"kernel\": \"k\"}}", "field 'mac': missing" },
	{ "{\"name\": \"a\", \"memory_mib\": 256, \"mac\": \"52:54:00:00:00:11\","
	  " \"boot\": {\"kernel\": \"k\"}}", "field 'passthrough': missing" },
	{ "{\"name\": \"a\", \"memory_mib\": 256, \"mac\": \"52:54:00:00:00:11\","
	  " \"passthrough\": {\"type\": \"emulated\"}}", "field 'boot': missing" },
};

#define LIBVIRT_WITH(inner) "{\"name\": \"vm1\", \"libvirt\": {" inner "}}"

static const bad_case bad_libvirt[] = {
	{ LIBVIRT_WITH("\"uri\": \"qemu:///system\""), "field 'libvirt.domain': missing" },
	{ LIBVIRT_WITH("\"domain\": \"vm 1\""), "field 'libvirt.domain': expected a libvirt domain name" },
	{ LIBVIRT_WITH("\"domain\": \"../x\""), "field 'libvirt.domain': expected" },
	{ LIBVIRT_WITH("\"domain\": \"vm1\", \"uri\": \"qemu+ssh://root@evil/system\""),
	  "field 'libvirt.uri': expected this host's libvirt" },
	{ LIBVIRT_WITH("\"domain\": \"vm1\", \"uri\": \"qemu+ext:///system?command=/bin/sh\""),
	  "field 'libvirt.uri': expected" },
	{ LIBVIRT_WITH("\"domain\": \"vm1\", \"uri\": \"qemu:///system?socket=/run/../etc/x\""),
	  "field 'libvirt.uri': expected" },
	{ LIBVIRT_WITH("\"domain\": \"vm1\", \"uri\": \"qemu:///system?socket=/a&command=x\""),
	  "field 'libvirt.uri': expected" },
	{ LIBVIRT_WITH("\"domain\": \"vm1\", \"uri\": \"qemu:///systemd\""),
	  "field 'libvirt.uri': expected" },
	{ LIBVIRT_WITH("\"domain\": \"vm1\", \"persist\": \"yes\""),
	  "field 'libvirt.persist': expected true" },
	{ LIBVIRT_WITH("\"domain\": \"vm1\", \"name\": \"x\""),
	  "unknown field 'libvirt.name'" },
	{ "{\"name\": \"vm1\", \"memory_mib\": 256, \"libvirt\": {\"domain\": \"vm1\"}}",
	  "field 'memory_mib': not with 'libvirt': the domain's XML says it" },
	{ "{\"name\": \"vm1\", \"boot\": {\"kernel\": \"k\"}, \"libvirt\": {\"domain\": \"vm1\"}}",
	  "field 'boot': not with 'libvirt'" },
	{ "{\"name\": \"vm1\", \"libvirt\": \"vm1\"}", "field 'libvirt': expected an object" },
};

static const bad_case bad_documents[] = {
	{ "", "is empty; expected a JSON object" },
	{ " \n\t ", "is empty" },
	{ "[1, 2]", "expected a JSON object with the VM's fields, got [1,2]" },
	{ "\"vm1\"", "expected a JSON object with the VM's fields, got \"vm1\"" },
	{ "{\"name\": \"vm1\",", "ends in the middle of the JSON value" },
	{ "{\"name\": \"vm1\",\n  }", "not valid JSON at line 2, column 3" },
	{ "{\"name\": 'vm1'}", "not valid JSON at line 1, column 10" },
	{ "{} {}", "unexpected text after the JSON object at line 1, column 4" },
	{ "{\"name\": \"\xff\"}", "not valid JSON" },
	{ "{\"a\": [[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}", "not valid JSON at line 1, column" },
};

static void check_bad(const bad_case *c)
{
	vm_spec *s = NULL;
	char *error = NULL;
	int r;

	r = parse(c->json, &s, &error);
	if (r != -EINVAL || !error || strncmp(error, ORIGIN ": ", strlen(ORIGIN ": ")) != 0 ||
	    !strstr(error, c->expect))
		TEST_FAIL("input %s: expected -EINVAL and \"%s\", got %d and \"%s\"", c->json, c->expect,
			  r, error ? error : "(no message)");
	ASSERT_TRUE(s == NULL);
	free(error);
}

TEST(bad_fields)
{
	for (size_t i = 0; i < ELEMENTSOF(bad_fields); i++)
		check_bad(&bad_fields[i]);
}

TEST(bad_libvirt)
{
	for (size_t i = 0; i < ELEMENTSOF(bad_libvirt); i++)
		check_bad(&bad_libvirt[i]);
}

TEST(bad_documents)
{
	for (size_t i = 0; i < ELEMENTSOF(bad_documents); i++)
		check_bad(&bad_documents[i]);
}

TEST(nul_byte_and_size_cap)
{
	static const char with_nul[] = "{\"name\":\n \"a\0b\"}";
	vm_spec *s = NULL;
	char *error = NULL, *big;

	ASSERT_ERRNO(vm_spec_parse(with_nul, sizeof(with_nul) - 1, ORIGIN, BASE, &s, &error), EINVAL);
	ASSERT_TRUE(strstr(error, "has a NUL byte at line 2, column 4") != NULL);
	free(error);

	big = malloc(VM_SPEC_FILE_MAX + 2);
	ASSERT_TRUE(big != NULL);
	memset(big, ' ', VM_SPEC_FILE_MAX + 1);
	big[0] = '{';
	big[VM_SPEC_FILE_MAX] = '}';
	big[VM_SPEC_FILE_MAX + 1] = '\0';
	ASSERT_ERRNO(parse(big, &s, &error), EINVAL);
	ASSERT_TRUE(strstr(error, "larger than 65536 bytes") != NULL);
	ASSERT_TRUE(s == NULL);
	free(error);
	free(big);
}

TEST(relative_base_dir_refused)
{
	vm_spec *s = NULL;

	ASSERT_ERRNO(vm_spec_parse("{}", 2, ORIGIN, "relative", &s, NULL), EINVAL);
	ASSERT_TRUE(s == NULL);
}

static void write_file(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(write(fd, text, len), (ssize_t)len);
	close(fd);
}

TEST(load_files)
{
	char dir[] = "/tmp/test-vm-spec.XXXXXX", path[256], real[PATH_MAX], expect[PATH_MAX + 16];
	_cleanup_vm_spec_ vm_spec *s = NULL;
	vm_spec *none = NULL;
	char *error = NULL, *big;
	static const char good[] =
		"{\"name\": \"vm1\", \"memory_mib\": 256, \"mac\": \"52:54:00:00:00:11\","
		" \"passthrough\": {\"type\": \"emulated\"}, \"boot\": {\"kernel\": \"../k\"}}\n";

	ASSERT_TRUE(mkdtemp(dir) != NULL);
	ASSERT_TRUE(realpath(dir, real) != NULL);

	snprintf(path, sizeof(path), "%s/vm1.json", dir);
	write_file(path, good, strlen(good));
	ASSERT_OK(vm_spec_load(path, &s, &error));
	snprintf(expect, sizeof(expect), "%s/../k", real);
	ASSERT_STREQ(s->kernel, expect);
	ASSERT_STREQ(s->origin, path);

	snprintf(path, sizeof(path), "%s/missing.json", dir);
	ASSERT_ERRNO(vm_spec_load(path, &none, &error), ENOENT);
	ASSERT_TRUE(strstr(error, path) == error && strstr(error, "No such file") != NULL);
	free(error);

	ASSERT_ERRNO(vm_spec_load(dir, &none, &error), EINVAL);
	ASSERT_TRUE(strstr(error, "not a regular file") != NULL);
	free(error);

	/* A FIFO must be refused, not block the reader forever. */
	snprintf(path, sizeof(path), "%s/fifo.json", dir);
	ASSERT_OK(mkfifo(path, 0600));
	ASSERT_ERRNO(vm_spec_load(path, &none, &error), EINVAL);
	free(error);
	unlink(path);

	snprintf(path, sizeof(path), "%s/big.json", dir);
	big = malloc(VM_SPEC_FILE_MAX + 1);
	ASSERT_TRUE(big != NULL);
	memset(big, ' ', VM_SPEC_FILE_MAX + 1);
	write_file(path, big, VM_SPEC_FILE_MAX + 1);
	free(big);
	ASSERT_ERRNO(vm_spec_load(path, &none, &error), EFBIG);
	ASSERT_TRUE(strstr(error, "larger than 65536 bytes") != NULL);
	free(error);
	unlink(path);

	snprintf(path, sizeof(path), "%s/bad.json", dir);
	write_file(path, "{\"name\": \"vm1\", \"memory_mib\": \"lots\"}", 37);
	ASSERT_ERRNO(vm_spec_load(path, &none, &error), EINVAL);
	snprintf(expect, sizeof(expect), "%s: field 'memory_mib': expected an integer 64..65536", path);
	ASSERT_TRUE(strncmp(error, expect, strlen(expect)) == 0);
	free(error);
	unlink(path);

	ASSERT_TRUE(none == NULL);
	snprintf(path, sizeof(path), "%s/vm1.json", dir);
	unlink(path);
	ASSERT_OK(rmdir(dir));
}

int main(void)
{
	RUN_TEST(full_kernel_spec);
	RUN_TEST(defaults_and_vfio);
	RUN_TEST(accel_values);
	RUN_TEST(disk_format_defaults_to_raw_and_ipv6);
	RUN_TEST(json_round_trip);
	RUN_TEST(readonly_disk_round_trip);
	RUN_TEST(libvirt_domain);
	RUN_TEST(bad_fields);
	RUN_TEST(bad_libvirt);
	RUN_TEST(bad_documents);
	RUN_TEST(nul_byte_and_size_cap);
	RUN_TEST(relative_base_dir_refused);
	RUN_TEST(load_files);
	return 0;
}
