// SPDX-License-Identifier: GPL-2.0-or-later
/* The QEMU command line of a spec, and the QMP arguments that plug its VF. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "macro.h"
#include "host/kvm_probe.h"
#include "host/qemu_argv.h"
#include "host/qemu_tls.h"
#include "test.h"

static vm_spec *spec_new(const char *json)
{
	vm_spec *s = NULL;
	char *error = NULL;

	if (vm_spec_parse(json, strlen(json), "t.json", "/specs", &s, &error) < 0)
		TEST_FAIL("spec did not parse: %s", error);
	return s;
}

#define EMULATED                                                                                   \
	"{\"name\": \"vm1\", \"memory_mib\": 256, \"vcpus\": 2, \"mac\": \"52:54:00:00:00:11\","   \
	" \"address\": \"198.18.0.11/24\", \"passthrough\": {\"type\": \"emulated\"},"             \
	" \"boot\": {\"kernel\": \"vmlinuz\", \"initrd\": \"initrd.img\", \"cmdline\": \"console=ttyS0\"}}"
#define VFIO                                                                                       \
	"{\"name\": \"db\", \"memory_mib\": 1024, \"mac\": \"52:54:00:00:00:12\", \"bridge\": \"br1\"," \
	" \"passthrough\": {\"type\": \"vfio\", \"host\": \"0000:3b:02.1\"},"                      \
	" \"boot\": {\"disk\": \"/img/db,1.qcow2\", \"format\": \"qcow2\"}}"

/* The argument after `option` whose value starts with `prefix`, or NULL. */
static const char *argv_find(char **argv, const char *option, const char *prefix)
{
	for (char **a = argv; a[0] && a[1]; a++)
		if (!strcmp(a[0], option) && !strncmp(a[1], prefix, strlen(prefix)))
			return a[1];
	return NULL;
}

static bool argv_contains(char **argv, const char *needle)
{
	for (char **a = argv; *a; a++)
		if (strstr(*a, needle))
			return true;
	return false;
}

TEST(emulated_full)
{
	_cleanup_vm_spec_ vm_spec *s = spec_new(EMULATED);
	_cleanup_argv_ char **argv = NULL;

	ASSERT_OK(qemu_argv_build(s, "/run/vm1", 0, &argv));
	ASSERT_STREQ(argv[0], "qemu-system-x86_64");
	ASSERT_STREQ(argv_find(argv, "-name", ""), "guest=vm1,debug-threads=on");
	ASSERT_STREQ(argv_find(argv, "-machine", ""), "q35");
	ASSERT_STREQ(argv_find(argv, "-accel", ""), "tcg");
	ASSERT_STREQ(argv_find(argv, "-m", ""), "256");
	/* No VFIO device pins its RAM: nothing to preallocate. */
	ASSERT_TRUE(!argv_contains(argv, "-mem-prealloc"));
	ASSERT_STREQ(argv_find(argv, "-smp", ""), "2");
	ASSERT_STREQ(argv_find(argv, "-display", ""), "none");
	ASSERT_TRUE(argv_contains(argv, "-nodefaults"));
	ASSERT_STREQ(argv_find(argv, "-pidfile", ""), "/run/vm1/qemu.pid");
	ASSERT_STREQ(argv_find(argv, "-chardev", "socket,id=qmp"),
		     "socket,id=qmp,path=/run/vm1/qmp.sock,server=on,wait=off");
	ASSERT_STREQ(argv_find(argv, "-mon", ""), "chardev=qmp,mode=control");
	ASSERT_STREQ(argv_find(argv, "-chardev", "socket,id=console"),
		     "socket,id=console,path=/run/vm1/console.sock,server=on,wait=off,"
		     "logfile=/run/vm1/serial.log,logappend=on");
	ASSERT_STREQ(argv_find(argv, "-serial", ""), "chardev:console");
	ASSERT_STREQ(argv_find(argv, "-chardev", "socket,id=agent"),
		     "socket,id=agent,path=/run/vm1/agent.sock,server=on,wait=off");
	ASSERT_STREQ(argv_find(argv, "-device", "virtserialport"),
		     "virtserialport,bus=vserial0.0,chardev=agent,name=org.dmigrate.agent.0");
	ASSERT_TRUE(argv_find(argv, "-device", "virtio-serial-pci,id=vserial0") != NULL);
	ASSERT_STREQ(argv_find(argv, "-kernel", ""), "/specs/vmlinuz");
	ASSERT_STREQ(argv_find(argv, "-initrd", ""), "/specs/initrd.img");
	ASSERT_STREQ(argv_find(argv, "-append", ""), "console=ttyS0 dmigrate.addr=198.18.0.11/24");
	ASSERT_STREQ(argv_find(argv, "-netdev", "bridge,id=standbynet0"),
		     "bridge,id=standbynet0,br=br0");
	ASSERT_STREQ(argv_find(argv, "-device", "virtio-net-pci"),
		     "virtio-net-pci,id=standby0,netdev=standbynet0,mac=52:54:00:00:00:11");
	ASSERT_STREQ(argv_find(argv, "-device", "pcie-root-port"),
		     "pcie-root-port,id=vfport0,chassis=1");
	ASSERT_STREQ(argv_find(argv, "-netdev", "bridge,id=vfnet0"), "bridge,id=vfnet0,br=br0");
	ASSERT_STREQ(argv_find(argv, "-device", "e1000e"),
		     "e1000e,id=vf0,bus=vfport0,netdev=vfnet0,mac=52:54:00:00:00:11,romfile=");
	ASSERT_TRUE(!argv_contains(argv, "-incoming"));
	ASSERT_TRUE(!argv_contains(argv, "-daemonize"));
}

