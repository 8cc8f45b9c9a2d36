// SPDX-License-Identifier: GPL-2.0-or-later
#include "transport/agent_reply_check.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"

#define IFNAME_MAX 15 /* IFNAMSIZ - 1 */
#define ACTIVATE_TIMEOUT_DEFAULT_MS 10000 /* the protocol's default for bond-activate-vf */

_printf_(3, 4)
static int lie(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

/* What the kernel accepts as an interface name (dev_valid_name()), printable only. */
static bool ifname_valid(json_object *v)
{
	const char *s;
	size_t len;

	if (!json_object_is_type(v, json_type_string))
		return false;
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len == 0 || len > IFNAME_MAX || strlen(s) != len || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == '/' || s[i] == ':' || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

static bool role_valid(json_object *v)
{
	const char *s = json_object_get_string(v);

	return json_object_is_type(v, json_type_string) &&
	       (!strcmp(s, "vf") || !strcmp(s, "standby") || !strcmp(s, "other"));
}

/* A member that must be an interface name; *ret gets its text. */
static int need_ifname(const char *cmd, json_object *ret, const char *key, const char **name,
		       char *why, size_t why_len)
{
	json_object *v;

	if (!json_object_object_get_ex(ret, key, &v) || !ifname_valid(v))
		return lie(why, why_len, "%s: '%s' is not an interface name", cmd, key);
	*name = json_object_get_string(v);
	return 0;
}

static int check_bond_status(const char *cmd, json_object *ret, char *why, size_t why_len)
{
	json_object *slaves, *active, *active_role, *role_of_active = NULL;
	const char *bond = NULL;
	size_t n;
	int r;

	r = need_ifname(cmd, ret, "bond", &bond, why, why_len);
	if (r < 0)
		return r;
	if (!json_object_object_get_ex(ret, "slaves", &slaves) ||
	    !json_object_is_type(slaves, json_type_array))
		return lie(why, why_len, "%s: 'slaves' is not a list", cmd);
	n = json_object_array_length(slaves);
	if (!json_object_object_get_ex(ret, "active", &active))
		active = NULL;
	if (active && !ifname_valid(active))
		return lie(why, why_len, "%s: 'active' is neither null nor an interface name", cmd);
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(slaves, i), *ifname, *role;

		if (!json_object_is_type(s, json_type_object) ||
		    !json_object_object_get_ex(s, "ifname", &ifname) || !ifname_valid(ifname) ||
		    !json_object_object_get_ex(s, "role", &role) || !role_valid(role))
			return lie(why, why_len, "%s: slave %zu has no valid 'ifname' and 'role'", cmd, i);
		if (active && !strcmp(json_object_get_string(ifname), json_object_get_string(active)))
			role_of_active = role;
	}
	if (active && !role_of_active)
		return lie(why, why_len, "%s: active slave '%s' is not among the slaves of '%s'", cmd,
			   json_object_get_string(active), bond);
	if (!json_object_object_get_ex(ret, "active-role", &active_role))
		active_role = NULL;
	if (active ? !active_role || strcmp(json_object_get_string(active_role),
					    json_object_get_string(role_of_active))
		   : active_role != NULL)
		return lie(why, why_len, "%s: 'active-role' is not the role of the active slave", cmd);
	return 0;
}

static int check_bond_set_active(const char *cmd, json_object *args, json_object *ret, char *why,
				 size_t why_len)
{
	json_object *role, *asked;
	const char *bond = NULL, *active = NULL;
	int r;

	if ((r = need_ifname(cmd, ret, "bond", &bond, why, why_len)) < 0 ||
	    (r = need_ifname(cmd, ret, "active", &active, why, why_len)) < 0)
		return r;
	if (!json_object_object_get_ex(ret, "role", &role) || !role_valid(role))
		return lie(why, why_len, "%s: 'role' is not vf, standby or other", cmd);
	if (json_object_object_get_ex(args, "role", &asked) &&
	    strcmp(json_object_get_string(asked), json_object_get_string(role)))
		return lie(why, why_len, "%s: asked for the %s slave, the agent made '%s' (%s) active",
			   cmd, json_object_get_string(asked), active, json_object_get_string(role));
	if (json_object_object_get_ex(args, "ifname", &asked) &&
	    strcmp(json_object_get_string(asked), active))
		return lie(why, why_len, "%s: asked for '%s', the agent made '%s' active", cmd,
			   json_object_get_string(asked), active);
	return 0;
}

/* A member that must be a count of milliseconds from 0 to max. */
static int need_ms(const char *cmd, json_object *ret, const char *key, int64_t max, int64_t *ms,
		   char *why, size_t why_len)
{
	json_object *v;

	if (!json_object_object_get_ex(ret, key, &v) || !json_object_is_type(v, json_type_int))
		return lie(why, why_len, "%s: '%s' is not a number", cmd, key);
	*ms = json_object_get_int64(v);
	if (*ms < 0 || *ms > max)
		return lie(why, why_len, "%s: '%s' is %lld ms, which is not within 0 to %lld ms", cmd, key,
			   (long long)*ms, (long long)max);
	return 0;
}

/*
 * Its timings become the migration's device wait (vf_activate.h): a guest that claimed more
 * waiting than the whole of its answer, or than it was allowed, would hide our own overhead.
 */
static int check_bond_activate_vf(const char *cmd, json_object *args, json_object *ret, char *why,
				  size_t why_len)
{
	json_object *v;
	const char *bond = NULL, *ifname = NULL;
	int64_t timeout = ACTIVATE_TIMEOUT_DEFAULT_MS, max, device, carrier, took;
	int r;

	if ((r = need_ifname(cmd, ret, "bond", &bond, why, why_len)) < 0 ||
	    (r = need_ifname(cmd, ret, "ifname", &ifname, why, why_len)) < 0)
		return r;
	if (!json_object_object_get_ex(ret, "previous", &v))
		return lie(why, why_len, "%s: no 'previous'", cmd);
	if (v && !ifname_valid(v))
		return lie(why, why_len, "%s: 'previous' is neither null nor an interface name", cmd);
	if (json_object_object_get_ex(args, "timeout-ms", &v))
		timeout = json_object_get_int64(v);
	max = timeout + AGENT_REPLY_WAIT_SLACK_MS;
	if ((r = need_ms(cmd, ret, "device-ms", max, &device, why, why_len)) < 0 ||
	    (r = need_ms(cmd, ret, "carrier-ms", max, &carrier, why, why_len)) < 0 ||
	    (r = need_ms(cmd, ret, "took-ms", max, &took, why, why_len)) < 0)
		return r;
	if (device + carrier > took)
		return lie(why, why_len, "%s: waited %lld + %lld ms in an answer that took %lld ms", cmd,
			   (long long)device, (long long)carrier, (long long)took);
	return 0;
}

static int check_bond_release(const char *cmd, json_object *args, json_object *ret, char *why,
			      size_t why_len)
{
	const char *bond = NULL, *released = NULL;
	json_object *asked;
	int r;

	if ((r = need_ifname(cmd, ret, "bond", &bond, why, why_len)) < 0 ||
	    (r = need_ifname(cmd, ret, "released", &released, why, why_len)) < 0)
		return r;
	if (json_object_object_get_ex(args, "ifname", &asked) &&
	    strcmp(json_object_get_string(asked), released))
		return lie(why, why_len, "%s: asked for '%s', the agent released '%s'", cmd,
			   json_object_get_string(asked), released);
	return 0;
}

int agent_reply_check(const agent_command_def *cmd, json_object *args, json_object *ret, char *why,
		      size_t why_len)
{
	/* ret is an object: agent_message_parse() takes nothing else for a "return". */
	switch (cmd->id) {
	case AGENT_CMD_BOND_STATUS:
		return check_bond_status(cmd->name, ret, why, why_len);
	case AGENT_CMD_BOND_SET_ACTIVE:
		return check_bond_set_active(cmd->name, args, ret, why, why_len);
	case AGENT_CMD_BOND_ACTIVATE_VF:
		return check_bond_activate_vf(cmd->name, args, ret, why, why_len);
	case AGENT_CMD_BOND_RELEASE:
		return check_bond_release(cmd->name, args, ret, why, why_len);
	default:
		/* The others' answers are only shown, never acted on. */
		return 0;
	}
}

const char *agent_bond_slave_with_role(json_object *bond_status, const char *role)
{
	json_object *slaves, *r, *name;

	if (!json_object_object_get_ex(bond_status, "slaves", &slaves))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(slaves); i++) {
		json_object *s = json_object_array_get_idx(slaves, i);

		if (json_object_object_get_ex(s, "role", &r) && !strcmp(json_object_get_string(r) ?: "", role) &&
		    json_object_object_get_ex(s, "ifname", &name))
			return json_object_get_string(name);
	}
	return NULL;
}
