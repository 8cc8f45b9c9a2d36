// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * did_timerlat.ko: timer expiry latency inside the guest, in the spirit of
 * cyclictest but without a user thread in the path: a periodic hard-irq
 * hrtimer records how late each expiry runs (now - programmed expiry). With
 * DID on the timer interrupt reaches the guest without a VM exit, so the
 * figures of two runs, DID on and DID off, show what DID buys.
 *
 * debugfs, /sys/kernel/debug/did_timerlat/:
 *   interval_us  period of the timer for the next run (10..1000000)
 *   samples      write N (1..10000000) to start a run of N expiries; read:
 *                samples recorded so far
 *   summary      "key value" lines: state, samples, min/avg/max_ns, overruns
 *   histogram    "<us> <count>" for every non-empty 1 us bucket; the last
 *                bucket counts everything at or above it
 */
#include <linux/debugfs.h>
#include <linux/hrtimer.h>
#include <linux/kernel.h>
#include <linux/limits.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>

#define TIMERLAT_BUCKETS	1000	/* 1 us each: 0..998 us, then >= 999 us */
#define TIMERLAT_INTERVAL_MIN	10
#define TIMERLAT_INTERVAL_MAX	1000000
#define TIMERLAT_SAMPLES_MAX	10000000

struct timerlat {
	struct hrtimer timer;
	struct dentry *dir;
	struct mutex run_lock;		/* serializes start against start/stop */
	u32 interval_us;		/* under run_lock */

	spinlock_t lock;		/* the statistics, written in hard irq */
	bool running;
	u32 target;
	u32 count;
	u64 overruns;
	u64 min_ns;
	u64 max_ns;
	u64 sum_ns;
	ktime_t interval;
	u32 hist[TIMERLAT_BUCKETS];
};

static struct timerlat tl;

static enum hrtimer_restart timerlat_expire(struct hrtimer *timer)
{
	ktime_t now = ktime_get();
	s64 lat = ktime_to_ns(ktime_sub(now, hrtimer_get_expires(timer)));
	enum hrtimer_restart ret = HRTIMER_RESTART;
	u64 missed;

	/* An expiry can never run early; clamp clock noise. */
	if (lat < 0)
		lat = 0;

	spin_lock(&tl.lock);
	tl.count++;
	tl.sum_ns += lat;
	tl.min_ns = min_t(u64, tl.min_ns, lat);
	tl.max_ns = max_t(u64, tl.max_ns, lat);
	tl.hist[min_t(u64, div_u64(lat, NSEC_PER_USEC), TIMERLAT_BUCKETS - 1)]++;
	if (tl.count >= tl.target) {
		tl.running = false;
		ret = HRTIMER_NORESTART;
	}
	spin_unlock(&tl.lock);

	if (ret == HRTIMER_RESTART) {
		missed = hrtimer_forward(timer, now, tl.interval);
		if (missed > 1) {
			spin_lock(&tl.lock);
			tl.overruns += missed - 1;
			spin_unlock(&tl.lock);
		}
	}
	return ret;
}

static int timerlat_start(u32 samples)
{
	unsigned long flags;

	mutex_lock(&tl.run_lock);
	hrtimer_cancel(&tl.timer);

	spin_lock_irqsave(&tl.lock, flags);
	tl.running = true;
	tl.target = samples;
	tl.count = 0;
	tl.overruns = 0;
	tl.min_ns = U64_MAX;
	tl.max_ns = 0;
	tl.sum_ns = 0;
	tl.interval = ns_to_ktime((u64)tl.interval_us * NSEC_PER_USEC);
	memset(tl.hist, 0, sizeof(tl.hist));
	spin_unlock_irqrestore(&tl.lock, flags);

	hrtimer_start(&tl.timer, ktime_add(ktime_get(), tl.interval),
		      HRTIMER_MODE_ABS_HARD);
	mutex_unlock(&tl.run_lock);
	return 0;
}

static int timerlat_samples_get(void *data, u64 *val)
{
	unsigned long flags;

	spin_lock_irqsave(&tl.lock, flags);
	*val = tl.count;
	spin_unlock_irqrestore(&tl.lock, flags);
	return 0;
}