/* The destination: the VF port stays empty, QEMU waits for the migration stream. */
TEST(no_vf_incoming)
{
	_cleanup_vm_spec_ vm_spec *s = spec_new(EMULATED);
	_cleanup_argv_ char **argv = NULL;

	ASSERT_OK(qemu_argv_build(s, "/run/vm1", QEMU_ARGV_NO_VF | QEMU_ARGV_INCOMING, &argv));
	ASSERT_STREQ(argv_find(argv, "-incoming", ""), "defer");
	ASSERT_TRUE(argv_contains(argv, "-S"));
	ASSERT_TRUE(argv_find(argv, "-device", "pcie-root-port,id=vfport0") != NULL);
	ASSERT_TRUE(!argv_contains(argv, "vf0"));
	ASSERT_TRUE(!argv_contains(argv, "vfnet0"));
	ASSERT_TRUE(argv_find(argv, "-device", "virtio-net-pci,id=standby0") != NULL);
}

/*
 * dmigrated's destination: the emulated VF's netdev is there from the start, its device is
 * not, so that the plug adds only the device; a real VF has no netdev to add.
 */
TEST(no_vf_with_its_netdev)
{
	_cleanup_vm_spec_ vm_spec *s = spec_new(EMULATED);
	_cleanup_vm_spec_ vm_spec *vfio = spec_new(VFIO);
	_cleanup_argv_ char **argv = NULL, **vfio_argv = NULL;
	const unsigned flags = QEMU_ARGV_NO_VF | QEMU_ARGV_VF_NETDEV | QEMU_ARGV_INCOMING;

	ASSERT_OK(qemu_argv_build(s, "/run/vm1", flags, &argv));
	ASSERT_STREQ(argv_find(argv, "-netdev", "bridge,id=vfnet0"), "bridge,id=vfnet0,br=br0");
	ASSERT_TRUE(!argv_contains(argv, "e1000e"));
	ASSERT_STREQ(argv_find(argv, "-incoming", ""), "defer");
	ASSERT_OK(qemu_argv_build(vfio, "/run/vm1", flags, &vfio_argv));
	ASSERT_TRUE(!argv_contains(vfio_argv, "vfnet0"));
	ASSERT_TRUE(!argv_contains(vfio_argv, "vfio-pci"));
}

