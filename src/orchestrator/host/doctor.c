// SPDX-License-Identifier: GPL-2.0-or-later
#include "host/doctor.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "daemon/state_file.h"
#include "host/cpu_list.h"
#include "host/iommu_group.h"
#include "host/sriov_pf.h"
#include "host/vm_spec.h"

#define DOCTOR_MAX_CHECKS 512
#define DOCTOR_TEXT_MAX 512

const char *doctor_verdict_name(doctor_verdict v)
{
	static const char *const names[] = { "ok", "warn", "fail", "n/a" };

	return v <= DOCTOR_NA ? names[v] : "?";
}

static void doctor_add(doctor_report *r, const char *id, const char *title, const char *tag,
		       bool blocking, doctor_verdict verdict, const char *fix, const char *fmt, ...)
	_printf_(8, 9);
static void doctor_add(doctor_report *r, const char *id, const char *title, const char *tag,
		       bool blocking, doctor_verdict verdict, const char *fix, const char *fmt, ...)
{
	doctor_check *c, *bigger;
	va_list ap;

	if (r->n >= DOCTOR_MAX_CHECKS)
		return;
	bigger = realloc(r->checks, (r->n + 1) * sizeof(*r->checks));
	if (!bigger)
		return;
	r->checks = bigger;
	c = &r->checks[r->n];
	*c = (doctor_check){ .verdict = verdict, .blocking = blocking };
	c->id = strdup(id);
	c->title = strdup(title);
	c->tag = tag ? strdup(tag) : NULL;
	c->fix = fix && verdict != DOCTOR_OK && verdict != DOCTOR_NA ? strdup(fix) : NULL;
	va_start(ap, fmt);
	if (vasprintf(&c->value, fmt, ap) < 0)
		c->value = NULL;
	va_end(ap);
	if (!c->id || !c->title || !c->value) {
		free(c->id);
		free(c->title);
		free(c->tag);
		free(c->fix);
		free(c->value);
		return;
	}
	r->n++;
}

/* --- what the CPU is --- */

typedef struct cpu_info {
	bool vmx, svm, x2apic;
	bool intel, amd;
} cpu_info;

static void cpu_info_read(const sysfs *fs, cpu_info *ret)
{
	_cleanup_free_ char *path = sysfs_path(fs, "proc/cpuinfo");
	char line[8192];
	bool flags = false, vendor = false;
	FILE *f;

	memset(ret, 0, sizeof(*ret));
	f = path ? fopen(path, "re") : NULL;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && !(flags && vendor)) {
		if (!vendor && !strncmp(line, "vendor_id", 9)) {
			ret->intel = strstr(line, "GenuineIntel") != NULL;
			ret->amd = strstr(line, "AuthenticAMD") != NULL;
			vendor = true;
		} else if (!flags && !strncmp(line, "flags", 5)) {
			ret->vmx = strstr(line, " vmx") != NULL;
			ret->svm = strstr(line, " svm") != NULL;
			ret->x2apic = strstr(line, " x2apic") != NULL;
			flags = true;
		}
	}
	fclose(f);
}

static void check_cpu_virt(doctor_report *r, const cpu_info *cpu)
{
	const char *fix = "Enable Intel VT-x or AMD-V (SVM) in the BIOS; under a hypervisor, give "
			  "the host nested virtualization";

	if (cpu->vmx || cpu->svm)
		doctor_add(r, "cpu-virt", "hardware virtualization", NULL, true, DOCTOR_OK, fix,
			   "%s", cpu->vmx ? "vmx (Intel VT-x)" : "svm (AMD-V)");
	else
		doctor_add(r, "cpu-virt", "hardware virtualization", NULL, true, DOCTOR_FAIL, fix,
			   "no vmx or svm in /proc/cpuinfo's flags");
}

static void check_kvm(doctor_report *r, const sysfs *fs, const doctor_probes *p)
{
	_cleanup_free_ char *dev = sysfs_path(fs, "dev/kvm");
	char reason[256] = "";

	if (dev && p->kvm(dev, reason, sizeof(reason)))
		doctor_add(r, "kvm", "/dev/kvm runs a vCPU", NULL, true, DOCTOR_OK, NULL,
			   "KVM_CREATE_VM, a vCPU ran real-mode code to HLT");
	else
		doctor_add(r, "kvm", "/dev/kvm runs a vCPU", NULL, true, DOCTOR_FAIL,
			   "modprobe kvm_intel (or kvm_amd); check VT-x/AMD-V in the BIOS and dmesg",
			   "%s", reason[0] ? reason : "the probe failed");
}

/* --- the IOMMU --- */

typedef struct iommu_info {
	bool dmar, ivrs;
	size_t units, groups;
	char first_unit[64];
	bool ir;                 /* interrupt remapping in use */
	bool vtd_posted;         /* VT-d capability: posted interrupts */
} iommu_info;

