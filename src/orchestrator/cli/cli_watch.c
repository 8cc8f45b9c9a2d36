// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli/cli_watch.h"

#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli/cli_client.h"
#include "cli/cli.h"
#include "cli/cli_migrate_view.h"
#include "log.h"
#include "macro.h"

typedef struct cli_watch_ctx {
	const cli_watch *w;
	cli_migrate_view view;
} cli_watch_ctx;

static void cli_watch_on_event(const char *event, json_object *data, void *userdata)
{
	cli_watch_ctx *ctx = userdata;

	cli_migrate_view_event(&ctx->view, event, data);
}

static void cli_watch_on_interrupt(void *userdata)
{
	cli_watch_ctx *ctx = userdata;

	cli_migrate_view_clear(&ctx->view);
	log_notice("Interrupted: dmigrate stops watching, but the %s goes on (dmigrated owns it); "
		   "%s.",
		   ctx->w->job_noun, ctx->w->follow_hint);
}

static unsigned cli_terminal_columns(int fd)
{
	struct winsize ws;

	return ioctl(fd, TIOCGWINSZ, &ws) == 0 ? ws.ws_col : 0;
}

int cli_watch_job(const cli_watch *w, json_object **ret_result)
{
	_cleanup_json_ json_object *result = NULL;
	cli_watch_ctx ctx = { .w = w };
	int rc;

	ctx.view.out = stdout;
	ctx.view.live = !w->json && isatty(STDOUT_FILENO);
	ctx.view.columns = ctx.view.live ? cli_terminal_columns(STDOUT_FILENO) : 0;
	if (ctx.view.live && w->headline) {
		printf("%s\n", w->headline);
		fflush(stdout);
	}
	/* No timeout: the job takes as long as QEMU needs, and its events show it is alive. */
	rc = cli_client_run(&(cli_call){ .socket = w->socket,
					 .cmd = w->cmd,
					 .args = w->args,
					 .on_event = cli_watch_on_event,
					 .on_interrupt = cli_watch_on_interrupt,
					 .userdata = &ctx },
			    &result);
	cli_migrate_view_clear(&ctx.view);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (!json_object_is_type(result, json_type_object)) {
		log_error("dmigrated's answer to %s is not a result object; check the VM with "
			  "'dmigrate status %s'.",
			  w->cmd, w->vm);
		return CLI_EXIT_FAILED;
	}
	*ret_result = TAKE_PTR(result);
	return CLI_EXIT_OK;
}
