// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * protocol-doc agent|control: print a protocol's reference (proto/agent-protocol.md,
 * proto/control-protocol.md) from its tables, write it (--write FILE), or check that FILE matches
 * them (--check FILE, run by `meson test`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_protocol.h"
#include "control_protocol.h"
#include "log.h"

static int file_read(const char *path, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	buf = malloc(1 << 20);
	if (buf)
		len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	if (!buf)
		return -ENOMEM;
	if (len == 1 << 20)
		return -EFBIG;
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

static const struct {
	const char *name;
	int (*write)(FILE *f);
	const char *tables;
} protocols[] = {
	{ "agent", agent_protocol_doc_write, "proto/agent_protocol.c" },
	{ "control", control_protocol_doc_write, "proto/control_protocol.c" },
};

int main(int argc, char **argv)
{
	_cleanup_free_ char *want = NULL, *have = NULL;
	size_t want_len = 0, have_len = 0;
	int (*doc_write)(FILE *f) = NULL;
	const char *name = argc > 1 ? argv[1] : "", *tables = NULL;
	FILE *f;
	int r;

	log_set_ident("protocol-doc");
	for (size_t i = 0; i < ELEMENTSOF(protocols); i++)
		if (!strcmp(name, protocols[i].name)) {
			doc_write = protocols[i].write;
			tables = protocols[i].tables;
		}
	if (doc_write && argc == 2)
		return doc_write(stdout) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
	if (!doc_write || argc != 4 || (strcmp(argv[2], "--check") && strcmp(argv[2], "--write"))) {
		fprintf(stderr, "Usage: protocol-doc agent|control [--check FILE | --write FILE]\n");
		return 2;
	}
	if (!strcmp(argv[2], "--write")) {
		f = fopen(argv[3], "we");
		if (!f)
			return log_error_errno(errno, "Failed to open '%s': %m", argv[3]), EXIT_FAILURE;
		r = doc_write(f);
		if (fclose(f) != 0 && r >= 0)
			r = -errno;
		if (r < 0)
			return log_error_errno(r, "Failed to write '%s': %m", argv[3]), EXIT_FAILURE;
		return EXIT_SUCCESS;
	}

	f = open_memstream(&want, &want_len);
	if (!f || doc_write(f) < 0 || fclose(f) != 0)
		return log_error("Failed to generate the protocol reference"), EXIT_FAILURE;
	r = file_read(argv[3], &have, &have_len);
	if (r < 0)
		return log_error_errno(r, "Failed to read '%s': %m", argv[3]), EXIT_FAILURE;
	if (have_len != want_len || memcmp(have, want, want_len)) {
		log_error("'%s' does not match the protocol tables in %s; regenerate it with "
			  "`meson compile -C BUILD %s-protocol-md`.",
			  argv[3], tables, name);
		return EXIT_FAILURE;
	}
	return EXIT_SUCCESS;
}
