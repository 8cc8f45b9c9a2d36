// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A libvirt domain's XML read with libxml2 (domain_xml.h): XPath finds the devices, every value
 * taken out is checked before anyone uses it, and the destination's XML is the same document
 * with the VF's element taken out.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

#include "errbuf.h"
#include "macro.h"
#include "libvirt/domain_xml.h"

#define NAME_MAX_LEN 64
#define ALIAS_MAX_LEN 64
/* sun_path's size, its NUL included */
#define SOCKET_PATH_MAX 108

const char *domain_vf_kind_name(domain_vf_kind k)
{
	switch (k) {
	case DOMAIN_VF_HOSTDEV:
		return "hostdev";
	case DOMAIN_VF_INTERFACE:
		return "interface type='hostdev'";
	case DOMAIN_VF_EMULATED:
		return "emulated interface";
	}
	return "unknown";
}

void domain_devices_done(domain_devices *d)
{
	free(d->name);
	free(d->vf_xml);
	free(d->vf_alias);
	free(d->vf_pci);
	free(d->vf_mac);
	free(d->standby_mac);
	free(d->agent_path);
	*d = (domain_devices){ 0 };
}

/* libxml2's own words for a refusal, on one line and without control characters. */
static void last_xml_error(char *buf, size_t size)
{
	const xmlError *e = xmlGetLastError();
	size_t n;

	snprintf(buf, size, "%s", e && e->message ? e->message : "not well-formed");
	for (n = 0; buf[n]; n++)
		if (iscntrl((unsigned char)buf[n]))
			buf[n] = ' ';
	while (n > 0 && buf[n - 1] == ' ')
		buf[--n] = '\0';
}

/* roots: the accepted top elements, separated by '|'. */
static bool root_matches(const char *name, const char *roots)
{
	size_t n = strlen(name);

	for (const char *p = roots; p; p = strchr(p, '|') ? strchr(p, '|') + 1 : NULL)
		if (!strncmp(p, name, n) && (p[n] == '|' || p[n] == '\0'))
			return true;
	return false;
}

static int doc_read(const char *xml, size_t size, const char *root, xmlDocPtr *ret, char *err,
		    size_t err_size)
{
	char why[160];
	xmlDocPtr doc;
	xmlNodePtr r;

	if (size == 0)
		return errbuf_set(err, err_size, -EINVAL, "the XML is empty");
	if (size > DOMAIN_XML_MAX)
		return errbuf_set(err, err_size, -E2BIG, "the XML is %zu bytes, more than the %d accepted",
				  size, DOMAIN_XML_MAX);
	if (memchr(xml, '\0', size))
		return errbuf_set(err, err_size, -EINVAL, "the XML holds a NUL byte");
	xmlResetLastError();
	/* No network, no entity substitution, no DTD loading; libxml2's own limits stay on. */
	doc = xmlReadMemory(xml, (int)size, "domain.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		last_xml_error(why, sizeof(why));
		return errbuf_set(err, err_size, -EINVAL, "the XML does not parse: %s", why);
	}
	/* libvirt never writes a DTD; one can only declare entities nobody needs. */
	if (doc->intSubset || doc->extSubset) {
		xmlFreeDoc(doc);
		return errbuf_set(err, err_size, -EINVAL,
				  "the XML has a DOCTYPE, which libvirt never writes: remove it");
	}
	r = xmlDocGetRootElement(doc);
	if (!r || !root_matches((const char *)r->name, root)) {
		xmlFreeDoc(doc);
		return errbuf_set(err, err_size, -EINVAL, "the XML's top element is not one of: %s",
				  root);
	}

	*ret = doc;
	return 0;
}

/* The nodes that expr selects from node (NULL: the document); the caller frees the object. */
static xmlXPathObjectPtr xpath(xmlDocPtr doc, xmlNodePtr node, const char *expr)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr o;

	if (!ctx)
		return NULL;
	if (node)
		ctx->node = node;
	o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	xmlXPathFreeContext(ctx);
	return o;
}

static int nodes_count(xmlXPathObjectPtr o)
{
	return o && o->nodesetval ? o->nodesetval->nodeNr : 0;
}

