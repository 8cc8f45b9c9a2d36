// SPDX-License-Identifier: GPL-2.0-or-later
/* The agent protocol's tables and the checks both ends run against them. */
#include "agent_protocol.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "errbuf.h"

const agent_error_def agent_errors[_AGENT_ERROR_MAX] = {
	[AGENT_ERROR_BAD_JSON] = { "bad-json", EBADMSG,
		"A line that is not exactly one JSON value. No `id` is known, so the reply has none." },
	[AGENT_ERROR_TOO_BIG] = { "too-big", EMSGSIZE,
		"A line longer than the message size cap; it was dropped up to its newline. No `id`." },
	[AGENT_ERROR_BAD_REQUEST] = { "bad-request", EPROTO,
		"Not an object with an integer `id` from 0 to 2^53-1, a string `cmd`, an optional object `args` "
		"and nothing else." },
	[AGENT_ERROR_UNKNOWN_COMMAND] = { "unknown-command", EOPNOTSUPP,
		"`cmd` names no command of this agent (`hello` lists them)." },
	[AGENT_ERROR_INVALID_ARGUMENT] = { "invalid-argument", EINVAL,
		"An unknown argument, a wrong type, a value out of range, or a required argument "
		"missing; the message names the argument." },
	[AGENT_ERROR_INCOMPATIBLE] = { "incompatible", EPROTONOSUPPORT,
		"`hello`: the version ranges do not overlap." },
	[AGENT_ERROR_BUSY] = { "busy", EBUSY,
		"Too many requests in flight, or the same kind of operation is already running." },
	[AGENT_ERROR_UNAVAILABLE] = { "unavailable", ENODEV,
		"What the command works on is absent: no /dev/did, no such bond, no active slave." },
	[AGENT_ERROR_UNSUPPORTED] = { "unsupported", ENOTSUP,
		"The guest or host cannot do what was asked (a DID feature the host lacks)." },
	[AGENT_ERROR_NOT_FOUND] = { "not-found", ENOENT,
		"The named interface, or a slave with the named role, does not exist." },
	[AGENT_ERROR_TIMEOUT] = { "timeout", ETIMEDOUT,
		"The operation did not complete in the time given (for example no carrier)." },
	[AGENT_ERROR_FAILED] = { "failed", EIO,
		"The kernel refused the operation; the message carries the reason." },
};

static const char *const role_values[] = { "vf", "standby", NULL };
static const char *const did_feature_values[] = { "timer", "ipi", "device", "idle", NULL };
static const char *const fault_kind_values[] = { "crash", "stall", NULL };

#define ARG_BOND                                                                                   \
	{ "bond", AGENT_ARG_STRING, false, 1, 15, NULL,                                            \
	  "The bond interface. Default `bond0`." }
#define ARG_END { NULL }

static const agent_arg_def no_args[] = { ARG_END };

static const agent_arg_def hello_args[] = {
	{ "min-version", AGENT_ARG_INT, true, 1, 65535, NULL, "Lowest version the client speaks." },
	{ "max-version", AGENT_ARG_INT, true, 1, 65535, NULL, "Highest version the client speaks." },
	{ "client", AGENT_ARG_STRING, false, 1, 64, NULL, "Who is asking, for the agent's log." },
	ARG_END,
};

static const agent_arg_def bond_args[] = { ARG_BOND, ARG_END };

static const agent_arg_def bond_pick_args[] = {
	ARG_BOND,
	{ "role", AGENT_ARG_ENUM, false, 0, 0, role_values, "The slave with this role." },
	{ "ifname", AGENT_ARG_STRING, false, 1, 15, NULL, "The slave with this interface name." },
	ARG_END,
};

static const agent_arg_def activate_args[] = {
	ARG_BOND,
	{ "timeout-ms", AGENT_ARG_INT, false, 0, 60000, NULL,
	  "The whole wait: for the VF to appear, for udev, for its carrier and for the bond to "
	  "take it as the active slave. Default 10000." },
	ARG_END,
};

static const agent_arg_def announce_args[] = {
	ARG_BOND,
	{ "count", AGENT_ARG_INT, false, 1, 10, NULL,
	  "Rounds of announcements, 100 ms apart. Default 1." },
	ARG_END,
};

static const agent_arg_def did_enable_args[] = {
	{ "features", AGENT_ARG_ENUM_LIST, false, 0, 4, did_feature_values,
	  "Which interrupt classes to deliver directly (`idle`: the vCPU halts without exiting). "
	  "Default: every supported one." },
	ARG_END,
};

