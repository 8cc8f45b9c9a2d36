// SPDX-License-Identifier: GPL-2.0-or-later
#include "agent_bond.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "macro.h"

#define ACTIVATE_TIMEOUT_DEFAULT_MS 10000
#define ANNOUNCE_INTERVAL_MS 100
/* How often a VF that udev has not finished with is looked at again (no event tells). */
#define UDEV_POLL_MS 20
/* bonding's MII monitor interval: it decides when a new slave may become active, and tells no one. */
#define MII_POLL_MS 100

typedef enum bond_wait_kind {
	BOND_WAIT_DEVICE,   /* bond-activate-vf: until a VF appears */
	BOND_WAIT_UDEV,     /* bond-activate-vf: until udev is done with ifindex, then enslave it */
	BOND_WAIT_CARRIER,  /* bond-activate-vf: until ifindex has carrier */
	BOND_WAIT_ACTIVE,   /* bond-activate-vf: until the bond takes ifindex as its active slave */
	BOND_WAIT_ANNOUNCE, /* announce: the next round */
} bond_wait_kind;

typedef struct bond_wait {
	struct bond_wait *next;
	bond_wait_kind kind;
	agent_job *job;
	uint64_t started, deadline; /* uv_now() ms */
	/* bond-activate-vf: the end of the whole wait; udev's share ends at udev_end */
	uint64_t end, udev_end;
	/* bond-activate-vf: the time spent waiting, for the device and for carrier, and since when */
	uint64_t device_ms, carrier_ms, wait_began;
	int bond, ifindex, previous;
	unsigned rounds_left, arp, na;
} bond_wait;

struct agent_bond {
	uv_loop_t *loop;
	uv_timer_t timer;
	const agent_net_ops *ops;
	void *ctx;
	agent_server *server;
	agent_link *links; /* the last snapshot, for telling what changed */
	size_t n_links;
	bond_wait *waits;
	/*
	 * The bond whose all_slaves_active the agent turned on (0: none), and the VF that was its
	 * slave then: bond_inactive_rx_on(). One bond at a time, as a migration moves one.
	 */
	int inactive_rx_bond, inactive_rx_vf;
};

typedef struct snapshot {
	agent_link *links;
	size_t n;
} snapshot;

static void snapshot_done(snapshot *s)
{
	free(s->links);
	s->links = NULL;
	s->n = 0;
}

static const agent_link *link_by_index(const snapshot *s, int ifindex)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->links[i].ifindex == ifindex)
			return &s->links[i];
	return NULL;
}

static const agent_link *link_by_name(const snapshot *s, const char *ifname)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->links[i].ifname, ifname))
			return &s->links[i];
	return NULL;
}

static json_object *mac_to_json(const uint8_t mac[6])
{
	char buf[18];

	snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
	return json_object_new_string(buf);
}

static json_object *ifname_or_null(const snapshot *s, int ifindex)
{
	const agent_link *l = ifindex > 0 ? link_by_index(s, ifindex) : NULL;

	return l ? json_object_new_string(l->ifname) : NULL;
}

static void bond_timer_update(agent_bond *b);

static void wait_remove(agent_bond *b, bond_wait *w)
{
	for (bond_wait **p = &b->waits; *p; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			break;
		}
	free(w);
}

/* Fetch the links and find the bond the job names; fails the job when that is impossible. */
static int bond_lookup(agent_bond *b, agent_job *j, snapshot *s, const agent_link **ret_bond)
{
	const char *name = agent_args_get_string(agent_job_args(j), "bond", "bond0");
	const agent_link *bond;
	int r;

	r = b->ops->links_get(b->ctx, &s->links, &s->n);
	if (r < 0) {
		agent_job_fail_errno(j, r, "Failed to read the links: %s", strerror(-r));
		return r;
	}
	bond = link_by_name(s, name);
	if (!bond || bond->role != AGENT_ROLE_BOND) {
		agent_job_fail(j, AGENT_ERROR_UNAVAILABLE, "There is no bond '%s' in this guest", name);
		snapshot_done(s);
		return -ENODEV;
	}
	*ret_bond = bond;
	return 0;
}

