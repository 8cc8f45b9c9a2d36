// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/host_config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config_reader.h"
#include "host/cpu_list.h"
#include "host/qemu_tls.h"
#include "control_protocol.h"
#include "macro.h"

#define HOST_CONFIG_MAX_SIZE (64 * 1024)

static char *strdup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* DDDD:BB:DD.F exactly, the form sysfs and vfio-pci use; upper-case hex is folded to lower. */
static bool pci_address_normalize(const char *s, char out[static 13])
{
	static const char shape[] = "hhhh:hh:hh.h";
	unsigned dev;

	if (strlen(s) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; i < sizeof(shape) - 1; i++) {
		if (shape[i] == 'h' ? !isxdigit((unsigned char)s[i]) : s[i] != shape[i])
			return false;
		out[i] = (char)tolower((unsigned char)s[i]);
	}
	out[sizeof(shape) - 1] = '\0';
	return sscanf(out + 8, "%2x", &dev) == 1 && dev < 32 && out[11] <= '7';
}

/*
 * A migration address goes into a QEMU URI (tcp:ADDRESS:PORT): a host name or IPv4 address of
 * [A-Za-z0-9.-], or an IPv6 address of hex digits, ':' and '.'. Nothing QEMU would read as
 * another URI part or option (',', '@', '/', spaces) gets through.
 */
static bool address_valid(const char *s)
{
	size_t len = strlen(s);
	bool colon = strchr(s, ':') != NULL;

	if (len == 0 || len > 253 || s[0] == '-' || s[0] == '.')
		return false;
	for (const char *c = s; *c; c++)
		if (colon ? !(isxdigit((unsigned char)*c) || *c == ':' || *c == '.') :
			    !(isalnum((unsigned char)*c) || *c == '.' || *c == '-'))
			return false;
	return true;
}

static int address_check(cfg_reader *r, const char *field, const char *address)
{
	if (!address_valid(address))
		return cfg_fail(r, field, "expected a host name, IPv4 or IPv6 address, got \"%s\"",
				address);
	return 0;
}

int migration_uri_new(const char *address, uint64_t port, char **ret)
{
	if (!address_valid(address) || port > 65535)
		return -EINVAL;
	if (asprintf(ret, strchr(address, ':') ? "tcp:[%s]:%" PRIu64 : "tcp:%s:%" PRIu64, address,
		     port) < 0)
		return -ENOMEM;
	return 0;
}

static int migration_settings_parse(cfg_reader *r, json_object *o, const char *field,
				    migration_settings *s)
{
	static const char *const known[] = { "downtime_limit_ms", "max_bandwidth_mibps",
					     "multifd_channels", "auto_converge", "xbzrle",
					     "migrate_timeout_ms", NULL };
	char f[128];
	int e = 0;

#define FIELD(k) (snprintf(f, sizeof(f), "%s%s" k, field, *field ? "." : ""), f)
	if (cfg_uint(r, o, FIELD("downtime_limit_ms"), "downtime_limit_ms", false,
		     MIGRATE_DOWNTIME_MIN_MS, MIGRATE_DOWNTIME_MAX_MS,
		     &s->downtime_limit_ms) == -EINVAL ||
	    cfg_uint(r, o, FIELD("max_bandwidth_mibps"), "max_bandwidth_mibps", false, 0,
		     MIGRATE_BANDWIDTH_MAX_MIBPS,
		     &s->max_bandwidth_mibps) == -EINVAL ||
	    cfg_uint(r, o, FIELD("multifd_channels"), "multifd_channels", false, 0,
		     MIGRATE_MULTIFD_MAX,
		     &s->multifd_channels) == -EINVAL ||
	    cfg_bool(r, o, FIELD("auto_converge"), "auto_converge", false, &s->auto_converge) ==
		    -EINVAL ||
	    cfg_bool(r, o, FIELD("xbzrle"), "xbzrle", false, &s->xbzrle) == -EINVAL ||
	    cfg_uint(r, o, FIELD("migrate_timeout_ms"), "migrate_timeout_ms", false,
		     MIGRATE_TIMEOUT_MIN_MS, MIGRATE_TIMEOUT_MAX_MS,
		     &s->migrate_timeout_ms) == -EINVAL)
		e = -EINVAL;
#undef FIELD
	if (e == 0)
		e = cfg_no_unknown(r, o, field, known);
	return e;
}

