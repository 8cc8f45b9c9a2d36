// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dmigrated's config file: a full config and the defaults, then for every field the hostile
 * values it must refuse, each with a message naming the file and the exact field. Hostile configs
 * are the full one with one field changed (config_with()), so each case tests one thing.
 */
#include "daemon/host_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/qemu_tls.h"
#include "macro.h"
#include "test.h"

#define FULL                                                                                       \
	"{\n"                                                                                      \
	"  \"name\": \"hostA\",\n"                                                                 \
	"  \"control_socket\": \"/run/dmt/dmigrated.sock\",\n"                                     \
	"  \"state_dir\": \"/var/lib/dmt\",\n"                                                     \
	"  \"run_dir\": \"/run/dmt/vms\",\n"                                                       \
	"  \"qemu_binary\": \"/usr/local/bin/qemu-system-x86_64\",\n"                              \
	"  \"migration_address\": \"198.18.0.1\",\n"                                               \
	"  \"passthrough\": {\"type\": \"vfio\", \"devices\": [\"0000:3b:02.1\", \"0000:3b:1f.7\"]},\n" \
	"  \"ssh\": {\"user\": \"dm\", \"identity_file\": \"/etc/dmt/id\",\n"                       \
	"          \"known_hosts_file\": \"/etc/dmt/known_hosts\"},\n"                               \
	"  \"peers\": {\n"                                                                         \
	"    \"hostB\": {\"address\": \"198.18.0.2\", \"port\": 2222,\n"                            \
	"              \"peer_socket\": \"/run/dmigrate/dmigrated.sock\"},\n"                    \
	"    \"hostC\": {\"address\": \"hostc.example\", \"peer_socket\": \"/run/c.sock\"}\n"    \
	"  },\n"                                                                                   \
	"  \"migration\": {\"downtime_limit_ms\": 100, \"max_bandwidth_mibps\": 1000,\n"             \
	"                \"multifd_channels\": 4, \"auto_converge\": true, \"xbzrle\": true}\n"      \
	"}\n"

#define MINIMAL                                                                                    \
	"{\"name\": \"h\", \"migration_address\": \"10.0.0.1\","                                   \
	" \"passthrough\": {\"type\": \"emulated\", \"slots\": 2}}"

static char dir[] = "/tmp/test-host-config.XXXXXX";
static char path[64];

static void write_file(const char *text, size_t len)
{
	FILE *f = fopen(path, "we");

	ASSERT_TRUE(f != NULL);
	ASSERT_EQ(fwrite(text, 1, len, f), len);
	ASSERT_EQ(fclose(f), 0);
}

static int load(const char *text, host_config **ret, char **ret_error)
{
	write_file(text, strlen(text));
	return host_config_load(path, ret, ret_error);
}

/* FULL with the field at dotted path `field` set to the JSON `value`, or removed if NULL. */
static char *config_with(const char *base, const char *field, const char *value)
{
	_cleanup_json_ json_object *root = json_tokener_parse(base);
	_cleanup_free_ char *copy = strdup(field);
	json_object *o = root;
	char *key = copy, *dot;

	ASSERT_TRUE(root && copy);
	while ((dot = strchr(key, '.'))) {
		*dot = '\0';
		ASSERT_TRUE(json_object_object_get_ex(o, key, &o));
		key = dot + 1;
	}
	if (value) {
		json_object *v = json_tokener_parse(value);

		/* json_tokener_parse() gives NULL for "null" too: that is the JSON null we want. */
		ASSERT_TRUE(v || !strcmp(value, "null"));
		json_object_object_add(o, key, v);
	} else {
		ASSERT_TRUE(json_object_object_get_ex(o, key, NULL));
		json_object_object_del(o, key);
	}
	return strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY));
}

/*
 * The config is refused with -EINVAL and an error "PATH: field 'FIELD': ..." (or "PATH: ..." when
 * field is NULL) that contains `detail`.
 */
static void expect_invalid_text(const char *text, const char *field, const char *detail)
{
	host_config *c = NULL;
	char *error = NULL, prefix[256];

	ASSERT_ERRNO(load(text, &c, &error), EINVAL);
	ASSERT_TRUE(c == NULL);
	ASSERT_TRUE(error != NULL);
	if (field)
		snprintf(prefix, sizeof(prefix), "%s: field '%s': ", path, field);
	else
		snprintf(prefix, sizeof(prefix), "%s: ", path);
	if (strncmp(error, prefix, strlen(prefix)) || !strstr(error + strlen(prefix), detail) ||
	    (!field && strstr(error, ": field '")))
		TEST_FAIL("expected \"%s...%s...\", got \"%s\"", prefix, detail, error);
	free(error);
}

