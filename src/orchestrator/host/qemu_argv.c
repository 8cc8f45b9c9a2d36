// SPDX-License-Identifier: GPL-2.0-or-later
#include "host/qemu_argv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "host/qemu_tls.h"
#include "macro.h"

typedef struct argv_builder {
	char **v;
	size_t n, cap;
	int r; /* first error; later pushes are ignored, so callers check once at the end */
} argv_builder;

static void argv_take(argv_builder *b, char *s)
{
	if (!s && b->r == 0)
		b->r = -ENOMEM;
	if (b->r < 0) {
		free(s);
		return;
	}
	if (b->n + 2 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		char **v = realloc(b->v, cap * sizeof(*v));

		if (!v) {
			free(s);
			b->r = -ENOMEM;
			return;
		}
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n++] = s;
	b->v[b->n] = NULL;
}

static void argv_push(argv_builder *b, const char *s)
{
	argv_take(b, strdup(s));
}

/* Append s; with escape, as a value in QEMU's option syntax, where ",," is a literal comma. */
static int qemu_opts_append(char **buf, size_t *len, size_t *cap, const char *s, bool escape)
{
	for (; *s; s++) {
		if (*len + 3 > *cap) {
			size_t ncap = *cap ? *cap * 2 : 128;
			char *n = realloc(*buf, ncap);

			if (!n)
				return -ENOMEM;
			*buf = n;
			*cap = ncap;
		}
		if (escape && *s == ',')
			(*buf)[(*len)++] = ',';
		(*buf)[(*len)++] = *s;
		(*buf)[*len] = '\0';
	}
	return 0;
}

/*
 * A flat JSON object as a QEMU option string: the value of implied_key first and bare
 * (the -device driver, the -netdev or -chardev backend type), then key=value in order.
 */
static int qemu_opts_format(json_object *props, const char *implied_key, char **ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;
	bool first = true;
	json_object *implied;
	int r;

	if (implied_key && json_object_object_get_ex(props, implied_key, &implied)) {
		r = qemu_opts_append(&buf, &len, &cap, json_object_get_string(implied), true);
		if (r < 0)
			return r;
		first = false;
	}
	json_object_object_foreach(props, key, val)
	{
		const char *s;

		if (implied_key && !strcmp(key, implied_key))
			continue;
		if (json_object_is_type(val, json_type_boolean))
			s = json_object_get_boolean(val) ? "on" : "off";
		else
			s = json_object_get_string(val);
		r = qemu_opts_append(&buf, &len, &cap, first ? "" : ",", false);
		r = r ?: qemu_opts_append(&buf, &len, &cap, key, false);
		r = r ?: qemu_opts_append(&buf, &len, &cap, "=", false);
		/* Keys are ours; values may come from a spec and hold a comma. */
		r = r ?: qemu_opts_append(&buf, &len, &cap, s, true);
		if (r < 0)
			return r;
		first = false;
	}
	if (!buf)
		return -EINVAL;
	*ret = TAKE_PTR(buf);
	return 0;
}

static void argv_push_props(argv_builder *b, const char *option, const char *implied_key,
			    json_object *props)
{
	char *s = NULL;
	int r;

	if (b->r < 0) {
		json_object_put(props);
		return;
	}
	if (!props) {
		b->r = -ENOMEM;
		return;
	}
	r = qemu_opts_format(props, implied_key, &s);
	json_object_put(props);
	if (r < 0) {
		b->r = r;
		return;
	}
	argv_push(b, option);
	argv_take(b, s);
}

/*
 * A new flat object from key/value pairs, NULL-terminated. String values; "@key" makes the
 * value an integer and "?key" a boolean ("on"/"off"), for QMP's typed arguments.
 */
