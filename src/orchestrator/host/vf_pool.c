// SPDX-License-Identifier: GPL-2.0-or-later
#include "host/vf_pool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "daemon/state_file.h"

struct vf_pool {
	char *path;
	size_t n;
	char **vfs;    /* borrowed from the host config */
	char **owners; /* owners[i] holds vfs[i]; NULL when free */
};

static int vf_pool_save(vf_pool *p)
{
	_cleanup_json_ json_object *o = json_object_new_object();

	json_object_object_add(o, "reservations", vf_pool_to_json(p));
	return state_file_write(p->path, o);
}

static ssize_t vf_pool_index(const vf_pool *p, const char *vf)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->vfs[i], vf))
			return (ssize_t)i;
	return -1;
}

int vf_pool_open(const host_config *c, vf_pool **ret)
{
	_cleanup_json_ json_object *saved = NULL;
	json_object *res;
	vf_pool *p;
	int r;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->n = c->n_vfs;
	p->vfs = c->vfs;
	p->owners = calloc(p->n ? p->n : 1, sizeof(char *));
	if (!p->owners || asprintf(&p->path, "%s/vf-pool.json", c->state_dir) < 0) {
		vf_pool_free(p);
		return -ENOMEM;
	}

	r = state_file_read(p->path, &saved);
	if (r < 0 && r != -ENOENT) {
		log_debug_errno(r, "Failed to read '%s': %m", p->path);
		vf_pool_free(p);
		return r;
	}
	if (saved && json_object_object_get_ex(saved, "reservations", &res)) {
		/* Guessing could hand a VF to two VMs: a file of the wrong shape stops us. */
		if (!json_object_is_type(res, json_type_object)) {
			vf_pool_free(p);
			return -EBADMSG;
		}
		json_object_object_foreach(res, vf, owner) {
			ssize_t i = vf_pool_index(p, vf);

			/* A VF that left the configuration cannot be handed out any more. */
			if (i < 0 || !json_object_is_type(owner, json_type_string))
				continue;
			p->owners[i] = strdup(json_object_get_string(owner));
		}
	}
	*ret = p;
	return 0;
}

vf_pool *vf_pool_free(vf_pool *p)
{
	if (!p)
		return NULL;
	for (size_t i = 0; p->owners && i < p->n; i++)
		free(p->owners[i]);
	free(p->owners);
	free(p->path);
	free(p);
	return NULL;
}

static int vf_pool_set(vf_pool *p, size_t i, const char *owner)
{
	char *old = p->owners[i];
	int r;

	p->owners[i] = owner ? strdup(owner) : NULL;
	if (owner && !p->owners[i]) {
		p->owners[i] = old;
		return -ENOMEM;
	}
	r = vf_pool_save(p);
	if (r < 0) {
		free(p->owners[i]);
		p->owners[i] = old;
		return r;
	}
	free(old);
	return 0;
}

int vf_pool_reserve(vf_pool *p, const char *owner, const char **ret_vf)
{
	for (size_t i = 0; i < p->n; i++) {
		int r;

		if (p->owners[i])
			continue;
		r = vf_pool_set(p, i, owner);
		if (r < 0)
			return r;
		*ret_vf = p->vfs[i];
		return 0;
	}
	return -ENOSPC;
}

int vf_pool_claim(vf_pool *p, const char *vf, const char *owner)
{
	ssize_t i = vf_pool_index(p, vf);

	if (i < 0)
		return -ENOENT;
	if (p->owners[i])
		return strcmp(p->owners[i], owner) ? -EBUSY : 0;
	return vf_pool_set(p, (size_t)i, owner);
}

int vf_pool_release(vf_pool *p, const char *vf, const char *owner)
{
	ssize_t i = vf_pool_index(p, vf);

	if (i < 0 || !p->owners[i] || strcmp(p->owners[i], owner))
		return -ENOENT;
	return vf_pool_set(p, (size_t)i, NULL);
}

size_t vf_pool_count_free(const vf_pool *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		n += !p->owners[i];
	return n;
}

const char *vf_pool_find(const vf_pool *p, const char *owner)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->owners[i] && !strcmp(p->owners[i], owner))
			return p->vfs[i];
	return NULL;
}

json_object *vf_pool_to_json(const vf_pool *p)
{
	json_object *o = json_object_new_object();

	for (size_t i = 0; i < p->n; i++)
		json_object_object_add(o, p->vfs[i],
				       p->owners[i] ? json_object_new_string(p->owners[i]) : NULL);
	return o;
}