static void expect_invalid(const char *base, const char *field, const char *value,
			   const char *error_field, const char *detail)
{
	_cleanup_free_ char *text = config_with(base, field, value);

	fprintf(stderr, "   %s = %s\n", field, value ? value : "(removed)");
	expect_invalid_text(text, error_field, detail);
}

TEST(full_config)
{
	host_config *c = NULL;
	char *error = NULL;
	const peer_config *p;

	ASSERT_OK(load(FULL, &c, &error));
	ASSERT_TRUE(error == NULL);
	ASSERT_STREQ(c->path, path);
	ASSERT_STREQ(c->name, "hostA");
	ASSERT_STREQ(c->control_socket, "/run/dmt/dmigrated.sock");
	ASSERT_STREQ(c->state_dir, "/var/lib/dmt");
	ASSERT_STREQ(c->run_dir, "/run/dmt/vms");
	ASSERT_STREQ(c->qemu_binary, "/usr/local/bin/qemu-system-x86_64");
	ASSERT_STREQ(c->migration_address, "198.18.0.1");
	ASSERT_EQ(c->passthrough, PASSTHROUGH_VFIO);
	ASSERT_EQ(c->n_vfs, 2);
	ASSERT_STREQ(c->vfs[0], "0000:3b:02.1");
	ASSERT_STREQ(c->vfs[1], "0000:3b:1f.7");
	ASSERT_STREQ(c->ssh_user, "dm");
	ASSERT_STREQ(c->ssh_identity_file, "/etc/dmt/id");
	ASSERT_STREQ(c->ssh_known_hosts_file, "/etc/dmt/known_hosts");
	ASSERT_EQ(c->n_peers, 2);
	p = host_config_find_peer(c, "hostB");
	ASSERT_TRUE(p != NULL);
	ASSERT_STREQ(p->name, "hostB");
	ASSERT_STREQ(p->address, "198.18.0.2");
	ASSERT_EQ(p->port, 2222);
	ASSERT_STREQ(p->peer_socket, "/run/dmigrate/dmigrated.sock");
	p = host_config_find_peer(c, "hostC");
	ASSERT_TRUE(p != NULL);
	ASSERT_STREQ(p->address, "hostc.example");
	ASSERT_EQ(p->port, 22);
	ASSERT_STREQ(p->peer_socket, "/run/c.sock");
	ASSERT_TRUE(host_config_find_peer(c, "hostD") == NULL);
	ASSERT_TRUE(host_config_find_peer(c, "hosta") == NULL);
	ASSERT_EQ(c->migration.downtime_limit_ms, 100);
	ASSERT_EQ(c->migration.max_bandwidth_mibps, 1000);
	ASSERT_EQ(c->migration.multifd_channels, 4);
	ASSERT_TRUE(c->migration.auto_converge);
	ASSERT_TRUE(c->migration.xbzrle);
	host_config_free(c);
}

TEST(defaults)
{
	host_config *c = NULL;
	char *error = NULL;

	ASSERT_OK(load(MINIMAL, &c, &error));
	ASSERT_STREQ(c->name, "h");
	ASSERT_STREQ(c->control_socket, "/run/dmigrate/dmigrated.sock");
	ASSERT_STREQ(c->state_dir, "/var/lib/dmigrate");
	ASSERT_STREQ(c->run_dir, "/run/dmigrate/vms");
	ASSERT_STREQ(c->qemu_binary, "qemu-system-x86_64");
	ASSERT_EQ(c->accel, QEMU_ACCEL_AUTO);
	ASSERT_STREQ(c->migration_address, "10.0.0.1");
	ASSERT_EQ(c->passthrough, PASSTHROUGH_EMULATED);
	ASSERT_EQ(c->n_vfs, 2);
	ASSERT_STREQ(c->vfs[0], "vf0");
	ASSERT_STREQ(c->vfs[1], "vf1");
	ASSERT_STREQ(c->ssh_user, "root");
	ASSERT_STREQ(c->ssh_identity_file, "/etc/dmigrate/id_ed25519");
	ASSERT_STREQ(c->ssh_known_hosts_file, "/etc/dmigrate/known_hosts");
	ASSERT_EQ(c->n_peers, 0);
	ASSERT_TRUE(host_config_find_peer(c, "h") == NULL);
	ASSERT_EQ(c->migration.downtime_limit_ms, 300);
	ASSERT_EQ(c->migration.max_bandwidth_mibps, 0);
	ASSERT_EQ(c->migration.multifd_channels, 0);
	ASSERT_TRUE(!c->migration.auto_converge);
	ASSERT_TRUE(!c->migration.xbzrle);
	host_config_free(c);

	/* Empty sections are fine and change nothing; so are the limits of every range. */
	ASSERT_OK(load("{\"name\": \"h\", \"migration_address\": \"10.0.0.1\","
		       " \"passthrough\": {\"type\": \"emulated\", \"slots\": 256}, \"ssh\": {},"
		       " \"peers\": {\"p\": {\"address\": \"a\", \"peer_socket\": \"/s\", \"port\": 65535}},"
		       " \"migration\": {\"downtime_limit_ms\": 60000, \"multifd_channels\": 64,"
		       " \"max_bandwidth_mibps\": 1000000}}",
		       &c, &error));
	ASSERT_EQ(c->n_vfs, 256);
	ASSERT_STREQ(c->vfs[255], "vf255");
	ASSERT_STREQ(c->ssh_user, "root");
	ASSERT_EQ(c->peers[0].port, 65535);
	ASSERT_EQ(c->migration.downtime_limit_ms, 60000);
	ASSERT_EQ(c->migration.multifd_channels, 64);
	ASSERT_EQ(c->migration.max_bandwidth_mibps, 1000000);
	host_config_free(c);
}

