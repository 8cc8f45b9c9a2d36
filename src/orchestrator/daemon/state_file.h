/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Everything dmigrated must remember across a crash (the VM registry, the VF pool's reservations,
 * migration journals) is a small JSON file replaced atomically: written to a temporary file,
 * fsync()ed, renamed over the old one, and the directory fsync()ed. A reader sees the old or the
 * new content, never a torn one.
 */
#pragma once

#include <json-c/json.h>

/* Largest state file we agree to read back: they are a few KiB. */
#define STATE_FILE_MAX (1024 * 1024)

int state_file_write(const char *path, json_object *obj);
/* -ENOENT when there is no such file; -EBADMSG when it is not a JSON object. */
int state_file_read(const char *path, json_object **ret);
int state_file_remove(const char *path);
/* mkdir -p with mode 0700: state and run directories hold sockets and keys. */
int state_dir_create(const char *path);