static void iommu_info_read(const sysfs *fs, iommu_info *ret)
{
	_cleanup_names_ char **units = NULL, **groups = NULL;
	_cleanup_free_ char *path = sysfs_path(fs, "proc/interrupts");
	char line[1024];
	FILE *f;

	memset(ret, 0, sizeof(*ret));
	ret->dmar = sysfs_exists(fs, "sys/firmware/acpi/tables/DMAR");
	ret->ivrs = sysfs_exists(fs, "sys/firmware/acpi/tables/IVRS");
	if (sysfs_list(fs, &units, "sys/class/iommu") >= 0)
		for (size_t i = 0; units[i]; i++) {
			char cap[64];

			if (!ret->units++)
				snprintf(ret->first_unit, sizeof(ret->first_unit), "%s", units[i]);
			/* Capability register bit 59: posted interrupts (VT-d spec, 10.4.2). */
			if (sysfs_read(fs, cap, sizeof(cap), "sys/class/iommu/%s/intel-iommu/cap",
				       units[i]) >= 0 &&
			    (strtoull(cap, NULL, 16) >> 59) & 1)
				ret->vtd_posted = true;
		}
	if (sysfs_list(fs, &groups, "sys/kernel/iommu_groups") >= 0)
		while (groups[ret->groups])
			ret->groups++;
	/* Remapped interrupts show as IR-PCI-MSI, IR-IO-APIC, ... (Intel and AMD alike). */
	f = path ? fopen(path, "re") : NULL;
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, " IR-")) {
			ret->ir = true;
			break;
		}
	if (f)
		fclose(f);
}

static void check_iommu(doctor_report *r, const iommu_info *io, const cpu_info *cpu)
{
	const char *table = io->dmar ? "DMAR" : io->ivrs ? "IVRS" : NULL;

	if (io->units && io->groups)
		doctor_add(r, "iommu", "IOMMU on", NULL, true, DOCTOR_OK, NULL,
			   "%s table, %zu unit%s (%s), %zu IOMMU groups", table ? table : "no ACPI",
			   io->units, io->units == 1 ? "" : "s", io->first_unit, io->groups);
	else if (table)
		doctor_add(r, "iommu", "IOMMU on", NULL, true, DOCTOR_FAIL,
			   cpu->amd ? "boot with amd_iommu=on iommu=pt" : "boot with intel_iommu=on iommu=pt",
			   "%s table present, but no IOMMU in /sys/class/iommu and %zu groups: the "
			   "kernel did not turn it on",
			   table, io->groups);
	else
		doctor_add(r, "iommu", "IOMMU on", NULL, true, DOCTOR_FAIL,
			   "enable VT-d (Intel) or AMD-Vi/IOMMU (AMD) in the BIOS, then boot with "
			   "intel_iommu=on (amd_iommu=on)",
			   "no DMAR or IVRS table: the firmware does not offer an IOMMU");
}

static void check_interrupt_remapping(doctor_report *r, const sysfs *fs, const iommu_info *io)
{
	char unsafe[8] = "";

	if (!io->units)
		doctor_add(r, "interrupt-remapping", "interrupt remapping", "DID", true, DOCTOR_NA,
			   NULL, "no IOMMU");
	else if (io->ir)
		doctor_add(r, "interrupt-remapping", "interrupt remapping", "DID", true, DOCTOR_OK,
			   NULL, "on (IR- interrupt chips in /proc/interrupts)");
	else
		doctor_add(r, "interrupt-remapping", "interrupt remapping", "DID", true, DOCTOR_FAIL,
			   "enable interrupt remapping in the BIOS (VT-d: \"Interrupt Remapping\"); "
			   "do not boot with intremap=off",
			   "off: no remapped interrupts in /proc/interrupts; vfio refuses devices "
			   "without it");
	if (sysfs_read(fs, unsafe, sizeof(unsafe),
		       "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts") < 0)
		doctor_add(r, "unsafe-interrupts", "allow_unsafe_interrupts off", NULL, false,
			   DOCTOR_NA, NULL, "vfio_iommu_type1 is not loaded");
	else
		doctor_add(r, "unsafe-interrupts", "allow_unsafe_interrupts off", NULL, false,
			   unsafe[0] == 'N' || unsafe[0] == '0' ? DOCTOR_OK : DOCTOR_FAIL,
			   "remove allow_unsafe_interrupts=1 from the vfio_iommu_type1 options "
			   "(/etc/modprobe.d): a VM could forge interrupts",
			   "%s", unsafe);
}

static void check_posted_interrupts(doctor_report *r, const sysfs *fs, const iommu_info *io,
				    const cpu_info *cpu)
{
	char apicv[8] = "", avic[8] = "";
	bool has_apicv, has_avic;

	has_apicv = sysfs_read(fs, apicv, sizeof(apicv),
			       "sys/module/kvm_intel/parameters/enable_apicv") >= 0 &&
		    (apicv[0] == 'Y' || apicv[0] == '1');
	has_avic = sysfs_read(fs, avic, sizeof(avic), "sys/module/kvm_amd/parameters/avic") >= 0 &&
		   (avic[0] == 'Y' || avic[0] == '1');
	if (cpu->amd)
		doctor_add(r, "posted-interrupts", "posted interrupts (DID)", "DID", false,
			   has_avic ? DOCTOR_OK : DOCTOR_WARN,
			   "modprobe kvm_amd avic=1 on a CPU with AVIC",
			   "AVIC %s", has_avic ? "on" : avic[0] ? "off" : "unknown (kvm_amd not loaded)");
	else
		doctor_add(r, "posted-interrupts", "posted interrupts (DID)", "DID", false,
			   has_apicv && io->vtd_posted ? DOCTOR_OK : DOCTOR_WARN,
			   "needs a CPU and chipset with VT-d posted interrupts (e.g. Xeon E5 v4) and "
			   "kvm_intel enable_apicv=1",
			   "VT-d posted interrupts: %s; APICv: %s", io->vtd_posted ? "yes" : "no",
			   has_apicv ? "on" : apicv[0] ? "off" : "unknown (kvm_intel not loaded)");
}