static const agent_arg_def fault_args[] = {
	{ "kind", AGENT_ARG_ENUM, true, 0, 0, fault_kind_values,
	  "`crash`: once the reply is written, the agent kills itself with SIGKILL (no cleanup), and "
	  "its supervisor starts it again. `stall`: once the reply is written, the agent reads and "
	  "answers nothing for `ms`, as if stopped, then answers what came meanwhile." },
	{ "ms", AGENT_ARG_INT, false, 0, AGENT_PROTOCOL_MAX_FAULT_STALL_MS, NULL,
	  "How long a `stall` lasts: required for `stall`, from 1. Absent or 0 for `crash`." },
	ARG_END,
};

static const agent_error_code hello_errors[] = { AGENT_ERROR_INCOMPATIBLE, _AGENT_ERROR_MAX };
static const agent_error_code bond_errors[] = { AGENT_ERROR_UNAVAILABLE, AGENT_ERROR_FAILED,
						_AGENT_ERROR_MAX };
static const agent_error_code bond_pick_errors[] = { AGENT_ERROR_UNAVAILABLE, AGENT_ERROR_NOT_FOUND,
						     AGENT_ERROR_FAILED, _AGENT_ERROR_MAX };
static const agent_error_code activate_errors[] = { AGENT_ERROR_UNAVAILABLE, AGENT_ERROR_NOT_FOUND,
						    AGENT_ERROR_BUSY, AGENT_ERROR_TIMEOUT,
						    AGENT_ERROR_FAILED, _AGENT_ERROR_MAX };
static const agent_error_code did_errors[] = { AGENT_ERROR_UNAVAILABLE, AGENT_ERROR_FAILED,
					       _AGENT_ERROR_MAX };
static const agent_error_code did_change_errors[] = { AGENT_ERROR_UNAVAILABLE, AGENT_ERROR_UNSUPPORTED,
						      AGENT_ERROR_FAILED, _AGENT_ERROR_MAX };
static const agent_error_code fault_errors[] = { AGENT_ERROR_UNSUPPORTED, _AGENT_ERROR_MAX };
static const agent_error_code no_errors[] = { _AGENT_ERROR_MAX };

#define DID_STATUS_RETURNS                                                                         \
	"`state` (`on`/`off`), `backend` (`kvm`/`sim`), `simulated` (bool), `features` and "       \
	"`supported` (lists of `timer`/`ipi`/`device`/`idle`), `version`, `host-version`, "        \
	"`enables`, `disables`, `errors`, `rejected` (counters), `last-error` (negative errno or 0)"

