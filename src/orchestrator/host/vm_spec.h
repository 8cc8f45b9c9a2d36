/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A VM spec: the JSON file that says what a VM is (examples/specs/README.md documents every
 * field). The daemon, the CLI and the lab all read specs through this one parser, so a spec
 * means the same thing on every host.
 *
 * Parsing is strict: unknown fields, wrong types and out-of-range values are errors, and every
 * error message names the file, the field, what was expected and what was found, so the user
 * can fix the file without reading code. Nothing here touches the filesystem except
 * vm_spec_load() reading the spec file itself; boot paths are resolved, not checked.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "host/accel.h"
#include "host/cpumap.h"

/* Limits, also quoted in the error messages and in examples/specs/README.md. */
#define VM_SPEC_FILE_MAX 65536
#define VM_SPEC_NAME_MAX 32
#define VM_SPEC_MEMORY_MIB_MIN 64
#define VM_SPEC_MEMORY_MIB_MAX 65536
#define VM_SPEC_VCPUS_MIN 1
#define VM_SPEC_VCPUS_MAX 64
#define VM_SPEC_IFNAME_MAX 15 /* IFNAMSIZ - 1 */
#define VM_SPEC_PATH_MAX 1024
#define VM_SPEC_CMDLINE_MAX 1024

#define VM_SPEC_LIBVIRT_DOMAIN_MAX 64
#define VM_SPEC_LIBVIRT_URI_MAX 256

#define VM_SPEC_DEFAULT_MACHINE "q35"
#define VM_SPEC_DEFAULT_LIBVIRT_URI "qemu:///system"
#define VM_SPEC_DEFAULT_BRIDGE "br0"

typedef enum vm_passthrough_type {
	VM_PASSTHROUGH_EMULATED, /* lab: an emulated e1000e stands in for the VF */
	VM_PASSTHROUGH_VFIO,     /* production: a VF passed through with vfio-pci */
} vm_passthrough_type;

typedef enum vm_boot_type {
	VM_BOOT_KERNEL, /* direct kernel boot: kernel, optional initrd and cmdline */
	VM_BOOT_DISK,   /* a disk image on virtio-blk */
} vm_boot_type;

typedef struct vm_spec {
	char *origin; /* the file it came from, as given: used in messages */
	char *name;
	char *machine;
	qemu_accel accel; /* QEMU_ACCEL_AUTO unless the spec says "kvm" or "tcg" */
	unsigned memory_mib; /* with libvirt: the domain's, once bound (0: unknown), never saved */
	unsigned vcpus;
	char mac[18]; /* lower-case aa:bb:cc:dd:ee:ff; both the VF and the standby use it */
	char *bridge; /* host bridge both NICs attach to; the same name on every host */
	char *address; /* guest's bond0 address in CIDR notation, or NULL */

	vm_passthrough_type passthrough;
	char *vfio_host; /* VFIO only: the VF's PCI address, lower-case DDDD:BB:DD.F */

	vm_boot_type boot;
	char *kernel; /* absolute */
	char *initrd; /* absolute, or NULL */
	char *cmdline; /* or NULL */
	char *disk;   /* absolute */
	char *disk_format; /* "raw" or "qcow2" */
	bool disk_readonly; /* QEMU opens the disk read-only: a guest that keeps its changes in RAM */

	/*
	 * vCPU pinning, or NULL: inline pairs, or read by vm_spec_load() from cpumap_file (a
	 * Directvisor-format file, relative to the spec's directory). vm_spec_parse() alone leaves
	 * a file unread (cpumap NULL, cpumap_file set).
	 */
	cpumap *cpumap;
	char *cpumap_file;

	/*
	 * A domain libvirtd runs instead of a QEMU dmigrated starts (docs/libvirt.md), or NULL:
	 * its name, this host's libvirt (the same URI on every host, as the bridge's name is), and
	 * whether a migration defines it on the destination and undefines it here. Its XML says
	 * what the QEMU fields above would: a spec with libvirt has none of them.
	 */
	char *libvirt_domain;
	char *libvirt_uri;
	bool libvirt_persist;
} vm_spec;

/*
 * Parse a spec from memory. origin names the input in messages; relative boot paths resolve
 * against base_dir, which must be absolute. On failure returns -EINVAL (bad content) and,
 * if ret_error is not NULL, a malloc()ed message "ORIGIN: field 'F': ..." for the user.
 */
int vm_spec_parse(const char *text, size_t len, const char *origin, const char *base_dir,
		  vm_spec **ret, char **ret_error);

/*
 * Read and parse a spec file; relative boot paths resolve against the file's directory.
 * Errors: -errno from opening or reading (message "PATH: cannot read: ..."), -EFBIG,
 * -EINVAL; *ret_error as for vm_spec_parse().
 */
int vm_spec_load(const char *path, vm_spec **ret, char **ret_error);

/* A VM name as specs allow it: 1 to VM_SPEC_NAME_MAX of [a-z0-9-], not starting with '-'. */
bool vm_spec_name_valid(const char *name);
/* A libvirt domain name as specs allow it: 1 to VM_SPEC_LIBVIRT_DOMAIN_MAX of [A-Za-z0-9_.-]. */
bool vm_spec_libvirt_domain_valid(const char *name);
/*
 * A URI of this host's own libvirtd: qemu:///system or qemu:///session (test:///default, the
 * library's in-process driver, for tests), optionally ?socket=/ABSOLUTE/PATH of [A-Za-z0-9/_.-]
 * (a libvirtd listening elsewhere, as in the lab). Nothing that reaches another host or runs a
 * command (qemu+ssh://, qemu+ext://).
 */
bool vm_spec_libvirt_uri_valid(const char *uri);

vm_spec *vm_spec_free(vm_spec *spec);
static inline void vm_spec_freep(vm_spec **spec)
{
	vm_spec_free(*spec);
}
#define _cleanup_vm_spec_ __attribute__((cleanup(vm_spec_freep)))

/*
 * The normalised spec as JSON (defaults filled in, paths absolute): what one host sends
 * another, and what `dmigrate spec show` prints. vm_spec_parse() of its output gives back an
 * equal spec. The caller owns the returned reference.
 */
int vm_spec_to_json(const vm_spec *spec, json_object **ret);
