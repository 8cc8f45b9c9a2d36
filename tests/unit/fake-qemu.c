// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fake-qemu: what the fault-matrix test (test-fault-matrix.c) gives its daemons as their
 * qemu_binary. It is started from the argv that qemu_argv_build() makes, daemonizes as
 * `-daemonize` does, writes the pidfile and serves, on the run directory's sockets, what the
 * daemons use of QEMU: QMP (status, device_del/device_add/set_link of the VF, migrate-incoming,
 * migrate, migrate_cancel, cont, quit, their events; query-cpus-fast, whose one vCPU is this
 * process's own thread, for pinning) and the guest agent's port.
 *
 * Behind the port runs the real agent request loop (agent_server) in a child process, over a
 * guest whose links, bond and DID live in memory shared with this process: unplugging the VF
 * removes its link, plugging one adds a link whose carrier follows set_link. The child is the
 * guest's agent service: it can crash (SIGKILL) or stall on a drill's `fault` request, and is
 * restarted 2 s after a crash (FAKE_QEMU_AGENT_RESTART_MS, default 2000), as systemd restarts it
 * in the lab guest.
 * While the VM does not run here (incoming, paused) nothing passes the port, as with a real
 * guest.
 *
 * A migration is real TCP between two fake-qemus: the source copies for FAKE_QEMU_COPY_MS
 * (default 200), stops the guest, sends the guest's state and waits for the destination's
 * acknowledgement, as QEMU's return path; the destination then runs the guest (RESUME).
 *
 * FAKE_QEMU_UNPLUG_MS (default 5) is how long the guest takes to release an unplugged VF.
 *
 * For the test's eyes, RUN_DIR/fake-qemu.state says: the run state, whether the VF is plugged,
 * whether this copy was resumed after its state had gone to another (split brain), and whether
 * the VF's link is up (set_link; a drill's vf-link-down holds it down); and
 * RUN_DIR/fake-qemu.migration logs, one line each with CLOCK_MONOTONIC microseconds, every
 * max-bandwidth QEMU is given and every migration status, so a test of concurrent jobs can
 * see which limit each copy had when (in microseconds because the end of one copy and the
 * raise it gives another often fall in the same millisecond, and the replay must keep their order).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/close_range.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <uv.h>

#include "agent_server.h"
#include "did.h"

#define GUEST_LINKS_MAX 8
#define QMP_CLIENTS_MAX 8
/* As the lab guest's supervisor: the agent is back a second or two after it crashed. A test
 * whose agent timeout is shorter scales it with FAKE_QEMU_AGENT_RESTART_MS. */
static uint64_t agent_restart_ms = 2000;

/* The guest: shared with the agent child, and what a migration carries. */
typedef struct guest {
	agent_link links[GUEST_LINKS_MAX];
	size_t n;
	int next_ifindex;
	bool did_present, did_on;
	unsigned did_enables;
	/* A stalled agent stays stalled wherever the guest goes, a crashed one stays down until its
	 * supervisor restarts it (CLOCK_REALTIME ms; 0: none). */
	uint64_t agent_stalled_until, agent_down_until;
} guest;

static guest *g;
static uv_loop_t *loop;
static char *run_dir;
static const char *state = "running"; /* running, inmigrate, paused, postmigrate */
static bool vf_present, vf_netdev, vf_link_up = true, ran, autostart = true;
/* How many times this copy was resumed after its state had gone to another: a count, so that a
 * test that migrates the same copy again can tell a new one. */
static unsigned resumed_after_migration;
static const char *mig_status = "none";
static char *mig_error;
static int mig_fd = -1, mig_listen_fd = -1, mig_port;
static uv_poll_t *mig_poll, *mig_listen_poll;
static uv_timer_t copy_timer, event_timer, agent_restart_timer;
static uint64_t copy_ms = 200, mig_start_ms;
/* How long the guest takes to release an unplugged VF (FAKE_QEMU_UNPLUG_MS). */
static uint64_t unplug_ms = 5;

/* QMP clients. */
typedef struct qmp_conn {
	int fd;
	uv_poll_t *poll;
	char buf[65536];
	size_t len;
	bool used;
} qmp_conn;
static qmp_conn qmp[QMP_CLIENTS_MAX];
static int qmp_listen_fd;
static uv_poll_t qmp_listen_poll;

/* The agent port: the host's end (a daemon) and the guest's (the agent child). */
static int agent_listen_fd, host_fd = -1, guest_fd = -1, notify_fd = -1;
static pid_t agent_pid;
static uv_poll_t agent_listen_poll, *host_poll, guest_poll;
static bool host_polling, guest_polling;

