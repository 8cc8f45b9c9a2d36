// SPDX-License-Identifier: GPL-2.0-or-later
/* dmigrated's connections to libvirtd, one per URI (virt_connection.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libvirt/virt_connection.h"
#include "libvirt/virt_domain.h"
#include "log.h"

/* A libvirtd that stops answering for 3 × 5 s is taken as gone. */
#define KEEPALIVE_INTERVAL_S 5
#define KEEPALIVE_COUNT 3

typedef struct virt_connection {
	char *uri;
	virConnectPtr conn;
	struct virt_connection *next;
} virt_connection;

static virt_connection *connections;

int virt_connection_get(const char *uri, virConnectPtr *ret, char *err, size_t err_size)
{
	virt_connection *c;
	char why[256];
	int r;

	for (c = connections; c; c = c->next)
		if (!strcmp(c->uri, uri))
			break;
	if (c && virConnectIsAlive(c->conn) == 1) {
		*ret = c->conn;
		return 0;
	}
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c || !(c->uri = strdup(uri))) {
			free(c);
			return -ENOMEM;
		}
		c->next = connections;
		connections = c;
	} else if (c->conn) {
		/* Domains bound on the old one keep their reference; libvirt frees it after them. */
		virConnectClose(c->conn);
		c->conn = NULL;
	}
	r = virt_connect(uri, &c->conn, err, err_size);
	if (r < 0)
		return r;
	/* Without an event loop registered (tests, the CLI) libvirt has no keepalive to run. */
	if (virConnectSetKeepAlive(c->conn, KEEPALIVE_INTERVAL_S, KEEPALIVE_COUNT) < 0)
		log_debug("libvirt at '%s': no keepalive: %s", uri, virt_last_error(why, sizeof(why)));
	*ret = c->conn;
	return 0;
}

void virt_connections_close(void)
{
	while (connections) {
		virt_connection *c = connections;

		connections = c->next;
		if (c->conn)
			virConnectClose(c->conn);
		free(c->uri);
		free(c);
	}
}