TEST(wrong_types_and_missing_fields)
{
	expect_invalid(FULL, "name", NULL, "name", "missing (required)");
	expect_invalid(FULL, "name", "5", "name", "expected a non-empty string, got 5");
	expect_invalid(FULL, "name", "\"\"", "name", "expected a non-empty string, got \"\"");
	expect_invalid(FULL, "name", "null", "name", "expected a non-empty string, got null");
	expect_invalid(FULL, "name", "\"a\\u0000b\"", "name", "NUL");
	expect_invalid(FULL, "migration_address", NULL, "migration_address", "missing (required)");
	expect_invalid(FULL, "migration_address", "[]", "migration_address",
		       "expected a non-empty string, got []");
	expect_invalid(FULL, "control_socket", "true", "control_socket",
		       "expected a non-empty string, got true");
	expect_invalid(FULL, "state_dir", "1", "state_dir", "expected a non-empty string");
	expect_invalid(FULL, "run_dir", "{}", "run_dir", "expected a non-empty string");
	expect_invalid(FULL, "qemu_binary", "[\"qemu\"]", "qemu_binary",
		       "expected a non-empty string");
	expect_invalid(FULL, "ssh", "\"root\"", "ssh", "expected a JSON object, got \"root\"");
	expect_invalid(FULL, "ssh.user", "0", "ssh.user", "expected a non-empty string, got 0");
	expect_invalid(FULL, "ssh.identity_file", "false", "ssh.identity_file",
		       "expected a non-empty string");
	expect_invalid(FULL, "ssh.known_hosts_file", "\"\"", "ssh.known_hosts_file",
		       "expected a non-empty string");
	expect_invalid(FULL, "passthrough", NULL, "passthrough", "missing (required)");
	expect_invalid(FULL, "passthrough", "\"vfio\"", "passthrough", "expected a JSON object");
	expect_invalid(FULL, "passthrough.type", NULL, "passthrough.type", "missing (required)");
	expect_invalid(FULL, "passthrough.type", "\"pci\"", "passthrough.type",
		       "expected \"emulated\", \"vfio\" or \"sriov\", got \"pci\"");
	expect_invalid(FULL, "passthrough.type", "1", "passthrough.type",
		       "expected a non-empty string, got 1");
	expect_invalid(FULL, "migration", "5", "migration", "expected a JSON object, got 5");
	expect_invalid(FULL, "migration.downtime_limit_ms", "0", "migration.downtime_limit_ms",
		       "expected an integer 1..60000, got 0");
	expect_invalid(FULL, "migration.downtime_limit_ms", "60001", "migration.downtime_limit_ms",
		       "expected an integer 1..60000, got 60001");
	expect_invalid(FULL, "migration.downtime_limit_ms", "100.5", "migration.downtime_limit_ms",
		       "expected an integer 1..60000, got 100.5");
	expect_invalid(FULL, "migration.max_bandwidth_mibps", "-5", "migration.max_bandwidth_mibps",
		       "got -5");
	expect_invalid(FULL, "migration.max_bandwidth_mibps", "18446744073709551615",
		       "migration.max_bandwidth_mibps", "expected an integer 0..1000000");
	expect_invalid(FULL, "migration.multifd_channels", "65", "migration.multifd_channels",
		       "expected an integer 0..64, got 65");
	expect_invalid(FULL, "migration.auto_converge", "\"yes\"", "migration.auto_converge",
		       "expected true or false, got \"yes\"");
	expect_invalid(FULL, "migration.xbzrle", "1", "migration.xbzrle",
		       "expected true or false, got 1");
}

