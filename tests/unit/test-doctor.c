// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `dmigrate doctor`'s checks on fixture hosts: an Intel host with VT-d, interrupt remapping and
 * posted interrupts set up as the seeds ask; one without an IOMMU; an AMD host; a host whose VF
 * shares its IOMMU group with a host device; the netns lab's shape (emulated pool, no KVM). Each
 * check is seen in its pass, warn and fail forms, and the verdict on the whole follows the
 * blocking checks. The probes (KVM, QEMU, netlink, sshd) are stand-ins.
 */
#include "host/doctor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host_fixture.h"
#include "test.h"

#define PF "0000:07:00.1"
#define FULL_CMDLINE                                                                               \
	"BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro intel_iommu=on iommu=pt intremap=no_x2apic_optout " \
	"isolcpus=2-7 lapic=notscdeadline nohz=off transparent_hugepage=madvise "                   \
	"intel_pstate=disable nowatchdog rcupdate.rcu_cpu_stall_suppress=1\n"

typedef struct probe_state {
	bool kvm_works;
	bool qemu_runs;
	vf_readout vf;
	bool peer_answers;
} probe_state;

static probe_state probes_now;

static bool fake_kvm(const char *device, char *reason, size_t size)
{
	if (!probes_now.kvm_works)
		snprintf(reason, size, "%s: the vCPU did not halt within 2000 ms", device);
	return probes_now.kvm_works;
}

static int fake_qemu(const char *binary, char *version, size_t size, char **machines, void *ud)
{
	if (!probes_now.qemu_runs)
		return -ENOENT;
	snprintf(version, size, "QEMU emulator version 7.2.0");
	*machines = strdup("Supported machines are:\n"
			   "pc                   Standard PC (alias of pc-i440fx-7.2)\n"
			   "q35                  Standard PC (Q35 + ICH9, 2009) (alias of pc-q35-7.2)\n"
			   "pc-q35-7.2           Standard PC (Q35 + ICH9, 2009)\n");
	return 0;
}

static int fake_vf(int pf_ifindex, unsigned vf, vf_readout *ret, void *ud)
{
	*ret = probes_now.vf;
	return 0;
}

static int fake_peer(const host_config *c, const peer_config *p, char *why, size_t size, void *ud)
{
	if (!probes_now.peer_answers) {
		snprintf(why, size, "its host key is not in %s", c->ssh_known_hosts_file);
		return -ENOKEY;
	}
	return 0;
}

static const doctor_probes fake_probes = { fake_kvm, fake_qemu, fake_vf, fake_peer, NULL };

static void intel_host(host_fixture *fx, bool posted)
{
	fx_file(fx, "proc/cpuinfo",
		"processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU E5-2630 v4\n"
		"flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic x2apic vmx smx est\n");
	fx_file(fx, "sys/firmware/acpi/tables/DMAR", "");
	/* cap: bit 59 is posted interrupts. */
	fx_file(fx, "sys/class/iommu/dmar0/intel-iommu/cap",
		posted ? "8d2008c40660462\n" : "d2078c106f0466\n");
	fx_file(fx, "proc/interrupts",
		"           CPU0       CPU1\n  0:         34          0   IR-IO-APIC    2-edge      timer\n"
		" 25:          0          0  IR-PCI-MSI 65536-edge      igb\n");
	fx_file(fx, "sys/module/kvm_intel/parameters/enable_apicv", "Y\n");
	/* kmod-host's patched KVM, DID on. */
	fx_file(fx, "sys/module/kvm/parameters/did", "Y\n");
	fx_file(fx, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "N\n");
	fx_dir(fx, "sys/module/vfio");
	fx_dir(fx, "sys/module/vfio_pci");
	fx_file(fx, "proc/cmdline", FULL_CMDLINE);
	fx_file(fx, "sys/devices/system/cpu/smt/active", "0\n");
	fx_file(fx, "sys/devices/system/cpu/online", "0-7\n");
	fx_file(fx, "proc/meminfo", "MemTotal: 65800000 kB\nHugePages_Total: 0\nHugePages_Free: 0\n"
				    "Hugepagesize: 2048 kB\n");
	fx_pf(fx, PF, "enp7s0f1", 7);
	fx->vf_driver = NULL;
	fx_make_vfs(fx, PF, 2);
	fx_file(fx, "sys/bus/pci/devices/" PF "/sriov_numvfs", "2\n");
	fx_bind(fx, fx_vf_address(0), "vfio-pci");
	fx_bind(fx, fx_vf_address(1), "vfio-pci");
}