static void poll_free_cb(uv_handle_t *h)
{
	free(h);
}

/* Watch fd; poll handles come and go with their connections, so each is its own allocation. */
static uv_poll_t *poll_new(int fd)
{
	uv_poll_t *p = calloc(1, sizeof(*p));

	if (!p || uv_poll_init(loop, p, fd) < 0)
		abort();
	return p;
}

static void poll_free(uv_poll_t *p)
{
	uv_poll_stop(p);
	uv_close((uv_handle_t *)p, poll_free_cb);
}

static void die(const char *what)
{
	fprintf(stderr, "fake-qemu: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			(void)poll(&pfd, 1, 1000);
			continue;
		}
		if (n <= 0)
			return; /* the peer went away: what a real QEMU finds too */
		p += n;
		len -= (size_t)n;
	}
}

static bool running(void)
{
	return !strcmp(state, "running");
}

static void state_save(void)
{
	char path[4096], tmp[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/fake-qemu.state", run_dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return;
	fprintf(f, "status=%s\nvf=%d\nran=%d\nresumed_after_migration=%u\nvf_link=%d\n", state,
		vf_present, ran, resumed_after_migration, vf_link_up);
	fclose(f);
	rename(tmp, path);
}

static void migration_log(const char *what, const char *value)
{
	char path[4096];
	struct timespec ts;
	FILE *f;

	snprintf(path, sizeof(path), "%s/fake-qemu.migration", run_dir);
	f = fopen(path, "ae");
	if (!f)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	fprintf(f, "%lld %s %s\n", (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, what, value);
	fclose(f);
}

/* --- the guest's kernel, as the agent sees it --- */

static agent_link *link_by_index(int ifindex)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->links[i].ifindex == ifindex)
			return &g->links[i];
	return NULL;
}

static agent_link *link_add(const char *ifname, const char *driver, const char *bus, bool carrier)
{
	agent_link *l = &g->links[g->n++];

	memset(l, 0, sizeof(*l));
	l->ifindex = g->next_ifindex++;
	snprintf(l->ifname, sizeof(l->ifname), "%s", ifname);
	snprintf(l->driver, sizeof(l->driver), "%s", driver);
	snprintf(l->bus, sizeof(l->bus), "%s", bus);
	l->role = agent_role_classify(!strcmp(driver, "bonding") ? "bond" : NULL, driver, bus);
	l->mac[0] = 0x52;
	l->mac[5] = (uint8_t)l->ifindex;
	l->up = true;
	l->carrier = carrier;
	return l;
}

static agent_link *guest_vf(void)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->links[i].role == AGENT_ROLE_VF)
			return &g->links[i];
	return NULL;
}

static agent_link *guest_bond(void)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->links[i].role == AGENT_ROLE_BOND)
			return &g->links[i];
	return NULL;
}

/* The guest at boot: bond0 over its VF (active) and its virtio standby; DID on. */
static void guest_boot(bool with_vf)
{
	agent_link *bond, *standby;

	memset(g, 0, sizeof(*g));
	g->next_ifindex = 1;
	link_add("lo", "", "", true);
	bond = link_add("bond0", "bonding", "", true);
	snprintf(bond->mode, sizeof(bond->mode), "active-backup");
	standby = link_add("eth0", "virtio_net", "virtio", true);
	standby->master = bond->ifindex;
	bond->active_slave = standby->ifindex;
	if (with_vf) {
		agent_link *vf = link_add("eth1", "e1000e", "pci", true);

		vf->master = bond->ifindex;
		bond->active_slave = vf->ifindex;
	}
	g->did_present = true;
	g->did_on = true;
}

/* Tell the agent its kernel changed (a netlink notification, in a real guest). */
static void guest_changed(void)
{
	char c = 1;

	if (notify_fd >= 0)
		(void)write(notify_fd, &c, 1);
}

static void guest_vf_remove(void)
{
	agent_link *vf = guest_vf(), *bond = guest_bond();

	if (!vf)
		return;
	/* Bonding fails over to the remaining slave. */
	if (bond && bond->active_slave == vf->ifindex) {
		bond->active_slave = 0;
		for (size_t i = 0; i < g->n; i++)
			if (g->links[i].master == bond->ifindex && g->links[i].ifindex != vf->ifindex)
				bond->active_slave = g->links[i].ifindex;
	}
	*vf = g->links[--g->n];
	guest_changed();
}

