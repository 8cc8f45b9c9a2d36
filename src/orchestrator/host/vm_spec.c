// SPDX-License-Identifier: GPL-2.0-or-later
#include "host/vm_spec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errbuf.h"
#include "log.h"
#include "macro.h"

/* A spec is a flat object with two small sub-objects: anything deeper is not a spec. */
#define SPEC_JSON_DEPTH 8
/* How much of an offending value or key a message quotes. */
#define SPEC_QUOTE_MAX 48

typedef struct spec_parser {
	const char *origin;
	const char *base_dir;
	char *error;
} spec_parser;

typedef struct spec_field spec_field;
struct spec_field {
	const char *key;
	bool required;
	/* What a valid value looks like, in words: quoted when the value is missing or wrong. */
	const char *expect;
	int (*parse)(spec_parser *p, const spec_field *f, const char *path, json_object *v,
		     vm_spec *s);
};

static int spec_fail(spec_parser *p, const char *path, const char *fmt, ...) _printf_(3, 4);
static int spec_fail(spec_parser *p, const char *path, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	if (path)
		r = errbuf_vset_alloc(&p->error, -EINVAL, fmt, ap, "%s: field '%s'", p->origin, path);
	else
		r = errbuf_vset_alloc(&p->error, -EINVAL, fmt, ap, "%s", p->origin);
	va_end(ap);
	return r;
}

/* Printable ASCII as is, everything else as \xNN, cut at SPEC_QUOTE_MAX: safe to print. */
static void spec_quote_bytes(const char *s, size_t len, char *buf, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 8 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= SPEC_QUOTE_MAX) {
			o += (size_t)snprintf(buf + o, size - o, "...");
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
	}
	buf[o] = '\0';
}

/* A value as compact JSON, cut short, for "got ..." in messages. */
static void spec_quote_value(json_object *v, char *buf, size_t size)
{
	const char *j;

	if (!v) {
		snprintf(buf, size, "null");
		return;
	}
	j = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	spec_quote_bytes(j, strlen(j), buf, size);
}

static int spec_expected(spec_parser *p, const spec_field *f, const char *path, json_object *v)
{
	char got[SPEC_QUOTE_MAX * 4 + 8];

	spec_quote_value(v, got, sizeof(got));
	return spec_fail(p, path, "expected %s, got %s", f->expect, got);
}

/* A JSON string without NUL or control characters (the CLI prints one argument per line). */
static int spec_string(spec_parser *p, const spec_field *f, const char *path, json_object *v,
		       size_t max_len, const char **ret)
{
	const char *str;
	size_t len;

	if (!json_object_is_type(v, json_type_string))
		return spec_expected(p, f, path, v);
	str = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len == 0 || len > max_len || strlen(str) != len)
		return spec_expected(p, f, path, v);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)str[i] < 0x20 || str[i] == 0x7f)
			return spec_expected(p, f, path, v);
	*ret = str;
	return 0;
}

static int spec_uint(spec_parser *p, const spec_field *f, const char *path, json_object *v,
		     unsigned min, unsigned max, unsigned *ret)
{
	int64_t n;

	/* Only JSON integers: 256.0 or "256" are someone's mistake, not a size. */
	if (!json_object_is_type(v, json_type_int))
		return spec_expected(p, f, path, v);
	n = json_object_get_int64(v);
	if (n < (int64_t)min || n > (int64_t)max)
		return spec_expected(p, f, path, v);
	*ret = (unsigned)n;
	return 0;
}

static int spec_strdup(const char *s, char **dst)
{
	char *c = strdup(s);

	if (!c)
		return -ENOMEM;
	free(*dst);
	*dst = c;
	return 0;
}

static bool spec_is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int spec_parse_name(spec_parser *p, const spec_field *f, const char *path, json_object *v,
			   vm_spec *s)
{
	const char *str;
	int r;

	r = spec_string(p, f, path, v, VM_SPEC_NAME_MAX, &str);
	if (r < 0)
		return r;
	if (!vm_spec_name_valid(str))
		return spec_expected(p, f, path, v);
	return spec_strdup(str, &s->name);
}

bool vm_spec_name_valid(const char *name)
{
	size_t len = strlen(name);

	return len >= 1 && len <= VM_SPEC_NAME_MAX && name[0] != '-' &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == len;
}

static int spec_parse_machine(spec_parser *p, const spec_field *f, const char *path,
			      json_object *v, vm_spec *s)
{
	static const char versioned[] = "pc-q35-";
	const char *str;
	int r;

	r = spec_string(p, f, path, v, 32, &str);
	if (r < 0)
		return r;
	if (strcmp(str, "q35") != 0) {
		const char *ver = str + strlen(versioned);

		if (strncmp(str, versioned, strlen(versioned)) != 0 || !*ver)
			return spec_expected(p, f, path, v);
		for (const char *c = ver; *c; c++)
			if (!((*c >= '0' && *c <= '9') || *c == '.'))
				return spec_expected(p, f, path, v);
	}
	return spec_strdup(str, &s->machine);
}

