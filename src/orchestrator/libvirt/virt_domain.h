/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A libvirt domain that dmigrate migrates, looked up by name on a libvirt connection and checked
 * before anything is changed: it exists, it runs, its live XML has a VF, a virtio standby and
 * the agent's channel (domain_xml.h), and a migration asked to persist it on the destination
 * finds it persistent here. Each refusal names the domain and says what to do.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <libvirt/libvirt.h>

#include "libvirt/domain_xml.h"

typedef struct virt_domain {
	virDomainPtr dom;
	domain_devices dev;
	char *xml;       /* the live XML the devices were read from */
	bool persistent; /* defined on this host, not only running */
} virt_domain;

/* Open a connection to uri (libvirt's messages go to err, not to stderr). */
int virt_connect(const char *uri, virConnectPtr *ret, char *err, size_t err_size);

/*
 * Find domain name on conn and read it. persist: the migration is to define it on the
 * destination (VIR_MIGRATE_PERSIST_DEST), which a transient domain refuses. -ENOENT (no such
 * domain), -EINVAL (not running, not migratable as it is), -ENODEV (no VF, standby or channel).
 */
int virt_domain_open(virConnectPtr conn, const char *name, bool persist, virt_domain *ret,
		     char *err, size_t err_size);
void virt_domain_close(virt_domain *d);

/* libvirt's last error on this thread, on one line (never NULL). */
const char *virt_last_error(char *buf, size_t size);
/* A libvirt error message m (NULL: unknown) on one line in buf, a failed helper's command line
 * left out ("Child process (...) unexpected exit status 1: what it said"). */
const char *virt_error_text(const char *m, char *buf, size_t size);
/*
 * The error of a failed virDomainMigrateToURI3 (error domain, libvirt's message m) on one line
 * in buf, as virt_error_text, and said for what it is when it is an SSH transport's
 * (VIR_FROM_LIBSSH, VIR_FROM_SSH): libvirt 9.0 reports its own closing of the connection to the
 * destination's libvirtd in place of the destination's answer (docs/libvirt.md), so the reason
 * is in that libvirtd's log.
 */
const char *virt_migrate_error_text(int domain, const char *m, char *buf, size_t size);
