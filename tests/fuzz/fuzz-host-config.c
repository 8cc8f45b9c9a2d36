// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dmigrated's config loader on arbitrary file content (a memfd, read through /proc/self/fd).
 * A refusal must explain itself naming the file; what is accepted must hold up: absolute paths,
 * devices in exactly the PCI form, ports and settings in range, peers findable by name. The
 * same bytes, when they are JSON, go to migration_settings_override() as a client would send
 * them, which must not change the settings when it refuses.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/host_config.h"
#include "fuzz-file.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool pci_address_exact(const char *s)
{
	static const char shape[] = "hhhh:hh:hh.h";

	if (strlen(s) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'h' ? !isxdigit((unsigned char)s[i]) : s[i] != shape[i])
			return false;
	return true;
}

/* Field by field: the struct has padding, which no parser promises to leave alike. */
static bool settings_equal(const migration_settings *a, const migration_settings *b)
{
	return a->downtime_limit_ms == b->downtime_limit_ms &&
	       a->max_bandwidth_mibps == b->max_bandwidth_mibps &&
	       a->multifd_channels == b->multifd_channels && a->auto_converge == b->auto_converge &&
	       a->xbzrle == b->xbzrle && a->migrate_timeout_ms == b->migrate_timeout_ms;
}

static void check_settings(const migration_settings *m)
{
	_cleanup_json_ json_object *o = migration_settings_to_json(m);
	migration_settings again = { 0 };
	char *error = NULL;

	if (m->downtime_limit_ms < 1 || m->downtime_limit_ms > 60000 ||
	    m->max_bandwidth_mibps > 1000000 || m->multifd_channels > 64)
		abort();
	/* What we print is what we accept back. */
	if (migration_settings_override(&again, o, &error) < 0 ||
	    !settings_equal(&again, m))
		abort();
}

static void check_config(const host_config *c)
{
	if (!c->name || !*c->name || !c->migration_address || c->n_vfs == 0 ||
	    c->n_vfs > HOST_CONFIG_MAX_VFS || c->n_peers > HOST_CONFIG_MAX_PEERS)
		abort();
	for (const char *const *p = (const char *const[]){ c->control_socket, c->state_dir,
							   c->run_dir, NULL };
	     *p; p++)
		if (**p != '/')
			abort();
	for (size_t i = 0; i < c->n_vfs; i++)
		if (c->passthrough == PASSTHROUGH_VFIO && !pci_address_exact(c->vfs[i]))
			abort();
	if (!c->system_root || c->system_root[0] != '/')
		abort();
	/* An sriov PF is a PCI address or an interface name that cannot leave sysfs's directory. */
	if (c->passthrough == PASSTHROUGH_SRIOV &&
	    (c->vfs || c->sriov.vfs != c->n_vfs || !c->sriov.pf || !*c->sriov.pf ||
	     strlen(c->sriov.pf) > 15 || strchr(c->sriov.pf, '/') || !strcmp(c->sriov.pf, "..") ||
	     (strchr(c->sriov.pf, ':') && !pci_address_exact(c->sriov.pf)) ||
	     c->sriov.settings.link_state > VF_LINK_DISABLE))
		abort();
	for (size_t i = 0; i < c->n_peers; i++)
		if (host_config_find_peer(c, c->peers[i].name) != &c->peers[i] ||
		    c->peers[i].port < 1 || c->peers[i].port > 65535 || !*c->peers[i].address ||
		    c->peers[i].peer_socket[0] != '/' || !*c->peers[i].migration_address)
			abort();
	check_settings(&c->migration);
}

static void fuzz_override(const uint8_t *data, size_t size)
{
	_cleanup_json_ json_object *o = NULL;
	json_tokener *tok = json_tokener_new();
	migration_settings s = { .downtime_limit_ms = 300 }, before = s;
	char *error = NULL;

	if (!tok)
		return;
	o = json_tokener_parse_ex(tok, (const char *)data, (int)(size < INT32_MAX ? size : INT32_MAX));
	json_tokener_free(tok);
	if (!o)
		return;
	if (migration_settings_override(&s, o, &error) < 0) {
		if (!error || strncmp(error, "migration settings: ", 20) != 0 ||
		    !settings_equal(&s, &before))
			abort();
		free(error);
		return;
	}
	check_settings(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	host_config *c = NULL;
	char *error = NULL, path[FUZZ_FILE_PATH_MAX], prefix[FUZZ_FILE_PATH_MAX + 2];
	int fd;

	fuzz_override(data, size);

	fd = fuzz_file(data, size, path);
	if (fd < 0)
		return 0;
	if (host_config_load(path, &c, &error) < 0) {
		/* Every refusal explains itself, starting with the file's name. */
		snprintf(prefix, sizeof(prefix), "%s: ", path);
		if (c || !error || strncmp(error, prefix, strlen(prefix)) != 0)
			abort();
		free(error);
	} else {
		if (error || strcmp(c->path, path) != 0)
			abort();
		check_config(c);
		host_config_free(c);
	}
	close(fd);
	return 0;
}