/* The slave the job names by "ifname" or "role"; fails the job when there is none. */
static const agent_link *bond_slave_pick(agent_job *j, const snapshot *s, const agent_link *bond)
{
	json_object *args = agent_job_args(j);
	const char *ifname = agent_args_get_string(args, "ifname", NULL);
	const char *role = agent_args_get_string(args, "role", NULL);

	for (size_t i = 0; i < s->n; i++) {
		const agent_link *l = &s->links[i];

		if (l->master != bond->ifindex)
			continue;
		if (ifname ? !strcmp(l->ifname, ifname) : !strcmp(agent_role_to_string(l->role), role))
			return l;
	}
	if (ifname)
		agent_job_fail(j, AGENT_ERROR_NOT_FOUND, "'%s' is not a slave of '%s'", ifname, bond->ifname);
	else
		agent_job_fail(j, AGENT_ERROR_NOT_FOUND, "'%s' has no slave with role '%s'", bond->ifname, role);
	return NULL;
}

static void bond_status(agent_bond *b, agent_job *j)
{
	_cleanup_(snapshot_done) snapshot s = {};
	const agent_link *bond, *active;
	json_object *o, *slaves, *free_vfs;

	if (bond_lookup(b, j, &s, &bond) < 0)
		return;
	active = bond->active_slave > 0 ? link_by_index(&s, bond->active_slave) : NULL;
	o = json_object_new_object();
	slaves = json_object_new_array();
	free_vfs = json_object_new_array();
	if (!o || !slaves || !free_vfs) {
		json_object_put(o);
		json_object_put(slaves);
		json_object_put(free_vfs);
		return agent_job_fail(j, AGENT_ERROR_FAILED, "Out of memory");
	}
	json_object_object_add(o, "bond", json_object_new_string(bond->ifname));
	json_object_object_add(o, "mode", json_object_new_string(bond->mode));
	json_object_object_add(o, "mac", mac_to_json(bond->mac));
	json_object_object_add(o, "carrier", json_object_new_boolean(bond->carrier));
	json_object_object_add(o, "active", active ? json_object_new_string(active->ifname) : NULL);
	json_object_object_add(o, "active-role",
			       active ? json_object_new_string(agent_role_to_string(active->role)) : NULL);
	for (size_t i = 0; i < s.n; i++) {
		const agent_link *l = &s.links[i];
		json_object *e;

		if (l->role == AGENT_ROLE_VF && l->master == 0)
			json_object_array_add(free_vfs, json_object_new_string(l->ifname));
		if (l->master != bond->ifindex)
			continue;
		e = json_object_new_object();
		if (!e)
			continue;
		json_object_object_add(e, "ifname", json_object_new_string(l->ifname));
		json_object_object_add(e, "role", json_object_new_string(agent_role_to_string(l->role)));
		json_object_object_add(e, "driver", json_object_new_string(l->driver));
		json_object_object_add(e, "mac", mac_to_json(l->mac));
		json_object_object_add(e, "perm-mac", l->has_perm_mac ? mac_to_json(l->perm_mac) : NULL);
		json_object_object_add(e, "carrier", json_object_new_boolean(l->carrier));
		json_object_object_add(e, "active", json_object_new_boolean(l->ifindex == bond->active_slave));
		json_object_array_add(slaves, e);
	}
	json_object_object_add(o, "slaves", slaves);
	json_object_object_add(o, "free-vfs", free_vfs);
	agent_job_return(j, o);
}

/* A VF enslaved to bond (ifindex), or 0. */
static int bond_vf(const snapshot *s, int bond)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->links[i].master == bond && s->links[i].role == AGENT_ROLE_VF)
			return s->links[i].ifindex;
	return 0;
}

/* Whether link ifindex is still a slave of bond. */
static bool bond_has_slave(const snapshot *s, int bond, int ifindex)
{
	const agent_link *l = link_by_index(s, ifindex);

	return l && l->master == bond;
}