static int timerlat_samples_set(void *data, u64 val)
{
	if (val < 1 || val > TIMERLAT_SAMPLES_MAX)
		return -EINVAL;
	return timerlat_start(val);
}
DEFINE_DEBUGFS_ATTRIBUTE(timerlat_samples_fops, timerlat_samples_get,
			 timerlat_samples_set, "%llu\n");

static int timerlat_interval_get(void *data, u64 *val)
{
	mutex_lock(&tl.run_lock);
	*val = tl.interval_us;
	mutex_unlock(&tl.run_lock);
	return 0;
}

static int timerlat_interval_set(void *data, u64 val)
{
	if (val < TIMERLAT_INTERVAL_MIN || val > TIMERLAT_INTERVAL_MAX)
		return -EINVAL;
	mutex_lock(&tl.run_lock);
	tl.interval_us = val;
	mutex_unlock(&tl.run_lock);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(timerlat_interval_fops, timerlat_interval_get,
			 timerlat_interval_set, "%llu\n");

static int timerlat_summary_show(struct seq_file *m, void *v)
{
	unsigned long flags;
	bool running;
	u32 count, target;
	u64 overruns, min_ns, max_ns, sum_ns, interval_ns;

	spin_lock_irqsave(&tl.lock, flags);
	running = tl.running;
	count = tl.count;
	target = tl.target;
	overruns = tl.overruns;
	min_ns = tl.min_ns;
	max_ns = tl.max_ns;
	sum_ns = tl.sum_ns;
	interval_ns = ktime_to_ns(tl.interval);
	spin_unlock_irqrestore(&tl.lock, flags);

	seq_printf(m, "state %s\n", running ? "running" : count ? "done" : "idle");
	seq_printf(m, "interval_ns %llu\n", interval_ns);
	seq_printf(m, "target %u\n", target);
	seq_printf(m, "samples %u\n", count);
	seq_printf(m, "overruns %llu\n", overruns);
	if (count) {
		seq_printf(m, "min_ns %llu\n", min_ns);
		seq_printf(m, "avg_ns %llu\n", div_u64(sum_ns, count));
		seq_printf(m, "max_ns %llu\n", max_ns);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(timerlat_summary);

static int timerlat_histogram_show(struct seq_file *m, void *v)
{
	u32 *hist;
	unsigned long flags;
	int i;

	/* Copy out: seq_printf under a hard-irq spinlock would stall the timer. */
	hist = kmalloc(sizeof(tl.hist), GFP_KERNEL);
	if (!hist)
		return -ENOMEM;
	spin_lock_irqsave(&tl.lock, flags);
	memcpy(hist, tl.hist, sizeof(tl.hist));
	spin_unlock_irqrestore(&tl.lock, flags);

	for (i = 0; i < TIMERLAT_BUCKETS; i++)
		if (hist[i])
			seq_printf(m, "%d %u\n", i, hist[i]);
	kfree(hist);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(timerlat_histogram);

static int __init timerlat_init(void)
{
	mutex_init(&tl.run_lock);
	spin_lock_init(&tl.lock);
	tl.interval_us = 1000;
	tl.interval = ns_to_ktime((u64)tl.interval_us * NSEC_PER_USEC);
	hrtimer_init(&tl.timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_HARD);
	tl.timer.function = timerlat_expire;

	/* debugfs failures are not fatal by design; the files are simply absent. */
	tl.dir = debugfs_create_dir("did_timerlat", NULL);
	debugfs_create_file_unsafe("interval_us", 0600, tl.dir, NULL,
				   &timerlat_interval_fops);
	debugfs_create_file_unsafe("samples", 0600, tl.dir, NULL,
				   &timerlat_samples_fops);
	debugfs_create_file("summary", 0400, tl.dir, NULL,
			    &timerlat_summary_fops);
	debugfs_create_file("histogram", 0400, tl.dir, NULL,
			    &timerlat_histogram_fops);
	return 0;
}

static void __exit timerlat_exit(void)
{
	debugfs_remove_recursive(tl.dir);
	hrtimer_cancel(&tl.timer);
	mutex_destroy(&tl.run_lock);
}

module_init(timerlat_init);
module_exit(timerlat_exit);

MODULE_DESCRIPTION("Guest timer expiry latency, to compare DID on and off");
MODULE_AUTHOR("dmigrate");
MODULE_LICENSE("GPL");
