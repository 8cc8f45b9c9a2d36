// SPDX-License-Identifier: GPL-2.0-or-later
/* A libvirt domain looked up and checked before a migration (virt_domain.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "errbuf.h"
#include "libvirt/virt_domain.h"

#define DOMAIN_NAME_MAX 64

/* libvirt's default prints every error on stderr; the caller reports them itself. */
static void quiet(void *userdata, virErrorPtr e)
{
}

const char *virt_error_text(const char *m, char *buf, size_t size)
{
	static const char child[] = "Child process (", child_end[] = ") unexpected ";
	const char *cmd = m ? strstr(m, child) : NULL, *end = NULL;

	/* libvirt names a failed helper (a hook) with its whole environment and command line
	 * before what it said on stderr: that reason would be cut off a short message. */
	for (const char *p = cmd; p && (p = strstr(p, child_end)); p++)
		end = p;
	if (cmd && end)
		snprintf(buf, size, "%.*s...%s", (int)(cmd - m + strlen(child)), m, end);
	else
		snprintf(buf, size, "%s", m ? m : "unknown libvirt error");
	for (char *p = buf; *p; p++)
		if (iscntrl((unsigned char)*p))
			*p = ' ';
	return buf;
}

const char *virt_migrate_error_text(int domain, const char *m, char *buf, size_t size)
{
	char why[256];

	/*
	 * Peer-to-peer, the source's libvirtd talks to the destination's over libvirt's SSH
	 * transport. When the destination fails the migration's prepare (a qemu hook refusing it,
	 * say), libvirt 9.0's qemuMigrationSrcPerformPeer2Peer() keeps that error, restores it, and
	 * only then drops its connection (g_autoptr): the close's CONNECT_CLOSE call reads the
	 * reply and the channel's EOF together, before sshd's exit-status, and
	 * virNetLibsshChannelRead() drops the reply and reports "Remote command terminated with
	 * non-zero code: -1", which replaces the destination's error on that thread. Nothing in
	 * libvirt's API has the lost reason any more: say where it is.
	 */
	if (domain != VIR_FROM_LIBSSH && domain != VIR_FROM_SSH)
		return virt_error_text(m, buf, size);
	snprintf(buf, size,
		 "libvirt's connection to the destination's libvirtd ended (%s); libvirt reports that in place of the destination's own error when the destination refused or failed the migration before the copy: its libvirtd's log says why",
		 virt_error_text(m, why, sizeof(why)));
	return buf;
}

const char *virt_last_error(char *buf, size_t size)
{
	return virt_error_text(virGetLastErrorMessage(), buf, size);
}

int virt_connect(const char *uri, virConnectPtr *ret, char *err, size_t err_size)
{
	char why[256];

	virSetErrorFunc(NULL, quiet);
	*ret = virConnectOpen(uri);
	if (!*ret)
		return errbuf_set(err, err_size, -ECONNREFUSED,
				  "cannot connect to libvirt at '%s': %s (is libvirtd running?)", uri,
				  virt_last_error(why, sizeof(why)));
	return 0;
}

void virt_domain_close(virt_domain *d)
{
	if (d->dom)
		virDomainFree(d->dom);
	domain_devices_done(&d->dev);
	free(d->xml);
	*d = (virt_domain){ 0 };
}

static bool name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > DOMAIN_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_-.", *s))
			return false;
	return true;
}

int virt_domain_open(virConnectPtr conn, const char *name, bool persist, virt_domain *ret,
		     char *err, size_t err_size)
{
	virt_domain d = { 0 };
	char why[384];
	int r, active, persistent;

	if (!name_valid(name))
		return errbuf_set(err, err_size, -EINVAL,
				  "'%.*s' is not a domain name dmigrate takes: letters, digits, '_', '-' and '.', at most %d",
				  DOMAIN_NAME_MAX + 1, name, DOMAIN_NAME_MAX);
	d.dom = virDomainLookupByName(conn, name);
	if (!d.dom) {
		virErrorPtr e = virGetLastError();

		if (e && e->code == VIR_ERR_NO_DOMAIN)
			return errbuf_set(err, err_size, -ENOENT,
					  "libvirt has no domain '%s' on this host (`virsh list --all` lists those it has)",
					  name);
		return errbuf_set(err, err_size, -EIO, "cannot look up domain '%s': %s", name,
				  virt_last_error(why, sizeof(why)));
	}
	active = virDomainIsActive(d.dom);
	persistent = virDomainIsPersistent(d.dom);
	if (active < 0 || persistent < 0) {
		r = errbuf_set(err, err_size, -EIO, "cannot ask libvirt about domain '%s': %s", name,
			       virt_last_error(why, sizeof(why)));
		goto fail;
	}
	if (!active) {
		r = errbuf_set(err, err_size, -EINVAL,
			       "domain '%s' is not running: only a running domain migrates live (virsh start %s)",
			       name, name);
		goto fail;
	}
	d.persistent = persistent;
	if (persist && !d.persistent) {
		r = errbuf_set(err, err_size, -EINVAL,
			       "domain '%s' is transient (running, not defined on this host): asked to persist it on the destination, dmigrate would define there what nobody defined here; migrate it without persisting, or define it first (virsh define)",
			       name);
		goto fail;
	}
	d.xml = virDomainGetXMLDesc(d.dom, 0);
	if (!d.xml) {
		r = errbuf_set(err, err_size, -EIO, "cannot read the XML of domain '%s': %s", name,
			       virt_last_error(why, sizeof(why)));
		goto fail;
	}
	r = domain_xml_parse(d.xml, strlen(d.xml), &d.dev, why, sizeof(why));
	if (r < 0) {
		r = errbuf_set(err, err_size, r, "domain '%s': %s", name, why);
		goto fail;
	}
	*ret = d;
	return 0;
fail:
	virt_domain_close(&d);
	return r;
}
