// SPDX-License-Identifier: GPL-2.0-or-later
/* The daemon protocol's tables and the checks both ends run against them. */
#include "control_protocol.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"

#define VM_NAME_DOC "The VM."
#define MAX_VFS 256 /* HOST_CONFIG_MAX_VFS: a peer never has more free */
#define MAX_DEVICE_WAIT_MS (10 * 60 * 1000)
#define MAX_VMS 4096

#define END { NULL }
#define ARG_VM { "vm", CONTROL_NAME, true, false, 1, CONTROL_NAME_MAX, VM_NAME_DOC }

static const char *const no_errors[] = { NULL };
static const char *const vm_errors[] = { CONTROL_ERR_NOT_FOUND, CONTROL_ERR_FAILED, NULL };
static const char *const hello_errors[] = { CONTROL_ERR_INCOMPATIBLE, NULL };
static const char *const start_errors[] = { CONTROL_ERR_BUSY, CONTROL_ERR_FAILED, NULL };
static const char *const migrate_errors[] = { CONTROL_ERR_NOT_FOUND, CONTROL_ERR_BUSY,
					      CONTROL_ERR_FAILED, NULL };
static const char *const switchover_errors[] = { CONTROL_ERR_NOT_FOUND, CONTROL_ERR_NOT_RUNNING,
						 CONTROL_ERR_FAILED, NULL };
static const char *const prepare_errors[] = { CONTROL_ERR_NOT_RUNNING, CONTROL_ERR_FAILED, NULL };
static const char *const cancel_errors[] = { CONTROL_ERR_NOT_FOUND, CONTROL_ERR_FAILED, NULL };
/* After the switchover: the destination's own phases, degraded (failed) or lost. */
static const char *const dest_phase_errors[] = { CONTROL_ERR_FAILED, CONTROL_ERR_VM_LOST, NULL };
static const char *const evacuate_errors[] = { CONTROL_ERR_NOT_FOUND, CONTROL_ERR_BUSY,
					       CONTROL_ERR_FAILED, NULL };
static const char *const fault_errors[] = { CONTROL_ERR_NOT_FOUND, CONTROL_ERR_NOT_RUNNING,
					    CONTROL_ERR_FAILED, NULL };

static const control_field no_fields[] = { END };
static const control_field vm_args[] = { ARG_VM, END };

static const control_field hello_args[] = {
	{ "version", CONTROL_INT, true, false, 1, 65535,
	  "The highest protocol version the client speaks." },
	{ "min_version", CONTROL_INT, false, false, 1, 65535,
	  "The lowest it speaks; default `version`." },
	{ "client", CONTROL_STRING, false, false, 1, 64, "Who is asking, for the daemon's log." },
	{ "features", CONTROL_NAME_LIST, false, false, 0, CONTROL_MAX_FEATURES,
	  "The features the client knows (below)." },
	END,
};
static const control_field hello_returns[] = {
	{ "version", CONTROL_INT, true, false, 1, 65535,
	  "The version both speak from now on on this connection." },
	{ "host", CONTROL_NAME, true, false, 1, CONTROL_NAME_MAX, "The daemon's host name." },
	{ "qemu", CONTROL_STRING, false, false, 0, 256, "Its QEMU's `--version` line." },
	{ "features", CONTROL_NAME_LIST, true, false, 0, CONTROL_MAX_FEATURES,
	  "The features both sides know; only these are in effect." },
	END,
};

#define VM_SUMMARY                                                                                 \
	{ "name", CONTROL_NAME, true, false, 1, CONTROL_NAME_MAX, "The VM." },                    \
	{ "state", CONTROL_STRING, true, false, 1, 32,                                             \
	  "`starting`, `running`, `paused`, `incoming`, `migrating`, `postmigrate`, `shutoff`" }, \
	{ "run_dir", CONTROL_PATH, false, false, 2, 4095, "Its sockets and pid file." },            \
	{ "pid", CONTROL_INT, true, true, 0, INT32_MAX, "QEMU's pid; 0 or null when it does not run." }, \
	{ "vf", CONTROL_NAME, true, true, 1, CONTROL_NAME_MAX,                                    \
	  "The passthrough device it holds, or null." },                                          \
	{ "vf_plugged", CONTROL_BOOL, true, false, 0, 0, "Whether that device is in the VM now." }, \
	{ "host", CONTROL_NAME, true, false, 1, CONTROL_NAME_MAX, "This host's name." },           \
	{ "cpumap", CONTROL_ARRAY, false, false, 0, 4096,                                          \
	  "`[[VCPU, PCPU], ...]`: the CPUs its vCPU threads are pinned to here; only for a pinned VM." }