static void bond_inactive_rx_off(agent_bond *b)
{
	int r;

	if (!b->inactive_rx_bond)
		return;
	r = b->ops->inactive_rx_set(b->ctx, b->inactive_rx_bond, false);
	if (r < 0 && r != -ENODEV)
		log_warning("Cannot turn all_slaves_active off again on bond %d: %s", b->inactive_rx_bond,
			    strerror(-r));
	b->inactive_rx_bond = 0;
	b->inactive_rx_vf = 0;
}

/* The end of the setting on bond, if the agent has it on there. */
static void bond_inactive_rx_end(agent_bond *b, int bond)
{
	if (b->inactive_rx_bond == bond)
		bond_inactive_rx_off(b);
}

/*
 * The switch in front of the VF and the standby goes on sending the VM's frames to the VF until
 * the bond's gratuitous ARP from the standby reaches it, and an active-backup bond drops what
 * arrives on an inactive slave: the netns lab lost 1-6 pings at the switch to the standby
 * (BENCHMARKS.md). So from that switch until that VF leaves the bond (its unplug), or is active
 * again (an undo), or a switch failed, the bond delivers what its inactive slaves receive
 * (all_slaves_active). It is never on while a new VF joins (bond-activate-vf turns it off
 * first): then the standby and the VF may both be in front of one switch that floods to both
 * (the SR-IOV lab's PF), and broadcasts would come twice. A bond that had it on is left as it
 * was. Its end is seen in a link notification: a dump of the links that fails then leaves it
 * on until the next notification or command. An agent killed within that window (from
 * the switch to the unplug) leaves it on, and broadcasts may arrive twice until the guest turns
 * it off: the agent cannot tell that setting from the guest's own.
 */
static void bond_inactive_rx_on(agent_bond *b, const snapshot *s, const agent_link *bond)
{
	int vf = bond_vf(s, bond->ifindex), r;

	if (b->inactive_rx_bond == bond->ifindex)
		return;
	bond_inactive_rx_off(b);
	if (bond->inactive_rx || !b->ops->inactive_rx_set || !vf)
		return;
	r = b->ops->inactive_rx_set(b->ctx, bond->ifindex, true);
	if (r < 0) {
		log_warning("Cannot make '%s' deliver what its inactive slaves receive: %s", bond->ifname,
			    strerror(-r));
		return;
	}
	b->inactive_rx_bond = bond->ifindex;
	b->inactive_rx_vf = vf;
}

static void bond_set_active(agent_bond *b, agent_job *j)
{
	_cleanup_(snapshot_done) snapshot s = {}, after = {};
	const agent_link *bond, *slave, *now;
	json_object *o;
	int previous, r;

	if (bond_lookup(b, j, &s, &bond) < 0)
		return;
	slave = bond_slave_pick(j, &s, bond);
	if (!slave)
		return;
	previous = bond->active_slave;
	if (slave->role == AGENT_ROLE_STANDBY)
		bond_inactive_rx_on(b, &s, bond);
	else
		bond_inactive_rx_end(b, bond->ifindex); /* the VF active again: the standby's undo */
	if (previous != slave->ifindex) {
		r = b->ops->active_set(b->ctx, bond->ifindex, slave->ifindex);
		if (r < 0) {
			bond_inactive_rx_end(b, bond->ifindex); /* the traffic stays where it was */
			return agent_job_fail_errno(j, r, "Failed to make '%s' the active slave of '%s': %s",
						    slave->ifname, bond->ifname, strerror(-r));
		}
		/* Trust the kernel's state, not the request's success: bonding may refuse quietly. */
		r = b->ops->links_get(b->ctx, &after.links, &after.n);
		if (r < 0) {
			bond_inactive_rx_end(b, bond->ifindex); /* failed: the daemon undoes the switch */
			return agent_job_fail_errno(j, r, "Failed to read the links: %s", strerror(-r));
		}
		now = link_by_name(&after, bond->ifname);
		if (!now || now->active_slave != slave->ifindex) {
			bond_inactive_rx_end(b, bond->ifindex);
			return agent_job_fail(j, AGENT_ERROR_FAILED,
					      "'%s' kept its active slave instead of '%s' (no carrier on it?)",
					      bond->ifname, slave->ifname);
		}
	}
	o = json_object_new_object();
	if (!o)
		return agent_job_fail(j, AGENT_ERROR_FAILED, "Out of memory");
	json_object_object_add(o, "bond", json_object_new_string(bond->ifname));
	json_object_object_add(o, "active", json_object_new_string(slave->ifname));
	json_object_object_add(o, "role", json_object_new_string(agent_role_to_string(slave->role)));
	json_object_object_add(o, "previous", ifname_or_null(&s, previous));
	agent_job_return(j, o);
}

