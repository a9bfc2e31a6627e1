/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for runtime/tar.c: any bytes as a tar stream, read through entry by entry
 * and byte by byte of data, in pieces of varying size. The reader must end (entries are
 * bounded by the input), never read past what it was given, and every entry it hands out must
 * hold NUL-terminated names within TAR_NAME_MAX and a known type. */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "runtime/tar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_src {
	const uint8_t *p;
	size_t left, step;
};

/* Pieces of 1 to 17 bytes, then whatever is asked: short reads must be handled. */
static ssize_t fuzz_read(void *ud, void *buf, size_t len)
{
	struct fuzz_src *s = ud;
	size_t n = len < s->left ? len : s->left;

	if (s->step < 64)
		n = n < (s->step % 17) + 1 ? n : (s->step % 17) + 1;
	s->step++;
	memcpy(buf, s->p, n);
	s->p += n;
	s->left -= n;
	return (ssize_t)n;
}

static void fuzz_entry_check(const struct tar_entry *e)
{
	if (strnlen(e->name, sizeof(e->name)) > TAR_NAME_MAX || !e->name[0] ||
	    strnlen(e->linkname, sizeof(e->linkname)) > TAR_NAME_MAX)
		abort();
	if (e->type != TAR_FILE && (e->type < TAR_HARDLINK || e->type > TAR_FIFO))
		abort();
	if (e->type != TAR_FILE && e->size != 0)
		abort();
	if (e->mode > 07777)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_src src = { .p = data, .left = size };
	struct tar_reader t;
	const struct tar_entry *e;
	char buf[700];
	uint64_t total = 0;
	int r;

	tar_reader_init(&t, fuzz_read, &src);
	for (;;) {
		struct berr err = BERR_INIT;
		ssize_t n;

		r = tar_next(&t, &e, &err);
		if (r <= 0)
			break;
		fuzz_entry_check(e);
		/* every other entry: read its data; else leave it for tar_next to skip */
		while ((total & 1) && (n = tar_data_read(&t, buf, sizeof(buf), &err)) > 0)
			;
		total++;
		if (t.offset > size)
			abort();
	}
	if (t.offset > size)
		abort();
	return 0;
}