static int net_links_get(void *ctx, agent_link **ret, size_t *ret_n)
{
	agent_link *copy = malloc(sizeof(g->links));

	if (!copy)
		return -ENOMEM;
	memcpy(copy, g->links, sizeof(g->links));
	*ret = copy;
	*ret_n = g->n;
	return 0;
}

static int net_slave_add(void *ctx, int bond, int slave)
{
	agent_link *l = link_by_index(slave);

	if (!l || !link_by_index(bond))
		return -ENODEV;
	l->master = bond;
	return 0;
}

static int net_slave_del(void *ctx, int bond, int slave)
{
	agent_link *l = link_by_index(slave), *b = link_by_index(bond);

	if (!l || !b)
		return -ENODEV;
	l->master = 0;
	if (b->active_slave == slave)
		b->active_slave = 0;
	return 0;
}

static int net_active_set(void *ctx, int bond, int slave)
{
	agent_link *l = link_by_index(slave), *b = link_by_index(bond);

	if (!l || !b)
		return -ENODEV;
	/* Like bonding: a slave without carrier is refused quietly. */
	if (l->carrier && l->master == bond)
		b->active_slave = slave;
	return 0;
}

static int net_announce(void *ctx, int bond, int slave, unsigned *ret_arp, unsigned *ret_na)
{
	*ret_arp = 1;
	*ret_na = 1;
	return 0;
}

static const agent_net_ops net_ops = {
	.links_get = net_links_get,
	.slave_add = net_slave_add,
	.slave_del = net_slave_del,
	.active_set = net_active_set,
	.announce = net_announce,
};

static int did_ioctl(void *ctx, unsigned long request, void *arg)
{
	if (!g->did_present)
		return -ENODEV;
	if (request == DID_IOC_STATUS) {
		struct did_status *st = arg;

		memset(st, 0, sizeof(*st));
		st->version = DID_ABI_VERSION;
		st->state = g->did_on ? DID_STATE_ON : DID_STATE_OFF;
		st->backend = DID_BACKEND_SIM;
		st->flags = DID_STATUS_SIMULATED;
		st->supported = DID_F_ALL;
		st->features = g->did_on ? DID_F_ALL : 0;
		st->enables = g->did_enables;
		return 0;
	}
	if (request == DID_IOC_ENABLE) {
		if (g->did_on)
			return -EALREADY;
		g->did_on = true;
		g->did_enables++;
		return 0;
	}
	if (request == DID_IOC_DISABLE) {
		if (!g->did_on)
			return -EALREADY;
		g->did_on = false;
		return 0;
	}
	return -ENOTTY;
}

static const agent_did_ops did_ops = { .ioctl = did_ioctl };

/* --- the agent child: the guest's agent service --- */

static agent_server *child_server;

static void child_on_notify(uv_poll_t *h, int status, int events)
{
	char buf[64];

	while (read(h->io_watcher.fd, buf, sizeof(buf)) > 0)
		;
	agent_server_links_changed(child_server);
}

static void agent_child_run(int fd, int notify_r)
{
	static const agent_server_backend backend = {
		.net = &net_ops,
		.did = &did_ops,
		.allow_faults = true,
	};
	uv_loop_t child_loop;
	uv_poll_t notify;
	int a = fcntl(fd, F_DUPFD_CLOEXEC, 100), b = fcntl(notify_r, F_DUPFD_CLOEXEC, 101);

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Only the port and the notifications: the host's connections are the parent's. */
	if (a < 0 || b < 0 || dup2(a, 3) < 0 || dup2(b, 4) < 0)
		_exit(1);
	close_range(5, ~0U, 0);
	fd = 3;
	notify_r = 4;
	if (uv_loop_init(&child_loop) < 0 ||
	    agent_server_new(&child_loop, &backend, &child_server) < 0 ||
	    agent_server_attach_fd(child_server, fd) < 0)
		_exit(1);
	uv_poll_init(&child_loop, &notify, notify_r);
	uv_poll_start(&notify, UV_READABLE, child_on_notify);
	uv_run(&child_loop, UV_RUN_DEFAULT);
	_exit(0);
}

static void relay_update(void);

static void agent_spawn(void)
{
	int sv[2], np[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    pipe2(np, O_CLOEXEC | O_NONBLOCK) < 0)
		die("socketpair");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(sv[0]);
		close(np[1]);
		agent_child_run(sv[1], np[0]);
	}
	close(sv[1]);
	close(np[0]);
	agent_pid = pid;
	guest_fd = sv[0];
	notify_fd = np[1];
	fcntl(guest_fd, F_SETFL, O_NONBLOCK);
	uv_poll_init(loop, &guest_poll, guest_fd);
	guest_polling = false;
	relay_update();
}

