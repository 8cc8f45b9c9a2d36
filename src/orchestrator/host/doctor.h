/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `dmigrate doctor`: can this host take part in a migration of a VM that owns a VF, and run it
 * the way the seeds' hosts ran (DID, pinned vCPUs)? One function per check, in the manner of
 * libvirt's virt-host-validate: a verdict, the value seen, and the fix.
 *
 * Everything is read below a root (sysfs, procfs: fixture trees in the tests). What cannot be
 * read from files is asked through doctor_probes (the KVM probe, QEMU, the PF's VF settings over
 * netlink, the peers' sshd), which the tests replace.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "daemon/host_config.h"
#include "host/sysfs.h"
#include "host/vf_netlink.h"

typedef enum doctor_verdict {
	DOCTOR_OK,
	DOCTOR_WARN,
	DOCTOR_FAIL,
	DOCTOR_NA,
} doctor_verdict;

const char *doctor_verdict_name(doctor_verdict v);

typedef struct doctor_check {
	char *id;     /* "kvm", "iommu", "cmdline:isolcpus", "vf:0000:07:10.1", ... */
	char *title;  /* what was checked, for people */
	char *tag;    /* the seeds' tag of a kernel parameter: "DID", "DID, Recommend", ...; or NULL */
	doctor_verdict verdict;
	bool blocking; /* a fail here means a migration cannot work */
	char *value;   /* what was seen */
	char *fix;     /* what to do about a warn or fail, or NULL */
} doctor_check;

typedef struct doctor_report {
	doctor_check *checks;
	size_t n;
	char *qemu_machine; /* what "q35" is on this host ("pc-q35-7.2"), or NULL */
	char *pf_model;     /* the sriov PF's vendor:device, or NULL */
} doctor_report;

typedef struct doctor_probes {
	/* KVM_CREATE_VM and a vCPU run to HLT (host/kvm_probe.h). */
	bool (*kvm)(const char *device, char *reason, size_t reason_size);
	/* QEMU's version line and its `-machine help` text; -errno when it does not run. */
	int (*qemu)(const char *binary, char *version, size_t version_size, char **ret_machines,
		    void *userdata);
	/* A VF's settings as its PF reports them (host/vf_netlink.h). */
	int (*vf)(int pf_ifindex, unsigned vf, vf_readout *ret, void *userdata);
	/* The peer's sshd answers and its host key is in known_hosts; else why. */
	int (*peer)(const host_config *c, const peer_config *p, char *why, size_t why_size,
		    void *userdata);
	void *userdata;
} doctor_probes;

/* The probes that look at the real host: kvm_probe(), spawning QEMU, netlink, libssh. */
extern const doctor_probes doctor_host_probes;

/* Run every check. c may be NULL (no config yet): pool, QEMU of the config and peers are n/a. */
int doctor_run(const sysfs *fs, const host_config *c, const doctor_probes *probes,
	       doctor_report *ret);
void doctor_report_done(doctor_report *r);
/* Whether a migration can work: no blocking check failed. */
bool doctor_report_ok(const doctor_report *r);
const doctor_check *doctor_report_find(const doctor_report *r, const char *id);

json_object *doctor_report_to_json(const doctor_report *r, const char *host);
/* Back from JSON (a peer's answer): -EBADMSG for anything else. Values are cut to a sane size. */
int doctor_report_from_json(json_object *o, doctor_report *ret);