static void bond_release(agent_bond *b, agent_job *j)
{
	_cleanup_(snapshot_done) snapshot s = {};
	const agent_link *bond, *slave;
	json_object *o;
	int r;

	if (bond_lookup(b, j, &s, &bond) < 0)
		return;
	slave = bond_slave_pick(j, &s, bond);
	if (!slave)
		return;
	r = b->ops->slave_del(b->ctx, bond->ifindex, slave->ifindex);
	if (r < 0)
		return agent_job_fail_errno(j, r, "Failed to release '%s' from '%s': %s", slave->ifname,
					    bond->ifname, strerror(-r));
	o = json_object_new_object();
	if (!o)
		return agent_job_fail(j, AGENT_ERROR_FAILED, "Out of memory");
	json_object_object_add(o, "bond", json_object_new_string(bond->ifname));
	json_object_object_add(o, "released", json_object_new_string(slave->ifname));
	agent_job_return(j, o);
}

static bond_wait *bond_wait_add(agent_bond *b, agent_job *j, bond_wait_kind kind, int bond, int ifindex,
				uint64_t delay_ms)
{
	bond_wait *w = calloc(1, sizeof(*w));

	if (!w) {
		agent_job_fail(j, AGENT_ERROR_FAILED, "Out of memory");
		return NULL;
	}
	w->kind = kind;
	w->job = j;
	w->bond = bond;
	w->ifindex = ifindex;
	w->started = uv_now(b->loop);
	w->deadline = w->started + delay_ms;
	w->next = b->waits;
	b->waits = w;
	bond_timer_update(b);
	return w;
}

static bool is_activate_wait(const bond_wait *w)
{
	return w->kind == BOND_WAIT_DEVICE || w->kind == BOND_WAIT_UDEV || w->kind == BOND_WAIT_CARRIER ||
	       w->kind == BOND_WAIT_ACTIVE;
}

/* Leave a wait: its time counts as the device's (it appearing, udev) or its link's. */
static void activate_wait_end(bond_wait *w, uint64_t now)
{
	uint64_t waited = now - w->wait_began;

	if (w->kind == BOND_WAIT_DEVICE || w->kind == BOND_WAIT_UDEV)
		w->device_ms += waited;
	else
		w->carrier_ms += waited;
	w->wait_began = now;
}

/* Wait (again) in kind until woken by a link change or deadline, at most until the job's end. */
static void activate_wait(agent_bond *b, bond_wait *w, bond_wait_kind kind, uint64_t deadline)
{
	w->kind = kind;
	w->deadline = MIN(deadline, w->end);
	bond_timer_update(b);
}

/* Answer the job with an error (an errno's code when error < 0, else code) and forget it. */
_printf_(5, 6)
static void activate_fail(agent_bond *b, bond_wait *w, int error, agent_error_code code, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (error < 0)
		agent_job_fail_errno(w->job, error, "%s", msg);
	else
		agent_job_fail(w->job, code, "%s", msg);
	wait_remove(b, w);
}

