/* SPDX-License-Identifier: Apache-2.0 */
/* The replay driver of a fuzz target: included at the end of a target built with
 * -DBERTH_FUZZ_REPLAY (`make fuzz-replay`), its main() feeds LLVMFuzzerTestOneInput() each file
 * named on the command line, or each file of a named directory (a seed corpus). */
#pragma once

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>

#include "common/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;

	if (read_file(path, 1 << 20, &buf, &len, NULL) < 0) {
		fprintf(stderr, "cannot read %s\n", path);
		return 1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
	return 0;
}

static int replay(const char *path, int *count)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int bad = 0;

	if (!d) {
		(*count)++;
		return replay_file(path);
	}
	while ((e = readdir(d))) {
		_cleanup_free_ char *sub = NULL;

		if (e->d_name[0] == '.')
			continue;
		sub = xasprintf("%s/%s", path, e->d_name);
		bad |= replay_file(sub);
		(*count)++;
	}
	closedir(d);
	return bad;
}

int main(int argc, char **argv)
{
	int bad = 0, count = 0;

	for (int i = 1; i < argc; i++)
		bad |= replay(argv[i], &count);
	printf("fuzz-replay: %d input(s) replayed without a crash\n", count);
	return bad;
}