static host_config host_with_pf(const char *state_dir)
{
	static peer_config peer = { .name = "hostB", .address = "198.18.0.2", .port = 22 };
	host_config c = { .name = "hostA", .state_dir = (char *)state_dir,
			  .qemu_binary = "qemu-system-x86_64", .passthrough = PASSTHROUGH_SRIOV,
			  .n_vfs = 2, .peers = &peer, .n_peers = 1,
			  .ssh_known_hosts_file = "/etc/dmigrate/known_hosts" };

	c.sriov = (sriov_config){ .pf = "enp7s0f1", .vfs = 2,
				  .settings = { .spoofchk = true, .trust = false } };
	CPU_ZERO(&c.dedicated_cpus);
	for (int i = 2; i < 6; i++)
		CPU_SET(i, &c.dedicated_cpus);
	return c;
}

static const doctor_check *get(const doctor_report *r, const char *id)
{
	const doctor_check *c = doctor_report_find(r, id);

	if (!c)
		TEST_FAIL("no check '%s'", id);
	return c;
}

static void expect(const doctor_report *r, const char *id, doctor_verdict v, const char *in_value)
{
	const doctor_check *c = get(r, id);

	if (c->verdict != v || (in_value && !strstr(c->value, in_value)))
		TEST_FAIL("%s: expected %s with \"%s\", got %s \"%s\"", id, doctor_verdict_name(v),
			  in_value ? in_value : "", doctor_verdict_name(c->verdict), c->value);
	if ((v == DOCTOR_WARN || v == DOCTOR_FAIL) && (!c->fix || !*c->fix))
		TEST_FAIL("%s: %s without a fix", id, doctor_verdict_name(v));
}