int migration_settings_override(migration_settings *s, json_object *overrides, char **ret_error)
{
	cfg_reader r = { .file = "migration settings" };
	migration_settings copy = *s;
	int e;

	if (!overrides)
		return 0;
	e = migration_settings_parse(&r, overrides, "", &copy);
	if (e < 0) {
		*ret_error = TAKE_PTR(r.error);
		return e;
	}
	*s = copy;
	return 0;
}

json_object *migration_settings_to_json(const migration_settings *s)
{
	json_object *o = json_object_new_object();

	/* NULL out of memory: the caller's json_object_object_add() then adds a null member. */
	if (!o)
		return NULL;
	json_object_object_add(o, "downtime_limit_ms", json_object_new_uint64(s->downtime_limit_ms));
	json_object_object_add(o, "max_bandwidth_mibps",
			       json_object_new_uint64(s->max_bandwidth_mibps));
	json_object_object_add(o, "multifd_channels", json_object_new_uint64(s->multifd_channels));
	json_object_object_add(o, "auto_converge", json_object_new_boolean(s->auto_converge));
	json_object_object_add(o, "xbzrle", json_object_new_boolean(s->xbzrle));
	/* 0: not set (settings built by hand); the host's default applies. */
	if (s->migrate_timeout_ms)
		json_object_object_add(o, "migrate_timeout_ms",
				       json_object_new_uint64(s->migrate_timeout_ms));
	return o;
}

/* "pf": an interface name (IFNAMSIZ, no '/', not "." or "..") or a PCI address. */
static bool host_config_pf_valid(const char *pf, char *normalized, size_t size)
{
	char bdf[13];

	if (pci_address_normalize(pf, bdf)) {
		snprintf(normalized, size, "%s", bdf);
		return true;
	}
	if (!*pf || strlen(pf) >= 16 || !strcmp(pf, ".") || !strcmp(pf, ".."))
		return false;
	for (const char *c = pf; *c; c++)
		if (*c <= ' ' || *c == '/' || *c == ':' || *c >= 0x7f)
			return false;
	snprintf(normalized, size, "%s", pf);
	return true;
}

static int host_config_parse_sriov(cfg_reader *r, json_object *pt, host_config *c)
{
	static const char *const link_states[] = { [VF_LINK_AUTO] = "auto",
						   [VF_LINK_ENABLE] = "enable",
						   [VF_LINK_DISABLE] = "disable" };
	const char *pf, *link = "auto";
	char normalized[16];
	uint64_t vfs;
	size_t i;
	int e;

	c->passthrough = PASSTHROUGH_SRIOV;
	c->sriov.settings = (vf_settings){ .spoofchk = true, .trust = false,
					   .link_state = VF_LINK_AUTO };
	if ((e = cfg_string(r, pt, "passthrough.pf", "pf", true, &pf)) < 0)
		return e;
	if (!host_config_pf_valid(pf, normalized, sizeof(normalized)))
		return cfg_fail(r, "passthrough.pf",
				"expected the PF's interface name like \"enp7s0f1\" or its PCI address "
				"like \"0000:07:00.1\", got \"%.64s\"",
				pf);
	if ((e = cfg_uint(r, pt, "passthrough.vfs", "vfs", true, 1, HOST_CONFIG_MAX_VFS, &vfs)) < 0)
		return e;
	if (cfg_bool(r, pt, "passthrough.spoofchk", "spoofchk", false, &c->sriov.settings.spoofchk) ==
		    -EINVAL ||
	    cfg_bool(r, pt, "passthrough.trust", "trust", false, &c->sriov.settings.trust) ==
		    -EINVAL ||
	    cfg_string(r, pt, "passthrough.link_state", "link_state", false, &link) == -EINVAL)
		return -EINVAL;
	for (i = 0; i < ELEMENTSOF(link_states); i++)
		if (!strcmp(link, link_states[i]))
			break;
	if (i == ELEMENTSOF(link_states))
		return cfg_fail(r, "passthrough.link_state",
				"expected \"auto\", \"enable\" or \"disable\", got \"%.32s\"", link);
	c->sriov.settings.link_state = (vf_link_state)i;
	c->sriov.vfs = (unsigned)vfs;
	c->n_vfs = (size_t)vfs;
	c->sriov.pf = strdup(normalized);
	return c->sriov.pf ? 0 : -ENOMEM;
}

