// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * agent-protocol-doc: print proto/agent-protocol.md from the tables, write it (--write FILE), or
 * check that FILE matches them (--check FILE, run by `meson test`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_protocol.h"
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

int main(int argc, char **argv)
{
	_cleanup_free_ char *want = NULL, *have = NULL;
	size_t want_len = 0, have_len = 0;
	FILE *f;
	int r;

	log_set_ident("agent-protocol-doc");
	if (argc == 1)
		return agent_protocol_doc_write(stdout) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
	if (argc != 3 || (strcmp(argv[1], "--check") && strcmp(argv[1], "--write"))) {
		fprintf(stderr, "Usage: agent-protocol-doc [--check FILE | --write FILE]\n");
		return 2;
	}
	if (!strcmp(argv[1], "--write")) {
		f = fopen(argv[2], "we");
		if (!f)
			return log_error_errno(errno, "Failed to open '%s': %m", argv[2]), EXIT_FAILURE;
		r = agent_protocol_doc_write(f);
		if (fclose(f) != 0 && r >= 0)
			r = -errno;
		if (r < 0)
			return log_error_errno(r, "Failed to write '%s': %m", argv[2]), EXIT_FAILURE;
		return EXIT_SUCCESS;
	}

	f = open_memstream(&want, &want_len);
	if (!f || agent_protocol_doc_write(f) < 0 || fclose(f) != 0)
		return log_error("Failed to generate the protocol reference"), EXIT_FAILURE;
	r = file_read(argv[2], &have, &have_len);
	if (r < 0)
		return log_error_errno(r, "Failed to read '%s': %m", argv[2]), EXIT_FAILURE;
	if (have_len != want_len || memcmp(have, want, want_len)) {
		log_error("'%s' does not match the protocol tables in proto/agent_protocol.c; "
			  "regenerate it with `meson compile -C BUILD agent-protocol-md`.", argv[2]);
		return EXIT_FAILURE;
	}
	return EXIT_SUCCESS;
}