static json_object *qemu_props_new(const char *key, ...)
{
	_cleanup_json_ json_object *obj = json_object_new_object();
	va_list ap;
	bool ok = obj != NULL;

	va_start(ap, key);
	for (; key && ok; key = va_arg(ap, const char *)) {
		const char *val = va_arg(ap, const char *);
		json_object *v;

		if (key[0] == '@')
			v = json_object_new_int64(strtoll(val, NULL, 10));
		else if (key[0] == '?')
			v = json_object_new_boolean(!strcmp(val, "on"));
		else
			v = json_object_new_string(val);
		if (key[0] == '@' || key[0] == '?')
			key++;
		if (!v || json_object_object_add(obj, key, v) < 0) {
			json_object_put(v);
			ok = false;
		}
	}
	va_end(ap);
	return ok ? TAKE_PTR(obj) : NULL;
}

int qemu_vf_plug_args(const vm_spec *spec, const char *vfio_host, json_object **ret_netdev,
		      json_object **ret_device)
{
	_cleanup_json_ json_object *netdev = NULL, *device = NULL;

	if (spec->passthrough == VM_PASSTHROUGH_VFIO) {
		device = qemu_props_new("driver", "vfio-pci", "id", QEMU_ID_VF, "bus", QEMU_ID_VF_PORT,
					"host", vfio_host ?: spec->vfio_host, NULL);
		if (!device)
			return -ENOMEM;
	} else {
		/*
		 * The lab's stand-in: an e1000e on the same bridge, with the VM's MAC like a VF.
		 * romfile= (empty): no iPXE option ROM, as a VF has none, and as QEMU failover's
		 * baseline plugs it: without it, every plug loads the ROM file into a new RAM block
		 * and registers a ROM BAR under QEMU's lock, work a real VF's plug does not do.
		 */
		netdev = qemu_props_new("type", "bridge", "id", QEMU_ID_VF_NETDEV, "br", spec->bridge,
					NULL);
		device = qemu_props_new("driver", "e1000e", "id", QEMU_ID_VF, "bus", QEMU_ID_VF_PORT,
					"netdev", QEMU_ID_VF_NETDEV, "mac", spec->mac, "romfile",
					"", NULL);
		if (!netdev || !device)
			return -ENOMEM;
	}
	*ret_netdev = TAKE_PTR(netdev);
	*ret_device = TAKE_PTR(device);
	return 0;
}

/* asprintf() that returns NULL on failure (asprintf leaves its pointer undefined then). */
static char *qemu_strf(const char *fmt, ...) _printf_(1, 2);
static char *qemu_strf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

static char *qemu_run_path(const char *run_dir, const char *name)
{
	return qemu_strf("%s/%s", run_dir, name);
}

static void argv_push_socket_chardev(argv_builder *b, const char *id, const char *run_dir,
				     const char *socket, const char *logfile)
{
	_cleanup_free_ char *path = qemu_run_path(run_dir, socket);
	_cleanup_free_ char *log = logfile ? qemu_run_path(run_dir, logfile) : NULL;
	json_object *props;

	if (!path || (logfile && !log)) {
		b->r = b->r ?: -ENOMEM;
		return;
	}
	/* wait=off: QEMU runs whether or not anyone is connected yet. */
	if (log)
		props = qemu_props_new("backend", "socket", "id", id, "path", path, "?server", "on",
				       "?wait", "off", "logfile", log, "?logappend", "on", NULL);
	else
		props = qemu_props_new("backend", "socket", "id", id, "path", path, "?server", "on",
				       "?wait", "off", NULL);
	argv_push_props(b, "-chardev", "backend", props);
}

static char *qemu_kernel_cmdline(const vm_spec *spec)
{
	/* The guest's bond0 address travels on the kernel command line: no config disk needed. */
	if (spec->address)
		return qemu_strf("%s%sdmigrate.addr=%s", spec->cmdline ?: "",
				 spec->cmdline ? " " : "", spec->address);
	return strdup(spec->cmdline ?: "");
}