static const control_field list_returns[] = {
	{ "vms", CONTROL_ARRAY, true, false, 0, MAX_VMS, "VM summaries (the members of `status` before `spec`)." },
	END,
};
static const control_field status_returns[] = {
	VM_SUMMARY,
	{ "spec", CONTROL_OBJECT, false, false, 0, 0, "The normalised VM spec (examples/specs/README.md)." },
	{ "vf_pool", CONTROL_OBJECT, false, false, 0, 0, "Who holds which passthrough device." },
	{ "vf_pool_problems", CONTROL_OBJECT, false, false, 0, 0,
	  "The devices left out of the pool and why: `{\"0000:07:10.3\": \"why\"}`." },
	{ "guest", CONTROL_OBJECT, false, false, 0, 0,
	  "The agent, asked for at most 2 s: `agent` (`answering`, `not answering`, `not connected`) "
	  "and the bond's `bond`, `active`, `active-role`." },
	END,
};
static const control_field summary_returns[] = { VM_SUMMARY, END };

static const control_field start_args[] = {
	{ "spec", CONTROL_PATH, true, false, 2, 4095, "The VM spec file on this host." },
	{ "adopt", CONTROL_PATH, false, false, 2, 4095,
	  "Do not start QEMU: take over the one already running from this run directory (its `qmp.sock`)." },
	END,
};
static const control_field stop_args[] = {
	ARG_VM,
	{ "force", CONTROL_BOOL, false, false, 0, 0, "Kill QEMU instead of a clean `quit`; default false." },
	END,
};
static const control_field migrate_args[] = {
	ARG_VM,
	{ "to", CONTROL_NAME, true, false, 1, CONTROL_NAME_MAX, "A peer name from the daemon's config." },
	{ "settings", CONTROL_OBJECT, false, false, 0, 0,
	  "Overrides of the config's migration settings: `downtime_limit_ms`, "
	  "`max_bandwidth_mibps`, `multifd_channels`, `auto_converge`, `xbzrle`, "
	  "`migrate_timeout_ms` (examples/README-dmigrated.md)." },
	{ "fault", CONTROL_OBJECT, false, false, 0, 0,
	  "Drills only, refused unless the daemon's `fault_injection` is on: "
	  "`{\"name\": \"kill-dest-qemu\", \"phase\": \"migrate\", \"duration_ms\": N}` "
	  "(examples/drills/README.md)." },
	END,
};
static const control_field migrate_returns[] = {
	{ "vm", CONTROL_NAME, true, false, 1, CONTROL_NAME_MAX, "The VM." },
	{ "from", CONTROL_NAME, true, false, 1, CONTROL_NAME_MAX, "The source host." },
	{ "to", CONTROL_NAME, true, false, 1, CONTROL_NAME_MAX, "The destination host." },
	{ "outcome", CONTROL_STRING, true, false, 1, 32,
	  "`migrated`, `degraded`, `rolled-back`, `lost` or `failed`; in hook mode also `detached` "
	  "and `attached`." },
	{ "runs_on", CONTROL_STRING, true, false, 1, CONTROL_NAME_MAX,
	  "The host the VM runs on; `nowhere` when lost, `unknown` when failed." },
	{ "message", CONTROL_STRING, false, false, 0, CONTROL_MAX_ERROR_MESSAGE,
	  "Why it rolled back or degraded; absent on success." },
	{ "phases", CONTROL_ARRAY, true, false, 0, 32, "Per phase: `phase`, `start_ms`, `duration_ms`, `state`, "
	  "and `device_wait_ms` (with `request_held_ms`, its part from the plug's end until the request "
	  "for the VF went out, counted only when the agent then found no VF) for `active`." },
	{ "fault", CONTROL_OBJECT, false, false, 0, 0, "The request's fault: `name`, `phase`, `injected`, `message`." },
	{ "qemu", CONTROL_OBJECT, true, false, 0, 0, "`downtime_ms`, `total_ms`, `setup_ms`, `transferred`." },
	{ "total_ms", CONTROL_INT, true, false, 0, INT64_MAX, "The whole job." },
	END,
};

static const control_field cancel_returns[] = {
	{ "vm", CONTROL_NAME, true, false, 1, CONTROL_NAME_MAX, "The VM." },
	{ "state", CONTROL_STRING, true, false, 1, 32, "`cancelling`." },
	END,
};

