/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A VM spec and a run directory make a QEMU command line (qemu-system-x86_64, on KVM or TCG as the
 * caller resolved it: host/accel.h). The
 * lab, the CLI and the daemon all start QEMU from this one definition, and the VF the
 * daemon hot-plugs with QMP is described by the same JSON objects the command line is
 * built from, so a plugged VF looks exactly like a VF present at start.
 *
 * The run directory holds what QEMU creates for one VM on one host (names below). The NICs
 * attach to the spec's bridge through QEMU's bridge helper (`-netdev bridge`), which needs an
 * `allow BRIDGE` line in /etc/qemu/bridge.conf on every host.
 */
#pragma once

#include <json-c/json.h>

#include "host/vm_spec.h"

/* Files in the run directory. */
#define QEMU_RUN_QMP_SOCKET "qmp.sock"
#define QEMU_RUN_AGENT_SOCKET "agent.sock" /* behind the guest's agent port */
#define QEMU_RUN_CONSOLE_SOCKET "console.sock" /* the guest's ttyS0 */
#define QEMU_RUN_SERIAL_LOG "serial.log" /* everything the guest wrote on ttyS0 */
#define QEMU_RUN_PIDFILE "qemu.pid"

/* The virtio-serial port name the guest agent looks for (like qemu-ga's). */
#define QEMU_AGENT_PORT_NAME "org.dmigrate.agent.0"

/* QEMU ids, stable across hosts: the QMP calls of a migration refer to them. */
#define QEMU_ID_STANDBY "standby0"        /* the virtio-net standby NIC */
#define QEMU_ID_STANDBY_NETDEV "standbynet0"
#define QEMU_ID_VF "vf0"                  /* the passthrough NIC (or its emulated stand-in) */
#define QEMU_ID_VF_NETDEV "vfnet0"        /* emulated VF only */
#define QEMU_ID_VF_PORT "vfport0"         /* the hot-plug pcie-root-port, always present */

typedef enum qemu_argv_flags {
	QEMU_ARGV_NO_VF = 1 << 0,    /* leave vfport0 empty: the VF is plugged later over QMP */
	QEMU_ARGV_INCOMING = 1 << 1, /* -incoming defer -S: wait for a migration stream, then stay
				      * paused until `cont` */
	QEMU_ARGV_KVM = 1 << 2,      /* -accel kvm -cpu host (qemu_accel_resolve() chose KVM); else TCG */
	/*
	 * With NO_VF: the emulated VF's -netdev all the same, without its device, so that its plug
	 * creates only the device, as a real VF's plug does (vfio-pci has no netdev): the plug's
	 * netdev_add meets the duplicate (one QMP round trip). A bridge netdev's netdev_add runs
	 * qemu-bridge-helper under QEMU's big lock (~36 ms here), which a TCG guest resumed just
	 * before waits out on its first I/O: its traffic's gap grew by it.
	 */
	QEMU_ARGV_VF_NETDEV = 1 << 3,
} qemu_argv_flags;

/*
 * Build the argv (NULL-terminated, argv[0] = "qemu-system-x86_64"; free with
 * qemu_argv_free()). run_dir must be absolute. Returns -EINVAL for a relative run_dir,
 * -ENAMETOOLONG if a socket path in it would not fit a Unix socket address, -EOPNOTSUPP for a
 * spec naming a libvirt domain (libvirt starts its QEMU).
 */
int qemu_argv_build(const vm_spec *spec, const char *run_dir, unsigned flags, char ***ret_argv);
/*
 * With TLS certificates in tls_dir (host/qemu_tls.h, checked by the caller), add the server's and
 * the client's tls-creds-x509 objects to an argv from qemu_argv_build(); with QEMU_ARGV_INCOMING
 * in flags, the incoming stream is taken with the server's. On failure *argv stays the caller's
 * to free.
 */
int qemu_argv_add_tls(char ***argv, const char *tls_dir, unsigned flags);
char **qemu_argv_free(char **argv);
static inline void qemu_argv_freep(char ***argv)
{
	qemu_argv_free(*argv);
}
#define _cleanup_argv_ __attribute__((cleanup(qemu_argv_freep)))

/*
 * How long QEMU may take to answer the VF's device_add. A vfio-pci VF is realized only once all
 * of the guest's memory is pinned and mapped through the IOMMU: that grows with the guest's RAM
 * and the host's load (8 to more than 10 s for 256 MiB in the SR-IOV lab's nested hosts, where
 * every IOMMU mapping is trapped by an emulated VT-d).
 */
#define QEMU_VF_PLUG_TIMEOUT_MS 60000

/*
 * The QMP arguments that plug the VF: for netdev_add (*ret_netdev; NULL for vfio, which has
 * no netdev) and for device_add (*ret_device). vfio_host overrides the spec's VF address (the
 * destination plugs the VF it reserved); NULL keeps the spec's. The caller owns both.
 */
int qemu_vf_plug_args(const vm_spec *spec, const char *vfio_host, json_object **ret_netdev,
		      json_object **ret_device);