static int host_config_parse_passthrough(cfg_reader *r, json_object *root, host_config *c)
{
	static const char *const known[] = { "type", "slots", "devices", NULL };
	static const char *const sriov_known[] = { "type", "pf", "vfs", "spoofchk", "trust",
						   "link_state", NULL };
	json_object *pt, *devices;
	const char *type;
	uint64_t slots = 0;
	int e;

	e = cfg_object(r, root, "passthrough", "passthrough", true, &pt);
	if (e < 0)
		return e;
	e = cfg_string(r, pt, "passthrough.type", "type", true, &type);
	if (e < 0)
		return e;
	e = cfg_no_unknown(r, pt, "passthrough", strcmp(type, "sriov") ? known : sriov_known);
	if (e < 0)
		return e;
	if (!strcmp(type, "sriov"))
		return host_config_parse_sriov(r, pt, c);

	if (!strcmp(type, "emulated")) {
		c->passthrough = PASSTHROUGH_EMULATED;
		e = cfg_uint(r, pt, "passthrough.slots", "slots", true, 1, HOST_CONFIG_MAX_VFS, &slots);
		if (e < 0)
			return e;
		c->vfs = calloc(slots, sizeof(char *));
		if (!c->vfs)
			return -ENOMEM;
		for (c->n_vfs = 0; c->n_vfs < slots; c->n_vfs++)
			if (asprintf(&c->vfs[c->n_vfs], "vf%zu", c->n_vfs) < 0)
				return -ENOMEM;
		return 0;
	}
	if (strcmp(type, "vfio"))
		return cfg_fail(r, "passthrough.type", "expected \"emulated\", \"vfio\" or \"sriov\", got \"%s\"",
				type);

	c->passthrough = PASSTHROUGH_VFIO;
	if (!json_object_object_get_ex(pt, "devices", &devices) ||
	    !json_object_is_type(devices, json_type_array) ||
	    json_object_array_length(devices) == 0 ||
	    json_object_array_length(devices) > HOST_CONFIG_MAX_VFS)
		return cfg_fail(r, "passthrough.devices",
				"expected a list of 1..%d PCI addresses such as \"0000:3b:02.1\"",
				HOST_CONFIG_MAX_VFS);
	c->vfs = calloc(json_object_array_length(devices), sizeof(char *));
	if (!c->vfs)
		return -ENOMEM;
	for (size_t i = 0; i < json_object_array_length(devices); i++) {
		json_object *d = json_object_array_get_idx(devices, i);
		char bdf[13];

		if (!json_object_is_type(d, json_type_string) ||
		    !pci_address_normalize(json_object_get_string(d), bdf))
			return cfg_fail(r, "passthrough.devices",
					"entry %zu: expected a PCI address such as \"0000:3b:02.1\", got %s",
					i, json_object_to_json_string(d));
		for (size_t k = 0; k < c->n_vfs; k++)
			if (!strcmp(c->vfs[k], bdf))
				return cfg_fail(r, "passthrough.devices", "entry %zu: %s is listed twice",
						i, bdf);
		c->vfs[c->n_vfs] = strdup(bdf);
		if (!c->vfs[c->n_vfs++])
			return -ENOMEM;
	}
	return 0;
}

