// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Without libFuzzer (a gcc build), each fuzz target links this driver instead: it feeds every
 * file named on the command line, or every file in a named directory, to the target once. That
 * is how `meson test` replays the corpora under ASan/UBSan on every build.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "re");
	uint8_t *buf;
	long size;

	if (!f) {
		fprintf(stderr, "Failed to open '%s': %m\n", path);
		return -errno;
	}
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	buf = malloc(size > 0 ? (size_t)size : 1);
	if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
		fprintf(stderr, "Failed to read '%s'\n", path);
		free(buf);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)size);
	free(buf);
	return 0;
}

static int replay_path(const char *path, int *count)
{
	struct stat st;
	struct dirent **names;
	int n, r = 0;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "Failed to stat '%s': %m\n", path);
		return -errno;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return replay_file(path);
	}
	n = scandir(path, &names, NULL, alphasort);
	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		char *child;

		if (names[i]->d_name[0] != '.' && r >= 0 &&
		    asprintf(&child, "%s/%s", path, names[i]->d_name) >= 0) {
			r = replay_path(child, count);
			free(child);
		}
		free(names[i]);
	}
	free(names);
	return r;
}

int main(int argc, char **argv)
{
	int count = 0;

	for (int i = 1; i < argc; i++)
		if (replay_path(argv[i], &count) < 0)
			return EXIT_FAILURE;
	fprintf(stderr, "replayed %d inputs\n", count);
	return count > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