/* The value of an attribute (of the first node that expr, relative to node, selects), or NULL. */
static char *attr_at(xmlDocPtr doc, xmlNodePtr node, const char *expr, const char *attr)
{
	xmlXPathObjectPtr o = xpath(doc, node, expr);
	xmlChar *v = NULL;
	char *s = NULL;

	if (nodes_count(o) > 0)
		v = xmlGetProp(o->nodesetval->nodeTab[0], BAD_CAST attr);
	if (v)
		s = strdup((const char *)v);
	xmlFree(v);
	xmlXPathFreeObject(o);
	return s;
}

static bool name_valid(const char *s, size_t max, const char *extra)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(extra, *p))
			return false;
	return true;
}

static bool mac_valid(const char *s)
{
	for (int i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)s[3 * i]) || !isxdigit((unsigned char)s[3 * i + 1]))
			return false;
		if (s[3 * i + 2] != (i == 5 ? '\0' : ':'))
			return false;
	}
	return true;
}

/* One of a PCI address's attributes: hexadecimal ("0x07" as libvirt writes it), at most max. */
static int pci_part(xmlNodePtr a, const char *name, unsigned long max, unsigned long *ret)
{
	xmlChar *v = xmlGetProp(a, BAD_CAST name);
	const char *s = (const char *)v;
	char *end;
	int r = -EINVAL;

	if (s && (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) && isxdigit((unsigned char)s[2])) {
		errno = 0;
		*ret = strtoul(s + 2, &end, 16);
		if (!errno && !*end && *ret <= max)
			r = 0;
	}
	xmlFree(v);
	return r;
}