static int host_config_parse_peers(cfg_reader *r, json_object *root, host_config *c)
{
	static const char *const known[] = { "address", "port", "peer_socket", "migration_address",
					     "link", NULL };
	json_object *peers;
	int e;

	e = cfg_object(r, root, "peers", "peers", false, &peers);
	if (e == -ENOENT)
		return 0;
	if (e < 0)
		return e;
	if (json_object_object_length(peers) > HOST_CONFIG_MAX_PEERS)
		return cfg_fail(r, "peers", "more than %d peers", HOST_CONFIG_MAX_PEERS);
	c->peers = calloc((size_t)json_object_object_length(peers) + 1, sizeof(peer_config));
	if (!c->peers)
		return -ENOMEM;

	json_object_object_foreach(peers, name, p) {
		peer_config *pc = &c->peers[c->n_peers++];
		const char *address, *sock, *maddr = NULL, *link = "ssh";
		uint64_t port = 22;
		char f[4][192];

		snprintf(f[0], sizeof(f[0]), "peers.%s", name);
		snprintf(f[1], sizeof(f[1]), "peers.%s.address", name);
		snprintf(f[2], sizeof(f[2]), "peers.%s.peer_socket", name);
		snprintf(f[3], sizeof(f[3]), "peers.%s.migration_address", name);
		if (!control_name_valid(name, strlen(name)))
			return cfg_fail(r, f[0], "a peer name is 1 to %d characters from A-Z a-z 0-9 . _ : -, "
					"starting with a letter or digit",
					CONTROL_NAME_MAX);
		if (!json_object_is_type(p, json_type_object))
			return cfg_fail(r, f[0], "expected a JSON object");
		/* The one socket of protocol version 1 served the CLI and peers alike. */
		if (json_object_object_get_ex(p, "control_socket", NULL))
			return cfg_fail(r, f[0], "'control_socket' is now 'peer_socket': the peer daemon's "
					"peer socket (its 'peer_socket', default /run/dmigrate/peer.sock), "
					"which serves only the peer commands");
		pc->name = strdup(name);
		if ((e = cfg_no_unknown(r, p, f[0], known)) < 0 ||
		    (e = cfg_string(r, p, f[1], "address", true, &address)) < 0 ||
		    (e = cfg_string(r, p, f[2], "peer_socket", true, &sock)) < 0 ||
		    cfg_string(r, p, f[3], "migration_address", false, &maddr) == -EINVAL)
			return e < 0 ? e : -EINVAL;
		if (sock[0] != '/')
			return cfg_fail(r, f[2], "expected an absolute path, got \"%s\"", sock);
		if ((e = address_check(r, f[1], address)) < 0 ||
		    (maddr && (e = address_check(r, f[3], maddr)) < 0))
			return e;
		snprintf(f[1], sizeof(f[1]), "peers.%s.port", name);
		if (cfg_uint(r, p, f[1], "port", false, 1, 65535, &port) == -EINVAL)
			return -EINVAL;
		snprintf(f[1], sizeof(f[1]), "peers.%s.link", name);
		if (cfg_string(r, p, f[1], "link", false, &link) == -EINVAL)
			return -EINVAL;
		if (strcmp(link, "ssh") && strcmp(link, "local"))
			return cfg_fail(r, f[1], "expected \"ssh\" or \"local\", got \"%s\"", link);
		pc->local = !strcmp(link, "local");
		pc->address = strdup(address);
		pc->peer_socket = strdup(sock);
		pc->migration_address = strdup(maddr ? maddr : address);
		pc->port = (unsigned)port;
		if (!pc->name || !pc->address || !pc->peer_socket || !pc->migration_address)
			return -ENOMEM;
	}
	return 0;
}