TEST(intel_host_with_vtd_and_ir)
{
	char state[] = "/tmp/test-doctor.XXXXXX";
	host_fixture fx;
	doctor_report r;
	host_config c;

	fx_init(&fx);
	intel_host(&fx, true);
	ASSERT_TRUE(mkdtemp(state));
	c = host_with_pf(state);
	probes_now = (probe_state){ .kvm_works = true, .qemu_runs = true, .peer_answers = true,
				    .vf = { .spoofchk = true } };
	ASSERT_OK(doctor_run(&fx.fs, &c, &fake_probes, &r));
	expect(&r, "cpu-virt", DOCTOR_OK, "vmx");
	expect(&r, "kvm", DOCTOR_OK, "HLT");
	expect(&r, "iommu", DOCTOR_OK, "DMAR table, 1 unit (dmar0)");
	expect(&r, "interrupt-remapping", DOCTOR_OK, "on");
	expect(&r, "unsafe-interrupts", DOCTOR_OK, "N");
	expect(&r, "posted-interrupts", DOCTOR_OK, "VT-d posted interrupts: yes; APICv: on");
	expect(&r, "did-kvm", DOCTOR_OK, "kvm.did=Y on VMX: offers DID_F_IDLE");
	expect(&r, "cmdline:intel_iommu", DOCTOR_OK, "intel_iommu=on");
	expect(&r, "cmdline:isolcpus", DOCTOR_OK, "isolcpus=2-7");
	expect(&r, "cmdline:nowatchdog", DOCTOR_OK, "nowatchdog");
	expect(&r, "cmdline:intel_pstate", DOCTOR_OK, NULL);
	ASSERT_STREQ(get(&r, "cmdline:nohz")->tag, "DID, Recommend");
	ASSERT_STREQ(get(&r, "cmdline:transparent_hugepage")->tag, "Recommend");
	ASSERT_STREQ(get(&r, "cmdline:rcupdate.rcu_cpu_stall_suppress")->tag, "Option");
	expect(&r, "dedicated-cpus", DOCTOR_OK, "dedicated_cpus 2-5, isolated");
	expect(&r, "hyperthreading", DOCTOR_OK, "off");
	expect(&r, "module:vfio-pci", DOCTOR_OK, "loaded");
	expect(&r, "module:vfio_iommu_type1", DOCTOR_OK, "loaded");
	expect(&r, "pf", DOCTOR_OK, "enp7s0f1 (enp7s0f1, 8086:10c9), 2 of at most 7 VFs");
	expect(&r, "vf:0000:07:10.0", DOCTOR_OK, "on vfio-pci, IOMMU group 100 viable");
	expect(&r, "vf-settings:0000:07:10.1", DOCTOR_OK, "mac 00:00:00:00:00:00, spoofchk on, trust off");
	expect(&r, "pool", DOCTOR_OK, "2 of 2");
	expect(&r, "qemu", DOCTOR_OK, "q35 is pc-q35-7.2");
	expect(&r, "peer:hostB", DOCTOR_OK, "198.18.0.2:22 answers");
	ASSERT_STREQ(r.qemu_machine, "pc-q35-7.2");
	ASSERT_STREQ(r.pf_model, "8086:10c9");
	ASSERT_TRUE(doctor_report_ok(&r));
	doctor_report_done(&r);

	/* The warn and fail forms on the same host. */
	intel_host(&fx, false);
	fx_file(&fx, "sys/devices/system/cpu/smt/active", "1\n");
	fx_file(&fx, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "Y\n");
	fx_file(&fx, "proc/cmdline", "ro intel_iommu=on isolcpus=domain,managed_irq,4-7 nohz=on\n");
	fx_file(&fx, "sys/module/kvm/parameters/did", "N\n");
	probes_now.vf.trust = true;
	probes_now.peer_answers = false;
	ASSERT_OK(doctor_run(&fx.fs, &c, &fake_probes, &r));
	expect(&r, "posted-interrupts", DOCTOR_WARN, "VT-d posted interrupts: no; APICv: on");
	expect(&r, "did-kvm", DOCTOR_WARN, "patched KVM is loaded with DID off (kvm.did=N)");
	expect(&r, "hyperthreading", DOCTOR_WARN, "on");
	expect(&r, "unsafe-interrupts", DOCTOR_FAIL, "Y");
	expect(&r, "cmdline:nohz", DOCTOR_FAIL, "nohz=on");
	expect(&r, "cmdline:lapic", DOCTOR_FAIL, "not set");
	expect(&r, "cmdline:iommu", DOCTOR_WARN, "not set");
	expect(&r, "cmdline:nowatchdog", DOCTOR_NA, "optional");
	expect(&r, "dedicated-cpus", DOCTOR_WARN, "not all in isolcpus (domain,managed_irq,4-7)");
	expect(&r, "vf-settings:0000:07:10.0", DOCTOR_WARN, "trust on (expected off)");
	expect(&r, "peer:hostB", DOCTOR_FAIL, "not in /etc/dmigrate/known_hosts");
	/* The peer is what a migration needs of these; the rest only warns or is DID's. */
	ASSERT_TRUE(!doctor_report_ok(&r));
	doctor_report_done(&r);
	probes_now.peer_answers = true;
	ASSERT_OK(doctor_run(&fx.fs, &c, &fake_probes, &r));
	ASSERT_TRUE(doctor_report_ok(&r));
	doctor_report_done(&r);
	rmdir(state);
	fx_cleanup(&fx);
}

