// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vCPU pinning: cpumap files in Directvisor's format and inline in a spec, the CPUs a VM gets
 * on the host that starts it (exact, or refused naming the CPU) and on a destination (the same
 * if free, else the lowest free dedicated ones, or refused when too few), QMP's thread list, and
 * the affinities set on a fixture /proc with a recorder in place of sched_setaffinity().
 */
#include "host/cpu_pinning.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/cpu_list.h"
#include "host/vm_spec.h"
#include "host_fixture.h"
#include "test.h"

static cpumap parse_ok(const char *text)
{
	cpumap m;
	char *error = NULL;

	if (cpumap_parse_text(text, strlen(text), "map.txt", &m, &error) < 0)
		TEST_FAIL("'%s' refused: %s", text, error);
	return m;
}

static void parse_bad(const char *text, const char *detail)
{
	cpumap m;
	char *error = NULL;

	ASSERT_ERRNO(cpumap_parse_text(text, strlen(text), "map.txt", &m, &error), EINVAL);
	if (!error || strncmp(error, "map.txt: ", 9) || !strstr(error, detail))
		TEST_FAIL("'%s': expected \"map.txt: ...%s...\", got \"%s\"", text, detail, error);
	free(error);
}

TEST(cpumap_files)
{
	cpumap m;
	char buf[64];

	/* The seed's two examples. */
	m = parse_ok("0 1\n1 2\n");
	ASSERT_EQ(m.n, 2);
	ASSERT_EQ(m.pcpu[0], 1);
	ASSERT_EQ(m.pcpu[1], 2);
	m = parse_ok("0 3\n1 4\n\n");
	ASSERT_STREQ(cpumap_format(&m, buf, sizeof(buf)), "0->3 1->4");
	m = parse_ok("# vm2\r\n1\t5\r\n  0   4  \n");
	ASSERT_EQ(m.pcpu[0], 4);
	ASSERT_EQ(m.pcpu[1], 5);

	parse_bad("", "maps no vCPU");
	parse_bad("0 1\n0 2\n", "line 2: vCPU 0 is mapped twice");
	parse_bad("0 1\n1 1\n", "line 2: host CPU 1 is given to vCPU 0 and vCPU 1");
	parse_bad("1 2\n", "vCPU 0 is not mapped");
	parse_bad("0 1 2\n", "line 1: unexpected text");
	parse_bad("0,1\n", "line 1: expected \"VCPU PCPU\"");
	parse_bad("0\n", "line 1: expected");
	parse_bad("64 1\n", "vCPU 64 is out of range");
	parse_bad("0 99999\n", "host CPU 99999 is out of range");
	parse_bad("0 999999\n", "line 1: expected");
	parse_bad("-1 2\n", "line 1: expected");
}