static void agent_restart(uv_timer_t *t)
{
	agent_spawn();
}

static uint64_t realtime_ms(void);

static void guest_poll_closed(uv_handle_t *h)
{
	uint64_t now = realtime_ms();

	uv_timer_start(&agent_restart_timer, agent_restart,
		       g->agent_down_until > now ? g->agent_down_until - now : 0, 0);
}

/* The agent child died (a drill's crash): its supervisor starts it again. */
static void agent_died(void)
{
	if (g->agent_down_until < realtime_ms())
		g->agent_down_until = realtime_ms() + agent_restart_ms;
	uv_poll_stop(&guest_poll);
	close(guest_fd);
	close(notify_fd);
	guest_fd = notify_fd = -1;
	guest_polling = false;
	(void)waitpid(agent_pid, NULL, 0);
	agent_pid = 0;
	uv_close((uv_handle_t *)&guest_poll, guest_poll_closed);
}

static void host_closed(void);

static uint64_t realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * The agent stalls itself in its own process; the guest's memory must say so too, so that the
 * stall goes on where the guest migrates (a real agent is part of the guest). A request line
 * {"id":N,"cmd":"fault","args":{"kind":"stall","ms":M}} on its way to the agent marks it.
 */
static void relay_note_stall(const char *buf, size_t n)
{
	char line[512];
	const char *ms;

	snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) - 1 ? n : sizeof(line) - 1), buf);
	if (strstr(line, "\"cmd\":\"fault\"") && strstr(line, "\"stall\"") &&
	    (ms = strstr(line, "\"ms\":")))
		g->agent_stalled_until = realtime_ms() + strtoull(ms + 5, NULL, 10);
}

/* Where the guest resumes with its agent still stalled, this agent stalls for the rest. */
static uv_timer_t stall_timer;

static void stall_over(uv_timer_t *t)
{
	if (agent_pid)
		kill(agent_pid, SIGCONT);
}

static void stall_carry_on(void)
{
	uint64_t now = realtime_ms();

	/* The guest's agent crashed where it ran before: it is down here too, until restarted. */
	if (g->agent_down_until > now && agent_pid) {
		kill(agent_pid, SIGKILL);
		return;
	}
	if (g->agent_stalled_until > now && agent_pid) {
		kill(agent_pid, SIGSTOP);
		uv_timer_start(&stall_timer, stall_over, g->agent_stalled_until - now, 0);
	}
}

static void relay(int from, int to, bool from_guest)
{
	char buf[65536];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n > 0) {
		if (!from_guest)
			relay_note_stall(buf, (size_t)n);
		if (to >= 0)
			write_all(to, buf, (size_t)n);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (from_guest)
		agent_died();
	else
		host_closed();
}

static void on_host_readable(uv_poll_t *h, int status, int events)
{
	/* The host went away while nothing passes: the chardev frees itself for the next one. */
	if (!host_polling && (events & UV_DISCONNECT)) {
		host_closed();
		return;
	}
	if (host_polling)
		relay(host_fd, guest_fd, false);
}

static void on_guest_readable(uv_poll_t *h, int status, int events)
{
	relay(guest_fd, host_fd, true);
}

/* Bytes pass the port only while the guest runs here, and only with both ends there. */
static void relay_update(void)
{
	bool on = running() && host_fd >= 0 && guest_fd >= 0;

	if (host_fd >= 0) {
		/* Paused: only a hang-up is noticed, as QEMU's chardev does; bytes wait. */
		uv_poll_start(host_poll, on ? UV_READABLE | UV_DISCONNECT : UV_DISCONNECT,
			      on_host_readable);
		host_polling = on;
	}
	if (guest_fd >= 0 && on != guest_polling) {
		if (on)
			uv_poll_start(&guest_poll, UV_READABLE, on_guest_readable);
		else
			uv_poll_stop(&guest_poll);
		guest_polling = on;
	}
}

static void on_agent_accept(uv_poll_t *h, int status, int events);

static void host_closed(void)
{
	poll_free(host_poll);
	host_poll = NULL;
	close(host_fd);
	host_fd = -1;
	host_polling = false;
	uv_poll_start(&agent_listen_poll, UV_READABLE, on_agent_accept);
}

static void on_agent_accept(uv_poll_t *h, int status, int events)
{
	int fd = accept4(agent_listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	/* One host at a time, like a chardev socket server: the next waits in the backlog. */
	host_fd = fd;
	host_polling = false;
	host_poll = poll_new(host_fd);
	uv_poll_stop(&agent_listen_poll);
	relay_update();
}

/* --- QMP --- */

static void qmp_send(qmp_conn *c, json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);

	write_all(c->fd, s, strlen(s));
	write_all(c->fd, "\r\n", 2);
}

