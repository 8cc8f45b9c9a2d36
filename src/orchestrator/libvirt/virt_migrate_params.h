/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What virDomainMigrateToURI3 is given for a dmigrate migration of a libvirt domain: live,
 * peer-to-peer (the source libvirtd talks to the destination's itself), the destination paused
 * at the end (its switchover phase resumes it, after its journal says so, as for QEMU's `cont`),
 * persistent there and undefined here when the domain is persistent; the destination's XML
 * without the VF (it plugs a VF of its own pool); bandwidth, parallel connections, auto-converge
 * and compression from the migration settings.
 */
#pragma once

#include <stdbool.h>

#include <libvirt/libvirt.h>

#include "daemon/host_config.h"

typedef struct virt_migrate_args {
	const migration_settings *settings;
	const char *dest_xml;    /* the live domain without its VF */
	const char *persist_xml; /* the defined domain without its VF; NULL for a transient one */
	const char *stream_uri;  /* where QEMU sends the stream, tcp://ADDRESS[:PORT] */
} virt_migrate_args;

/*
 * The destination libvirtd, reached by libvirt itself over SSH with dmigrate's own key and
 * known_hosts file (libssh, host key verified): qemu+libssh://USER@ADDRESS:PORT/system?....
 * -EINVAL when the config lacks them or a path holds characters a URI would need escaped for.
 */
int virt_peer_uri(const host_config *c, const peer_config *p, char **ret);
/* Where QEMU sends the stream: tcp://ADDRESS:PORT (the peer's migration_address, never the
 * peer's word; the port its daemon chose, or none: libvirt picks one there). */
int virt_stream_uri(const peer_config *p, unsigned port, char **ret);

/*
 * Fill *params (virTypedParamsFree() them) and *flags. -EINVAL when a required piece is missing
 * (no dest_xml or stream_uri), -ENOMEM.
 */
int virt_migrate_params(const virt_migrate_args *a, virTypedParameterPtr *params, int *n,
			unsigned int *flags);