TEST(host_without_an_iommu)
{
	char state[] = "/tmp/test-doctor.XXXXXX";
	host_fixture fx;
	doctor_report r;
	host_config c;

	fx_init(&fx);
	fx_file(&fx, "proc/cpuinfo", "vendor_id\t: GenuineIntel\nflags\t\t: fpu vme vmx\n");
	fx_file(&fx, "proc/interrupts", "  0:  34  IO-APIC 2-edge timer\n");
	fx_file(&fx, "proc/cmdline", "ro quiet\n");
	fx_pf(&fx, PF, "enp7s0f1", 7);
	fx.vf_driver = NULL;
	fx.vf_first_group = 0; /* no IOMMU: no groups */
	ASSERT_TRUE(mkdtemp(state));
	c = host_with_pf(state);
	probes_now = (probe_state){ .kvm_works = true, .qemu_runs = true, .peer_answers = true };
	ASSERT_OK(doctor_run(&fx.fs, &c, &fake_probes, &r));
	expect(&r, "iommu", DOCTOR_FAIL, "no DMAR or IVRS table");
	expect(&r, "interrupt-remapping", DOCTOR_NA, "no IOMMU");
	expect(&r, "cmdline:intel_iommu", DOCTOR_FAIL, "not set");
	expect(&r, "module:vfio", DOCTOR_FAIL, "not loaded");
	expect(&r, "unsafe-interrupts", DOCTOR_NA, "not loaded");
	expect(&r, "pf", DOCTOR_WARN, "0 of at most 7 VFs, 2 asked");
	expect(&r, "pool", DOCTOR_FAIL, "0 of 2");
	ASSERT_TRUE(get(&r, "iommu")->blocking);
	ASSERT_TRUE(!doctor_report_ok(&r));
	doctor_report_done(&r);

	/* A DMAR table the kernel did not use: the BIOS is fine, the command line is not. */
	fx_file(&fx, "sys/firmware/acpi/tables/DMAR", "");
	ASSERT_OK(doctor_run(&fx.fs, &c, &fake_probes, &r));
	expect(&r, "iommu", DOCTOR_FAIL, "DMAR table present, but no IOMMU");
	ASSERT_TRUE(strstr(get(&r, "iommu")->fix, "intel_iommu=on"));
	doctor_report_done(&r);
	rmdir(state);
	fx_cleanup(&fx);
}

TEST(amd_host)
{
	host_fixture fx;
	doctor_report r;

	fx_init(&fx);
	fx_file(&fx, "proc/cpuinfo", "vendor_id\t: AuthenticAMD\nflags\t\t: fpu svm x2apic\n");
	fx_file(&fx, "sys/firmware/acpi/tables/IVRS", "");
	fx_dir(&fx, "sys/class/iommu/ivhd0");
	fx_dir(&fx, "sys/kernel/iommu_groups/0");
	fx_file(&fx, "proc/interrupts", " 24:  0  IR-PCI-MSI 2048-edge  AMD-Vi\n");
	fx_file(&fx, "sys/module/kvm_amd/parameters/avic", "1\n");
	/* Debian's own KVM: no did parameter. */
	fx_dir(&fx, "sys/module/kvm/parameters");
	fx_file(&fx, "proc/cmdline", "ro iommu=pt\n");
	probes_now = (probe_state){ .kvm_works = true, .qemu_runs = true };
	ASSERT_OK(doctor_run(&fx.fs, NULL, &fake_probes, &r));
	expect(&r, "cpu-virt", DOCTOR_OK, "svm (AMD-V)");
	expect(&r, "iommu", DOCTOR_OK, "IVRS table, 1 unit (ivhd0), 1 IOMMU groups");
	expect(&r, "interrupt-remapping", DOCTOR_OK, "on");
	expect(&r, "posted-interrupts", DOCTOR_OK, "AVIC on");
	expect(&r, "did-kvm", DOCTOR_WARN, "the stock KVM (no kvm.did parameter)");
	/* AMD's IOMMU is on without amd_iommu=on; intel_pstate is no question on AMD. */
	expect(&r, "cmdline:amd_iommu", DOCTOR_OK, "on by default");
	ASSERT_TRUE(doctor_report_find(&r, "cmdline:intel_iommu") == NULL);
	ASSERT_TRUE(doctor_report_find(&r, "cmdline:intel_pstate") == NULL);
	expect(&r, "pool", DOCTOR_NA, "no configuration");
	expect(&r, "peers", DOCTOR_NA, "no configuration");
	expect(&r, "hyperthreading", DOCTOR_NA, "unknown");
	/* vfio is not loaded: no VF can be passed through, whatever the pool. */
	expect(&r, "module:vfio", DOCTOR_FAIL, "not loaded");
	ASSERT_TRUE(!doctor_report_ok(&r));
	doctor_report_done(&r);
	fx_dir(&fx, "sys/module/vfio");
	fx_dir(&fx, "sys/module/vfio_pci");
	fx_dir(&fx, "sys/module/vfio_iommu_type1");
	ASSERT_OK(doctor_run(&fx.fs, NULL, &fake_probes, &r));
	ASSERT_TRUE(doctor_report_ok(&r));
	doctor_report_done(&r);
	fx_cleanup(&fx);
}