/* Both ends' credentials on every QEMU, and an incoming one listens with the server's. */
TEST(tls_objects)
{
	_cleanup_vm_spec_ vm_spec *s = spec_new(EMULATED);
	_cleanup_argv_ char **argv = NULL, **incoming = NULL;

	ASSERT_OK(qemu_argv_build(s, "/run/vm1", 0, &argv));
	ASSERT_TRUE(!argv_contains(argv, "tls-creds"));
	ASSERT_OK(qemu_argv_add_tls(&argv, "/etc/dmigrate/tls", 0));
	ASSERT_STREQ(argv_find(argv, "-object", "tls-creds-x509,id=" QEMU_TLS_SERVER_ID),
		     "tls-creds-x509,id=dmigrate-tls-server,endpoint=server,dir=/etc/dmigrate/tls,"
		     "verify-peer=on");
	ASSERT_STREQ(argv_find(argv, "-object", "tls-creds-x509,id=" QEMU_TLS_CLIENT_ID),
		     "tls-creds-x509,id=dmigrate-tls-client,endpoint=client,dir=/etc/dmigrate/tls,"
		     "verify-peer=on");
	ASSERT_TRUE(argv_find(argv, "-global", "migration.") == NULL);
	ASSERT_STREQ(argv[0], "qemu-system-x86_64");

	ASSERT_OK(qemu_argv_build(s, "/run/vm1", QEMU_ARGV_NO_VF | QEMU_ARGV_INCOMING, &incoming));
	ASSERT_OK(qemu_argv_add_tls(&incoming, "/etc/dmigrate/tls",
				    QEMU_ARGV_NO_VF | QEMU_ARGV_INCOMING));
	ASSERT_STREQ(argv_find(incoming, "-global", "migration."),
		     "migration.tls-creds=" QEMU_TLS_SERVER_ID);
	ASSERT_STREQ(argv_find(incoming, "-incoming", ""), "defer");
}

TEST(vfio_disk_and_escaping)
{
	_cleanup_vm_spec_ vm_spec *s = spec_new(VFIO);
	_cleanup_argv_ char **argv = NULL;

	ASSERT_OK(qemu_argv_build(s, "/run/a,b", 0, &argv));
	ASSERT_STREQ(argv_find(argv, "-device", "vfio-pci"),
		     "vfio-pci,id=vf0,bus=vfport0,host=0000:3b:02.1");
	ASSERT_TRUE(argv_contains(argv, "-mem-prealloc"));
	ASSERT_TRUE(!argv_contains(argv, "vfnet0"));
	ASSERT_TRUE(!argv_contains(argv, "-kernel"));
	ASSERT_TRUE(!argv_contains(argv, "-append"));
	/* A comma in a value is doubled, or QEMU would read the rest as another option. */
	ASSERT_STREQ(argv_find(argv, "-drive", ""), "file=/img/db,,1.qcow2,format=qcow2,if=virtio");
	s->disk_readonly = true;
	qemu_argv_free(argv);
	ASSERT_OK(qemu_argv_build(s, "/run/a,b", 0, &argv));
	ASSERT_STREQ(argv_find(argv, "-drive", ""),
		     "file=/img/db,,1.qcow2,format=qcow2,if=virtio,readonly=on");
	ASSERT_STREQ(argv_find(argv, "-chardev", "socket,id=qmp"),
		     "socket,id=qmp,path=/run/a,,b/qmp.sock,server=on,wait=off");
	/* -pidfile is a plain argument, not an option string: no escaping there. */
	ASSERT_STREQ(argv_find(argv, "-pidfile", ""), "/run/a,b/qemu.pid");
	ASSERT_STREQ(argv_find(argv, "-netdev", "bridge"), "bridge,id=standbynet0,br=br1");
	/* A destination's QEMU comes in without its VF: its RAM is preallocated all the same, so
	 * the plug after the switchover only pins pages that are there. */
	qemu_argv_free(argv);
	ASSERT_OK(qemu_argv_build(s, "/run/a,b", QEMU_ARGV_NO_VF | QEMU_ARGV_INCOMING, &argv));
	ASSERT_TRUE(argv_contains(argv, "-mem-prealloc"));
	ASSERT_TRUE(!argv_contains(argv, "vfio-pci"));
}

