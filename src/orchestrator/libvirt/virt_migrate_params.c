// SPDX-License-Identifier: GPL-2.0-or-later
/* virDomainMigrateToURI3's parameters and flags for a dmigrate migration (virt_migrate_params.h). */
#include <errno.h>
#include <limits.h>

#include "libvirt/virt_migrate_params.h"

int virt_migrate_params(const virt_migrate_args *a, virTypedParameterPtr *params, int *n,
			unsigned int *flags)
{
	const migration_settings *s = a->settings;
	virTypedParameterPtr p = NULL;
	int np = 0, max = 0;
	unsigned int f;

	if (!a->dest_xml || !a->stream_uri || !s)
		return -EINVAL;
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
