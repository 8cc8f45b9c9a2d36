// SPDX-License-Identifier: GPL-2.0-or-later
#include "agent_bond.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "macro.h"

#define ENSLAVE_TIMEOUT_DEFAULT_MS 10000
#define ANNOUNCE_INTERVAL_MS 100
/* How often a VF that udev has not finished with is looked at again (no event tells). */
#define UDEV_POLL_MS 20

typedef enum bond_wait_kind {
	BOND_WAIT_UDEV,     /* bond-enslave-vf: until udev is done with ifindex, then enslave it */
	BOND_WAIT_CARRIER,  /* bond-enslave-vf: until ifindex has carrier */
	BOND_WAIT_ANNOUNCE, /* announce: the next round */
} bond_wait_kind;

typedef struct bond_wait {
	struct bond_wait *next;
	bond_wait_kind kind;
	agent_job *job;
	uint64_t started, deadline; /* uv_now() ms */
	uint64_t timeout_ms;        /* bond-enslave-vf: the whole wait, from started */
	int bond, ifindex;
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
	if (previous != slave->ifindex) {
		r = b->ops->active_set(b->ctx, bond->ifindex, slave->ifindex);
		if (r < 0)
			return agent_job_fail_errno(j, r, "Failed to make '%s' the active slave of '%s': %s",
						    slave->ifname, bond->ifname, strerror(-r));
		/* Trust the kernel's state, not the request's success: bonding may refuse quietly. */
		r = b->ops->links_get(b->ctx, &after.links, &after.n);
		if (r < 0)
			return agent_job_fail_errno(j, r, "Failed to read the links: %s", strerror(-r));
		now = link_by_name(&after, bond->ifname);
		if (!now || now->active_slave != slave->ifindex)
			return agent_job_fail(j, AGENT_ERROR_FAILED,
					      "'%s' kept its active slave instead of '%s' (no carrier on it?)",
					      bond->ifname, slave->ifname);
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

static void enslave_finish(agent_bond *b, bond_wait *w, const snapshot *s, bool carrier)
{
	const agent_link *bond = link_by_index(s, w->bond), *vf = link_by_index(s, w->ifindex);
	uint64_t waited = uv_now(b->loop) - w->started;
	json_object *o;

	if (!bond || !vf)
		agent_job_fail(w->job, AGENT_ERROR_NOT_FOUND, "The VF or the bond went away while waiting for carrier");
	else if (!carrier)
		agent_job_fail(w->job, AGENT_ERROR_TIMEOUT, "'%s' is enslaved to '%s' but has no carrier after %llu ms",
			       vf->ifname, bond->ifname, (unsigned long long)waited);
	else if (!(o = json_object_new_object()))
		agent_job_fail(w->job, AGENT_ERROR_FAILED, "Out of memory");
	else {
		json_object_object_add(o, "bond", json_object_new_string(bond->ifname));
		json_object_object_add(o, "ifname", json_object_new_string(vf->ifname));
		json_object_object_add(o, "carrier", json_object_new_boolean(true));
		json_object_object_add(o, "waited-ms", json_object_new_int64((int64_t)waited));
		agent_job_return(w->job, o);
	}
	wait_remove(b, w);
}

/* Enslave the VF the wait is for (unless it is in the bond already), then wait for its carrier. */
static void enslave_start(agent_bond *b, bond_wait *w, const snapshot *s)
{
	_cleanup_(snapshot_done) snapshot after = {};
	const agent_link *bond = link_by_index(s, w->bond), *vf = link_by_index(s, w->ifindex), *now;
	int r;

	w->kind = BOND_WAIT_CARRIER;
	w->deadline = w->started + w->timeout_ms;
	bond_timer_update(b);
	if (!bond || !vf) {
		agent_job_fail(w->job, AGENT_ERROR_NOT_FOUND, "The VF or the bond went away while waiting for udev");
		return wait_remove(b, w);
	}
	if (vf->master != 0 && vf->master != bond->ifindex) {
		agent_job_fail(w->job, AGENT_ERROR_FAILED, "'%s' is already enslaved elsewhere", vf->ifname);
		return wait_remove(b, w);
	}
	if (vf->master == 0) {
		r = b->ops->slave_add(b->ctx, bond->ifindex, vf->ifindex);
		if (r < 0) {
			agent_job_fail_errno(w->job, r, "Failed to enslave '%s' to '%s': %s", vf->ifname,
					     bond->ifname, strerror(-r));
			return wait_remove(b, w);
		}
	}
	r = b->ops->links_get(b->ctx, &after.links, &after.n);
	if (r < 0) {
		agent_job_fail_errno(w->job, r, "Failed to read the links: %s", strerror(-r));
		return wait_remove(b, w);
	}
	now = link_by_index(&after, vf->ifindex);
	if (!now || now->carrier || w->timeout_ms == 0)
		enslave_finish(b, w, &after, now && now->carrier);
}

/* A poll of a VF udev has not finished with: enslave it once udev is done or half the wait is up. */
static void udev_wait_poll(agent_bond *b, bond_wait *w)
{
	_cleanup_(snapshot_done) snapshot s = {};
	const agent_link *vf;
	uint64_t now = uv_now(b->loop);

	if (b->ops->links_get(b->ctx, &s.links, &s.n) < 0)
		s.n = 0;
	vf = link_by_index(&s, w->ifindex);
	if (vf && vf->udev_pending && now < w->started + w->timeout_ms / 2) {
		w->deadline = now + UDEV_POLL_MS;
		return;
	}
	if (vf && vf->udev_pending)
		log_warning("udev has not finished with '%s' after %llu ms: enslaving it as it is", vf->ifname,
			    (unsigned long long)(now - w->started));
	enslave_start(b, w, &s);
}

static void bond_enslave_vf(agent_bond *b, agent_job *j)
{
	_cleanup_(snapshot_done) snapshot s = {};
	json_object *args = agent_job_args(j);
	const char *ifname = agent_args_get_string(args, "ifname", NULL);
	int64_t timeout_ms = agent_args_get_int(args, "timeout-ms", ENSLAVE_TIMEOUT_DEFAULT_MS);
	const agent_link *bond, *vf = NULL;
	bond_wait *w;

	for (bond_wait *x = b->waits; x; x = x->next)
		if (x->kind == BOND_WAIT_UDEV || x->kind == BOND_WAIT_CARRIER)
			return agent_job_fail(j, AGENT_ERROR_BUSY, "Another bond-enslave-vf is still waiting");
	if (bond_lookup(b, j, &s, &bond) < 0)
		return;
	if (ifname) {
		vf = link_by_name(&s, ifname);
		if (!vf)
			return agent_job_fail(j, AGENT_ERROR_NOT_FOUND, "There is no interface '%s'", ifname);
		if (vf->role != AGENT_ROLE_VF)
			return agent_job_fail(j, AGENT_ERROR_INVALID_ARGUMENT, "'%s' is not a VF (driver '%s')",
					      ifname, vf->driver);
	} else
		for (size_t i = 0; i < s.n; i++) {
			const agent_link *l = &s.links[i];

			if (l->role != AGENT_ROLE_VF || l->master != 0)
				continue;
			if (vf)
				return agent_job_fail(j, AGENT_ERROR_INVALID_ARGUMENT,
						      "Several VFs are in no bond ('%s', '%s'): name one with 'ifname'",
						      vf->ifname, l->ifname);
			vf = l;
		}
	/*
	 * The guest's own network stack may have enslaved the new VF first (systemd-networkd's
	 * Bond= in the VF's .network file reacts to the same hot-plug): with no VF outside a bond,
	 * the one in this bond is the VF to wait for.
	 */
	for (size_t i = 0; !vf && !ifname && i < s.n; i++)
		if (s.links[i].role == AGENT_ROLE_VF && s.links[i].master == bond->ifindex)
			vf = &s.links[i];
	if (!vf)
		return agent_job_fail(j, AGENT_ERROR_NOT_FOUND, "No VF outside a bond: was one plugged in?");
	if (vf->master != 0 && vf->master != bond->ifindex)
		return agent_job_fail(j, AGENT_ERROR_FAILED, "'%s' is already enslaved elsewhere", vf->ifname);
	w = bond_wait_add(b, j, BOND_WAIT_CARRIER, bond->ifindex, vf->ifindex, (uint64_t)timeout_ms);
	if (!w)
		return;
	w->timeout_ms = (uint64_t)timeout_ms;
	/*
	 * A VF just plugged may still be renamed by udev (the kernel's eth0 becoming enp1s0), which
	 * fails once the bond has brought it up: let udev finish first, for at most half the wait.
	 */
	if (vf->master == 0 && vf->udev_pending && timeout_ms > 0) {
		w->kind = BOND_WAIT_UDEV;
		w->deadline = w->started + UDEV_POLL_MS;
		return bond_timer_update(b);
	}
	enslave_start(b, w, &s);
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
		else if (w->kind == BOND_WAIT_UDEV)
			udev_wait_poll(b, w);
		else {
			_cleanup_(snapshot_done) snapshot s = {};
			const agent_link *l;

			if (b->ops->links_get(b->ctx, &s.links, &s.n) < 0)
				s.n = 0;
			l = link_by_index(&s, w->ifindex);
			enslave_finish(b, w, &s, l && l->carrier);
		}
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
	for (w = b->waits; w; w = next) {
		const agent_link *l;

		next = w->next;
		if (w->kind != BOND_WAIT_CARRIER)
			continue;
		l = link_by_index(&cur, w->ifindex);
		if (!l || l->carrier)
			enslave_finish(b, w, &cur, l && l->carrier);
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
	case AGENT_CMD_BOND_ENSLAVE_VF:
		return bond_enslave_vf(b, j);
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
	uv_close((uv_handle_t *)&b->timer, bond_closed);
}
