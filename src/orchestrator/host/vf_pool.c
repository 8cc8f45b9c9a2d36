// SPDX-License-Identifier: GPL-2.0-or-later
#include "host/vf_pool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "daemon/state_file.h"
#include "host/sriov_pool.h"

typedef struct vf_pool_entry {
	char *name;    /* slot name or PCI address; "PF vf N" for a VF that does not exist */
	char *owner;   /* NULL when free */
	char *problem; /* why it cannot be handed out, or NULL */
	int vf_index;  /* sriov: the PF's virtfnN; else -1 */
} vf_pool_entry;

struct vf_pool {
	char *path;
	size_t n;
	vf_pool_entry *entries;
	const host_config *config;
	sriov_pool *sriov; /* sriov pools only */
};

static int vf_pool_save(vf_pool *p)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	json_object *res = json_object_new_object();

	/* Every reservation, also of a VF with a problem: the file is what a restart trusts. */
	for (size_t i = 0; i < p->n; i++)
		if (p->entries[i].owner || !p->entries[i].problem)
			json_object_object_add(res, p->entries[i].name,
					       p->entries[i].owner ?
						       json_object_new_string(p->entries[i].owner) :
						       NULL);
	json_object_object_add(o, "reservations", res);
	return state_file_write(p->path, o);
}

static ssize_t vf_pool_index(const vf_pool *p, const char *vf)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->entries[i].name, vf))
			return (ssize_t)i;
	return -1;
}

static int vf_pool_add(vf_pool *p, const char *name, const char *problem, int vf_index)
{
	vf_pool_entry *e = &p->entries[p->n];

	e->name = strdup(name);
	e->problem = problem ? strdup(problem) : NULL;
	e->vf_index = vf_index;
	if (!e->name || (problem && !e->problem)) {
		free(e->name);
		free(e->problem);
		return -ENOMEM;
	}
	p->n++;
	return 0;
}

/* The saved reservations decide what is in use while the PF's VFs are set up. */
static bool vf_pool_saved_owner(const char *bdf, void *userdata)
{
	json_object *res = userdata, *owner;

	return res && json_object_object_get_ex(res, bdf, &owner) &&
	       json_object_is_type(owner, json_type_string);
}

static int vf_pool_fill(vf_pool *p, const host_config *c, const sysfs *fs, json_object *saved,
			char **ret_error)
{
	sysfs host = { .root = c->system_root ? c->system_root : "/" };
	int r;

	p->entries = calloc(c->n_vfs ? c->n_vfs : 1, sizeof(vf_pool_entry));
	if (!p->entries)
		return -ENOMEM;
	if (c->passthrough != PASSTHROUGH_SRIOV) {
		for (size_t i = 0; i < c->n_vfs; i++)
			if ((r = vf_pool_add(p, c->vfs[i], NULL, -1)) < 0)
				return r;
		return 0;
	}
	r = sriov_pool_setup(fs ? fs : &host, c->sriov.pf, c->sriov.vfs, vf_pool_saved_owner, saved,
			     &p->sriov, ret_error);
	if (r < 0)
		return r;
	for (size_t i = 0; i < p->sriov->n; i++) {
		const sriov_vf *vf = &p->sriov->vfs[i];
		char missing[64];

		snprintf(missing, sizeof(missing), "%s vf %u", c->sriov.pf, vf->index);
		r = vf_pool_add(p, vf->bdf[0] ? vf->bdf : missing, vf->problem, (int)vf->index);
		if (r < 0)
			return r;
	}
	return 0;
}

int vf_pool_open(const host_config *c, const sysfs *fs, vf_pool **ret, char **ret_error)
{
	_cleanup_json_ json_object *saved = NULL;
	json_object *res = NULL;
	vf_pool *p;
	int r;

	*ret_error = NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->config = c;
	if (asprintf(&p->path, "%s/vf-pool.json", c->state_dir) < 0) {
		p->path = NULL;
		vf_pool_free(p);
		return -ENOMEM;
	}
	r = state_file_read(p->path, &saved);
	if (r < 0 && r != -ENOENT) {
		if (asprintf(ret_error, "cannot read '%s': %s", p->path, strerror(-r)) < 0)
			*ret_error = NULL;
		vf_pool_free(p);
		return r;
	}
	if (saved && json_object_object_get_ex(saved, "reservations", &res) &&
	    !json_object_is_type(res, json_type_object)) {
		/* Guessing could hand a VF to two VMs: a file of the wrong shape stops us. */
		if (asprintf(ret_error, "'%s' is damaged: \"reservations\" is not an object",
			     p->path) < 0)
			*ret_error = NULL;
		vf_pool_free(p);
		return -EBADMSG;
	}
	r = vf_pool_fill(p, c, fs, res, ret_error);
	if (r < 0) {
		vf_pool_free(p);
		return r;
	}
	if (res) {
		json_object_object_foreach(res, vf, owner) {
			ssize_t i = vf_pool_index(p, vf);

			if (!json_object_is_type(owner, json_type_string))
				continue;
			/* A VF that left the configuration, or the PF, cannot be handed out any more. */
			if (i < 0) {
				log_warning("VF '%s' held by '%s' is gone from the pool; its reservation "
					    "is dropped",
					    vf, json_object_get_string(owner));
				continue;
			}
			p->entries[i].owner = strdup(json_object_get_string(owner));
		}
	}
	*ret = p;
	return 0;
}

