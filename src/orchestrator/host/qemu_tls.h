/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * TLS between the two QEMUs of a migration (docs/tls.md). A host with `tls_dir` in its config
 * starts every QEMU with two tls-creds-x509 objects over that directory, both with peer
 * verification on: the server's, with which an incoming QEMU listens, and the client's, with
 * which a QEMU migrating away connects and checks that the destination's certificate names the
 * peer (tls-hostname: the peer's name in the config) and comes from the same CA.
 *
 * The directory holds QEMU's file names: the CA that signs every host of the cluster, and this
 * host's certificate and key as a server and as a client.
 */
#pragma once

#include <stddef.h>

#define QEMU_TLS_SERVER_ID "dmigrate-tls-server"
#define QEMU_TLS_CLIENT_ID "dmigrate-tls-client"
/* Longest tls_dir taken: QEMU adds the file names below. */
#define QEMU_TLS_DIR_MAX 1024

/* The files QEMU reads from the directory, NULL-terminated. */
extern const char *const qemu_tls_files[];

/*
 * Whether dir can be given to QEMU as a tls-creds-x509 directory: an absolute path of printable
 * characters without a comma (QEMU's option separator), a directory holding each of
 * qemu_tls_files as a readable regular file. On refusal, why says what is wrong with which
 * value and what to do; returns -EINVAL (or the error of the file that is missing).
 */
int qemu_tls_dir_check(const char *dir, char *why, size_t size);