static int spec_parse_accel(spec_parser *p, const spec_field *f, const char *path,
			    json_object *v, vm_spec *s)
{
	const char *str;
	int r;

	r = spec_string(p, f, path, v, 8, &str);
	if (r < 0)
		return r;
	if (qemu_accel_from_name(str, &s->accel) < 0)
		return spec_expected(p, f, path, v);
	return 0;
}

static int spec_parse_memory(spec_parser *p, const spec_field *f, const char *path,
			     json_object *v, vm_spec *s)
{
	return spec_uint(p, f, path, v, VM_SPEC_MEMORY_MIB_MIN, VM_SPEC_MEMORY_MIB_MAX,
			 &s->memory_mib);
}

static int spec_parse_vcpus(spec_parser *p, const spec_field *f, const char *path, json_object *v,
			    vm_spec *s)
{
	return spec_uint(p, f, path, v, VM_SPEC_VCPUS_MIN, VM_SPEC_VCPUS_MAX, &s->vcpus);
}

static int spec_parse_mac(spec_parser *p, const spec_field *f, const char *path, json_object *v,
			  vm_spec *s)
{
	unsigned octets[6];
	const char *str;
	bool zero = true;
	int r;

	r = spec_string(p, f, path, v, 17, &str);
	if (r < 0)
		return r;
	if (strlen(str) != 17)
		return spec_expected(p, f, path, v);
	for (int i = 0; i < 6; i++) {
		const char *o = str + 3 * i;

		if (!spec_is_hex(o[0]) || !spec_is_hex(o[1]) || (i < 5 && o[2] != ':'))
			return spec_expected(p, f, path, v);
		sscanf(o, "%2x", &octets[i]);
		zero = zero && octets[i] == 0;
	}
	/* A multicast bit would make every switch flood the VM's traffic. */
	if (zero || (octets[0] & 1))
		return spec_expected(p, f, path, v);
	/* The casts tell the compiler what %2x guaranteed: each octet fits two digits. */
	snprintf(s->mac, sizeof(s->mac), "%02x:%02x:%02x:%02x:%02x:%02x", (unsigned char)octets[0],
		 (unsigned char)octets[1], (unsigned char)octets[2], (unsigned char)octets[3],
		 (unsigned char)octets[4], (unsigned char)octets[5]);
	return 0;
}

static int spec_parse_bridge(spec_parser *p, const spec_field *f, const char *path,
			     json_object *v, vm_spec *s)
{
	const char *str;
	int r;

	r = spec_string(p, f, path, v, VM_SPEC_IFNAME_MAX, &str);
	if (r < 0)
		return r;
	if (!strcmp(str, ".") || !strcmp(str, ".."))
		return spec_expected(p, f, path, v);
	for (const char *c = str; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '_' || *c == '.' || *c == '-'))
			return spec_expected(p, f, path, v);
	return spec_strdup(str, &s->bridge);
}

static int spec_parse_address(spec_parser *p, const spec_field *f, const char *path,
			      json_object *v, vm_spec *s)
{
	unsigned char addr[sizeof(struct in6_addr)];
	char host[INET6_ADDRSTRLEN];
	const char *str, *slash;
	unsigned prefix = 0;
	size_t digits;
	int r, max;

	r = spec_string(p, f, path, v, INET6_ADDRSTRLEN + 4, &str);
	if (r < 0)
		return r;
	slash = strchr(str, '/');
	if (!slash || (size_t)(slash - str) >= sizeof(host))
		return spec_expected(p, f, path, v);
	memcpy(host, str, (size_t)(slash - str));
	host[slash - str] = '\0';
	if (inet_pton(AF_INET, host, addr) == 1)
		max = 32;
	else if (inet_pton(AF_INET6, host, addr) == 1)
		max = 128;
	else
		return spec_expected(p, f, path, v);
	digits = strspn(slash + 1, "0123456789");
	if (digits == 0 || digits > 3 || slash[1 + digits] != '\0')
		return spec_expected(p, f, path, v);
	for (size_t i = 0; i < digits; i++)
		prefix = prefix * 10 + (unsigned)(slash[1 + i] - '0');
	if (prefix < 1 || prefix > (unsigned)max)
		return spec_expected(p, f, path, v);
	return spec_strdup(str, &s->address);
}

static int spec_parse_pt_type(spec_parser *p, const spec_field *f, const char *path,
			      json_object *v, vm_spec *s)
{
	const char *str;
	int r;

	r = spec_string(p, f, path, v, 16, &str);
	if (r < 0)
		return r;
	if (!strcmp(str, "emulated"))
		s->passthrough = VM_PASSTHROUGH_EMULATED;
	else if (!strcmp(str, "vfio"))
		s->passthrough = VM_PASSTHROUGH_VFIO;
	else
		return spec_expected(p, f, path, v);
	return 0;
}