static const control_field doctor_args[] = {
	{ "peer", CONTROL_NAME, false, false, 1, CONTROL_NAME_MAX,
	  "Ask this peer's daemon (over the peer link, `peer-doctor`) instead of running this host's checks." },
	END,
};
static const control_field doctor_returns[] = {
	{ "host", CONTROL_NAME, true, false, 1, CONTROL_NAME_MAX, "Whose checks these are." },
	{ "migration_possible", CONTROL_BOOL, true, false, 0, 0, "No blocking check failed." },
	{ "qemu_machine", CONTROL_STRING, false, false, 0, 128, "QEMU's q35 machine type, when known." },
	{ "pf_model", CONTROL_STRING, false, false, 0, 128, "The pool's PF vendor:device, when known." },
	{ "checks", CONTROL_ARRAY, true, false, 0, 256,
	  "`[{\"id\", \"title\", \"tag\", \"verdict\": \"ok\"|\"warn\"|\"fail\"|\"n/a\", \"blocking\", "
	  "\"value\", \"fix\"}]` (`tag`, `fix` when known); from a peer, every control character in "
	  "its text is shown as `?`." },
	END,
};
static const char *const doctor_errors[] = { CONTROL_ERR_NOT_FOUND, CONTROL_ERR_FAILED, NULL };

/* What the destination answers about one of its own phases (docs/design.md). */
#define DEST_PHASE                                                                                 \
	{ "phase", CONTROL_NAME, true, false, 1, CONTROL_NAME_MAX, "The destination's phase." },   \
	{ "state", CONTROL_STRING, true, false, 1, 32, "`done` or `skipped`." },                   \
	{ "message", CONTROL_STRING, false, false, 0, CONTROL_MAX_ERROR_MESSAGE, "Why it was skipped." }

static const control_field dest_phase_returns[] = { DEST_PHASE, END };