TEST(cmdline_without_address)
{
	_cleanup_vm_spec_ vm_spec *s = spec_new(
		"{\"name\": \"a\", \"memory_mib\": 64, \"mac\": \"52:54:00:00:00:01\","
		" \"passthrough\": {\"type\": \"emulated\"}, \"boot\": {\"kernel\": \"/k\"}}");
	_cleanup_argv_ char **argv = NULL;

	ASSERT_OK(qemu_argv_build(s, "/r", 0, &argv));
	ASSERT_STREQ(argv_find(argv, "-append", ""), "");
	ASSERT_TRUE(!argv_contains(argv, "-initrd"));
}

TEST(accel_kvm_and_tcg)
{
	_cleanup_vm_spec_ vm_spec *s = spec_new(VFIO);
	_cleanup_argv_ char **kvm = NULL, **tcg = NULL;

	ASSERT_OK(qemu_argv_build(s, "/run/db", QEMU_ARGV_KVM, &kvm));
	ASSERT_STREQ(argv_find(kvm, "-accel", ""), "kvm");
	ASSERT_STREQ(argv_find(kvm, "-cpu", ""), "host");
	ASSERT_TRUE(!argv_contains(kvm, "tcg"));
	/* The VF is a real one either way. */
	ASSERT_STREQ(argv_find(kvm, "-device", "vfio-pci"), "vfio-pci,id=vf0,bus=vfport0,host=0000:3b:02.1");

	ASSERT_OK(qemu_argv_build(s, "/run/db", 0, &tcg));
	ASSERT_STREQ(argv_find(tcg, "-accel", ""), "tcg");
	ASSERT_TRUE(argv_find(tcg, "-cpu", "") == NULL);
}

/* The spec's choice, else the host's, else the probe's. */
TEST(accel_resolve)
{
	for (int probe = 0; probe <= 1; probe++) {
		ASSERT_EQ(qemu_accel_resolve(QEMU_ACCEL_TCG, QEMU_ACCEL_KVM, probe), QEMU_ACCEL_TCG);
		ASSERT_EQ(qemu_accel_resolve(QEMU_ACCEL_KVM, QEMU_ACCEL_TCG, probe), QEMU_ACCEL_KVM);
		ASSERT_EQ(qemu_accel_resolve(QEMU_ACCEL_AUTO, QEMU_ACCEL_TCG, probe), QEMU_ACCEL_TCG);
		ASSERT_EQ(qemu_accel_resolve(QEMU_ACCEL_AUTO, QEMU_ACCEL_KVM, probe), QEMU_ACCEL_KVM);
	}
	ASSERT_EQ(qemu_accel_resolve(QEMU_ACCEL_AUTO, QEMU_ACCEL_AUTO, true), QEMU_ACCEL_KVM);
	ASSERT_EQ(qemu_accel_resolve(QEMU_ACCEL_AUTO, QEMU_ACCEL_AUTO, false), QEMU_ACCEL_TCG);
}

/* What the probe says where KVM cannot work; where it can, it must agree with itself. */
TEST(kvm_probe_refuses)
{
	char reason[256];

	ASSERT_TRUE(!kvm_probe("/nonexistent/kvm", reason, sizeof(reason)));
	ASSERT_TRUE(strstr(reason, "/nonexistent/kvm: No such file or directory") != NULL);
	/* A device that opens but is no KVM: the open() alone must not count. */
	ASSERT_TRUE(!kvm_probe("/dev/null", reason, sizeof(reason)));
	ASSERT_STREQ(reason, "/dev/null: unexpected KVM API version");
}