static int spec_parse_pt_host(spec_parser *p, const spec_field *f, const char *path,
			      json_object *v, vm_spec *s)
{
	/* DDDD:BB:DD.F, the form sysfs and vfio-pci use. */
	static const char shape[] = "hhhh:hh:hh.h";
	char bdf[sizeof(shape)];
	const char *str;
	unsigned dev;
	int r;

	r = spec_string(p, f, path, v, sizeof(shape) - 1, &str);
	if (r < 0)
		return r;
	if (strlen(str) != sizeof(shape) - 1)
		return spec_expected(p, f, path, v);
	for (size_t i = 0; i < sizeof(shape) - 1; i++) {
		if (shape[i] == 'h' ? !spec_is_hex(str[i]) : str[i] != shape[i])
			return spec_expected(p, f, path, v);
		bdf[i] = (char)(str[i] >= 'A' && str[i] <= 'F' ? str[i] - 'A' + 'a' : str[i]);
	}
	bdf[sizeof(shape) - 1] = '\0';
	sscanf(bdf + 8, "%2x", &dev);
	if (dev > 0x1f || bdf[11] > '7')
		return spec_expected(p, f, path, v);
	return spec_strdup(bdf, &s->vfio_host);
}

static int spec_path_resolve(spec_parser *p, const char *rel, char **dst)
{
	char *abs;

	if (rel[0] == '/')
		return spec_strdup(rel, dst);
	if (asprintf(&abs, "%s/%s", p->base_dir, rel) < 0)
		return -ENOMEM;
	free(*dst);
	*dst = abs;
	return 0;
}

static int spec_parse_path(spec_parser *p, const spec_field *f, const char *path, json_object *v,
			   char **dst)
{
	const char *str;
	int r;

	r = spec_string(p, f, path, v, VM_SPEC_PATH_MAX, &str);
	if (r < 0)
		return r;
	return spec_path_resolve(p, str, dst);
}

static int spec_parse_kernel(spec_parser *p, const spec_field *f, const char *path,
			     json_object *v, vm_spec *s)
{
	s->boot = VM_BOOT_KERNEL;
	return spec_parse_path(p, f, path, v, &s->kernel);
}

static int spec_parse_initrd(spec_parser *p, const spec_field *f, const char *path,
			     json_object *v, vm_spec *s)
{
	return spec_parse_path(p, f, path, v, &s->initrd);
}

static int spec_parse_disk(spec_parser *p, const spec_field *f, const char *path, json_object *v,
			   vm_spec *s)
{
	s->boot = VM_BOOT_DISK;
	return spec_parse_path(p, f, path, v, &s->disk);
}

static int spec_parse_cmdline(spec_parser *p, const spec_field *f, const char *path,
			      json_object *v, vm_spec *s)
{
	const char *str;
	int r;

	r = spec_string(p, f, path, v, VM_SPEC_CMDLINE_MAX, &str);
	if (r < 0)
		return r;
	return spec_strdup(str, &s->cmdline);
}

static int spec_parse_format(spec_parser *p, const spec_field *f, const char *path,
			     json_object *v, vm_spec *s)
{
	const char *str;
	int r;

	r = spec_string(p, f, path, v, 8, &str);
	if (r < 0)
		return r;
	if (strcmp(str, "raw") != 0 && strcmp(str, "qcow2") != 0)
		return spec_expected(p, f, path, v);
	return spec_strdup(str, &s->disk_format);
}

static int spec_parse_readonly(spec_parser *p, const spec_field *f, const char *path,
			       json_object *v, vm_spec *s)
{
	if (!json_object_is_type(v, json_type_boolean))
		return spec_expected(p, f, path, v);
	s->disk_readonly = json_object_get_boolean(v);
	return 0;
}

static int spec_parse_object(spec_parser *p, const char *prefix, const spec_field *fields,
			     size_t n_fields, json_object *obj, vm_spec *s);

/* [[VCPU, PCPU], ...] inline, or the path of a Directvisor-format file. */
static int spec_parse_cpumap(spec_parser *p, const spec_field *f, const char *path,
			     json_object *v, vm_spec *s)
{
	char why[160];

	if (json_object_is_type(v, json_type_string))
		return spec_parse_path(p, f, path, v, &s->cpumap_file);
	if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0 ||
	    json_object_array_length(v) > CPUMAP_MAX_VCPUS)
		return spec_expected(p, f, path, v);
	free(s->cpumap);
	s->cpumap = calloc(1, sizeof(cpumap));
	if (!s->cpumap)
		return -ENOMEM;
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		json_object *pair = json_object_array_get_idx(v, i), *a, *b;

		if (!json_object_is_type(pair, json_type_array) ||
		    json_object_array_length(pair) != 2 ||
		    !json_object_is_type(a = json_object_array_get_idx(pair, 0), json_type_int) ||
		    !json_object_is_type(b = json_object_array_get_idx(pair, 1), json_type_int) ||
		    json_object_get_int64(a) < 0 || json_object_get_int64(b) < 0)
			return spec_expected(p, f, path, v);
		if (cpumap_add(s->cpumap, (unsigned long)json_object_get_int64(a),
			       (unsigned long)json_object_get_int64(b), why, sizeof(why)) < 0)
			return spec_fail(p, path, "%s", why);
	}
	return 0;
}

