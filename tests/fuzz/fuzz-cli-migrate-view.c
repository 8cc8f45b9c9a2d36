// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What the daemon sends the CLI during `migrate`, shown to a person: events and the result are
 * arbitrary JSON here (any type in any field, huge numbers, control characters in strings).
 * The first byte picks which display path gets the value; the rest is the JSON text.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_args.h"
#include "cli/cli_migrate_view.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	cli_migrate_view v = { .live = true };
	json_tokener *tok;
	json_object *o;
	char *text, quoted[CLI_QUOTE_SIZE], line[512];

	if (size < 1)
		return 0;
	if (!devnull)
		devnull = fopen("/dev/null", "we");
	if (!devnull)
		abort();
	text = strndup((const char *)data + 1, size - 1);
	if (!text)
		return 0;
	cli_quote(text, quoted, (size_t)data[0] % sizeof(quoted) + 1);

	tok = json_tokener_new();
	o = json_tokener_parse_ex(tok, text, (int)strlen(text));
	v.out = devnull;
	v.columns = data[0];
	switch (data[0] % 4) {
	case 0:
		cli_migrate_view_event(&v, "phase", o);
		break;
	case 1:
		cli_migrate_view_event(&v, "progress", o);
		cli_migrate_progress_format(text, o, line, (size_t)data[0] % sizeof(line) + 1);
		break;
	case 2:
		cli_migrate_summary_print(devnull, o);
		break;
	default:
		(void)cli_migrate_exit_code(o);
		break;
	}
	cli_migrate_view_clear(&v);
	json_object_put(o);
	json_tokener_free(tok);
	free(text);
	return 0;
}