TEST(host_with_a_bad_group)
{
	char state[] = "/tmp/test-doctor.XXXXXX";
	host_fixture fx;
	doctor_report r;
	host_config c;

	fx_init(&fx);
	fx.vf_first_group = 30;
	fx_pci_device(&fx, "0000:00:1f.2", 0x010601, "ahci", 30);
	fx_pci_device(&fx, "0000:00:1f.3", 0x040300, "snd_hda_intel", 31);
	intel_host(&fx, true);
	ASSERT_TRUE(mkdtemp(state));
	c = host_with_pf(state);
	probes_now = (probe_state){ .kvm_works = true, .qemu_runs = true, .peer_answers = true,
				    .vf = { .spoofchk = true } };
	ASSERT_OK(doctor_run(&fx.fs, &c, &fake_probes, &r));
	expect(&r, "vf:0000:07:10.0", DOCTOR_FAIL, "IOMMU group 30 also holds 0000:00:1f.2, bound to ahci");
	expect(&r, "vf:0000:07:10.1", DOCTOR_FAIL, "IOMMU group 31 also holds 0000:00:1f.3");
	expect(&r, "pool", DOCTOR_FAIL, "0 of 2 devices usable");
	ASSERT_TRUE(!doctor_report_ok(&r));
	doctor_report_done(&r);
	rmdir(state);
	fx_cleanup(&fx);
}

TEST(netns_lab_shape_and_json)
{
	host_fixture fx;
	host_config c = { .name = "hostA", .state_dir = "/nonexistent", .qemu_binary = "qemu",
			  .passthrough = PASSTHROUGH_EMULATED, .n_vfs = 2 };
	doctor_report r, back;
	json_object *j;

	fx_init(&fx);
	fx_file(&fx, "proc/cpuinfo", "vendor_id\t: AuthenticAMD\nflags\t\t: fpu\n");
	probes_now = (probe_state){ .kvm_works = false, .qemu_runs = false };
	ASSERT_OK(doctor_run(&fx.fs, &c, &fake_probes, &r));
	expect(&r, "kvm", DOCTOR_FAIL, "did not halt");
	expect(&r, "iommu", DOCTOR_FAIL, NULL);
	expect(&r, "interrupt-remapping", DOCTOR_NA, NULL);
	expect(&r, "did-kvm", DOCTOR_NA, "KVM is not loaded");
	expect(&r, "pool", DOCTOR_NA, "emulated");
	expect(&r, "module:vfio-pci", DOCTOR_NA, "does not use it");
	expect(&r, "qemu", DOCTOR_FAIL, "qemu does not run");
	ASSERT_TRUE(!doctor_report_ok(&r));

	j = doctor_report_to_json(&r, "hostA");
	ASSERT_OK(doctor_report_from_json(j, &back));
	ASSERT_EQ(back.n, r.n);
	for (size_t i = 0; i < r.n; i++) {
		ASSERT_STREQ(back.checks[i].id, r.checks[i].id);
		ASSERT_EQ(back.checks[i].verdict, r.checks[i].verdict);
		ASSERT_EQ(back.checks[i].blocking, r.checks[i].blocking);
	}
	ASSERT_TRUE(!doctor_report_ok(&back));
	json_object_put(j);
	doctor_report_done(&back);
	doctor_report_done(&r);
	j = json_tokener_parse("{\"checks\": [{\"id\": \"x\", \"title\": \"t\", \"verdict\": \"great\","
			       " \"value\": \"v\"}]}");
	ASSERT_ERRNO(doctor_report_from_json(j, &back), EBADMSG);
	json_object_put(j);
	fx_cleanup(&fx);
}

int main(void)
{
	RUN_TEST(intel_host_with_vtd_and_ir);
	RUN_TEST(host_without_an_iommu);
	RUN_TEST(amd_host);
	RUN_TEST(host_with_a_bad_group);
	RUN_TEST(netns_lab_shape_and_json);
	return 0;
}
