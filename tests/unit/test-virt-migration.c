// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What a libvirt domain's migration gives libvirt (libvirt/virt_migrate_params.h: flags and
 * parameters, the destination libvirtd's URI, the stream's) and how its
 * job statistics read as the copy's progress and result (libvirt/virt_job_stats.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libvirt/virt_job_stats.h"
#include "libvirt/virt_migrate_params.h"
#include "test.h"

TEST(params)
{
	migration_settings s = { .downtime_limit_ms = 300, .max_bandwidth_mibps = 0,
				 .multifd_channels = 0, .migrate_timeout_ms = 60000 };
	virt_migrate_args a = { .settings = &s, .dest_xml = "<domain/>", .persist_xml = "<domain/>",
				.stream_uri = "tcp://198.18.0.2" };
	virTypedParameterPtr p;
	const char *str;
	unsigned long long ull;
	unsigned int flags;
	int n, i;

	/* Persistent: defined there, undefined here; paused there until its switchover. */
	ASSERT_OK(virt_migrate_params(&a, &p, &n, &flags));
	ASSERT_EQ(flags, VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_PAUSED |
				 VIR_MIGRATE_PERSIST_DEST | VIR_MIGRATE_UNDEFINE_SOURCE);
	ASSERT_EQ(virTypedParamsGetString(p, n, VIR_MIGRATE_PARAM_URI, &str), 1);
	ASSERT_STREQ(str, "tcp://198.18.0.2");
	ASSERT_EQ(virTypedParamsGetString(p, n, VIR_MIGRATE_PARAM_PERSIST_XML, &str), 1);
	/* No bandwidth limit asked: none given (libvirt's 0 would mean the same). */
	ASSERT_EQ(virTypedParamsGetULLong(p, n, VIR_MIGRATE_PARAM_BANDWIDTH, &ull), 0);
	virTypedParamsFree(p, n);

	/* Transient, with every setting. */
	a.persist_xml = NULL;
	s.max_bandwidth_mibps = 500;
	s.multifd_channels = 4;
	s.auto_converge = s.xbzrle = true;
	ASSERT_OK(virt_migrate_params(&a, &p, &n, &flags));
	ASSERT_EQ(flags, VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_PAUSED |
				 VIR_MIGRATE_AUTO_CONVERGE | VIR_MIGRATE_COMPRESSED |
				 VIR_MIGRATE_PARALLEL);
	ASSERT_EQ(virTypedParamsGetString(p, n, VIR_MIGRATE_PARAM_PERSIST_XML, &str), 0);
	ASSERT_EQ(virTypedParamsGetULLong(p, n, VIR_MIGRATE_PARAM_BANDWIDTH, &ull), 1);
	ASSERT_EQ(ull, 500);
	ASSERT_EQ(virTypedParamsGetInt(p, n, VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS, &i), 1);
	ASSERT_EQ(i, 4);
	virTypedParamsFree(p, n);

	a.dest_xml = NULL;
	ASSERT_ERRNO(virt_migrate_params(&a, &p, &n, &flags), EINVAL);
}

TEST(uris)
{
	host_config c = { .ssh_user = (char *)"root",
			  .ssh_identity_file = (char *)"/etc/dmigrate/id_ed25519",
			  .ssh_known_hosts_file = (char *)"/etc/dmigrate/known_hosts" };
	peer_config p = { .name = (char *)"hostB", .address = (char *)"192.0.2.11" };
	char *u;

	ASSERT_OK(virt_peer_uri(&c, &p, &u));
	ASSERT_STREQ(u, "qemu+libssh://root@192.0.2.11:22/system?keyfile=/etc/dmigrate/id_ed25519&known_hosts=/etc/dmigrate/known_hosts&known_hosts_verify=normal&sshauth=privkey");
	free(u);
	ASSERT_OK(virt_stream_uri(&p, 0, &u));
	ASSERT_STREQ(u, "tcp://192.0.2.11");
	free(u);
	/* The port the destination's daemon chose for the incoming domain. */
	ASSERT_OK(virt_stream_uri(&p, 49152, &u));
	ASSERT_STREQ(u, "tcp://192.0.2.11:49152");
	free(u);
	ASSERT_ERRNO(virt_stream_uri(&p, 65536, &u), EINVAL);
	/* The stream goes to the migration address, IPv6 in brackets; sshd on its own port. */
	p.migration_address = (char *)"2001:db8::11";
	p.port = 2222;
	ASSERT_OK(virt_stream_uri(&p, 0, &u));
	ASSERT_STREQ(u, "tcp://[2001:db8::11]");
	free(u);
	ASSERT_OK(virt_peer_uri(&c, &p, &u));
	ASSERT_TRUE(strstr(u, "root@192.0.2.11:2222/system?"));
	free(u);
	/* A path a URI would have to escape (and could be tricked by) is refused. */
	c.ssh_identity_file = (char *)"/etc/dm&known_hosts=/tmp/x";
	ASSERT_ERRNO(virt_peer_uri(&c, &p, &u), EINVAL);
	c.ssh_identity_file = NULL;
	ASSERT_ERRNO(virt_peer_uri(&c, &p, &u), EINVAL);
}