static const control_field check_args[] = {
	ARG_VM,
	{ "spec", CONTROL_OBJECT, true, false, 0, 0, "The VM's spec, as the source runs it." },
	{ "fault", CONTROL_OBJECT, false, false, 0, 0,
	  "A drill's `no-free-vf`: answer as if no device were free (needs `fault-injection`)." },
	END,
};
static const control_field check_returns[] = {
	{ "free_vfs", CONTROL_INT, true, false, 1, MAX_VFS,
	  "Passthrough devices free on the destination (none free is an error, not 0)." },
	{ "memory_available_mib", CONTROL_INT, false, false, 0, INT32_MAX,
	  "The destination's MemAvailable (/proc/meminfo), for `evacuate`'s placement." },
	{ "dedicated_cpus_free", CONTROL_INT, false, false, 0, 1024,
	  "Dedicated CPUs no VM holds on the destination, for `evacuate`'s placement." },
	END,
};
static const control_field prepare_args[] = {
	ARG_VM,
	{ "spec", CONTROL_OBJECT, true, false, 0, 0, "The VM's spec." },
	{ "settings", CONTROL_OBJECT, true, false, 0, 0,
	  "The migration settings (multifd must match; a `migrate_timeout_ms` not shorter than the "
	  "destination's `incoming_timeout_ms` is refused)." },
	{ "from", CONTROL_NAME, true, false, 1, CONTROL_NAME_MAX, "The source host, for the journal." },
	{ "did", CONTROL_BOOL, true, false, 0, 0,
	  "Turn DID on after the VF, in the destination's did-on phase (the source had it on)." },
	{ "fault", CONTROL_OBJECT, false, false, 0, 0,
	  "A drill's fault at one of the destination's own phases from the switchover on, fired when "
	  "it enters it, also after a restart (needs `fault-injection`)." },
	END,
};
static const control_field prepare_returns[] = {
	DEST_PHASE,
	{ "port", CONTROL_INT, true, false, 1, 65535,
	  "The TCP port the incoming QEMU listens on, at the destination's `migration_address`. "
	  "The source connects to the address its own config gives for the peer, never to one the "
	  "peer names." },
	END,
};
static const control_field activate_returns[] = {
	DEST_PHASE,
	{ "device_wait_ms", CONTROL_INT, true, false, 0, MAX_DEVICE_WAIT_MS,
	  "Of the phase, how long went to waiting for the new VF (probe, carrier, bond)." },
	{ "request_held_ms", CONTROL_INT, false, false, 0, MAX_DEVICE_WAIT_MS,
	  "Of `device_wait_ms`, how long after the plug the agent's request waited for the agent "
	  "link's handshake, counted only when the VF had still not appeared as it got the request." },
	END,
};
static const control_field evacuate_args[] = {
	{ "host", CONTROL_NAME, true, false, 1, CONTROL_NAME_MAX,
	  "The host to empty: the daemon's own (it coordinates the migrations of its VMs)." },
	{ "to", CONTROL_NAME_LIST, false, false, 1, 64,
	  "The peers that may take the VMs; default every peer in the daemon's config." },
	{ "parallel", CONTROL_INT, false, false, 1, EVACUATE_PARALLEL_MAX,
	  "Migrations at a time; default 2." },
	{ "dry_run", CONTROL_BOOL, false, false, 0, 0, "Only place the VMs: the plan, nothing moved." },
	END,
};
static const control_field evacuate_returns[] = {
	{ "host", CONTROL_NAME, true, false, 1, CONTROL_NAME_MAX, "The host emptied." },
	{ "dry_run", CONTROL_BOOL, true, false, 0, 0, "Whether this is the plan only." },
	{ "vms", CONTROL_ARRAY, true, false, 0, MAX_VMS,
	  "Per VM: `vm`, `to` (null when no peer can take it), `state` (`planned`, `unplaced`, "
	  "`migrated`, `degraded`, `rolled-back`, `lost`, `failed`), `message` (why), and "
	  "`result`, the migration's as `migrate` returns it." },
	END,
};
static const control_field detach_args[] = {
	ARG_VM,
	{ "undo", CONTROL_BOOL, false, false, 0, 0,
	  "Undo a detach instead: plug the VF kept for the VM back where it runs; default false." },
	END,
};
static const control_field attach_args[] = {
	ARG_VM,
	{ "from", CONTROL_NAME, false, false, 1, CONTROL_NAME_MAX,
	  "The peer the engine's migration came from, whose kept VF is freed; default: every peer "
	  "is asked in turn." },
	END,
};
static const control_field hook_release_returns[] = {
	{ "released", CONTROL_BOOL, true, false, 0, 0,
	  "Whether a VF was kept here for the VM (detached here) and is free now; false when "
	  "nothing was kept, or an earlier call freed it." },
	END,
};
static const control_field fault_args[] = {
	ARG_VM,
	{ "fault", CONTROL_OBJECT, true, false, 0, 0, "The fault: `name`, `phase`, `duration_ms`." },
	END,
};

