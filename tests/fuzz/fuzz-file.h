/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * For targets whose parser reads a file: the input as a file's content, in a memfd the parser
 * opens by its /proc/self/fd path like any other file.
 */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#define FUZZ_FILE_PATH_MAX 32

/* The memfd (close it when done) and its path in path; -1 when it cannot be made. */
static inline int fuzz_file(const uint8_t *data, size_t size, char path[FUZZ_FILE_PATH_MAX])
{
	int fd = memfd_create("fuzz-input", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (size > 0 && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return -1;
	}
	snprintf(path, FUZZ_FILE_PATH_MAX, "/proc/self/fd/%d", fd);
	return fd;
}