/* The map covers exactly the VM's vCPUs. */
static int spec_check_cpumap(spec_parser *p, vm_spec *s)
{
	char why[160];

	if (!s->cpumap)
		return 0;
	if (cpumap_check_complete(s->cpumap, why, sizeof(why)) < 0)
		return spec_fail(p, "cpumap", "%s", why);
	if (s->cpumap->n != s->vcpus)
		return spec_fail(p, "cpumap", "maps %u vCPUs but the VM has %u ('vcpus')",
				 s->cpumap->n, s->vcpus);
	return 0;
}

static const spec_field spec_passthrough_fields[] = {
	{ "type", true, "\"emulated\" (lab: an e1000e stands in for the VF) or \"vfio\"",
	  spec_parse_pt_type },
	{ "host", false, "the VF's PCI address like \"0000:3b:02.1\"", spec_parse_pt_host },
};

static const spec_field spec_boot_fields[] = {
	{ "kernel", false, "a path to a kernel image (relative to the spec's directory)",
	  spec_parse_kernel },
	{ "initrd", false, "a path to an initramfs (relative to the spec's directory)",
	  spec_parse_initrd },
	{ "cmdline", false, "a kernel command line of printable characters, at most 1024",
	  spec_parse_cmdline },
	{ "disk", false, "a path to a disk image (relative to the spec's directory)",
	  spec_parse_disk },
	{ "format", false, "\"raw\" or \"qcow2\"", spec_parse_format },
	{ "readonly", false, "true or false (true: QEMU opens the disk read-only; both hosts can share "
	  "it while the guest keeps its changes in RAM)", spec_parse_readonly },
};

static int spec_parse_passthrough(spec_parser *p, const spec_field *f, const char *path,
				  json_object *v, vm_spec *s)
{
	int r;

	if (!json_object_is_type(v, json_type_object))
		return spec_expected(p, f, path, v);
	r = spec_parse_object(p, path, spec_passthrough_fields,
			      ELEMENTSOF(spec_passthrough_fields), v, s);
	if (r < 0)
		return r;
	if (s->passthrough == VM_PASSTHROUGH_VFIO && !s->vfio_host)
		return spec_fail(p, "passthrough.host",
				 "missing; type \"vfio\" needs the VF's PCI address like \"0000:3b:02.1\"");
	if (s->passthrough == VM_PASSTHROUGH_EMULATED && s->vfio_host)
		return spec_fail(p, "passthrough.host",
				 "only valid with type \"vfio\"; remove it for an emulated VF");
	return 0;
}

static int spec_parse_boot(spec_parser *p, const spec_field *f, const char *path, json_object *v,
			   vm_spec *s)
{
	int r;

	if (!json_object_is_type(v, json_type_object))
		return spec_expected(p, f, path, v);
	r = spec_parse_object(p, path, spec_boot_fields, ELEMENTSOF(spec_boot_fields), v, s);
	if (r < 0)
		return r;
	if (s->kernel && s->disk)
		return spec_fail(p, "boot", "has both 'kernel' and 'disk'; keep one of them");
	if (!s->kernel && !s->disk)
		return spec_fail(p, "boot", "needs 'kernel' (direct kernel boot) or 'disk'");
	if (s->disk && (s->initrd || s->cmdline))
		return spec_fail(p, s->initrd ? "boot.initrd" : "boot.cmdline",
				 "only valid with 'kernel'; a disk boots with its own");
	if (s->kernel && s->disk_format)
		return spec_fail(p, "boot.format", "only valid with 'disk'");
	if (s->kernel && s->disk_readonly)
		return spec_fail(p, "boot.readonly", "only valid with 'disk'");
	return 0;
}

bool vm_spec_libvirt_domain_valid(const char *name)
{
	size_t len = strlen(name);

	return len >= 1 && len <= VM_SPEC_LIBVIRT_DOMAIN_MAX &&
	       strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") ==
		       len &&
	       name[0] != '.' && name[0] != '-';
}

