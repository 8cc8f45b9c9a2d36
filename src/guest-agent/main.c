// SPDX-License-Identifier: GPL-2.0-or-later
/* dmigrate-agent: the in-guest daemon. Options, signals and the loop; the work is in libdmagent. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "agent_netlink.h"
#include "agent_server.h"
#include "agent_setup.h"
#include "did.h"
#include "log.h"

static void help(void)
{
	printf("Usage: dmigrate-agent [OPTIONS]\n\n"
	       "The dmigrate guest agent: answers the host over the virtio-serial port\n"
	       "'" AGENT_PROTOCOL_PORT_NAME "' (see proto/agent-protocol.md).\n\n"
	       "  --port PATH      use PATH (a port, a pty or a Unix socket) instead of finding the port\n"
	       "  --allow-faults   obey the host's `fault` requests (crash, stall): for failover drills\n"
	       "                   and tests only, never in production\n"
	       "  --setup-bond     create bond0 from the VF and the virtio NIC if there is none, moving\n"
	       "                   the VF's addresses and routes to it, then serve; the VF is\n"
	       "                   made active once its link is back (within 10 s)\n"
	       "  -v, --verbose    log requests and events\n"
	       "  -h, --help       this help\n");
}

/* What link notifications reach: the server, and the --setup-bond watch while it runs. */
typedef struct agent_main {
	agent_server *server;
	agent_setup *setup;
} agent_main;

static void links_changed(void *userdata)
{
	agent_main *m = userdata;

	if (m->setup)
		agent_setup_links_changed(m->setup);
	agent_server_links_changed(m->server);
}

static void on_signal(uv_signal_t *s, int signum)
{
	log_info("Caught signal %d, exiting", signum);
	uv_stop(s->loop);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "setup-bond", no_argument, NULL, 'B' },
		{ "allow-faults", no_argument, NULL, 'F' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	const char *port = NULL;
	bool setup_bond = false;
	agent_main m = {};
	agent_netlink *nl = NULL;
	uv_signal_t sigterm, sigint;
	agent_server_backend be = {
		.net = &agent_netlink_ops,
		.did = &agent_did_dev_ops,
		.did_ctx = (void *)DID_DEVICE_PATH,
	};
	uv_loop_t *loop = uv_default_loop();
	int c, r;

	log_set_ident("dmigrate-agent");
	while ((c = getopt_long(argc, argv, "vh", options, NULL)) >= 0)
		switch (c) {
		case 'p':
			port = optarg;
			break;
		case 'B':
			setup_bond = true;
			break;
		case 'F':
			be.allow_faults = true;
			break;
		case 'v':
			log_set_max_level(LOG_DEBUG);
			break;
		case 'h':
			help();
			return EXIT_SUCCESS;
		default:
			return 2;
		}
	if (optind < argc) {
		log_error("Unexpected argument '%s'", argv[optind]);
		return 2;
	}
	/* The host closing its end must not kill us through a write. */
	signal(SIGPIPE, SIG_IGN);

	/* The netlink backend needs the server for its callback, and the server the backend. */
	r = agent_netlink_new(loop, links_changed, NULL, &nl);
	if (r < 0)
		return log_error_errno(r, "Failed to open rtnetlink: %m"), EXIT_FAILURE;
	/* On failure serve anyway: the host can still see the state and report it. */
	if (setup_bond)
		(void)agent_setup_bond(loop, nl, "bond0", &m.setup);
	be.net_ctx = nl;
	r = agent_server_new(loop, &be, &m.server);
	if (r < 0)
		return log_error_errno(r, "Failed to start the agent: %m"), EXIT_FAILURE;
	agent_netlink_set_userdata(nl, &m);
	r = agent_server_attach_port(m.server, port);
	if (r < 0)
		return log_error_errno(r, "Failed to watch the agent's port: %m"), EXIT_FAILURE;

	uv_signal_init(loop, &sigterm);
	uv_signal_start(&sigterm, on_signal, SIGTERM);
	uv_signal_init(loop, &sigint);
	uv_signal_start(&sigint, on_signal, SIGINT);
	log_info("Serving on %s", port ?: "the virtio-serial port " AGENT_PROTOCOL_PORT_NAME);
	if (be.allow_faults)
		log_warning("Fault injection is on (--allow-faults): the host can crash or stall this agent");
	uv_run(loop, UV_RUN_DEFAULT);

	agent_server_free(m.server);
	agent_setup_free(m.setup);
	agent_netlink_free(nl);
	uv_close((uv_handle_t *)&sigterm, NULL);
	uv_close((uv_handle_t *)&sigint, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	return EXIT_SUCCESS;
}