/*
 * DID on the host is kmod-host's patched KVM: its kvm.ko has a `did` parameter that the stock one
 * lacks. What it offers is what that series implements on a CPU without posted interrupts:
 * DID_F_IDLE (a vCPU halts without exiting) on SVM and VMX; the timer, IPI and device paths need
 * AVIC or APICv with posted interrupts and are refused by its QUERY (kmod-host/README.md).
 */
static void check_did_kvm(doctor_report *r, const sysfs *fs, const cpu_info *cpu)
{
	const char *fix = "build kmod-host's patched KVM and load it with DID on: make -C kmod-host "
			  "&& make -C kmod-host insert (every VM stopped first)";
	char did[8] = "";

	if (!sysfs_exists(fs, "sys/module/kvm")) {
		doctor_add(r, "did-kvm", "DID-capable KVM", "DID", false, DOCTOR_NA, fix,
			   "KVM is not loaded");
		return;
	}
	if (sysfs_read(fs, did, sizeof(did), "sys/module/kvm/parameters/did") < 0) {
		doctor_add(r, "did-kvm", "DID-capable KVM", "DID", false, DOCTOR_WARN, fix,
			   "the stock KVM (no kvm.did parameter): guests run without DID");
		return;
	}
	if (did[0] != 'Y' && did[0] != '1') {
		doctor_add(r, "did-kvm", "DID-capable KVM", "DID", false, DOCTOR_WARN,
			   "make -C kmod-host insert (DID=1 is its default)",
			   "the patched KVM is loaded with DID off (kvm.did=%c)", did[0] ?: '?');
		return;
	}
	doctor_add(r, "did-kvm", "DID-capable KVM", "DID", false, DOCTOR_OK, NULL,
		   "the patched KVM with kvm.did=Y on %s: offers DID_F_IDLE; timer, IPI and device "
		   "delivery need %s",
		   cpu->svm ? "SVM" : cpu->vmx ? "VMX" : "this CPU",
		   cpu->svm ? "AVIC" : "APICv with posted interrupts");
}

/* --- the kernel command line, as the seeds tag it --- */

typedef enum param_level { PARAM_REQUIRED, PARAM_RECOMMENDED, PARAM_OPTIONAL } param_level;

static const struct kernel_param {
	const char *param; /* "name=value", or "name=" for any value */
	const char *tag;
	param_level level;
	char vendor; /* 'i' Intel only, 'a' AMD only, 0 both */
	const char *why;
} kernel_params[] = {
	{ "intel_iommu=on", "DID", PARAM_REQUIRED, 'i', "turns the IOMMU on for passthrough" },
	{ "amd_iommu=on", "DID", PARAM_REQUIRED, 'a', "turns the IOMMU on for passthrough" },
	{ "intremap=no_x2apic_optout", "DID", PARAM_REQUIRED, 0,
	  "interrupt remapping with x2APIC even if the BIOS opts out" },
	{ "isolcpus=", "DID", PARAM_REQUIRED, 0, "keeps the scheduler off the CPUs vCPUs own" },
	{ "lapic=notscdeadline", "DID", PARAM_REQUIRED, 0,
	  "the LAPIC's programmable timer, which DID hands to the guest" },
	{ "nohz=off", "DID, Recommend", PARAM_REQUIRED, 0, "a periodic timer" },
	{ "iommu=pt", "Recommend", PARAM_RECOMMENDED, 0,
	  "host devices bypass IOMMU translation; only VMs pay for it" },
	{ "transparent_hugepage=madvise", "Recommend", PARAM_RECOMMENDED, 0,
	  "huge pages only where asked for" },
	{ "intel_pstate=disable", "Recommend", PARAM_RECOMMENDED, 'i',
	  "no intel_pstate frequency scaling under pinned vCPUs" },
	{ "nowatchdog", "Option", PARAM_OPTIONAL, 0, "no soft-lockup or NMI watchdog" },
	{ "rcupdate.rcu_cpu_stall_suppress=1", "Option", PARAM_OPTIONAL, 0,
	  "no RCU stall warnings from CPUs a guest owns" },
};

/* The value of name= on the command line (the last one wins, as in the kernel), or NULL. */
static const char *cmdline_find(const char *cmdline, const char *name, char *buf, size_t size)
{
	const char *found = NULL, *p = cmdline;
	size_t len = strlen(name);

	while (*p) {
		size_t n;

		p += strspn(p, " \t");
		n = strcspn(p, " \t");
		if (n >= len && !strncmp(p, name, len) && (p[len] == '=' || n == len)) {
			size_t vlen = n > len ? n - len - 1 : 0;

			snprintf(buf, size, "%.*s", (int)(vlen < size ? vlen : size - 1),
				 n > len ? p + len + 1 : "");
			found = buf;
		}
		p += n;
	}
	return found;
}