const agent_command_def agent_commands[_AGENT_CMD_MAX] = {
	[AGENT_CMD_SYNC] = {
		AGENT_CMD_SYNC, "sync", no_args, { NULL, NULL },
		"Resynchronise the stream. The host sends a 0xFF byte and then this request with a "
		"fresh random `id`; the agent drops any partial line on the 0xFF and answers with a "
		"0xFF byte followed by the reply. The host discards everything it reads until the "
		"reply with its `id`.",
		"an empty object", no_errors,
	},
	[AGENT_CMD_HELLO] = {
		AGENT_CMD_HELLO, "hello", hello_args, { NULL, NULL },
		"Negotiate the protocol version: the agent answers with the highest version in "
		"both ranges. Sent by the host right behind every sync.",
		"`version` (the chosen one), `agent` (name and release), `commands` and `events` "
		"(the names this agent knows), `max-message` (the size cap in bytes)",
		hello_errors,
	},
	[AGENT_CMD_BOND_STATUS] = {
		AGENT_CMD_BOND_STATUS, "bond-status", bond_args, { NULL, NULL },
		"Report the bond. A slave's role comes from its driver and bus, never its name: "
		"`virtio_net` on virtio is `standby`, a known VF driver on PCI is `vf`.",
		"`bond`, `mode`, `mac`, `carrier`, `active` (ifname or null), `active-role` (role or "
		"null), `slaves` (array of {`ifname`, `role` (`vf`/`standby`/`other`), `driver`, "
		"`mac`, `perm-mac`, `carrier`, `active`}), `free-vfs` (VF ifnames in no bond)",
		bond_errors,
	},
	[AGENT_CMD_BOND_SET_ACTIVE] = {
		AGENT_CMD_BOND_SET_ACTIVE, "bond-set-active", bond_pick_args, { "role", "ifname" },
		"Make a slave the bond's active one (make-before-break: the new slave is checked "
		"to be enslaved first). Moving to the standby while a VF is a slave also turns the "
		"bond's `all_slaves_active` on (unless the guest had it on), so that what the switch "
		"still sends to the VF while it relearns the MAC's port is delivered, not dropped; it "
		"goes off again when that VF leaves the bond, when this command makes the VF active "
		"again or fails, when `bond-activate-vf` asks for a new VF, or when the agent stops.",
		"`bond`, `active`, `role`, `previous` (ifname or null)",
		bond_pick_errors,
	},
	[AGENT_CMD_BOND_ACTIVATE_VF] = {
		AGENT_CMD_BOND_ACTIVATE_VF, "bond-activate-vf", activate_args, { NULL, NULL },
		"Put a newly plugged VF to work, in one request: wait for it to appear (the one VF "
		"interface in no bond; `invalid-argument` if there are several; a VF already in this "
		"bond when the guest's network stack enslaved it first), for udev to finish with it, "
		"enslave it, wait for its carrier, make it the active slave (bonding takes it once its "
		"link monitor has seen the link: tried again on every link change and every 100 ms). "
		"Where systemd-udevd runs, a VF udev has not finished with (no "
		"`/run/udev/data/n<ifindex>` yet, or one marked as still renaming) is enslaved once it "
		"has: udev may still rename it, which fails on a link the bond has brought up. That "
		"wait lasts at most half of what is left of `timeout-ms` when the VF appears; then the "
		"VF is enslaved as it is. `not-found` when no VF appeared in `timeout-ms`; `timeout` when "
		"one did but had no carrier or the bond did not take it (it stays enslaved).",
		"`bond`, `ifname` (after udev's rename), `previous` (the slave active before, or "
		"null), `device-ms` (waited for the VF to appear and for udev), `carrier-ms` (waited "
		"for its carrier and for the bond to take it), `took-ms` (from the request to the "
		"reply; the rest of it is the agent's own work)",
		activate_errors,
	},
	[AGENT_CMD_BOND_RELEASE] = {
		AGENT_CMD_BOND_RELEASE, "bond-release", bond_pick_args, { "role", "ifname" },
		"Release a slave from the bond. Releasing the active slave makes the bond fail over.",
		"`bond`, `released` (ifname)",
		bond_pick_errors,
	},
	[AGENT_CMD_ANNOUNCE] = {
		AGENT_CMD_ANNOUNCE, "announce", announce_args, { NULL, NULL },
		"Send a gratuitous ARP for every IPv4 address and an unsolicited neighbour "
		"advertisement for every IPv6 address of the bond, from the bond's MAC, out of the "
		"active slave, so switches learn the new port at once.",
		"`bond`, `ifname` (the slave used), `arp` and `na` (packets sent)",
		bond_errors,
	},
	[AGENT_CMD_DID_STATUS] = {
		AGENT_CMD_DID_STATUS, "did-status", no_args, { NULL, NULL },
		"Report direct interrupt delivery, read from /dev/did.",
		DID_STATUS_RETURNS, did_errors,
	},
	[AGENT_CMD_DID_ENABLE] = {
		AGENT_CMD_DID_ENABLE, "did-enable", did_enable_args, { NULL, NULL },
		"Turn DID on. Idempotent: when it is already on, `changed` is false.",
		"`changed` (bool) and every member of `did-status`", did_change_errors,
	},
	[AGENT_CMD_DID_DISABLE] = {
		AGENT_CMD_DID_DISABLE, "did-disable", no_args, { NULL, NULL },
		"Turn DID off. Idempotent: when it is already off, `changed` is false.",
		"`changed` (bool) and every member of `did-status`", did_change_errors,
	},
	[AGENT_CMD_FAULT] = {
		AGENT_CMD_FAULT, "fault", fault_args, { NULL, NULL },
		"Test only: inject a fault for a failover drill (`dmigrate drill run`). Refused with "
		"`unsupported` unless the agent was started with `--allow-faults`, which production "
		"units never pass. The reply comes first; the fault takes effect once it is written.",
		"`kind`, and `ms` for `stall`", fault_errors,
	},
};