static int host_config_parse(cfg_reader *r, json_object *root, host_config *c)
{
	static const char *const known[] = { "name", "control_socket", "peer_socket", "state_dir", "run_dir",
					     "qemu_binary", "accel", "migration_address", "passthrough",
					     "ssh", "peers", "migration", "fault_injection",
					     "incoming_timeout_ms", "agent_timeout_ms", "system_root",
					     "dedicated_cpus", "tls_dir", NULL };
	static const char *const ssh_known[] = { "user", "identity_file", "known_hosts_file", NULL };
	const char *name, *sock = "/run/dmigrate/dmigrated.sock", *peer_sock = "/run/dmigrate/peer.sock",
		   *state = "/var/lib/dmigrate",
			  *run = "/run/dmigrate/vms", *qemu = "qemu-system-x86_64", *maddr,
			  *accel = "auto";
	const char *user = "root", *identity = "/etc/dmigrate/id_ed25519",
		   *known_hosts = "/etc/dmigrate/known_hosts", *sysroot = "/", *dedicated = NULL,
		   *tls_dir = NULL;
	json_object *ssh, *mig;
	int e;

	if ((e = cfg_no_unknown(r, root, "", known)) < 0 ||
	    (e = cfg_string(r, root, "name", "name", true, &name)) < 0 ||
	    (e = cfg_string(r, root, "migration_address", "migration_address", true, &maddr)) < 0)
		return e;
	if (!control_name_valid(name, strlen(name)))
		return cfg_fail(r, "name", "expected 1 to %d characters from A-Z a-z 0-9 . _ : -, starting "
				"with a letter or digit, got \"%s\"",
				CONTROL_NAME_MAX, name);
	if ((e = address_check(r, "migration_address", maddr)) < 0)
		return e;
	if (cfg_string(r, root, "control_socket", "control_socket", false, &sock) == -EINVAL ||
	    cfg_string(r, root, "peer_socket", "peer_socket", false, &peer_sock) == -EINVAL ||
	    cfg_string(r, root, "state_dir", "state_dir", false, &state) == -EINVAL ||
	    cfg_string(r, root, "run_dir", "run_dir", false, &run) == -EINVAL ||
	    cfg_string(r, root, "qemu_binary", "qemu_binary", false, &qemu) == -EINVAL ||
	    cfg_string(r, root, "accel", "accel", false, &accel) == -EINVAL ||
	    cfg_bool(r, root, "fault_injection", "fault_injection", false, &c->fault_injection) ==
		    -EINVAL ||
	    cfg_string(r, root, "system_root", "system_root", false, &sysroot) == -EINVAL ||
	    cfg_string(r, root, "dedicated_cpus", "dedicated_cpus", false, &dedicated) == -EINVAL ||
	    cfg_string(r, root, "tls_dir", "tls_dir", false, &tls_dir) == -EINVAL)
		return -EINVAL;
	if (tls_dir) {
		char why[QEMU_TLS_DIR_MAX + 256];

		if (qemu_tls_dir_check(tls_dir, why, sizeof(why)) < 0)
			return cfg_fail(r, "tls_dir", "%s", why);
		c->tls_dir = strdup(tls_dir);
		if (!c->tls_dir)
			return -ENOMEM;
	}
	CPU_ZERO(&c->dedicated_cpus);
	if (dedicated) {
		char why[160];

		if (cpu_list_parse(dedicated, &c->dedicated_cpus, why, sizeof(why)) < 0)
			return cfg_fail(r, "dedicated_cpus", "%s", why);
	}
	c->incoming_timeout_ms = INCOMING_TIMEOUT_DEFAULT_MS;
	if (cfg_uint(r, root, "incoming_timeout_ms", "incoming_timeout_ms", false,
		     INCOMING_TIMEOUT_MIN_MS, INCOMING_TIMEOUT_MAX_MS,
		     &c->incoming_timeout_ms) == -EINVAL)
		return -EINVAL;
	c->agent_timeout_ms = AGENT_TIMEOUT_DEFAULT_MS;
	if (cfg_uint(r, root, "agent_timeout_ms", "agent_timeout_ms", false, AGENT_TIMEOUT_MIN_MS,
		     AGENT_TIMEOUT_MAX_MS, &c->agent_timeout_ms) == -EINVAL)
		return -EINVAL;
	e = cfg_object(r, root, "ssh", "ssh", false, &ssh);
	if (e == -EINVAL)
		return e;
	if (e == 0 && ((e = cfg_no_unknown(r, ssh, "ssh", ssh_known)) < 0 ||
		       cfg_string(r, ssh, "ssh.user", "user", false, &user) == -EINVAL ||
		       cfg_string(r, ssh, "ssh.identity_file", "identity_file", false, &identity) ==
			       -EINVAL ||
		       cfg_string(r, ssh, "ssh.known_hosts_file", "known_hosts_file", false,
				  &known_hosts) == -EINVAL))
		return -EINVAL;
	const char *const paths[][2] = { { "control_socket", sock }, { "peer_socket", peer_sock },
					 { "state_dir", state }, { "system_root", sysroot },
					 { "run_dir", run }, { "ssh.identity_file", identity },
					 { "ssh.known_hosts_file", known_hosts } };
	for (size_t i = 0; i < ELEMENTSOF(paths); i++)
		if (paths[i][1][0] != '/')
			return cfg_fail(r, paths[i][0], "expected an absolute path, got \"%s\"",
					paths[i][1]);

	if (!strcmp(sock, peer_sock))
		return cfg_fail(r, "peer_socket", "must differ from control_socket (\"%s\"): each socket "
				"serves its own commands",
				sock);
	if (qemu_accel_from_name(accel, &c->accel) < 0)
		return cfg_fail(r, "accel", "expected " QEMU_ACCEL_NAMES ", got \"%s\"", accel);

	c->migration = (migration_settings){ .downtime_limit_ms = 300,
					     .migrate_timeout_ms = MIGRATE_TIMEOUT_DEFAULT_MS };
	e = cfg_object(r, root, "migration", "migration", false, &mig);
	if (e == -EINVAL)
		return e;
	if (e == 0 && (e = migration_settings_parse(r, mig, "migration", &c->migration)) < 0)
		return e;
	if (c->migration.migrate_timeout_ms >= c->incoming_timeout_ms)
		return cfg_fail(r, "migration.migrate_timeout_ms",
				"%" PRIu64 " ms must be shorter than incoming_timeout_ms (%" PRIu64
				" ms): a peer would give up an incoming VM that is still copying",
				c->migration.migrate_timeout_ms, c->incoming_timeout_ms);

	c->name = strdup(name);
	c->control_socket = strdup(sock);
	c->peer_socket = strdup(peer_sock);
	c->state_dir = strdup(state);
	c->run_dir = strdup(run);
	c->qemu_binary = strdup(qemu);
	c->migration_address = strdup(maddr);
	c->ssh_user = strdup(user);
	c->ssh_identity_file = strdup(identity);
	c->ssh_known_hosts_file = strdup(known_hosts);
	c->system_root = strdup(sysroot);
	if (!c->system_root || !c->name || !c->control_socket || !c->peer_socket || !c->state_dir ||
	    !c->run_dir || !c->qemu_binary ||
	    !c->migration_address || !c->ssh_user || !c->ssh_identity_file ||
	    !c->ssh_known_hosts_file)
		return -ENOMEM;

	if ((e = host_config_parse_passthrough(r, root, c)) < 0)
		return e;
	return host_config_parse_peers(r, root, c);
}

