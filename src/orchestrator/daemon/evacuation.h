/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `dmigrate evacuate`: every VM of this host moved to its peers. The daemon of the host being
 * emptied coordinates: it asks each candidate peer's peer-check about each VM (a free
 * passthrough device, the spec runnable there, its memory available and dedicated CPUs free),
 * places each VM (largest first) on the peer with the most devices left after what it already
 * planned there, and runs at most `parallel` migrations at a time as ordinary source jobs. A VM
 * no peer can take is reported with each peer's reason and left running.
 *
 * The plan and each VM's state are journalled in STATE_DIR/evacuation.json: a daemon that
 * restarts mid-way finishes it (a migration that its restart undid is tried once more).
 */
#pragma once

#include <json-c/json.h>

#include "daemon/daemon.h"

/* A source job ended (called by migration_source.c for every job); result borrowed, may be NULL. */
void evacuation_job_ended(host_daemon *d, const char *vm, json_object *result);
/*
 * The journal STATE_DIR/evacuation.json as read back: parallel within range, peers of c, every
 * VM a name with a known state, a peer (or null when unplaced), tries and texts in bounds.
 * -EBADMSG with why otherwise.
 */
int evacuation_journal_check(json_object *o, const host_config *c, char *why, size_t size);
/* At start, after migration_source_recover(): take up the evacuation a previous daemon left. */
int evacuation_recover(host_daemon *d);