TEST(cpumap_in_a_spec)
{
	static const char base[] =
		"{\"name\": \"vm1\", \"memory_mib\": 256, \"vcpus\": 2, \"mac\": \"52:54:00:12:34:56\","
		" \"passthrough\": {\"type\": \"emulated\"}, \"boot\": {\"kernel\": \"/k\"}, ";
	char dir[] = "/tmp/test-cpu-pinning.XXXXXX", path[128], text[512], map[128];
	json_object *j, *again;
	vm_spec *s = NULL;
	char *error = NULL;
	FILE *f;

	snprintf(text, sizeof(text), "%s\"cpumap\": [[1, 3], [0, 2]]}", base);
	ASSERT_OK(vm_spec_parse(text, strlen(text), "vm1.json", "/", &s, &error));
	ASSERT_EQ(s->cpumap->n, 2);
	ASSERT_EQ(s->cpumap->pcpu[0], 2);
	ASSERT_EQ(s->cpumap->pcpu[1], 3);
	ASSERT_OK(vm_spec_to_json(s, &j));
	ASSERT_TRUE(json_object_object_get_ex(j, "cpumap", &again));
	ASSERT_STREQ(json_object_to_json_string_ext(again, JSON_C_TO_STRING_PLAIN), "[[0,2],[1,3]]");
	json_object_put(j);
	vm_spec_free(s);

	snprintf(text, sizeof(text), "%s\"cpumap\": [[0, 2]]}", base);
	ASSERT_ERRNO(vm_spec_parse(text, strlen(text), "vm1.json", "/", &s, &error), EINVAL);
	ASSERT_TRUE(strstr(error, "field 'cpumap': maps 1 vCPUs but the VM has 2"));
	free(error);
	snprintf(text, sizeof(text), "%s\"cpumap\": [[0, 2], [1, 2]]}", base);
	ASSERT_ERRNO(vm_spec_parse(text, strlen(text), "vm1.json", "/", &s, &error), EINVAL);
	ASSERT_TRUE(strstr(error, "host CPU 2 is given to vCPU 0 and vCPU 1"));
	free(error);
	snprintf(text, sizeof(text), "%s\"cpumap\": [[0, \"2\"]]}", base);
	ASSERT_ERRNO(vm_spec_parse(text, strlen(text), "vm1.json", "/", &s, &error), EINVAL);
	ASSERT_TRUE(strstr(error, "expected vCPU pinning"));
	free(error);

	/* A file beside the spec, read by vm_spec_load(); sent to peers inline. */
	ASSERT_TRUE(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/map.txt", dir);
	f = fopen(path, "we");
	fputs("0 1\n1 2\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/vm1.json", dir);
	f = fopen(path, "we");
	fprintf(f, "%s\"cpumap\": \"map.txt\"}", base);
	fclose(f);
	ASSERT_OK(vm_spec_load(path, &s, &error));
	ASSERT_TRUE(s->cpumap != NULL);
	ASSERT_STREQ(cpumap_format(s->cpumap, map, sizeof(map)), "0->1 1->2");
	ASSERT_OK(vm_spec_to_json(s, &j));
	ASSERT_TRUE(json_object_object_get_ex(j, "cpumap", &again));
	ASSERT_TRUE(json_object_is_type(again, json_type_array));
	json_object_put(j);
	vm_spec_free(s);

	/* A file that maps three vCPUs of a VM with two. */
	snprintf(path, sizeof(path), "%s/map.txt", dir);
	f = fopen(path, "we");
	fputs("0 1\n1 2\n2 3\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/vm1.json", dir);
	ASSERT_ERRNO(vm_spec_load(path, &s, &error), EINVAL);
	ASSERT_TRUE(strstr(error, "maps 3 vCPUs but the VM has 2"));
	free(error);
	unlink(path);
	snprintf(path, sizeof(path), "%s/map.txt", dir);
	unlink(path);
	rmdir(dir);
}

TEST(plan_on_the_starting_host)
{
	cpu_set_t dedicated, taken;
	cpumap want = { .n = 2, .pcpu = { 2, 3 } }, got;
	char why[256];

	ASSERT_OK(cpu_list_parse("2-5", &dedicated, why, sizeof(why)));
	CPU_ZERO(&taken);
	ASSERT_OK(cpu_pinning_plan(&dedicated, &taken, &want, true, "hostA", &got, why, sizeof(why)));
	ASSERT_EQ(got.pcpu[0], 2);
	ASSERT_EQ(got.pcpu[1], 3);

	/* A CPU that is not dedicated: refused, naming it and the set. */
	want.pcpu[1] = 9;
	ASSERT_ERRNO(cpu_pinning_plan(&dedicated, &taken, &want, true, "hostA", &got, why,
				      sizeof(why)),
		     EINVAL);
	ASSERT_STREQ(why, "cpumap gives vCPU 1 host CPU 9, which is not a dedicated CPU of hostA "
			  "(dedicated_cpus: 2-5)");
	/* Two VMs asking for one CPU. */
	want.pcpu[1] = 3;
	CPU_SET(3, &taken);
	ASSERT_ERRNO(cpu_pinning_plan(&dedicated, &taken, &want, true, "hostA", &got, why,
				      sizeof(why)),
		     EINVAL);
	ASSERT_TRUE(strstr(why, "host CPU 3, which another VM on hostA holds"));
	/* No dedicated CPUs at all. */
	CPU_ZERO(&dedicated);
	ASSERT_ERRNO(cpu_pinning_plan(&dedicated, &taken, &want, true, "hostA", &got, why,
				      sizeof(why)),
		     EINVAL);
	ASSERT_TRUE(strstr(why, "(dedicated_cpus: none)"));
}

TEST(plan_on_a_destination)
{
	cpu_set_t dedicated, taken;
	cpumap want = { .n = 2, .pcpu = { 2, 3 } }, got;
	char why[256];

	ASSERT_OK(cpu_list_parse("4-7", &dedicated, why, sizeof(why)));
	CPU_ZERO(&taken);
	CPU_SET(4, &taken);
	/* 2 and 3 are not dedicated here: the lowest free dedicated CPUs instead. */
	ASSERT_OK(cpu_pinning_plan(&dedicated, &taken, &want, false, "hostB", &got, why, sizeof(why)));
	ASSERT_EQ(got.n, 2);
	ASSERT_EQ(got.pcpu[0], 5);
	ASSERT_EQ(got.pcpu[1], 6);
	/* The same CPUs when they are free and dedicated. */
	want.pcpu[0] = 7;
	want.pcpu[1] = 6;
	ASSERT_OK(cpu_pinning_plan(&dedicated, &taken, &want, false, "hostB", &got, why, sizeof(why)));
	ASSERT_EQ(got.pcpu[0], 7);
	ASSERT_EQ(got.pcpu[1], 6);
	/* Not enough free: the preflight refusal. */
	CPU_SET(5, &taken);
	CPU_SET(6, &taken);
	ASSERT_ERRNO(cpu_pinning_plan(&dedicated, &taken, &want, false, "hostB", &got, why,
				      sizeof(why)),
		     ENOSPC);
	ASSERT_STREQ(why, "hostB has 1 free dedicated CPUs, the VM pins 2 vCPUs (dedicated_cpus: 4-7)");
}

TEST(query_cpus_fast)
{
	pid_t tids[CPUMAP_MAX_VCPUS];
	json_object *o;
	unsigned n;

	o = json_tokener_parse("[{\"cpu-index\": 1, \"thread-id\": 5002, \"qom-path\": \"/x\"},"
			       " {\"cpu-index\": 0, \"thread-id\": 5001, \"target\": \"x86_64\"}]");
	ASSERT_OK(cpu_pinning_parse_threads(o, tids, &n));
	ASSERT_EQ(n, 2);
	ASSERT_EQ(tids[0], 5001);
	ASSERT_EQ(tids[1], 5002);
	json_object_put(o);
	for (const char *const *bad = (const char *const[]){
		     "{}", "[{\"cpu-index\": 0}]", "[{\"cpu-index\": 0, \"thread-id\": -1}]",
		     "[{\"cpu-index\": 64, \"thread-id\": 9}]",
		     "[{\"cpu-index\": 0, \"thread-id\": 9}, {\"cpu-index\": 0, \"thread-id\": 10}]",
		     "[{\"cpu-index\": \"0\", \"thread-id\": 9}]", NULL };
	     *bad; bad++) {
		o = json_tokener_parse(*bad);
		ASSERT_ERRNO(cpu_pinning_parse_threads(o, tids, &n), EBADMSG);
		json_object_put(o);
	}
}

typedef struct affinity_log {
	char lines[16][64];
	int n;
} affinity_log;

static int record_affinity(pid_t tid, const cpu_set_t *set, void *userdata)
{
	affinity_log *l = userdata;
	char list[64];

	snprintf(l->lines[l->n++], sizeof(l->lines[0]), "%d:%s", (int)tid,
		 cpu_list_format(set, list, sizeof(list)));
	return 0;
}

TEST(apply_on_a_fixture)
{
	host_fixture fx;
	affinity_log log = { .n = 0 };
	cpumap map = { .n = 2, .pcpu = { 5, 6 } };
	pid_t tids[2] = { 5001, 5002 };
	cpu_set_t dedicated;
	char why[256];

	fx_init(&fx);
	fx_file(&fx, "sys/devices/system/cpu/online", "0-7\n");
	fx_dir(&fx, "proc/5000/task/5000");
	fx_dir(&fx, "proc/5000/task/5001");
	fx_dir(&fx, "proc/5000/task/5002");
	fx_dir(&fx, "proc/5000/task/5003");
	ASSERT_OK(cpu_list_parse("4-7", &dedicated, why, sizeof(why)));
	ASSERT_OK(cpu_pinning_apply(&fx.fs, 5000, &map, tids, 2, &dedicated, record_affinity, &log,
				    why, sizeof(why)));
	ASSERT_EQ(log.n, 4);
	ASSERT_STREQ(log.lines[0], "5001:5");
	ASSERT_STREQ(log.lines[1], "5002:6");
	/* QEMU's main loop and I/O threads share the CPUs no VM owns. */
	ASSERT_STREQ(log.lines[2], "5000:0-3");
	ASSERT_STREQ(log.lines[3], "5003:0-3");

	/* Fewer vCPU threads than the map: nothing pinned. */
	log.n = 0;
	ASSERT_ERRNO(cpu_pinning_apply(&fx.fs, 5000, &map, tids, 1, &dedicated, record_affinity,
				       &log, why, sizeof(why)),
		     EBADMSG);
	ASSERT_EQ(log.n, 0);
	fx_cleanup(&fx);
}

TEST(cpumap_json_round_trip)
{
	cpumap m = { .n = 3, .pcpu = { 4, 2, 9 } }, back;
	json_object *o = cpumap_to_json(&m), *bad;

	ASSERT_OK(cpumap_from_json(o, &back));
	ASSERT_EQ(back.n, 3);
	ASSERT_EQ(back.pcpu[2], 9);
	json_object_put(o);
	bad = json_tokener_parse("[[0, 1], [0, 2]]");
	ASSERT_ERRNO(cpumap_from_json(bad, &back), EINVAL);
	json_object_put(bad);
}

int main(void)
{
	RUN_TEST(cpumap_files);
	RUN_TEST(cpumap_in_a_spec);
	RUN_TEST(plan_on_the_starting_host);
	RUN_TEST(plan_on_a_destination);
	RUN_TEST(query_cpus_fast);
	RUN_TEST(apply_on_a_fixture);
	RUN_TEST(cpumap_json_round_trip);
	return 0;
}