const agent_event_def agent_events[_AGENT_EVENT_MAX] = {
	[AGENT_EVENT_VF_ADDED] = { "vf-added", "A VF interface appeared (hot-plug).",
				   "`ifname`, `driver`, `mac`" },
	[AGENT_EVENT_VF_REMOVED] = { "vf-removed", "A VF interface went away (unplug).", "`ifname`" },
	[AGENT_EVENT_LINK_UP] = { "link-up", "A bond, slave or VF interface gained carrier.",
				  "`ifname`, `role` (`bond`/`vf`/`standby`/`other`)" },
	[AGENT_EVENT_LINK_DOWN] = { "link-down", "A bond, slave or VF interface lost carrier.",
				    "`ifname`, `role`" },
	[AGENT_EVENT_ACTIVE_CHANGED] = { "active-changed", "A bond's active slave changed, for any reason.",
					 "`bond`, `active` (ifname or null), `role`, `previous`" },
};

const agent_command_def *agent_command_find(const char *name)
{
	for (size_t i = 0; i < (size_t)_AGENT_CMD_MAX; i++)
		if (!strcmp(agent_commands[i].name, name))
			return &agent_commands[i];
	return NULL;
}

const char *agent_error_code_to_string(agent_error_code code)
{
	if ((unsigned)code >= _AGENT_ERROR_MAX)
		return "failed";
	return agent_errors[code].name;
}

int agent_error_to_errno(const char *code)
{
	for (size_t i = 0; i < (size_t)_AGENT_ERROR_MAX; i++)
		if (!strcmp(agent_errors[i].name, code))
			return -agent_errors[i].errno_value;
	return -EREMOTEIO;
}

static const agent_arg_def *arg_find(const agent_command_def *cmd, const char *name)
{
	for (const agent_arg_def *a = cmd->args; a->name; a++)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

static bool value_allowed(const char *const *values, const char *s)
{
	for (; *values; values++)
		if (!strcmp(*values, s))
			return true;
	return false;
}

static int arg_validate(const agent_arg_def *a, json_object *v, char *errbuf, size_t errlen)
{
	size_t len;
	int64_t n;

	switch (a->type) {
	case AGENT_ARG_STRING:
		if (!json_object_is_type(v, json_type_string))
			return errbuf_set(errbuf, errlen, -EINVAL, "argument '%s' must be a string", a->name);
		len = (size_t)json_object_get_string_len(v);
		if ((int64_t)len < a->min || (int64_t)len > a->max)
			return errbuf_set(errbuf, errlen, -EINVAL, "argument '%s' must be %" PRId64 " to %" PRId64 " characters long",
				    a->name, a->min, a->max);
		/* Interface names and the like: an embedded NUL would silently shorten them. */
		if (strlen(json_object_get_string(v)) != len)
			return errbuf_set(errbuf, errlen, -EINVAL, "argument '%s' contains a NUL byte", a->name);
		return 0;
	case AGENT_ARG_INT:
		if (!json_object_is_type(v, json_type_int))
			return errbuf_set(errbuf, errlen, -EINVAL, "argument '%s' must be an integer", a->name);
		errno = 0;
		n = json_object_get_int64(v);
		/* json-c clamps values beyond int64 and flags them through errno. */
		if (errno != 0 || n < a->min || n > a->max)
			return errbuf_set(errbuf, errlen, -EINVAL, "argument '%s' must be within %" PRId64 "..%" PRId64,
				    a->name, a->min, a->max);
		return 0;
	case AGENT_ARG_BOOL:
		if (!json_object_is_type(v, json_type_boolean))
			return errbuf_set(errbuf, errlen, -EINVAL, "argument '%s' must be true or false", a->name);
		return 0;
	case AGENT_ARG_ENUM:
		if (!json_object_is_type(v, json_type_string) ||
		    !value_allowed(a->values, json_object_get_string(v)))
			return errbuf_set(errbuf, errlen, -EINVAL, "argument '%s' must be one of the documented values",
				    a->name);
		return 0;
	case AGENT_ARG_ENUM_LIST:
		if (!json_object_is_type(v, json_type_array) || (int64_t)json_object_array_length(v) > a->max)
			return errbuf_set(errbuf, errlen, -EINVAL, "argument '%s' must be a list of at most %" PRId64 " names",
				    a->name, a->max);
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			json_object *e = json_object_array_get_idx(v, i);

			if (!json_object_is_type(e, json_type_string) ||
			    !value_allowed(a->values, json_object_get_string(e)))
				return errbuf_set(errbuf, errlen, -EINVAL, "argument '%s' has an unknown name", a->name);
			for (size_t j = 0; j < i; j++)
				if (!strcmp(json_object_get_string(e),
					    json_object_get_string(json_object_array_get_idx(v, j))))
					return errbuf_set(errbuf, errlen, -EINVAL, "argument '%s' repeats '%s'", a->name,
						    json_object_get_string(e));
		}
		return 0;
	}
	return errbuf_set(errbuf, errlen, -EINVAL, "argument '%s' has no type", a->name);
}