const control_command control_commands[_CONTROL_CMD_MAX] = {
	[CONTROL_CMD_HELLO] = { CONTROL_CMD_HELLO, "hello", CONTROL_SIDE_BOTH, 1, NULL, hello_args,
		hello_returns,
		"The first request on every connection: any other before it is refused with "
		"`protocol-error`, a second one too. Settles the version (the highest both speak) and "
		"the features in effect (those both list).",
		hello_errors },
	[CONTROL_CMD_LIST] = { CONTROL_CMD_LIST, "list", CONTROL_SIDE_CLI, 1, NULL, no_fields,
		list_returns, "The VMs this daemon knows.", no_errors },
	[CONTROL_CMD_STATUS] = { CONTROL_CMD_STATUS, "status", CONTROL_SIDE_CLI, 1, NULL, vm_args,
		status_returns, "One VM in detail.", vm_errors },
	[CONTROL_CMD_START] = { CONTROL_CMD_START, "start", CONTROL_SIDE_CLI, 1, NULL, start_args,
		summary_returns, "Start a VM from a spec file on this host.", start_errors },
	[CONTROL_CMD_STOP] = { CONTROL_CMD_STOP, "stop", CONTROL_SIDE_CLI, 1, NULL, stop_args,
		no_fields, "Stop a VM and forget it.", vm_errors },
	[CONTROL_CMD_MIGRATE] = { CONTROL_CMD_MIGRATE, "migrate", CONTROL_SIDE_CLI, 1, NULL,
		migrate_args, migrate_returns,
		"Migrate a VM to a peer. Sends `phase` and `progress` events while it runs (below).",
		migrate_errors },
	[CONTROL_CMD_CANCEL] = { CONTROL_CMD_CANCEL, "cancel", CONTROL_SIDE_CLI, 2, NULL, vm_args,
		cancel_returns,
		"Before the switchover: stop the VM's migration (QMP `migrate_cancel` during the copy) "
		"and undo it; its `migrate` request gets the result `rolled-back`. After the switchover "
		"it is refused with `failed`, saying why (the source may never run again).",
		cancel_errors },
	[CONTROL_CMD_DOCTOR] = { CONTROL_CMD_DOCTOR, "doctor", CONTROL_SIDE_CLI, 2, NULL, doctor_args,
		doctor_returns,
		"This host's checks (`dmigrate doctor`), run by the daemon with its configuration; with "
		"`peer`, those of that peer's daemon, asked over the peer link.",
		doctor_errors },
	[CONTROL_CMD_PEER_CHECK] = { CONTROL_CMD_PEER_CHECK, "peer-check", CONTROL_SIDE_PEER, 2, NULL,
		check_args, check_returns,
		"Check that the destination does not run `vm` already, has a free passthrough device "
		"and can run the spec.",
		vm_errors },
	[CONTROL_CMD_PEER_PREPARE] = { CONTROL_CMD_PEER_PREPARE, "peer-prepare", CONTROL_SIDE_PEER, 2,
		NULL, prepare_args, prepare_returns,
		"Reserve a passthrough device, start QEMU from the spec without it with "
		"`-incoming defer`, and `migrate-incoming` on `tcp:MIGRATION_ADDRESS:0`; journals "
		"`prepare`, then `incoming`. Sends a `reserved` event (no data) once the device and "
		"the dedicated CPUs are held, before QEMU starts: the source then runs its own phases "
		"(standby, did-off, unplug) while QEMU starts, and waits for the answer before the copy. "
		"Refusals that need no QEMU (no free device or CPUs, a VM of that name) come before it.",
		prepare_errors },
	[CONTROL_CMD_PEER_ABORT] = { CONTROL_CMD_PEER_ABORT, "peer-abort", CONTROL_SIDE_PEER, 2, NULL,
		vm_args, no_fields,
		"Before the switchover only: kill the incoming QEMU, free its device, forget the VM. "
		"Idempotent: a VM already gone is success.",
		vm_errors },
	[CONTROL_CMD_PEER_SWITCHOVER] = { CONTROL_CMD_PEER_SWITCHOVER, "peer-switchover",
		CONTROL_SIDE_PEER, 2, NULL, vm_args, dest_phase_returns,
		"The destination's switchover (usually under way already: it starts when its QEMU's "
		"`MIGRATION` event says the copy completed): `cont` of the incoming QEMU, started with "
		"`-S`, journalled first; `announce-self`; then the destination goes on alone: plug, "
		"active, did-on. `not-running` means the VM never ran there and its incoming QEMU is "
		"stopped for good, so the source may resume; `vm-lost`, that it ran there and died.",
		switchover_errors },
	[CONTROL_CMD_PEER_PLUG] = { CONTROL_CMD_PEER_PLUG, "peer-plug", CONTROL_SIDE_PEER, 2, NULL,
		vm_args, dest_phase_returns,
		"Wait for the destination's plug phase: `device_add` of the reserved device.",
		dest_phase_errors },
	[CONTROL_CMD_PEER_ACTIVATE] = { CONTROL_CMD_PEER_ACTIVATE, "peer-activate", CONTROL_SIDE_PEER,
		2, NULL, vm_args, activate_returns,
		"Wait for the destination's active phase: through the guest agent, enslave the new VF, "
		"wait for its carrier, make it active, announce.",
		dest_phase_errors },
	[CONTROL_CMD_PEER_DID_ON] = { CONTROL_CMD_PEER_DID_ON, "peer-did-on", CONTROL_SIDE_PEER, 2,
		NULL, vm_args, dest_phase_returns,
		"Wait for the destination's did-on phase: through the guest agent, turn DID on "
		"(`skipped` when the guest has none or the source had it off).",
		dest_phase_errors },
	[CONTROL_CMD_PEER_COMMIT] = { CONTROL_CMD_PEER_COMMIT, "peer-commit", CONTROL_SIDE_PEER, 2,
		NULL, vm_args, dest_phase_returns,
		"The source let its copy go: the VM is the destination's, its journal is closed "
		"(without it, after did-on the destination commits alone within 60 s).",
		dest_phase_errors },
	[CONTROL_CMD_PEER_FAULT] = { CONTROL_CMD_PEER_FAULT, "peer-fault", CONTROL_SIDE_PEER, 2,
		CONTROL_FEATURE_FAULT_INJECTION, fault_args, no_fields,
		"A drill's fault that lives on the destination: kill the VM's QEMU, make its agent "
		"crash or stall, or hold the VF's link down for `duration_ms`.",
		fault_errors },
	[CONTROL_CMD_PEER_DOCTOR] = { CONTROL_CMD_PEER_DOCTOR, "peer-doctor", CONTROL_SIDE_PEER, 2,
		NULL, no_fields, doctor_returns,
		"The destination's own checks, for `dmigrate doctor --peer` on the other host (never "
		"asked on to a third host).",
		no_errors },
	[CONTROL_CMD_EVACUATE] = { CONTROL_CMD_EVACUATE, "evacuate", CONTROL_SIDE_CLI, 2, NULL,
		evacuate_args, evacuate_returns,
		"Move every VM of this host away: each placed on a peer whose `peer-check` reports a "
		"free passthrough device, the memory and the dedicated CPUs it needs, at most "
		"`parallel` migrations at a time. Journalled (STATE_DIR/evacuation.json): a restarted "
		"daemon finishes it. A VM no peer can take stays running here and is reported with "
		"why. Sends `vm` events (`vm`, `to`, `state`, `phase`, and during the copy `progress`: `transferred`, `remaining`, `total` bytes) while it runs.",
		evacuate_errors },
	[CONTROL_CMD_DETACH] = { CONTROL_CMD_DETACH, "detach", CONTROL_SIDE_CLI, 2, NULL,
		detach_args, migrate_returns,
		"Hook mode (docs/hooks.md), before an engine migrates the VM by itself: the source's "
		"phases preflight (this host's checks only), standby, did-off and unplug, journalled; "
		"the result's outcome is `detached` and the VF stays reserved for the VM until it is "
		"attached elsewhere or the detach is undone. With `undo`: the VF plugged back where "
		"the VM runs, outcome `rolled-back`. Idempotent: run again, it answers the same. Sends "
		"`phase` events as `migrate` does.",
		migrate_errors },
	[CONTROL_CMD_ATTACH] = { CONTROL_CMD_ATTACH, "attach", CONTROL_SIDE_CLI, 2, NULL,
		attach_args, migrate_returns,
		"Hook mode, after the engine's migration, on the host where it left the VM: the "
		"destination's phases plug (a VF reserved and plugged), active and did-on, journalled, "
		"then commit: the source's kept VF freed (`peer-hook-release`); outcome `attached`, or "
		"`degraded` when a phase failed (the VM runs on virtio). On the host that detached the "
		"VM while it still runs there (the engine's migration failed): as `detach` with `undo`. "
		"Idempotent.",
		migrate_errors },
	[CONTROL_CMD_PEER_HOOK_RELEASE] = { CONTROL_CMD_PEER_HOOK_RELEASE, "peer-hook-release",
		CONTROL_SIDE_PEER, 2, NULL, vm_args, hook_release_returns,
		"The VM was attached on the asking peer: free the VF kept for it here since its detach, "
		"and close its journal. Refused while the VM still runs here.",
		vm_errors },
};