static void activate_done(agent_bond *b, bond_wait *w, const snapshot *s, const agent_link *bond,
			  const agent_link *vf, uint64_t now)
{
	json_object *o = json_object_new_object();

	if (!o)
		agent_job_fail(w->job, AGENT_ERROR_FAILED, "Out of memory");
	else {
		json_object_object_add(o, "bond", json_object_new_string(bond->ifname));
		json_object_object_add(o, "ifname", json_object_new_string(vf->ifname));
		json_object_object_add(o, "previous", ifname_or_null(s, w->previous));
		json_object_object_add(o, "device-ms", json_object_new_int64((int64_t)w->device_ms));
		json_object_object_add(o, "carrier-ms", json_object_new_int64((int64_t)w->carrier_ms));
		json_object_object_add(o, "took-ms", json_object_new_int64((int64_t)(now - w->started)));
		agent_job_return(w->job, o);
	}
	wait_remove(b, w);
}

/*
 * The new VF: the one VF in no bond, else (the guest's network stack may enslave it first:
 * systemd-networkd's Bond= reacts to the same hot-plug) one already in this bond. 0: none yet;
 * -1: several, the job failed.
 */
static int activate_pick(bond_wait *w, const snapshot *s, const agent_link *bond)
{
	const agent_link *vf = NULL;

	for (size_t i = 0; i < s->n; i++) {
		const agent_link *l = &s->links[i];

		if (l->role != AGENT_ROLE_VF || l->master != 0)
			continue;
		if (vf) {
			agent_job_fail(w->job, AGENT_ERROR_INVALID_ARGUMENT,
				       "Several VFs are in no bond ('%s', '%s'): which one is new?", vf->ifname,
				       l->ifname);
			return -1;
		}
		vf = l;
	}
	for (size_t i = 0; !vf && i < s->n; i++)
		if (s->links[i].role == AGENT_ROLE_VF && s->links[i].master == bond->ifindex)
			vf = &s->links[i];
	return vf ? vf->ifindex : 0;
}

/*
 * Take a bond-activate-vf as far as the links allow now, reading them afresh: called when the
 * request arrives, on every link change and when its deadline comes. It answers the job, or
 * leaves it waiting for the next of these.
 */
