/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * memdirty: the guest workload of the benchmark's memory sweeps (examples/bench/run), shipped in
 * the lab image as /usr/bin/memdirty.
 *
 *   memdirty --hold MIB [--dirty MIB --rate MIBPS] [--log FILE]
 *
 * Holds MIB of anonymous memory with every page written once, so that a migration has MIB more
 * to copy: QEMU sends a page that was never written, or that the guest kernel only zeroed, as a
 * few bytes, so a freshly booted guest costs about the same whatever its RAM. With --dirty it
 * then rewrites the first MIB of what it holds at MIBPS, one word per page (which makes the
 * whole page dirty for the migration), paced every 10 ms, until it is killed: a working set the
 * migration must copy again at every pass over RAM.
 *
 * It cannot promise the rate (a TCG vCPU may be too slow, or busy with other work), so it says
 * what it did: FILE (default stdout) gets one JSON object per line, {"held_mib": N, "fill_ms": T}
 * once the memory is held, then with --dirty each second
 * {"mono_ms": T, "pages": N, "mibps": R, "lost": L}: the pages it wrote in the second that ended
 * at T (CLOCK_MONOTONIC, the clock of the guest's /proc/uptime, so a host can place the line on
 * its own clock), the rate they make, and how many of its writes it found undone since it
 * started. Each pass writes its own number into every page of the working set, and the next
 * pass checks a page holds the previous number before writing: a page that holds an older one
 * lost a write, which is what a migration that missed a dirty page leaves behind.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MEMDIRTY_MAX_MIB (1024 * 1024)
#define MEMDIRTY_MAX_RATE_MIBPS 100000
#define MEMDIRTY_TICK_NS 10000000LL
#define NSEC_PER_SEC 1000000000LL
/* Set in what the passes write: the fill's values (page numbers) never look like a pass. */
#define MEMDIRTY_PASS_MARK (1ULL << 63)

typedef struct memdirty_opts {
	unsigned long hold_mib, dirty_mib, rate_mibps;
	const char *log;
} memdirty_opts;

static int64_t memdirty_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static int memdirty_parse_mib(const char *opt, const char *s, unsigned long max, unsigned long *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v == 0 || v > max) {
		fprintf(stderr, "memdirty: %s '%s': expected a whole number from 1 to %lu\n", opt, s, max);
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

static int memdirty_opts_parse(int argc, char **argv, memdirty_opts *ret)
{
	memdirty_opts o = { 0 };
	int r = 0;

	for (int i = 1; i < argc && r == 0; i += 2) {
		if (i + 1 >= argc) {
			fprintf(stderr, "memdirty: %s needs a value\n", argv[i]);
			return -EINVAL;
		}
		if (!strcmp(argv[i], "--hold"))
			r = memdirty_parse_mib(argv[i], argv[i + 1], MEMDIRTY_MAX_MIB, &o.hold_mib);
		else if (!strcmp(argv[i], "--dirty"))
			r = memdirty_parse_mib(argv[i], argv[i + 1], MEMDIRTY_MAX_MIB, &o.dirty_mib);
		else if (!strcmp(argv[i], "--rate"))
			r = memdirty_parse_mib(argv[i], argv[i + 1], MEMDIRTY_MAX_RATE_MIBPS, &o.rate_mibps);
		else if (!strcmp(argv[i], "--log"))
			o.log = argv[i + 1];
		else {
			fprintf(stderr, "memdirty: unknown option '%s'\n", argv[i]);
			return -EINVAL;
		}
	}
	if (r < 0)
		return r;
	if (!o.hold_mib) {
		fprintf(stderr, "usage: memdirty --hold MIB [--dirty MIB --rate MIBPS] [--log FILE]\n");
		return -EINVAL;
	}
	if (!o.dirty_mib != !o.rate_mibps) {
		fprintf(stderr, "memdirty: --dirty and --rate go together\n");
		return -EINVAL;
	}
	if (o.dirty_mib > o.hold_mib) {
		fprintf(stderr, "memdirty: --dirty %lu is more than --hold %lu: it dirties what it holds\n",
			o.dirty_mib, o.hold_mib);
		return -EINVAL;
	}
	*ret = o;
	return 0;
}

/* Rewrites pages of [mem, mem + pages * page) round robin at rate pages/s, forever. */
static void memdirty_run(FILE *log, uint8_t *mem, size_t page, size_t pages, uint64_t rate)
{
	int64_t last = memdirty_now_ns(), second = last, next = last;
	uint64_t in_second = 0, pass = 1, lost = 0;
	double owed = 0;
	size_t at = 0;

	for (;;) {
		int64_t now = memdirty_now_ns();

		owed += (double)(now - last) * (double)rate / NSEC_PER_SEC;
		last = now;
		/*
		 * After a stall (the guest paused, the vCPU starved) the backlog is forgotten beyond
		 * 100 ms: a burst to catch up would report a rate the guest never held.
		 */
		if (owed > (double)rate / 10)
			owed = (double)rate / 10;
		for (; owed >= 1; owed -= 1, in_second++) {
			volatile uint64_t *word = (volatile uint64_t *)(mem + at * page);

			if (pass > 1 && *word != (MEMDIRTY_PASS_MARK | (pass - 1)))
				lost++;
			*word = MEMDIRTY_PASS_MARK | pass;
			if (++at == pages) {
				at = 0;
				pass++;
			}
		}
		if (now - second >= NSEC_PER_SEC) {
			fprintf(log,
				"{\"mono_ms\": %" PRId64 ", \"pages\": %" PRIu64 ", \"mibps\": %.1f, \"lost\": %" PRIu64 "}\n",
				now / 1000000, in_second,
				(double)in_second * (double)page / (1 << 20) * NSEC_PER_SEC / (double)(now - second),
				lost);
			fflush(log);
			second = now;
			in_second = 0;
		}
		next += MEMDIRTY_TICK_NS;
		if (next < now)
			next = now;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME,
				&(struct timespec){ .tv_sec = next / NSEC_PER_SEC, .tv_nsec = next % NSEC_PER_SEC },
				NULL);
	}
}

int main(int argc, char **argv)
{
	memdirty_opts o;
	FILE *log = stdout;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), size;
	uint8_t *mem;
	int64_t t0;

	if (memdirty_opts_parse(argc, argv, &o) < 0)
		return 2;
	if (o.log) {
		log = fopen(o.log, "we");
		if (!log) {
			fprintf(stderr, "memdirty: cannot open '%s': %m\n", o.log);
			return 1;
		}
	}
	size = (size_t)o.hold_mib << 20;
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		fprintf(stderr, "memdirty: cannot map %lu MiB: %m\n", o.hold_mib);
		return 1;
	}
	/* One non-zero word per page is enough: QEMU sends any page that is not all zero whole. */
	t0 = memdirty_now_ns();
	for (size_t off = 0; off < size; off += page)
		*(volatile uint64_t *)(mem + off) = off / page + 1;
	fprintf(log, "{\"held_mib\": %lu, \"fill_ms\": %" PRId64 "}\n", o.hold_mib,
		(memdirty_now_ns() - t0) / 1000000);
	fflush(log);

	if (o.dirty_mib)
		memdirty_run(log, mem, page, ((size_t)o.dirty_mib << 20) / page,
			     (uint64_t)o.rate_mibps * (1 << 20) / page);
	for (;;)
		pause();
}