int qemu_argv_build(const vm_spec *spec, const char *run_dir, unsigned flags, char ***ret_argv)
{
	struct sockaddr_un sa;
	argv_builder b = {};
	_cleanup_free_ char *pidfile = NULL, *mem = NULL, *smp = NULL, *name = NULL;
	_cleanup_json_ json_object *netdev = NULL, *device = NULL;
	int r;

	/* libvirt starts a domain's QEMU from the domain's XML: the spec describes no QEMU. */
	if (spec->libvirt_domain)
		return -EOPNOTSUPP;
	if (!run_dir || run_dir[0] != '/')
		return -EINVAL;
	if (strlen(run_dir) + 1 + strlen(QEMU_RUN_CONSOLE_SOCKET) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;

	pidfile = qemu_run_path(run_dir, QEMU_RUN_PIDFILE);
	mem = qemu_strf("%u", spec->memory_mib);
	smp = qemu_strf("%u", spec->vcpus);
	/*
	 * debug-threads: QEMU names its threads ("CPU 0/KVM", ...), so that top -H, /proc and the
	 * SR-IOV lab's pinning check can tell the vCPU threads dmigrated pins from the others.
	 */
	name = qemu_strf("guest=%s,debug-threads=on", spec->name);
	if (!pidfile || !mem || !smp || !name)
		return -ENOMEM;

	argv_push(&b, "qemu-system-x86_64");
	argv_push(&b, "-name");
	argv_push(&b, name);
	argv_push_props(&b, "-machine", "type", qemu_props_new("type", spec->machine, NULL));
	if (flags & QEMU_ARGV_KVM) {
		argv_push_props(&b, "-accel", "accel", qemu_props_new("accel", "kvm", NULL));
		argv_push(&b, "-cpu");
		argv_push(&b, "host");
	} else
		argv_push_props(&b, "-accel", "accel", qemu_props_new("accel", "tcg", NULL));
	argv_push(&b, "-m");
	argv_push(&b, mem);
	/*
	 * A VFIO device pins all of guest RAM when it is realized. On a migration's destination
	 * that is the VF's hot-plug, after the switchover: QEMU holds its big lock while the kernel
	 * faults in every page the incoming stream left unpopulated (zero pages, copied on write
	 * one 4 KiB page at a time), so the standby's virtio-net, QMP and the plug itself wait.
	 * In the SR-IOV lab that was 24 s to over 60 s with the main thread confined off a pinned
	 * vCPU's CPU (2.8 s when the pages were there). Preallocated when QEMU starts (a migration's
	 * prepare, before the source lets go of its VF), the plug only pins present pages. Costs no
	 * memory a VFIO guest would not pin anyway.
	 */
	if (spec->passthrough == VM_PASSTHROUGH_VFIO)
		argv_push(&b, "-mem-prealloc");
	argv_push(&b, "-smp");
	argv_push(&b, smp);
	argv_push(&b, "-nodefaults");
	argv_push(&b, "-no-user-config");
	argv_push(&b, "-display");
	argv_push(&b, "none");
	argv_push(&b, "-msg");
	argv_push(&b, "timestamp=on");
	argv_push(&b, "-pidfile");
	argv_push(&b, pidfile);

	argv_push_socket_chardev(&b, "qmp", run_dir, QEMU_RUN_QMP_SOCKET, NULL);
	argv_push_props(&b, "-mon", NULL, qemu_props_new("chardev", "qmp", "mode", "control", NULL));
	argv_push_socket_chardev(&b, "console", run_dir, QEMU_RUN_CONSOLE_SOCKET,
				 QEMU_RUN_SERIAL_LOG);
	argv_push(&b, "-serial");
	argv_push(&b, "chardev:console");
	argv_push_props(&b, "-device", "driver",
			qemu_props_new("driver", "virtio-serial-pci", "id", "vserial0", NULL));
	argv_push_socket_chardev(&b, "agent", run_dir, QEMU_RUN_AGENT_SOCKET, NULL);
	argv_push_props(&b, "-device", "driver",
			qemu_props_new("driver", "virtserialport", "bus", "vserial0.0", "chardev",
				       "agent", "name", QEMU_AGENT_PORT_NAME, NULL));

	if (spec->boot == VM_BOOT_KERNEL) {
		argv_push(&b, "-kernel");
		argv_push(&b, spec->kernel);
		if (spec->initrd) {
			argv_push(&b, "-initrd");
			argv_push(&b, spec->initrd);
		}
		argv_push(&b, "-append");
		argv_take(&b, qemu_kernel_cmdline(spec));
	} else {
		/* Read-only: both hosts can hold the one image open, neither writes it. */
		argv_push_props(&b, "-drive", NULL,
				qemu_props_new("file", spec->disk, "format", spec->disk_format, "if",
					       "virtio", spec->disk_readonly ? "readonly" : NULL,
					       "on", NULL));
	}

	/* The standby: always there, the bond's path while the VF is away. */
	argv_push_props(&b, "-netdev", "type",
			qemu_props_new("type", "bridge", "id", QEMU_ID_STANDBY_NETDEV, "br",
				       spec->bridge, NULL));
	argv_push_props(&b, "-device", "driver",
			qemu_props_new("driver", "virtio-net-pci", "id", QEMU_ID_STANDBY, "netdev",
				       QEMU_ID_STANDBY_NETDEV, "mac", spec->mac, NULL));

	/* The VF's slot exists even while it is empty, so the VF can come and go by hot-plug. */
	argv_push_props(&b, "-device", "driver",
			qemu_props_new("driver", "pcie-root-port", "id", QEMU_ID_VF_PORT, "@chassis",
				       "1", NULL));
	if ((!(flags & QEMU_ARGV_NO_VF) || (flags & QEMU_ARGV_VF_NETDEV)) && b.r == 0) {
		r = qemu_vf_plug_args(spec, NULL, &netdev, &device);
		if (r < 0)
			b.r = r;
		else {
			if (netdev)
				argv_push_props(&b, "-netdev", "type", TAKE_PTR(netdev));
			if (!(flags & QEMU_ARGV_NO_VF))
				argv_push_props(&b, "-device", "driver", TAKE_PTR(device));
		}
	}

	if (flags & QEMU_ARGV_INCOMING) {
		argv_push(&b, "-incoming");
		argv_push(&b, "defer");
		/* Paused once the state is in: the destination daemon decides when the VM runs here
		 * (`cont`), so it knows for sure whether it ever did (docs/design.md, switchover). */
		argv_push(&b, "-S");
	}

	if (b.r < 0) {
		qemu_argv_free(b.v);
		return b.r;
	}
	*ret_argv = b.v;
	return 0;
}

int qemu_argv_add_tls(char ***argv, const char *tls_dir, unsigned flags)
{
	argv_builder b = { .v = *argv };
	static const char *const endpoints[][2] = { { QEMU_TLS_SERVER_ID, "server" },
						    { QEMU_TLS_CLIENT_ID, "client" } };

	while (b.v[b.n])
		b.n++;
	b.cap = b.n + 1;
	/* Both: a QEMU that came in with the server's may leave one day with the client's. */
	for (size_t i = 0; i < ELEMENTSOF(endpoints); i++)
		argv_push_props(&b, "-object", "qom-type",
				qemu_props_new("qom-type", "tls-creds-x509", "id", endpoints[i][0],
					       "endpoint", endpoints[i][1], "dir", tls_dir,
					       "verify-peer", "on", NULL));
	/* Before any QMP: the incoming stream is taken over TLS only, from a client of our CA. */
	if (flags & QEMU_ARGV_INCOMING) {
		argv_push(&b, "-global");
		argv_push(&b, "migration.tls-creds=" QEMU_TLS_SERVER_ID);
	}
	*argv = b.v;
	return b.r;
}

char **qemu_argv_free(char **argv)
{
	if (!argv)
		return NULL;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
	return NULL;
}
