/* SPDX-License-Identifier: Apache-2.0 */
/* The replay main() of every fuzz target: built without -fsanitize=fuzzer (BERTH_FUZZ_REPLAY,
 * `make fuzz-replay`, gcc is enough), it feeds each file named on the command line, or each file
 * of each directory named, to the target's LLVMFuzzerTestOneInput() once. The corpora in
 * tests/fuzz/corpus/<target> are replayed this way on every CI run. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define REPLAY_INPUT_MAX (4 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	_cleanup_free_ char *buf = NULL;
	uint8_t *copy;
	size_t len = 0;

	if (read_file(path, REPLAY_INPUT_MAX, &buf, &len, NULL) < 0) {
		fprintf(stderr, "cannot read %s\n", path);
		return 1;
	}
	/* An exact-size copy, as libFuzzer passes it: ASan sees a read past the input. */
	copy = xmalloc(len ? len : 1);
	memcpy(copy, buf, len);
	LLVMFuzzerTestOneInput(copy, len);
	free(copy);
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
