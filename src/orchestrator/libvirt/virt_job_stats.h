/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A libvirt migration job's statistics (virDomainGetJobStats) in the shape the migration phases
 * read a copy's progress and figures in (vm_backend.h's migrate_query: QMP's query-migrate), so
 * that `dmigrate` shows the same progress and result for a libvirt domain as for a QEMU it
 * started.
 */
#pragma once

#include <json-c/json.h>
#include <libvirt/libvirt.h>

/*
 * type: the job's virDomainJobType; params as libvirt gave them (missing figures are left out).
 * "status": "active" (unbounded or bounded job), "completed", "failed" (with "error-desc" from
 * the job's errmsg), "cancelled", or "none". NULL when out of memory.
 */
json_object *virt_job_stats_to_json(int type, const virTypedParameter *params, int n);
