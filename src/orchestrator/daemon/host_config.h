/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dmigrated's configuration: who this host is, where it keeps state, which passthrough devices it
 * may hand out, how it reaches its peers, and the migration settings. One JSON file
 * (default /etc/dmigrate/dmigrated.json); examples/dmigrated.json documents every field.
 */
#pragma once

#include <stdbool.h>
#include <sched.h>
#include <stdint.h>

#include <json-c/json.h>

#include "host/accel.h"

#define HOST_CONFIG_DEFAULT_PATH "/etc/dmigrate/dmigrated.json"
#define HOST_CONFIG_MAX_PEERS 64
#define HOST_CONFIG_MAX_VFS 256

typedef enum passthrough_type {
	PASSTHROUGH_EMULATED, /* lab: an emulated e1000e on a hot-pluggable root port */
	PASSTHROUGH_VFIO,     /* production: SR-IOV VFs bound to vfio-pci, listed by address */
	PASSTHROUGH_SRIOV,    /* production: the VFs of a PF, created and bound by dmigrated */
} passthrough_type;

/* IFLA_VF_LINK_STATE_*: what a VF's link does while a VM holds it. */
typedef enum vf_link_state {
	VF_LINK_AUTO,    /* follows the PF's link */
	VF_LINK_ENABLE,  /* up whatever the PF's link */
	VF_LINK_DISABLE, /* down */
} vf_link_state;

/* How dmigrated sets a VF through its PF while a VM holds it (netlink, host/vf_netlink.h). */
typedef struct vf_settings {
	bool spoofchk;             /* drop frames whose source MAC is not the VF's: on */
	bool trust;                /* let the guest change its MAC or go promiscuous: off */
	vf_link_state link_state;  /* auto */
} vf_settings;

typedef struct sriov_config {
	char *pf;     /* an interface name, or a PCI address DDDD:BB:DD.F */
	unsigned vfs; /* how many of its VFs make the pool */
	vf_settings settings;
} sriov_config;

typedef struct peer_config {
	char *name;
	char *address;           /* the peer's sshd, also its known_hosts key */
	unsigned port;
	char *peer_socket;       /* the peer daemon's peer socket, reached via direct-streamlocal */
	char *migration_address; /* where our QEMU sends the migration stream; default: address */
	bool local; /* peer_socket is on this machine: connect to it, no SSH (tests) */
} peer_config;

typedef struct migration_settings {
	uint64_t downtime_limit_ms;
	uint64_t max_bandwidth_mibps; /* 0: QEMU's default */
	uint64_t multifd_channels;    /* 0: multifd off */
	bool auto_converge;
	bool xbzrle;
	/* The `migrate` phase's bound: past it the copy is cancelled and the job undone. */
	uint64_t migrate_timeout_ms;
	/*
	 * Not a setting: the source sets it for one migration, from tls_dir. The name the
	 * destination's TLS certificate must hold (the peer's, as the config names it); NULL: the
	 * stream goes without TLS (docs/tls.md).
	 */
	const char *tls_hostname;
} migration_settings;

#define MIGRATE_TIMEOUT_DEFAULT_MS (30 * 60 * 1000ULL)
#define MIGRATE_TIMEOUT_MIN_MS 1000ULL
#define MIGRATE_TIMEOUT_MAX_MS (24 * 3600 * 1000ULL)
/* How long a destination keeps an incoming VM whose source never finishes (docs/design.md). */
#define INCOMING_TIMEOUT_DEFAULT_MS (2 * 3600 * 1000ULL)
#define INCOMING_TIMEOUT_MIN_MS 2000ULL
#define INCOMING_TIMEOUT_MAX_MS (48 * 3600 * 1000ULL)
#define AGENT_TIMEOUT_DEFAULT_MS 5000ULL
#define AGENT_TIMEOUT_MIN_MS 100ULL
#define AGENT_TIMEOUT_MAX_MS 60000ULL

typedef struct host_config {
	char *path; /* the file it was read from, for messages */
	char *name;
	char *control_socket; /* the CLI's commands */
	char *peer_socket;    /* the peer-* commands, for peers coming through sshd */
	char *state_dir;
	char *run_dir;
	char *qemu_binary;
	qemu_accel accel; /* for VMs whose spec says "auto"; auto: KVM where kvm_probe() works */
	char *migration_address; /* incoming migrations listen here */
	passthrough_type passthrough;
	char **vfs; /* vfio: PCI addresses; emulated: slot names vf0, vf1, ...; sriov: NULL */
	size_t n_vfs; /* sriov: the VFs asked for (host/vf_pool.h knows which exist) */
	sriov_config sriov;
	char *system_root; /* sysfs and procfs are read below it: "/" but in tests */
	cpu_set_t dedicated_cpus; /* CPUs for pinned vCPUs ("2-7,10" in the file); empty: none */
	char *ssh_user;
	char *ssh_identity_file;
	char *ssh_known_hosts_file;
	peer_config *peers;
	size_t n_peers;
	migration_settings migration;
	bool fault_injection; /* obey the `fault` of a migrate request (drills, never production) */
	uint64_t incoming_timeout_ms; /* an incoming VM not switched over by then is removed */
	uint64_t agent_timeout_ms;    /* the bound of one guest agent request */
	char *tls_dir; /* the migration stream's TLS certificates (host/qemu_tls.h); NULL: no TLS */
} host_config;

/* On failure *ret_error (malloc()ed) names the file and the field. */
int host_config_load(const char *path, host_config **ret, char **ret_error);
host_config *host_config_free(host_config *c);
const peer_config *host_config_find_peer(const host_config *c, const char *name);
/* Apply overrides from a request ({"downtime_limit_ms": 100, ...}); same field names and checks. */
int migration_settings_override(migration_settings *s, json_object *overrides, char **ret_error);
json_object *migration_settings_to_json(const migration_settings *s);
/*
 * The QEMU migration URI for a configured address (host_config checked it) and a port:
 * tcp:ADDRESS:PORT, or tcp:[ADDRESS]:PORT for IPv6. -EINVAL for anything else.
 */
int migration_uri_new(const char *address, uint64_t port, char **ret);