static void check_kernel_params(doctor_report *r, const sysfs *fs, const host_config *c,
				const cpu_info *cpu, const iommu_info *io)
{
	char cmdline[4096] = "", id[96], fix[320], value[256], want[64];

	sysfs_read(fs, cmdline, sizeof(cmdline), "proc/cmdline");
	for (size_t i = 0; i < ELEMENTSOF(kernel_params); i++) {
		const struct kernel_param *kp = &kernel_params[i];
		const char *eq = strchr(kp->param, '='), *seen;
		/* "name=value" wants that value, "name=" any, "name" only the word. */
		const char *expect = eq && eq[1] ? eq + 1 : NULL;
		doctor_verdict v;

		if ((kp->vendor == 'i' && cpu->amd) || (kp->vendor == 'a' && !cpu->amd))
			continue;
		snprintf(want, sizeof(want), "%.*s", eq ? (int)(eq - kp->param) : (int)strlen(kp->param),
			 kp->param);
		snprintf(id, sizeof(id), "cmdline:%s", want);
		snprintf(fix, sizeof(fix), "add %s%s to GRUB_CMDLINE_LINUX in /etc/default/grub, "
			 "update-grub, reboot (%s)",
			 kp->param, eq && !eq[1] ? "LIST" : "", kp->why);
		seen = cmdline_find(cmdline, want, value, sizeof(value));
		if (seen && (!expect || !strcmp(seen, expect)))
			v = DOCTOR_OK;
		else if (kp->level == PARAM_OPTIONAL)
			v = DOCTOR_NA;
		else if (kp->level == PARAM_RECOMMENDED)
			v = DOCTOR_WARN;
		else
			v = DOCTOR_FAIL;
		/* The IOMMU may be on without it (CONFIG_INTEL_IOMMU_DEFAULT_ON, AMD's default). */
		if (v == DOCTOR_FAIL && strstr(kp->param, "_iommu=on") && io->units && !seen) {
			doctor_add(r, id, kp->param, kp->tag, false, DOCTOR_OK, NULL,
				   "not given; the IOMMU is on by default");
			continue;
		}
		if (seen)
			doctor_add(r, id, kp->param, kp->tag, false, v, fix, "%s%s%s", want,
				   eq ? "=" : "", seen);
		else
			doctor_add(r, id, kp->param, kp->tag, false, v, fix, "not set%s",
				   kp->level == PARAM_OPTIONAL ? " (optional)" : "");
	}
}

/* dedicated_cpus must be CPUs the scheduler leaves alone (isolcpus=) and that exist. */
static void check_dedicated_cpus(doctor_report *r, const sysfs *fs, const host_config *c)
{
	char cmdline[4096] = "", iso[256], online_text[256] = "", why[160], list[256];
	const char *nums;
	cpu_set_t isolated, online, outside;

	if (!c || !CPU_COUNT(&c->dedicated_cpus)) {
		doctor_add(r, "dedicated-cpus", "dedicated CPUs for pinned vCPUs", "DID", false,
			   DOCTOR_NA, NULL, "no dedicated_cpus in the configuration");
		return;
	}
	cpu_list_format(&c->dedicated_cpus, list, sizeof(list));
	sysfs_read(fs, cmdline, sizeof(cmdline), "proc/cmdline");
	CPU_ZERO(&isolated);
	if (cmdline_find(cmdline, "isolcpus", iso, sizeof(iso))) {
		/* isolcpus=[flag,...,]LIST: the list starts at the first digit. */
		nums = iso + strcspn(iso, "0123456789");
		if (*nums)
			cpu_list_parse(nums, &isolated, why, sizeof(why));
	}
	if (sysfs_read(fs, online_text, sizeof(online_text), "sys/devices/system/cpu/online") >= 0 &&
	    cpu_list_parse(online_text, &online, why, sizeof(why)) >= 0) {
		CPU_AND(&outside, &c->dedicated_cpus, &online);
		if (!CPU_EQUAL(&outside, &c->dedicated_cpus)) {
			doctor_add(r, "dedicated-cpus", "dedicated CPUs for pinned vCPUs", "DID", true,
				   DOCTOR_FAIL, "name only CPUs the host has in dedicated_cpus",
				   "dedicated_cpus %s, but the host's CPUs are %s", list, online_text);
			return;
		}
	}
	CPU_AND(&outside, &c->dedicated_cpus, &isolated);
	if (!CPU_EQUAL(&outside, &c->dedicated_cpus))
		doctor_add(r, "dedicated-cpus", "dedicated CPUs for pinned vCPUs", "DID", false,
			   DOCTOR_WARN, "boot with isolcpus= covering dedicated_cpus",
			   "dedicated_cpus %s, not all in isolcpus (%s)", list,
			   iso[0] && cmdline_find(cmdline, "isolcpus", iso, sizeof(iso)) ? iso : "not set");
	else
		doctor_add(r, "dedicated-cpus", "dedicated CPUs for pinned vCPUs", "DID", false,
			   DOCTOR_OK, NULL, "dedicated_cpus %s, isolated", list);
}

