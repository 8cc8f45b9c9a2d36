/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reads and writes of sysfs and procfs below a root directory: "/" on a host, a fixture tree in
 * the unit tests. Every path is relative to the root and given printf-style
 * ("sys/bus/pci/devices/%s/sriov_numvfs"), so no caller builds absolute paths by hand and a
 * test can point the whole host side at a temporary directory.
 *
 * A fixture cannot react to a write the way the kernel does (VFs appearing when sriov_numvfs is
 * written, a driver binding on drivers_probe): tests set on_write to play that part.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

typedef struct sysfs {
	const char *root; /* absolute; "/" on a real host */
	/* Tests only: called after each successful write with the relative path and value. */
	int (*on_write)(const struct sysfs *fs, const char *path, const char *value, void *userdata);
	void *userdata;
} sysfs;

/* The absolute path of a relative one (malloc()ed), or NULL when out of memory. */
char *sysfs_path(const sysfs *fs, const char *fmt, ...) _printf_(2, 3);

/* The first line of a file without its newline, cut to size. -errno on failure. */
int sysfs_read(const sysfs *fs, char *buf, size_t size, const char *fmt, ...) _printf_(4, 5);
/* A decimal or 0x-prefixed hexadecimal number; -EBADMSG when the file holds something else. */
int sysfs_read_ulong(const sysfs *fs, unsigned long *ret, const char *fmt, ...) _printf_(3, 4);
/* Write value to an existing attribute (never creates a file). */
int sysfs_write(const sysfs *fs, const char *value, const char *fmt, ...) _printf_(3, 4);
/* The last component of a symlink's target ("vfio-pci" for .../driver): -ENOENT when absent. */
int sysfs_link_name(const sysfs *fs, char *buf, size_t size, const char *fmt, ...) _printf_(4, 5);
bool sysfs_exists(const sysfs *fs, const char *fmt, ...) _printf_(2, 3);
/*
 * The entries of a directory, sorted, without "." and "..": a NULL-terminated array freed with
 * sysfs_list_free(). At most SYSFS_LIST_MAX entries (a bound on what a fixture can make us hold).
 */
#define SYSFS_LIST_MAX 65536
int sysfs_list(const sysfs *fs, char ***ret, const char *fmt, ...) _printf_(3, 4);
char **sysfs_list_free(char **names);
static inline void sysfs_list_freep(char ***names)
{
	sysfs_list_free(*names);
}
#define _cleanup_names_ _cleanup_(sysfs_list_freep)