static json_object *member(json_object *o, const char *path0, const char *path1)
{
	json_object *v = NULL;

	ASSERT_TRUE(json_object_object_get_ex(o, path0, &v));
	if (path1)
		ASSERT_TRUE(json_object_object_get_ex(v, path1, &v));
	return v;
}

TEST(job_stats)
{
	virTypedParameterPtr p = NULL;
	int n = 0, max = 0;
	json_object *o;

	ASSERT_EQ(virTypedParamsAddULLong(&p, &n, &max, VIR_DOMAIN_JOB_TIME_ELAPSED, 1200), 0);
	ASSERT_EQ(virTypedParamsAddULLong(&p, &n, &max, VIR_DOMAIN_JOB_DOWNTIME, 35), 0);
	ASSERT_EQ(virTypedParamsAddULLong(&p, &n, &max, VIR_DOMAIN_JOB_MEMORY_PROCESSED, 1 << 20), 0);
	ASSERT_EQ(virTypedParamsAddULLong(&p, &n, &max, VIR_DOMAIN_JOB_MEMORY_REMAINING, 3 << 20), 0);
	ASSERT_EQ(virTypedParamsAddULLong(&p, &n, &max, VIR_DOMAIN_JOB_MEMORY_TOTAL, 4 << 20), 0);
	ASSERT_EQ(virTypedParamsAddULLong(&p, &n, &max, VIR_DOMAIN_JOB_MEMORY_BPS, 125000000), 0);
	ASSERT_EQ(virTypedParamsAddULLong(&p, &n, &max, VIR_DOMAIN_JOB_MEMORY_ITERATION, 3), 0);

	/* Running: the downtime is an expectation, the rate in Mbit/s as QEMU says it. */
	o = virt_job_stats_to_json(VIR_DOMAIN_JOB_UNBOUNDED, p, n);
	ASSERT_STREQ(json_object_get_string(member(o, "status", NULL)), "active");
	ASSERT_EQ(json_object_get_int64(member(o, "expected-downtime", NULL)), 35);
	ASSERT_TRUE(!json_object_object_get_ex(o, "downtime", NULL));
	ASSERT_EQ(json_object_get_int64(member(o, "ram", "remaining")), 3 << 20);
	ASSERT_EQ(json_object_get_int64(member(o, "ram", "total")), 4 << 20);
	ASSERT_EQ((int)json_object_get_double(member(o, "ram", "mbps")), 1000);
	json_object_put(o);

	/* Completed: the figures the result shows. */
	o = virt_job_stats_to_json(VIR_DOMAIN_JOB_COMPLETED, p, n);
	ASSERT_STREQ(json_object_get_string(member(o, "status", NULL)), "completed");
	ASSERT_EQ(json_object_get_int64(member(o, "downtime", NULL)), 35);
	ASSERT_EQ(json_object_get_int64(member(o, "total-time", NULL)), 1200);
	ASSERT_EQ(json_object_get_int64(member(o, "ram", "transferred")), 1 << 20);
	ASSERT_EQ(json_object_get_int64(member(o, "ram", "dirty-sync-count")), 3);
	json_object_put(o);

	/* Failed: libvirt's message, on one line. */
	ASSERT_EQ(virTypedParamsAddString(&p, &n, &max, VIR_DOMAIN_JOB_ERRMSG,
					  "unable to connect\nto destination"), 0);
	o = virt_job_stats_to_json(VIR_DOMAIN_JOB_FAILED, p, n);
	ASSERT_STREQ(json_object_get_string(member(o, "status", NULL)), "failed");
	ASSERT_STREQ(json_object_get_string(member(o, "error-desc", NULL)),
		     "unable to connect to destination");
	json_object_put(o);
	virTypedParamsFree(p, n);

	o = virt_job_stats_to_json(VIR_DOMAIN_JOB_NONE, NULL, 0);
	ASSERT_STREQ(json_object_get_string(member(o, "status", NULL)), "none");
	json_object_put(o);
	o = virt_job_stats_to_json(VIR_DOMAIN_JOB_CANCELLED, NULL, 0);
	ASSERT_STREQ(json_object_get_string(member(o, "status", NULL)), "cancelled");
	json_object_put(o);
}

int main(void)
{
	RUN_TEST(params);
	RUN_TEST(uris);
	RUN_TEST(job_stats);
	return 0;
}