static void check_smt(doctor_report *r, const sysfs *fs)
{
	char active[8];

	if (sysfs_read(fs, active, sizeof(active), "sys/devices/system/cpu/smt/active") < 0)
		doctor_add(r, "hyperthreading", "hyperthreading off", NULL, false, DOCTOR_NA, NULL,
			   "unknown (no /sys/devices/system/cpu/smt)");
	else
		doctor_add(r, "hyperthreading", "hyperthreading off", NULL, false,
			   active[0] == '0' ? DOCTOR_OK : DOCTOR_WARN,
			   "disable Hyper-Threading in the BIOS (or boot with nosmt): a pinned vCPU "
			   "should not share its core",
			   "%s", active[0] == '0' ? "off" : "on");
}

static void check_vfio_modules(doctor_report *r, const sysfs *fs, const host_config *c)
{
	static const char *const modules[][2] = { { "vfio", "vfio" },
						  { "vfio_pci", "vfio-pci" },
						  { "vfio_iommu_type1", "vfio_iommu_type1" } };

	for (size_t i = 0; i < ELEMENTSOF(modules); i++) {
		char id[64], fix[96];
		bool loaded = sysfs_exists(fs, "sys/module/%s", modules[i][0]);

		snprintf(id, sizeof(id), "module:%s", modules[i][1]);
		snprintf(fix, sizeof(fix), "modprobe %s (and list it in /etc/modules)", modules[i][1]);
		if (c && c->passthrough == PASSTHROUGH_EMULATED)
			doctor_add(r, id, modules[i][1], NULL, false, DOCTOR_NA, NULL,
				   "%s; the emulated pool does not use it", loaded ? "loaded" : "not loaded");
		else
			doctor_add(r, id, modules[i][1], NULL, true, loaded ? DOCTOR_OK : DOCTOR_FAIL,
				   fix, "%s", loaded ? "loaded" : "not loaded");
	}
}

/* --- the pool --- */

/* Who holds a VF, and that VM's MAC, from the daemon's state files. */
static bool pool_holder_mac(const host_config *c, const char *vf, char mac[18])
{
	_cleanup_json_ json_object *pool = NULL, *rec = NULL;
	_cleanup_free_ char *path = NULL;
	json_object *res, *owner, *spec, *m;

	if (asprintf(&path, "%s/vf-pool.json", c->state_dir) < 0) {
		path = NULL;
		return false;
	}
	if (state_file_read(path, &pool) < 0 || !json_object_object_get_ex(pool, "reservations", &res) ||
	    !json_object_object_get_ex(res, vf, &owner) ||
	    !json_object_is_type(owner, json_type_string))
		return false;
	free(path);
	if (asprintf(&path, "%s/vms/%s.json", c->state_dir, json_object_get_string(owner)) < 0) {
		path = NULL;
		return false;
	}
	if (state_file_read(path, &rec) < 0 || !json_object_object_get_ex(rec, "spec", &spec) ||
	    !json_object_object_get_ex(spec, "mac", &m) || !json_object_is_type(m, json_type_string))
		return false;
	snprintf(mac, 18, "%s", json_object_get_string(m));
	return true;
}

static void check_vf_device(doctor_report *r, const sysfs *fs, const char *bdf, const char *label,
			    size_t *usable)
{
	char id[80], driver[64] = "", why[512];
	unsigned long group;

	snprintf(id, sizeof(id), "vf:%s", bdf);
	if (!sysfs_exists(fs, "sys/bus/pci/devices/%s", bdf)) {
		doctor_add(r, id, label, NULL, false, DOCTOR_FAIL,
			   "create the VF (sriov_numvfs) or fix the address in the configuration",
			   "%s does not exist", bdf);
		return;
	}
	if (sysfs_link_name(fs, driver, sizeof(driver), "sys/bus/pci/devices/%s/driver", bdf) < 0 ||
	    strcmp(driver, "vfio-pci")) {
		doctor_add(r, id, label, NULL, false, DOCTOR_FAIL,
			   "restart dmigrated (it binds an sriov pool's VFs), or bind it with "
			   "driver_override and drivers_probe",
			   "%s bound to %s, not vfio-pci", bdf, driver[0] ? driver : "no driver");
		return;
	}
	if (iommu_group_check(fs, bdf, &group, why, sizeof(why)) < 0) {
		doctor_add(r, id, label, NULL, false, DOCTOR_FAIL, "see the value", "%s", why);
		return;
	}
	doctor_add(r, id, label, NULL, false, DOCTOR_OK, NULL,
		   "%s on vfio-pci, IOMMU group %lu viable", bdf, group);
	(*usable)++;
}

