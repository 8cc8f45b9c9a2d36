/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One entry point per subcommand file; the table in cli_main.c lists them. */
#pragma once

#include "cli/cli.h"

int cli_agent(int argc, char **argv);
int cli_attach(int argc, char **argv);
int cli_cancel(int argc, char **argv);
int cli_detach(int argc, char **argv);
int cli_doctor(int argc, char **argv);
int cli_drill(int argc, char **argv);
int cli_evacuate(int argc, char **argv);
int cli_list(int argc, char **argv);
int cli_migrate(int argc, char **argv);
int cli_spec(int argc, char **argv);
int cli_start(int argc, char **argv);
int cli_status(int argc, char **argv);
int cli_stop(int argc, char **argv);
int cli_version(int argc, char **argv);