const control_error control_errors[] = {
	{ CONTROL_ERR_INVALID, 2, "A bad argument: unknown, of the wrong type, out of range, or "
				  "missing. Nothing was changed; the message names it." },
	{ CONTROL_ERR_NOT_FOUND, 2, "No such VM (or peer)." },
	{ CONTROL_ERR_BUSY, 1, "Too many requests in flight on the connection, or the VM is busy "
			       "(being migrated already)." },
	{ CONTROL_ERR_FAILED, 1, "The command ran and failed; the message says why." },
	{ CONTROL_ERR_UNKNOWN_COMMAND, 1, "No such command on this socket, or not in the version "
					  "or features this connection settled on." },
	{ CONTROL_ERR_PROTOCOL, 1, "Not a well-formed request, or a request before `hello`." },
	{ CONTROL_ERR_INCOMPATIBLE, 1, "`hello`: no version both sides speak." },
	{ CONTROL_ERR_NOT_RUNNING, 1, "Peer only: the incoming QEMU is stopped for good, so the "
				      "source may resume its VM." },
	{ CONTROL_ERR_VM_LOST, 4, "Peer only: the destination's QEMU died after the switchover, "
				  "with the only running copy of the VM." },
};
const size_t control_n_errors = sizeof(control_errors) / sizeof(control_errors[0]);