static void qmp_event(const char *name, json_object *data)
{
	json_object *o = json_object_new_object(), *ts = json_object_new_object();
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	json_object_object_add(ts, "seconds", json_object_new_int64(now.tv_sec));
	json_object_object_add(ts, "microseconds", json_object_new_int64(now.tv_nsec / 1000));
	json_object_object_add(o, "event", json_object_new_string(name));
	if (data)
		json_object_object_add(o, "data", data);
	json_object_object_add(o, "timestamp", ts);
	for (int i = 0; i < QMP_CLIENTS_MAX; i++)
		if (qmp[i].used)
			qmp_send(&qmp[i], o);
	json_object_put(o);
}

static void set_state(const char *s)
{
	bool was = running();

	state = s;
	ran |= running();
	if (!was && running())
		qmp_event("RESUME", NULL);
	else if (was && !running())
		qmp_event("STOP", NULL);
	state_save();
	relay_update();
}

static void set_mig_status(const char *s)
{
	json_object *d = json_object_new_object();

	mig_status = s;
	migration_log("status", s);
	json_object_object_add(d, "status", json_object_new_string(s));
	qmp_event("MIGRATION", d);
}

static uint64_t now_ms(void)
{
	return uv_now(loop);
}

static json_object *query_migrate(void)
{
	json_object *o = json_object_new_object(), *ram;

	json_object_object_add(o, "status", json_object_new_string(mig_status));
	if (mig_listen_fd >= 0 || (!strcmp(state, "inmigrate") && mig_port)) {
		json_object *addrs = json_object_new_array(), *a = json_object_new_object();
		char port[16];

		snprintf(port, sizeof(port), "%d", mig_port);
		json_object_object_add(a, "type", json_object_new_string("inet"));
		json_object_object_add(a, "host", json_object_new_string("127.0.0.1"));
		json_object_object_add(a, "port", json_object_new_string(port));
		json_object_array_add(addrs, a);
		json_object_object_add(o, "socket-address", addrs);
	}
	if (!strcmp(mig_status, "active") || !strcmp(mig_status, "completed")) {
		ram = json_object_new_object();
		json_object_object_add(ram, "transferred", json_object_new_int64(sizeof(*g)));
		json_object_object_add(ram, "remaining",
				       json_object_new_int64(strcmp(mig_status, "active") ? 0 :
										    sizeof(*g)));
		json_object_object_add(ram, "total", json_object_new_int64(sizeof(*g)));
		json_object_object_add(ram, "mbps", json_object_new_double(100.0));
		json_object_object_add(ram, "dirty-sync-count", json_object_new_int(1));
		json_object_object_add(o, "ram", ram);
		json_object_object_add(o, "total-time",
				       json_object_new_int64((int64_t)(now_ms() - mig_start_ms)));
	}
	if (!strcmp(mig_status, "completed")) {
		json_object_object_add(o, "downtime", json_object_new_int(5));
		json_object_object_add(o, "setup-time", json_object_new_int(1));
	}
	if (mig_error)
		json_object_object_add(o, "error-desc", json_object_new_string(mig_error));
	return o;
}

static void mig_close(void)
{
	if (mig_fd >= 0) {
		poll_free(mig_poll);
		mig_poll = NULL;
		close(mig_fd);
		mig_fd = -1;
	}
}

static void mig_fail(const char *why)
{
	free(mig_error);
	mig_error = strdup(why);
	mig_close();
	set_mig_status("failed");
	/* A source stopped for the final pass runs on. */
	if (!strcmp(state, "paused"))
		set_state("running");
}

/* Source: the destination's acknowledgement (or its end). */
static void on_mig_ack(uv_poll_t *h, int status, int events)
{
	char c;
	ssize_t n = read(mig_fd, &c, 1);

	if (n < 0 && errno == EAGAIN)
		return;
	if (n != 1) {
		mig_fail("the destination closed the migration stream");
		return;
	}
	mig_close();
	set_mig_status("completed");
	set_state("postmigrate");
}

/* Source: the copy is done; stop the guest and send its final state. */
static void on_copy_done(uv_timer_t *t)
{
	set_state("paused");
	write_all(mig_fd, g, sizeof(*g));
	uv_poll_start(mig_poll, UV_READABLE | UV_DISCONNECT, on_mig_ack);
}

/* Destination: the stream. */
static char stream[sizeof(guest)];
static size_t stream_len;