static void check_vf_settings(doctor_report *r, const host_config *c, const sriov_pf *pf,
			      unsigned index, const char *bdf, const doctor_probes *p)
{
	static const uint8_t zero[6];
	char id[80], mac[18], seen[18], expect_mac[18] = "00:00:00:00:00:00";
	vf_readout v;
	uint8_t want[6] = { 0 };
	bool held;
	int e;

	snprintf(id, sizeof(id), "vf-settings:%s", bdf);
	e = pf->ifindex > 0 ? p->vf(pf->ifindex, index, &v, p->userdata) : -ENODEV;
	if (e < 0) {
		doctor_add(r, id, "VF settings through the PF", NULL, false, DOCTOR_WARN,
			   "run doctor as root on the host (netlink)", "cannot read them: %s",
			   strerror(-e));
		return;
	}
	held = pool_holder_mac(c, bdf, mac);
	if (held) {
		snprintf(expect_mac, sizeof(expect_mac), "%s", mac);
		mac_parse(mac, want);
	}
	snprintf(seen, sizeof(seen), "%02x:%02x:%02x:%02x:%02x:%02x", v.mac[0], v.mac[1], v.mac[2],
		 v.mac[3], v.mac[4], v.mac[5]);
	/* A held VF may be between standby and active: cleared is fine then too. */
	if (v.spoofchk != c->sriov.settings.spoofchk || v.trust != c->sriov.settings.trust ||
	    (memcmp(v.mac, want, 6) && !(held && !memcmp(v.mac, zero, 6))))
		doctor_add(r, id, "VF settings through the PF", NULL, false, DOCTOR_WARN,
			   "restart dmigrated; if it persists, the PF's driver ignores the settings",
			   "mac %s (expected %s), spoofchk %s (expected %s), trust %s (expected %s)",
			   seen, expect_mac, v.spoofchk ? "on" : "off",
			   c->sriov.settings.spoofchk ? "on" : "off", v.trust ? "on" : "off",
			   c->sriov.settings.trust ? "on" : "off");
	else
		doctor_add(r, id, "VF settings through the PF", NULL, false, DOCTOR_OK, NULL,
			   "mac %s, spoofchk %s, trust %s", seen, v.spoofchk ? "on" : "off",
			   v.trust ? "on" : "off");
}

static void check_pool(doctor_report *r, const sysfs *fs, const host_config *c,
		       const doctor_probes *p)
{
	char why[512], label[64];
	size_t usable = 0;
	sriov_pf pf;

	if (!c) {
		doctor_add(r, "pool", "passthrough pool", NULL, false, DOCTOR_NA, NULL,
			   "no configuration to read it from");
		return;
	}
	if (c->passthrough == PASSTHROUGH_EMULATED) {
		doctor_add(r, "pool", "passthrough pool", NULL, false, DOCTOR_NA, NULL,
			   "emulated (lab): %zu slots, no VFs", c->n_vfs);
		return;
	}
	if (c->passthrough == PASSTHROUGH_VFIO) {
		for (size_t i = 0; i < c->n_vfs; i++)
			check_vf_device(r, fs, c->vfs[i], "pool device", &usable);
	} else {
		if (sriov_pf_find(fs, c->sriov.pf, &pf, why, sizeof(why)) < 0) {
			doctor_add(r, "pf", "SR-IOV PF", NULL, true, DOCTOR_FAIL,
				   "fix passthrough.pf in the configuration", "%s", why);
			return;
		}
		free(r->pf_model);
		r->pf_model = strdup(pf.model);
		doctor_add(r, "pf", "SR-IOV PF", NULL, true,
			   pf.num_vfs >= c->sriov.vfs ? DOCTOR_OK : DOCTOR_WARN,
			   "start dmigrated: it creates the VFs",
			   "%s (%s, %s), %lu of at most %lu VFs, %u asked", c->sriov.pf,
			   pf.ifname[0] ? pf.ifname : "no interface", pf.model, pf.num_vfs,
			   pf.total_vfs, c->sriov.vfs);
		for (unsigned i = 0; i < c->sriov.vfs; i++) {
			char bdf[PCI_ADDRESS_LEN + 1], id[64];

			snprintf(label, sizeof(label), "VF %u", i);
			if (sriov_pf_vf_address(fs, &pf, i, bdf) < 0) {
				snprintf(id, sizeof(id), "vf:%s#%u", c->sriov.pf, i);
				doctor_add(r, id, label, NULL, false, DOCTOR_FAIL,
					   "start dmigrated: it creates the VFs", "not created");
				continue;
			}
			check_vf_device(r, fs, bdf, label, &usable);
			check_vf_settings(r, c, &pf, i, bdf, p);
		}
	}
	doctor_add(r, "pool", "passthrough pool", NULL, true, usable ? DOCTOR_OK : DOCTOR_FAIL,
		   "see the VF lines above", "%zu of %zu devices usable", usable, c->n_vfs);
}

/* --- memory --- */