TEST(accel)
{
	static const struct {
		const char *json;
		qemu_accel accel;
	} ok[] = { { "\"auto\"", QEMU_ACCEL_AUTO }, { "\"kvm\"", QEMU_ACCEL_KVM },
		   { "\"tcg\"", QEMU_ACCEL_TCG } };

	for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
		_cleanup_free_ char *text = config_with(MINIMAL, "accel", ok[i].json);
		host_config *c = NULL;
		char *error = NULL;

		ASSERT_OK(load(text, &c, &error));
		ASSERT_EQ(c->accel, ok[i].accel);
		host_config_free(c);
	}
	expect_invalid(MINIMAL, "accel", "\"hvf\"", "accel",
		       "expected \"auto\", \"kvm\" or \"tcg\", got \"hvf\"");
	expect_invalid(MINIMAL, "accel", "\"Kvm\"", "accel", "expected \"auto\"");
	expect_invalid(MINIMAL, "accel", "\"kvm,thread=multi\"", "accel", "expected \"auto\"");
	expect_invalid(MINIMAL, "accel", "1", "accel", "expected a non-empty string, got 1");
	expect_invalid(MINIMAL, "accel", "\"\"", "accel", "expected a non-empty string");
}

TEST(port_out_of_range)
{
	static const char *const bad[] = { "0", "65536", "-1", "22.5", "\"ssh\"", "true", "null",
					   "4294967318" };

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		char detail[64];

		snprintf(detail, sizeof(detail), "expected an integer 1..65535, got %s", bad[i]);
		expect_invalid(FULL, "peers.hostB.port", bad[i], "peers.hostB.port", detail);
	}
}

TEST(unknown_fields_named_by_dotted_path)
{
	static const char *const fields[] = { "nmae", "passthrough.slot", "ssh.usr",
					      "peers.hostB.adress", "peers.hostC.ports",
					      "migration.downtime" };

	for (size_t i = 0; i < ELEMENTSOF(fields); i++)
		expect_invalid(FULL, fields[i], "1", fields[i], "unknown field");
}

TEST(peers)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;

	expect_invalid(FULL, "peers", "[]", "peers", "expected a JSON object, got []");
	expect_invalid(FULL, "peers.hostB", "\"198.18.0.2\"", "peers.hostB",
		       "expected a JSON object");
	expect_invalid(FULL, "peers.hostB", "null", "peers.hostB", "expected a JSON object");
	expect_invalid(FULL, "peers.hostB.address", NULL, "peers.hostB.address",
		       "missing (required)");
	expect_invalid(FULL, "peers.hostB.peer_socket", "7", "peers.hostB.peer_socket",
		       "expected a non-empty string, got 7");

	/* One peer too many. */
	text = malloc(16384);
	ASSERT_TRUE(text != NULL);
	len += (size_t)sprintf(text, "{\"name\": \"h\", \"migration_address\": \"a\","
				     " \"passthrough\": {\"type\": \"emulated\", \"slots\": 1}, \"peers\": {");
	for (int i = 0; i <= HOST_CONFIG_MAX_PEERS; i++)
		len += (size_t)sprintf(text + len, "%s\"p%d\": {\"address\": \"a\", \"peer_socket\": \"/s\"}",
				       i ? ", " : "", i);
	sprintf(text + len, "}}");
	expect_invalid_text(text, "peers", "more than 64 peers");
}

TEST(passthrough_devices)
{
	static const char *const bad[] = {
		"\"0000:3b:02.8\"",  /* function 8 */
		"\"0000:3b:20.1\"",  /* device 32 */
		"\"3b:02.1\"",       /* no domain */
		"\"0000:3b:02.1x\"", /* trailing byte */
		"\"0000:3b:02.\"",
		"\"0000-3b-02.1\"",
		"\"0000:3g:02.1\"",
		"\"\"",
		"5",
		"null",
		"[\"0000:3b:02.1\"]",
	};

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		char list[64];

		snprintf(list, sizeof(list), "[\"0000:3b:02.2\", %s]", bad[i]);
		expect_invalid(FULL, "passthrough.devices", list, "passthrough.devices", "entry 1");
	}
	expect_invalid(FULL, "passthrough.devices", NULL, "passthrough.devices", "PCI addresses");
	expect_invalid(FULL, "passthrough.devices", "[]", "passthrough.devices", "PCI addresses");
	expect_invalid(FULL, "passthrough.devices", "\"0000:3b:02.1\"", "passthrough.devices",
		       "PCI addresses");
}