const control_feature control_features[] = {
	{ CONTROL_FEATURE_FAULT_INJECTION,
	  "The daemon obeys drill faults (`fault_injection` in its config): `peer-fault`, and "
	  "`fault` in `peer-check`. A daemon lists it in `hello` only when its config allows it." },
};
const size_t control_n_features = sizeof(control_features) / sizeof(control_features[0]);

const control_command *control_command_find(const char *name)
{
	for (size_t i = 0; i < (size_t)_CONTROL_CMD_MAX; i++)
		if (!strcmp(control_commands[i].name, name))
			return &control_commands[i];
	return NULL;
}

bool control_command_served_on(const control_command *cmd, control_side side)
{
	return cmd->side == CONTROL_SIDE_BOTH || cmd->side == side;
}

const control_error *control_error_find(const char *code)
{
	for (size_t i = 0; i < control_n_errors; i++)
		if (!strcmp(control_errors[i].code, code))
			return &control_errors[i];
	return NULL;
}

bool control_name_valid(const char *s, size_t len)
{
	if (len == 0 || len > CONTROL_NAME_MAX || strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || !strchr("._:-", c)))
			return false;
	}
	return true;
}

/* Text that reaches logs and terminals: no NUL (it would shorten it) and no control characters
 * (escape sequences); json-c has checked the UTF-8 already. */
static bool text_clean(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

int control_field_check(const control_field *f, json_object *v, const char *what, char *errbuf,
			size_t errlen)
{
	size_t len;
	int64_t n;

	if (f->nullable && json_object_is_type(v, json_type_null))
		return 0;
	switch (f->type) {
	case CONTROL_STRING:
	case CONTROL_PATH:
		if (!json_object_is_type(v, json_type_string))
			return errbuf_set(errbuf, errlen, -EINVAL, "%s must be a string", what);
		len = (size_t)json_object_get_string_len(v);
		if ((int64_t)len < f->min || (int64_t)len > f->max)
			return errbuf_set(errbuf, errlen, -EINVAL, "%s must be %" PRId64 " to %" PRId64 " bytes long",
				    what, f->min, f->max);
		if (!text_clean(json_object_get_string(v), len))
			return errbuf_set(errbuf, errlen, -EINVAL, "%s contains a NUL or control character", what);
		if (f->type == CONTROL_PATH && json_object_get_string(v)[0] != '/')
			return errbuf_set(errbuf, errlen, -EINVAL, "%s must be an absolute path", what);
		return 0;
	case CONTROL_NAME:
		if (!json_object_is_type(v, json_type_string) ||
		    !control_name_valid(json_object_get_string(v), (size_t)json_object_get_string_len(v)))
			return errbuf_set(errbuf, errlen, -EINVAL,
				    "%s must be a name of 1 to %d characters from A-Z a-z 0-9 . _ : -, "
				    "starting with a letter or digit",
				    what, CONTROL_NAME_MAX);
		return 0;
	case CONTROL_INT:
		if (!json_object_is_type(v, json_type_int))
			return errbuf_set(errbuf, errlen, -EINVAL, "%s must be an integer", what);
		errno = 0;
		n = json_object_get_int64(v);
		/* json-c clamps values beyond int64 and flags them through errno. */
		if (errno != 0 || n < f->min || n > f->max)
			return errbuf_set(errbuf, errlen, -EINVAL, "%s must be within %" PRId64 "..%" PRId64, what,
				    f->min, f->max);
		return 0;
	case CONTROL_BOOL:
		if (!json_object_is_type(v, json_type_boolean))
			return errbuf_set(errbuf, errlen, -EINVAL, "%s must be true or false", what);
		return 0;
	case CONTROL_OBJECT:
		if (!json_object_is_type(v, json_type_object))
			return errbuf_set(errbuf, errlen, -EINVAL, "%s must be a JSON object", what);
		return 0;
	case CONTROL_ARRAY:
		if (!json_object_is_type(v, json_type_array) || (int64_t)json_object_array_length(v) > f->max)
			return errbuf_set(errbuf, errlen, -EINVAL, "%s must be an array of at most %" PRId64 " entries",
				    what, f->max);
		return 0;
	case CONTROL_NAME_LIST:
		if (!json_object_is_type(v, json_type_array) || (int64_t)json_object_array_length(v) > f->max)
			return errbuf_set(errbuf, errlen, -EINVAL, "%s must be an array of at most %" PRId64 " names",
				    what, f->max);
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			json_object *e = json_object_array_get_idx(v, i);

			if (!json_object_is_type(e, json_type_string) ||
			    !control_name_valid(json_object_get_string(e), (size_t)json_object_get_string_len(e)))
				return errbuf_set(errbuf, errlen, -EINVAL, "%s: entry %zu is not a name", what, i);
			for (size_t j = 0; j < i; j++)
				if (!strcmp(json_object_get_string(e),
					    json_object_get_string(json_object_array_get_idx(v, j))))
					return errbuf_set(errbuf, errlen, -EINVAL, "%s repeats '%s'", what,
						    json_object_get_string(e));
		}
		return 0;
	}
	return errbuf_set(errbuf, errlen, -EINVAL, "%s has no type", what);
}