int host_config_load(const char *path, host_config **ret, char **ret_error)
{
	cfg_reader r = { 0 };
	_cleanup_json_ json_object *root = NULL;
	host_config *c;
	int e;

	e = cfg_load(&r, path, HOST_CONFIG_MAX_SIZE, &root);
	c = calloc(1, sizeof(*c));
	if (e >= 0 && !c)
		e = -ENOMEM;
	if (e >= 0) {
		c->path = strdup_or_null(path);
		e = host_config_parse(&r, root, c);
	}
	if (e < 0) {
		host_config_free(c);
		*ret_error = r.error ? TAKE_PTR(r.error) : strdup(strerror(-e));
		return e;
	}
	*ret = c;
	return 0;
}

host_config *host_config_free(host_config *c)
{
	if (!c)
		return NULL;
	for (size_t i = 0; c->vfs && i < c->n_vfs; i++)
		free(c->vfs[i]);
	free(c->vfs);
	for (size_t i = 0; i < c->n_peers; i++) {
		free(c->peers[i].name);
		free(c->peers[i].address);
		free(c->peers[i].peer_socket);
		free(c->peers[i].migration_address);
	}
	free(c->peers);
	free(c->path);
	free(c->name);
	free(c->control_socket);
	free(c->peer_socket);
	free(c->state_dir);
	free(c->run_dir);
	free(c->qemu_binary);
	free(c->migration_address);
	free(c->ssh_user);
	free(c->ssh_identity_file);
	free(c->ssh_known_hosts_file);
	free(c->tls_dir);
	free(c->system_root);
	free(c->sriov.pf);
	free(c);
	return NULL;
}

const peer_config *host_config_find_peer(const host_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_peers; i++)
		if (!strcmp(c->peers[i].name, name))
			return &c->peers[i];
	return NULL;
}