TEST(too_many_devices)
{
	_cleanup_free_ char *list = malloc(32 * (HOST_CONFIG_MAX_VFS + 1));
	size_t len = 1;

	ASSERT_TRUE(list != NULL);
	list[0] = '[';
	for (int i = 0; i <= HOST_CONFIG_MAX_VFS; i++)
		len += (size_t)sprintf(list + len, "%s\"0000:%02x:%02x.%x\"", i ? "," : "", i / 256,
				       (i / 8) % 32, i % 8);
	sprintf(list + len, "]");
	expect_invalid(FULL, "passthrough.devices", list, "passthrough.devices", "PCI addresses");
}

TEST(emulated_slots)
{
	expect_invalid(MINIMAL, "passthrough.slots", "0", "passthrough.slots",
		       "expected an integer 1..256, got 0");
	expect_invalid(MINIMAL, "passthrough.slots", "257", "passthrough.slots",
		       "expected an integer 1..256, got 257");
	expect_invalid(MINIMAL, "passthrough.slots", "\"2\"", "passthrough.slots",
		       "expected an integer 1..256");
	expect_invalid(MINIMAL, "passthrough.slots", NULL, "passthrough.slots",
		       "missing (required)");
}

TEST(relative_paths)
{
	expect_invalid(FULL, "control_socket", "\"run/dmigrated.sock\"", "control_socket",
		       "absolute");
	expect_invalid(FULL, "state_dir", "\"lib/dmigrate\"", "state_dir", "absolute");
	expect_invalid(FULL, "run_dir", "\"./vms\"", "run_dir", "absolute");
	/* The key and the known_hosts file decide whom we trust: never relative to the cwd. */
	expect_invalid(FULL, "ssh.identity_file", "\"id_ed25519\"", "ssh.identity_file",
		       "absolute");
	expect_invalid(FULL, "ssh.known_hosts_file", "\"etc/known_hosts\"",
		       "ssh.known_hosts_file", "absolute");
}

TEST(pci_addresses_exact_form)
{
	/* sscanf() would take all of these: blanks, signs and 0x prefixes inside the fields. */
	static const char *const bad[] = { "\" 000:3b:02.1\"", "\"0x00:3b:02.1\"",
					   "\"+000:3b:02.1\"", "\"-000:3b:02.1\"",
					   "\"0000:3b: 2.1\"", "\"0000:+b:02.1\"",
					   "\"0000:-B:1F.7\"" /* found by fuzz-host-config */ };
	host_config *c = NULL;
	char *error = NULL;
	_cleanup_free_ char *text = NULL;

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		char list[64];

		snprintf(list, sizeof(list), "[%s]", bad[i]);
		expect_invalid(FULL, "passthrough.devices", list, "passthrough.devices", "entry 0");
	}
	/* Upper case is accepted and stored as sysfs and the VM spec write it, in lower case. */
	text = config_with(FULL, "passthrough.devices", "[\"0000:3B:1F.7\"]");
	ASSERT_OK(load(text, &c, &error));
	ASSERT_STREQ(c->vfs[0], "0000:3b:1f.7");
	host_config_free(c);
}

TEST(duplicate_devices)
{
	/* The same VF twice would be handed to two VMs. */
	expect_invalid(FULL, "passthrough.devices", "[\"0000:3b:02.1\", \"0000:3b:02.2\", \"0000:3b:02.1\"]",
		       "passthrough.devices", "entry 2");
}

TEST(trailing_garbage)
{
	host_config *c = NULL;
	char *error = NULL;

	/* Blank lines after the object are fine; a second value or a stray word is not. */
	ASSERT_OK(load(MINIMAL " \n\t\n", &c, &error));
	host_config_free(c);
	expect_invalid_text(MINIMAL " trailing", NULL, "not valid JSON");
	expect_invalid_text(MINIMAL "{}", NULL, "not valid JSON");
}