int agent_args_validate(const agent_command_def *cmd, json_object *args, char *errbuf, size_t errlen)
{
	int given = 0;
	int r;

	if (args && !json_object_is_type(args, json_type_object))
		return errbuf_set(errbuf, errlen, -EINVAL, "'args' must be an object");
	if (args) {
		json_object_object_foreach(args, key, val) {
			const agent_arg_def *a = arg_find(cmd, key);

			if (!a)
				return errbuf_set(errbuf, errlen, -EINVAL, "'%s' takes no argument '%.64s'", cmd->name, key);
			r = arg_validate(a, val, errbuf, errlen);
			if (r < 0)
				return r;
		}
	}
	for (const agent_arg_def *a = cmd->args; a->name; a++)
		if (a->required && !(args && json_object_object_get_ex(args, a->name, NULL)))
			return errbuf_set(errbuf, errlen, -EINVAL, "'%s' needs argument '%s'", cmd->name, a->name);
	if (cmd->exactly_one_of[0]) {
		for (size_t i = 0; i < 2; i++)
			if (args && json_object_object_get_ex(args, cmd->exactly_one_of[i], NULL))
				given++;
		if (given != 1)
			return errbuf_set(errbuf, errlen, -EINVAL, "'%s' needs exactly one of '%s' and '%s'", cmd->name,
				    cmd->exactly_one_of[0], cmd->exactly_one_of[1]);
	}
	return 0;
}

const char *agent_args_get_string(json_object *args, const char *name, const char *def)
{
	json_object *v;

	if (!args || !json_object_object_get_ex(args, name, &v) || !json_object_is_type(v, json_type_string))
		return def;
	return json_object_get_string(v);
}

int64_t agent_args_get_int(json_object *args, const char *name, int64_t def)
{
	json_object *v;

	if (!args || !json_object_object_get_ex(args, name, &v) || !json_object_is_type(v, json_type_int))
		return def;
	return json_object_get_int64(v);
}

bool agent_args_get_bool(json_object *args, const char *name, bool def)
{
	json_object *v;

	if (!args || !json_object_object_get_ex(args, name, &v) || !json_object_is_type(v, json_type_boolean))
		return def;
	return json_object_get_boolean(v);
}

static bool id_get(json_object *v, int64_t *ret)
{
	int64_t id;

	if (!json_object_is_type(v, json_type_int))
		return false;
	/* 2^53: exact in every JSON implementation; json-c clamps larger values silently. */
	id = json_object_get_int64(v);
	if (id < 0 || id > AGENT_PROTOCOL_MAX_ID)
		return false;
	*ret = id;
	return true;
}

int agent_request_parse(json_object *msg, agent_request *ret, agent_error_code *ret_code, char *errbuf,
			size_t errlen)
{
	json_object *id = NULL, *cmd = NULL, *args = NULL;
	agent_request req = {};
	int r;

	*ret = req;
	*ret_code = AGENT_ERROR_BAD_REQUEST;
	if (!json_object_is_type(msg, json_type_object))
		return errbuf_set(errbuf, errlen, -EPROTO, "a request must be a JSON object");
	if (json_object_object_get_ex(msg, "id", &id) && id_get(id, &req.id))
		req.has_id = true;
	ret->has_id = req.has_id;
	ret->id = req.id;
	if (!req.has_id)
		return errbuf_set(errbuf, errlen, -EPROTO, "a request needs an integer 'id' from 0 to 2^53-1");

	json_object_object_foreach(msg, key, val) {
		(void)val;
		if (strcmp(key, "id") && strcmp(key, "cmd") && strcmp(key, "args"))
			return errbuf_set(errbuf, errlen, -EPROTO, "a request has no member '%.64s'", key);
	}
	if (!json_object_object_get_ex(msg, "cmd", &cmd) || !json_object_is_type(cmd, json_type_string))
		return errbuf_set(errbuf, errlen, -EPROTO, "a request needs a string 'cmd'");
	req.cmd = agent_command_find(json_object_get_string(cmd));
	if (!req.cmd) {
		*ret_code = AGENT_ERROR_UNKNOWN_COMMAND;
		return errbuf_set(errbuf, errlen, -EOPNOTSUPP, "unknown command '%.64s'", json_object_get_string(cmd));
	}
	if (json_object_object_get_ex(msg, "args", &args) && json_object_is_type(args, json_type_null))
		args = NULL;
	r = agent_args_validate(req.cmd, args, errbuf, errlen);
	if (r < 0) {
		*ret_code = AGENT_ERROR_INVALID_ARGUMENT;
		return r;
	}
	req.args = args;
	*ret = req;
	return 0;
}