/* The VMs this host knows (its state files) and the memory they ask for. */
static unsigned long long configured_vm_mib(const host_config *c, size_t *ret_n)
{
	_cleanup_free_ char *dir = NULL;
	sysfs abs = { .root = "/" };
	_cleanup_names_ char **names = NULL;
	unsigned long long mib = 0;

	*ret_n = 0;
	if (!c || asprintf(&dir, "%s/vms", c->state_dir) < 0 ||
	    sysfs_list(&abs, &names, "%s", dir + 1) < 0)
		return 0;
	for (size_t i = 0; names[i]; i++) {
		_cleanup_json_ json_object *rec = NULL;
		_cleanup_free_ char *path = NULL;
		json_object *spec, *m;

		if (asprintf(&path, "%s/%s", dir, names[i]) < 0) {
			path = NULL;
			break;
		}
		if (state_file_read(path, &rec) < 0 || !json_object_object_get_ex(rec, "spec", &spec) ||
		    !json_object_object_get_ex(spec, "memory_mib", &m))
			continue;
		mib += (unsigned long long)json_object_get_int64(m);
		(*ret_n)++;
	}
	return mib;
}

static void check_memory(doctor_report *r, const sysfs *fs, const host_config *c)
{
	_cleanup_free_ char *path = sysfs_path(fs, "proc/meminfo");
	unsigned long long total = 0, free_pages = 0, size_kb = 0, vm_mib;
	struct rlimit rl;
	char line[256];
	size_t n_vms;
	FILE *f;

	vm_mib = configured_vm_mib(c, &n_vms);
	if (geteuid() == 0)
		doctor_add(r, "memlock", "RLIMIT_MEMLOCK for VFIO", NULL, false, DOCTOR_OK, NULL,
			   "root: QEMU started by dmigrated may lock all %llu MiB of its %zu VMs",
			   vm_mib, n_vms);
	else if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0)
		doctor_add(r, "memlock", "RLIMIT_MEMLOCK for VFIO", NULL, false,
			   rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur / 1048576 >= vm_mib + 64 ?
				   DOCTOR_OK : DOCTOR_WARN,
			   "run dmigrated as root (its systemd unit does), or raise LimitMEMLOCK",
			   "%llu MiB lockable, the %zu VMs need %llu MiB",
			   rl.rlim_cur == RLIM_INFINITY ? ~0ULL : (unsigned long long)rl.rlim_cur / 1048576,
			   n_vms, vm_mib + 64);
	f = path ? fopen(path, "re") : NULL;
	while (f && fgets(line, sizeof(line), f)) {
		sscanf(line, "HugePages_Total: %llu", &total);
		sscanf(line, "HugePages_Free: %llu", &free_pages);
		sscanf(line, "Hugepagesize: %llu kB", &size_kb);
	}
	if (f)
		fclose(f);
	doctor_add(r, "hugepages", "huge pages for the VMs", NULL, false, DOCTOR_NA, NULL,
		   "%llu of %llu free (%llu kB); VMs use ordinary memory, %llu MiB for %zu VMs",
		   free_pages, total, size_kb, vm_mib, n_vms);
}

/* --- QEMU and the peers --- */

/* "q35 ... (alias of pc-q35-7.2)": what q35 means here. */
static char *qemu_q35_machine(const char *machines)
{
	const char *line = machines;

	while (line && *line) {
		const char *alias = strstr(line, "(alias of ");
		const char *eol = strchr(line, '\n');

		if (!strncmp(line, "q35 ", 4) && alias && (!eol || alias < eol)) {
			size_t n = strcspn(alias + 10, ")\n");

			return strndup(alias + 10, n < 64 ? n : 64);
		}
		line = eol ? eol + 1 : NULL;
	}
	return NULL;
}

static void check_qemu(doctor_report *r, const host_config *c, const doctor_probes *p)
{
	const char *binary = c ? c->qemu_binary : "qemu-system-x86_64";
	_cleanup_free_ char *machines = NULL;
	char version[256] = "";
	int e;

	e = p->qemu(binary, version, sizeof(version), &machines, p->userdata);
	if (e < 0) {
		doctor_add(r, "qemu", "QEMU", NULL, true, DOCTOR_FAIL,
			   "apt-get install qemu-system-x86, or fix qemu_binary in the configuration",
			   "%s does not run: %s", binary, strerror(-e));
		return;
	}
	free(r->qemu_machine);
	r->qemu_machine = qemu_q35_machine(machines);
	doctor_add(r, "qemu", "QEMU", NULL, true, r->qemu_machine ? DOCTOR_OK : DOCTOR_FAIL,
		   "a QEMU with the q35 machine (the VF needs PCIe)", "%s; q35 is %s", version,
		   r->qemu_machine ? r->qemu_machine : "missing");
}

static void check_peers(doctor_report *r, const host_config *c, const doctor_probes *p)
{
	if (!c || !c->n_peers) {
		doctor_add(r, "peers", "peers' sshd", NULL, false, DOCTOR_NA, NULL,
			   "%s", c ? "no peers configured" : "no configuration");
		return;
	}
	for (size_t i = 0; i < c->n_peers; i++) {
		char id[96], why[256] = "";
		int e = p->peer(c, &c->peers[i], why, sizeof(why), p->userdata);

		snprintf(id, sizeof(id), "peer:%s", c->peers[i].name);
		doctor_add(r, id, "peer's sshd and host key", NULL, true, e < 0 ? DOCTOR_FAIL : DOCTOR_OK,
			   "start sshd there; add its key: ssh-keyscan -p PORT ADDRESS >> known_hosts",
			   "%s:%u %s", c->peers[i].address, c->peers[i].port,
			   e < 0 ? why : "answers, host key known");
	}
}

