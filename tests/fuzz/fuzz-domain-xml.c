// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A libvirt domain's XML (libvirt/domain_xml.h) on arbitrary bytes. What is accepted must also
 * give the destination's XML (which parses again as a domain) and the VF's element for another
 * host; every refusal explains itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "libvirt/domain_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *dest = NULL, *vf = NULL;
	domain_devices d, again;
	char err[512] = "";

	if (domain_xml_parse((const char *)data, size, &d, err, sizeof(err)) < 0) {
		if (!err[0])
			abort();
		return 0;
	}
	if (!d.name || !d.vf_xml || !d.standby_mac || (d.vf_kind != DOMAIN_VF_EMULATED) != !!d.vf_pci)
		abort();
	if (domain_xml_without_vf((const char *)data, size, &dest, err, sizeof(err)) < 0)
		abort();
	/* Without its VF the domain may have another candidate, or none: either way it parses. */
	err[0] = '\0';
	if (domain_xml_parse(dest, strlen(dest), &again, err, sizeof(err)) == 0)
		domain_devices_done(&again);
	else if (!err[0] || strstr(err, "does not parse"))
		abort();
	if (domain_xml_vf_for_host(d.vf_xml, d.vf_pci ? "0000:3b:02.5" : NULL, &vf, err,
				   sizeof(err)) < 0)
		abort();
	domain_devices_done(&d);
	return 0;
}