static void activate_advance(agent_bond *b, bond_wait *w)
{
	uint64_t now = uv_now(b->loop);
	bool expired = now >= w->end, enslaved = false, tried = false;

	activate_wait_end(w, now);
	/* Each pass reads the links afresh; each action (enslave, set active) is taken once. */
	for (;;) {
		_cleanup_(snapshot_done) snapshot s = {};
		const agent_link *bond, *vf;
		int r;

		r = b->ops->links_get(b->ctx, &s.links, &s.n);
		if (r < 0)
			return activate_fail(b, w, r, 0, "Failed to read the links: %s", strerror(-r));
		bond = link_by_index(&s, w->bond);
		if (!bond)
			return activate_fail(b, w, 0, AGENT_ERROR_NOT_FOUND, "The bond went away");
		if (w->ifindex == 0) {
			r = activate_pick(w, &s, bond);
			if (r < 0)
				return wait_remove(b, w);
			/* not-found, not timeout: the host may well ask again for a slow NIC, while a
			 * VF that is there without a link is a fault of its own. */
			if (r == 0 && expired)
				return activate_fail(b, w, 0, AGENT_ERROR_NOT_FOUND, "No VF appeared for '%s'",
						     bond->ifname);
			if (r == 0)
				return activate_wait(b, w, BOND_WAIT_DEVICE, w->end);
			w->ifindex = r;
			w->previous = bond->active_slave;
			/* udev gets at most half of what is left: the rest is for carrier and the bond. */
			w->udev_end = now + (w->end - now) / 2;
		}
		vf = link_by_index(&s, w->ifindex);
		if (!vf)
			return activate_fail(b, w, 0, AGENT_ERROR_NOT_FOUND, "The VF went away");
		if (vf->master != 0 && vf->master != bond->ifindex)
			return activate_fail(b, w, 0, AGENT_ERROR_FAILED, "'%s' is enslaved to another master than '%s'",
					     vf->ifname, bond->ifname);
		if (vf->master == 0 && enslaved)
			return activate_fail(b, w, 0, AGENT_ERROR_FAILED, "'%s' did not join '%s'", vf->ifname,
					     bond->ifname);
		if (vf->master == 0) {
			/*
			 * A VF just plugged may still be renamed by udev (the kernel's eth0 becoming
			 * enp1s0), which fails once the bond has brought it up: let udev finish first.
			 */
			if (vf->udev_pending && now < w->udev_end && !expired)
				return activate_wait(b, w, BOND_WAIT_UDEV, now + UDEV_POLL_MS);
			if (vf->udev_pending)
				log_warning("udev has not finished with '%s' after %llu ms: enslaving it as it is",
					    vf->ifname, (unsigned long long)(now - w->started));
			r = b->ops->slave_add(b->ctx, bond->ifindex, vf->ifindex);
			if (r < 0)
				return activate_fail(b, w, r, 0, "Failed to enslave '%s' to '%s': %s", vf->ifname,
						     bond->ifname, strerror(-r));
			enslaved = true;
			continue;
		}
		if (!vf->carrier && expired)
			return activate_fail(b, w, 0, AGENT_ERROR_TIMEOUT, "'%s' is enslaved to '%s' but has no carrier",
					     vf->ifname, bond->ifname);
		if (!vf->carrier)
			return activate_wait(b, w, BOND_WAIT_CARRIER, w->end);
		if (bond->active_slave == vf->ifindex)
			return activate_done(b, w, &s, bond, vf, now);
		if (tried && expired)
			return activate_fail(b, w, 0, AGENT_ERROR_TIMEOUT,
					     "'%s' kept its active slave instead of '%s': its link monitor never saw "
					     "the VF's link up", bond->ifname, vf->ifname);
		if (tried)
			return activate_wait(b, w, BOND_WAIT_ACTIVE, now + MII_POLL_MS);
		/*
		 * bonding refuses a slave its link monitor has not seen up yet: with EINVAL (6.x) or
		 * quietly (older kernels). Either is tried again; the next pass trusts the kernel's
		 * state, not the request's success.
		 */
		r = b->ops->active_set(b->ctx, bond->ifindex, vf->ifindex);
		if (r < 0 && r != -EINVAL)
			return activate_fail(b, w, r, 0, "Failed to make '%s' the active slave of '%s': %s",
					     vf->ifname, bond->ifname, strerror(-r));
		tried = true;
	}
}

static void bond_activate_vf(agent_bond *b, agent_job *j)
{
	_cleanup_(snapshot_done) snapshot s = {};
	int64_t timeout_ms = agent_args_get_int(agent_job_args(j), "timeout-ms", ACTIVATE_TIMEOUT_DEFAULT_MS);
	const agent_link *bond;
	bond_wait *w;

	for (bond_wait *x = b->waits; x; x = x->next)
		if (is_activate_wait(x))
			return agent_job_fail(j, AGENT_ERROR_BUSY, "Another bond-activate-vf is still waiting");
	if (bond_lookup(b, j, &s, &bond) < 0)
		return;
	bond_inactive_rx_end(b, bond->ifindex); /* never on while a new VF joins */
	w = bond_wait_add(b, j, BOND_WAIT_DEVICE, bond->ifindex, 0, (uint64_t)timeout_ms);
	if (!w)
		return;
	w->end = w->deadline;
	w->wait_began = w->started;
	activate_advance(b, w);
}