vf_pool *vf_pool_free(vf_pool *p)
{
	if (!p)
		return NULL;
	for (size_t i = 0; i < p->n; i++) {
		free(p->entries[i].name);
		free(p->entries[i].owner);
		free(p->entries[i].problem);
	}
	free(p->entries);
	sriov_pool_free(p->sriov);
	free(p->path);
	free(p);
	return NULL;
}

static int vf_pool_set(vf_pool *p, size_t i, const char *owner)
{
	char *old = p->entries[i].owner;
	int r;

	p->entries[i].owner = owner ? strdup(owner) : NULL;
	if (owner && !p->entries[i].owner) {
		p->entries[i].owner = old;
		return -ENOMEM;
	}
	r = vf_pool_save(p);
	if (r < 0) {
		free(p->entries[i].owner);
		p->entries[i].owner = old;
		return r;
	}
	free(old);
	return 0;
}

int vf_pool_reserve(vf_pool *p, const char *owner, const char **ret_vf)
{
	for (size_t i = 0; i < p->n; i++) {
		int r;

		if (p->entries[i].owner || p->entries[i].problem)
			continue;
		r = vf_pool_set(p, i, owner);
		if (r < 0)
			return r;
		*ret_vf = p->entries[i].name;
		return 0;
	}
	return -ENOSPC;
}

int vf_pool_claim(vf_pool *p, const char *vf, const char *owner)
{
	ssize_t i = vf_pool_index(p, vf);

	if (i < 0)
		return -ENOENT;
	if (p->entries[i].owner)
		return strcmp(p->entries[i].owner, owner) ? -EBUSY : 0;
	return vf_pool_set(p, (size_t)i, owner);
}

int vf_pool_release(vf_pool *p, const char *vf, const char *owner)
{
	ssize_t i = vf_pool_index(p, vf);

	if (i < 0 || !p->entries[i].owner || strcmp(p->entries[i].owner, owner))
		return -ENOENT;
	return vf_pool_set(p, (size_t)i, NULL);
}

size_t vf_pool_count_free(const vf_pool *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		n += !p->entries[i].owner && !p->entries[i].problem;
	return n;
}

const char *vf_pool_find(const vf_pool *p, const char *owner)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->entries[i].owner && !strcmp(p->entries[i].owner, owner))
			return p->entries[i].name;
	return NULL;
}

int vf_pool_reconcile(vf_pool *p, bool (*alive)(const char *owner, void *userdata),
		      void *userdata)
{
	int released = 0;

	for (size_t i = 0; i < p->n; i++) {
		_cleanup_free_ char *owner = NULL;

		if (!p->entries[i].owner || alive(p->entries[i].owner, userdata))
			continue;
		owner = strdup(p->entries[i].owner);
		if (!owner || vf_pool_set(p, i, NULL) < 0)
			continue;
		log_info("VF '%s' was held by '%s', which is gone: free again", p->entries[i].name,
			 owner);
		released++;
	}
	return released;
}

json_object *vf_pool_to_json(const vf_pool *p)
{
	json_object *o = json_object_new_object();

	for (size_t i = 0; i < p->n; i++)
		if (!p->entries[i].problem || p->entries[i].owner)
			json_object_object_add(o, p->entries[i].name,
					       p->entries[i].owner ?
						       json_object_new_string(p->entries[i].owner) :
						       NULL);
	return o;
}

json_object *vf_pool_problems_to_json(const vf_pool *p)
{
	json_object *o = json_object_new_object();

	for (size_t i = 0; i < p->n; i++)
		if (p->entries[i].problem)
			json_object_object_add(o, p->entries[i].name,
					       json_object_new_string(p->entries[i].problem));
	return o;
}

int vf_pool_port_of(const vf_pool *p, const char *vf, vf_pool_port *ret)
{
	ssize_t i;

	if (!p->sriov)
		return -EOPNOTSUPP;
	i = vf_pool_index(p, vf);
	if (i < 0 || p->entries[i].vf_index < 0)
		return -ENOENT;
	*ret = (vf_pool_port){ .pf_ifname = p->sriov->pf.ifname,
			       .pf_ifindex = p->sriov->pf.ifindex,
			       .vf_index = (unsigned)p->entries[i].vf_index,
			       .settings = &p->config->sriov.settings };
	return 0;
}
