// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `dmigrate agent --socket PATH CMD [JSON-ARGS]`: one request to a guest agent, straight over
 * the QEMU chardev socket, for operators and tests. In production dmigrated holds that socket
 * (a chardev serves one client at a time); this is for a VM no daemon manages, or a lab.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/agent_client.h"
#include "agent_protocol.h"
#include "cli/cli_args.h"
#include "cli/cli_options.h"
#include "cli/cli_commands.h"
#include "log.h"

typedef struct cli_agent_run {
	const char *cmd;
	json_object *args;
	uint64_t timeout_ms;
	agent_client *client;
	int exit_code;
	bool done;
} cli_agent_run;

static void cli_agent_help(FILE *f)
{
	fprintf(f, "Usage: dmigrate agent --socket PATH [--timeout MS] COMMAND [JSON-ARGS]\n\n"
	       "Send one request to the guest agent behind a QEMU chardev socket and print the\n"
	       "reply as JSON. COMMAND is any command of proto/agent-protocol.md, or `hello` to\n"
	       "print what the agent announced.\n\n"
	       "Options:\n"
	       "  --socket PATH  the agent's QEMU chardev socket (required; not dmigrated's)\n"
	       "  --timeout MS   how long to wait for the reply (1 to 3600000, default 10000)\n"
	       "  -h, --help     show this help\n\n"
	       "Exit codes:\n"
	       "  0  the agent answered\n"
	       "  1  it refused, did not answer in time, or could not be reached\n"
	       "  2  usage error\n\n"
	       "Examples:\n"
	       "  dmigrate agent --socket /run/vm1-agent.sock bond-status\n"
	       "  dmigrate agent --socket /run/vm1-agent.sock bond-set-active '{\"role\":\"standby\"}'\n");
}

static void cli_agent_finish(agent_client *c, cli_agent_run *run, int exit_code)
{
	run->exit_code = exit_code;
	run->done = true;
	agent_client_close(c);
}

static void cli_agent_reply(agent_client *c, int error, json_object *ret, const char *code, const char *message,
			    void *userdata)
{
	cli_agent_run *run = userdata;

	if (error == 0) {
		printf("%s\n", json_object_to_json_string_ext(ret, JSON_C_TO_STRING_PRETTY |
								       JSON_C_TO_STRING_NOSLASHESCAPE));
		return cli_agent_finish(c, run, CLI_EXIT_OK);
	}
	if (code)
		log_error("The agent refused '%s': %s: %s", run->cmd, code, message);
	else if (error == -ETIMEDOUT)
		log_error("No answer from the agent to '%s' within %llu ms (is the guest up and the agent "
			  "running? A QEMU chardev serves one client at a time: is dmigrated connected?)",
			  run->cmd, (unsigned long long)run->timeout_ms);
	else if (error != -ECANCELED)
		log_error_errno(error, "Failed to run '%s' on the agent: %m", run->cmd);
	cli_agent_finish(c, run, CLI_EXIT_FAILED);
}

static void cli_agent_ready(agent_client *c, void *userdata)
{
	cli_agent_run *run = userdata;

	if (strcmp(run->cmd, "hello") || run->done)
		return;
	printf("{\n  \"version\": %u,\n  \"agent\": \"%s\"\n}\n", agent_client_get_version(c),
	       agent_client_get_agent(c));
	cli_agent_finish(c, run, CLI_EXIT_OK);
}

static void cli_agent_disconnected(agent_client *c, int error, void *userdata)
{
	cli_agent_run *run = userdata;

	/* Pending calls were failed first and reported; this catches a hello that never ran. */
	if (!run->done) {
		log_error_errno(error, "The agent connection was lost: %m");
		cli_agent_finish(c, run, CLI_EXIT_FAILED);
	}
}

static void cli_agent_timeout(uv_timer_t *t)
{
	cli_agent_run *run = t->data;

	if (!run->done) {
		log_error("No answer from the agent within %llu ms (a QEMU chardev serves one client at "
			  "a time: is dmigrated connected?)", (unsigned long long)run->timeout_ms);
		cli_agent_finish(run->client, run, CLI_EXIT_FAILED);
	}
}

int cli_agent(int argc, char **argv)
{
	static const agent_client_callbacks cbs = {
		.ready = cli_agent_ready,
		.disconnected = cli_agent_disconnected,
	};
	cli_agent_run run = { .timeout_ms = 10000, .exit_code = CLI_EXIT_FAILED };
	const char *socket_path = NULL, *timeout = NULL;
	const cli_opt opts[] = { { "socket", .value = &socket_path },
				 { "timeout", .value = &timeout },
				 {} };
	uv_loop_t *loop = uv_default_loop();
	agent_client *c = NULL;
	uv_timer_t timer;
	char *end;
	int r;

	if (!cli_parse_options(&(cli_command_line){ "agent", cli_agent_help, opts }, argc, argv, &r))
		return r;
	if (timeout) {
		run.timeout_ms = strtoull(timeout, &end, 10);
		if (*end || run.timeout_ms == 0 || run.timeout_ms > 3600000) {
			log_error("Invalid --timeout '%s': milliseconds, 1 to 3600000", timeout);
			return CLI_EXIT_USAGE;
		}
	}
	if (!socket_path || optind >= argc || argc - optind > 2) {
		cli_agent_help(stdout);
		return CLI_EXIT_USAGE;
	}
	run.cmd = argv[optind];
	if (optind + 1 < argc) {
		run.args = json_tokener_parse(argv[optind + 1]);
		if (!run.args || !json_object_is_type(run.args, json_type_object)) {
			json_object_put(run.args);
			log_error("Invalid arguments '%s': need a JSON object", argv[optind + 1]);
			return CLI_EXIT_USAGE;
		}
	}

	r = agent_client_connect(loop, socket_path, &cbs, &run, &c);
	run.client = c;
	if (r < 0) {
		json_object_put(run.args);
		return log_error_errno(r, "Failed to connect to '%s': %m", socket_path), CLI_EXIT_FAILED;
	}
	if (strcmp(run.cmd, "hello")) {
		r = agent_client_call(c, run.cmd, TAKE_PTR(run.args), run.timeout_ms, cli_agent_reply, &run);
		if (r < 0) {
			agent_client_close(c);
			uv_run(loop, UV_RUN_DEFAULT);
			if (r == -EINVAL || r == -EOPNOTSUPP)
				return log_error_errno(r, "Invalid request '%s' (see proto/agent-protocol.md): %m",
						       run.cmd), CLI_EXIT_USAGE;
			return log_error_errno(r, "Failed to send '%s': %m", run.cmd), CLI_EXIT_FAILED;
		}
	} else
		json_object_put(TAKE_PTR(run.args));

	/* The call has its own timeout; this one bounds `hello`, which is no call. */
	uv_timer_init(loop, &timer);
	timer.data = &run;
	uv_timer_start(&timer, cli_agent_timeout, run.timeout_ms + 1000, 0);
	uv_unref((uv_handle_t *)&timer);
	while (!run.done && uv_run(loop, UV_RUN_ONCE))
		;
	uv_close((uv_handle_t *)&timer, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	return run.exit_code;
}