static void announce_round(agent_bond *b, bond_wait *w)
{
	_cleanup_(snapshot_done) snapshot s = {};
	const agent_link *bond;
	unsigned arp = 0, na = 0;
	json_object *o;
	int r;

	r = b->ops->links_get(b->ctx, &s.links, &s.n);
	bond = r < 0 ? NULL : link_by_index(&s, w->bond);
	if (!bond || bond->active_slave <= 0) {
		agent_job_fail(w->job, AGENT_ERROR_UNAVAILABLE, "The bond has no active slave to announce on");
		return wait_remove(b, w);
	}
	r = b->ops->announce(b->ctx, bond->ifindex, bond->active_slave, &arp, &na);
	if (r < 0) {
		agent_job_fail_errno(w->job, r, "Failed to announce on '%s': %s", bond->ifname, strerror(-r));
		return wait_remove(b, w);
	}
	w->arp += arp;
	w->na += na;
	w->ifindex = bond->active_slave;
	if (--w->rounds_left > 0) {
		w->deadline = uv_now(b->loop) + ANNOUNCE_INTERVAL_MS;
		return bond_timer_update(b);
	}
	o = json_object_new_object();
	if (!o)
		agent_job_fail(w->job, AGENT_ERROR_FAILED, "Out of memory");
	else {
		json_object_object_add(o, "bond", json_object_new_string(bond->ifname));
		json_object_object_add(o, "ifname", ifname_or_null(&s, w->ifindex));
		json_object_object_add(o, "arp", json_object_new_int64(w->arp));
		json_object_object_add(o, "na", json_object_new_int64(w->na));
		agent_job_return(w->job, o);
	}
	wait_remove(b, w);
}

static void bond_announce(agent_bond *b, agent_job *j)
{
	_cleanup_(snapshot_done) snapshot s = {};
	const agent_link *bond;
	bond_wait *w;

	if (bond_lookup(b, j, &s, &bond) < 0)
		return;
	w = bond_wait_add(b, j, BOND_WAIT_ANNOUNCE, bond->ifindex, 0, 0);
	if (!w)
		return;
	w->rounds_left = (unsigned)agent_args_get_int(agent_job_args(j), "count", 1);
	announce_round(b, w);
}

static void bond_timer_fire(uv_timer_t *t)
{
	agent_bond *b = t->data;
	uint64_t now = uv_now(b->loop);
	bond_wait *w;

	/* One due wait at a time: finishing one changes the list. */
	for (;;) {
		for (w = b->waits; w && w->deadline > now; w = w->next)
			;
		if (!w)
			break;
		if (w->kind == BOND_WAIT_ANNOUNCE)
			announce_round(b, w);
		else
			activate_advance(b, w);
		now = uv_now(b->loop);
	}
	bond_timer_update(b);
}

static void bond_timer_update(agent_bond *b)
{
	uint64_t next = UINT64_MAX, now = uv_now(b->loop);

	for (bond_wait *w = b->waits; w; w = w->next)
		if (w->deadline < next)
			next = w->deadline;
	if (next == UINT64_MAX)
		uv_timer_stop(&b->timer);
	else
		uv_timer_start(&b->timer, bond_timer_fire, next > now ? next - now : 0, 0);
}

static json_object *event_data(const agent_link *l)
{
	json_object *o = json_object_new_object();

	if (o) {
		json_object_object_add(o, "ifname", json_object_new_string(l->ifname));
		json_object_object_add(o, "role", json_object_new_string(agent_role_to_string(l->role)));
	}
	return o;
}

