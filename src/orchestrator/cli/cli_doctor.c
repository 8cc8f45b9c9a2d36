// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `dmigrate doctor [--json] [--peer HOST]`: this host's checks (host/doctor.h), run here, so
 * that it works on a bare host before dmigrated is configured; with --peer, the peer's daemon
 * runs the same checks (asked through this host's daemon and its peer link) and both are shown
 * side by side with what the two must agree on.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_args.h"
#include "cli/cli_client.h"
#include "cli/cli_options.h"
#include "cli/cli_commands.h"
#include "cli/cli_format.h"
#include "host/doctor.h"
#include "log.h"

static void cli_doctor_usage(FILE *f)
{
	fprintf(f,
		"Usage: dmigrate doctor [--json] [--peer HOST] [--config FILE] [--root DIR]\n\n"
		"Check that this host can run and migrate VMs that own a VF: hardware\n"
		"virtualization and a working /dev/kvm, the IOMMU, interrupt remapping, posted\n"
		"interrupts, the kernel parameters the seeds' hosts use (tagged DID, Recommend,\n"
		"Option), vfio, the passthrough pool, memory, QEMU and the peers' sshd. One line per\n"
		"check: its verdict (ok, warn, fail, n/a), what it saw and, if not ok, the fix.\n\n"
		"Options:\n"
		"  --json         one JSON object\n"
		"  --peer HOST    also the checks of peer HOST, run there by its dmigrated, side by\n"
		"                 side (the two must agree on QEMU's machine type and the PF model)\n"
		"  --config FILE  dmigrated's configuration (default %s; absent: config checks n/a)\n"
		"  --root DIR     read sysfs and procfs below DIR (default: the config's system_root)\n"
		"  --socket PATH  dmigrated's socket, for --peer (default: $%s, else %s)\n"
		"  -h, --help     show this help\n\n"
		"Exit codes:\n"
		"  0  a migration can work (warnings may remain)\n"
		"  1  a check that a migration needs failed, or the hosts disagree\n"
		"  2  usage error or a configuration that cannot be read\n",
		HOST_CONFIG_DEFAULT_PATH, CLI_SOCKET_ENV, CLI_SOCKET_DEFAULT);
}

static void cli_doctor_print_check(FILE *out, const doctor_check *c, const char *peer_verdict,
				   const char *peer_value)
{
	char tag[40] = "";

	if (c->tag)
		snprintf(tag, sizeof(tag), " [%s]", c->tag);
	fprintf(out, "%-4s  %-26s %s%s\n", doctor_verdict_name(c->verdict), c->id, c->value, tag);
	if (c->fix)
		fprintf(out, "      %-26s fix: %s\n", "", c->fix);
	if (peer_verdict)
		fprintf(out, "      %-26s peer: %s  %s\n", "", peer_verdict, peer_value);
}

/* What the two hosts must share for a migration between them. */
static bool cli_doctor_agree(FILE *out, const doctor_report *a, const doctor_report *b,
			     const char *peer, bool print)
{
	bool machine = a->qemu_machine && b->qemu_machine && !strcmp(a->qemu_machine, b->qemu_machine);
	bool pf = (!a->pf_model && !b->pf_model) ||
		  (a->pf_model && b->pf_model && !strcmp(a->pf_model, b->pf_model));

	if (print) {
		fprintf(out, "%-4s  %-26s here %s, %s %s\n", machine ? "ok" : "fail", "agree:qemu-machine",
			a->qemu_machine ? a->qemu_machine : "-", peer,
			b->qemu_machine ? b->qemu_machine : "-");
		fprintf(out, "%-4s  %-26s here %s, %s %s\n", pf ? "ok" : "fail", "agree:pf-model",
			a->pf_model ? a->pf_model : "-", peer, b->pf_model ? b->pf_model : "-");
	}
	return machine && pf;
}

int cli_doctor(int argc, char **argv)
{
	const char *config_path = NULL, *root = NULL, *peer = NULL, *socket = NULL;
	_cleanup_json_ json_object *peer_json = NULL, *out = NULL;
	_cleanup_free_ char *error = NULL;
	doctor_report local, remote = { 0 };
	host_config *config = NULL;
	bool json = false, ok;
	char hostname[256] = "this host";
	const cli_opt opts[] = { { "json", .flag = &json },	      { "peer", .value = &peer },
				 { "config", .value = &config_path }, { "root", .value = &root },
				 { "socket", .value = &socket },      {} };
	int c, r;

	if (!cli_parse_options(&(cli_command_line){ "doctor", cli_doctor_usage, opts }, argc, argv,
			       &c))
		return c;
	if (optind < argc)
		return cli_argument_error("doctor", argv[optind]);
	if (peer && cli_check_host_name(peer) < 0)
		return CLI_EXIT_USAGE;
	if (root && root[0] != '/') {
		log_error("--root '%s': expected an absolute directory", root);
		return CLI_EXIT_USAGE;
	}
	/* No configuration yet is a state doctor describes, not an error; a broken one is. */
	if (config_path || access(HOST_CONFIG_DEFAULT_PATH, F_OK) == 0) {
		r = host_config_load(config_path ? config_path : HOST_CONFIG_DEFAULT_PATH, &config,
				     &error);
		if (r < 0) {
			log_error("%s", error);
			return CLI_EXIT_USAGE;
		}
		snprintf(hostname, sizeof(hostname), "%s", config->name);
	}
	doctor_run(&(sysfs){ .root = root ? root : config ? config->system_root : "/" }, config,
		   &doctor_host_probes, &local);
	ok = doctor_report_ok(&local);

	if (peer) {
		_cleanup_json_ json_object *args = json_object_new_object();

		json_object_object_add(args, "peer", json_object_new_string(peer));
		r = cli_client_run(&(cli_call){ .socket = socket, .cmd = "doctor", .args = args,
						.timeout_ms = CLI_ACTION_TIMEOUT_MS },
				   &peer_json);
		if (r != CLI_EXIT_OK) {
			doctor_report_done(&local);
			host_config_free(config);
			return r;
		}
		if (doctor_report_from_json(peer_json, &remote) < 0) {
			log_error("%s's doctor answer is malformed; is it a matching version?", peer);
			doctor_report_done(&local);
			host_config_free(config);
			return CLI_EXIT_FAILED;
		}
		ok = ok && doctor_report_ok(&remote) && cli_doctor_agree(stdout, &local, &remote, peer, false);
	}

	if (json) {
		out = doctor_report_to_json(&local, hostname);
		if (peer_json) {
			json_object_object_add(out, "peer", json_object_get(peer_json));
			json_object_object_add(out, "agree", json_object_new_boolean(
				cli_doctor_agree(stdout, &local, &remote, peer, false)));
		}
		json_object_object_add(out, "migration_possible", json_object_new_boolean(ok));
		cli_json_print(stdout, out);
	} else {
		printf("%s%s%s\n", hostname, peer ? " (peer: " : "", peer ? peer : "");
		if (peer)
			printf(")\n");
		for (size_t i = 0; i < local.n; i++) {
			const doctor_check *pc = peer ? doctor_report_find(&remote, local.checks[i].id) : NULL;

			cli_doctor_print_check(stdout, &local.checks[i],
					       pc ? doctor_verdict_name(pc->verdict) : NULL,
					       pc ? pc->value : NULL);
		}
		if (peer)
			cli_doctor_agree(stdout, &local, &remote, peer, true);
		printf("\n%s\n", ok ? "A migration can work here." :
				      "A migration cannot work: see the failed checks above.");
	}
	doctor_report_done(&local);
	doctor_report_done(&remote);
	host_config_free(config);
	return ok ? CLI_EXIT_OK : CLI_EXIT_FAILED;
}