bool vm_spec_libvirt_uri_valid(const char *uri)
{
	static const char *const local[] = { "qemu:///system", "qemu:///session",
					     "test:///default" };
	static const char socket_param[] = "?socket=/";
	size_t len = strlen(uri);

	if (len > VM_SPEC_LIBVIRT_URI_MAX)
		return false;
	for (size_t i = 0; i < ELEMENTSOF(local); i++) {
		size_t n = strlen(local[i]);
		const char *path;

		if (strncmp(uri, local[i], n))
			continue;
		if (!uri[n])
			return true;
		if (strncmp(uri + n, socket_param, strlen(socket_param)))
			return false;
		path = uri + n + strlen(socket_param) - 1;
		/* No "..", no URI escapes, nothing libvirt would read as another parameter. */
		return strspn(path, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_.-") ==
			       strlen(path) &&
		       !strstr(path, "..");
	}
	return false;
}

static int spec_parse_lv_domain(spec_parser *p, const spec_field *f, const char *path,
				json_object *v, vm_spec *s)
{
	const char *str;
	int r;

	r = spec_string(p, f, path, v, VM_SPEC_LIBVIRT_DOMAIN_MAX, &str);
	if (r < 0)
		return r;
	if (!vm_spec_libvirt_domain_valid(str))
		return spec_expected(p, f, path, v);
	return spec_strdup(str, &s->libvirt_domain);
}

static int spec_parse_lv_uri(spec_parser *p, const spec_field *f, const char *path,
			     json_object *v, vm_spec *s)
{
	const char *str;
	int r;

	r = spec_string(p, f, path, v, VM_SPEC_LIBVIRT_URI_MAX, &str);
	if (r < 0)
		return r;
	if (!vm_spec_libvirt_uri_valid(str))
		return spec_expected(p, f, path, v);
	return spec_strdup(str, &s->libvirt_uri);
}

static int spec_parse_lv_persist(spec_parser *p, const spec_field *f, const char *path,
				 json_object *v, vm_spec *s)
{
	if (!json_object_is_type(v, json_type_boolean))
		return spec_expected(p, f, path, v);
	s->libvirt_persist = json_object_get_boolean(v);
	return 0;
}

static const spec_field spec_libvirt_fields[] = {
	{ "domain", true, "a libvirt domain name: 1-64 characters from A-Z, a-z, 0-9, '_', '.', '-'",
	  spec_parse_lv_domain },
	{ "uri", false,
	  "this host's libvirt: \"qemu:///system\" (default), \"qemu:///session\", optionally "
	  "with \"?socket=/absolute/path\"",
	  spec_parse_lv_uri },
	{ "persist", false,
	  "true (default: the destination defines the domain, this host undefines it) or false "
	  "(a transient domain)",
	  spec_parse_lv_persist },
};

static int spec_parse_libvirt(spec_parser *p, const spec_field *f, const char *path,
			      json_object *v, vm_spec *s)
{
	if (!json_object_is_type(v, json_type_object))
		return spec_expected(p, f, path, v);
	s->libvirt_persist = true;
	return spec_parse_object(p, path, spec_libvirt_fields, ELEMENTSOF(spec_libvirt_fields), v,
				 s);
}

/* Fields whose value a libvirt domain's XML gives instead, and those a QEMU VM needs. */
static const char *const spec_qemu_fields[] = { "machine", "accel", "memory_mib", "vcpus",
						"mac", "bridge", "passthrough", "boot", "cpumap" };
static const char *const spec_qemu_required[] = { "memory_mib", "mac", "passthrough", "boot" };

static const spec_field *spec_field_find(const char *key);

static int spec_check_backend(spec_parser *p, json_object *root, const vm_spec *s)
{
	if (s->libvirt_domain) {
		for (size_t i = 0; i < ELEMENTSOF(spec_qemu_fields); i++)
			if (json_object_object_get_ex(root, spec_qemu_fields[i], NULL))
				return spec_fail(p, spec_qemu_fields[i],
						 "not with 'libvirt': the domain's XML says it (libvirt runs the VM); remove it");
		return 0;
	}
	for (size_t i = 0; i < ELEMENTSOF(spec_qemu_required); i++)
		if (!json_object_object_get_ex(root, spec_qemu_required[i], NULL))
			return spec_fail(p, spec_qemu_required[i],
					 "missing; expected %s (or 'libvirt' naming a domain libvirtd runs)",
					 spec_field_find(spec_qemu_required[i])->expect);
	return 0;
}

static const spec_field spec_fields[] = {
	{ "name", true, "1-32 characters from a-z, 0-9 and '-', not starting with '-'",
	  spec_parse_name },
	{ "machine", false, "\"q35\" or a versioned \"pc-q35-X.Y\" (the VF needs PCIe)",
	  spec_parse_machine },
	{ "accel", false, QEMU_ACCEL_NAMES " (auto: the host's choice, KVM where it works)",
	  spec_parse_accel },
	{ "memory_mib", false, "an integer 64..65536 (guest RAM in MiB)", spec_parse_memory },
	{ "vcpus", false, "an integer 1..64", spec_parse_vcpus },
	{ "mac", false, "a unicast MAC address like \"52:54:00:12:34:56\"", spec_parse_mac },
	{ "bridge", false, "a host bridge name of 1-15 characters from A-Z, a-z, 0-9, '_', '.', '-'",
	  spec_parse_bridge },
	{ "address", false, "an address with its prefix length like \"198.18.0.11/24\"",
	  spec_parse_address },
	{ "passthrough", false, "an object {\"type\": \"emulated\"} or {\"type\": \"vfio\", \"host\": \"0000:3b:02.1\"}",
	  spec_parse_passthrough },
	{ "boot", false, "an object {\"kernel\", \"initrd\", \"cmdline\"} or {\"disk\", \"format\"}",
	  spec_parse_boot },
	{ "cpumap", false,
	  "vCPU pinning: pairs [[VCPU, PCPU], ...] like [[0, 2], [1, 3]], or the path of a file "
	  "with one \"VCPU PCPU\" pair a line",
	  spec_parse_cpumap },
	{ "libvirt", false,
	  "an object {\"domain\": NAME, \"uri\": \"qemu:///system\", \"persist\": true}: a domain "
	  "libvirtd runs (uri and persist optional)",
	  spec_parse_libvirt },
};

static const spec_field *spec_field_find(const char *key)
{
	for (size_t i = 0; i < ELEMENTSOF(spec_fields); i++)
		if (!strcmp(spec_fields[i].key, key))
			return &spec_fields[i];
	return NULL;
}

static int spec_parse_object(spec_parser *p, const char *prefix, const spec_field *fields,
			     size_t n_fields, json_object *obj, vm_spec *s)
{
	char path[64];

	json_object_object_foreach(obj, key, val)
	{
		const spec_field *f = NULL;
		int r;

		for (size_t i = 0; i < n_fields && !f; i++)
			if (!strcmp(key, fields[i].key))
				f = &fields[i];
		if (!f) {
			char quoted[SPEC_QUOTE_MAX * 4 + 8], known[256];
			size_t o = 0;

			spec_quote_bytes(key, strlen(key), quoted, sizeof(quoted));
			known[0] = '\0';
			for (size_t i = 0; i < n_fields; i++)
				o += (size_t)snprintf(known + o, sizeof(known) - o, "%s%s",
						      i ? ", " : "", fields[i].key);
			return spec_fail(p, NULL,
					 "unknown field '%s%s%s'; known fields%s%s%s: %s (check the spelling)",
					 prefix ? prefix : "", prefix ? "." : "", quoted,
					 prefix ? " in '" : "", prefix ? prefix : "", prefix ? "'" : "",
					 known);
		}
		snprintf(path, sizeof(path), "%s%s%s", prefix ? prefix : "", prefix ? "." : "", key);
		r = f->parse(p, f, path, val, s);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < n_fields; i++) {
		if (!fields[i].required || json_object_object_get_ex(obj, fields[i].key, NULL))
			continue;
		snprintf(path, sizeof(path), "%s%s%s", prefix ? prefix : "", prefix ? "." : "",
			 fields[i].key);
		return spec_fail(p, path, "missing; expected %s", fields[i].expect);
	}
	return 0;
}

static size_t spec_skip_space(const char *text, size_t len, size_t off)
{
	while (off < len && strchr(" \t\r\n", text[off]) && text[off])
		off++;
	return off;
}

static void spec_position(const char *text, size_t off, unsigned *line, unsigned *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static int spec_json_parse(spec_parser *p, const char *text, size_t len, json_object **ret)
{
	_cleanup_json_ json_object *root = NULL;
	enum json_tokener_error jerr;
	struct json_tokener *tok;
	const char *nul;
	unsigned line, col;
	size_t end;

	if (len > VM_SPEC_FILE_MAX)
		return spec_fail(p, NULL, "larger than %d bytes; a VM spec is a small JSON object",
				 VM_SPEC_FILE_MAX);
	if (spec_skip_space(text, len, 0) >= len)
		return spec_fail(p, NULL, "is empty; expected a JSON object with the VM's fields");
	nul = memchr(text, '\0', len);
	if (nul) {
		spec_position(text, (size_t)(nul - text), &line, &col);
		return spec_fail(p, NULL, "has a NUL byte at line %u, column %u; a spec is JSON text",
				 line, col);
	}
	tok = json_tokener_new_ex(SPEC_JSON_DEPTH);
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS |
					    JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (jerr == json_tokener_continue)
		return spec_fail(p, NULL, "ends in the middle of the JSON value (a '}' or '\"' missing?)");
	if (jerr != json_tokener_success) {
		/* The tokener stops on the offending character: point at it. */
		spec_position(text, end, &line, &col);
		return spec_fail(p, NULL, "not valid JSON at line %u, column %u: %s", line, col,
				 json_tokener_error_desc(jerr));
	}
	end = spec_skip_space(text, len, end);
	if (end < len) {
		spec_position(text, end, &line, &col);
		return spec_fail(p, NULL,
				 "unexpected text after the JSON object at line %u, column %u",
				 line, col);
	}
	*ret = TAKE_PTR(root);
	return 0;
}

int vm_spec_parse(const char *text, size_t len, const char *origin, const char *base_dir,
		  vm_spec **ret, char **ret_error)
{
	_cleanup_vm_spec_ vm_spec *s = NULL;
	_cleanup_json_ json_object *root = NULL;
	spec_parser p = { .origin = origin, .base_dir = base_dir };
	int r;

	if (!base_dir || base_dir[0] != '/')
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->vcpus = 1;
	r = spec_json_parse(&p, text, len, &root);
	if (r >= 0 && !json_object_is_type(root, json_type_object)) {
		char got[SPEC_QUOTE_MAX * 4 + 8];

		spec_quote_value(root, got, sizeof(got));
		r = spec_fail(&p, NULL, "expected a JSON object with the VM's fields, got %s", got);
	}
	if (r >= 0)
		r = spec_parse_object(&p, NULL, spec_fields, ELEMENTSOF(spec_fields), root, s);
	if (r >= 0)
		r = spec_check_backend(&p, root, s);
	if (r >= 0 && s->libvirt_domain && !s->libvirt_uri)
		r = spec_strdup(VM_SPEC_DEFAULT_LIBVIRT_URI, &s->libvirt_uri);
	if (r >= 0 && !s->machine)
		r = spec_strdup(VM_SPEC_DEFAULT_MACHINE, &s->machine);
	if (r >= 0 && !s->bridge)
		r = spec_strdup(VM_SPEC_DEFAULT_BRIDGE, &s->bridge);
	if (r >= 0)
		r = spec_check_cpumap(&p, s);
	if (r >= 0 && s->boot == VM_BOOT_DISK && !s->disk_format)
		r = spec_strdup("raw", &s->disk_format);
	if (r >= 0)
		r = spec_strdup(origin, &s->origin);
	if (r < 0) {
		if (ret_error)
			*ret_error = TAKE_PTR(p.error);
		free(p.error);
		return r;
	}
	*ret = TAKE_PTR(s);
	return 0;
}

static int spec_error_errno(char **ret_error, int r, const char *path, const char *what)
{
	if (ret_error && asprintf(ret_error, "%s: %s: %s", path, what, strerror(-r)) < 0)
		*ret_error = NULL;
	return r;
}

int vm_spec_load(const char *path, vm_spec **ret, char **ret_error)
{
	_cleanup_free_ char *text = NULL, *dir_copy = NULL, *base_dir = NULL;
	_cleanup_vm_spec_ vm_spec *spec = NULL;
	int r;
	_cleanup_close_ int fd = -1;
	struct stat st;
	size_t len = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return spec_error_errno(ret_error, -errno, path, "cannot open the VM spec");
	if (fstat(fd, &st) < 0)
		return spec_error_errno(ret_error, -errno, path, "cannot read the VM spec");
	if (!S_ISREG(st.st_mode)) {
		if (ret_error && asprintf(ret_error, "%s: not a regular file; give the path of a VM spec (JSON)",
					  path) < 0)
			*ret_error = NULL;
		return -EINVAL;
	}
	/* The file may grow while we read: never hold more than the cap (+1 to notice). */
	text = malloc(VM_SPEC_FILE_MAX + 2);
	if (!text)
		return -ENOMEM;
	while (len <= VM_SPEC_FILE_MAX) {
		ssize_t n = read(fd, text + len, VM_SPEC_FILE_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return spec_error_errno(ret_error, -errno, path, "cannot read the VM spec");
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > VM_SPEC_FILE_MAX) {
		if (ret_error && asprintf(ret_error, "%s: larger than %d bytes; a VM spec is a small JSON object",
					  path, VM_SPEC_FILE_MAX) < 0)
			*ret_error = NULL;
		return -EFBIG;
	}
	text[len] = '\0';

	dir_copy = strdup(path);
	if (!dir_copy)
		return -ENOMEM;
	base_dir = realpath(dirname(dir_copy), NULL);
	if (!base_dir)
		return spec_error_errno(ret_error, -errno, path, "cannot resolve the spec's directory");
	r = vm_spec_parse(text, len, path, base_dir, &spec, ret_error);
	if (r < 0)
		return r;
	if (spec->cpumap_file) {
		spec->cpumap = calloc(1, sizeof(cpumap));
		if (!spec->cpumap)
			return -ENOMEM;
		r = cpumap_load(spec->cpumap_file, spec->cpumap, ret_error);
		if (r < 0)
			return r;
		if (spec->cpumap->n != spec->vcpus) {
			if (ret_error && asprintf(ret_error, "%s: field 'cpumap': %s maps %u vCPUs but the VM has %u ('vcpus')",
						  path, spec->cpumap_file, spec->cpumap->n, spec->vcpus) < 0)
				*ret_error = NULL;
			return -EINVAL;
		}
	}
	*ret = TAKE_PTR(spec);
	return 0;
}

vm_spec *vm_spec_free(vm_spec *s)
{
	if (!s)
		return NULL;
	free(s->origin);
	free(s->name);
	free(s->machine);
	free(s->bridge);
	free(s->address);
	free(s->vfio_host);
	free(s->kernel);
	free(s->initrd);
	free(s->cmdline);
	free(s->disk);
	free(s->disk_format);
	free(s->cpumap);
	free(s->cpumap_file);
	free(s->libvirt_domain);
	free(s->libvirt_uri);
	free(s);
	return NULL;
}

/* Hands val to obj; on failure json-c leaves the reference with us, so drop it here. */
static int spec_json_add(json_object *obj, const char *key, json_object *val)
{
	if (!val)
		return -ENOMEM;
	if (json_object_object_add(obj, key, val) < 0) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}

static int spec_json_add_str(json_object *obj, const char *key, const char *val)
{
	if (!val)
		return 0;
	return spec_json_add(obj, key, json_object_new_string(val));
}

int vm_spec_to_json(const vm_spec *s, json_object **ret)
{
	_cleanup_json_ json_object *obj = NULL;
	json_object *pt, *boot;
	int r = 0;

	obj = json_object_new_object();
	if (!obj)
		return -ENOMEM;
	if (s->libvirt_domain) {
		json_object *lv;

		r = r ?: spec_json_add_str(obj, "name", s->name);
		r = r ?: spec_json_add_str(obj, "address", s->address);
		lv = r < 0 ? NULL : json_object_new_object();
		r = r ?: spec_json_add(obj, "libvirt", lv);
		r = r ?: spec_json_add_str(lv, "domain", s->libvirt_domain);
		r = r ?: spec_json_add_str(lv, "uri", s->libvirt_uri);
		r = r ?: spec_json_add(lv, "persist", json_object_new_boolean(s->libvirt_persist));
		if (r < 0)
			return r;
		*ret = TAKE_PTR(obj);
		return 0;
	}
	r = r ?: spec_json_add_str(obj, "name", s->name);
	r = r ?: spec_json_add_str(obj, "machine", s->machine);
	r = r ?: spec_json_add_str(obj, "accel", qemu_accel_name(s->accel));
	r = r ?: spec_json_add(obj, "memory_mib", json_object_new_int64(s->memory_mib));
	r = r ?: spec_json_add(obj, "vcpus", json_object_new_int64(s->vcpus));
	r = r ?: spec_json_add_str(obj, "mac", s->mac);
	r = r ?: spec_json_add_str(obj, "bridge", s->bridge);
	r = r ?: spec_json_add_str(obj, "address", s->address);
	if (r < 0)
		return r;

	/* Attached at once, so obj owns them whatever fails next. */
	pt = json_object_new_object();
	r = spec_json_add(obj, "passthrough", pt);
	r = r ?: spec_json_add_str(pt, "type",
				   s->passthrough == VM_PASSTHROUGH_VFIO ? "vfio" : "emulated");
	r = r ?: spec_json_add_str(pt, "host", s->vfio_host);
	if (r < 0)
		return r;

	boot = json_object_new_object();
	r = spec_json_add(obj, "boot", boot);
	if (r < 0)
		return r;
	if (s->boot == VM_BOOT_KERNEL) {
		r = r ?: spec_json_add_str(boot, "kernel", s->kernel);
		r = r ?: spec_json_add_str(boot, "initrd", s->initrd);
		r = r ?: spec_json_add_str(boot, "cmdline", s->cmdline);
	} else {
		r = r ?: spec_json_add_str(boot, "disk", s->disk);
		r = r ?: spec_json_add_str(boot, "format", s->disk_format);
		if (s->disk_readonly)
			r = r ?: spec_json_add(boot, "readonly", json_object_new_boolean(true));
	}
	if (r < 0)
		return r;
	/* Inline once read: the other host has no copy of the file. */
	if (s->cpumap) {
		json_object *pairs = json_object_new_array();

		r = spec_json_add(obj, "cpumap", pairs);
		for (unsigned i = 0; r >= 0 && i < s->cpumap->n; i++) {
			json_object *pair = json_object_new_array();

			if (!pair || json_object_array_add(pairs, pair) < 0) {
				json_object_put(pair);
				return -ENOMEM;
			}
			json_object_array_add(pair, json_object_new_int(i));
			json_object_array_add(pair, json_object_new_int(s->cpumap->pcpu[i]));
		}
	} else
		r = spec_json_add_str(obj, "cpumap", s->cpumap_file);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(obj);
	return 0;
}