static void on_mig_data(uv_poll_t *h, int status, int events)
{
	ssize_t n = read(mig_fd, stream + stream_len, sizeof(stream) - stream_len);

	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		/* The source went away mid-stream: QEMU's incoming side fails and waits to die. */
		mig_fail("the migration stream ended early");
		return;
	}
	stream_len += (size_t)n;
	if (stream_len < sizeof(stream))
		return;
	memcpy(g, stream, sizeof(*g));
	write_all(mig_fd, "k", 1);
	mig_close();
	set_mig_status("completed");
	guest_changed();
	/* -S: paused until `cont`, as the destination daemon wants it. */
	set_state(autostart ? "running" : "paused");
}

static void on_mig_accept(uv_poll_t *h, int status, int events)
{
	int fd = accept4(mig_listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	poll_free(mig_listen_poll);
	mig_listen_poll = NULL;
	close(mig_listen_fd);
	mig_listen_fd = -1;
	mig_fd = fd;
	mig_start_ms = now_ms();
	set_mig_status("active");
	mig_poll = poll_new(mig_fd);
	uv_poll_start(mig_poll, UV_READABLE | UV_DISCONNECT, on_mig_data);
}

static json_object *qmp_error(const char *cls, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static json_object *qmp_error(const char *cls, const char *fmt, ...)
{
	json_object *e = json_object_new_object();
	char desc[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	json_object_object_add(e, "class", json_object_new_string(cls));
	json_object_object_add(e, "desc", json_object_new_string(desc));
	return e;
}

static const char *arg_string(json_object *args, const char *key)
{
	json_object *v;

	return args && json_object_object_get_ex(args, key, &v) ? json_object_get_string(v) : "";
}

static void on_device_deleted(uv_timer_t *t)
{
	json_object *d = json_object_new_object();

	guest_vf_remove();
	vf_present = false;
	state_save();
	json_object_object_add(d, "device", json_object_new_string("vf0"));
	json_object_object_add(d, "path", json_object_new_string("/machine/peripheral/vf0"));
	qmp_event("DEVICE_DELETED", d);
}

static bool quitting;

/* Run one command: *error set for an error reply, else the return value (NULL: {}). */
static json_object *qmp_run(const char *cmd, json_object *args, json_object **error)
{
	json_object *o;

	if (!strcmp(cmd, "migrate-set-parameters") &&
	    json_object_object_get_ex(args, "max-bandwidth", &o))
		migration_log("max-bandwidth", json_object_get_string(o));
	if (!strcmp(cmd, "qmp_capabilities") || !strcmp(cmd, "migrate-set-capabilities") ||
	    !strcmp(cmd, "migrate-set-parameters") || !strcmp(cmd, "announce-self"))
		return NULL;
	if (!strcmp(cmd, "query-status")) {
		o = json_object_new_object();
		json_object_object_add(o, "status", json_object_new_string(state));
		json_object_object_add(o, "running", json_object_new_boolean(running()));
		json_object_object_add(o, "singlestep", json_object_new_boolean(false));
		return o;
	}
	if (!strcmp(cmd, "query-migrate"))
		return query_migrate();
	if (!strcmp(cmd, "query-cpus-fast")) {
		/* One vCPU, run by this process's only thread: what pinning sets the affinity of. */
		json_object *cpu = json_object_new_object();

		o = json_object_new_array();
		json_object_object_add(cpu, "cpu-index", json_object_new_int(0));
		json_object_object_add(cpu, "thread-id", json_object_new_int(getpid()));
		json_object_array_add(o, cpu);
		return o;
	}
	if (!strcmp(cmd, "device_del")) {
		if (strcmp(arg_string(args, "id"), "vf0") || !vf_present) {
			*error = qmp_error("DeviceNotFound", "Device '%s' not found",
					   arg_string(args, "id"));
			return NULL;
		}
		/* The guest releases it a moment later (FAKE_QEMU_UNPLUG_MS: a slow guest). */
		uv_timer_start(&event_timer, on_device_deleted, unplug_ms, 0);
		return NULL;
	}
	if (!strcmp(cmd, "netdev_del")) {
		vf_netdev = false;
		return NULL;
	}
	if (!strcmp(cmd, "netdev_add")) {
		if (vf_netdev) {
			*error = qmp_error("GenericError", "Duplicate ID '%s' for netdev",
					   arg_string(args, "id"));
			return NULL;
		}
		vf_netdev = true;
		return NULL;
	}
	if (!strcmp(cmd, "device_add")) {
		agent_link *vf;
		char ifname[16];

		if (vf_present) {
			*error = qmp_error("GenericError", "Duplicate ID '%s' for device",
					   arg_string(args, "id"));
			return NULL;
		}
		vf_present = true;
		snprintf(ifname, sizeof(ifname), "eth%d", g->next_ifindex);
		vf = link_add(ifname, "e1000e", "pci", vf_link_up);
		(void)vf;
		state_save();
		guest_changed();
		return NULL;
	}
	if (!strcmp(cmd, "set_link")) {
		json_object *up;
		agent_link *vf = guest_vf();

		vf_link_up = json_object_object_get_ex(args, "up", &up) && json_object_get_boolean(up);
		if (vf)
			vf->carrier = vf_link_up;
		state_save();
		guest_changed();
		return NULL;
	}
	if (!strcmp(cmd, "migrate-incoming")) {
		struct sockaddr_in sa = { .sin_family = AF_INET };
		socklen_t len = sizeof(sa);

		mig_listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (mig_listen_fd < 0 || bind(mig_listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    listen(mig_listen_fd, 1) < 0 ||
		    getsockname(mig_listen_fd, (struct sockaddr *)&sa, &len) < 0) {
			*error = qmp_error("GenericError", "cannot listen on %s", arg_string(args, "uri"));
			return NULL;
		}
		mig_port = ntohs(sa.sin_port);
		mig_status = "setup";
		mig_listen_poll = poll_new(mig_listen_fd);
		uv_poll_start(mig_listen_poll, UV_READABLE, on_mig_accept);
		return NULL;
	}
	if (!strcmp(cmd, "migrate")) {
		struct sockaddr_in sa = { .sin_family = AF_INET };
		const char *uri = arg_string(args, "uri");
		int port;

		if (sscanf(uri, "tcp:127.0.0.1:%d", &port) != 1) {
			*error = qmp_error("GenericError", "fake-qemu migrates to tcp:127.0.0.1:PORT only, not '%s'",
					   uri);
			return NULL;
		}
		free(mig_error);
		mig_error = NULL;
		mig_start_ms = now_ms();
		set_mig_status("setup");
		sa.sin_port = htons((uint16_t)port);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		mig_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (mig_fd < 0 || connect(mig_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			if (mig_fd >= 0)
				close(mig_fd);
			mig_fd = -1;
			free(mig_error);
			mig_error = strdup("Failed to connect to the destination");
			set_mig_status("failed");
			return NULL;
		}
		fcntl(mig_fd, F_SETFL, O_NONBLOCK);
		mig_poll = poll_new(mig_fd);
		set_mig_status("active");
		uv_timer_start(&copy_timer, on_copy_done, copy_ms, 0);
		return NULL;
	}
	if (!strcmp(cmd, "migrate_cancel")) {
		if (!strcmp(mig_status, "active") || !strcmp(mig_status, "setup")) {
			uv_timer_stop(&copy_timer);
			mig_close();
			set_mig_status("cancelled");
			if (!strcmp(state, "paused"))
				set_state("running");
		}
		return NULL;
	}
	if (!strcmp(cmd, "cont")) {
		if (!strcmp(state, "inmigrate")) {
			*error = qmp_error("GenericError", "%s", "Guest is waiting for an incoming migration");
			return NULL;
		}
		if (!strcmp(state, "postmigrate"))
			resumed_after_migration++;
		if (!running())
			stall_carry_on();
		set_state("running");
		return NULL;
	}
	if (!strcmp(cmd, "quit")) {
		quitting = true;
		return NULL;
	}
	*error = qmp_error("CommandNotFound", "The command %s has not been found", cmd);
	return NULL;
}

static void qmp_conn_close(qmp_conn *c)
{
	poll_free(c->poll);
	close(c->fd);
	c->used = false;
}

static void on_qmp_readable(uv_poll_t *h, int status, int events)
{
	qmp_conn *c = h->data;
	ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len - 1);
	char *line, *end;

	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		qmp_conn_close(c);
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	line = c->buf;
	while ((end = strchr(line, '\n'))) {
		json_object *req, *cmd, *args = NULL, *id = NULL, *ret, *error = NULL, *reply;

		*end = '\0';
		req = json_tokener_parse(line);
		line = end + 1;
		if (!req || !json_object_object_get_ex(req, "execute", &cmd)) {
			json_object_put(req);
			continue;
		}
		json_object_object_get_ex(req, "arguments", &args);
		json_object_object_get_ex(req, "id", &id);
		ret = qmp_run(json_object_get_string(cmd), args, &error);
		reply = json_object_new_object();
		if (error)
			json_object_object_add(reply, "error", error);
		else
			json_object_object_add(reply, "return", ret ?: json_object_new_object());
		if (id)
			json_object_object_add(reply, "id", json_object_get(id));
		qmp_send(c, reply);
		json_object_put(reply);
		json_object_put(req);
		if (quitting) {
			qmp_event("SHUTDOWN", NULL);
			exit(0);
		}
	}
	c->len -= (size_t)(line - c->buf);
	memmove(c->buf, line, c->len);
}

static void on_qmp_accept(uv_poll_t *h, int status, int events)
{
	static const char greeting[] =
		"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, "
		"\"package\": \"(fake-qemu)\"}, \"capabilities\": [\"oob\"]}}\r\n";
	int fd = accept4(qmp_listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	for (int i = 0; i < QMP_CLIENTS_MAX; i++)
		if (!qmp[i].used) {
			qmp[i] = (qmp_conn){ .fd = fd, .used = true };
			qmp[i].poll = poll_new(fd);
			qmp[i].poll->data = &qmp[i];
			uv_poll_start(qmp[i].poll, UV_READABLE, on_qmp_readable);
			write_all(fd, greeting, sizeof(greeting) - 1);
			return;
		}
	close(fd);
}

/* --- start-up --- */

static int listen_unix(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		die("socket");
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", run_dir, name);
	unlink(sa.sun_path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0)
		die(sa.sun_path);
	return fd;
}

int main(int argc, char **argv)
{
	const char *pidfile = NULL, *env;
	bool incoming = false, daemonize = false, with_vf = false;
	int ready[2];
	char c = 0;
	FILE *f;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--version")) {
			printf("QEMU emulator version 7.2.0 (fake-qemu, dmigrate's unit tests)\n");
			return 0;
		}
		if (!strcmp(argv[i], "-pidfile") && i + 1 < argc)
			pidfile = argv[++i];
		else if (!strcmp(argv[i], "-incoming"))
			incoming = true;
		else if (!strcmp(argv[i], "-S"))
			autostart = false;
		else if (!strcmp(argv[i], "-daemonize"))
			daemonize = true;
		else if (strstr(argv[i], "id=vf0"))
			with_vf = true;
	}
	if (!pidfile) {
		fprintf(stderr, "fake-qemu: no -pidfile\n");
		return 1;
	}
	run_dir = strdup(pidfile);
	*strrchr(run_dir, '/') = '\0';
	env = getenv("FAKE_QEMU_UNPLUG_MS");
	if (env)
		unplug_ms = strtoull(env, NULL, 10);
	env = getenv("FAKE_QEMU_COPY_MS");
	if (env)
		copy_ms = strtoull(env, NULL, 10);
	env = getenv("FAKE_QEMU_AGENT_RESTART_MS");
	if (env)
		agent_restart_ms = strtoull(env, NULL, 10);

	g = mmap(NULL, sizeof(*g), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (g == MAP_FAILED)
		die("mmap");
	if (incoming)
		memset(g, 0, sizeof(*g)); /* until the stream brings the guest */
	else
		guest_boot(with_vf);
	vf_present = vf_netdev = with_vf;
	state = incoming ? "inmigrate" : "running";
	ran = !incoming;

	if (pipe2(ready, O_CLOEXEC) < 0)
		die("pipe");
	if (daemonize) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid > 0) {
			/* Like -daemonize: return once the sockets exist and the pidfile is written. */
			close(ready[1]);
			return read(ready[0], &c, 1) == 1 ? 0 : 1;
		}
		setsid();
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		dup2(null, 0);
	}
	close(ready[0]);
	signal(SIGPIPE, SIG_IGN);
	qmp_listen_fd = listen_unix("qmp.sock");
	agent_listen_fd = listen_unix("agent.sock");
	f = fopen(pidfile, "we");
	if (!f)
		die(pidfile);
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	state_save();

	loop = uv_default_loop();
	uv_timer_init(loop, &copy_timer);
	uv_timer_init(loop, &event_timer);
	uv_timer_init(loop, &agent_restart_timer);
	uv_timer_init(loop, &stall_timer);
	uv_poll_init(loop, &qmp_listen_poll, qmp_listen_fd);
	uv_poll_start(&qmp_listen_poll, UV_READABLE, on_qmp_accept);
	uv_poll_init(loop, &agent_listen_poll, agent_listen_fd);
	uv_poll_start(&agent_listen_poll, UV_READABLE, on_agent_accept);
	agent_spawn();
	write_all(ready[1], "r", 1);
	close(ready[1]);
	uv_run(loop, UV_RUN_DEFAULT);
	return 0;
}
