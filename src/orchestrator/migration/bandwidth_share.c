// SPDX-License-Identifier: GPL-2.0-or-later
/* The host-wide migration bandwidth cap shared between concurrent copies (bandwidth_share.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon.h"
#include "host/vm.h"
#include "log.h"
#include "migration/bandwidth_share.h"
#include "migration/vm_backend.h"

typedef struct member {
	char *name;
	uint64_t own;   /* its own limit, 0: none */
	uint64_t share; /* what it was last given */
	uint64_t next;  /* in compute(): what it gets now */
	bool fixed;     /* in compute(): takes its own limit, below the fair share */
} member;

struct bandwidth_share {
	uint64_t cap;
	bandwidth_apply_fn apply;
	void *userdata;
	member *m;
	unsigned n;
};

bandwidth_share *bandwidth_share_new(uint64_t cap_mibps, bandwidth_apply_fn apply, void *userdata)
{
	bandwidth_share *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->cap = cap_mibps;
	s->apply = apply;
	s->userdata = userdata;
	return s;
}

bandwidth_share *bandwidth_share_free(bandwidth_share *s)
{
	if (!s)
		return NULL;
	for (unsigned i = 0; i < s->n; i++)
		free(s->m[i].name);
	free(s->m);
	free(s);
	return NULL;
}

static member *find(const bandwidth_share *s, const char *name)
{
	for (unsigned i = 0; i < s->n; i++)
		if (!strcmp(s->m[i].name, name))
			return &s->m[i];
	return NULL;
}

/*
 * Max-min fairness (water filling): the members whose own limit is below an equal split of what
 * is left take their own limit, and the rest split the remainder equally, rounded down so the
 * sum stays within the cap. A share is at least 1 MiB/s: QEMU reads 0 as its default, not as a
 * stop (with more jobs than MiB/s the cap is overrun by that much; a cap that low is not real).
 */
static void compute(bandwidth_share *s)
{
	uint64_t left = s->cap;
	unsigned open = s->n;
	bool changed = true;

	for (unsigned i = 0; i < s->n; i++)
		s->m[i].fixed = false;
	while (changed && open > 0) {
		changed = false;
		for (unsigned i = 0; i < s->n; i++) {
			member *m = &s->m[i];

			if (m->fixed || !m->own || m->own > left / open)
				continue;
			m->fixed = true;
			left -= m->own;
			open--;
			changed = true;
			if (!open)
				break;
		}
	}
	for (unsigned i = 0; i < s->n; i++) {
		uint64_t v = s->m[i].fixed ? s->m[i].own : left / (open ? open : 1);

		s->m[i].next = v ? v : 1;
	}
}

/* Recompute; every member but `except` whose share changed is told. */
static void rebalance(bandwidth_share *s, const char *except)
{
	if (!s->cap)
		return; /* each job has its own setting, unaffected by the others */
	compute(s);
	for (unsigned i = 0; i < s->n; i++) {
		member *m = &s->m[i];

		if (m->share == m->next)
			continue;
		m->share = m->next;
		if ((!except || strcmp(m->name, except)) && s->apply)
			s->apply(m->name, m->share, s->userdata);
	}
}

uint64_t bandwidth_share_join(bandwidth_share *s, const char *name, uint64_t own_mibps)
{
	member *m, *grown;

	if (!s)
		return own_mibps; /* a daemon without one (tests that build their own) */
	m = find(s, name);
	if (!m) {
		char *copy = strdup(name);

		grown = copy ? realloc(s->m, (s->n + 1) * sizeof(*s->m)) : NULL;
		if (!grown) {
			/* Out of memory: the job copies at its own setting, the cap unenforced. */
			free(copy);
			log_warning("%s: out of memory: its copy is not counted against the host's cap",
				    name);
			return own_mibps;
		}
		s->m = grown;
		m = &s->m[s->n++];
		*m = (member){ .name = copy };
	}
	m->own = own_mibps;
	if (!s->cap) {
		m->share = own_mibps;
		return own_mibps;
	}
	rebalance(s, name);
	return m->share;
}

void bandwidth_share_leave(bandwidth_share *s, const char *name)
{
	member *m = s ? find(s, name) : NULL;

	if (!m)
		return;
	free(m->name);
	*m = s->m[--s->n];
	rebalance(s, NULL);
}

uint64_t bandwidth_share_of(const bandwidth_share *s, const char *name)
{
	const member *m = s ? find(s, name) : NULL;

	return m ? m->share : 0;
}

unsigned bandwidth_share_count(const bandwidth_share *s)
{
	return s ? s->n : 0;
}

static void apply_on_reply(int error, json_object *ret, const char *message, void *userdata)
{
	if (error < 0)
		log_warning("Setting a migration's bandwidth share failed: %s",
			    message ? message : strerror(-error));
}

void bandwidth_share_apply_backend(const char *vm_name, uint64_t mibps, void *userdata)
{
	host_daemon *d = userdata;
	vm *v = vm_find(d, vm_name);

	log_info("%s: migration bandwidth share now %llu MiB/s (host cap %llu MiB/s)", vm_name,
		 (unsigned long long)mibps, (unsigned long long)d->config->migration_bandwidth_cap_mibps);
	if (!v || vm_backend_of(v)->migrate_set_bandwidth(v, mibps, apply_on_reply, NULL) < 0)
		log_warning("%s: could not give its copy its bandwidth share", vm_name);
}