int doctor_run(const sysfs *fs, const host_config *c, const doctor_probes *probes,
	       doctor_report *ret)
{
	doctor_report r = { 0 };
	cpu_info cpu;
	iommu_info io;

	cpu_info_read(fs, &cpu);
	iommu_info_read(fs, &io);
	check_cpu_virt(&r, &cpu);
	check_kvm(&r, fs, probes);
	check_iommu(&r, &io, &cpu);
	check_interrupt_remapping(&r, fs, &io);
	check_posted_interrupts(&r, fs, &io, &cpu);
	check_did_kvm(&r, fs, &cpu);
	check_kernel_params(&r, fs, c, &cpu, &io);
	check_dedicated_cpus(&r, fs, c);
	check_smt(&r, fs);
	check_vfio_modules(&r, fs, c);
	check_pool(&r, fs, c, probes);
	check_memory(&r, fs, c);
	check_qemu(&r, c, probes);
	check_peers(&r, c, probes);
	*ret = r;
	return 0;
}

void doctor_report_done(doctor_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->checks[i].id);
		free(r->checks[i].title);
		free(r->checks[i].tag);
		free(r->checks[i].value);
		free(r->checks[i].fix);
	}
	free(r->checks);
	free(r->qemu_machine);
	free(r->pf_model);
	*r = (doctor_report){ 0 };
}

bool doctor_report_ok(const doctor_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->checks[i].blocking && r->checks[i].verdict == DOCTOR_FAIL)
			return false;
	return true;
}

const doctor_check *doctor_report_find(const doctor_report *r, const char *id)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->checks[i].id, id))
			return &r->checks[i];
	return NULL;
}

static void json_add_string(json_object *o, const char *key, const char *value)
{
	if (value)
		json_object_object_add(o, key, json_object_new_string(value));
}

json_object *doctor_report_to_json(const doctor_report *r, const char *host)
{
	json_object *o = json_object_new_object(), *checks = json_object_new_array();

	if (!o || !checks) {
		json_object_put(o);
		json_object_put(checks);
		return NULL;
	}
	json_add_string(o, "host", host);
	json_object_object_add(o, "migration_possible", json_object_new_boolean(doctor_report_ok(r)));
	json_add_string(o, "qemu_machine", r->qemu_machine);
	json_add_string(o, "pf_model", r->pf_model);
	for (size_t i = 0; i < r->n; i++) {
		const doctor_check *c = &r->checks[i];
		json_object *j = json_object_new_object();

		if (!j)
			continue;
		json_add_string(j, "id", c->id);
		json_add_string(j, "title", c->title);
		json_add_string(j, "tag", c->tag);
		json_add_string(j, "verdict", doctor_verdict_name(c->verdict));
		json_object_object_add(j, "blocking", json_object_new_boolean(c->blocking));
		json_add_string(j, "value", c->value);
		json_add_string(j, "fix", c->fix);
		json_object_array_add(checks, j);
	}
	json_object_object_add(o, "checks", checks);
	return o;
}

/* A string member cut to DOCTOR_TEXT_MAX, or NULL. */
static const char *json_text(json_object *o, const char *key, char *buf)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	snprintf(buf, DOCTOR_TEXT_MAX, "%s", json_object_get_string(v));
	return buf;
}

int doctor_report_from_json(json_object *o, doctor_report *ret)
{
	char id[DOCTOR_TEXT_MAX], title[DOCTOR_TEXT_MAX], tag[DOCTOR_TEXT_MAX],
		verdict[DOCTOR_TEXT_MAX], value[DOCTOR_TEXT_MAX], fix[DOCTOR_TEXT_MAX];
	doctor_report r = { 0 };
	json_object *checks, *b;

	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "checks", &checks) ||
	    !json_object_is_type(checks, json_type_array) ||
	    json_object_array_length(checks) > DOCTOR_MAX_CHECKS)
		return -EBADMSG;
	if (json_text(o, "qemu_machine", value))
		r.qemu_machine = strdup(value);
	if (json_text(o, "pf_model", value))
		r.pf_model = strdup(value);
	for (size_t i = 0; i < json_object_array_length(checks); i++) {
		json_object *c = json_object_array_get_idx(checks, i);
		doctor_verdict v;

		if (!json_text(c, "id", id) || !json_text(c, "title", title) ||
		    !json_text(c, "verdict", verdict) || !json_text(c, "value", value)) {
			doctor_report_done(&r);
			return -EBADMSG;
		}
		for (v = DOCTOR_OK; v <= DOCTOR_NA; v++)
			if (!strcmp(verdict, doctor_verdict_name(v)))
				break;
		if (v > DOCTOR_NA) {
			doctor_report_done(&r);
			return -EBADMSG;
		}
		doctor_add(&r, id, title, json_text(c, "tag", tag), json_object_object_get_ex(c, "blocking", &b) &&
			   json_object_get_boolean(b), v, json_text(c, "fix", fix), "%s", value);
	}
	*ret = r;
	return 0;
}
