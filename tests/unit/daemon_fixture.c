// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/state_file.h"
#include "daemon_fixture.h"
#include "test.h"
#include "macro.h"

void daemon_fixture_open_peers(host_daemon *d, uv_loop_t *loop, char *tmp, const char *peers)
{
	_cleanup_free_ char *config = NULL, *path = NULL, *error = NULL;
	FILE *f;

	ASSERT_TRUE(mkdtemp(tmp) != NULL);
	ASSERT_TRUE(asprintf(&path, "%s/dmigrated.json", tmp) > 0);
	ASSERT_TRUE(asprintf(&config,
			     "{\"name\": \"hostA\", \"control_socket\": \"%s/ctl.sock\", \"peer_socket\": \"%s/peer.sock\","
			     " \"state_dir\": \"%s/state\", \"run_dir\": \"%s/run\", \"migration_address\": \"127.0.0.1\","
			     " \"passthrough\": {\"type\": \"emulated\", \"slots\": 1}%s%s}",
			     tmp, tmp, tmp, tmp, peers ? ", \"peers\": " : "", peers ? peers : "") > 0);
	f = fopen(path, "we");
	ASSERT_TRUE(f && fputs(config, f) >= 0 && fclose(f) == 0);
	*d = (host_daemon){ .loop = loop, .control.fd = -1, .peer.fd = -1 };
	ASSERT_OK(host_config_load(path, &d->config, &error));
	ASSERT_OK(state_dir_create(d->config->state_dir));
	ASSERT_OK(vf_pool_open(d->config, NULL, &d->pool, &error));
	d->qemu_version = strdup("QEMU emulator version 7.2.0");
}

void daemon_fixture_open(host_daemon *d, uv_loop_t *loop, char *tmp)
{
	daemon_fixture_open_peers(d, loop, tmp, NULL);
}

static void call_on_reply(rpc_conn *c, int error, json_object *ret, const char *code,
			  const char *message, void *userdata)
{
	daemon_fixture_answer *a = userdata;

	a->done = true;
	a->error = error;
	snprintf(a->code, sizeof(a->code), "%s", code ?: "");
	snprintf(a->message, sizeof(a->message), "%s", message ?: "");
	snprintf(a->ret, sizeof(a->ret), "%s",
		 ret ? json_object_to_json_string_ext(ret, JSON_C_TO_STRING_PLAIN) : "");
}

daemon_fixture_answer daemon_fixture_call(uv_loop_t *loop, rpc_conn *c, const char *cmd,
					  const char *args_json, uint64_t timeout_ms)
{
	daemon_fixture_answer a = { 0 };

	ASSERT_OK(rpc_conn_call(c, cmd, args_json ? json_tokener_parse(args_json) : NULL, timeout_ms,
				NULL, call_on_reply, &a));
	for (uint64_t i = 0; i < timeout_ms && !a.done; i++) {
		uv_run(loop, UV_RUN_NOWAIT);
		if (!a.done)
			usleep(1000);
	}
	ASSERT_TRUE(a.done);
	return a;
}
