/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A libvirt domain's XML, as dmigrate reads and changes it (docs/libvirt.md): which device is the
 * VF, which is the bond's virtio standby, where the agent's channel org.dmigrate.agent.0 listens,
 * and the domain XML the destination gets (the same domain without the VF: the destination plugs
 * a VF of its own pool).
 *
 * The VF is the device whose user alias is "ua-dmigrate-vf" (any <hostdev> or <interface>; the
 * netns lab's emulated VF is an e1000e <interface> marked so); without such an alias, the one PCI
 * <hostdev> or <interface type='hostdev'> the domain has. The standby is the virtio <interface>
 * aliased "ua-dmigrate-standby", or the only virtio <interface>.
 *
 * The XML is hostile input (a file an operator wrote, or a daemon's answer): at most
 * DOMAIN_XML_MAX bytes, no DTD and no entities, every value used later validated here. A refusal
 * says what was wrong and what to do, in err.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DOMAIN_XML_MAX (1024 * 1024)
#define DOMAIN_XML_VF_ALIAS "ua-dmigrate-vf"
#define DOMAIN_XML_STANDBY_ALIAS "ua-dmigrate-standby"
#define DOMAIN_XML_AGENT_CHANNEL "org.dmigrate.agent.0"
/*
 * The VF's element kept in the domain's own <metadata> while the VF is unplugged, so that it
 * travels with the domain to the destination (libvirt migrates the metadata), which plugs its
 * own VF in its place: <dmigrate:vf xmlns:dmigrate="urn:dmigrate:vf:1"><hostdev .../></...>.
 */
#define DOMAIN_XML_VF_METADATA_NS "urn:dmigrate:vf:1"
#define DOMAIN_XML_VF_METADATA_PREFIX "dmigrate"

typedef enum domain_vf_kind {
	DOMAIN_VF_HOSTDEV,   /* <hostdev mode='subsystem' type='pci'> */
	DOMAIN_VF_INTERFACE, /* <interface type='hostdev'> (libvirt sets its MAC through the PF) */
	DOMAIN_VF_EMULATED,  /* an emulated NIC standing in for one (lab, drills) */
} domain_vf_kind;

typedef struct domain_devices {
	char *name;
	domain_vf_kind vf_kind;
	char *vf_xml;      /* the VF's own element: what virDomainDetachDeviceFlags() takes */
	bool vf_unplugged; /* no VF device: vf_xml is the one the domain's metadata keeps */
	char *vf_alias;    /* its alias (what DEVICE_REMOVED names), NULL when the XML has none */
	char *vf_pci;      /* hostdev kinds: the host's PCI address of the VF, DDDD:BB:DD.F */
	char *vf_mac;      /* interface kinds: its MAC address, or NULL */
	char *standby_mac; /* the virtio standby's MAC address */
	char *agent_path;  /* the agent channel's Unix socket on this host, or NULL when libvirt
			    * has not named it yet (an inactive domain's XML) */
	/* The guest's RAM, <memory> rounded up to MiB (what a destination must have free), below
	 * 2^32; 0 when the XML has no <memory> that reads as a size in one of libvirt's units. Not
	 * a refusal: only an evacuation's placement uses it, and says when it is unknown. */
	uint64_t memory_mib;
} domain_devices;

const char *domain_vf_kind_name(domain_vf_kind k);

/*
 * Read a domain's XML; 0, or a negative errno with err saying why. A domain without a VF device
 * whose metadata keeps one (an unplugged VF, or a domain that just arrived from another host)
 * is read with vf_unplugged and that element.
 */
int domain_xml_parse(const char *xml, size_t size, domain_devices *ret, char *err,
		     size_t err_size);
void domain_devices_done(domain_devices *d);

/* The same domain without its VF (for VIR_MIGRATE_PARAM_DEST_XML and PERSIST_XML); the XML as
 * it is when it has no VF device (unplugged already). */
int domain_xml_without_vf(const char *xml, size_t size, char **ret, char *err, size_t err_size);

/*
 * The VF element to attach on a host whose VF is host_pci (DDDD:BB:DD.F; NULL for an emulated
 * VF, which keeps its element as it is): vf_xml, as domain_xml_parse() gave it, with its source
 * address replaced.
 */
/* What virDomainSetMetadata() keeps for vf_xml: <vf>VF_XML</vf>, libvirt adds the namespace. */
int domain_xml_vf_metadata(const char *vf_xml, char **ret);

int domain_xml_vf_for_host(const char *vf_xml, const char *host_pci, char **ret, char *err,
			   size_t err_size);
