// SPDX-License-Identifier: GPL-2.0-or-later
/* virDomainMigrateToURI3's parameters and flags for a dmigrate migration (virt_migrate_params.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "libvirt/virt_migrate_params.h"

/* A path that goes into a URI's query as it is: no escaping needed, nothing to inject. */
static bool uri_path_plain(const char *s)
{
	if (!s || s[0] != '/')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      strchr("/._-", *s)))
			return false;
	return true;
}

/* An address as a URI's host: IPv6 in brackets. */
static void uri_host(char *buf, size_t size, const char *address)
{
	if (strchr(address, ':'))
		snprintf(buf, size, "[%s]", address);
	else
		snprintf(buf, size, "%s", address);
}

int virt_peer_uri(const host_config *c, const peer_config *p, char **ret)
{
	char host[80];

	if (!c->ssh_user || !uri_path_plain(c->ssh_identity_file) ||
	    !uri_path_plain(c->ssh_known_hosts_file) || !p->address || strlen(p->address) > 64)
		return -EINVAL;
	uri_host(host, sizeof(host), p->address);
	if (asprintf(ret,
		     "qemu+libssh://%s@%s:%u/system?keyfile=%s&known_hosts=%s&known_hosts_verify=normal&sshauth=privkey",
		     c->ssh_user, host, p->port ? p->port : 22, c->ssh_identity_file,
		     c->ssh_known_hosts_file) < 0)
		return -ENOMEM;
	return 0;
}

int virt_stream_uri(const peer_config *p, unsigned port, char **ret)
{
	const char *a = p->migration_address ? p->migration_address : p->address;
	char host[80];
	int r;

	if (!a || strlen(a) > 64 || port > 65535)
		return -EINVAL;
	uri_host(host, sizeof(host), a);
	r = port ? asprintf(ret, "tcp://%s:%u", host, port) : asprintf(ret, "tcp://%s", host);
	if (r < 0)
		return -ENOMEM;
	return 0;
}

int virt_migrate_params(const virt_migrate_args *a, virTypedParameterPtr *params, int *n,
			unsigned int *flags)
{
	const migration_settings *s = a->settings;
	virTypedParameterPtr p = NULL;
	int np = 0, max = 0;
	unsigned int f;

	if (!a->dest_xml || !a->stream_uri || !s)
		return -EINVAL;
	/* virTypedParamsAdd*() reset libvirt's per-thread error first: without virInitialize()
	 * (done implicitly only by virConnectOpen) that frees an uninitialized pointer. */
	if (virInitialize() < 0)
		return -ENOMEM;
	f = VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_PAUSED;
	if (a->persist_xml)
		f |= VIR_MIGRATE_PERSIST_DEST | VIR_MIGRATE_UNDEFINE_SOURCE;
	if (s->auto_converge)
		f |= VIR_MIGRATE_AUTO_CONVERGE;
	if (s->xbzrle)
		f |= VIR_MIGRATE_COMPRESSED;
	if (s->multifd_channels)
		f |= VIR_MIGRATE_PARALLEL;

	if (virTypedParamsAddString(&p, &np, &max, VIR_MIGRATE_PARAM_URI, a->stream_uri) < 0 ||
	    virTypedParamsAddString(&p, &np, &max, VIR_MIGRATE_PARAM_DEST_XML, a->dest_xml) < 0 ||
	    (a->persist_xml && virTypedParamsAddString(&p, &np, &max, VIR_MIGRATE_PARAM_PERSIST_XML,
						       a->persist_xml) < 0) ||
	    /* 0 is no limit for both libvirt and our settings. */
	    (s->max_bandwidth_mibps &&
	     virTypedParamsAddULLong(&p, &np, &max, VIR_MIGRATE_PARAM_BANDWIDTH,
				     s->max_bandwidth_mibps) < 0) ||
	    (s->multifd_channels &&
	     virTypedParamsAddInt(&p, &np, &max, VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS,
				  s->multifd_channels > INT_MAX ? INT_MAX :
								  (int)s->multifd_channels) < 0)) {
		virTypedParamsFree(p, np);
		return -ENOMEM;
	}
	*params = p;
	*n = np;
	*flags = f;
	return 0;
}