static const control_field *field_find(const control_field *fields, const char *name)
{
	for (const control_field *f = fields; f->name; f++)
		if (!strcmp(f->name, name))
			return f;
	return NULL;
}

int control_args_validate(const control_command *cmd, json_object *args, char *errbuf, size_t errlen)
{
	char what[96];
	int r;

	if (args && json_object_is_type(args, json_type_null))
		args = NULL;
	if (args && !json_object_is_type(args, json_type_object))
		return errbuf_set(errbuf, errlen, -EINVAL, "'args' of '%s' must be a JSON object", cmd->name);
	if (args) {
		json_object_object_foreach(args, key, val) {
			const control_field *f = field_find(cmd->args, key);

			if (!f)
				return errbuf_set(errbuf, errlen, -EINVAL, "'%s' takes no argument '%.64s'", cmd->name, key);
			snprintf(what, sizeof(what), "argument '%s' of '%s'", f->name, cmd->name);
			r = control_field_check(f, val, what, errbuf, errlen);
			if (r < 0)
				return r;
		}
	}
	for (const control_field *f = cmd->args; f->name; f++)
		if (f->required && !(args && json_object_object_get_ex(args, f->name, NULL)))
			return errbuf_set(errbuf, errlen, -EINVAL, "'%s' needs argument '%s'", cmd->name, f->name);
	return 0;
}

int control_reply_validate(const control_command *cmd, json_object *ret, char *errbuf, size_t errlen)
{
	char what[64];
	json_object *v;
	int r;

	if (!json_object_is_type(ret, json_type_object))
		return errbuf_set(errbuf, errlen, -EBADMSG, "not a JSON object");
	for (const control_field *f = cmd->returns; f->name; f++) {
		if (!json_object_object_get_ex(ret, f->name, &v)) {
			if (f->required)
				return errbuf_set(errbuf, errlen, -EBADMSG, "no member '%s'", f->name);
			continue;
		}
		snprintf(what, sizeof(what), "'%s'", f->name);
		r = control_field_check(f, v, what, errbuf, errlen);
		if (r < 0)
			return -EBADMSG;
	}
	return 0;
}

int control_value_text_clean(json_object *v, char *errbuf, size_t errlen)
{
	char *copy;
	size_t len;
	int r;

	switch (json_object_get_type(v)) {
	case json_type_string:
		len = (size_t)json_object_get_string_len(v);
		if (text_clean(json_object_get_string(v), len))
			return 0;
		copy = malloc(len + 1);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, json_object_get_string(v), len + 1);
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)copy[i] < 0x20 || copy[i] == 0x7f)
				copy[i] = '?';
		r = json_object_set_string_len(v, copy, (int)len) ? 0 : -ENOMEM;
		free(copy);
		return r;
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			r = control_value_text_clean(json_object_array_get_idx(v, i), errbuf, errlen);
			if (r < 0)
				return r;
		}
		return 0;
	case json_type_object: {
		json_object_object_foreach(v, key, val) {
			if (!text_clean(key, strlen(key)))
				return errbuf_set(errbuf, errlen, -EBADMSG, "a member name holds a control character");
			r = control_value_text_clean(val, errbuf, errlen);
			if (r < 0)
				return r;
		}
		return 0;
	}
	default:
		return 0;
	}
}

int control_version_negotiate(control_side side, int64_t min, int64_t max)
{
	int64_t lo = side == CONTROL_SIDE_PEER ? CONTROL_PROTOCOL_VERSION_MIN_PEER : CONTROL_PROTOCOL_VERSION_MIN;
	int64_t v = max < CONTROL_PROTOCOL_VERSION ? max : CONTROL_PROTOCOL_VERSION;

	if (v < lo || v < min)
		return -1;
	return (int)v;
}
