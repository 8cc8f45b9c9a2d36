// SPDX-License-Identifier: GPL-2.0-or-later
#include "transport/peer_reply.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "migration/migration_phase.h"

/* The reply to cmd checked against its table entry; then the members may be read as typed. */
static int reply_check(control_command_id cmd, json_object *ret, char *errbuf, size_t errlen)
{
	return control_reply_validate(&control_commands[cmd], ret, errbuf, errlen);
}

static json_object *member(json_object *ret, const char *name)
{
	json_object *v = NULL;

	json_object_object_get_ex(ret, name, &v);
	return v;
}

int peer_reply_hello(json_object *ret, const char *expected_host, peer_hello *out, char *errbuf,
		     size_t errlen)
{
	peer_hello h = {};
	json_object *features;
	int64_t version;
	const char *host;
	int r;

	r = reply_check(CONTROL_CMD_HELLO, ret, errbuf, errlen);
	if (r < 0)
		return r;
	version = json_object_get_int64(member(ret, "version"));
	if (version < CONTROL_PROTOCOL_VERSION_MIN_PEER || version > CONTROL_PROTOCOL_VERSION) {
		snprintf(errbuf, errlen,
			 "protocol version %lld, but this daemon speaks %d to %d to peers: install the "
			 "same dmigrate release on both hosts",
			 (long long)version, CONTROL_PROTOCOL_VERSION_MIN_PEER, CONTROL_PROTOCOL_VERSION);
		return -EBADMSG;
	}
	h.version = (int)version;
	host = json_object_get_string(member(ret, "host"));
	if (expected_host && strcmp(host, expected_host)) {
		snprintf(errbuf, errlen, "it is host '%s', not '%s': the peer's address in this "
					 "daemon's config leads to another host",
			 host, expected_host);
		return -EBADMSG;
	}
	snprintf(h.host, sizeof(h.host), "%s", host);
	features = member(ret, "features");
	for (size_t i = 0; i < json_object_array_length(features); i++) {
		const char *f = json_object_get_string(json_object_array_get_idx(features, i));

		/* Only what we offered can be in effect; we offer every feature we know. */
		if (!strcmp(f, CONTROL_FEATURE_FAULT_INJECTION))
			h.fault_injection = true;
		else {
			snprintf(errbuf, errlen, "feature '%s', which this daemon never offered", f);
			return -EBADMSG;
		}
	}
	*out = h;
	return 0;
}

int peer_reply_check(json_object *ret, peer_check_reply *out, char *errbuf, size_t errlen)
{
	int r = reply_check(CONTROL_CMD_PEER_CHECK, ret, errbuf, errlen);

	if (r < 0)
		return r;
	out->free_vfs = (unsigned)json_object_get_int64(member(ret, "free_vfs"));
	out->memory_available_mib = member(ret, "memory_available_mib") ?
		json_object_get_int64(member(ret, "memory_available_mib")) : -1;
	out->dedicated_cpus_free = member(ret, "dedicated_cpus_free") ?
		json_object_get_int64(member(ret, "dedicated_cpus_free")) : -1;
	return 0;
}

/* The destination's phase and its state, common to the replies about its phases. */
static int phase_check(json_object *ret, const char *want_phase, bool *ret_skipped, char *errbuf,
		       size_t errlen)
{
	const char *phase = json_object_get_string(member(ret, "phase"));
	const char *state = json_object_get_string(member(ret, "state"));

	if (want_phase && strcmp(phase, want_phase)) {
		snprintf(errbuf, errlen, "it reports phase '%s', not '%s'", phase, want_phase);
		return -EBADMSG;
	}
	switch (phase_state_from_name(state)) {
	case PHASE_STATE_DONE:
	case PHASE_STATE_SKIPPED:
		break;
	default:
		snprintf(errbuf, errlen, "'state' must be \"done\" or \"skipped\"");
		return -EBADMSG;
	}
	*ret_skipped = phase_state_from_name(state) == PHASE_STATE_SKIPPED;
	return 0;
}

int peer_reply_prepare(json_object *ret, peer_prepare_reply *out, char *errbuf, size_t errlen)
{
	bool skipped;
	int r;

	/* Version 1 answered a URI that went to QEMU as it was; a peer that still does has no
	 * port and is refused here. */
	r = reply_check(CONTROL_CMD_PEER_PREPARE, ret, errbuf, errlen);
	if (r < 0)
		return r;
	r = phase_check(ret, "prepare", &skipped, errbuf, errlen);
	if (r < 0)
		return r;
	if (skipped) {
		snprintf(errbuf, errlen, "it skipped prepare, which cannot be skipped");
		return -EBADMSG;
	}
	out->port = (uint16_t)json_object_get_int64(member(ret, "port"));
	return 0;
}

int peer_reply_phase(control_command_id cmd, const char *want_phase, json_object *ret,
		     peer_phase_reply *out, char *errbuf, size_t errlen)
{
	peer_phase_reply p = {};
	json_object *wait, *held;
	int r;

	if ((unsigned)cmd >= _CONTROL_CMD_MAX) {
		snprintf(errbuf, errlen, "no such command");
		return -EINVAL;
	}
	r = reply_check(cmd, ret, errbuf, errlen);
	if (r < 0)
		return r;
	r = phase_check(ret, want_phase, &p.skipped, errbuf, errlen);
	if (r < 0)
		return r;
	wait = member(ret, "device_wait_ms");
	if (cmd == CONTROL_CMD_PEER_ACTIVATE && wait)
		p.device_wait_ms = (uint64_t)json_object_get_int64(wait);
	held = member(ret, "request_held_ms");
	if (cmd == CONTROL_CMD_PEER_ACTIVATE && held) {
		p.request_held_ms = (uint64_t)json_object_get_int64(held);
		if (p.request_held_ms > p.device_wait_ms) {
			snprintf(errbuf, errlen, "request_held_ms %" PRIu64 " is more than device_wait_ms %" PRIu64,
				 p.request_held_ms, p.device_wait_ms);
			return -EBADMSG;
		}
	}
	*out = p;
	return 0;
}

int peer_reply_empty(control_command_id cmd, json_object *ret, char *errbuf, size_t errlen)
{
	if ((unsigned)cmd >= _CONTROL_CMD_MAX || control_commands[cmd].returns[0].name) {
		snprintf(errbuf, errlen, "a reply that should carry members was read as empty");
		return -EINVAL;
	}
	return reply_check(cmd, ret, errbuf, errlen);
}

void peer_error_clean(const char *code, const char *message, peer_error *out)
{
	const control_error *e = code ? control_error_find(code) : NULL;
	size_t len, n;

	out->code = e ? e->code : CONTROL_ERR_FAILED;
	if (!message)
		message = "(no message)";
	len = strlen(message);
	n = len > CONTROL_MAX_ERROR_MESSAGE ? CONTROL_MAX_ERROR_MESSAGE : len;
	/* A cut must not leave half a UTF-8 sequence: back up to the start of the one it splits. */
	if (n < len)
		while (n > 0 && ((unsigned char)message[n] & 0xc0) == 0x80)
			n--;
	memcpy(out->message, message, n);
	out->message[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)out->message[i] < 0x20 || out->message[i] == 0x7f)
			out->message[i] = '?';
}