TEST(file_errors)
{
	_cleanup_free_ char *big = NULL;
	host_config *c = NULL;
	char *error = NULL, expected[256];
	size_t size = 64 * 1024;

	/* Invalid JSON, with where it went wrong: the ']' at byte 25. */
	expect_invalid_text("{\"name\": \"h\",\n  \"peers\": ]}", NULL,
			    "not valid JSON: unexpected character near byte 25");
	expect_invalid_text("", NULL, "not valid JSON");
	expect_invalid_text("{\"name\": \"h\"", NULL, "not valid JSON");
	expect_invalid_text("[" MINIMAL "]", NULL, "expected a JSON object at the top level");
	expect_invalid_text("\"hostA\"", NULL, "expected a JSON object at the top level");

	/* The largest file accepted is 64 KiB: padded with blanks, MINIMAL is fine at that size. */
	big = malloc(size + 1);
	ASSERT_TRUE(big != NULL);
	memset(big, ' ', size + 1);
	memcpy(big, MINIMAL, strlen(MINIMAL));
	write_file(big, size);
	ASSERT_OK(host_config_load(path, &c, &error));
	host_config_free(c);
	c = NULL;
	write_file(big, size + 1);
	ASSERT_ERRNO(host_config_load(path, &c, &error), EINVAL);
	snprintf(expected, sizeof(expected), "%s: larger than 65536 bytes", path);
	ASSERT_STREQ(error, expected);
	ASSERT_TRUE(c == NULL);
	free(error);

	ASSERT_OK(unlink(path));
	ASSERT_ERRNO(host_config_load(path, &c, &error), EINVAL);
	snprintf(expected, sizeof(expected), "%s: cannot open: No such file or directory", path);
	ASSERT_STREQ(error, expected);
	ASSERT_TRUE(c == NULL);
	free(error);

	/* A directory is not a config file either. */
	ASSERT_TRUE(host_config_load(dir, &c, &error) < 0);
	ASSERT_TRUE(c == NULL);
	ASSERT_TRUE(strncmp(error, dir, strlen(dir)) == 0);
	free(error);
}

TEST(settings_override)
{
	migration_settings s = { .downtime_limit_ms = 300, .multifd_channels = 2 }, before;
	_cleanup_json_ json_object *o = NULL, *j = NULL;
	char *error = NULL;

	ASSERT_OK(migration_settings_override(&s, NULL, &error));
	ASSERT_EQ(s.downtime_limit_ms, 300);
	o = json_tokener_parse("{}");
	ASSERT_OK(migration_settings_override(&s, o, &error));
	ASSERT_EQ(s.downtime_limit_ms, 300);
	ASSERT_EQ(s.multifd_channels, 2);
	json_object_put(o);

	o = json_tokener_parse("{\"downtime_limit_ms\": 50, \"xbzrle\": true, \"max_bandwidth_mibps\": 0}");
	ASSERT_OK(migration_settings_override(&s, o, &error));
	ASSERT_TRUE(error == NULL);
	ASSERT_EQ(s.downtime_limit_ms, 50);
	ASSERT_TRUE(s.xbzrle);
	ASSERT_EQ(s.max_bandwidth_mibps, 0);
	/* Fields not named are left as they were. */
	ASSERT_EQ(s.multifd_channels, 2);
	ASSERT_TRUE(!s.auto_converge);

	j = migration_settings_to_json(&s);
	ASSERT_STREQ(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN),
		     "{\"downtime_limit_ms\":50,\"max_bandwidth_mibps\":0,\"multifd_channels\":2,"
		     "\"auto_converge\":false,\"xbzrle\":true}");

	/* Refusals leave every field alone, including those that were valid in the same request. */
	static const struct {
		const char *json, *error;
	} bad[] = {
		{ "{\"downtime_limit_ms\": 0}",
		  "migration settings: field 'downtime_limit_ms': expected an integer 1..60000, got 0" },
		{ "{\"multifd_channels\": 8, \"auto_converge\": 1}",
		  "migration settings: field 'auto_converge': expected true or false, got 1" },
		{ "{\"xbzrle\": false, \"downtime_limit_ms\": 10, \"bogus\": 1}",
		  "migration settings: field 'bogus': unknown field (check its spelling)" },
		{ "{\"max_bandwidth_mibps\": \"fast\"}",
		  "migration settings: field 'max_bandwidth_mibps': expected an integer 0..1000000, got \"fast\"" },
	};
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		json_object_put(o);
		o = json_tokener_parse(bad[i].json);
		ASSERT_TRUE(o != NULL);
		before = s;
		ASSERT_ERRNO(migration_settings_override(&s, o, &error), EINVAL);
		ASSERT_STREQ(error, bad[i].error);
		ASSERT_TRUE(memcmp(&s, &before, sizeof(s)) == 0);
		free(error);
		error = NULL;
	}
}

TEST(settings_override_not_an_object)
{
	/* A request's "settings" may be anything a client sent. */
	static const char *const bad[] = { "[]", "\"fast\"", "7", "true" };
	migration_settings s = { .downtime_limit_ms = 300 }, before = s;

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		_cleanup_json_ json_object *o = json_tokener_parse(bad[i]);
		char *error = NULL;

		ASSERT_ERRNO(migration_settings_override(&s, o, &error), EINVAL);
		ASSERT_TRUE(error != NULL && strncmp(error, "migration settings: ", 20) == 0);
		ASSERT_TRUE(memcmp(&s, &before, sizeof(s)) == 0);
		free(error);
	}
}