TEST(bad_run_dirs)
{
	_cleanup_vm_spec_ vm_spec *s = spec_new(EMULATED);
	char **argv = NULL, longdir[128];

	ASSERT_ERRNO(qemu_argv_build(s, "run/vm1", 0, &argv), EINVAL);
	/* sun_path holds 108 bytes: 95 + strlen("/console.sock") + NUL is 109. */
	memset(longdir, 'x', sizeof(longdir));
	longdir[0] = '/';
	longdir[95] = '\0';
	ASSERT_ERRNO(qemu_argv_build(s, longdir, 0, &argv), ENAMETOOLONG);
	longdir[94] = '\0';
	ASSERT_OK(qemu_argv_build(s, longdir, 0, &argv));
	qemu_argv_free(argv);
}

/* A libvirt domain's spec describes no QEMU: no command line, no crash on its missing fields. */
TEST(libvirt_domain_has_no_command_line)
{
	_cleanup_vm_spec_ vm_spec *s = spec_new("{\"name\": \"vm1\", \"libvirt\": {\"domain\": \"vm1\"}}");
	char **argv = NULL;

	ASSERT_ERRNO(qemu_argv_build(s, "/run/dmigrate/vm1", 0, &argv), EOPNOTSUPP);
	ASSERT_TRUE(argv == NULL);
}

/* The QMP plug and the command line come from one definition: compare them. */
TEST(vf_plug_args_match_command_line)
{
	_cleanup_vm_spec_ vm_spec *s = spec_new(EMULATED);
	_cleanup_json_ json_object *netdev = NULL, *device = NULL;

	ASSERT_OK(qemu_vf_plug_args(s, NULL, &netdev, &device));
	ASSERT_STREQ(json_object_to_json_string_ext(netdev, JSON_C_TO_STRING_PLAIN),
		     "{\"type\":\"bridge\",\"id\":\"vfnet0\",\"br\":\"br0\"}");
	ASSERT_STREQ(json_object_to_json_string_ext(device, JSON_C_TO_STRING_PLAIN),
		     "{\"driver\":\"e1000e\",\"id\":\"vf0\",\"bus\":\"vfport0\",\"netdev\":\"vfnet0\","
		     "\"mac\":\"52:54:00:00:00:11\",\"romfile\":\"\"}");
}

TEST(vf_plug_args_vfio_override)
{
	_cleanup_vm_spec_ vm_spec *s = spec_new(VFIO);
	json_object *netdev = (json_object *)&netdev, *device = NULL;

	ASSERT_OK(qemu_vf_plug_args(s, "0000:5e:00.3", &netdev, &device));
	ASSERT_TRUE(netdev == NULL);
	ASSERT_STREQ(json_object_to_json_string_ext(device, JSON_C_TO_STRING_PLAIN),
		     "{\"driver\":\"vfio-pci\",\"id\":\"vf0\",\"bus\":\"vfport0\",\"host\":\"0000:5e:00.3\"}");
	json_object_put(device);

	ASSERT_OK(qemu_vf_plug_args(s, NULL, &netdev, &device));
	ASSERT_STREQ(json_object_get_string(json_object_object_get(device, "host")), "0000:3b:02.1");
	json_object_put(device);
}

int main(void)
{
	RUN_TEST(emulated_full);
	RUN_TEST(no_vf_incoming);
	RUN_TEST(no_vf_with_its_netdev);
	RUN_TEST(tls_objects);
	RUN_TEST(vfio_disk_and_escaping);
	RUN_TEST(cmdline_without_address);
	RUN_TEST(accel_kvm_and_tcg);
	RUN_TEST(accel_resolve);
	RUN_TEST(kvm_probe_refuses);
	RUN_TEST(libvirt_domain_has_no_command_line);
	RUN_TEST(bad_run_dirs);
	RUN_TEST(vf_plug_args_match_command_line);
	RUN_TEST(vf_plug_args_vfio_override);
	return 0;
}