int agent_message_parse(json_object *msg, agent_message *ret)
{
	agent_message m = {};
	json_object *v, *code, *text;

	if (!json_object_is_type(msg, json_type_object))
		return -EPROTO;
	if (json_object_object_get_ex(msg, "event", &v)) {
		if (!json_object_is_type(v, json_type_string) || !json_object_object_get_ex(msg, "data", &m.value) ||
		    !json_object_is_type(m.value, json_type_object))
			return -EPROTO;
		m.kind = AGENT_MESSAGE_EVENT;
		m.name = json_object_get_string(v);
		*ret = m;
		return 0;
	}
	if (json_object_object_get_ex(msg, "id", &v)) {
		if (!id_get(v, &m.id))
			return -EPROTO;
		m.has_id = true;
	}
	if (json_object_object_get_ex(msg, "return", &m.value)) {
		if (!m.has_id || !json_object_is_type(m.value, json_type_object) ||
		    json_object_object_get_ex(msg, "error", NULL))
			return -EPROTO;
		m.kind = AGENT_MESSAGE_RETURN;
	} else if (json_object_object_get_ex(msg, "error", &v)) {
		if (!json_object_is_type(v, json_type_object) || !json_object_object_get_ex(v, "code", &code) ||
		    !json_object_is_type(code, json_type_string) || !json_object_object_get_ex(v, "message", &text) ||
		    !json_object_is_type(text, json_type_string))
			return -EPROTO;
		m.kind = AGENT_MESSAGE_ERROR;
		m.value = NULL;
		m.name = json_object_get_string(code);
		m.message = json_object_get_string(text);
	} else
		return -EPROTO;
	*ret = m;
	return 0;
}

json_object *agent_request_new(int64_t id, const char *cmd, json_object *args)
{
	json_object *o = json_object_new_object();

	if (!o || json_object_object_add(o, "id", json_object_new_int64(id)) < 0 ||
	    json_object_object_add(o, "cmd", json_object_new_string(cmd)) < 0) {
		json_object_put(args);
		json_object_put(o);
		return NULL;
	}
	if (args && json_object_object_add(o, "args", args) < 0) {
		json_object_put(args);
		json_object_put(o);
		return NULL;
	}
	return o;
}

json_object *agent_reply_new_return(int64_t id, json_object *ret)
{
	json_object *o = json_object_new_object();

	if (!ret)
		ret = json_object_new_object();
	if (!o || !ret || json_object_object_add(o, "id", json_object_new_int64(id)) < 0 ||
	    json_object_object_add(o, "return", ret) < 0) {
		json_object_put(ret);
		json_object_put(o);
		return NULL;
	}
	return o;
}

json_object *agent_reply_new_error(bool has_id, int64_t id, agent_error_code code, const char *message)
{
	json_object *o = json_object_new_object(), *e = json_object_new_object();
	size_t len = strnlen(message, AGENT_PROTOCOL_MAX_ERROR_MESSAGE);

	if (!o || !e || (has_id && json_object_object_add(o, "id", json_object_new_int64(id)) < 0) ||
	    json_object_object_add(e, "code", json_object_new_string(agent_error_code_to_string(code))) < 0 ||
	    json_object_object_add(e, "message", json_object_new_string_len(message, (int)len)) < 0 ||
	    json_object_object_add(o, "error", e) < 0) {
		json_object_put(e);
		json_object_put(o);
		return NULL;
	}
	return o;
}

json_object *agent_event_new(agent_event_id event, json_object *data)
{
	json_object *o = json_object_new_object();

	if (!data)
		data = json_object_new_object();
	if (!o || !data || (unsigned)event >= _AGENT_EVENT_MAX ||
	    json_object_object_add(o, "event", json_object_new_string(agent_events[event].name)) < 0 ||
	    json_object_object_add(o, "data", data) < 0) {
		json_object_put(data);
		json_object_put(o);
		return NULL;
	}
	return o;
}