/* examples/dmigrated.json, documented field by field in examples/README-dmigrated.md. */
static void test_example(const char *example)
{
	host_config *c = NULL;
	char *error = NULL;

	fprintf(stderr, "== example %s\n", example);
	if (host_config_load(example, &c, &error) < 0)
		TEST_FAIL("%s", error);
	ASSERT_STREQ(c->name, "hostA");
	ASSERT_EQ(c->passthrough, PASSTHROUGH_VFIO);
	ASSERT_EQ(c->n_vfs, 4);
	ASSERT_EQ(c->n_peers, 2);
	ASSERT_EQ(host_config_find_peer(c, "hostC")->port, 2222);
	host_config_free(c);
}

#define SRIOV                                                                                      \
	"{\"name\": \"h\", \"migration_address\": \"10.0.0.1\", \"system_root\": \"/tmp/fx\","     \
	" \"dedicated_cpus\": \"2-5,8\", \"passthrough\": {\"type\": \"sriov\","                 \
	" \"pf\": \"enp7s0f1\", \"vfs\": 4, \"spoofchk\": true, \"trust\": false,"              \
	" \"link_state\": \"enable\"}}"

TEST(sriov_pool_and_host_fields)
{
	host_config *c = NULL;
	char *error = NULL;

	ASSERT_OK(load(SRIOV, &c, &error));
	ASSERT_EQ(c->passthrough, PASSTHROUGH_SRIOV);
	ASSERT_STREQ(c->sriov.pf, "enp7s0f1");
	ASSERT_EQ(c->sriov.vfs, 4);
	ASSERT_EQ(c->n_vfs, 4);
	ASSERT_TRUE(c->sriov.settings.spoofchk);
	ASSERT_TRUE(!c->sriov.settings.trust);
	ASSERT_EQ(c->sriov.settings.link_state, VF_LINK_ENABLE);
	ASSERT_STREQ(c->system_root, "/tmp/fx");
	ASSERT_EQ(CPU_COUNT(&c->dedicated_cpus), 5);
	ASSERT_TRUE(CPU_ISSET(2, &c->dedicated_cpus) && CPU_ISSET(5, &c->dedicated_cpus) &&
		    CPU_ISSET(8, &c->dedicated_cpus) && !CPU_ISSET(6, &c->dedicated_cpus));
	host_config_free(c);

	/* The defaults: spoof checking on, trust off, link auto; a PCI address folded to lower case. */
	ASSERT_OK(load("{\"name\": \"h\", \"migration_address\": \"10.0.0.1\", \"passthrough\":"
		       " {\"type\": \"sriov\", \"pf\": \"0000:07:00.1\", \"vfs\": 2}}",
		       &c, &error));
	ASSERT_STREQ(c->sriov.pf, "0000:07:00.1");
	ASSERT_TRUE(c->sriov.settings.spoofchk && !c->sriov.settings.trust);
	ASSERT_EQ(c->sriov.settings.link_state, VF_LINK_AUTO);
	ASSERT_STREQ(c->system_root, "/");
	ASSERT_EQ(CPU_COUNT(&c->dedicated_cpus), 0);
	host_config_free(c);

	expect_invalid(SRIOV, "passthrough.pf", "\"../eth0\"", "passthrough.pf",
		       "expected the PF's interface name like \"enp7s0f1\" or its PCI address");
	expect_invalid(SRIOV, "passthrough.pf", "\"averyveryverylongname\"", "passthrough.pf",
		       "got \"averyveryverylongname\"");
	expect_invalid(SRIOV, "passthrough.pf", NULL, "passthrough.pf", "missing");
	expect_invalid(SRIOV, "passthrough.vfs", "0", "passthrough.vfs", "1..256");
	expect_invalid(SRIOV, "passthrough.vfs", "300", "passthrough.vfs", "1..256");
	expect_invalid(SRIOV, "passthrough.link_state", "\"up\"", "passthrough.link_state",
		       "expected \"auto\", \"enable\" or \"disable\", got \"up\"");
	expect_invalid(SRIOV, "passthrough.trust", "\"no\"", "passthrough.trust", "");
	expect_invalid(SRIOV, "passthrough.devices", "[]", "passthrough.devices", "unknown field");
	expect_invalid(SRIOV, "system_root", "\"fx\"", "system_root", "absolute path");
	expect_invalid(SRIOV, "dedicated_cpus", "\"2-\"", "dedicated_cpus",
		       "'2-' in '2-' is not a CPU number");
	expect_invalid(SRIOV, "dedicated_cpus", "\"5-2\"", "dedicated_cpus", "'5-2'");
	expect_invalid(SRIOV, "dedicated_cpus", "\"1,,2\"", "dedicated_cpus", "");
	expect_invalid(SRIOV, "dedicated_cpus", "\"99999\"", "dedicated_cpus", "'99999'");
}

