// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `dmigrate spec`: check a VM spec, print it normalised, or print the QEMU command line it
 * makes. The lab starts its guests from `spec qemu-args`, so the lab and the daemon run the
 * same command line.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_commands.h"
#include "cli/cli_options.h"
#include "log.h"
#include "host/kvm_probe.h"
#include "host/qemu_argv.h"
#include "host/vm_spec.h"

static void cli_spec_usage(FILE *f)
{
	fprintf(f, "Usage: dmigrate spec check FILE\n"
		   "       dmigrate spec show FILE\n"
		   "       dmigrate spec qemu-args FILE --run-dir DIR [--no-vf] [--incoming]\n\n"
		   "  check      validate a VM spec (examples/specs/README.md lists its fields)\n"
		   "  show       print the spec as JSON with defaults filled in and paths absolute\n"
		   "  qemu-args  print the QEMU command line for the spec, one argument per line;\n"
		   "             sockets and logs go to DIR (absolute)\n"
		   "    --no-vf     leave the VF's hot-plug port empty (it is plugged later over QMP)\n"
		   "    --incoming  wait for an incoming migration (-incoming defer)\n"
		   "             The spec's accel \"auto\" becomes KVM if a probe of /dev/kvm runs a\n"
		   "             vCPU here, TCG otherwise (dmigrated also consults its config).\n\n"
		   "Options:\n"
		   "  -h, --help  show this help\n\n"
		   "Exit codes:\n"
		   "  0  the spec is valid (and was shown or turned into a command line)\n"
		   "  1  the command line could not be built\n"
		   "  2  usage error, no such file, or an invalid spec (the message names the field)\n");
}

static int cli_spec_load(const char *path, vm_spec **ret)
{
	_cleanup_free_ char *error = NULL;
	int r;

	r = vm_spec_load(path, ret, &error);
	if (r < 0) {
		if (error)
			log_error("%s", error);
		else
			log_error_errno(r, "Failed to load VM spec '%s': %m", path);
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

static int cli_spec_check(const char *path)
{
	_cleanup_vm_spec_ vm_spec *spec = NULL;
	int rc;

	rc = cli_spec_load(path, &spec);
	if (rc != CLI_EXIT_OK)
		return rc;
	printf("%s: ok (VM '%s')\n", path, spec->name);
	return CLI_EXIT_OK;
}

static int cli_spec_show(const char *path)
{
	_cleanup_vm_spec_ vm_spec *spec = NULL;
	_cleanup_json_ json_object *obj = NULL;
	int rc, r;

	rc = cli_spec_load(path, &spec);
	if (rc != CLI_EXIT_OK)
		return rc;
	r = vm_spec_to_json(spec, &obj);
	if (r < 0) {
		log_error_errno(r, "Failed to format VM spec '%s': %m", path);
		return CLI_EXIT_FAILED;
	}
	printf("%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
							       JSON_C_TO_STRING_SPACED |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
	return CLI_EXIT_OK;
}

static int cli_spec_qemu_args(int argc, char **argv)
{
	_cleanup_vm_spec_ vm_spec *spec = NULL;
	_cleanup_argv_ char **qargv = NULL;
	const char *run_dir = NULL;
	char probe_reason[256];
	bool no_vf = false, incoming = false;
	const cli_opt opts[] = { { "run-dir", .value = &run_dir },
				 { "no-vf", .flag = &no_vf },
				 { "incoming", .flag = &incoming },
				 {} };
	unsigned flags;
	int rc, r;

	if (!cli_parse_options(&(cli_command_line){ "spec qemu-args", cli_spec_usage, opts }, argc,
			       argv, &rc))
		return rc;
	flags = (no_vf ? QEMU_ARGV_NO_VF : 0) | (incoming ? QEMU_ARGV_INCOMING : 0);
	if (optind != argc - 1 || !run_dir) {
		log_error("spec qemu-args needs a spec FILE and --run-dir DIR.");
		cli_spec_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	rc = cli_spec_load(argv[optind], &spec);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (qemu_accel_resolve(spec->accel, QEMU_ACCEL_AUTO,
			       spec->accel == QEMU_ACCEL_AUTO &&
				       kvm_probe(KVM_PROBE_DEVICE, probe_reason, sizeof(probe_reason))) ==
	    QEMU_ACCEL_KVM)
		flags |= QEMU_ARGV_KVM;
	r = qemu_argv_build(spec, run_dir, flags, &qargv);
	if (r == -EOPNOTSUPP) {
		log_error("'%s' is libvirt domain '%s': libvirt builds its QEMU command line from the domain's XML.",
			  argv[optind], spec->libvirt_domain);
		return CLI_EXIT_USAGE;
	}
	if (r == -EINVAL) {
		log_error("--run-dir '%s': expected an absolute path.", run_dir);
		return CLI_EXIT_USAGE;
	}
	if (r == -ENAMETOOLONG) {
		log_error("--run-dir '%s': too long for the Unix socket paths inside it; use a shorter directory.",
			  run_dir);
		return CLI_EXIT_USAGE;
	}
	if (r < 0) {
		log_error_errno(r, "Failed to build the QEMU command line for '%s': %m", argv[optind]);
		return CLI_EXIT_FAILED;
	}
	for (char **a = qargv; *a; a++)
		printf("%s\n", *a);
	return CLI_EXIT_OK;
}

int cli_spec(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		cli_spec_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "qemu-args"))
		return cli_spec_qemu_args(argc - 1, argv + 1);
	if (argc == 3 && !strcmp(argv[2], "--help")) {
		cli_spec_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (argc != 3) {
		log_error("spec %s needs exactly one FILE.", argv[1]);
		return CLI_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "check"))
		return cli_spec_check(argv[2]);
	if (!strcmp(argv[1], "show"))
		return cli_spec_show(argv[2]);
	log_error("Unknown 'spec' command '%s'. Run 'dmigrate spec --help'.", argv[1]);
	return CLI_EXIT_USAGE;
}