static void bond_events_push(agent_bond *b, const snapshot *old, const snapshot *cur)
{
	for (size_t i = 0; i < cur->n; i++) {
		const agent_link *l = &cur->links[i], *was = link_by_index(old, l->ifindex);
		json_object *o;

		if (!was) {
			if (l->role != AGENT_ROLE_VF || !(o = json_object_new_object()))
				continue;
			json_object_object_add(o, "ifname", json_object_new_string(l->ifname));
			json_object_object_add(o, "driver", json_object_new_string(l->driver));
			json_object_object_add(o, "mac", mac_to_json(l->mac));
			agent_server_event(b->server, AGENT_EVENT_VF_ADDED, o);
			continue;
		}
		if (l->role != AGENT_ROLE_OTHER && l->carrier != was->carrier)
			agent_server_event(b->server, l->carrier ? AGENT_EVENT_LINK_UP : AGENT_EVENT_LINK_DOWN,
					   event_data(l));
		if (l->role == AGENT_ROLE_BOND && l->active_slave != was->active_slave) {
			const agent_link *active = link_by_index(cur, l->active_slave);

			if (!(o = json_object_new_object()))
				continue;
			json_object_object_add(o, "bond", json_object_new_string(l->ifname));
			json_object_object_add(o, "active", ifname_or_null(cur, l->active_slave));
			json_object_object_add(o, "role", active ? json_object_new_string(
							      agent_role_to_string(active->role)) : NULL);
			json_object_object_add(o, "previous", ifname_or_null(old, was->active_slave));
			agent_server_event(b->server, AGENT_EVENT_ACTIVE_CHANGED, o);
		}
	}
	for (size_t i = 0; i < old->n; i++) {
		const agent_link *l = &old->links[i];
		json_object *o;

		if (l->role != AGENT_ROLE_VF || link_by_index(cur, l->ifindex) || !(o = json_object_new_object()))
			continue;
		json_object_object_add(o, "ifname", json_object_new_string(l->ifname));
		agent_server_event(b->server, AGENT_EVENT_VF_REMOVED, o);
	}
}

void agent_bond_links_changed(agent_bond *b)
{
	snapshot old = { b->links, b->n_links }, cur = {};
	bond_wait *w, *next;
	int r;

	r = b->ops->links_get(b->ctx, &cur.links, &cur.n);
	if (r < 0) {
		log_debug_errno(r, "Failed to read the links: %m");
		return;
	}
	bond_events_push(b, &old, &cur);
	/* The VF left the bond (unplugged or released). */
	if (b->inactive_rx_bond && !bond_has_slave(&cur, b->inactive_rx_bond, b->inactive_rx_vf))
		bond_inactive_rx_off(b);
	for (w = b->waits; w; w = next) {
		next = w->next;
		if (is_activate_wait(w))
			activate_advance(b, w);
	}
	snapshot_done(&old);
	b->links = cur.links;
	b->n_links = cur.n;
	bond_timer_update(b);
}

void agent_bond_run(agent_bond *b, agent_job *j)
{
	switch (agent_job_command(j)) {
	case AGENT_CMD_BOND_STATUS:
		return bond_status(b, j);
	case AGENT_CMD_BOND_SET_ACTIVE:
		return bond_set_active(b, j);
	case AGENT_CMD_BOND_ACTIVATE_VF:
		return bond_activate_vf(b, j);
	case AGENT_CMD_BOND_RELEASE:
		return bond_release(b, j);
	case AGENT_CMD_ANNOUNCE:
		return bond_announce(b, j);
	default:
		return agent_job_fail(j, AGENT_ERROR_UNKNOWN_COMMAND, "Not a bond command");
	}
}

int agent_bond_new(uv_loop_t *loop, const agent_net_ops *ops, void *ctx, agent_server *server,
		   agent_bond **ret)
{
	agent_bond *b = calloc(1, sizeof(*b));

	if (!b)
		return -ENOMEM;
	b->loop = loop;
	b->ops = ops;
	b->ctx = ctx;
	b->server = server;
	uv_timer_init(loop, &b->timer);
	b->timer.data = b;
	/* The baseline for the first events; without one, every link would look new. */
	if (ops->links_get(ctx, &b->links, &b->n_links) < 0) {
		b->links = NULL;
		b->n_links = 0;
	}
	*ret = b;
	return 0;
}

static void bond_closed(uv_handle_t *h)
{
	agent_bond *b = h->data;

	free(b->links);
	free(b);
}

void agent_bond_free(agent_bond *b)
{
	if (!b)
		return;
	while (b->waits) {
		bond_wait *w = b->waits;

		agent_job_fail(w->job, AGENT_ERROR_FAILED, "The agent is shutting down");
		wait_remove(b, w);
	}
	bond_inactive_rx_off(b); /* stopped in the middle of a migration: the bond as it was */
	uv_close((uv_handle_t *)&b->timer, bond_closed);
}