/* The migration stream's certificates: a directory QEMU is given on its command line. */
TEST(tls_dir)
{
	char tls[128], file[192], value[256];
	host_config *c = NULL;
	char *error = NULL;
	_cleanup_free_ char *text = NULL;

	snprintf(tls, sizeof(tls), "%s/tls", dir);
	ASSERT_OK(mkdir(tls, 0700));
	snprintf(value, sizeof(value), "\"%s\"", tls);
	/* Each file QEMU reads must be there: the error names the first that is not. */
	for (size_t i = 0; qemu_tls_files[i]; i++) {
		FILE *f;

		snprintf(file, sizeof(file), "%s/%s", tls, qemu_tls_files[i]);
		expect_invalid(MINIMAL, "tls_dir", value, "tls_dir", qemu_tls_files[i]);
		f = fopen(file, "we");
		ASSERT_TRUE(f != NULL);
		fclose(f);
	}
	text = config_with(MINIMAL, "tls_dir", value);
	ASSERT_OK(load(text, &c, &error));
	ASSERT_STREQ(c->tls_dir, tls);
	host_config_free(c);
	/* Not configured: no TLS. */
	ASSERT_OK(load(MINIMAL, &c, &error));
	ASSERT_TRUE(c->tls_dir == NULL);
	host_config_free(c);

	/* A comma would end QEMU's dir= option and let the value add options of its own. */
	expect_invalid(MINIMAL, "tls_dir", "\"/etc/dmigrate/tls,endpoint=client\"", "tls_dir",
		       "comma");
	expect_invalid(MINIMAL, "tls_dir", "\"/etc/dmigrate/tls\\nx\"", "tls_dir", "control");
	expect_invalid(MINIMAL, "tls_dir", "\"etc/dmigrate/tls\"", "tls_dir", "absolute");
	expect_invalid(MINIMAL, "tls_dir", "\"/nonexistent/tls\"", "tls_dir",
		       "No such file or directory");
	snprintf(value, sizeof(value), "\"%s/ca-cert.pem\"", tls);
	expect_invalid(MINIMAL, "tls_dir", value, "tls_dir", "not a directory");
	expect_invalid(MINIMAL, "tls_dir", "42", "tls_dir", "string");
	snprintf(file, sizeof(file), "%s/server-key.pem", tls);
	ASSERT_OK(unlink(file));
	ASSERT_OK(mkdir(file, 0700));
	snprintf(value, sizeof(value), "\"%s\"", tls);
	expect_invalid(MINIMAL, "tls_dir", value, "tls_dir",
		       "server-key.pem\" is not a regular file");
	ASSERT_OK(rmdir(file));
	for (size_t i = 0; qemu_tls_files[i]; i++) {
		snprintf(file, sizeof(file), "%s/%s", tls, qemu_tls_files[i]);
		(void)unlink(file);
	}
	ASSERT_OK(rmdir(tls));
}

int main(int argc, char **argv)
{
	if (argc != 2)
		TEST_FAIL("usage: %s EXAMPLE-CONFIG (meson passes examples/dmigrated.json)", argv[0]);
	test_example(argv[1]);
	ASSERT_TRUE(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/dmigrated.json", dir);

	RUN_TEST(full_config);
	RUN_TEST(defaults);
	RUN_TEST(tls_dir);
	RUN_TEST(wrong_types_and_missing_fields);
	RUN_TEST(accel);
	RUN_TEST(port_out_of_range);
	RUN_TEST(unknown_fields_named_by_dotted_path);
	RUN_TEST(peers);
	RUN_TEST(passthrough_devices);
	RUN_TEST(too_many_devices);
	RUN_TEST(emulated_slots);
	RUN_TEST(file_errors);
	RUN_TEST(settings_override);
	RUN_TEST(settings_override_not_an_object);
	RUN_TEST(relative_paths);
	RUN_TEST(pci_addresses_exact_form);
	RUN_TEST(duplicate_devices);
	RUN_TEST(trailing_garbage);
	RUN_TEST(sriov_pool_and_host_fields);

	unlink(path);
	ASSERT_OK(rmdir(dir));
	return 0;
}
