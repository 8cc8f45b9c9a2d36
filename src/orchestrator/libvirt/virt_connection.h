/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dmigrated's connections to its host's libvirtd, one per URI (a VM spec's libvirt.uri), opened
 * on first use and kept for the daemon's life: every domain bound on it hears its events there,
 * and libvirt's keepalive (on the daemon's loop: virt_event.h) notices a libvirtd that went
 * away. A connection that libvirt closed is opened anew on the next use.
 */
#pragma once

#include <stddef.h>

#include <libvirt/libvirt.h>

/* The connection to uri (borrowed: it lives until virt_connections_close()). */
int virt_connection_get(const char *uri, virConnectPtr *ret, char *err, size_t err_size);
void virt_connections_close(void);