/* The host PCI address of a hostdev kind's <source><address>, as DDDD:BB:DD.F. */
static int vf_source_pci(xmlDocPtr doc, xmlNodePtr vf, char **ret, char *err, size_t err_size)
{
	xmlXPathObjectPtr o = xpath(doc, vf, "source/address");
	unsigned long dom, bus, slot, fn;
	xmlNodePtr a;

	if (nodes_count(o) != 1) {
		xmlXPathFreeObject(o);
		return errbuf_set(err, err_size, -EINVAL,
				  "the VF has no host PCI address: give it <source><address domain='0x0000' bus='0x07' slot='0x10' function='0x1'/></source>");
	}
	a = o->nodesetval->nodeTab[0];
	if (pci_part(a, "domain", 0xffff, &dom) < 0 || pci_part(a, "bus", 0xff, &bus) < 0 ||
	    pci_part(a, "slot", 0x1f, &slot) < 0 || pci_part(a, "function", 0x7, &fn) < 0) {
		xmlXPathFreeObject(o);
		return errbuf_set(err, err_size, -EINVAL,
				  "the VF's host PCI address is not valid: domain, bus, slot and function must be hexadecimal like '0x07' (domain <= 0xffff, bus <= 0xff, slot <= 0x1f, function <= 0x7)");
	}
	xmlXPathFreeObject(o);
	if (asprintf(ret, "%04lx:%02lx:%02lx.%lx", dom, bus, slot, fn) < 0) {
		*ret = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int node_dump(xmlDocPtr doc, xmlNodePtr node, char **ret)
{
	xmlBufferPtr b = xmlBufferCreate();
	int r = -ENOMEM;

	if (!b)
		return -ENOMEM;
	if (xmlNodeDump(b, doc, node, 0, 0) >= 0) {
		*ret = strdup((const char *)xmlBufferContent(b));
		if (*ret)
			r = 0;
	}
	xmlBufferFree(b);
	return r;
}

/* The VF's element (domain_xml.h says how it is chosen). */
static int find_vf(xmlDocPtr doc, xmlNodePtr *ret, char *err, size_t err_size)
{
	xmlXPathObjectPtr o;
	int n;

	o = xpath(doc, NULL,
		  "/domain/devices/hostdev[alias/@name='" DOMAIN_XML_VF_ALIAS "'] | "
		  "/domain/devices/interface[alias/@name='" DOMAIN_XML_VF_ALIAS "']");
	if (!o)
		return -ENOMEM;
	n = nodes_count(o);
	if (n == 0) {
		xmlXPathFreeObject(o);
		o = xpath(doc, NULL,
			  "/domain/devices/hostdev[@mode='subsystem' and @type='pci'] | "
			  "/domain/devices/interface[@type='hostdev']");
		if (!o)
			return -ENOMEM;
		n = nodes_count(o);
		if (n == 0) {
			xmlXPathFreeObject(o);
			return errbuf_set(err, err_size, -ENODEV,
					  "the domain has no VF: no PCI <hostdev>, no <interface type='hostdev'>, and no device with <alias name='" DOMAIN_XML_VF_ALIAS "'/>; give it its VF, or mark the device that stands in for one with that alias");
		}
	}
	if (n > 1) {
		xmlXPathFreeObject(o);
		return errbuf_set(err, err_size, -EINVAL,
				  "the domain has %d devices that could be its VF: mark the one to move with <alias name='" DOMAIN_XML_VF_ALIAS "'/>",
				  n);
	}
	*ret = o->nodesetval->nodeTab[0];
	xmlXPathFreeObject(o);
	return 0;
}

/* libvirt puts every element of a metadata entry in its namespace: the VF's element is read,
 * and plugged, as the plain device element it was. */
static void strip_namespaces(xmlNodePtr n)
{
	for (; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE) {
			n->ns = NULL;
			strip_namespaces(n->children);
		}
}

/* The VF element the domain's metadata keeps (domain_xml.h), or NULL. */
static xmlNodePtr find_vf_metadata(xmlDocPtr doc, char *err, size_t err_size, int *r)
{
	xmlXPathObjectPtr o = xpath(doc, NULL,
				    "/domain/metadata/*[local-name()='vf' and namespace-uri()='" DOMAIN_XML_VF_METADATA_NS "']/*");
	xmlNodePtr vf = NULL;

	*r = 0;
	if (!o) {
		*r = -ENOMEM;
		return NULL;
	}
	if (nodes_count(o) == 1 &&
	    (!xmlStrcmp(o->nodesetval->nodeTab[0]->name, BAD_CAST "hostdev") ||
	     !xmlStrcmp(o->nodesetval->nodeTab[0]->name, BAD_CAST "interface"))) {
		vf = o->nodesetval->nodeTab[0];
		vf->ns = NULL;
		strip_namespaces(vf->children);
	}
	else if (nodes_count(o) > 0)
		*r = errbuf_set(err, err_size, -EINVAL,
				"the domain's metadata " DOMAIN_XML_VF_METADATA_NS " does not hold one <hostdev> or <interface>: remove it (virsh metadata --uri " DOMAIN_XML_VF_METADATA_NS " --remove)");
	xmlXPathFreeObject(o);
	return vf;
}

static int read_vf(xmlDocPtr doc, domain_devices *d, xmlNodePtr *ret_node, char *err,
		   size_t err_size)
{
	_cleanup_free_ char *type = NULL, *mode = NULL;
	xmlNodePtr vf;
	int r, rm;

	r = find_vf(doc, &vf, err, err_size);
	if (r == -ENODEV) {
		xmlNodePtr kept = find_vf_metadata(doc, err, err_size, &rm);

		if (rm < 0)
			return rm;
		if (kept) {
			vf = kept;
			d->vf_unplugged = true;
			r = 0;
		}
	}
	if (r < 0)
		return r;
	type = (char *)xmlGetProp(vf, BAD_CAST "type");
	if (!xmlStrcmp(vf->name, BAD_CAST "hostdev")) {
		mode = (char *)xmlGetProp(vf, BAD_CAST "mode");
		if (!type || !mode || strcmp(type, "pci") || strcmp(mode, "subsystem"))
			return errbuf_set(err, err_size, -EINVAL,
					  "the VF's <hostdev> is not mode='subsystem' type='pci': only a PCI device can be a VF");
		d->vf_kind = DOMAIN_VF_HOSTDEV;
	} else {
		d->vf_kind = type && !strcmp(type, "hostdev") ? DOMAIN_VF_INTERFACE :
								DOMAIN_VF_EMULATED;
	}
	if (d->vf_kind != DOMAIN_VF_EMULATED) {
		r = vf_source_pci(doc, vf, &d->vf_pci, err, err_size);
		if (r < 0)
			return r;
	}
	if (d->vf_kind != DOMAIN_VF_HOSTDEV) {
		d->vf_mac = attr_at(doc, vf, "mac", "address");
		if (d->vf_mac && !mac_valid(d->vf_mac))
			return errbuf_set(err, err_size, -EINVAL,
					  "the VF's MAC address is not valid: write it as 52:54:00:12:34:56");
	}
	d->vf_alias = attr_at(doc, vf, "alias", "name");
	if (d->vf_alias && !name_valid(d->vf_alias, ALIAS_MAX_LEN, "_-."))
		return errbuf_set(err, err_size, -EINVAL,
				  "the VF's alias is not valid: letters, digits, '_', '-' and '.', at most %d",
				  ALIAS_MAX_LEN);
	*ret_node = vf;
	return node_dump(doc, vf, &d->vf_xml);
}

static int read_standby(xmlDocPtr doc, xmlNodePtr vf, domain_devices *d, char *err,
			size_t err_size)
{
	xmlXPathObjectPtr o;
	xmlNodePtr standby = NULL;
	int candidates = 0;
	xmlChar *mac;

	o = xpath(doc, NULL, "/domain/devices/interface[model/@type='virtio']");
	if (!o)
		return -ENOMEM;
	for (int i = 0; i < nodes_count(o); i++) {
		xmlNodePtr n = o->nodesetval->nodeTab[i];
		_cleanup_free_ char *alias = NULL;

		if (n == vf)
			continue;
		alias = attr_at(doc, n, "alias", "name");
		if (alias && !strcmp(alias, DOMAIN_XML_STANDBY_ALIAS)) {
			standby = n;
			candidates = 1;
			break;
		}
		standby = n;
		candidates++;
	}
	xmlXPathFreeObject(o);
	if (candidates == 0)
		return errbuf_set(err, err_size, -ENODEV,
				  "the domain has no virtio <interface> to stand by for the VF during the migration: add one (<model type='virtio'/>) and enslave it to the guest's bond");
	if (candidates > 1)
		return errbuf_set(err, err_size, -EINVAL,
				  "the domain has %d virtio interfaces: mark the bond's standby with <alias name='" DOMAIN_XML_STANDBY_ALIAS "'/>",
				  candidates);
	o = xpath(doc, standby, "mac");
	mac = nodes_count(o) == 1 ? xmlGetProp(o->nodesetval->nodeTab[0], BAD_CAST "address") : NULL;
	xmlXPathFreeObject(o);
	if (!mac || !mac_valid((const char *)mac)) {
		xmlFree(mac);
		return errbuf_set(err, err_size, -EINVAL,
				  "the virtio standby has no valid MAC address: give it <mac address='52:54:00:12:34:56'/>");
	}
	d->standby_mac = strdup((const char *)mac);
	xmlFree(mac);
	return d->standby_mac ? 0 : -ENOMEM;
}

static bool socket_path_valid(const char *p)
{
	size_t n = strlen(p);

	if (p[0] != '/' || n >= SOCKET_PATH_MAX || strstr(p, "/../") ||
	    (n >= 3 && !strcmp(p + n - 3, "/..")))
		return false;
	for (; *p; p++)
		if (iscntrl((unsigned char)*p))
			return false;
	return true;
}

static int read_channel(xmlDocPtr doc, domain_devices *d, char *err, size_t err_size)
{
	xmlXPathObjectPtr o;
	_cleanup_free_ char *type = NULL;
	xmlNodePtr ch;
	int n;

	o = xpath(doc, NULL,
		  "/domain/devices/channel[target/@type='virtio' and target/@name='" DOMAIN_XML_AGENT_CHANNEL "']");
	if (!o)
		return -ENOMEM;
	n = nodes_count(o);
	if (n == 0) {
		xmlXPathFreeObject(o);
		return errbuf_set(err, err_size, -ENODEV,
				  "the domain has no channel for dmigrate's guest agent: add <channel type='unix'><target type='virtio' name='" DOMAIN_XML_AGENT_CHANNEL "'/></channel>");
	}
	if (n > 1) {
		xmlXPathFreeObject(o);
		return errbuf_set(err, err_size, -EINVAL,
				  "the domain has %d channels named " DOMAIN_XML_AGENT_CHANNEL ": keep one", n);
	}
	ch = o->nodesetval->nodeTab[0];
	xmlXPathFreeObject(o);
	type = (char *)xmlGetProp(ch, BAD_CAST "type");
	if (!type || strcmp(type, "unix"))
		return errbuf_set(err, err_size, -EINVAL,
				  "the channel " DOMAIN_XML_AGENT_CHANNEL " is not type='unix': dmigrated reaches the agent over a Unix socket");
	d->agent_path = attr_at(doc, ch, "source", "path");
	if (d->agent_path && !socket_path_valid(d->agent_path))
		return errbuf_set(err, err_size, -EINVAL,
				  "the channel " DOMAIN_XML_AGENT_CHANNEL "'s socket path is not usable: an absolute path without '..' or control characters, shorter than %d bytes",
				  SOCKET_PATH_MAX);
	return 0;
}

/*
 * A libvirt memory unit in bytes, read as libvirt reads it (virScaleInteger(), any case): "b",
 * "byte", "bytes"; a letter of k, m, g, t, p, e alone or with "iB" (powers of 1024) or with "B"
 * (powers of 1000). NULL (no unit) is KiB. 0: not a unit.
 */
static uint64_t memory_unit_bytes(const char *u)
{
	static const char scale[] = "kmgtpe";
	const char *at;
	uint64_t bytes = 1;

	if (!u)
		return 1024;
	if (!strcasecmp(u, "b") || !strcasecmp(u, "byte") || !strcasecmp(u, "bytes"))
		return 1;
	at = *u ? strchr(scale, tolower((unsigned char)*u)) : NULL;
	if (!at || (u[1] && strcasecmp(u + 1, "iB") && strcasecmp(u + 1, "B")))
		return 0;
	for (const char *p = scale; p <= at; p++)
		bytes *= u[1] && strcasecmp(u + 1, "iB") ? 1000 : 1024;
	return bytes;
}

/* The guest's RAM in MiB, rounded up; 0 when <memory> is missing, not a plain decimal number,
 * in a unit libvirt does not have, or 4 PiB and more (no host has that). */
static uint64_t read_memory_mib(xmlDocPtr doc)
{
	xmlXPathObjectPtr o = xpath(doc, NULL, "/domain/memory");
	xmlNodePtr n = nodes_count(o) == 1 ? o->nodesetval->nodeTab[0] : NULL;
	xmlChar *text = n ? xmlNodeGetContent(n) : NULL;
	xmlChar *unit = n ? xmlGetProp(n, BAD_CAST "unit") : NULL;
	uint64_t bytes, value, mib = 0;
	const char *s = (const char *)text;
	char *end;

	xmlXPathFreeObject(o);
	bytes = memory_unit_bytes((const char *)unit);
	if (s && bytes && isdigit((unsigned char)s[0])) {
		errno = 0;
		value = strtoull(s, &end, 10);
		/* At most 2^32 - 1 MiB, below 2^52 bytes: no overflow below. */
		if (!errno && !*end && value <= ((uint64_t)UINT32_MAX << 20) / bytes)
			mib = (value * bytes + (1ULL << 20) - 1) >> 20;
	}
	xmlFree(text);
	xmlFree(unit);
	return mib;
}

int domain_xml_parse(const char *xml, size_t size, domain_devices *ret, char *err,
		     size_t err_size)
{
	domain_devices d = { 0 };
	xmlXPathObjectPtr o;
	xmlNodePtr vf = NULL; /* read_vf sets it on success; gcc -O2 cannot see that */
	xmlDocPtr doc;
	xmlChar *name;
	int r;

	r = doc_read(xml, size, "domain", &doc, err, err_size);
	if (r < 0)
		return r;
	o = xpath(doc, NULL, "/domain/name");
	name = nodes_count(o) == 1 ? xmlNodeGetContent(o->nodesetval->nodeTab[0]) : NULL;
	xmlXPathFreeObject(o);
	if (!name || !name_valid((const char *)name, NAME_MAX_LEN, "_-.")) {
		r = errbuf_set(err, err_size, -EINVAL,
			       "the domain's <name> is missing or not usable as a VM name: letters, digits, '_', '-' and '.', at most %d",
			       NAME_MAX_LEN);
		xmlFree(name);
		goto out;
	}
	d.name = strdup((const char *)name);
	xmlFree(name);
	if (!d.name) {
		r = -ENOMEM;
		goto out;
	}
	r = read_vf(doc, &d, &vf, err, err_size);
	if (r >= 0)
		r = read_standby(doc, vf, &d, err, err_size);
	if (r >= 0)
		r = read_channel(doc, &d, err, err_size);
	d.memory_mib = read_memory_mib(doc);
out:
	xmlFreeDoc(doc);
	if (r < 0) {
		domain_devices_done(&d);
		return r;
	}
	*ret = d;
	return 0;
}

int domain_xml_without_vf(const char *xml, size_t size, char **ret, char *err, size_t err_size)
{
	xmlNodePtr vf;
	xmlDocPtr doc;
	int r;

	r = doc_read(xml, size, "domain", &doc, err, err_size);
	if (r < 0)
		return r;
	r = find_vf(doc, &vf, err, err_size);
	if (r >= 0) {
		xmlUnlinkNode(vf);
		xmlFreeNode(vf);
	}
	if (r >= 0 || r == -ENODEV)
		r = node_dump(doc, xmlDocGetRootElement(doc), ret);
	xmlFreeDoc(doc);
	return r;
}

int domain_xml_vf_metadata(const char *vf_xml, char **ret)
{
	if (asprintf(ret, "<vf>%s</vf>", vf_xml) < 0) {
		*ret = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int pci_parse(const char *s, unsigned *dom, unsigned *bus, unsigned *slot, unsigned *fn)
{
	int n = 0;

	if (strlen(s) != 12 || sscanf(s, "%4x:%2x:%2x.%1x%n", dom, bus, slot, fn, &n) != 4 ||
	    n != 12 || *slot > 0x1f || *fn > 7)
		return -EINVAL;
	for (size_t i = 0; i < 12; i++)
		if (!(i == 4 || i == 7 ? s[i] == ':' : i == 10 ? s[i] == '.' : isxdigit((unsigned char)s[i])))
			return -EINVAL;
	return 0;
}

int domain_xml_vf_for_host(const char *vf_xml, const char *host_pci, char **ret, char *err,
			   size_t err_size)
{
	unsigned dom, bus, slot, fn;
	xmlXPathObjectPtr o;
	xmlNodePtr root, a;
	xmlDocPtr doc;
	char v[8];
	int r;

	if (host_pci && pci_parse(host_pci, &dom, &bus, &slot, &fn) < 0)
		return errbuf_set(err, err_size, -EINVAL,
				  "'%s' is not a PCI address: write it as DDDD:BB:DD.F", host_pci);
	r = doc_read(vf_xml, strlen(vf_xml), "hostdev|interface", &doc, err, err_size);
	if (r < 0)
		return r;
	root = xmlDocGetRootElement(doc);
	o = xpath(doc, root, "source/address");
	if (!host_pci) {
		r = nodes_count(o) ?
			    errbuf_set(err, err_size, -EINVAL,
				       "the VF is a host PCI device: the destination must name its own VF") :
			    node_dump(doc, root, ret);
		goto out;
	}
	if (nodes_count(o) != 1) {
		r = errbuf_set(err, err_size, -EINVAL,
			       "the VF is emulated (it has no host PCI address): it cannot take the host's VF %s",
			       host_pci);
		goto out;
	}
	a = o->nodesetval->nodeTab[0];
	snprintf(v, sizeof(v), "0x%04x", dom);
	xmlSetProp(a, BAD_CAST "domain", BAD_CAST v);
	snprintf(v, sizeof(v), "0x%02x", bus);
	xmlSetProp(a, BAD_CAST "bus", BAD_CAST v);
	snprintf(v, sizeof(v), "0x%02x", slot);
	xmlSetProp(a, BAD_CAST "slot", BAD_CAST v);
	snprintf(v, sizeof(v), "0x%x", fn);
	xmlSetProp(a, BAD_CAST "function", BAD_CAST v);
	r = node_dump(doc, root, ret);
out:
	xmlXPathFreeObject(o);
	xmlFreeDoc(doc);
	return r;
}
